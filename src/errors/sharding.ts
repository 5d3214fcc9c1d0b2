/** Sharding errors; import them from `errors.ts` (the one public error module). @module */
import { TesseraError, type TesseraErrorOptions } from './base.js';

/**
 * A write was routed with a shard map older than the one the shard has accepted (or to a shard that no
 * longer owns the key's slot). The shard refused it inside its own transaction, so nothing was written;
 * the router refreshes its map and retries (bounded). Also thrown by a compare-and-set on an outdated epoch.
 * @example
 * ```ts
 * catch (e) { if (isTesseraError(e, 'STALE_SHARD_MAP')) { await router.refresh(); } }
 * ```
 */
export class StaleShardMapError extends TesseraError {
  constructor(readonly expectedEpoch: number, readonly actualEpoch: number, detail: string, options: TesseraErrorOptions = {}) {
    super('STALE_SHARD_MAP', `Stale shard map (epoch ${expectedEpoch}, current ${actualEpoch}): ${detail}`, {
      hint: 'Reload the shard map from the catalog (router.refresh()) and route again; a sharded store does this by itself a few times.',
      retryable: true,
      ...options,
    });
  }
}

/**
 * A shard map breaks a rule: overlapping or missing ranges, an unassigned slot, an unknown or duplicate
 * shard, an empty shard list. Nothing was saved.
 * @example
 * ```ts
 * catch (e) { if (e instanceof InvalidShardMapError) console.log(e.message, e.hint); }
 * ```
 */
export class InvalidShardMapError extends TesseraError {
  constructor(reason: string, hint: string) {
    super('INVALID_SHARD_MAP', `Invalid shard map: ${reason}`, { hint });
  }
}

/**
 * A shard id that the shard map does not list.
 * @example
 * ```ts
 * catch (e) { if (e instanceof UnknownShardError) console.log(e.shard); }
 * ```
 */
export class UnknownShardError extends TesseraError {
  constructor(readonly shard: string, known: readonly string[]) {
    super('UNKNOWN_SHARD', `Unknown shard "${shard}"`, {
      hint: known.length > 0 ? `Use one of: ${known.join(', ')} (tessera shards show lists them).` : 'Add shards to the map first (tessera shards add).',
    });
  }
}

/**
 * A shard could not be reached or did not answer in time. Keys of other shards keep working.
 * @example
 * ```ts
 * catch (e) { if (isTesseraError(e, 'SHARD_UNAVAILABLE')) console.log(e.message); }
 * ```
 */
export class ShardUnavailableError extends TesseraError {
  constructor(readonly shard: string, detail: string, options: TesseraErrorOptions = {}) {
    super('SHARD_UNAVAILABLE', `Shard "${shard}" is unavailable: ${detail}`, {
      hint: 'Check that the shard database runs and is reachable; pass partial: true to a scatter-gather query to get the other shards\' rows.',
      retryable: true,
      ...options,
    });
  }
}

/**
 * A scatter-gather query that cannot be answered correctly by merging per-shard results (HAVING, DISTINCT
 * across shards, joins across shards, an aggregate over an ORDER BY column it does not group by, …).
 * @example
 * ```ts
 * catch (e) { if (e instanceof UnsupportedQueryError) console.log(e.reason); }
 * ```
 */
export class UnsupportedQueryError extends TesseraError {
  constructor(readonly reason: string, hint: string) {
    super('UNSUPPORTED_QUERY', `Query cannot be merged across shards: ${reason}`, { hint });
  }
}
