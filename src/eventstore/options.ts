import { InvalidArgumentError } from '../errors.js';
import { type Clock, systemClock } from '../support/clock.js';
import { type IdGenerator, uuidV7 } from '../support/ids.js';
import { requireOptionsObject, requirePositiveInt } from '../support/validate.js';
import type { StoreRuntime } from './store.js';
import type { AppendHook, Upcaster } from './types.js';
import { UpcasterRegistry } from './upcasters.js';
import { DEFAULT_MAX_EVENT_BYTES } from './validation.js';

/** Options every event store adapter accepts. */
export interface CommonStoreOptions {
  /** Largest event (data + metadata JSON, in bytes) an append accepts; default 1 MiB. */
  maxEventBytes?: number;
  /** Upcasters applied on read, per event type and schema version. */
  upcasters?: Upcaster[];
  /** Injectable time source (tests); default `Date.now`. */
  clock?: Clock;
  /** Injectable id generator for events appended without an id; default UUIDv7. */
  ids?: IdGenerator;
  /** Injectable randomness (backoff jitter); default `Math.random`. */
  random?: () => number;
  /** Code run inside every append's transaction (inline projections). */
  appendHooks?: AppendHook[];
}

/** Validates `appendHooks`. */
export function resolveAppendHooks(hooks: unknown): AppendHook[] {
  if (hooks === undefined) return [];
  if (!Array.isArray(hooks) || hooks.some((h) => typeof h?.apply !== 'function' || typeof h?.name !== 'string')) {
    throw new InvalidArgumentError('appendHooks', 'is not an array of { name, apply, setup? }', 'Pass appendHooks: [{ name, apply(events, tx) { … } }].');
  }
  return hooks as AppendHook[];
}

/** Validates the common options into the engine-independent runtime (minus the backend). */
export function resolveCommonOptions(options: unknown): Omit<StoreRuntime, 'backend' | 'sql'> {
  const o = requireOptionsObject(options, 'options') as CommonStoreOptions;
  for (const [key, value] of [['clock', o.clock?.now], ['ids', o.ids], ['random', o.random]] as const) {
    if (value !== undefined && typeof value !== 'function') {
      throw new InvalidArgumentError(key, 'is not a function', key === 'clock' ? 'Pass clock: { now: () => Date.now() }.' : `Pass ${key} as a function.`);
    }
  }
  return {
    upcasters: new UpcasterRegistry(o.upcasters ?? []),
    clock: o.clock ?? systemClock,
    ids: o.ids ?? uuidV7,
    random: o.random ?? Math.random,
    maxEventBytes: o.maxEventBytes === undefined ? DEFAULT_MAX_EVENT_BYTES : requirePositiveInt(o.maxEventBytes, 'maxEventBytes'),
  };
}
