import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { type EventStore, isTesseraError, LeaseTable, openPostgresEventStore, openSqliteEventStore, storeDatabase } from '../../src/index.js';
import { dropSchemas, freshSchemaName, TEST_PG_URL } from '../support/pg-schema.js';
import { type BusMessage, InProcessEventBus, openNatsEventBus, startOutboxRelay } from '../../src/messaging/index.js';
import { tempDir } from '../support/tmp.js';
import { deleteStreams, NATS_URL, uniqueBusNames, until } from './nats-helpers.js';

const cleanup: Array<() => Promise<void> | void> = [];
const streams: string[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await Promise.resolve(f()).catch(() => undefined);
});
afterAll(() => deleteStreams(NATS_URL, streams));

async function fileStore(): Promise<EventStore> {
  const tmp = tempDir('tessera-relay-');
  const store = await openSqliteEventStore({ path: `${tmp.dir}/events.db` });
  cleanup.push(tmp.remove);
  cleanup.push(() => store.close());
  return store;
}

async function append(store: EventStore, n: number, streams = 5, offset = 0): Promise<bigint> {
  let last = 0n;
  for (let i = offset; i < offset + n; i++) last = (await store.appendToStream(`order-${i % streams}`, [{ type: 'Step', data: { i } }])).lastGlobalPosition;
  return last;
}

describe('outbox relay', () => {
  it('publishes the global log in order and checkpoints only acknowledged events; resumes from the checkpoint', async () => {
    const store = await fileStore();
    const bus = new InProcessEventBus();
    cleanup.push(() => bus.close());
    const got: BusMessage[] = [];
    await bus.subscribe({ consumer: 'c', handler: (m) => void got.push(m) });
    const last = await append(store, 120);
    const relay = await startOutboxRelay({ store, bus, batchSize: 50 });
    expect(await relay.waitForCheckpoint(last, 10_000)).toBe(true);
    await relay.stop();
    expect(relay.isLeader).toBe(false);
    const last2 = await append(store, 30, 5, 120);
    const relay2 = await startOutboxRelay({ store, bus, batchSize: 50 });
    cleanup.push(() => relay2.stop());
    expect(await relay2.waitForCheckpoint(last2, 10_000)).toBe(true);
    await until(() => got.length === 150);
    const all = await store.readAll();
    expect(got.map((m) => m.event.id)).toEqual(all.map((e) => e.id));
  });

  it('coordinates several relays with a lease: one leader at a time, a stopped leader is replaced', async () => {
    const store = await fileStore();
    const bus = new InProcessEventBus();
    cleanup.push(() => bus.close());
    const relays = await Promise.all([1, 2, 3].map((i) => startOutboxRelay({ store, bus, owner: `r${i}`, leaseMs: 500, pollIntervalMs: 10 })));
    cleanup.push(() => Promise.all(relays.map((r) => r.stop())).then(() => undefined));
    await until(() => relays.some((r) => r.isLeader));
    expect(relays.filter((r) => r.isLeader)).toHaveLength(1);
    const leader = relays.find((r) => r.isLeader)!;
    await leader.stop();
    const last = await append(store, 40);
    await until(() => relays.some((r) => r !== leader && r.isLeader), 5_000, 'a new leader');
    expect(relays.filter((r) => r.isLeader)).toHaveLength(1);
    expect(await relays.find((r) => r.isLeader)!.waitForCheckpoint(last, 10_000)).toBe(true);
  });

  it('refuses the checkpoint write of a relay whose lease was taken over (fencing)', async () => {
    const store = await fileStore();
    const bus = new InProcessEventBus();
    cleanup.push(() => bus.close());
    const errors: unknown[] = [];
    const relay = await startOutboxRelay({ store, bus, owner: 'old', leaseMs: 60_000, pollIntervalMs: 10, onError: (e) => errors.push(e) });
    cleanup.push(() => relay.stop());
    await until(() => relay.isLeader);
    // Another process takes the lease over (as if this relay had been paused past its lease).
    const db = storeDatabase(store);
    await db.run("UPDATE tessera_leases SET expires_at = 0 WHERE name = 'relay:default'");
    const thief = await new LeaseTable(db).acquire('relay:default', 'new', 60_000);
    expect(thief).not.toBeNull();
    await append(store, 3);
    await until(() => errors.some((e) => isTesseraError(e, 'LEASE_FENCED')), 5_000, 'a fencing error');
    expect(await relay.checkpoint()).toBe(0n);
    expect(relay.isLeader).toBe(false);
  });

  it('relays to NATS JetStream: every event once, in global order', async () => {
    const store = await fileStore();
    const names = uniqueBusNames('relay');
    streams.push(names.streamName);
    const bus = await openNatsEventBus({ url: NATS_URL, ...names });
    cleanup.push(() => bus.close());
    const last = await append(store, 1_000, 20);
    const relay = await startOutboxRelay({ store, bus });
    cleanup.push(() => relay.stop());
    expect(await relay.waitForCheckpoint(last, 20_000)).toBe(true);
    const got: string[] = [];
    await bus.subscribe({ consumer: 'check', concurrency: 1, handler: (m) => void got.push(m.event.id) });
    await until(() => got.length >= 1_000, 20_000);
    expect(got).toEqual((await store.readAll({ maxCount: 5_000 })).map((e) => e.id));
  });

  it('relays a PostgreSQL store written by concurrent writers: every event once, in global order, two relays sharing a lease', async () => {
    const schema = freshSchemaName('relay');
    cleanup.push(() => dropSchemas([schema]));
    const store = await openPostgresEventStore({ connectionString: TEST_PG_URL, schema });
    cleanup.push(() => store.close());
    const names = uniqueBusNames('pgrelay');
    streams.push(names.streamName);
    const bus = await openNatsEventBus({ url: NATS_URL, ...names });
    cleanup.push(() => bus.close());
    const relays = await Promise.all(['p1', 'p2'].map((owner) => startOutboxRelay({ store, bus, owner, batchSize: 100, pollIntervalMs: 10, leaseMs: 2_000 })));
    cleanup.push(() => Promise.all(relays.map((r) => r.stop())).then(() => undefined));
    // Eight writers at once: positions commit out of order, the relay must still miss nothing.
    const results = await Promise.all(
      Array.from({ length: 8 }, async (_, w) => {
        let last = 0n;
        for (let i = 0; i < 50; i++) last = (await store.appendToStream(`order-${w}`, [{ type: 'Step', data: { w, i } }])).lastGlobalPosition;
        return last;
      }),
    );
    const last = results.reduce((a, b) => (a > b ? a : b));
    expect(await relays[0]!.waitForCheckpoint(last, 30_000)).toBe(true);
    expect(relays.filter((r) => r.isLeader).length).toBeLessThanOrEqual(1);
    const got: string[] = [];
    await bus.subscribe({ consumer: 'check', concurrency: 1, handler: (m) => void got.push(m.event.id) });
    await until(() => got.length >= 400, 20_000);
    expect(got).toEqual((await store.readAll({ maxCount: 1_000 })).map((e) => e.id));
  });

  it('rejects bad options', async () => {
    const store = await fileStore();
    const bus = new InProcessEventBus();
    await expect(startOutboxRelay({ store, bus, name: 'a.b' })).rejects.toThrow(/Invalid name/);
    await expect(startOutboxRelay({ store, bus: {} as never })).rejects.toThrow(/Invalid bus/);
    await expect(startOutboxRelay({ store, bus, batchSize: 0 })).rejects.toThrow(/batchSize/);
  });
});
