/**
 * A Tessera-only loop to run under `node --cpu-prof` (see top.ts):
 *   node --cpu-prof --cpu-prof-dir=/tmp/prof --import tsx bench/profile/hot.ts <single|batch|read> [count]
 */
import { tesseraSqliteRow } from '../targets/sqlite.js';

const mode = process.argv[2] ?? 'single';
const count = Number(process.argv[3] ?? 20_000);
const t = await tesseraSqliteRow((process.env.TESSERA_SYNC as 'FULL' | undefined) ?? 'NORMAL').open();
if (mode === 'single') for (let i = 0; i < count; i++) await t.appendNew(`s-${i}`);
if (mode === 'batch') for (let i = 0; i < count / 1000; i++) await t.appendBatch(`b-${i}`, 1000);
if (mode === 'read') {
  await t.appendBatch('r', 1000);
  for (let i = 0; i < count / 1000; i++) await t.read('r');
}
await t.close();
