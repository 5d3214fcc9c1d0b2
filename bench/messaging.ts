/**
 * Messaging benchmark: `npx tsx bench/messaging.ts [--events N] [--url nats://…]`.
 * Compares, on the same NATS server:
 *   - raw JetStream publish (pipelined, acked) and raw publish → pull consume → ack, end to end;
 *   - Tessera's append alone, its relay alone (catching up a pre-written log) and Tessera end to end:
 *     append (SQLite file store) → outbox relay → JetStream → consumer applies through the inbox (SQLite).
 * Prints a table with events/s, p50/p99 latency and the ratio to the raw path
 * (relay vs raw publish, end to end vs raw publish → consume). Streams are deleted afterwards.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { AckPolicy, connect, headers, type NatsConnection } from 'nats';
import { openSqlite, openSqliteEventStore } from '../src/index.js';
import { openInbox, openNatsEventBus, startOutboxRelay } from '../src/messaging/index.js';

/** One row of the table. */
export interface MessagingBenchRow {
  path: string;
  events: number;
  eventsPerSec: number;
  p50Ms: number | null;
  p99Ms: number | null;
}

/** Options of {@link runMessagingBench}. */
export interface MessagingBenchOptions {
  url?: string;
  events?: number;
  /** Print the table (default true). */
  print?: boolean;
}

const PAYLOAD = JSON.stringify({ sku: 'ABC-123', qty: 2, price: 1999, note: 'x'.repeat(120) });

function percentile(sorted: number[], p: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

function row(path: string, events: number, ms: number, latencies: number[] = []): MessagingBenchRow {
  const sorted = [...latencies].sort((a, b) => a - b);
  return { path, events, eventsPerSec: Math.round((events / ms) * 1000), p50Ms: percentile(sorted, 50), p99Ms: percentile(sorted, 99) };
}

function until(check: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const tick = (): void => {
      if (check()) return resolve();
      if (Date.now() > deadline) return reject(new Error('benchmark did not finish in time'));
      setTimeout(tick, 2);
    };
    tick();
  });
}

async function rawNats(nc: NatsConnection, n: number, stream: string): Promise<MessagingBenchRow[]> {
  const jsm = await nc.jetstreamManager();
  const js = nc.jetstream();
  await jsm.streams.add({ name: stream, subjects: [`${stream.toLowerCase()}.>`] });
  const subject = `${stream.toLowerCase()}.acct.Deposited`;
  const publishAll = async (tag: string): Promise<number> => {
    const started = performance.now();
    const sent: Promise<unknown>[] = [];
    // The same sliding window of 256 publishes in flight as the Tessera bus uses.
    for (let acked = 0; acked < n; acked++) {
      while (sent.length < n && sent.length - acked < 256) {
        const h = headers();
        h.set('Sent-At', String(performance.timeOrigin + performance.now()));
        sent.push(js.publish(subject, new TextEncoder().encode(PAYLOAD), { msgID: `${tag}-${sent.length}`, headers: h }));
      }
      await sent[acked];
    }
    return performance.now() - started;
  };
  const publishMs = await publishAll('a');
  await jsm.consumers.add(stream, { durable_name: 'bench', ack_policy: AckPolicy.Explicit, filter_subject: `${stream.toLowerCase()}.>` });
  // End to end: a consumer already waiting, then a second batch published.
  const consumer = await js.consumers.get(stream, 'bench');
  const latencies: number[] = [];
  let got = 0;
  const messages = await consumer.consume({ max_messages: 512 });
  void (async () => {
    for await (const m of messages) {
      if (m.seq > n) latencies.push(performance.timeOrigin + performance.now() - Number(m.headers?.get('Sent-At')));
      m.ack();
      got++;
    }
  })();
  await until(() => got >= n, 120_000);
  const started = performance.now();
  await publishAll('b');
  await until(() => got >= 2 * n, 120_000);
  const e2eMs = performance.now() - started;
  messages.stop();
  return [row('raw JetStream publish (acked, 256 in flight)', n, publishMs), row('raw JetStream publish → consume → ack', n, e2eMs, latencies)];
}

