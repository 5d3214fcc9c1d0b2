/**
 * `npm run bench` (full sizes), `npm run bench -- --quick` (about a minute), `-- --smoke` (seconds).
 * `--no-progress` hides the progress bar; `--no-pg` skips the PostgreSQL rows; `--out <dir>` writes the results elsewhere than bench/results.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runBench } from './harness.js';
import { toMarkdown, toReadmeSection, toText } from './report.js';
import { FULL, QUICK, SMOKE } from './sizes.js';

const args = process.argv.slice(2);
const sizes = args.includes('--smoke') ? SMOKE : args.includes('--quick') ? QUICK : FULL;
const outIndex = args.indexOf('--out');
const outDir = outIndex >= 0 && args[outIndex + 1] ? args[outIndex + 1]! : fileURLToPath(new URL('./results/', import.meta.url));

const result = await runBench({ sizes, progress: !args.includes('--no-progress'), skipPostgres: args.includes('--no-pg') });
console.log(toText(result));
mkdirSync(outDir, { recursive: true });
const base = sizes.name === 'full' ? 'latest' : `latest-${sizes.name}`;
writeFileSync(join(outDir, `${base}.md`), toMarkdown(result));
writeFileSync(join(outDir, `${base}.json`), JSON.stringify(result, null, 2) + '\n');
writeFileSync(join(outDir, `${base}-readme.md`), toReadmeSection(result));
console.log(`\nWrote ${join(outDir, `${base}.md`)} and ${base}.json`);
