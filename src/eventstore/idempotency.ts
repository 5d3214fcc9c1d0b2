import { isDeepStrictEqual } from 'node:util';
import { EventIdConflictError } from '../errors.js';
import type { PreparedEvent, StoredEvent } from './backend.js';
import type { AppendResult } from './types.js';

/** An already-stored event found by id during an append (`data` parsed, or JSON text on SQLite). */
export type ExistingEvent = Pick<StoredEvent, 'id' | 'streamId' | 'streamVersion' | 'globalPosition' | 'type' | 'data'>;

/**
 * Decides what an append whose event ids are partly or wholly stored already must do.
 * - none stored: `null`, append normally;
 * - all stored, same stream, type and data: the append is a retry; return the original result, store nothing;
 * - anything else: the ids are being re-used for different events, which is refused.
 * Metadata is not compared: a retry may legitimately carry a new trace id or timestamp.
 */
export function resolveIdempotentAppend(
  streamId: string,
  events: readonly PreparedEvent[],
  existing: readonly ExistingEvent[],
): AppendResult | null {
  if (existing.length === 0) return null;
  const byId = new Map(existing.map((e) => [e.id, e]));
  let nextExpectedVersion = 0n;
  let lastGlobalPosition = 0n;
  for (const event of events) {
    const stored = byId.get(event.id);
    if (stored === undefined) {
      throw new EventIdConflictError(existing[0]!.id, 'by an earlier append that did not contain all of these events');
    }
    if (stored.streamId !== streamId) {
      throw new EventIdConflictError(event.id, `in stream "${stored.streamId}"`);
    }
    const storedData = typeof stored.data === 'string' ? JSON.parse(stored.data) : stored.data;
    if (stored.type !== event.type || !isDeepStrictEqual(storedData, JSON.parse(event.data))) {
      throw new EventIdConflictError(event.id, 'with a different type or data');
    }
    if (stored.streamVersion > nextExpectedVersion) nextExpectedVersion = stored.streamVersion;
    if (stored.globalPosition > lastGlobalPosition) lastGlobalPosition = stored.globalPosition;
  }
  return { nextExpectedVersion, lastGlobalPosition };
}
