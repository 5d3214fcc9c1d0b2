import Database from 'better-sqlite3';
import { readLogLines } from '../support/processes.js';

/**
 * Checks a SQLite event store file against the logs the stress writers (test/fixtures/sqlite-writer.ts)
 * left behind. Reads the table with plain better-sqlite3, independent of the code under test.
 * @module
 */

type TryLine = { k: 'try'; ids: string[]; s: string };
type AckLine = { k: 'ack'; ids: string[]; s: string; v: string; p: string; c: number };
type DoneLine = { k: 'done'; acks: number; conflicts: number; retryable: number; events: number };
type LogLine = TryLine | AckLine | DoneLine;

/** What one writer's log says. */
export interface WriterLog {
  name: string;
  tries: TryLine[];
  acks: AckLine[];
  done: DoneLine | undefined;
}

/** Parses one writer's log file (a line torn by a kill is ignored). */
export function readWriterLog(name: string, path: string): WriterLog {
  const lines = readLogLines(path).map((l) => JSON.parse(l) as LogLine);
  return {
    name,
    tries: lines.filter((l): l is TryLine => l.k === 'try'),
    acks: lines.filter((l): l is AckLine => l.k === 'ack'),
    done: lines.find((l): l is DoneLine => l.k === 'done'),
  };
}

interface Row {
  global_position: bigint;
  event_id: string;
  stream_id: string;
  stream_version: bigint;
}

/** Totals found while verifying. */
export interface Verified {
  storedEvents: number;
  acknowledgedAppends: number;
  acknowledgedEvents: number;
  /** Appends tried but never acknowledged (e.g. cut by a kill) that nevertheless committed. */
  unacknowledgedButStored: number;
  unacknowledgedAndAbsent: number;
  streams: Record<string, number>;
}

/**
 * Returns the list of invariant violations (empty when the store is consistent with the logs):
 * every acknowledged event stored exactly once with the acknowledged version and position; per stream
 * versions 1..n without gap or duplicate, in global-position order; no event that no writer tried;
 * unacknowledged appends stored all-or-nothing; `PRAGMA integrity_check` is ok.
 */
export function verifyStore(dbPath: string, logs: readonly WriterLog[]): { problems: string[]; totals: Verified; positions: bigint[] } {
  const problems: string[] = [];
  const db = new Database(dbPath);
  try {
    db.pragma('busy_timeout = 10000');
    const integrity = db.pragma('integrity_check', { simple: true });
    if (integrity !== 'ok') problems.push(`integrity_check: ${String(integrity)}`);
    const rows = db
      .prepare('SELECT global_position, event_id, stream_id, stream_version FROM tessera_events ORDER BY global_position')
      .safeIntegers(true)
      .all() as Row[];

    const byId = new Map<string, Row>();
    const lastVersion = new Map<string, bigint>();
    let lastPosition = 0n;
    for (const r of rows) {
      if (byId.has(r.event_id)) problems.push(`event ${r.event_id} stored twice`);
      byId.set(r.event_id, r);
      if (r.global_position <= lastPosition) problems.push(`position ${r.global_position} not above ${lastPosition}`);
      lastPosition = r.global_position;
      // In global order each stream's versions must run 1, 2, 3…: no gap, no duplicate, no reordering.
      const expected = (lastVersion.get(r.stream_id) ?? 0n) + 1n;
      if (r.stream_version !== expected) {
        problems.push(`stream ${r.stream_id}: version ${r.stream_version} at position ${r.global_position}, expected ${expected}`);
      }
      lastVersion.set(r.stream_id, r.stream_version);
    }

    const tried = new Map<string, TryLine>();
    for (const log of logs) for (const t of log.tries) for (const id of t.ids) tried.set(id, t);
    for (const r of rows) if (!tried.has(r.event_id)) problems.push(`event ${r.event_id} stored but never tried by any writer`);

    const acked = new Set<string>();
    let ackedEvents = 0;
    let ackedAppends = 0;
    for (const log of logs) {
      for (const a of log.acks) {
        ackedAppends++;
        ackedEvents += a.ids.length;
        acked.add(a.ids[0]!);
        const stored = a.ids.map((id) => byId.get(id));
        if (stored.some((s) => s === undefined)) {
          problems.push(`${log.name}: acknowledged append ${a.ids.join(',')} is missing`);
          continue;
        }
        const s = stored as Row[];
        const firstVersion = BigInt(a.v) - BigInt(a.ids.length) + 1n;
        s.forEach((row, i) => {
          if (row.stream_id !== a.s) problems.push(`${row.event_id}: stored in ${row.stream_id}, acknowledged in ${a.s}`);
          if (row.stream_version !== firstVersion + BigInt(i)) {
            problems.push(`${row.event_id}: stored at version ${row.stream_version}, acknowledged ${firstVersion + BigInt(i)}`);
          }
        });
        const maxPosition = s.reduce((m, r) => (r.global_position > m ? r.global_position : m), 0n);
        if (maxPosition !== BigInt(a.p)) problems.push(`${a.ids[0]}: acknowledged position ${a.p}, stored ${maxPosition}`);
      }
    }

    let unackStored = 0;
    let unackAbsent = 0;
    for (const log of logs) {
      for (const t of log.tries) {
        if (acked.has(t.ids[0]!)) continue;
        const present = t.ids.filter((id) => byId.has(id)).length;
        if (present === t.ids.length) unackStored++;
        else if (present === 0) unackAbsent++;
        else problems.push(`${log.name}: append ${t.ids.join(',')} partly stored (${present}/${t.ids.length})`);
      }
    }

    return {
      problems,
      positions: rows.map((r) => r.global_position),
      totals: {
        storedEvents: rows.length,
        acknowledgedAppends: ackedAppends,
        acknowledgedEvents: ackedEvents,
        unacknowledgedButStored: unackStored,
        unacknowledgedAndAbsent: unackAbsent,
        streams: Object.fromEntries([...lastVersion].map(([k, v]) => [k, Number(v)])),
      },
    };
  } finally {
    db.close();
  }
}
