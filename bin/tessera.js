#!/usr/bin/env node
// Runs the `tessera` CLI: from the compiled dist/ when it exists (an installed package, or after
// `npm run build`), otherwise from the TypeScript source through tsx, so `npx tessera` works in a checkout.
import { existsSync } from 'node:fs';
import { URL } from 'node:url';

const compiled = new URL('../dist/cli/main.js', import.meta.url);
const source = new URL('../src/cli/main.ts', import.meta.url);

if (existsSync(compiled)) {
  await import(compiled.href);
} else if (existsSync(source)) {
  let register;
  try {
    ({ register } = await import('tsx/esm/api'));
  } catch {
    process.stderr.write('error: dist/ is missing and tsx is not installed\nhint: Run npm run build (or npm ci for the dev tools) first.\n');
    process.exit(2);
  }
  // In-process loader (no child process), so Ctrl-C and exit codes reach the CLI directly.
  register();
  await import(source.href);
} else {
  process.stderr.write('error: neither dist/cli/main.js nor src/cli/main.ts was found\nhint: Reinstall the package.\n');
  process.exit(2);
}
