import { InvalidArgumentError } from '../errors.js';
import { validateSchemaName } from '../eventstore/postgres/schema.js';
import type { CommonStoreOptions } from '../eventstore/options.js';
import type { Upcaster } from '../eventstore/types.js';
import { type Clock, systemClock } from '../support/clock.js';
import { requireBoundedString, requireOptionsObject, requirePositiveInt } from '../support/validate.js';
import type { RotationPolicy } from './status.js';

/**
 * How fresh a read must be:
 * - `strong`: the primary;
 * - `read-your-writes`: a replica that has replayed the session's token position, else wait (bounded), else the primary;
 * - `bounded-staleness`: a replica whose lag is under `maxStalenessMs`, else the primary;
 * - `eventual`: any healthy replica in rotation, else the primary.
 *
 * @example
 * ```ts
 * const level: ConsistencyLevel = 'bounded-staleness';
 * ```
 */
export type ConsistencyLevel = 'strong' | 'read-your-writes' | 'bounded-staleness' | 'eventual';

/**
 * Per-call read options of a replica set.
 * @example
 * ```ts
 * await rs.readStream('cart-1', { consistency: 'read-your-writes', token: cookie, waitMs: 100 });
 * ```
 */
export interface ReadConsistency {
  /** Default: the set's `defaultConsistency` (`strong` unless configured). */
  consistency?: ConsistencyLevel;
  /** For `read-your-writes`: a session token (from `session.token` or an append's `sessionToken`). */
  token?: string;
  /** For `bounded-staleness`: the largest acceptable lag (default: the set's `maxStalenessMs`). */
  maxStalenessMs?: number;
  /** For `read-your-writes`: how long to wait for a replica before reading the primary (default: the set's `readYourWritesWaitMs`). */
  waitMs?: number;
}

/**
 * A replica: a connection string, or one with a display name.
 * @example
 * ```ts
 * const replicas: ReplicaConfig[] = ['postgres://db2/app', { name: 'eu-1', connectionString: 'postgres://db3/app' }];
 * ```
 */
export type ReplicaConfig = string | { name?: string; connectionString: string };

/**
 * Options of {@link openReplicaSet}; the common store options apply to the primary's store (and upcasters to replica reads).
 * @example
 * ```ts
 * const options: ReplicaSetOptions = { primary: 'postgres://db1/app', replicas: ['postgres://db2/app'], rotation: { maxLagMs: 2_000 } };
 * ```
 */
export interface ReplicaSetOptions extends CommonStoreOptions {
  /** Connection string of the primary (writes, `strong` reads). */
  primary: string;
  /** Hot standbys of the primary (PostgreSQL streaming replication). May be empty. */
  replicas: ReplicaConfig[];
  /** The event store schema (default `tessera`). */
  schema?: string;
  /** Consistency of reads that name none (default `strong`: nothing goes to a replica unless asked). */
  defaultConsistency?: ConsistencyLevel;
  /** Bound on waiting for a replica in `read-your-writes` (default 200 ms). */
  readYourWritesWaitMs?: number;
  /** Default bound of `bounded-staleness` reads (default 1000 ms). */
  maxStalenessMs?: number;
  /** Lag past which a replica leaves rotation (defaults 5000 ms, 64 MiB) and the minimum kept in (default 1). */
  rotation?: Partial<RotationPolicy>;
  /** How often replicas and the primary are probed (default 250 ms; 50 ms while the primary is unreachable). */
  probeIntervalMs?: number;
  /** Bound on one probe and on connecting (default 1000 ms). */
  probeTimeoutMs?: number;
  /** Pool size per server (default 10). */
  maxConnections?: number;
}

/** Validated options. */
export interface ResolvedReplicaSetOptions {
  primary: string;
  replicas: Array<{ name: string; connectionString: string }>;
  schema: string;
  defaultConsistency: ConsistencyLevel;
  readYourWritesWaitMs: number;
  maxStalenessMs: number;
  rotation: RotationPolicy;
  probeIntervalMs: number;
  probeTimeoutMs: number;
  maxConnections: number;
  upcasters: Upcaster[] | undefined;
  clock: Clock;
  random: () => number;
  /** Passed to the primary's store as given (validated there). */
  storeOptions: CommonStoreOptions;
}

const LEVELS: readonly ConsistencyLevel[] = ['strong', 'read-your-writes', 'bounded-staleness', 'eventual'];

