import type { BenchResult, RowResult, TargetCheck, WorkloadResult } from './types.js';

export const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/**
 * `a` relative to `b`: the median of per-repetition ratios when both ran every repetition (the rows of one
 * repetition run back to back, so a slow phase of a shared machine cancels out), else the ratio of medians.
 */
function pairedRatio(a: RowResult, b: RowResult): number {
  if (a.samples.length > 0 && a.samples.length === b.samples.length) return median(a.samples.map((x, i) => x / b.samples[i]!));
  return a.median! / b.median!;
}

/** Fills `vsEmmett` and `vsRaw`: against the faster Emmett row and the raw row at the same durability, per engine. */
export function addRatios(w: WorkloadResult): void {
  const measured = w.rows.filter((r) => r.median !== null);
  for (const r of measured) {
    const emmett = measured.filter((x) => x.engine === r.engine && x.kind === 'emmett').sort((a, b) => b.median! - a.median!)[0];
    const raw =
      measured.find((x) => x.engine === r.engine && x.kind === 'raw' && x.durability === (r.durability ?? x.durability)) ??
      measured.find((x) => x.engine === r.engine && x.kind === 'raw');
    r.vsEmmett = emmett ? pairedRatio(r, emmett) : null;
    r.vsRaw = raw ? pairedRatio(r, raw) : null;
  }
}

const fmt = (x: number | null | undefined, digits = 0): string =>
  x === null || x === undefined ? '' : x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
const ratio = (x: number | null): string => (x === null ? '' : `${fmt(x, 2)}x`);

function cells(r: RowResult): string[] {
  if (r.median === null) return [r.label, 'n/a', '', '', '', r.note ?? ''];
  const rss = r.peakRssMb === undefined ? '' : `${fmt(r.peakRssMb)} MB (start ${fmt(r.baselineRssMb)} MB)`;
  return [r.label, fmt(r.median), fmt(r.min), ratio(r.vsEmmett), ratio(r.vsRaw), [rss, r.note ?? ''].filter(Boolean).join('; ')];
}

const HEAD = ['row', 'events/s (median)', 'min', 'vs Emmett', 'vs raw', 'notes'];

