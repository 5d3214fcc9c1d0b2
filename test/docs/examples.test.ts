import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DOCS_DIR, embedsOf, exampleFiles, pages } from '../../docs/tools/examples.js';
import { REPO_ROOT } from '../support/processes.js';
import { startThrowawayNats } from '../messaging/nats-server.js';
import { TEST_PG_URL } from '../support/pg-schema.js';
import { OWN_PAGES } from './pages.js';

// errors.md is generated, with one illustrative fragment; the guides hold only runnable examples.
const GUIDES = OWN_PAGES.filter((p) => p !== 'errors.md');

function runExample(file: string, bus?: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env, DATABASE_URL: TEST_PG_URL, NO_COLOR: '1' };
  // The examples that take a bus URL from the environment run on the in-process bus unless one is given.
  if (bus === undefined) delete env.TESSERA_BUS;
  else env.TESSERA_BUS = bus;
  // A hung example is killed before the test's own timeout, so no child outlives the run.
  const child = spawn(process.execPath, ['--import', 'tsx', join(DOCS_DIR, file)], { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'], timeout: 50_000, killSignal: 'SIGKILL' });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('docs: embedded examples', () => {
  const embeds = pages().flatMap(embedsOf);

  it('shows each example exactly as its file (npx tsx docs/tools/examples.ts --write syncs them)', () => {
    expect(embeds.length).toBeGreaterThan(10);
    for (const e of embeds) {
      expect(e.block, `${e.page} embeds ${e.file}`).toBe(readFileSync(join(DOCS_DIR, e.file), 'utf8'));
    }
  });

  it('embeds every example file in a page, and every ts block of the guides is an example', () => {
    const embedded = new Set(embeds.map((e) => e.file));
    expect(exampleFiles().filter((f) => !embedded.has(f))).toEqual([]);
    for (const page of GUIDES) {
      const text = readFileSync(join(DOCS_DIR, page), 'utf8');
      const blocks = text.match(/^```ts$/gm)?.length ?? 0;
      expect(blocks, `${page}: every \`\`\`ts block must follow an <!-- example: … --> marker`).toBe(embedsOf(page).length);
    }
  });
});

describe('docs: every example runs and its assertions hold', () => {
  for (const file of exampleFiles()) {
    it(file, { timeout: 60_000 }, async () => {
      const r = await runExample(file);
      expect(r.stderr, `${file} wrote to stderr`).toBe('');
      expect(r.code, `${file} exited with ${r.code}\n${r.stdout}`).toBe(0);
    });
  }
});

describe('docs: the bus example on NATS JetStream', () => {
  it('runs unchanged with TESSERA_BUS pointing at a throwaway nats-server -js', { timeout: 60_000 }, async () => {
    const nats = await startThrowawayNats();
    try {
      const r = await runExample('examples/messaging-bus.ts', nats.url);
      expect(r.stderr).toBe('');
      expect(r.code, r.stdout).toBe(0);
    } finally {
      await nats.destroy();
    }
  });
});
