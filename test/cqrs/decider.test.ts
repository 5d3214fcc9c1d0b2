import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  ConcurrencyError,
  deciderSpec,
  type EventStore,
  handleCommand,
  InvalidArgumentError,
} from '../../src/index.js';
import { ADAPTERS, type CqrsAdapter } from './fixtures/adapters.js';
import { added, CartClosedError, cartDecider } from './fixtures/cart.js';

const spec = deciderSpec(cartDecider);

describe('decider spec (Given/When/Then)', () => {
  it('checks decided events, state and errors', () => {
    spec.given([]).when({ type: 'AddItem', sku: 'A', qty: 2, price: 5 }).then([{ type: 'ItemAdded', data: { sku: 'A', qty: 2, price: 5 } }]);
    spec.given([added('A', 2, 5)]).when({ type: 'Checkout' }).then([{ type: 'CheckedOut', data: { total: 10 } }]);
    spec.given([added('A', 2, 5)]).when({ type: 'Checkout' }).thenState({ status: 'checked_out', items: { A: 2 }, total: 10 });
    spec.given([]).when({ type: 'RemoveItem', sku: 'A' }).thenNothingHappened();
    spec.given([added('A'), { type: 'CheckedOut', data: { total: 10 } }]).when({ type: 'Checkout' }).thenThrows(CartClosedError);
    spec.given([]).when({ type: 'Checkout' }).thenThrows((e) => e instanceof Error && /empty/.test(e.message));
  });

  it('fails loudly when the expectation is wrong', () => {
    expect(() => spec.given([]).when({ type: 'AddItem', sku: 'A', qty: 1, price: 1 }).then([])).toThrow();
    expect(() => spec.given([]).when({ type: 'AddItem', sku: 'A', qty: 1, price: 1 }).thenThrows()).toThrow(/expected decide to throw/);
    expect(() => spec.given([]).when({ type: 'Checkout' }).thenThrows(CartClosedError)).toThrow(/unexpected error/);
  });
});

