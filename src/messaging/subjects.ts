import { InvalidArgumentError } from '../errors.js';
import { describe } from '../support/validate.js';

/**
 * Subject naming: `<prefix>.<category>.<eventType>`, where the category is the stream id's prefix before
 * the first `-` (`order-42` → `order`). Stream ids and event types may hold any character, subjects may
 * not, so both tokens are sanitized: every character outside `[A-Za-z0-9_-]` becomes `_`. The exact values
 * always travel in the message (headers and payload); the subject is only for routing and filtering.
 *
 * @example
 * ```ts
 * subjectFor('tessera', 'order-42', 'order.placed'); // 'tessera.order.order_placed'
 * ```
 * @module
 */

const TOKEN = /^[A-Za-z0-9_-]+$/;
const PREFIX = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/;
const MAX_TOKEN = 64;
/** The category token that holds dead letters; an event category that sanitizes to it gets a leading `_`. */
export const DEAD_LETTER_TOKEN = 'dlq';
export const DEFAULT_PREFIX = 'tessera';
export const DEFAULT_STREAM_NAME = 'TESSERA_EVENTS';

function sanitizeToken(raw: string): string {
  let t = raw.replace(/[^A-Za-z0-9_-]/g, '_');
  if (t.length === 0) t = '_';
  if (t.length > MAX_TOKEN) t = t.slice(0, MAX_TOKEN);
  return t;
}

/**
 * The category token of a stream id.
 *
 * @example
 * ```ts
 * categoryOf('order-42'); // 'order'
 * ```
 */
export function categoryOf(streamId: string): string {
  const dash = streamId.indexOf('-');
  const t = sanitizeToken(dash < 0 ? streamId : streamId.slice(0, dash));
  return t === DEAD_LETTER_TOKEN ? `_${t}` : t;
}

/**
 * The subject token of an event type.
 *
 * @example
 * ```ts
 * typeToken('order.placed'); // 'order_placed'
 * ```
 */
export function typeToken(eventType: string): string {
  return sanitizeToken(eventType);
}

/**
 * The subject an event is published on.
 *
 * @example
 * ```ts
 * subjectFor('tessera', 'cart-1', 'ItemAdded'); // 'tessera.cart.ItemAdded'
 * ```
 */
export function subjectFor(prefix: string, streamId: string, eventType: string): string {
  return `${prefix}.${categoryOf(streamId)}.${typeToken(eventType)}`;
}

/**
 * The dead-letter subject of a consumer.
 *
 * @example
 * ```ts
 * deadLetterSubject('tessera', 'billing'); // 'tessera.dlq.billing'
 * ```
 */
export function deadLetterSubject(prefix: string, consumer: string): string {
  return `${prefix}.${DEAD_LETTER_TOKEN}.${consumer}`;
}

/** A subject prefix: dot-separated tokens of letters, digits, `_` and `-`, at most 128 characters, not `$…`. */
export function validatePrefix(value: unknown): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > 128 || !PREFIX.test(value)) {
    throw new InvalidArgumentError(
      'prefix',
      `${describe(value)} is not a valid subject prefix`,
      "Use dot-separated tokens of letters, digits, '_' and '-' (no spaces, '*', '>' or empty tokens), e.g. 'tessera' or 'shop.events'.",
    );
  }
  return value;
}

/** A JetStream stream or consumer name: 1–64 letters, digits, `_` and `-`. */
export function validateName(value: unknown, argument: string): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_TOKEN || !TOKEN.test(value)) {
    throw new InvalidArgumentError(
      argument,
      `${describe(value)} is not a valid name`,
      `Use 1–${MAX_TOKEN} letters, digits, '_' or '-' for ${argument} (no dots, spaces, '*', '>' or path separators).`,
    );
  }
  return value;
}

/** A single subject token given by a caller as a filter (a category or event-type token, or `*`). */
export function validateFilterToken(value: unknown, argument: string): string {
  if (value === '*') return value;
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_TOKEN || !TOKEN.test(value)) {
    throw new InvalidArgumentError(
      argument,
      `${describe(value)} is not a valid subject token`,
      `Pass ${argument} as it appears in subjects: letters, digits, '_' and '-' (see categoryOf/typeToken), or '*'.`,
    );
  }
  return value;
}

/** The filter subject of a subscription. */
export function filterSubject(prefix: string, category: string | undefined, eventType: string | undefined): string {
  if (category === undefined && eventType === undefined) return `${prefix}.>`;
  return `${prefix}.${category ?? '*'}.${eventType ?? '*'}`;
}

/** True for subjects of dead letters (consumers never handle them). */
export function isDeadLetterSubject(prefix: string, subject: string): boolean {
  return subject.startsWith(`${prefix}.${DEAD_LETTER_TOKEN}.`);
}
