import { execFile } from 'node:child_process';
import { accessSync, constants, copyFileSync, existsSync, mkdirSync, readFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../support/tmp.js';
import { ROOT } from './run-cli.js';

const run = promisify(execFile);
const tmp = tempDir('tessera-pkg-');
afterAll(() => tmp.remove());

interface PackageJson {
  version: string;
  main: string;
  types: string;
  bin: Record<string, string>;
  exports: Record<string, string | Record<string, string>>;
  scripts: Record<string, string>;
}

const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as PackageJson;

/** dist/x.js and dist/x.d.ts are built from src/x.ts. */
function sourceOf(target: string): string {
  const m = /^\.\/dist\/(.+?)(\.d\.ts|\.js)$/.exec(target);
  if (!m) throw new Error(`${target} is not a dist/ .js or .d.ts path`);
  return `src/${m[1]}.ts`;
}

describe('package.json', () => {
  const targets = [pkg.main, pkg.types];
  for (const [subpath, entry] of Object.entries(pkg.exports)) {
    if (subpath !== './package.json') targets.push(...(typeof entry === 'string' ? [entry] : Object.values(entry)));
  }

  it('points every export, main and types at a file built from src/', () => {
    expect(targets.length).toBeGreaterThan(2);
    const missing = targets.filter((t) => !existsSync(join(ROOT, sourceOf(t))));
    expect(missing).toEqual([]);
  });

  it('has an executable bin that runs the CLI from a checkout (through tsx)', async () => {
    const bin = join(ROOT, pkg.bin.tessera!);
    accessSync(bin, constants.X_OK);
    const r = await run(process.execPath, [bin, '--version'], { cwd: ROOT });
    expect(r.stdout).toBe(`${pkg.version}\n`);
  });

  it('builds dist/ with declarations for every export, and the built CLI runs from bin', async () => {
    // Build into a package-shaped temp folder, so the checkout's own dist/ (if any) is left alone.
    const out = join(tmp.dir, 'pkg');
    mkdirSync(join(out, 'bin'), { recursive: true });
    const tsc = [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json', '--outDir', join(out, 'dist')];
    // Type errors are `npm run typecheck`'s job (same compiler options); tsc emits regardless, and what
    // matters here is that every export target is produced.
    await run(process.execPath, tsc, { cwd: ROOT }).catch(() => undefined);
    const missing = targets.filter((t) => !existsSync(join(out, t)));
    expect(missing).toEqual([]);
    copyFileSync(join(ROOT, 'package.json'), join(out, 'package.json'));
    copyFileSync(join(ROOT, pkg.bin.tessera!), join(out, pkg.bin.tessera!));
    symlinkSync(join(ROOT, 'node_modules'), join(out, 'node_modules'), 'dir');
    // No src/ in the folder: this can only pass through dist/cli/main.js.
    const db = join(tmp.dir, 'built.db');
    await run(process.execPath, [join(out, 'bin/tessera.js'), '--db', db, 'append', 'built-1', 'Checked', '{"ok":true}']);
    const r = await run(process.execPath, [join(out, 'bin/tessera.js'), '--db', db, 'read', '--json']);
    expect(JSON.parse(r.stdout)).toMatchObject({ streamId: 'built-1', type: 'Checked', data: { ok: true } });
  });

  it('runs an example file on npm start and the CLI on npm run tessera', () => {
    // npm start is the first thing a new user runs: it must name a TypeScript file that exists.
    const start = /^tsx (\S+\.ts)\b/.exec(pkg.scripts.start ?? '');
    expect(start, pkg.scripts.start).not.toBeNull();
    expect(existsSync(join(ROOT, start![1]!))).toBe(true);
    expect(pkg.scripts.tessera).toBe('tsx src/cli/main.ts');
    expect(pkg.scripts).not.toHaveProperty('prepare');
  });
});
