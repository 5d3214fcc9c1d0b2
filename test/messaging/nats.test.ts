import { type AddressInfo, createServer, type Socket } from 'node:net';
import { connect } from 'nats';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { BusUnavailableError, InvalidArgumentError, isTesseraError } from '../../src/index.js';
import { BUS_HEADERS, type BusMessage, type EventBus, type NatsEventBus, openEventBus, openNatsEventBus } from '../../src/messaging/index.js';
import { startThrowawayNats } from './nats-server.js';
import { deleteStreams, freePort, NATS_URL, storeWithEvents, uniqueBusNames, until } from './nats-helpers.js';

const streams: string[] = [];
const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f().catch(() => undefined);
});
afterAll(async () => {
  await deleteStreams(NATS_URL, streams);
});

async function bus(tag: string, names = uniqueBusNames(tag)): Promise<EventBus & { streamName: string }> {
  streams.push(names.streamName);
  const b = await openNatsEventBus({ url: NATS_URL, ...names });
  cleanup.push(() => b.close());
  return b;
}

describe('NATS JetStream bus', () => {
  it('publishes on <prefix>.<category>.<type> with the event id as Nats-Msg-Id, tracing headers, and dedupes retries', async () => {
    const { store, all } = await storeWithEvents(6, 2);
    cleanup.push(() => store.close());
    const b = await bus('pub');
    const first = await b.publishAll(all);
    expect(first.acks.map((a) => a.duplicate)).toEqual(all.map(() => false));
    const again = await b.publishAll(all.slice(0, 3));
    expect(again.acks.map((a) => a.duplicate)).toEqual([true, true, true]);
    const nc = await connect({ servers: NATS_URL });
    cleanup.push(() => nc.close());
    const jsm = await nc.jetstreamManager();
    expect((await jsm.streams.info(b.streamName)).state.messages).toBe(6);
    const stored = await jsm.streams.getMessage(b.streamName, { seq: 1 });
    expect(stored.subject).toBe(`${b.prefix}.acct.Happened`);
    expect(stored.header.get('Nats-Msg-Id')).toBe(all[0]!.id);
    expect(stored.header.get(BUS_HEADERS.correlationId)).toBe('corr-0');
    expect(stored.header.get(BUS_HEADERS.causationId)).toBe(all[0]!.id);
    expect(stored.header.get(BUS_HEADERS.streamVersion)).toBe('1');
    expect(stored.header.get(BUS_HEADERS.globalPosition)).toBe(String(all[0]!.globalPosition));

    const got: BusMessage[] = [];
    await b.subscribe({ consumer: 'reader', handler: (m) => void got.push(m) });
    await until(() => got.length === 6);
    expect(got.map((m) => m.event.id)).toEqual(all.map((e) => e.id));
    expect(got[3]!.event.streamVersion).toBe(2n);
    expect(got[3]!.event.data).toEqual({ i: 3 });
    expect(got[3]!.correlationId).toBe('corr-3');
  });

  it('shares a durable consumer between two connections: every message handled once, by both members', async () => {
    const { store, all } = await storeWithEvents(300, 10);
    cleanup.push(() => store.close());
    const names = uniqueBusNames('group');
    const a = await bus('group', names);
    const b = await openNatsEventBus({ url: NATS_URL, ...names });
    cleanup.push(() => b.close());
    const seen = new Map<string, number>();
    const lastVersion = new Map<string, bigint>();
    let outOfOrder = 0;
    const members = new Set<string>();
    const handler = (who: string) => async (m: BusMessage): Promise<void> => {
      members.add(who);
      seen.set(m.event.id, (seen.get(m.event.id) ?? 0) + 1);
      const prev = lastVersion.get(m.event.streamId) ?? 0n;
      if (m.event.streamVersion !== prev + 1n) outOfOrder++;
      lastVersion.set(m.event.streamId, m.event.streamVersion);
    };
    await a.subscribe({ consumer: 'workers', handler: handler('a'), concurrency: 4 });
    await b.subscribe({ consumer: 'workers', handler: handler('b'), concurrency: 4 });
    expect((await a.publishAll(all)).acks).toHaveLength(300);
    await until(() => seen.size === 300, 20_000);
    expect([...seen.values()].every((n) => n === 1)).toBe(true);
    expect(members.size).toBe(2);
    console.log(`group: 300 events, out-of-order deliveries across the two members without an inbox: ${outOfOrder}`);
  });

  it('naks with backoff and dead-letters a poison message after maxDeliver, visible in deadLetters()', async () => {
    const { store, all } = await storeWithEvents(3, 3);
    cleanup.push(() => store.close());
    const b = await bus('dlq');
    const attempts: number[] = [];
    const ok: string[] = [];
    await b.subscribe({
      consumer: 'picky',
      maxDeliver: 3,
      backoff: { initialDelayMs: 20, maxDelayMs: 50 },
      handler: (m) => {
        if (m.event.id === all[1]!.id) {
          attempts.push(m.deliveryCount);
          throw new Error('poison');
        }
        ok.push(m.event.id);
      },
    });
    await b.publishAll(all);
    await until(async () => (await b.deadLetters({ consumer: 'picky' })).length === 1, 15_000, 'dead letter');
    const [dead] = await b.deadLetters({ consumer: 'picky' });
    expect(attempts).toEqual([1, 2, 3]);
    expect(dead!.event.id).toBe(all[1]!.id);
    expect(dead!.deliveries).toBe(3);
    expect(dead!.error).toContain('poison');
    expect(dead!.subject).toBe(`${b.prefix}.acct.Happened`);
    expect(ok.sort()).toEqual([all[0]!.id, all[2]!.id].sort());
    console.log(`poison message: ${attempts.length} deliveries, then dead-lettered on ${b.prefix}.dlq.picky: ${JSON.stringify({ id: dead!.event.id, error: dead!.error })}`);
  });

  it('dead-letters a message whose last delivery was lost with its consumer (max-deliveries advisory)', async () => {
    const { store, all } = await storeWithEvents(2, 2);
    cleanup.push(() => store.close());
    const names = uniqueBusNames('adv');
    const members = [await bus('adv', names), ...(await Promise.all([1, 2].map(() => openNatsEventBus({ url: NATS_URL, ...names }))))];
    for (const m of members.slice(1)) cleanup.push(() => m.close());
    let crashes = 0;
    const ok: string[] = [];
    for (const member of members) {
      await member.subscribe({
        consumer: 'fragile',
        maxDeliver: 2,
        ackWaitMs: 1_000,
        handler: async (m) => {
          if (m.event.id !== all[0]!.id) return void ok.push(m.event.id);
          // The member "crashes" while handling: its connection goes away without an ack or a nak.
          crashes++;
          await (member as NatsEventBus).connection.close();
        },
      });
    }
    await members[0]!.publishAll(all);
    await until(() => crashes === 2, 15_000, 'two crashed deliveries');
    const alive = members.find((m) => !(m as NatsEventBus).connection.isClosed())!;
    await until(async () => (await alive.deadLetters({ consumer: 'fragile' })).length === 1, 15_000, 'dead letter from the advisory');
    const [dead] = await alive.deadLetters({ consumer: 'fragile' });
    expect(dead!.event.id).toBe(all[0]!.id);
    expect(dead!.deliveries).toBe(2);
    expect(dead!.error).toContain('ack wait expired');
    // At least once: a member may crash after handling the good message but before its ack reached the server.
    expect(new Set(ok)).toEqual(new Set([all[1]!.id]));
    console.log(`advisory: 2 deliveries lost with their consumers, dead-lettered by the live member: ${JSON.stringify({ id: dead!.event.id, error: dead!.error })}`);
  });

  it('fails with BusUnavailableError and a hint, in bounded time, when NATS is unreachable', async () => {
    const port = await freePort();
    const started = Date.now();
    const err = await openNatsEventBus({ url: `nats://127.0.0.1:${port}`, connectTimeoutMs: 2_000 }).catch((e: unknown) => e);
    const elapsed = Date.now() - started;
    expect(err).toBeInstanceOf(BusUnavailableError);
    expect(isTesseraError(err, 'BUS_UNAVAILABLE')).toBe(true);
    expect((err as BusUnavailableError).hint).toContain('nats-server');
    expect(elapsed).toBeLessThan(10_000); // bounded, not a timing assertion on speed
    await expect(openEventBus(`nats://127.0.0.1:${port}`, { connectTimeoutMs: 1_000 })).rejects.toBeInstanceOf(BusUnavailableError);
  });

  it('fails with BusUnavailableError when the server never answers, or has no JetStream', async () => {
    const sockets = new Set<Socket>();
    const silent = createServer((socket) => void sockets.add(socket.on('error', () => undefined)));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
    cleanup.push(() => new Promise<void>((r) => {
      for (const s of sockets) s.destroy();
      silent.close(() => r());
    }));
    const port = (silent.address() as AddressInfo).port;
    const err = await openNatsEventBus({ url: `nats://127.0.0.1:${port}`, connectTimeoutMs: 500 }).catch((e: unknown) => e);
    expect(isTesseraError(err, 'BUS_UNAVAILABLE')).toBe(true);
    const plain = await startThrowawayNats({ jetstream: false });
    cleanup.push(() => plain.destroy());
    const noJs = await openNatsEventBus({ url: plain.url, connectTimeoutMs: 2_000 }).catch((e: unknown) => e);
    expect(noJs).toBeInstanceOf(BusUnavailableError);
    expect((noJs as BusUnavailableError).hint).toContain('-js');
  });

  it('creates the stream with its subjects and limits, and refuses a second prefix on the same stream', async () => {
    const names = uniqueBusNames('cfg');
    streams.push(names.streamName);
    const b = await openNatsEventBus({ url: NATS_URL, ...names, maxAgeMs: 3_600_000, duplicateWindowMs: 60_000 });
    cleanup.push(() => b.close());
    const nc = await connect({ servers: NATS_URL });
    cleanup.push(() => nc.close());
    const { config } = await (await nc.jetstreamManager()).streams.info(names.streamName);
    expect(config.subjects).toEqual([`${names.prefix}.>`]);
    expect(config.max_age).toBe(3_600_000 * 1_000_000);
    expect(config.duplicate_window).toBe(60_000 * 1_000_000);
    await expect(openNatsEventBus({ url: NATS_URL, streamName: names.streamName, prefix: `${names.prefix}x` })).rejects.toBeInstanceOf(InvalidArgumentError);
    const overlapping = uniqueBusNames('cfg2');
    await expect(openNatsEventBus({ url: NATS_URL, streamName: overlapping.streamName, prefix: names.prefix })).rejects.toBeInstanceOf(InvalidArgumentError);
  });

  it('rejects invalid URLs, stream names, prefixes and consumer names with InvalidArgumentError', async () => {
    for (const bad of [{ url: 'http://x:1' }, { url: '' }, { url: NATS_URL, streamName: 'has.dot' }, { url: NATS_URL, streamName: 'a b' },
      { url: NATS_URL, streamName: 'x'.repeat(65) }, { url: NATS_URL, prefix: 'a.*' }, { url: NATS_URL, prefix: '$JS' }, { url: NATS_URL, prefix: 'a.' }]) {
      await expect(openNatsEventBus(bad)).rejects.toBeInstanceOf(InvalidArgumentError);
    }
    const b = await bus('bad');
    await expect(b.subscribe({ consumer: 'a>b', handler: () => undefined })).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(b.subscribe({ consumer: 'ok', eventType: 'x.y', handler: () => undefined })).rejects.toBeInstanceOf(InvalidArgumentError);
    const mem = await openEventBus(undefined);
    expect(mem.kind).toBe('in-process');
    await mem.close();
  });
});
