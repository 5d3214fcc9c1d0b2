import { afterEach, describe, expect, it } from 'vitest';
import {
  type EventStore,
  InvalidArgumentError,
  isTesseraError,
  openSqlite,
  openSqliteEventStore,
  type RecordedEvent,
} from '../../src/index.js';
import { causedBy, InProcessEventBus, openInbox, type BusMessage } from '../../src/messaging/index.js';

const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

async function storeWith(events: Array<[string, string]>, opts: { correlationId?: string } = {}): Promise<{ store: EventStore; all: RecordedEvent[] }> {
  const store = await openSqliteEventStore();
  cleanup.push(() => store.close());
  for (const [stream, type] of events) await store.appendToStream(stream, [{ type, data: { stream } }], opts);
  return { store, all: await store.readAll() };
}

function until(check: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const tick = (): void => {
      if (check()) return resolve();
      if (Date.now() > deadline) return reject(new Error('condition not met in time'));
      setTimeout(tick, 5);
    };
    tick();
  });
}

describe('InProcessEventBus', () => {
  it('delivers in publish order with subjects and tracing ids, and deduplicates by event id', async () => {
    const { all } = await storeWith([['order-1', 'Placed'], ['order-1', 'order.Shipped'], ['cart-9', 'Added']], { correlationId: 'corr-1' });
    const bus = new InProcessEventBus({ prefix: 'shop' });
    cleanup.push(() => bus.close());
    const got: BusMessage[] = [];
    await bus.subscribe({ consumer: 'audit', handler: (m) => void got.push(m) });
    for (const e of all) expect((await bus.publish(e)).duplicate).toBe(false);
    expect((await bus.publish(all[0]!)).duplicate).toBe(true);
    await until(() => got.length === 3);
    expect(got.map((m) => m.subject)).toEqual(['shop.order.Placed', 'shop.order.order_Shipped', 'shop.cart.Added']);
    expect(got.map((m) => m.event.id)).toEqual(all.map((e) => e.id));
    expect(got[0]!.correlationId).toBe('corr-1');
    expect(got[0]!.causationId).toBe(all[0]!.id);
    expect(got.every((m) => m.deliveryCount === 1)).toBe(true);
  });

  it('filters by category, shares a consumer between its subscriptions, and resumes a durable consumer', async () => {
    const { all } = await storeWith(Array.from({ length: 20 }, (_, i) => [i % 2 ? `order-${i}` : `cart-${i}`, 'E'] as [string, string]));
    const bus = new InProcessEventBus();
    cleanup.push(() => bus.close());
    const a: string[] = [];
    const b: string[] = [];
    const s1 = await bus.subscribe({ consumer: 'orders', category: 'order', handler: (m) => void a.push(m.event.id) });
    const s2 = await bus.subscribe({ consumer: 'orders', category: 'order', handler: (m) => void b.push(m.event.id) });
    const r = await bus.publishAll(all.slice(0, 10));
    expect(r.acks).toHaveLength(10);
    await until(() => a.length + b.length === 5);
    expect(a.length).toBeGreaterThan(0);
    expect(b.length).toBeGreaterThan(0);
    await s1.stop();
    await s2.stop();
    await bus.publishAll(all.slice(10));
    const c: string[] = [];
    await bus.subscribe({ consumer: 'orders', category: 'order', handler: (m) => void c.push(m.event.id) });
    await until(() => c.length === 5);
    const orderIds = all.filter((e) => e.streamId.startsWith('order-')).map((e) => e.id);
    expect([...a, ...b, ...c].sort()).toEqual([...orderIds].sort());
  });

  it('redelivers after a throw with a growing delivery count and dead-letters after maxDeliver', async () => {
    const { all } = await storeWith([['order-1', 'Poison'], ['order-2', 'Fine']]);
    const bus = new InProcessEventBus();
    cleanup.push(() => bus.close());
    const counts: number[] = [];
    const ok: string[] = [];
    await bus.subscribe({
      consumer: 'picky',
      maxDeliver: 3,
      backoff: { initialDelayMs: 1, maxDelayMs: 2 },
      handler: (m) => {
        if (m.event.type === 'Poison') {
          counts.push(m.deliveryCount);
          throw new Error('cannot handle');
        }
        ok.push(m.event.id);
      },
    });
    await bus.publishAll(all);
    await until(() => ok.length === 1);
    expect(counts).toEqual([1, 2, 3]);
    const dead = await bus.deadLetters({ consumer: 'picky' });
    expect(dead).toHaveLength(1);
    expect(dead[0]!.event.id).toBe(all[0]!.id);
    expect(dead[0]!.deliveries).toBe(3);
    expect(dead[0]!.error).toContain('cannot handle');
  });

  it('carries correlation and causation through a handler that appends with causedBy()', async () => {
    const { store, all } = await storeWith([['order-1', 'Placed']], { correlationId: 'conv-7' });
    const bus = new InProcessEventBus();
    cleanup.push(() => bus.close());
    await bus.subscribe({
      consumer: 'billing',
      handler: async (m) => {
        if (m.event.type === 'Placed') await store.appendToStream('invoice-1', [{ type: 'Issued', data: {} }], causedBy(m));
      },
    });
    await bus.publish(all[0]!);
    let issued: RecordedEvent | undefined;
    for (let i = 0; i < 200 && issued === undefined; i++) {
      issued = (await store.readStream('invoice-1').catch(() => []))[0];
      if (issued === undefined) await new Promise((r) => setTimeout(r, 5));
    }
    expect(issued?.metadata).toMatchObject({ correlationId: 'conv-7', causationId: all[0]!.id });
  });

  it('rejects invalid prefixes, consumer names, filters and events', async () => {
    expect(() => new InProcessEventBus({ prefix: 'bad prefix' })).toThrow(InvalidArgumentError);
    expect(() => new InProcessEventBus({ prefix: 'a..b' })).toThrow(InvalidArgumentError);
    expect(() => new InProcessEventBus({ prefix: 'a.>' })).toThrow(InvalidArgumentError);
    const bus = new InProcessEventBus();
    cleanup.push(() => bus.close());
    await expect(bus.subscribe({ consumer: 'has.dot', handler: () => undefined })).rejects.toThrow(InvalidArgumentError);
    await expect(bus.subscribe({ consumer: 'ok', category: 'a.b', handler: () => undefined })).rejects.toThrow(InvalidArgumentError);
    await expect(bus.subscribe({ consumer: 'ok', maxDeliver: 0, handler: () => undefined })).rejects.toThrow(InvalidArgumentError);
    await expect(bus.publish({ id: 'x' } as unknown as RecordedEvent)).rejects.toThrow(InvalidArgumentError);
  });
});

