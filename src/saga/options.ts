import { InvalidArgumentError } from '../errors.js';
import { storeDatabase } from '../eventstore/store.js';
import type { EventStore } from '../eventstore/types.js';
import type { SqlDriver } from '../storage/port.js';
import { type Clock, systemClock } from '../support/clock.js';
import { type IdGenerator, uuidV7 } from '../support/ids.js';
import { describe, requireBoundedString, requireOptionsObject, requirePositiveInt } from '../support/validate.js';
import { isSagaDefinition } from './define.js';
import type { SagaDefinition, SagaEngineOptions } from './types.js';

/** Default poll interval (SQLite, and re-reads of sagas run elsewhere). */
export const POLL_MS = 25;
/** Default poll interval of a PostgreSQL runner, which LISTENs for work instead. */
export const PG_POLL_MS = 1_000;

/** The engine's options, validated, with defaults filled in. */
export interface Resolved {
  store: EventStore;
  db: SqlDriver;
  defs: Map<string, Map<number, SagaDefinition>>;
  latest: Map<string, SagaDefinition>;
  runnerId: string;
  leaseMs: number;
  /** How long the claim loop sleeps when nothing wakes it (a local start, a notification, a timer). */
  pollMs: number;
  /** How often a saga run elsewhere is re-read (waitForTerminal) and a busy semantic lock retried (times 4). */
  recheckMs: number;
  maxConcurrent: number;
  clock: Clock;
  random: () => number;
  events: boolean;
  onError(e: unknown): void;
}

/** Validates `openSagaEngine` options (before anything is written) and fills in the defaults. */
export function resolveEngineOptions(opts: SagaEngineOptions): Resolved {
  const o = requireOptionsObject(opts, 'options') as Partial<SagaEngineOptions>;
  if (opts === undefined) throw new InvalidArgumentError('options', 'are missing', 'Pass openSagaEngine({ store, sagas: [...] }).');
  const db = storeDatabase(o.store as EventStore);
  if (!Array.isArray(o.sagas)) throw new InvalidArgumentError('sagas', `${describe(o.sagas)} is not an array`, 'Pass sagas: [defineSaga({ … })].');
  const defs = new Map<string, Map<number, SagaDefinition>>();
  const latest = new Map<string, SagaDefinition>();
  o.sagas.forEach((d, i) => {
    if (!isSagaDefinition(d)) throw new InvalidArgumentError(`sagas[${i}]`, 'was not made by defineSaga()', 'Wrap each definition in defineSaga({ … }).');
    const versions = defs.get(d.name) ?? new Map<number, SagaDefinition>();
    if (versions.has(d.version)) throw new InvalidArgumentError(`sagas[${i}]`, `"${d.name}" version ${d.version} is given twice`, 'Register each name and version once.');
    versions.set(d.version, d);
    defs.set(d.name, versions);
    if ((latest.get(d.name)?.version ?? 0) < d.version) latest.set(d.name, d);
  });
  for (const key of ['clock', 'random', 'onError', 'ids'] as const) {
    const v = key === 'clock' ? o.clock?.now : o[key];
    if (v !== undefined && typeof v !== 'function') throw new InvalidArgumentError(key, 'is not a function', `Pass ${key} as a function (clock as { now() }).`);
  }
  const maxConcurrent = o.maxConcurrent ?? 16;
  if (!Number.isSafeInteger(maxConcurrent) || maxConcurrent < 0) {
    throw new InvalidArgumentError('maxConcurrent', `${describe(maxConcurrent)} is not a whole number ≥ 0`, 'Pass e.g. maxConcurrent: 16 (0 for a client that runs nothing).');
  }
  const leaseMs = o.leaseMs === undefined ? 15_000 : requirePositiveInt(o.leaseMs, 'leaseMs');
  if (leaseMs < 30) throw new InvalidArgumentError('leaseMs', `${leaseMs} is below 30 ms`, 'Pass leaseMs of at least 30 (renewed every third of it).');
  if (o.lifecycleEvents !== undefined && typeof o.lifecycleEvents !== 'boolean') {
    throw new InvalidArgumentError('lifecycleEvents', `${describe(o.lifecycleEvents)} is not a boolean`, 'Pass lifecycleEvents: true or false.');
  }
  const ids: IdGenerator = o.ids ?? uuidV7;
  const poll = o.pollIntervalMs === undefined ? undefined : requirePositiveInt(o.pollIntervalMs, 'pollIntervalMs');
  return {
    store: o.store as EventStore,
    db,
    defs,
    latest,
    runnerId: o.runnerId === undefined ? ids() : requireBoundedString(o.runnerId, 'runnerId', 200),
    leaseMs,
    // PostgreSQL runners are woken by NOTIFY (see wake.ts): their poll only finds expired leases and missed wake-ups.
    pollMs: poll ?? (db.dialect === 'postgres' ? PG_POLL_MS : POLL_MS),
    recheckMs: Math.min(poll ?? POLL_MS, POLL_MS),
    maxConcurrent,
    clock: o.clock ?? systemClock,
    random: o.random ?? Math.random,
    events: o.lifecycleEvents ?? true,
    onError: o.onError ?? ((e: unknown) => console.error('[tessera saga engine]', e)),
  };
}
