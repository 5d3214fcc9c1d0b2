import { InvalidArgumentError } from '../errors.js';
import { encodeJson } from '../support/json.js';
import { requireOptionsObject, requirePositiveInt } from '../support/validate.js';
import type { StoreRuntime } from './store.js';
import type { AggregateOptions, SnapshotOptions } from './types.js';
import { validateFrom } from './validation.js';

const PAGE = 1_000;

/**
 * Folds a stream into state, optionally from a snapshot and optionally as of a version or a time.
 * "As of a time" means every event up to the first one recorded after that time, in version order, so a
 * writer with a skewed clock cannot make the result skip a version.
 */
export async function aggregateStream<S>(
  rt: StoreRuntime,
  streamId: string,
  opts: AggregateOptions<S>,
): Promise<{ state: S; version: bigint }> {
  const o = requireOptionsObject(opts, 'options') as unknown as AggregateOptions<S>;
  if (typeof o.initialState !== 'function' || typeof o.evolve !== 'function') {
    throw new InvalidArgumentError('options', 'initialState and evolve must be functions', 'Pass { initialState: () => state, evolve: (state, event) => state }.');
  }
  const asOf = requireOptionsObject(o.asOf, 'asOf') as { version?: bigint; time?: Date };
  const untilVersion = validateFrom(asOf.version, 'asOf.version', 0n);
  const untilTime = asOf.time === undefined ? undefined : validTime(asOf.time);
  const snap = o.snapshot === undefined ? undefined : validSnapshot(o.snapshot);
  const snapName = snap?.name ?? 'default';

  let state = o.initialState();
  let version = 0n;
  if (snap && untilTime === undefined) {
    const stored = await rt.backend.readSnapshot(streamId, snapName);
    if (stored && stored.schemaVersion === snap.schemaVersion && (untilVersion === undefined || stored.version <= untilVersion)) {
      state = snap.deserialize ? snap.deserialize(stored.state) : (stored.state as S);
      version = stored.version;
    }
  }
  const snapshotVersion = version;

  for (;;) {
    const rows = await rt.backend.readStream(streamId, { fromVersion: version + 1n, maxCount: PAGE, backward: false });
    let reachedEnd = rows.length < PAGE;
    for (const row of rows) {
      if (untilVersion !== undefined && row.streamVersion > untilVersion) { reachedEnd = true; break; }
      if (untilTime !== undefined && row.recordedAt.getTime() > untilTime) { reachedEnd = true; break; }
      state = o.evolve(state, rt.upcasters.toRecorded(row));
      version = row.streamVersion;
    }
    if (reachedEnd) break;
  }

  const isLatest = untilVersion === undefined && untilTime === undefined;
  if (snap && isLatest && version - snapshotVersion >= BigInt(snap.every)) {
    const value = snap.serialize ? snap.serialize(state) : state;
    // Refuses state that JSON cannot round-trip (pass serialize/deserialize for classes, Maps, BigInts).
    const stateJson = encodeJson(value, 'snapshot state');
    await rt.backend.writeSnapshot(streamId, snapName, { schemaVersion: snap.schemaVersion, version, stateJson });
  }
  return { state, version };
}

function validTime(t: unknown): number {
  if (!(t instanceof Date) || Number.isNaN(t.getTime())) {
    throw new InvalidArgumentError('asOf.time', 'is not a valid Date', 'Pass asOf: { time: new Date(…) }.');
  }
  return t.getTime();
}

function validSnapshot<S>(s: SnapshotOptions<S>): SnapshotOptions<S> {
  requireOptionsObject(s, 'snapshot');
  requirePositiveInt(s.schemaVersion, 'snapshot.schemaVersion');
  requirePositiveInt(s.every, 'snapshot.every');
  if (s.name !== undefined && (typeof s.name !== 'string' || s.name.length === 0 || s.name.length > 128)) {
    throw new InvalidArgumentError('snapshot.name', 'must be a non-empty string of at most 128 characters', "Pass e.g. name: 'summary'.");
  }
  return s;
}
