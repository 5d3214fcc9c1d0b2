import type { AppendRequest } from './backend.js';
import type { AppendResult, RecordedEvent } from './types.js';

/** What one append did inside its transaction; `firstPosition` is null for an idempotent retry (nothing stored). */
export interface AppliedAppend {
  result: AppendResult;
  firstPosition: bigint | null;
}

/**
 * The public shape of the events an append just inserted, for append hooks (inline projections). Every
 * adapter gives the events of one append consecutive positions (SQLite: one writer at a time; PostgreSQL:
 * `(xid << 16) + index`), so positions follow from the first one.
 */
export function toRecordedEvents(req: AppendRequest, applied: AppliedAppend): RecordedEvent[] {
  const first = applied.firstPosition;
  if (first === null) return [];
  const firstVersion = applied.result.nextExpectedVersion - BigInt(req.events.length) + 1n;
  const recordedAt = new Date(req.recordedAt);
  return req.events.map((e, i) => {
    const recorded: RecordedEvent = {
      id: e.id,
      streamId: req.streamId,
      streamVersion: firstVersion + BigInt(i),
      globalPosition: first + BigInt(i),
      type: e.type,
      data: JSON.parse(e.data),
      recordedAt,
      schemaVersion: e.schemaVersion,
    };
    if (e.metadata !== null) recorded.metadata = JSON.parse(e.metadata) as Record<string, unknown>;
    return recorded;
  });
}
