import type { EventStore, RecordedEvent } from '../eventstore/types.js';
import { hashKey } from '../support/hash.js';
import { requireOptionsObject, requirePositiveInt } from '../support/validate.js';

/**
 * The fields `verifyReplica` compares, event by event, in global-log order.
 * @example
 * ```ts
 * const f: VerifiedField = 'data';
 * ```
 */
export type VerifiedField = 'id' | 'streamId' | 'streamVersion' | 'type' | 'schemaVersion' | 'recordedAt' | 'data' | 'metadata' | 'globalPosition';

/**
 * One difference between the source's log and the replica's.
 * @example
 * ```ts
 * for (const d of report.divergences) console.log(d.kind, d.eventId, d.fields.join(','));
 * ```
 */
export interface Divergence {
  /** 0-based index in the global log (the n-th event of both logs). */
  index: number;
  /** `mismatch`: both have an event here but fields differ; `missing`: the replica's log ends early; `extra`: the replica has more. */
  kind: 'mismatch' | 'missing' | 'extra';
  eventId: string;
  streamId: string;
  streamVersion: bigint;
  sourcePosition: bigint | null;
  replicaPosition: bigint | null;
  /** Fields that differ (mismatch only). */
  fields: VerifiedField[];
}

/**
 * Result of {@link verifyReplica}.
 * @example
 * ```ts
 * const report: VerifyReport = await verifyReplica(source, copy);
 * if (!report.identical) console.log(report.divergenceCount);
 * ```
 */
export interface VerifyReport {
  identical: boolean;
  sourceEvents: number;
  replicaEvents: number;
  /** Distinct streams seen in the source's compared range. */
  streams: number;
  /** xxHash64 over every compared event's canonical fields, per side: equal hashes ⇔ equal logs. */
  sourceDigest: string;
  replicaDigest: string;
  /** The first `maxReported` divergences, in log order. */
  divergences: Divergence[];
  /** How many divergences were found in total. */
  divergenceCount: number;
}

/**
 * Options of {@link verifyReplica}.
 * @example
 * ```ts
 * await verifyReplica(source, copy, { untilSourcePosition: (await follower.checkpoint()).sourcePosition });
 * ```
 */
export interface VerifyOptions {
  /** Compare positions too (a streaming replica: yes; a log-shipping copy maps positions: no, the default). */
  comparePositions?: boolean;
  /** Compare only source events up to this position (e.g. a live follower's checkpoint). */
  untilSourcePosition?: bigint;
  /** Divergences listed in the report (default 20); all are counted. */
  maxReported?: number;
}

/**
 * Compares two stores' global logs event by event — ids, streams, versions, types, schema versions,
 * `recordedAt` and hashes of data and metadata — and reports every divergence precisely (which event, which
 * fields, at which positions). Streams both logs with flat memory.
 *
 * @example
 * ```ts
 * const report = await verifyReplica(primary, follower.target);
 * if (!report.identical) console.table(report.divergences);
 * ```
 */
export async function verifyReplica(source: EventStore, replica: EventStore, options: VerifyOptions = {}): Promise<VerifyReport> {
  const o = requireOptionsObject(options, 'options') as VerifyOptions;
  const maxReported = o.maxReported === undefined ? 20 : requirePositiveInt(o.maxReported, 'maxReported');
  const fields = COMPARED.filter((f) => f !== 'globalPosition' || o.comparePositions === true);
  const until = o.untilSourcePosition;
  const src = source.streamAll()[Symbol.asyncIterator]();
  const rep = replica.streamAll()[Symbol.asyncIterator]();
  const report: VerifyReport = {
    identical: true, sourceEvents: 0, replicaEvents: 0, streams: 0, sourceDigest: '', replicaDigest: '', divergences: [], divergenceCount: 0,
  };
  const streams = new Set<string>();
  let sourceDigest = 0n;
  let replicaDigest = 0n;
  const add = (d: Divergence): void => {
    report.identical = false;
    report.divergenceCount++;
    if (report.divergences.length < maxReported) report.divergences.push(d);
  };
  for (let index = 0; ; index++) {
    const s = await nextUntil(src, until);
    // Past the compared range the replica may hold more (a follower ahead of `until`): stop there.
    const r = s === undefined && until !== undefined ? undefined : (await rep.next()).value as RecordedEvent | undefined;
    if (s === undefined && r === undefined) break;
    if (s) {
      report.sourceEvents++;
      streams.add(s.streamId);
      sourceDigest = mix(sourceDigest, s, fields);
    }
    if (r) {
      report.replicaEvents++;
      replicaDigest = mix(replicaDigest, r, fields);
    }
    const e = (s ?? r)!;
    const base = { index, eventId: e.id, streamId: e.streamId, streamVersion: e.streamVersion, sourcePosition: s?.globalPosition ?? null, replicaPosition: r?.globalPosition ?? null };
    if (!r) add({ ...base, kind: 'missing', fields: [] });
    else if (!s) add({ ...base, kind: 'extra', fields: [] });
    else {
      const differing = fields.filter((f) => fieldKey(s, f) !== fieldKey(r, f));
      if (differing.length > 0) add({ ...base, kind: 'mismatch', fields: differing });
    }
  }
  await Promise.all([src.return?.(), rep.return?.()]);
  report.streams = streams.size;
  report.sourceDigest = sourceDigest.toString(16).padStart(16, '0');
  report.replicaDigest = replicaDigest.toString(16).padStart(16, '0');
  return report;
}

const COMPARED: readonly VerifiedField[] = ['id', 'streamId', 'streamVersion', 'type', 'schemaVersion', 'recordedAt', 'data', 'metadata', 'globalPosition'];

async function nextUntil(it: AsyncIterator<RecordedEvent>, until: bigint | undefined): Promise<RecordedEvent | undefined> {
  const { value, done } = await it.next();
  if (done === true) return undefined;
  return until !== undefined && value.globalPosition > until ? undefined : value;
}

/** A comparable string per field: data and metadata as canonical JSON (key order does not matter: jsonb reorders keys). */
function fieldKey(e: RecordedEvent, f: VerifiedField): string {
  switch (f) {
    case 'data':
      return canonicalJson(e.data);
    case 'metadata':
      return e.metadata === undefined ? '' : canonicalJson(e.metadata);
    case 'recordedAt':
      return String(e.recordedAt.getTime());
    default:
      return String(e[f]);
  }
}

/** An order-sensitive running digest: each event's canonical fields hashed, folded into the previous digest. */
function mix(digest: bigint, e: RecordedEvent, fields: readonly VerifiedField[]): bigint {
  return hashKey(`${digest.toString(16)}|${fields.map((f) => fieldKey(e, f)).join('\u0001')}`);
}

/**
 * JSON with object keys sorted at every level, so the same value always gives the same text.
 * @example
 * ```ts
 * canonicalJson({ b: 1, a: [{ d: 2, c: 3 }] }); // '{"a":[{"c":3,"d":2}],"b":1}'
 * ```
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}