for (const { name, create } of ADAPTERS) describe(`handleCommand (${name})`, () => {
  let store: EventStore;
  let adapter: CqrsAdapter;
  beforeEach(async () => {
    adapter = create();
  });
  afterEach(async () => adapter.cleanup());
  const openSqliteEventStore = (): Promise<EventStore> => adapter.openStore();

  it('loads, decides, appends and returns the new state and position', async () => {
    store = await openSqliteEventStore();
    const r1 = await handleCommand(store, 'cart-1', { type: 'AddItem', sku: 'A', qty: 2, price: 5 }, cartDecider);
    expect(r1.nextExpectedVersion).toBe(1n);
    expect(r1.events.map((e) => e.type)).toEqual(['ItemAdded']);
    expect(r1.lastGlobalPosition).toBe(r1.events[0]!.globalPosition);
    const r2 = await handleCommand(store, 'cart-1', { type: 'Checkout' }, cartDecider);
    expect(r2.state).toEqual({ status: 'checked_out', items: { A: 2 }, total: 10 });
    expect(r2.nextExpectedVersion).toBe(2n);
    await expect(handleCommand(store, 'cart-1', { type: 'Checkout' }, cartDecider)).rejects.toBeInstanceOf(CartClosedError);
    const none = await handleCommand(store, 'cart-2', { type: 'RemoveItem', sku: 'A' }, cartDecider);
    expect(none).toEqual({ state: cartDecider.initialState(), events: [], nextExpectedVersion: 0n, lastGlobalPosition: 0n });
  });

  it('returns the first result for a repeated command id and appends nothing', async () => {
    store = await openSqliteEventStore();
    const cmd = { type: 'AddItem', sku: 'A', qty: 1, price: 3 } as const;
    const first = await handleCommand(store, 'cart-1', cmd, cartDecider, { commandId: 'cmd-1' });
    await handleCommand(store, 'cart-1', { type: 'AddItem', sku: 'B', qty: 1, price: 4 }, cartDecider);
    const again = await handleCommand(store, 'cart-1', cmd, cartDecider, { commandId: 'cmd-1' });
    expect(again).toEqual(first);
    expect(first.events[0]!.id).toBe('cmd-1:0');
    expect((await store.readStream('cart-1')).length).toBe(2);
    await expect(handleCommand(store, 'cart-9', cmd, cartDecider, { commandId: 'cmd-1' })).rejects.toBeInstanceOf(InvalidArgumentError);
  });

  it('returns all events of a repeated command that appended more than a page (150)', async () => {
    store = await openSqliteEventStore();
    const bulk = { ...cartDecider, decide: () => Array.from({ length: 150 }, (_, i) => added(`S${i}`, 1, 1)) as ReturnType<typeof cartDecider.decide> };
    const first = await handleCommand(store, 'bulk', { type: 'Checkout' }, bulk, { commandId: 'bulk-1' });
    await handleCommand(store, 'bulk', { type: 'AddItem', sku: 'X', qty: 1, price: 1 }, cartDecider);
    const again = await handleCommand(store, 'bulk', { type: 'Checkout' }, bulk, { commandId: 'bulk-1' });
    expect(again.events.length).toBe(150);
    expect(again).toEqual(first);
    expect((await store.readStream('bulk')).length).toBe(151);
  });

  it('handles one command id sent 10 times concurrently exactly once', async () => {
    store = await openSqliteEventStore();
    const cmd = { type: 'AddItem', sku: 'A', qty: 1, price: 7 } as const;
    const results = await Promise.all(Array.from({ length: 10 }, () => handleCommand(store, 'dup', cmd, cartDecider, { commandId: 'same', maxRetries: 20 })));
    expect((await store.readStream('dup')).length).toBe(1);
    for (const r of results) expect(r).toEqual(results[0]);
    expect(results[0]!.state.total).toBe(7);
  });

  it('retries on conflicts: 20 concurrent commands on one stream all land', async () => {
    store = await openSqliteEventStore();
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        handleCommand(store, 'hot', { type: 'AddItem', sku: `S${i}`, qty: 1, price: 1 }, cartDecider, { maxRetries: 50, commandId: `c${i}` }),
      ),
    );
    expect(new Set(results.map((r) => r.nextExpectedVersion)).size).toBe(20);
    const { state } = await store.aggregateStream('hot', cartDecider);
    expect(state.total).toBe(20);
  });

  it('gives up with ConcurrencyError when maxRetries is 0 and a writer got in between', async () => {
    store = await openSqliteEventStore();
    const real = store;
    let interfere = true;
    // A store whose next append is preceded by another writer's append to the same stream.
    const racy: EventStore = {
      ...Object.fromEntries(['readStream', 'readAll', 'readEventsById', 'aggregateStream', 'streamExists', 'close'].map((m) => [m, (real as unknown as Record<string, (...a: unknown[]) => unknown>)[m]!.bind(real)])),
      appendToStream: async (id, events, o) => {
        if (interfere) {
          interfere = false;
          await real.appendToStream(id, [added('X')]);
        }
        return real.appendToStream(id, events, o);
      },
    } as EventStore;
    await expect(handleCommand(racy, 'r', { type: 'AddItem', sku: 'A', qty: 1, price: 1 }, cartDecider, { maxRetries: 0 })).rejects.toBeInstanceOf(ConcurrencyError);
    interfere = true;
    const ok = await handleCommand(racy, 'r', { type: 'AddItem', sku: 'B', qty: 1, price: 1 }, cartDecider, { maxRetries: 1 });
    expect(ok.nextExpectedVersion).toBe(3n);
  });

  it('uses a snapshot when asked', async () => {
    store = await openSqliteEventStore();
    for (let i = 0; i < 5; i++) {
      await handleCommand(store, 'snap', { type: 'AddItem', sku: 'A', qty: 1, price: 1 }, cartDecider, { snapshot: { schemaVersion: 1, every: 2 } });
    }
    const r = await handleCommand(store, 'snap', { type: 'Checkout' }, cartDecider, { snapshot: { schemaVersion: 1, every: 2 } });
    expect(r.state.total).toBe(5);
  });

  it('rejects bad input with InvalidArgumentError', async () => {
    store = await openSqliteEventStore();
    const cmd = { type: 'Checkout' } as const;
    await expect(handleCommand(store, '', cmd, cartDecider)).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(handleCommand(store, 's', cmd, { ...cartDecider, decide: 1 } as never)).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(handleCommand(store, 's', cmd, cartDecider, { maxRetries: -1 })).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(handleCommand(store, 's', cmd, cartDecider, { commandId: 'x'.repeat(121) })).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(handleCommand({} as EventStore, 's', cmd, cartDecider)).rejects.toBeInstanceOf(InvalidArgumentError);
  });
});
