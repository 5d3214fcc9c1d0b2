import { InvalidArgumentError } from '../errors.js';
import type { RecordedEvent } from '../eventstore/types.js';
import { describe } from '../support/validate.js';

/** Checks that `value` is a recorded event (as read from a store) before it is published. */
export function requireRecordedEvent(value: unknown, argument = 'event'): RecordedEvent {
  const e = value as Partial<RecordedEvent> | null;
  const ok =
    typeof e === 'object' &&
    e !== null &&
    typeof e.id === 'string' &&
    e.id.length > 0 &&
    typeof e.type === 'string' &&
    e.type.length > 0 &&
    typeof e.streamId === 'string' &&
    e.streamId.length > 0 &&
    typeof e.streamVersion === 'bigint' &&
    typeof e.globalPosition === 'bigint' &&
    e.recordedAt instanceof Date;
  if (!ok) {
    throw new InvalidArgumentError(
      argument,
      `${describe(value)} is not a recorded event`,
      'Publish events read from a store (readAll, readStream, subscribeToAll): they carry id, type, streamId, streamVersion, globalPosition and recordedAt.',
    );
  }
  return e as RecordedEvent;
}
