import { describe, expect, it } from 'vitest';
import { runBench } from '../../bench/harness.js';
import { toMarkdown, toText } from '../../bench/report.js';
import { SMOKE } from '../../bench/sizes.js';
import { tesseraPgOpener } from '../../bench/targets/pg.js';
import type { BenchResult } from '../../bench/types.js';

// The harness at tiny sizes, so `npm run bench` keeps working. Figures are checked for shape only: never a time.
describe('bench harness (smoke sizes)', () => {
  let result: BenchResult;

  it('runs every workload on every row', async () => {
    result = await runBench({ sizes: SMOKE, progress: false });
    expect(result.workloads.map((w) => w.id)).toEqual(['a', 'b', 'c', 'd', 'e', 'f']);
    const appendRows = [
      'tessera-sqlite-full',
      'tessera-sqlite-normal',
      'emmett-sqlite-default',
      'emmett-sqlite-shared',
      'raw-sqlite-full',
      'raw-sqlite-normal',
      'raw-sqlite-full-ids',
      'tessera-pg',
      'emmett-pg',
      'raw-pg',
    ];
    // The event-loop-turn floor row runs the sequential single appends only.
    const withTurn = [...appendRows.slice(0, 7), 'raw-sqlite-full-ids-turn', ...appendRows.slice(7)];
    for (const id of ['a', 'b']) expect(result.workloads.find((w) => w.id === id)!.rows.map((r) => r.row)).toEqual(withTurn);
    for (const id of ['c', 'e']) expect(result.workloads.find((w) => w.id === id)!.rows.map((r) => r.row)).toEqual(appendRows);
    expect(result.workloads.find((w) => w.id === 'd')!.rows.map((r) => r.row)).toEqual(appendRows.filter((r) => !r.endsWith('normal') && !r.endsWith('ids')));
    expect(result.workloads.find((w) => w.id === 'f')!.rows.map((r) => r.row)).toEqual([
      'tessera-sqlite-full',
      'raw-sqlite-full',
      'emmett-sqlite',
      'tessera-pg',
      'raw-pg',
    ]);
  }, 120_000);

  it('measures Tessera and raw rows with positive figures and ratios', () => {
    const pgReady = tesseraPgOpener() !== null;
    for (const w of result.workloads) {
      for (const r of w.rows) {
        const mustMeasure = r.kind === 'raw' || (r.kind === 'tessera' && (r.engine === 'sqlite' || pgReady));
        if (!mustMeasure) continue;
        expect(r.note, `${w.id} ${r.label}`).toBeUndefined();
        expect(r.median!, `${w.id} ${r.label}`).toBeGreaterThan(0);
        expect(r.min!, `${w.id} ${r.label}`).toBeGreaterThan(0);
        expect(r.vsRaw!, `${w.id} ${r.label}`).toBeGreaterThan(0);
        const emmettMeasured = w.rows.some((x) => x.kind === 'emmett' && x.engine === r.engine && x.median !== null);
        if (emmettMeasured) expect(r.vsEmmett!, `${w.id} ${r.label}`).toBeGreaterThan(0);
      }
    }
    const f = result.workloads.find((w) => w.id === 'f')!;
    expect(f.rows.find((r) => r.row === 'tessera-sqlite-full')!.peakRssMb!).toBeGreaterThan(0);
    if (!pgReady) expect(f.rows.find((r) => r.row === 'tessera-pg')!.note).toBe('n/a (adapter not yet available)');
  });

  it('Emmett rows either measure or say why not', () => {
    for (const w of result.workloads.filter((x) => x.id !== 'f')) {
      for (const r of w.rows.filter((x) => x.kind === 'emmett')) {
        if (r.median === null) expect(r.note, `${w.id} ${r.label}`).toMatch(/failed|n\/a/);
        else expect(r.median).toBeGreaterThan(0);
      }
    }
  });

  it('prints the machine, the tables and the targets', () => {
    const text = toText(result);
    const md = toMarkdown(result);
    for (const out of [text, md]) {
      expect(out).toContain(result.machine.node);
      expect(out).toContain('Tessera SQLite (FULL)');
      expect(out).toContain('raw better-sqlite3 (FULL)');
      expect(out).toContain('Emmett SQLite (shared connection)');
      expect(out).toContain('raw pg');
    }
    expect(md).toMatch(/\| Tessera SQLite \(FULL\) \| [\d,]+ \| [\d,]+ \| [\d.]+x \| [\d.]+x \|/);
    expect(result.targets.length).toBeGreaterThanOrEqual(9);
  });
});