/** Plain-text tables for the terminal. */
export function toText(res: BenchResult): string {
  const out = [machineLines(res).join('\n'), ''];
  for (const w of res.workloads) {
    const rows = [HEAD, ...w.rows.map(cells)];
    const widths = HEAD.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
    out.push(w.title);
    for (const [k, r] of rows.entries()) {
      out.push('  ' + r.map((c, i) => (i === 0 || i === 5 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ').trimEnd());
      if (k === 0) out.push('  ' + widths.map((x) => '-'.repeat(x)).join('  '));
    }
    out.push('');
  }
  out.push(
    'Targets',
    ...res.targets.map((t) => `  [${t.holds === null ? 'n/a ' : t.holds ? 'ok  ' : 'MISS'}] ${t.name}: ${t.goal}; measured ${t.measured}${t.floor ? `; floor ${t.floor}` : ''}`),
  );
  return out.join('\n');
}

/** The same tables in Markdown (bench/results/latest.md and the README's Performance section). */
export function toMarkdown(res: BenchResult): string {
  const out = [
    `Run: \`npm run bench${res.sizes.name === 'full' ? '' : ` -- --${res.sizes.name}`}\`, ${res.startedAt}, ${res.sizes.reps} repetitions per row (median and min of events/s).`,
    '',
    ...machineLines(res).map((l) => `- ${l}`),
    '',
    '"vs Emmett" compares with the faster Emmett row of the same engine; "vs raw" with the raw driver row at the same durability',
    '(SQLite WAL, synchronous FULL unless the row says NORMAL; Emmett leaves synchronous at FULL). Ratios are medians of',
    'per-repetition ratios: in each repetition the rows run back to back (Tessera next to its raw row, order reversed every',
    'other repetition), so the swings of a shared machine cancel out. The min column shows how large those swings were.',
    '',
  ];
  for (const w of res.workloads) {
    out.push(`### ${w.title}`, '', `| ${HEAD.join(' | ')} |`, `|${HEAD.map((_, i) => (i === 0 || i === 5 ? '---' : '---:')).join('|')}|`);
    for (const r of w.rows) out.push(`| ${cells(r).join(' | ')} |`);
    out.push('');
  }
  out.push('### Targets', '', ...targetTable(res));
  return out.join('\n') + '\n';
}

/** The targets as Markdown rows; a missed one names the floor that caps it, from the same run. */
function targetTable(res: BenchResult): string[] {
  return [
    '| target | goal | measured | holds | floor (same run) |',
    '|---|---|---|---|---|',
    ...res.targets.map((t) => `| ${t.name} | ${t.goal} | ${t.measured} | ${t.holds === null ? 'n/a' : t.holds ? 'yes' : 'no'} | ${t.floor ?? ''} |`),
  ];
}

function machineLines(res: BenchResult): string[] {
  const m = res.machine;
  return [
    `Machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGb} GB, ${m.os}`,
    `Node ${m.node}; SQLite ${m.sqlite}, ${m.sqliteEmmett}; PostgreSQL ${m.postgres}`,
  ];
}

const find = (res: BenchResult, w: string, row: string): RowResult | undefined =>
  res.workloads.find((x) => x.id === w)?.rows.find((r) => r.row === row && r.median !== null);

/** The issue's targets, checked against this run's ratios. */
export function checkTargets(res: BenchResult): TargetCheck[] {
  const ratioTarget = (name: string, w: string, row: string, goal: number, floorRow?: string): TargetCheck => {
    const r = find(res, w, row);
    const v = r?.vsRaw ?? null;
    const check: TargetCheck = { name, goal: `>= ${goal}x raw`, measured: v === null ? 'n/a' : `${v.toFixed(2)}x (${Math.round(r!.median!)} ev/s)`, holds: v === null ? null : v >= goal };
    // A missed target shows the floor that caps it, measured in the same run (see bench/results/floors.md).
    const floor = floorRow === undefined ? undefined : find(res, w, floorRow);
    if (check.holds === false && floor?.vsRaw != null) check.floor = `${floor.label}: ${floor.vsRaw.toFixed(2)}x`;
    return check;
  };
  const rssRow = find(res, 'f', 'tessera-sqlite-full');
  const pgRss = find(res, 'f', 'tessera-pg');
  const rss = (name: string, r: RowResult | undefined): TargetCheck => ({
    name,
    goal: '< 200 MB peak RSS',
    measured: r?.peakRssMb === undefined ? 'n/a' : `${Math.round(r.peakRssMb)} MB`,
    holds: r?.peakRssMb === undefined ? null : r.peakRssMb < 200,
  });
  return [
    ratioTarget('SQLite sequential single append (a)', 'a', 'tessera-sqlite-full', 0.85, 'raw-sqlite-full-ids-turn'),
    ratioTarget('SQLite sequential single append, expected version (b)', 'b', 'tessera-sqlite-full', 0.85, 'raw-sqlite-full-ids-turn'),
    ratioTarget('SQLite 8 concurrent callers (e)', 'e', 'tessera-sqlite-full', 3),
    ratioTarget('SQLite 1,000-event batch (c)', 'c', 'tessera-sqlite-full', 0.8, 'raw-sqlite-full-ids'),
    ratioTarget('SQLite read 1,000 events (d)', 'd', 'tessera-sqlite-full', 0.8),
    ratioTarget('PG sequential single append (a)', 'a', 'tessera-pg', 0.9),
    ratioTarget('PG 8 concurrent writers (e)', 'e', 'tessera-pg', 1.5),
    rss(`SQLite streamAll of ${res.sizes.streamAllEvents.toLocaleString('en-US')} events (f)`, rssRow),
    rss(`PG streamAll of ${res.sizes.streamAllEvents.toLocaleString('en-US')} events (f)`, pgRss),
  ];
}

const SUMMARY_COLUMNS: [string, (w: { rows: RowResult[] }) => RowResult | undefined][] = [
  ['Tessera SQLite', (w) => w.rows.find((r) => r.row === 'tessera-sqlite-full')],
  ['Emmett SQLite*', (w) => w.rows.filter((r) => r.engine === 'sqlite' && r.kind === 'emmett' && r.median !== null).sort((a, b) => b.median! - a.median!)[0]],
  ['raw better-sqlite3', (w) => w.rows.find((r) => r.row === 'raw-sqlite-full')],
  ['Tessera PG', (w) => w.rows.find((r) => r.row === 'tessera-pg')],
  ['Emmett PG', (w) => w.rows.find((r) => r.row === 'emmett-pg')],
  ['raw pg', (w) => w.rows.find((r) => r.row === 'raw-pg')],
];

/** The README's Performance section: one summary table (median events/s, ratio to raw) and the targets. */
export function toReadmeSection(res: BenchResult): string {
  const m = res.machine;
  const out = [
    `Median events/s of ${res.sizes.reps} repetitions (ratio to the raw driver in brackets), from \`npm run bench\` on ${m.cpu}, ${m.cores} cores,`,
    `Node ${m.node}, SQLite ${m.sqlite.split(' ')[0]} (WAL, synchronous FULL), PostgreSQL ${m.postgres.split(' ')[0]}, ${res.startedAt.slice(0, 10)}.`,
    'Every row and the min figures: [bench/results/latest.md](bench/results/latest.md). \\*the faster of Emmett\'s two SQLite modes.',
    '',
    `| workload | ${SUMMARY_COLUMNS.map(([h]) => h).join(' | ')} |`,
    `|---|${SUMMARY_COLUMNS.map(() => '---:').join('|')}|`,
  ];
  for (const w of res.workloads) {
    const cellsOf = SUMMARY_COLUMNS.map(([, pick]) => {
      const r = pick(w);
      return r?.median == null ? 'n/a' : `${fmt(r.median)}${r.kind === 'raw' || r.vsRaw === null ? '' : ` (${fmt(r.vsRaw, 2)})`}`;
    });
    out.push(`| ${w.title.replace(/^\((\w)\) /, '$1. ')} | ${cellsOf.join(' | ')} |`);
  }
  out.push('', ...targetTable(res));
  return out.join('\n') + '\n';
}
