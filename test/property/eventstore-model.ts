import { isDeepStrictEqual } from 'node:util';
import type { AppendResult, ExpectedVersion, RecordedEvent } from '../../src/index.js';

/**
 * A plain in-memory model of the EventStore contract (DESIGN.md), for model-based tests: a map of
 * streams and a list for the global log. It predicts each append's outcome; positions of a successful
 * append are taken from the store's answer after checking they are above every earlier one (gaps between
 * appends are allowed by the contract) and consecutive within the append.
 * @module
 */

/** An event as the test sends it. */
export interface SentEvent {
  id?: string;
  type: string;
  data: unknown;
  metadata?: Record<string, unknown>;
}

/** The comparable shape of a stored event (model and store alike). */
export interface ModelEvent {
  id: string;
  streamId: string;
  streamVersion: bigint;
  globalPosition: bigint;
  type: string;
  data: unknown;
  metadata: Record<string, unknown> | null;
  recordedAt: number;
  schemaVersion: number;
}

/** What the model expects an append to do. */
export type Prediction =
  | { kind: 'append'; current: bigint }
  | { kind: 'replay'; result: AppendResult }
  | { kind: 'concurrency'; actual: bigint }
  | { kind: 'id-conflict' };

const json = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

/** The store's event in the model's comparable shape. */
export function comparable(e: RecordedEvent): ModelEvent {
  return {
    id: e.id,
    streamId: e.streamId,
    streamVersion: e.streamVersion,
    globalPosition: e.globalPosition,
    type: e.type,
    data: e.data,
    metadata: e.metadata ?? null,
    recordedAt: e.recordedAt.getTime(),
    schemaVersion: e.schemaVersion,
  };
}

export class EventStoreModel {
  readonly streams = new Map<string, ModelEvent[]>();
  readonly log: ModelEvent[] = [];
  readonly byId = new Map<string, ModelEvent>();
  /** Appends sent with caller-given ids, for retries and id re-use. */
  readonly history: { streamId: string; events: SentEvent[] }[] = [];
  lastPosition = 0n;
  /** How often each kind of outcome was predicted (to show the run exercised them all). */
  readonly stats: Record<Prediction['kind'], number>;
  #generated = 0;
  #fresh = 0;

  /** The id the store's injected generator hands out next (it counts exactly like this). */
  nextGeneratedId(): string {
    return `gen-${++this.#generated}`;
  }

  /** A caller-chosen id never used before. */
  freshId(): string {
    return `u-${++this.#fresh}`;
  }

  version(streamId: string): bigint {
    return BigInt(this.streams.get(streamId)?.length ?? 0);
  }

  constructor(stats?: Record<Prediction['kind'], number>) {
    this.stats = stats ?? { append: 0, replay: 0, concurrency: 0, 'id-conflict': 0 };
  }

  /** Mirrors the contract: idempotent-id check first, then the expected-version check. */
  predict(streamId: string, events: readonly (SentEvent & { id: string })[], expected: ExpectedVersion): Prediction {
    const p = this.#predict(streamId, events, expected);
    this.stats[p.kind]++;
    return p;
  }

  #predict(streamId: string, events: readonly (SentEvent & { id: string })[], expected: ExpectedVersion): Prediction {
    const existing = events.map((e) => this.byId.get(e.id));
    if (existing.some((e) => e !== undefined)) {
      const isRetry = events.every((e, i) => {
        const s = existing[i];
        return s !== undefined && s.streamId === streamId && s.type === e.type && isDeepStrictEqual(s.data, json(e.data));
      });
      if (!isRetry) return { kind: 'id-conflict' };
      const stored = existing as ModelEvent[];
      return {
        kind: 'replay',
        result: {
          nextExpectedVersion: stored.reduce((m, s) => (s.streamVersion > m ? s.streamVersion : m), 0n),
          lastGlobalPosition: stored.reduce((m, s) => (s.globalPosition > m ? s.globalPosition : m), 0n),
        },
      };
    }
    const current = this.version(streamId);
    const ok =
      expected === 'any' ||
      (expected === 'no_stream' && current === 0n) ||
      (expected === 'stream_exists' && current > 0n) ||
      (typeof expected === 'bigint' && (expected === current || (expected === 0n && current === 0n)));
    return ok ? { kind: 'append', current } : { kind: 'concurrency', actual: current };
  }

  /**
   * Records a successful append given the store's result; returns a problem description or null.
   * Checks the result before trusting its positions.
   */
  commit(streamId: string, events: readonly (SentEvent & { id: string })[], current: bigint, result: AppendResult, recordedAt: number): string | null {
    const n = BigInt(events.length);
    if (result.nextExpectedVersion !== current + n) return `nextExpectedVersion ${result.nextExpectedVersion}, model ${current + n}`;
    const first = result.lastGlobalPosition - n + 1n;
    if (first <= this.lastPosition) return `positions ${first}..${result.lastGlobalPosition} not above ${this.lastPosition}`;
    const stream = this.streams.get(streamId) ?? [];
    events.forEach((e, i) => {
      const m: ModelEvent = {
        id: e.id,
        streamId,
        streamVersion: current + 1n + BigInt(i),
        globalPosition: first + BigInt(i),
        type: e.type,
        data: json(e.data),
        metadata: e.metadata === undefined ? null : json(e.metadata),
        recordedAt,
        schemaVersion: 1,
      };
      stream.push(m);
      this.log.push(m);
      this.byId.set(m.id, m);
    });
    this.streams.set(streamId, stream);
    this.lastPosition = result.lastGlobalPosition;
    return null;
  }

  readStream(streamId: string, o: { fromVersion?: bigint; maxCount?: number; direction?: 'forward' | 'backward' }): ModelEvent[] {
    const all = this.streams.get(streamId) ?? [];
    const picked =
      o.direction === 'backward'
        ? all.filter((e) => o.fromVersion === undefined || e.streamVersion <= o.fromVersion).reverse()
        : all.filter((e) => e.streamVersion >= (o.fromVersion ?? 1n));
    return o.maxCount === undefined ? picked : picked.slice(0, o.maxCount);
  }

  readAll(o: { fromPosition?: bigint; maxCount?: number; types?: string[] }): ModelEvent[] {
    const types = o.types;
    const picked = this.log.filter((e) => e.globalPosition >= (o.fromPosition ?? 0n) && (types === undefined || types.includes(e.type)));
    return o.maxCount === undefined ? picked : picked.slice(0, o.maxCount);
  }

  /** Fold in version order up to `asOf`: stops at the first event past the version or recorded after the time. */
  aggregate(streamId: string, asOf: { version?: bigint; time?: number }): { state: string[]; version: bigint } {
    const state: string[] = [];
    let version = 0n;
    for (const e of this.streams.get(streamId) ?? []) {
      if (asOf.version !== undefined && e.streamVersion > asOf.version) break;
      if (asOf.time !== undefined && e.recordedAt > asOf.time) break;
      state.push(`${e.streamVersion}:${e.id}`);
      version = e.streamVersion;
    }
    return { state, version };
  }
}
