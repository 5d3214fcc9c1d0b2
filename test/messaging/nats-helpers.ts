import { createServer } from 'node:net';
import { connect } from 'nats';
import { openSqliteEventStore, type EventStore, type RecordedEvent } from '../../src/index.js';

export const NATS_URL = process.env.TESSERA_TEST_NATS ?? 'nats://127.0.0.1:4222';

/** A unique stream name and subject prefix for one test (deleted by {@link deleteStreams}). */
export function uniqueBusNames(tag: string): { streamName: string; prefix: string } {
  const id = `${tag}_${process.pid}_${Date.now().toString(36)}_${Math.floor(Math.random() * 1e6).toString(36)}`;
  return { streamName: `T_${id}`.toUpperCase(), prefix: `t_${id}`.toLowerCase() };
}

/** Deletes JetStream streams (ignores missing ones). */
export async function deleteStreams(url: string, names: string[]): Promise<void> {
  if (names.length === 0) return;
  const nc = await connect({ servers: url, timeout: 3_000 });
  try {
    const jsm = await nc.jetstreamManager();
    for (const n of names) await jsm.streams.delete(n).catch(() => undefined);
  } finally {
    await nc.close();
  }
}

/** A TCP port nothing listens on (asked from the OS, then released). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** An in-memory store holding `n` events spread over `streams` streams. */
export async function storeWithEvents(n: number, streams: number, type = 'Happened'): Promise<{ store: EventStore; all: RecordedEvent[] }> {
  const store = await openSqliteEventStore();
  for (let i = 0; i < n; i++) await store.appendToStream(`acct-${i % streams}`, [{ type, data: { i } }], { correlationId: `corr-${i}` });
  return { store, all: await store.readAll() };
}

/** Polls `check` every 10 ms until it holds or `timeoutMs` passes. */
export async function until(check: () => boolean | Promise<boolean>, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what} not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
