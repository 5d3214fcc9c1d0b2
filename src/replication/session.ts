import type { AggregateOptions, AppendOptions, NewEvent, ReadAllOptions, ReadStreamOptions, RecordedEvent } from '../eventstore/types.js';
import type { SqlValue } from '../storage/port.js';
import { decodeSessionToken, encodeSessionToken, maxLsn } from './lsn.js';
import type { ReadConsistency } from './options.js';
import type { ReplicaAppendResult, ReplicaSet, SessionPosition } from './replica-set.js';

/**
 * One client's session on a replica set: reads default to `read-your-writes` (they see the session's own
 * writes) and are monotonic (never older than what an earlier read of the session saw), whichever replica
 * serves them. `token` carries the session's position between processes (a cookie, a header).
 *
 * @example
 * ```ts
 * const session = replicaSet.session(request.headers['x-rs-token']);
 * await session.appendToStream('order-7', [{ type: 'OrderPlaced', data: {} }]);
 * const [placed] = await session.readStream('order-7', { direction: 'backward', maxCount: 1 });
 * reply.header('x-rs-token', session.token);
 * ```
 */
export class ReplicaSession {
  #floor: bigint;
  readonly #position: SessionPosition;

  /** @internal Use `replicaSet.session(token?)`. */
  constructor(private readonly set: ReplicaSet, floor: bigint) {
    this.#floor = floor;
    const read = (): bigint => this.#floor;
    this.#position = Object.defineProperty({ saw: (lsn: bigint) => void (this.#floor = maxLsn(this.#floor, lsn)) }, 'floor', { get: read, enumerable: true }) as SessionPosition;
  }

  /** The serialisable position (`rsv1:<LSN>`): every read of this session sees at least this much of the log. */
  get token(): string {
    return encodeSessionToken(this.#floor);
  }

  async appendToStream(streamId: string, events: NewEvent[], opts?: AppendOptions): Promise<ReplicaAppendResult> {
    const result = await this.set.appendToStream(streamId, events, opts);
    this.#position.saw(decodeSessionToken(result.sessionToken));
    return result;
  }

  readStream(streamId: string, opts?: ReadStreamOptions & ReadConsistency): Promise<RecordedEvent[]> {
    return this.set.readStream(streamId, opts, this.#position);
  }

  readAll(opts?: ReadAllOptions & ReadConsistency): Promise<RecordedEvent[]> {
    return this.set.readAll(opts, this.#position);
  }

  streamExists(streamId: string, opts?: ReadConsistency): Promise<boolean> {
    return this.set.streamExists(streamId, opts, this.#position);
  }

  aggregateStream<S>(streamId: string, opts: AggregateOptions<S> & ReadConsistency): Promise<{ state: S; version: bigint }> {
    return this.set.aggregateStream(streamId, opts, this.#position);
  }

  query<R extends object = Record<string, unknown>>(sql: string, params: readonly SqlValue[] = [], opts?: ReadConsistency): Promise<R[]> {
    return this.set.query<R>(sql, params, opts, this.#position);
  }
}
