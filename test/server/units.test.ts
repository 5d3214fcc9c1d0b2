import { type Span, trace, type Tracer, type TracerProvider } from '@opentelemetry/api';
import fc from 'fast-check';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { orderDecider, OrderStateError } from '../../examples/orders/order.js';
import { deciderSpec, defineSaga, type EventStore, openSagaEngine, openSqliteEventStore, type RecordedEvent, storeDatabase } from '../../src/index.js';
import { createMetrics, instrumentSaga, instrumentStore, logHead, StepTimeline } from '../../src/server/index.js';
import { tempDir } from '../support/tmp.js';

const tmp = tempDir('tessera-server-units-');
afterAll(() => tmp.remove());

/** A read-only store over given global positions (sparse, as on PostgreSQL): only readAll is used. */
function storeAt(positions: bigint[]): EventStore {
  const sorted = [...positions].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return {
    readAll: async (o: { fromPosition?: bigint; maxCount?: number } = {}) =>
      sorted.filter((p) => p >= (o.fromPosition ?? 1n)).slice(0, o.maxCount ?? 1000).map((p) => ({ globalPosition: p }) as RecordedEvent),
  } as unknown as EventStore;
}

describe('server building blocks', () => {
  it('logHead finds the newest position whatever the gaps', async () => {
    await fc.assert(fc.asyncProperty(fc.uniqueArray(fc.bigInt({ min: 1n, max: 2n ** 40n }), { maxLength: 40 }), async (positions) => {
      const expected = positions.reduce((m, p) => (p > m ? p : m), 0n);
      expect(await logHead(storeAt(positions))).toBe(expected);
    }), { numRuns: 200 });
  });

  it('instrumentStore counts appends and conflicts, and stays a store Tessera recognises', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    const raw = await openSqliteEventStore({ path: join(tmp.dir, 'instrumented.db') });
    try {
      const store = instrumentStore(raw, metrics);
      expect(storeDatabase(store)).toBe(storeDatabase(raw));
      await store.appendToStream('s-1', [{ type: 'A', data: {} }], { expectedVersion: 'no_stream' });
      await expect(store.appendToStream('s-1', [{ type: 'A', data: {} }], { expectedVersion: 'no_stream' })).rejects.toMatchObject({ code: 'CONCURRENCY_CONFLICT' });
      const text = await metrics.registry.metrics();
      expect(text).toMatch(/^tessera_append_calls_total\{outcome="ok"\} 1$/m);
      expect(text).toMatch(/^tessera_append_calls_total\{outcome="conflict"\} 1$/m);
      expect(text).toMatch(/^tessera_append_conflicts_total 1$/m);
      expect((await store.readStream('s-1')).length).toBe(1);
    } finally {
      await raw.close();
    }
  });

  it('StepTimeline keeps attempts in order and forgets the oldest sagas past its bound', () => {
    const t = new StepTimeline(2);
    t.begin('a', 'reserve', 'do', 1, 100)(130, null);
    t.begin('a', 'charge', 'do', 1, 130)(131, 'declined');
    t.begin('b', 'reserve', 'do', 1, 200);
    t.begin('c', 'reserve', 'do', 1, 300);
    expect(t.get('a')).toEqual([]);
    expect(t.get('b')).toEqual([{ step: 'reserve', phase: 'do', attempt: 1, startedAt: 200, durationMs: null, error: null }]);
    expect(t.get('c')).toHaveLength(1);
  });

  it('the Order decider: placed once, confirmed or rejected once', () => {
    const spec = deciderSpec(orderDecider);
    const placed = { type: 'OrderPlaced', data: { orderId: 'o', items: [{ sku: 'a', qty: 1 }], amount: 5, address: null } };
    spec.given([]).when({ type: 'PlaceOrder', orderId: 'o', items: [{ sku: 'a', qty: 1 }], amount: 5 }).then([placed]);
    spec.given([placed]).when({ type: 'PlaceOrder', orderId: 'o', items: [], amount: 1 }).thenThrows(OrderStateError);
    spec.given([placed]).when({ type: 'ConfirmOrder', orderId: 'o' }).then([{ type: 'OrderConfirmed', data: { orderId: 'o' } }]);
    spec.given([placed, { type: 'OrderConfirmed', data: { orderId: 'o' } }]).when({ type: 'ConfirmOrder', orderId: 'o' }).then([]);
    spec.given([placed, { type: 'OrderRejected', data: { orderId: 'o', reason: 'x' } }]).when({ type: 'ConfirmOrder', orderId: 'o' }).thenThrows(OrderStateError);
    spec.given([]).when({ type: 'RejectOrder', orderId: 'o', reason: 'x' }).then([]);
    spec.given([placed]).when({ type: 'RejectOrder', orderId: 'o', reason: 'x' }).then([{ type: 'OrderRejected', data: { orderId: 'o', reason: 'x' } }]);
  });

  it('emits OpenTelemetry spans for appends and saga step attempts once an SDK is registered', async () => {
    const ended: Array<{ name: string; error: boolean }> = [];
    const span = (name: string): Span => {
      let error = false;
      const s = { setStatus: (st: { code: number }) => ((error = st.code === 2), s), end: () => void ended.push({ name, error }) };
      return s as unknown as Span;
    };
    const tracer = {
      startSpan: span,
      startActiveSpan: (name: string, _o: unknown, fn: (s: Span) => unknown) => fn(span(name)),
    } as unknown as Tracer;
    trace.setGlobalTracerProvider({ getTracer: () => tracer } as TracerProvider);
    const raw = await openSqliteEventStore({ path: join(tmp.dir, 'spans.db') });
    try {
      const metrics = createMetrics({ defaultMetrics: false });
      const store = instrumentStore(raw, metrics);
      await store.appendToStream('t-1', [{ type: 'A', data: {} }]);
      const saga = instrumentSaga(defineSaga<{ fail: boolean }>({
        name: 'Traced', version: 1,
        steps: [
          { name: 'one', action: async () => 1, compensate: async () => undefined },
          { name: 'two', retry: { maxAttempts: 1 }, action: async ({ input }) => { if (input.fail) throw new Error('boom'); } },
        ],
      }), { metrics, timeline: new StepTimeline() });
      const engine = await openSagaEngine({ store, sagas: [saga] });
      await engine.start('Traced', 'tr-1', { fail: true });
      expect((await engine.waitForTerminal('tr-1', { timeoutMs: 10_000 })).status).toBe('compensated');
      await engine.stop();
      expect(ended).toContainEqual({ name: 'tessera.append', error: false });
      expect(ended).toContainEqual({ name: 'saga Traced.one do', error: false });
      expect(ended).toContainEqual({ name: 'saga Traced.two do', error: true });
      expect(ended).toContainEqual({ name: 'saga Traced.one undo', error: false });
      expect(await metrics.registry.getSingleMetricAsString('tessera_saga_step_duration_seconds')).toMatch(/_count\{saga="Traced",step="two",phase="do",outcome="error"\} 1/);
    } finally {
      trace.disable();
      await raw.close();
    }
  });
});
