import { describe, expect, it } from 'vitest';
import { type EventStore, InvalidArgumentError, isTesseraError, StoreClosedError, TesseraError } from '../../../src/index.js';
import { type ConformanceContext, events, logSnapshot, withStore } from './harness.js';

type Call = (store: EventStore) => Promise<unknown>;
// Casts let the suite pass what a JavaScript caller (or a bad HTTP body) could pass.
const loose = (store: EventStore) => store as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;

const circular: Record<string, unknown> = { a: 1 };
circular.self = circular;

const appendCases: Array<[string, Call]> = [
  ['empty stream id', (s) => s.appendToStream('', events(1))],
  ['non-string stream id', (s) => loose(s).appendToStream!(42, events(1))],
  ['undefined stream id', (s) => loose(s).appendToStream!(undefined, events(1))],
  ['stream id over 512 bytes', (s) => s.appendToStream('x'.repeat(513), events(1))],
  ['multi-byte stream id over 512 bytes', (s) => s.appendToStream('é'.repeat(257), events(1))],
  ['stream id with U+0000', (s) => s.appendToStream('a\u0000b', events(1))],
  ['empty events array', (s) => s.appendToStream('bad', [])],
  ['events not an array', (s) => loose(s).appendToStream!('bad', { type: 'A', data: {} })],
  ['event not an object', (s) => loose(s).appendToStream!('bad', ['A'])],
  ['empty event type', (s) => s.appendToStream('bad', [{ type: '', data: {} }])],
  ['non-string event type', (s) => loose(s).appendToStream!('bad', [{ type: 7, data: {} }])],
  ['event type over 256 bytes', (s) => s.appendToStream('bad', [{ type: 't'.repeat(257), data: {} }])],
  ['undefined data', (s) => s.appendToStream('bad', [{ type: 'A', data: undefined }])],
  ['BigInt in data', (s) => s.appendToStream('bad', [{ type: 'A', data: { n: 1n } }])],
  ['circular data', (s) => s.appendToStream('bad', [{ type: 'A', data: circular }])],
  ['function in data', (s) => s.appendToStream('bad', [{ type: 'A', data: { f: () => 1 } }])],
  ['symbol in data', (s) => s.appendToStream('bad', [{ type: 'A', data: { s: Symbol('x') } }])],
  ['NaN in data', (s) => s.appendToStream('bad', [{ type: 'A', data: { n: Number.NaN } }])],
  ['Infinity in data', (s) => s.appendToStream('bad', [{ type: 'A', data: [Infinity] }])],
  ['U+0000 in data', (s) => s.appendToStream('bad', [{ type: 'A', data: { t: 'a\u0000' } }])],
  ['U+0000 in a data key', (s) => s.appendToStream('bad', [{ type: 'A', data: { 'k\u0000': 1 } }])],
  ['BigInt in metadata', (s) => s.appendToStream('bad', [{ type: 'A', data: {}, metadata: { n: 1n } }])],
  ['metadata not an object', (s) => loose(s).appendToStream!('bad', [{ type: 'A', data: {}, metadata: 'm' }])],
  ['empty event id', (s) => s.appendToStream('bad', [{ id: '', type: 'A', data: {} }])],
  ['same id twice in one batch', (s) => s.appendToStream('bad', [{ id: 'same', type: 'A', data: {} }, { id: 'same', type: 'A', data: {} }])],
  ['a bad event late in a batch', (s) => s.appendToStream('bad', [...events(5), { type: 'A', data: { n: 1n } }])],
  ['negative expectedVersion', (s) => s.appendToStream('bad', events(1), { expectedVersion: -1n })],
  ['fractional expectedVersion', (s) => loose(s).appendToStream!('bad', events(1), { expectedVersion: 1.5 })],
  ['unknown expectedVersion string', (s) => loose(s).appendToStream!('bad', events(1), { expectedVersion: 'latest' })],
  ['options not an object', (s) => loose(s).appendToStream!('bad', events(1), 'no_stream')],
  ['event over the size limit', (s) => s.appendToStream('bad', [{ type: 'A', data: { blob: 'x'.repeat(2048) } }])],
];

