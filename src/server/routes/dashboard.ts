import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, extname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { InvalidArgumentError } from '../../errors.js';
import type { TesseraApp } from '../context.js';

/**
 * A dashboard panel an application adds: an ES module whose default export mounts it (see `panels/README.md`).
 * @example
 * ```ts
 * createServer({ store, panels: [{ name: 'orders', file: new URL('./orders.js', import.meta.url).pathname }] });
 * ```
 */
export interface DashboardPanel {
  /** Letters, digits and `-`: the panel is served at `/dashboard/panels/<name>.js`. */
  name: string;
  /** Absolute path of the panel's JavaScript module. */
  file: string;
}

const TYPES: Record<string, string> = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8', '.md': 'text/plain; charset=utf-8' };
const CORE_PANELS = ['rate', 'streams', 'projections', 'sagas'];
/** Core panels shown only when the service has what they show (consumer groups, a follower, shards). */
const OPTIONAL_PANELS = ['groups', 'replication', 'shards'];

/** The dashboard's own files: next to this module in the source tree (also used when running from dist/). */
function dashboardDir(): string {
  const here = fileURLToPath(new URL('../dashboard/', import.meta.url));
  return existsSync(here) ? here : fileURLToPath(new URL('../../../src/server/dashboard/', import.meta.url));
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => (statSync(join(dir, f)).isDirectory() ? filesUnder(join(dir, f)) : [join(dir, f)]));
}

/**
 * Serves the dashboard (plain HTML, CSS and JavaScript modules; no CDN, no build step) at `/dashboard/`: the
 * application's panels first, in the order given, then the core panels and the optional core panels `enabled`.
 */
export function dashboardRoutes(app: TesseraApp, panels: readonly DashboardPanel[], enabled: readonly string[] = []): void {
  const dir = dashboardDir();
  const files = new Map<string, { type: string; body: Buffer }>();
  for (const f of filesUnder(dir)) files.set(relative(dir, f).split('\\').join('/'), { type: TYPES[extname(f)] ?? 'application/octet-stream', body: readFileSync(f) });
  for (const p of panels) {
    if (!/^[A-Za-z0-9-]{1,40}$/.test(p.name) || CORE_PANELS.includes(p.name) || OPTIONAL_PANELS.includes(p.name)) {
      throw new InvalidArgumentError('panels', `panel name ${JSON.stringify(p.name)} is not 1–40 letters, digits and - (or is a core panel)`, 'Name panels like "orders".');
    }
    files.set(`panels/${p.name}.js`, { type: TYPES['.js'] ?? '', body: readFileSync(p.file) });
  }
  const list = [...panels.map((p) => p.name), ...CORE_PANELS, ...OPTIONAL_PANELS.filter((p) => enabled.includes(p))];

  app.get('/', { schema: { hide: true } }, async (_req, reply) => reply.redirect('/dashboard/'));
  app.get('/dashboard/panels.json', { schema: { hide: true } }, async () => ({ panels: list }));
  app.get('/dashboard/*', { schema: { hide: true, params: z.object({ '*': z.string() }) } }, async (req, reply) => {
    const path = req.params['*'] === '' ? 'index.html' : req.params['*'];
    const file = files.get(path);
    if (file === undefined || basename(path).startsWith('.')) return reply.code(404).send({ code: 'NOT_FOUND', message: `No dashboard file "${path}"`, hint: 'Open /dashboard/.', correlationId: req.id });
    return reply.header('content-type', file.type).header('cache-control', 'no-cache').send(file.body);
  });
}
