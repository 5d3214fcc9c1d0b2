import { TesseraError } from '../errors.js';
import type { RecordedEvent } from '../eventstore/types.js';
import type { BusMessage } from './types.js';

/**
 * How an event travels on the bus: the payload is JSON holding the whole event (the source of truth when
 * decoding), and headers repeat the ids so tools and filters can route without parsing the body. Header
 * values are URI-encoded because NATS headers cannot hold line breaks.
 * @module
 */

/**
 * Header names (stable); values are URI-encoded.
 *
 * @example
 * ```ts
 * const correlationId = decodeURIComponent(msg.headers.get(BUS_HEADERS.correlationId));
 * ```
 */
export const HEADERS = {
  eventId: 'Tessera-Event-Id',
  eventType: 'Tessera-Event-Type',
  streamId: 'Tessera-Stream-Id',
  streamVersion: 'Tessera-Stream-Version',
  globalPosition: 'Tessera-Global-Position',
  correlationId: 'Tessera-Correlation-Id',
  causationId: 'Tessera-Causation-Id',
  deadLetterConsumer: 'Tessera-Dead-Letter-Consumer',
  deadLetterSequence: 'Tessera-Dead-Letter-Sequence',
  deadLetterDeliveries: 'Tessera-Dead-Letter-Deliveries',
  deadLetterError: 'Tessera-Dead-Letter-Error',
} as const;

interface WireEvent {
  id: string;
  type: string;
  streamId: string;
  streamVersion: string;
  globalPosition: string;
  recordedAt: string;
  schemaVersion: number;
  data: unknown;
  metadata?: Record<string, unknown>;
}

function metaString(event: RecordedEvent, key: string): string | undefined {
  const v = event.metadata?.[key];
  return typeof v === 'string' && v.length > 0 ? v : undefined;
}

/** Correlation and causation ids of an event: from its metadata, else its own id (it starts a conversation). */
export function tracingIds(event: RecordedEvent): { correlationId: string; causationId: string } {
  return {
    correlationId: metaString(event, 'correlationId') ?? event.id,
    causationId: metaString(event, 'causationId') ?? event.id,
  };
}

/** The headers of an event's message, URI-encoded. */
export function eventHeaders(event: RecordedEvent): Array<[string, string]> {
  const { correlationId, causationId } = tracingIds(event);
  return [
    [HEADERS.eventId, event.id],
    [HEADERS.eventType, event.type],
    [HEADERS.streamId, event.streamId],
    [HEADERS.streamVersion, String(event.streamVersion)],
    [HEADERS.globalPosition, String(event.globalPosition)],
    [HEADERS.correlationId, correlationId],
    [HEADERS.causationId, causationId],
  ].map(([k, v]) => [k!, encodeURIComponent(v!)]);
}

/** The payload of an event's message. */
export function encodePayload(event: RecordedEvent): Uint8Array {
  const wire: WireEvent = {
    id: event.id,
    type: event.type,
    streamId: event.streamId,
    streamVersion: String(event.streamVersion),
    globalPosition: String(event.globalPosition),
    recordedAt: event.recordedAt.toISOString(),
    schemaVersion: event.schemaVersion,
    data: event.data,
    ...(event.metadata !== undefined ? { metadata: event.metadata } : {}),
  };
  return Buffer.from(JSON.stringify(wire), 'utf8');
}

/** Decodes a payload written by {@link encodePayload}; a foreign payload fails with a TesseraError. */
export function decodePayload(bytes: Uint8Array): RecordedEvent {
  let wire: WireEvent;
  try {
    wire = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8')) as WireEvent;
    if (typeof wire.id !== 'string' || typeof wire.streamId !== 'string' || typeof wire.type !== 'string') throw new Error('missing fields');
  } catch (e) {
    throw new TesseraError('BUS_MESSAGE_INVALID', 'A bus message is not a Tessera event', {
      hint: 'Only publish to the Tessera subjects through the relay or EventBus.publish.',
      cause: e,
    });
  }
  return {
    id: wire.id,
    type: wire.type,
    streamId: wire.streamId,
    streamVersion: BigInt(wire.streamVersion),
    globalPosition: BigInt(wire.globalPosition),
    recordedAt: new Date(wire.recordedAt),
    schemaVersion: wire.schemaVersion,
    data: wire.data,
    ...(wire.metadata !== undefined ? { metadata: wire.metadata } : {}),
  };
}

/** Builds the message a handler receives. */
export function toBusMessage(event: RecordedEvent, subject: string, deliveryCount: number, sequence: number): BusMessage {
  return { event, subject, deliveryCount, sequence, ...tracingIds(event) };
}

/**
 * Append options that continue a conversation: same correlation id, caused by the message's event.
 *
 * @example
 * ```ts
 * handler: async (m) => { await store.appendToStream('invoice-1', [{ type: 'Issued', data: {} }], causedBy(m)); }
 * ```
 */
export function causedBy(message: BusMessage): { correlationId: string; causationId: string } {
  return { correlationId: message.correlationId, causationId: message.event.id };
}
