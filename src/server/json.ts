import type { RecordedEvent, SagaInstance } from '../index.js';

/**
 * An event as the HTTP API and the dashboard show it (bigints as decimal strings, dates as ISO text).
 * @example
 * ```ts
 * const { events } = (await (await fetch(`${url}/api/log`)).json()) as { events: EventView[] };
 * ```
 */
export interface EventView {
  id: string;
  streamId: string;
  streamVersion: string;
  globalPosition: string;
  type: string;
  data: unknown;
  metadata: Record<string, unknown> | null;
  recordedAt: string;
}

/**
 * Turns a recorded event into its JSON view.
 *
 * @example
 * ```ts
 * reply.send((await store.readStream('order-1')).map(eventView));
 * ```
 */
export function eventView(e: RecordedEvent): EventView {
  return {
    id: e.id,
    streamId: e.streamId,
    streamVersion: e.streamVersion.toString(),
    globalPosition: e.globalPosition.toString(),
    type: e.type,
    data: e.data,
    metadata: e.metadata ?? null,
    recordedAt: e.recordedAt.toISOString(),
  };
}

/**
 * A saga instance as JSON (dates as ISO text).
 * @example
 * ```ts
 * const saga = (await (await fetch(`${url}/api/sagas/o-1`)).json()) as SagaView;
 * ```
 */
export type SagaView = Omit<SagaInstance, 'createdAt' | 'updatedAt' | 'error'> & { error: string | null; createdAt: string; updatedAt: string };

/**
 * Turns a saga instance into its JSON view.
 *
 * @example
 * ```ts
 * reply.send((await engine.list()).map(sagaView));
 * ```
 */
export function sagaView(s: SagaInstance): SagaView {
  return { ...s, error: s.error ?? null, createdAt: s.createdAt.toISOString(), updatedAt: s.updatedAt.toISOString() };
}

/** JSON.stringify that writes bigints as decimal strings (SSE payloads carry projection positions). */
export function toJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
}