describe('Inbox', () => {
  it('applies an effect once per event, in the effect transaction, and keeps per-stream order', async () => {
    const { all } = await storeWith([['acct-1', 'Dep'], ['acct-1', 'Dep'], ['acct-2', 'Dep']]);
    const db = openSqlite();
    cleanup.push(() => db.close());
    await db.exec('CREATE TABLE effects (event_id TEXT NOT NULL)');
    const inbox = await openInbox(db, { consumer: 'ledger' });
    const effect = (id: string) => async (tx: { run: typeof db.run }) => void (await tx.run('INSERT INTO effects VALUES (?)', [id]));
    expect(await inbox.apply(all[1]!, effect(all[1]!.id))).toBe('early');
    expect(await inbox.apply(all[0]!, effect(all[0]!.id))).toBe('applied');
    expect(await inbox.apply(all[0]!, effect(all[0]!.id))).toBe('duplicate');
    expect(await inbox.apply(all[1]!, effect(all[1]!.id))).toBe('applied');
    expect(await inbox.apply(all[2]!, effect(all[2]!.id))).toBe('applied');
    // An effect that throws rolls back with its inbox row: a retry applies it.
    const { all: more } = await storeWith([['acct-3', 'Dep']]);
    await expect(inbox.apply(more[0]!, async (tx) => {
      await tx.run('INSERT INTO effects VALUES (?)', ['half']);
      throw new Error('boom');
    })).rejects.toThrow('boom');
    expect(await inbox.has(more[0]!.id)).toBe(false);
    const rows = await db.query<{ event_id: string }>('SELECT event_id FROM effects');
    expect(rows.map((r) => r.event_id)).toEqual([all[0]!.id, all[1]!.id, all[2]!.id]);
    expect(await inbox.appliedVersion('acct-1')).toBe(2n);
  });

  it('applies concurrent events in one shared transaction; a failing effect rolls back alone', async () => {
    const { all } = await storeWith(Array.from({ length: 20 }, (_, i) => [`acct-${i}`, 'Dep'] as [string, string]));
    const db = openSqlite();
    cleanup.push(() => db.close());
    await db.exec('CREATE TABLE effects (event_id TEXT NOT NULL)');
    const inbox = await openInbox(db, { consumer: 'ledger' });
    const outcomes = await Promise.allSettled(all.map((e, i) => inbox.apply(e, async (tx) => {
      await tx.run('INSERT INTO effects VALUES (?)', [e.id]);
      if (i === 7) throw new Error('effect failed');
    })));
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(19);
    expect(outcomes[7]!.status).toBe('rejected');
    const rows = await db.query<{ event_id: string }>('SELECT event_id FROM effects');
    expect(rows.map((r) => r.event_id).sort()).toEqual(all.filter((_, i) => i !== 7).map((e) => e.id).sort());
    expect(await inbox.has(all[7]!.id)).toBe(false);
    expect(await inbox.apply(all[7]!, async (tx) => void (await tx.run('INSERT INTO effects VALUES (?)', [all[7]!.id])))).toBe('applied');
  });

  it('as a bus handler: redeliveries are applied once; an early event fails with a retryable typed error', async () => {
    const { all } = await storeWith([['acct-1', 'Dep'], ['acct-1', 'Dep']]);
    const db = openSqlite();
    cleanup.push(() => db.close());
    await db.exec('CREATE TABLE effects (event_id TEXT NOT NULL)');
    const inbox = await openInbox(db, { consumer: 'ledger' });
    const handler = inbox.handler(async (m, tx) => void (await tx.run('INSERT INTO effects VALUES (?)', [m.event.id])));
    const msg = (e: RecordedEvent, n = 1): BusMessage => ({ event: e, subject: 's', correlationId: e.id, causationId: e.id, deliveryCount: n, sequence: 1 });
    const early = await Promise.resolve(handler(msg(all[1]!))).then(() => null, (e: unknown) => e);
    expect(isTesseraError(early, 'EVENT_OUT_OF_ORDER') && early.retryable).toBe(true);
    await handler(msg(all[0]!));
    await handler(msg(all[0]!, 2));
    await handler(msg(all[1]!, 2));
    const rows = await db.query<{ event_id: string }>('SELECT event_id FROM effects');
    expect(rows.map((r) => r.event_id)).toEqual([all[0]!.id, all[1]!.id]);
    await expect(openInbox(db, { consumer: 'bad name' })).rejects.toThrow(InvalidArgumentError);
  });
});
