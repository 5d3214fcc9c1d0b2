import { SpanStatusCode, trace } from '@opentelemetry/api';
import { isTesseraError } from '../errors.js';
import type { EventStore } from '../eventstore/index.js';
import { defineSaga, type SagaDefinition, type SagaStepDefinition, type StepContext } from '../saga/index.js';
import type { TesseraMetrics } from './metrics.js';
import type { StepTimeline } from './timeline.js';

const tracer = trace.getTracer('tessera');

/**
 * Wraps an event store so each `appendToStream` is counted, timed and traced (an OpenTelemetry span; a no-op
 * unless an SDK is configured), and conflicts are counted. It is a Proxy over the store itself, so it stays
 * usable wherever Tessera needs the store's own database (`storeDatabase`, sagas, projectors).
 *
 * @example
 * ```ts
 * const store = instrumentStore(await openSqliteEventStore({ path }), createMetrics());
 * ```
 */
export function instrumentStore<S extends EventStore>(store: S, metrics: TesseraMetrics): S {
  const append: EventStore['appendToStream'] = (streamId, events, opts) =>
    tracer.startActiveSpan('tessera.append', { attributes: { 'tessera.stream_id': streamId, 'tessera.events': events.length } }, async (span) => {
      const stop = metrics.appendSeconds.startTimer();
      try {
        const result = await store.appendToStream(streamId, events, opts);
        metrics.appendCalls.inc({ outcome: 'ok' });
        return result;
      } catch (e) {
        const conflict = isTesseraError(e, 'CONCURRENCY_CONFLICT');
        if (conflict) metrics.conflicts.inc();
        metrics.appendCalls.inc({ outcome: conflict ? 'conflict' : 'error' });
        span.setStatus({ code: SpanStatusCode.ERROR, message: e instanceof Error ? e.message : String(e) });
        throw e;
      } finally {
        stop();
        span.end();
      }
    });
  return new Proxy(store, {
    get(target, prop) {
      if (prop === 'appendToStream') return append;
      const value: unknown = Reflect.get(target, prop, target);
      // Methods run on the real store: its private fields are not reachable through the proxy.
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

/**
 * Returns a copy of a saga definition whose step actions and compensations are timed into a {@link StepTimeline}
 * and the step-duration histogram, each attempt in an OpenTelemetry span.
 *
 * @example
 * ```ts
 * const engine = await openSagaEngine({ store, sagas: [instrumentSaga(orderSaga(services), { metrics, timeline })] });
 * ```
 */
export function instrumentSaga<I>(definition: SagaDefinition<I>, o: { metrics: TesseraMetrics; timeline: StepTimeline; now?: () => number }): SagaDefinition<I> {
  const now = o.now ?? Date.now;
  const timed = (step: string, phase: 'do' | 'undo', fn: (ctx: StepContext<I>) => Promise<unknown>) => (ctx: StepContext<I>) =>
    tracer.startActiveSpan(`saga ${definition.name}.${step} ${phase}`, { attributes: { 'tessera.saga_id': ctx.sagaId, 'tessera.attempt': ctx.attempt } }, async (span) => {
      const start = now();
      const end = o.timeline.begin(ctx.sagaId, step, phase, ctx.attempt, start);
      const observe = (outcome: string) => metrics().observe({ saga: definition.name, step, phase, outcome }, (now() - start) / 1000);
      try {
        const result = await fn(ctx);
        end(now(), null);
        observe('ok');
        return result;
      } catch (e) {
        const message = e instanceof Error ? e.message : String(e);
        end(now(), message);
        observe('error');
        span.setStatus({ code: SpanStatusCode.ERROR, message });
        throw e;
      } finally {
        span.end();
      }
    });
  const metrics = () => o.metrics.stepSeconds;
  const steps = definition.steps.map((s): SagaStepDefinition<I> => {
    const compensate = s.compensate;
    return {
      ...s,
      action: timed(s.name, 'do', (ctx) => s.action(ctx)),
      ...(compensate === undefined ? {} : { compensate: timed(s.name, 'undo', async (ctx) => compensate(ctx)) as (ctx: StepContext<I>) => Promise<void> }),
    };
  });
  const { __sagaDefinition: _brand, ...input } = definition;
  return defineSaga<I>({ ...input, steps });
}