/** Validates a consistency level. */
export function requireLevel(value: unknown, argument: string): ConsistencyLevel {
  if (!LEVELS.includes(value as ConsistencyLevel)) {
    throw new InvalidArgumentError(argument, `${JSON.stringify(value)} is not a consistency level`, `Pass one of ${LEVELS.map((l) => `'${l}'`).join(', ')}.`);
  }
  return value as ConsistencyLevel;
}

/** Validates {@link ReplicaSetOptions} before anything connects. */
export function resolveReplicaSetOptions(options: unknown): ResolvedReplicaSetOptions {
  const o = requireOptionsObject(options, 'options') as Partial<ReplicaSetOptions>;
  const primary = requireBoundedString(o.primary, 'primary', 4096);
  if (!Array.isArray(o.replicas)) {
    throw new InvalidArgumentError('replicas', 'is not an array', "Pass replicas: ['postgres://…replica1', { name: 'r2', connectionString: '…' }] (or []).");
  }
  const replicas = o.replicas.map((r, i) => {
    const c = typeof r === 'string' ? { connectionString: r } : (requireOptionsObject(r, `replicas[${i}]`) as { name?: unknown; connectionString?: unknown });
    const connectionString = requireBoundedString(c.connectionString, `replicas[${i}].connectionString`, 4096);
    const name = c.name === undefined ? hostPort(connectionString, i) : requireBoundedString(c.name, `replicas[${i}].name`, 100);
    return { name, connectionString };
  });
  const names = new Set(replicas.map((r) => r.name));
  if (names.size !== replicas.length) throw new InvalidArgumentError('replicas', 'has two replicas with one name', 'Give each replica its own name.');
  const rot = requireOptionsObject(o.rotation, 'rotation') as Partial<RotationPolicy>;
  const minInRotation = rot.minInRotation === undefined ? 1 : rot.minInRotation === 0 ? 0 : requirePositiveInt(rot.minInRotation, 'rotation.minInRotation');
  const positive = (v: unknown, name: string, dflt: number): number => (v === undefined ? dflt : requirePositiveInt(v, name));
  if (o.clock !== undefined && typeof o.clock?.now !== 'function') throw new InvalidArgumentError('clock', 'has no now()', 'Pass clock: { now: () => Date.now() }.');
  if (o.random !== undefined && typeof o.random !== 'function') throw new InvalidArgumentError('random', 'is not a function', 'Pass random: Math.random.');
  return {
    primary,
    replicas,
    schema: validateSchemaName(o.schema),
    defaultConsistency: o.defaultConsistency === undefined ? 'strong' : requireLevel(o.defaultConsistency, 'defaultConsistency'),
    readYourWritesWaitMs: o.readYourWritesWaitMs === 0 ? 0 : positive(o.readYourWritesWaitMs, 'readYourWritesWaitMs', 200),
    maxStalenessMs: positive(o.maxStalenessMs, 'maxStalenessMs', 1_000),
    rotation: { maxLagMs: positive(rot.maxLagMs, 'rotation.maxLagMs', 5_000), maxLagBytes: positive(rot.maxLagBytes, 'rotation.maxLagBytes', 64 * 1024 * 1024), minInRotation },
    probeIntervalMs: positive(o.probeIntervalMs, 'probeIntervalMs', 250),
    probeTimeoutMs: positive(o.probeTimeoutMs, 'probeTimeoutMs', 1_000),
    maxConnections: positive(o.maxConnections, 'maxConnections', 10),
    upcasters: o.upcasters,
    clock: o.clock ?? systemClock,
    random: o.random ?? Math.random,
    storeOptions: pickStoreOptions(o),
  };
}

/** `host:port` of a connection string, as a default replica name. */
function hostPort(connectionString: string, index: number): string {
  try {
    const u = new URL(connectionString);
    return u.host || `replica-${index + 1}`;
  } catch {
    return `replica-${index + 1}`;
  }
}

function pickStoreOptions(o: Partial<ReplicaSetOptions>): CommonStoreOptions {
  const out: CommonStoreOptions = {};
  for (const key of ['maxEventBytes', 'upcasters', 'clock', 'ids', 'random', 'appendHooks'] as const) {
    if (o[key] !== undefined) (out as Record<string, unknown>)[key] = o[key];
  }
  return out;
}
