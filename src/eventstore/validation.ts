import { InvalidArgumentError } from '../errors.js';
import type { IdGenerator } from '../support/ids.js';
import { encodeJson } from '../support/json.js';
import {
  describe,
  requireBigIntAtLeast,
  requireBoundedString,
  requireOptionsObject,
  requirePositiveInt,
} from '../support/validate.js';
import type { PreparedEvent } from './backend.js';
import type { AppendOptions, ExpectedVersion, NewEvent } from './types.js';

/** Limits that every adapter enforces alike. */
export const STREAM_ID_MAX_BYTES = 512;
export const EVENT_TYPE_MAX_BYTES = 256;
export const EVENT_ID_MAX_BYTES = 128;
export const DEFAULT_MAX_EVENT_BYTES = 1024 * 1024;
export const MAX_EVENTS_PER_APPEND = 10_000;

/** Validates a stream id: non-empty, ≤ 512 UTF-8 bytes, no U+0000. */
export function validateStreamId(streamId: unknown, argument = 'streamId'): string {
  return requireBoundedString(streamId, argument, STREAM_ID_MAX_BYTES);
}

/** Normalises `expectedVersion`: `0n` → `'no_stream'`; numbers accepted when whole. */
export function validateExpectedVersion(value: unknown): ExpectedVersion {
  if (value === undefined || value === 'any') return 'any';
  if (value === 'no_stream' || value === 'stream_exists') return value;
  if (typeof value === 'string') {
    throw new InvalidArgumentError('expectedVersion', `${describe(value)} is not a known form`, "Use a bigint version, 'any', 'no_stream' or 'stream_exists'.");
  }
  const v = requireBigIntAtLeast(value, 'expectedVersion', 0n);
  return v === 0n ? 'no_stream' : v;
}

/** Context needed to prepare events: limits, schema versions, id generation. */
export interface PrepareContext {
  maxEventBytes: number;
  ids: IdGenerator;
  currentSchemaVersion(type: string): number;
}

/**
 * Validates and serializes the events of one append. Throws before anything is written, so a bad event
 * anywhere in a batch leaves the store unchanged.
 */
export function prepareEvents(events: unknown, opts: AppendOptions, ctx: PrepareContext): PreparedEvent[] {
  if (!Array.isArray(events)) {
    throw new InvalidArgumentError('events', `${describe(events)} is not an array`, 'Pass an array of { type, data } objects.');
  }
  if (events.length === 0) {
    throw new InvalidArgumentError('events', 'the array is empty', 'Pass at least one event; an empty append has no meaning.');
  }
  if (events.length > MAX_EVENTS_PER_APPEND) {
    throw new InvalidArgumentError('events', `${events.length} events in one append (limit ${MAX_EVENTS_PER_APPEND})`, 'Split the batch into several appends.');
  }
  const seen = new Set<string>();
  const prepared: PreparedEvent[] = new Array(events.length);
  for (let i = 0; i < events.length; i++) {
    const e = prepareEvent(events[i], i, opts, ctx);
    if (seen.has(e.id)) {
      throw new InvalidArgumentError(`events[${i}].id`, `"${e.id}" appears twice in one append`, 'Give each event of a batch its own id.');
    }
    seen.add(e.id);
    prepared[i] = e;
  }
  return prepared;
}

function prepareEvent(raw: unknown, i: number, opts: AppendOptions, ctx: PrepareContext): PreparedEvent {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new InvalidArgumentError(`events[${i}]`, `${describe(raw)} is not an event object`, 'Each event is { type: string, data: JSON, metadata?, id? }.');
  }
  const e = raw as NewEvent;
  const type = requireBoundedString(e.type, `events[${i}].type`, EVENT_TYPE_MAX_BYTES);
  if (e.data === undefined) {
    throw new InvalidArgumentError(`events[${i}].data`, 'is undefined', 'Pass data (use null or {} for an event without a payload).');
  }
  const idGiven = e.id !== undefined;
  const id = idGiven ? requireBoundedString(e.id, `events[${i}].id`, EVENT_ID_MAX_BYTES) : ctx.ids();
  const data = encodeJson(e.data, `events[${i}].data`);
  const metadata = encodeMetadata(e.metadata, opts, i);
  const bytes = Buffer.byteLength(data, 'utf8') + (metadata === null ? 0 : Buffer.byteLength(metadata, 'utf8'));
  if (bytes > ctx.maxEventBytes) {
    throw new InvalidArgumentError(`events[${i}]`, `is ${bytes} bytes of JSON (limit ${ctx.maxEventBytes})`, 'Store large payloads elsewhere and reference them, or raise maxEventBytes when opening the store.');
  }
  return { id, idGiven, type, data, metadata, schemaVersion: ctx.currentSchemaVersion(type), bytes };
}

function encodeMetadata(metadata: unknown, opts: AppendOptions, i: number): string | null {
  if (metadata !== undefined && (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata))) {
    throw new InvalidArgumentError(`events[${i}].metadata`, `${describe(metadata)} is not an object`, 'Pass metadata as a plain object, e.g. { userId: "u1" }.');
  }
  let m = metadata as Record<string, unknown> | undefined;
  if (opts.correlationId !== undefined || opts.causationId !== undefined) {
    m = { ...m };
    if (opts.correlationId !== undefined && m.correlationId === undefined) m.correlationId = opts.correlationId;
    if (opts.causationId !== undefined && m.causationId === undefined) m.causationId = opts.causationId;
  }
  return m === undefined ? null : encodeJson(m, `events[${i}].metadata`);
}

/** Validates append options. */
export function validateAppendOptions(opts: unknown): AppendOptions & { expectedVersion: ExpectedVersion } {
  const o = requireOptionsObject(opts, 'options') as AppendOptions;
  for (const key of ['correlationId', 'causationId'] as const) {
    if (o[key] !== undefined) requireBoundedString(o[key], key, EVENT_ID_MAX_BYTES * 2);
  }
  return { ...o, expectedVersion: validateExpectedVersion(o.expectedVersion) };
}

/** Validates an optional positive `maxCount`. */
export function validateMaxCount(value: unknown): number | undefined {
  return value === undefined ? undefined : requirePositiveInt(value, 'maxCount');
}

/** Validates an optional inclusive start (`fromVersion` ≥ 1 or `fromPosition` ≥ 0). */
export function validateFrom(value: unknown, argument: string, min: bigint): bigint | undefined {
  return value === undefined ? undefined : requireBigIntAtLeast(value, argument, min);
}

/** Validates an optional list of event types. */
export function validateTypes(value: unknown): string[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value)) {
    throw new InvalidArgumentError('types', `${describe(value)} is not an array`, "Pass types as an array of event type names, e.g. ['OrderPlaced'].");
  }
  return value.map((t, i) => requireBoundedString(t, `types[${i}]`, EVENT_TYPE_MAX_BYTES));
}
