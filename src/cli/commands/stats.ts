import { existsSync, statSync } from 'node:fs';
import type { Command } from 'commander';
import { storeDatabase } from '../../eventstore/store.js';
import type { SqlDriver } from '../../storage/port.js';
import { withStore, writeLine } from '../context.js';
import { formatBytes, jsonLine, keyValues, table } from '../format.js';
import { parsePositiveInt } from '../parse.js';

/**
 * `tessera stats`: how many events and streams the store holds, its last position, its size on disk, and
 * its biggest streams and most frequent event types.
 *
 * @example
 * ```sh
 * tessera stats --top 5
 * tessera stats --json
 * ```
 */
export function register(program: Command): void {
  program
    .command('stats')
    .description('counts, last position, file size and the biggest streams')
    .option('--top <n>', 'how many streams and types to list', '10')
    .action(async (opts: { top: string }, cmd: Command) => {
      const top = parsePositiveInt(opts.top, '--top');
      await withStore(cmd, 'existing', async (store, g) => {
        const s = await collectStats(storeDatabase(store), g.path, top, g.target.kind);
        if (g.json) await writeLine(jsonLine(s));
        else await writeLine(renderStats(s));
      });
    });
}

/**
 * What `stats` reports.
 *
 * @example
 * ```ts
 * const s: StoreStats = await collectStats(storeDatabase(store), path, 10);
 * ```
 */
export interface StoreStats {
  path: string;
  events: number;
  streams: number;
  lastPosition: bigint;
  firstEventAt: string | null;
  lastEventAt: string | null;
  fileBytes: number;
  walBytes: number;
  topStreams: Array<{ streamId: string; events: number }>;
  topTypes: Array<{ type: string; events: number }>;
}

/**
 * Queries the events table of a store's database.
 *
 * @example
 * ```ts
 * const s = await collectStats(storeDatabase(store), '/data/tessera.db', 10);
 * ```
 */
export async function collectStats(db: SqlDriver, path: string, top: number, engine: 'sqlite' | 'postgres' = 'sqlite'): Promise<StoreStats> {
  // The PostgreSQL store's schema is first on its search_path, where the table is plain `events`.
  const events = engine === 'sqlite' ? 'tessera_events' : 'events';
  const [totals] = await db.query<{ events: number; streams: number; last: number | null; first_at: number | null; last_at: number | null }>(
    `SELECT count(*) AS events, count(DISTINCT stream_id) AS streams, max(global_position) AS last,
            min(recorded_at) AS first_at, max(recorded_at) AS last_at
       FROM ${events}`,
  );
  const topStreams = await db.query<{ stream_id: string; n: number }>(
    `SELECT stream_id, count(*) AS n FROM ${events} GROUP BY stream_id ORDER BY n DESC, stream_id LIMIT ?`,
    [top],
  );
  const topTypes = await db.query<{ event_type: string; n: number }>(
    `SELECT event_type, count(*) AS n FROM ${events} GROUP BY event_type ORDER BY n DESC, event_type LIMIT ?`,
    [top],
  );
  return {
    path,
    events: Number(totals?.events ?? 0),
    streams: Number(totals?.streams ?? 0),
    lastPosition: totals?.last == null ? 0n : BigInt(totals.last),
    firstEventAt: totals?.first_at == null ? null : new Date(Number(totals.first_at)).toISOString(),
    lastEventAt: totals?.last_at == null ? null : new Date(Number(totals.last_at)).toISOString(),
    fileBytes: engine === 'sqlite' ? sizeOf(path) : await relationBytes(db, events),
    walBytes: engine === 'sqlite' ? sizeOf(`${path}-wal`) : 0,
    topStreams: topStreams.map((r) => ({ streamId: r.stream_id, events: Number(r.n) })),
    topTypes: topTypes.map((r) => ({ type: r.event_type, events: Number(r.n) })),
  };
}

async function relationBytes(db: SqlDriver, table: string): Promise<number> {
  const [row] = await db.query<{ n: bigint | number }>('SELECT pg_total_relation_size(?::regclass) AS n', [table]);
  return Number(row?.n ?? 0);
}

function sizeOf(file: string): number {
  return existsSync(file) ? statSync(file).size : 0;
}

/**
 * The stats as aligned text.
 *
 * @example
 * ```ts
 * console.log(renderStats(await collectStats(db, path, 10)));
 * ```
 */
export function renderStats(s: StoreStats): string {
  const summary = keyValues([
    ['database', s.path],
    ['events', String(s.events)],
    ['streams', String(s.streams)],
    ['last position', String(s.lastPosition)],
    ['first event', s.firstEventAt ?? '-'],
    ['last event', s.lastEventAt ?? '-'],
    ['file size', `${formatBytes(s.fileBytes)} (+ ${formatBytes(s.walBytes)} write-ahead log)`],
  ]);
  const streams = table(['stream', 'events'], s.topStreams.map((r) => [r.streamId, String(r.events)]), ['left', 'right']);
  const types = table(['type', 'events'], s.topTypes.map((r) => [r.type, String(r.events)]), ['left', 'right']);
  return `${summary}\n\nTop streams\n${streams}\n\nTop event types\n${types}`;
}
