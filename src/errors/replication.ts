/** Replication errors; import them from `errors.ts` (the one public error module). @module */
import { TesseraError, type TesseraErrorOptions } from './base.js';

/**
 * A replica could not be reached or queried (at open, or by a health check). Reads keep going to the other
 * members; a replica set refuses to open only when a configured replica cannot be reached at all.
 * @example
 * ```ts
 * catch (e) { if (e instanceof ReplicaUnavailableError) console.log(e.replica, e.hint); }
 * ```
 */
export class ReplicaUnavailableError extends TesseraError {
  constructor(readonly replica: string, detail: string, options: TesseraErrorOptions = {}) {
    super('REPLICA_UNAVAILABLE', `Replica "${replica}" is unavailable: ${detail}`, {
      hint: 'Check that the replica server runs and accepts connections at the configured address, or remove it from `replicas`.',
      retryable: true,
      ...options,
    });
  }
}

/**
 * A server configured as a replica is not a hot standby (`pg_is_in_recovery()` is false): reads routed to it
 * would not follow the primary, so the replica set refuses it.
 * @example
 * ```ts
 * catch (e) { if (e instanceof NotAStandbyError) console.log(e.replica); }
 * ```
 */
export class NotAStandbyError extends TesseraError {
  constructor(readonly replica: string) {
    super('NOT_A_STANDBY', `Server "${replica}" is not a streaming replica (pg_is_in_recovery() is false)`, {
      hint: 'Point `replicas` at hot standbys of the primary (pg_basebackup -R), or at the primary under `primary`.',
    });
  }
}

/**
 * A read-your-writes session token could not be parsed (damaged cookie or header, or another format).
 * @example
 * ```ts
 * catch (e) { if (e instanceof MalformedSessionTokenError) session = replicaSet.session(); }
 * ```
 */
export class MalformedSessionTokenError extends TesseraError {
  constructor(readonly token: string) {
    super('MALFORMED_SESSION_TOKEN', `Session token ${JSON.stringify(token.slice(0, 80))} is not a Tessera replication token`, {
      hint: 'Pass the exact string from `session.token` (e.g. "rsv1:0/3000148"), or start a new session without a token.',
    });
  }
}

/**
 * The primary could not take a write: it is down, or it changed (failover) while the write was in flight.
 * The write may or may not have committed on the old primary; retrying the same append with the same event
 * ids is safe (stored ids are recognised), and the replica set retries against the new primary once found.
 * @example
 * ```ts
 * catch (e) { if (e instanceof PrimaryUnavailableError && e.retryable) await retrySameAppend(); }
 * ```
 */
export class PrimaryUnavailableError extends TesseraError {
  /** Ids of the events of the failed append (generated ones included): retry with exactly these. */
  readonly eventIds: readonly string[];

  constructor(detail: string, options: TesseraErrorOptions & { eventIds?: readonly string[] } = {}) {
    const { eventIds = [], ...rest } = options;
    super('PRIMARY_UNAVAILABLE', `The primary cannot take writes: ${detail}`, {
      hint: 'Retry the same append with the same event ids after a short wait: the replica set follows a promoted replica on its own.',
      retryable: true,
      ...rest,
    });
    this.eventIds = eventIds;
  }
}

/**
 * Another log-shipping follower moved the same checkpoint in the target: two followers were copying into
 * one target under one name. This follower's batch was rolled back.
 * @example
 * ```ts
 * catch (e) { if (e instanceof FollowerCheckpointConflictError) await follower.close(); }
 * ```
 */
export class FollowerCheckpointConflictError extends TesseraError {
  constructor(readonly follower: string, readonly expected: bigint, readonly actual: bigint) {
    super('FOLLOWER_CHECKPOINT_CONFLICT', `Follower "${follower}" expected its checkpoint at ${expected} but found ${actual}`, {
      hint: 'Run one follower per target and name; stop the other one (its copy is consistent: checkpoint and events commit together).',
    });
  }
}

/**
 * `verify` found the copy different from the source (the report, printed before, lists each difference).
 * @example
 * ```ts
 * catch (e) { if (e instanceof ReplicaDivergedError) console.log(e.divergences, e.firstEventId); }
 * ```
 */
export class ReplicaDivergedError extends TesseraError {
  constructor(readonly divergences: number, readonly firstEventId: string | null) {
    super('REPLICA_DIVERGED', `The copy differs from the source in ${divergences} event(s)${firstEventId ? `, first at event ${firstEventId}` : ''}`, {
      hint: 'Rebuild the copy from the source (delete it and run the follower again), or repair the named events.',
    });
  }
}
