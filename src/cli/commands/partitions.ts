import { SingleBar } from 'cli-progress';
import type { Command } from 'commander';
import { InvalidArgumentError } from '../../errors.js';
import type { ArchiveTarget } from '../../partitioning/archive.js';
import { parseDuration, requireInterval } from '../../partitioning/intervals.js';
import { PgPartitionManager } from '../../partitioning/pg-partitions.js';
import type { RetentionPolicy, RetiredPartition } from '../../partitioning/retention.js';
import { SqliteSegments } from '../../partitioning/segments.js';
import { openPostgres } from '../../storage/postgres.js';
import { globalOptions, note, storeTarget, writeLine } from '../context.js';
import { formatBytes, jsonLine, table as table_ } from '../format.js';

/**
 * `tessera partitions list|apply-retention <table>`: the partitions of a PostgreSQL partitioned table
 * (`--db postgres://…`, in `--schema`), or with `--segments <dir>` the SQLite segment files named
 * `<table>_<yyyymmdd>.db`; and retiring the expired ones (drop, detach, or archive to a `.jsonl` or SQLite
 * file) with a progress bar.
 *
 * @example
 * ```sh
 * tessera --db postgres://app@db/app --schema metrics partitions list samples
 * tessera --db postgres://app@db/app --schema metrics partitions apply-retention samples --older-than 90d --archive ./samples-old.jsonl
 * tessera partitions apply-retention metrics --segments ./data/metrics --interval day --older-than 30d --drop --json
 * ```
 */
export function register(program: Command): void {
  const partitions = program
    .command('partitions')
    .description('list table partitions or segment files, and apply a retention policy')
    .option('--segments <dir>', 'SQLite segment files in this folder instead of a PostgreSQL table')
    .option('--interval <interval>', 'segment interval: hour, day, week or month', 'day');

  partitions
    .command('list <table>')
    .description('partitions (or segments) with their bounds and sizes')
    .action(async (table: string, _opts: unknown, cmd: Command) => {
      await withTarget(cmd, table, async (t, json) => {
        const rows = await t.list();
        if (json) for (const r of rows) await writeLine(jsonLine(r));
        else if (rows.length === 0) note(`no partitions of ${table}`);
        else await writeLine(table_(['partition', 'from', 'to', 'values', 'rows / size'], rows.map((r) => [r.name, r.from ?? '-', r.to ?? '-', r.values || '-', r.size])));
      });
    });

  partitions
    .command('apply-retention <table>')
    .description('retire partitions older than --older-than (or the named --partition ones); the current one is never retired')
    .option('--older-than <duration>', 'retire whole partitions that ended this long ago, e.g. 90d, 12h, 2w')
    .option('--partition <names...>', 'retire these partitions by name')
    .option('--archive <file>', 'archive the rows first: a .db/.sqlite file gets the SQLite format, anything else JSON Lines')
    .option('--drop', 'remove without archiving')
    .option('--detach', 'detach only, keeping a plain table (PostgreSQL)')
    .action(async (table: string, opts: { olderThan?: string; partition?: string[]; archive?: string; drop?: boolean; detach?: boolean }, cmd: Command) => {
      const policy = retentionPolicy(opts);
      await withTarget(cmd, table, async (t, json) => {
        // Drawn on stderr only on a terminal and never with --json, so stdout stays data.
        const bar = json || !process.stderr.isTTY ? null : new SingleBar({ format: ` retention ${table} [{bar}] {value}/{total} | {partition} ({rows} rows)`, stream: process.stderr, hideCursor: true });
        let started = false;
        try {
          const retired = await t.retire({
            ...policy,
            onProgress: (p) => {
              if (!started) bar?.start(p.total, 0, { partition: '', rows: 0 });
              started = true;
              bar?.update(p.done, { partition: p.partition, rows: p.rows });
            },
          });
          if (started) bar?.stop();
          started = false;
          if (json) for (const r of retired) await writeLine(jsonLine(r));
          else if (retired.length === 0) note(`nothing to retire in ${table}`);
          else await writeLine(table_(['partition', 'rows', 'action'], retired.map((r) => [r.partition, String(r.rows), r.action])));
        } finally {
          if (started) bar?.stop();
        }
      });
    });
}

function retentionPolicy(opts: { olderThan?: string; partition?: string[]; archive?: string; drop?: boolean; detach?: boolean }): Omit<RetentionPolicy, 'onProgress'> {
  const actions = [opts.archive !== undefined, opts.drop === true, opts.detach === true].filter(Boolean).length;
  if (actions !== 1) throw new InvalidArgumentError('--archive/--drop/--detach', `${actions} given`, 'Choose exactly one: --archive <file>, --drop or --detach.');
  if ((opts.olderThan === undefined) === (opts.partition === undefined)) {
    throw new InvalidArgumentError('--older-than/--partition', 'need exactly one', 'Pass --older-than 90d, or --partition <name> …');
  }
  const archive: ArchiveTarget | undefined = opts.archive === undefined ? undefined : { format: /\.(db|sqlite3?)$/i.test(opts.archive) ? 'sqlite' : 'jsonl', path: opts.archive };
  return {
    action: archive !== undefined ? 'archive' : opts.drop ? 'drop' : 'detach',
    ...(archive ? { archive } : {}),
    ...(opts.olderThan !== undefined ? { olderThanMs: parseDuration(opts.olderThan, '--older-than') } : { partitions: opts.partition! }),
  };
}

interface Row {
  name: string;
  from: string | null;
  to: string | null;
  values: string;
  size: string;
}

interface Target {
  list(): Promise<Row[]>;
  retire(policy: RetentionPolicy): Promise<RetiredPartition[]>;
}

async function withTarget(cmd: Command, table: string, fn: (t: Target, json: boolean) => Promise<void>): Promise<void> {
  const g = globalOptions(cmd);
  const o = cmd.optsWithGlobals<{ segments?: string; interval: string }>();
  if (o.segments !== undefined) {
    const segments = new SqliteSegments({ dir: o.segments, name: table, interval: requireInterval(o.interval, '--interval') });
    try {
      return await fn({
        list: async () => (await segments.list()).map((s) => ({ name: s.name, from: s.from.toISOString(), to: s.to.toISOString(), values: '', size: formatBytes(s.bytes) })),
        retire: (policy) => segments.applyRetention(policy),
      }, g.json);
    } finally {
      await segments.close();
    }
  }
  const target = storeTarget(g);
  if (target.kind !== 'postgres') {
    throw new InvalidArgumentError('--db', 'is a SQLite file', 'Table partitions live in PostgreSQL: pass --db postgres://… (and --schema), or --segments <dir> for SQLite segment files.');
  }
  const db = openPostgres({ connectionString: target.url, maxConnections: 2 });
  try {
    const pm = new PgPartitionManager(db, { schema: target.schema });
    await fn({
      list: async () => Promise.all((await pm.listPartitions(table)).map(async (p) => ({
        name: p.name, from: p.from?.toISOString() ?? null, to: p.to?.toISOString() ?? null, values: p.values.join(','), size: `${await pm.countRows(p.name)} rows`,
      }))),
      retire: (policy) => pm.applyRetention(table, policy),
    }, g.json);
  } finally {
    await db.close();
  }
}