async function tessera(url: string, n: number, stream: string, dir: string): Promise<MessagingBenchRow[]> {
  const store = await openSqliteEventStore({ path: join(dir, 'events.db') });
  const bus = await openNatsEventBus({ url, streamName: stream, prefix: stream.toLowerCase() });
  const effects = openSqlite({ path: join(dir, 'effects.db'), synchronous: 'NORMAL' });
  await effects.exec('CREATE TABLE IF NOT EXISTS balances (stream_id TEXT PRIMARY KEY, total INTEGER NOT NULL)');
  const inbox = await openInbox(effects, { consumer: 'bench' });
  const appendAll = async (): Promise<void> => {
    for (let i = 0; i < n; i += 10) {
      const events = Array.from({ length: Math.min(10, n - i) }, () => ({ type: 'Deposited', data: JSON.parse(PAYLOAD) as unknown }));
      await store.appendToStream(`acct-${(i / 10) % 100}`, events);
    }
  };
  try {
    // Relay alone: catch up a log written beforehand.
    const appendStarted = performance.now();
    await appendAll();
    const appendMs = performance.now() - appendStarted;
    const first = (await store.readAll({ maxCount: 1 }))[0]!.globalPosition;
    const last = first + BigInt(n) - 1n;
    let started = performance.now();
    const relay = await startOutboxRelay({ store, bus, batchSize: 1_000, pollIntervalMs: 5 });
    if (!(await relay.waitForCheckpoint(last, 120_000))) throw new Error('relay did not catch up');
    const relayMs = performance.now() - started;

    // End to end: consumer and relay running, then n more events appended.
    const latencies: number[] = [];
    let applied = 0;
    const sub = await bus.subscribe({
      consumer: 'bench',
      concurrency: 32,
      handler: inbox.handler(async (m, tx) => {
        await tx.run('INSERT INTO balances (stream_id, total) VALUES (?, 1) ON CONFLICT (stream_id) DO UPDATE SET total = total + 1', [m.event.streamId]);
        if (m.event.globalPosition > last) latencies.push(Date.now() - m.event.recordedAt.getTime());
        applied++;
      }),
    });
    await until(() => applied >= n, 120_000);
    started = performance.now();
    await appendAll();
    await until(() => applied >= 2 * n, 120_000);
    const e2eMs = performance.now() - started;
    await sub.stop();
    await relay.stop();
    return [
      row('Tessera append alone (SQLite file, 10 events per append)', n, appendMs),
      row('Tessera relay (catch-up: readAll → publishAll → checkpoint)', n, relayMs),
      row('Tessera append → relay → consume → inbox apply (SQLite)', n, e2eMs, latencies),
    ];
  } finally {
    await bus.close();
    await effects.close();
    await store.close();
  }
}

function format(rows: MessagingBenchRow[]): string {
  const rawPub = rows[0]?.eventsPerSec ?? 0;
  const rawE2e = rows[1]?.eventsPerSec ?? 0;
  const ratio = (r: MessagingBenchRow, i: number): string => {
    const base = i === 3 ? rawPub : i === 4 ? rawE2e : i === 2 ? 0 : r.eventsPerSec;
    return base > 0 ? `${(r.eventsPerSec / base).toFixed(2)}×` : '-';
  };
  const ms = (v: number | null): string => (v === null ? '-' : String(Math.round(v)));
  const lines = ['| path | events | events/s | p50 ms | p99 ms | vs raw |', '|---|---:|---:|---:|---:|---:|'];
  rows.forEach((r, i) => lines.push(`| ${r.path} | ${r.events} | ${r.eventsPerSec} | ${ms(r.p50Ms)} | ${ms(r.p99Ms)} | ${ratio(r, i)} |`));
  return lines.join('\n');
}

/**
 * Runs the messaging benchmark against a NATS server with JetStream and returns (and prints) its rows.
 *
 * @example
 * ```ts
 * const rows = await runMessagingBench({ url: 'nats://127.0.0.1:4222', events: 10_000 });
 * ```
 */
export async function runMessagingBench(options: MessagingBenchOptions = {}): Promise<MessagingBenchRow[]> {
  const url = options.url ?? process.env.TESSERA_BUS ?? 'nats://127.0.0.1:4222';
  const n = options.events ?? 20_000;
  const tag = `BENCH_${process.pid}_${Date.now().toString(36)}`.toUpperCase();
  const dir = mkdtempSync(join(tmpdir(), 'tessera-bench-msg-'));
  const nc = await connect({ servers: url, noAsyncTraces: true });
  const jsm = await nc.jetstreamManager();
  try {
    const rows = [...(await rawNats(nc, n, `${tag}_RAW`)), ...(await tessera(url, n, `${tag}_T`, dir))];
    if (options.print !== false) console.log(`\nMessaging on ${url}, ${n} events per row (${PAYLOAD.length}-byte payload)\n${format(rows)}`);
    return rows;
  } finally {
    for (const s of [`${tag}_RAW`, `${tag}_T`]) await jsm.streams.delete(s).catch(() => undefined);
    await nc.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const args = process.argv.slice(2);
  const arg = (name: string): string | undefined => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const events = arg('--events');
  const url = arg('--url');
  await runMessagingBench({ ...(events ? { events: Number(events) } : {}), ...(url ? { url } : {}) });
}
