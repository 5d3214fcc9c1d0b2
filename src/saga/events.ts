import type { NewEvent } from '../eventstore/types.js';

/**
 * Lifecycle events a saga appends to its stream `saga-<id>`, in the same transaction as the status change
 * they report (the store is the outbox: a subscriber sees exactly the transitions that committed).
 */
export type SagaLifecycleEventType =
  | 'SagaStarted'
  | 'SagaCompleted'
  | 'SagaCompensating'
  | 'SagaCancelling'
  | 'SagaCompensated'
  | 'SagaCancelled'
  | 'SagaCompensationFailed'
  | 'SagaCompensationRetried';

/** Data of every lifecycle event. */
export interface SagaLifecycleData {
  sagaId: string;
  sagaName: string;
  version: number;
  status: string;
  error?: string;
}

/** The stream a saga's lifecycle events go to. */
export function sagaStreamId(sagaId: string): string {
  return `saga-${sagaId}`;
}

const TYPE_BY_STATUS: Record<string, SagaLifecycleEventType> = {
  running: 'SagaStarted',
  completed: 'SagaCompleted',
  compensating: 'SagaCompensating',
  cancelling: 'SagaCancelling',
  compensated: 'SagaCompensated',
  cancelled: 'SagaCancelled',
  compensation_failed: 'SagaCompensationFailed',
};

/** The lifecycle event for entering `status` (none for statuses without one, e.g. `waiting`). */
export function lifecycleEvent(
  o: { sagaId: string; sagaName: string; version: number; status: string; error?: string | null },
  type: SagaLifecycleEventType | undefined = TYPE_BY_STATUS[o.status],
): NewEvent[] {
  if (type === undefined) return [];
  const data: SagaLifecycleData = { sagaId: o.sagaId, sagaName: o.sagaName, version: o.version, status: o.status };
  if (o.error !== undefined && o.error !== null) data.error = o.error;
  return [{ type, data, metadata: { correlationId: o.sagaId } }];
}