const readCases: Array<[string, Call]> = [
  ['readStream with empty id', (s) => s.readStream('')],
  ['readStream maxCount 0', (s) => s.readStream('ok', { maxCount: 0 })],
  ['readStream maxCount negative', (s) => s.readStream('ok', { maxCount: -3 })],
  ['readStream maxCount fractional', (s) => s.readStream('ok', { maxCount: 1.5 })],
  ['readStream negative fromVersion', (s) => s.readStream('ok', { fromVersion: -1n })],
  ['readStream fractional fromVersion', (s) => loose(s).readStream!('ok', { fromVersion: 0.5 })],
  ['readStream bad direction', (s) => loose(s).readStream!('ok', { direction: 'sideways' })],
  ['readAll maxCount 0', (s) => s.readAll({ maxCount: 0 })],
  ['readAll negative fromPosition', (s) => s.readAll({ fromPosition: -5n })],
  ['readAll types not an array', (s) => loose(s).readAll!({ types: 'A' })],
  ['readAll empty type name', (s) => s.readAll({ types: [''] })],
  ['streamExists with non-string id', (s) => loose(s).streamExists!(null)],
  ['readEventsById with a non-array', (s) => loose(s).readEventsById!('e-1')],
  ['readEventsById with an empty id', (s) => s.readEventsById([''])],
  ['aggregateStream without evolve', (s) => loose(s).aggregateStream!('ok', { initialState: () => 0 })],
  ['aggregateStream with bad asOf.time', (s) => s.aggregateStream('ok', { initialState: () => 0, evolve: (x) => x, asOf: { time: new Date('nope') } })],
  ['aggregateStream with snapshot every 0', (s) => s.aggregateStream('ok', { initialState: () => 0, evolve: (x) => x, snapshot: { schemaVersion: 1, every: 0 } })],
  ['subscribeToAll without handler', async (s) => loose(s).subscribeToAll!({})],
  ['subscribeToAll negative fromPosition', async (s) => s.subscribeToAll({ fromPosition: -1n, handler: () => undefined })],
  ['streamAll with batchSize 0', async (s) => {
    for await (const _ of s.streamAll({ batchSize: 0 })) break;
  }],
];

/** Every public entry point refuses bad input with InvalidArgumentError and changes nothing. */
export function badInputCases(ctx: ConformanceContext): void {
  describe('bad input', () => {
    it.each([...appendCases, ...readCases])('refuses %s with InvalidArgumentError and writes nothing', (_name, call) =>
      withStore(
        ctx,
        async (store) => {
          await store.appendToStream('ok', events(2));
          const before = await logSnapshot(store);
          const err = await Promise.resolve().then(() => call(store)).then(
            () => null,
            (e: unknown) => e,
          );
          expect(err).toBeInstanceOf(InvalidArgumentError);
          expect(err).toBeInstanceOf(TesseraError);
          expect(isTesseraError(err, 'INVALID_ARGUMENT')).toBe(true);
          expect((err as InvalidArgumentError).hint.length).toBeGreaterThan(10);
          expect((err as InvalidArgumentError).argument.length).toBeGreaterThan(0);
          expect(await logSnapshot(store)).toBe(before);
          expect(await store.streamExists('bad')).toBe(false);
        },
        { maxEventBytes: 1024 },
      ),
    );

    it('accepts an event exactly at the size limit', () =>
      withStore(
        ctx,
        async (store) => {
          const data = 'x'.repeat(1024 - 2); // JSON string quotes make it exactly 1024 bytes
          await store.appendToStream('limit', [{ type: 'A', data }]);
          expect((await store.readStream('limit'))[0]!.data).toBe(data);
        },
        { maxEventBytes: 1024 },
      ));
  });

  describe('closed store', () => {
    it('fails every call with StoreClosedError after close, never hangs; close is idempotent', () =>
      withStore(ctx, async (store) => {
        await store.appendToStream('c', events(1));
        await store.close();
        await store.close();
        const calls: Call[] = [
          (s) => s.appendToStream('c', events(1)),
          (s) => s.readStream('c'),
          (s) => s.readAll(),
          (s) => s.streamExists('c'),
          (s) => s.aggregateStream('c', { initialState: () => 0, evolve: (x) => x }),
          async (s) => s.subscribeToAll({ handler: () => undefined }),
          async (s) => {
            for await (const _ of s.streamAll()) break;
          },
        ];
        for (const call of calls) {
          const err = await Promise.resolve().then(() => call(store)).then(() => null, (e: unknown) => e);
          expect(err).toBeInstanceOf(StoreClosedError);
          expect(isTesseraError(err, 'STORE_CLOSED')).toBe(true);
        }
      }));

    it('stops live subscriptions on close', () =>
      withStore(ctx, async (store) => {
        const sub = store.subscribeToAll({ handler: () => undefined });
        await store.close();
        await expect(sub.done).resolves.toBeUndefined();
      }));
  });
}
