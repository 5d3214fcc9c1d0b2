import { isTesseraError, UnknownShardError } from '../errors.js';
import { backoffDelay } from '../support/backoff.js';
import { sleep } from '../support/clock.js';
import type { CatalogState, ShardCatalog } from './catalog.js';
import { type ShardMap, shardIds, validateShardMap } from './map.js';
import { buildStrategy, type Placement, requireKey, type ShardStrategy } from './strategies.js';

/**
 * The router: a cached shard map (with its directory) and the strategy built from it. Routing is a pure,
 * in-memory call; the router reloads the map when a shard refuses a write as stale, and retries a bounded
 * number of times so callers never write to a shard that no longer owns the key.
 * @module
 */

/** A placement plus the epoch of the map that made it (what a shard checks before accepting a write). */
export interface Route extends Placement {
  epoch: number;
}

/** Options of {@link ShardRouter.withRoute}. */
export interface RetryOptions {
  /** Attempts in all (default 5). */
  attempts?: number;
  /** Randomness for the backoff jitter (default `Math.random`). */
  random?: () => number;
}

/**
 * Routes keys with the current map.
 * @example
 * ```ts
 * const router = await ShardRouter.open(catalog);
 * router.route('order-7'); // { shard: 'b', slot: 1234, epoch: 3 }
 * ```
 */
export class ShardRouter {
  #state!: CatalogState;
  #strategy!: ShardStrategy;
  #ids!: string[];

  private constructor(private readonly catalog: ShardCatalog | null) {}

  /** A router over the catalog's current map (which must exist). */
  static async open(catalog: ShardCatalog): Promise<ShardRouter> {
    const router = new ShardRouter(catalog);
    await router.refresh();
    return router;
  }

  /** A router over a fixed map (tests, benches, tools): `refresh()` keeps it. */
  static fixed(map: ShardMap, directory: ReadonlyMap<string, string> = new Map()): ShardRouter {
    validateShardMap(map, directory);
    const router = new ShardRouter(null);
    router.#use({ map, directory: new Map(directory) });
    return router;
  }

  get map(): ShardMap {
    return this.#state.map;
  }

  get epoch(): number {
    return this.#state.map.epoch;
  }

  get directory(): ReadonlyMap<string, string> {
    return this.#state.directory;
  }

  /** Shard ids in index order. */
  get shards(): readonly string[] {
    return this.#ids;
  }

  /** The shard (and hash slot) of `key` under the cached map. */
  route(key: string): Route {
    return { ...this.#strategy.place(requireKey(key)), epoch: this.#state.map.epoch };
  }

  /** Throws {@link UnknownShardError} unless `shard` is in the map. */
  requireShard(shard: string): string {
    if (!this.#ids.includes(shard)) throw new UnknownShardError(shard, this.#ids);
    return shard;
  }

  /** Reloads the map from the catalog (the directory cache is rebuilt with it, so it follows the epoch). */
  async refresh(): Promise<void> {
    if (this.catalog === null) return;
    const state = await this.catalog.load();
    if (state === null) throw new UnknownShardError('(none)', []);
    if (this.#state === undefined || state.map.epoch !== this.#state.map.epoch) this.#use(state);
  }

  /**
   * Routes `key` and runs `fn`; when `fn` fails with `STALE_SHARD_MAP`, refreshes the map and tries again
   * (bounded, with backoff), so a write lands on the shard that owns the key now.
   */
  async withRoute<T>(key: string, fn: (route: Route) => Promise<T>, opts: RetryOptions = {}): Promise<T> {
    const attempts = opts.attempts ?? 5;
    for (let attempt = 1; ; attempt++) {
      try {
        return await fn(this.route(key));
      } catch (e) {
        if (!isTesseraError(e, 'STALE_SHARD_MAP') || attempt >= attempts) throw e;
        if (attempt > 1) await sleep(backoffDelay({ initialDelayMs: 10, maxDelayMs: 200 }, attempt - 1, opts.random ?? Math.random));
        await this.refresh();
      }
    }
  }

  #use(state: CatalogState): void {
    this.#strategy = buildStrategy(state.map.strategy, state.directory);
    this.#ids = shardIds(state.map);
    this.#state = state;
  }
}
