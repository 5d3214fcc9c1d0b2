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

/** A snapshot of the pipeline for a failure message: checkpoint, JetStream state, children's output. */
export async function diagnose(
  url: string,
  streamName: string,
  dbPath: string,
  effectsPath: string,
  children: Array<{ name: string; lines: string[]; stderr(): string; hasExited: boolean }>,
): Promise<string> {
  const out: string[] = [`applied=${await appliedCount(effectsPath)}`];
  const db = openSqlite({ path: dbPath, readonly: true });
  try {
    out.push(`checkpoints=${JSON.stringify(await db.query('SELECT name, position FROM tessera_relay_checkpoints'), (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v))}`);
    out.push(`lastPosition=${JSON.stringify((await db.query<{ p: number }>('SELECT max(global_position) AS p FROM tessera_events'))[0]?.p)}`);
  } finally {
    await db.close();
  }
  try {
    const { connect } = await import('nats');
    const nc = await connect({ servers: url, timeout: 2_000 });
    const jsm = await nc.jetstreamManager();
    const si = await jsm.streams.info(streamName);
    out.push(`stream=${JSON.stringify(si.state)}`);
    for await (const ci of jsm.consumers.list(streamName)) {
      out.push(`consumer ${ci.name}: pending=${ci.num_pending} ackPending=${ci.num_ack_pending} redelivered=${ci.num_redelivered} waiting=${ci.num_waiting} delivered=${JSON.stringify(ci.delivered)} ackFloor=${JSON.stringify(ci.ack_floor)}`);
    }
    await nc.close();
  } catch (e) {
    out.push(`nats: ${String(e)}`);
  }
  for (const c of children) out.push(`${c.name} exited=${c.hasExited} stdout=${JSON.stringify(c.lines.slice(-8))} stderr=${c.stderr().slice(-800)}`);
  return out.join('\n');
}

/** Deliveries and redeliveries JetStream counted for a consumer (redeliveries were absorbed by the inbox). */
export async function consumerStats(url: string, streamName: string, consumer: string): Promise<Record<string, number>> {
  const { connect } = await import('nats');
  const nc = await connect({ servers: url, timeout: 2_000 });
  try {
    const ci = await (await nc.jetstreamManager()).consumers.info(streamName, consumer);
    return { deliveries: ci.delivered.consumer_seq, streamMessages: ci.delivered.stream_seq, redelivered: ci.num_redelivered, ackPending: ci.num_ack_pending };
  } finally {
    await nc.close();
  }
}
