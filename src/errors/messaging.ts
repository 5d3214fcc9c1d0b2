/** Event bus errors; import them from `errors.ts` (the one public error module). @module */
import { TesseraError, type TesseraErrorOptions } from './base.js';

/**
 * The message bus (NATS JetStream) could not be reached or refused the operation in time.
 * @example
 * ```ts
 * catch (e) { if (e instanceof BusUnavailableError) console.log(e.url, e.hint); }
 * ```
 */
export class BusUnavailableError extends TesseraError {
  constructor(readonly url: string, message: string, options: TesseraErrorOptions = {}) {
    super('BUS_UNAVAILABLE', message, {
      hint: `Check that nats-server runs with JetStream at ${url} (e.g. \`nats-server -js -p 4222\`), or unset TESSERA_BUS to use the in-process bus.`,
      retryable: true,
      ...options,
    });
  }
}

/**
 * A consumer received an event before the previous event of the same stream was applied (another member
 * of its group still holds it). The delivery is retried later; nothing was applied.
 * @example
 * ```ts
 * catch (e) { if (e instanceof EventOutOfOrderError) console.log(e.streamId, e.expectedVersion, e.receivedVersion); }
 * ```
 */
export class EventOutOfOrderError extends TesseraError {
  constructor(readonly consumer: string, readonly streamId: string, readonly expectedVersion: bigint, readonly receivedVersion: bigint) {
    super('EVENT_OUT_OF_ORDER', `Consumer "${consumer}" got version ${receivedVersion} of stream "${streamId}" before version ${expectedVersion}`, {
      hint: 'Transient: the earlier event is still in flight and the delivery will be retried. If it persists, the consumer does not receive every event of the stream (filter by category, not by type).',
      retryable: true });
  }
}
