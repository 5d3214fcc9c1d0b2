import { existsSync } from 'node:fs';
import { openSqlite, type RecordedEvent } from '../../src/index.js';

/** What a consumer group applied, checked against the store's log. */
export interface EffectReport {
  events: number;
  applied: number;
  lost: number;
  doubleApplied: number;
  orderViolations: number;
  workers: Record<string, number>;
}

/** Rows in the effects table (0 before the consumers created it). */
export async function appliedCount(effectsPath: string): Promise<number> {
  if (!existsSync(effectsPath)) return 0;
  const db = openSqlite({ path: effectsPath, readonly: true });
  try {
    const [row] = await db.query<{ n: number }>("SELECT count(*) AS n FROM sqlite_master WHERE name = 'effects'");
    if (!row || row.n === 0) return 0;
    const [c] = await db.query<{ n: number }>('SELECT count(*) AS n FROM effects');
    return c?.n ?? 0;
  } finally {
    await db.close();
  }
}

/** Compares the effects table with the store's events: lost, double-applied and out-of-order applications. */
export async function verifyEffects(effectsPath: string, events: RecordedEvent[]): Promise<EffectReport> {
  const db = openSqlite({ path: effectsPath, readonly: true });
  try {
    const rows = await db.query<{ event_id: string; stream_id: string; version: number; worker: string }>(
      'SELECT event_id, stream_id, version, worker FROM effects ORDER BY seq',
    );
    const times = new Map<string, number>();
    const lastVersion = new Map<string, number>();
    const workers: Record<string, number> = {};
    let orderViolations = 0;
    for (const r of rows) {
      times.set(r.event_id, (times.get(r.event_id) ?? 0) + 1);
      if (r.version !== (lastVersion.get(r.stream_id) ?? 0) + 1) orderViolations++;
      lastVersion.set(r.stream_id, r.version);
      workers[r.worker] = (workers[r.worker] ?? 0) + 1;
    }
    const lost = events.filter((e) => !times.has(e.id)).length;
    const doubleApplied = [...times.values()].filter((n) => n > 1).length;
    return { events: events.length, applied: rows.length, lost, doubleApplied, orderViolations, workers };
  } finally {
    await db.close();
  }
}

/** All events of a store file, read through a short-lived store. */
export async function readAllEvents(read: (from: bigint) => Promise<RecordedEvent[]>): Promise<RecordedEvent[]> {
  const out: RecordedEvent[] = [];
  for (let from = 1n; ; ) {
    const page = await read(from);
    out.push(...page);
    const last = page[page.length - 1];
    if (!last) return out;
    from = last.globalPosition + 1n;
  }
}
