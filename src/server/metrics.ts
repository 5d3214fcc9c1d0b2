import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { ProjectionStatus, SagaStatus } from '../index.js';

/**
 * Where the gauges read their values when Prometheus scrapes (polled, so they work for any process's work).
 * @example
 * ```ts
 * metrics.bind({ projections: () => projectionStatus(db, store), sagaCounts: () => sagaCounts(db) });
 * ```
 */
export interface MetricSources {
  projections?(): Promise<ProjectionStatus[]>;
  sagaCounts?(): Promise<Partial<Record<SagaStatus, number>>>;
}

/**
 * The service's prom-client metrics, in their own registry.
 * @example
 * ```ts
 * metrics.conflicts.inc();
 * const text = await metrics.registry.metrics();
 * ```
 */
export interface TesseraMetrics {
  readonly registry: Registry;
  readonly eventsAppended: Counter<'type'>;
  readonly appendCalls: Counter<'outcome'>;
  readonly conflicts: Counter;
  readonly appendSeconds: Histogram;
  readonly stepSeconds: Histogram<'saga' | 'step' | 'phase' | 'outcome'>;
  readonly httpSeconds: Histogram<'method' | 'route' | 'status'>;
  /** Points the projection and saga gauges at their sources (the last call wins). */
  bind(sources: MetricSources): void;
}

/**
 * Creates Tessera's metrics: events appended by type, append calls and conflicts, append latency, projection
 * position and lag, sagas by status, saga step durations, HTTP request durations, plus Node's default metrics.
 *
 * @example
 * ```ts
 * const metrics = createMetrics();
 * metrics.bind({ projections: () => projector.status() });
 * console.log(await metrics.registry.metrics());
 * ```
 */
export function createMetrics(options: { defaultMetrics?: boolean } = {}): TesseraMetrics {
  const registry = new Registry();
  if (options.defaultMetrics !== false) collectDefaultMetrics({ register: registry });
  let sources: MetricSources = {};
  const registers = [registry];
  const buckets = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
  const projectionGauge = (name: string, help: string, pick: (s: ProjectionStatus) => number | null): Gauge<'projection'> =>
    new Gauge({
      name, help, labelNames: ['projection'], registers,
      async collect() {
        this.reset();
        for (const s of (await sources.projections?.()) ?? []) {
          const v = pick(s);
          if (v !== null) this.set({ projection: s.name }, v);
        }
      },
    });
  projectionGauge('tessera_projection_position', 'Global position the projection has applied', (s) => Number(s.position));
  projectionGauge('tessera_projection_lag_events', 'Events not yet applied by the projection', (s) => (s.lagEvents === null ? null : Number(s.lagEvents)));
  projectionGauge('tessera_projection_lag_seconds', 'Age of the oldest event not yet applied', (s) => (s.lagMs === null ? null : s.lagMs / 1000));
  projectionGauge('tessera_projection_failed', '1 when the projection is parked on a failing event', (s) => (s.state === 'failed' ? 1 : 0));
  new Gauge({
    name: 'tessera_sagas', help: 'Sagas by status', labelNames: ['status'], registers,
    async collect() {
      this.reset();
      for (const [status, n] of Object.entries((await sources.sagaCounts?.()) ?? {})) this.set({ status }, n);
    },
  });
  return {
    registry,
    eventsAppended: new Counter({ name: 'tessera_events_appended_total', help: 'Events appended to the log, by type (seen by the live feed)', labelNames: ['type'], registers }),
    appendCalls: new Counter({ name: 'tessera_append_calls_total', help: 'appendToStream calls through the instrumented store', labelNames: ['outcome'], registers }),
    conflicts: new Counter({ name: 'tessera_append_conflicts_total', help: 'Appends rejected by the expected-version check', registers }),
    appendSeconds: new Histogram({ name: 'tessera_append_duration_seconds', help: 'appendToStream latency', buckets, registers }),
    stepSeconds: new Histogram({ name: 'tessera_saga_step_duration_seconds', help: 'Saga step attempt durations', labelNames: ['saga', 'step', 'phase', 'outcome'], buckets, registers }),
    httpSeconds: new Histogram({ name: 'tessera_http_request_duration_seconds', help: 'HTTP request durations', labelNames: ['method', 'route', 'status'], buckets, registers }),
    bind(s) {
      sources = s;
    },
  };
}
