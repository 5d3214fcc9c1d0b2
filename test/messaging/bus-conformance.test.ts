/**
 * One suite, both adapters: the in-process bus and the NATS JetStream bus must behave alike.
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { InvalidArgumentError, isTesseraError, type RecordedEvent } from '../../src/index.js';
import { type BusMessage, type EventBus, InProcessEventBus, openNatsEventBus } from '../../src/messaging/index.js';
import { deleteStreams, NATS_URL, storeWithEvents, uniqueBusNames, until } from './nats-helpers.js';

const natsStreams: string[] = [];
afterAll(() => deleteStreams(NATS_URL, natsStreams));

const adapters: Array<[string, () => Promise<EventBus>]> = [
  ['in-process', async () => new InProcessEventBus({ prefix: 'conf' })],
  [
    'nats-jetstream',
    async () => {
      const names = uniqueBusNames('conf');
      natsStreams.push(names.streamName);
      return openNatsEventBus({ url: NATS_URL, ...names });
    },
  ],
];

describe.each(adapters)('event bus conformance: %s', (_name, open) => {
  const cleanup: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const f of cleanup.splice(0).reverse()) await f().catch(() => undefined);
  });
  async function setup(n: number, streams: number): Promise<{ bus: EventBus; all: RecordedEvent[] }> {
    const { store, all } = await storeWithEvents(n, streams);
    cleanup.push(() => store.close());
    const bus = await open();
    cleanup.push(() => bus.close());
    return { bus, all };
  }
  const fast = { initialDelayMs: 10, maxDelayMs: 20 };

  it('acks every publish, deduplicates a re-published event id, and delivers in publish order to one member', async () => {
    const { bus, all } = await setup(12, 3);
    const result = await bus.publishAll(all);
    expect(result.error).toBeUndefined();
    expect(result.acks.map((a) => a.duplicate)).toEqual(all.map(() => false));
    expect((await bus.publish(all[4]!)).duplicate).toBe(true);
    const got: BusMessage[] = [];
    await bus.subscribe({ consumer: 'ordered', concurrency: 1, handler: (m) => void got.push(m) });
    await until(() => got.length === 12, 10_000);
    await new Promise((r) => setTimeout(r, 100));
    expect(got.map((m) => m.event.id)).toEqual(all.map((e) => e.id));
    expect(got.map((m) => m.subject)).toEqual(all.map(() => `${bus.prefix}.acct.Happened`));
    expect(got.every((m) => m.deliveryCount === 1 && m.correlationId.startsWith('corr-'))).toBe(true);
  });

  it('filters by category and event type', async () => {
    const { bus, all } = await setup(4, 2);
    await bus.publishAll(all);
    const byCategory: string[] = [];
    const byType: string[] = [];
    await bus.subscribe({ consumer: 'cat', category: 'acct', handler: (m) => void byCategory.push(m.event.id) });
    await bus.subscribe({ consumer: 'none', eventType: 'Other', handler: (m) => void byType.push(m.event.id) });
    await until(() => byCategory.length === 4, 10_000);
    await new Promise((r) => setTimeout(r, 100));
    expect(byType).toEqual([]);
  });

  it('resumes a durable consumer after its last ack, without re-delivering what was acked', async () => {
    const { bus, all } = await setup(10, 2);
    await bus.publishAll(all.slice(0, 5));
    const first: string[] = [];
    const sub = await bus.subscribe({ consumer: 'durable', handler: (m) => void first.push(m.event.id) });
    await until(() => first.length === 5, 10_000);
    await sub.stop();
    await bus.publishAll(all.slice(5));
    const second: string[] = [];
    await bus.subscribe({ consumer: 'durable', handler: (m) => void second.push(m.event.id) });
    await until(() => second.length === 5, 10_000);
    await new Promise((r) => setTimeout(r, 100));
    expect(second.sort()).toEqual(all.slice(5).map((e) => e.id).sort());
  });

  it('redelivers after a throw, then dead-letters after maxDeliver', async () => {
    const { bus, all } = await setup(2, 2);
    const seen = new Map<string, number[]>();
    await bus.subscribe({
      consumer: 'flaky',
      maxDeliver: 3,
      backoff: fast,
      handler: (m) => {
        seen.set(m.event.id, [...(seen.get(m.event.id) ?? []), m.deliveryCount]);
        if (m.event.id === all[0]!.id && m.deliveryCount < 2) throw new Error('transient');
        if (m.event.id === all[1]!.id) throw new Error('permanent');
      },
    });
    await bus.publishAll(all);
    await until(async () => (await bus.deadLetters({ consumer: 'flaky' })).length === 1, 15_000);
    expect(seen.get(all[0]!.id)).toEqual([1, 2]);
    expect(seen.get(all[1]!.id)).toEqual([1, 2, 3]);
    const [dead] = await bus.deadLetters();
    expect(dead).toMatchObject({ consumer: 'flaky', deliveries: 3 });
    expect(dead!.event.id).toBe(all[1]!.id);
    expect(dead!.error).toContain('permanent');
  });

  it('validates input and refuses use after close', async () => {
    const { bus, all } = await setup(1, 1);
    await expect(bus.subscribe({ consumer: '', handler: () => undefined })).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(bus.subscribe({ consumer: 'x', category: 'a b', handler: () => undefined })).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(bus.subscribe({ consumer: 'x', handler: 'nope' as never })).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(bus.publishAll('nope' as never)).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(bus.deadLetters({ limit: 0 })).rejects.toBeInstanceOf(InvalidArgumentError);
    await bus.close();
    const closed = await bus.publish(all[0]!).catch((e: unknown) => e);
    expect(isTesseraError(closed, 'STORE_CLOSED')).toBe(true);
  });
});
