import { z } from 'zod';
import { type ShardConnection, type ShardedEventStore, slotsByShard } from '../../sharding/index.js';
import type { ServerContext, TesseraApp } from '../context.js';

/**
 * What the shards panel shows: a sharded event store (its router's map, from the catalog) and where keys go.
 * @example
 * ```ts
 * const shards = await openShardedEventStore({ catalog: { kind: 'sqlite', path: './data/shards/catalog.db' }, shards: [...] });
 * createServer({ store, shards: { store: shards, label: 'order copies by stream id' } });
 * ```
 */
export interface ShardsSource {
  store: ShardedEventStore;
  /** What the sharded store holds, as shown. */
  label: string;
}

const shardSchema = z.object({ id: z.string(), index: z.number(), location: z.string(), slots: z.number(), pins: z.number(), events: z.number().nullable(), error: z.string().nullable() });
const mapSchema = z.object({ label: z.string(), epoch: z.number(), strategy: z.string(), totalSlots: z.number().nullable(), shards: z.array(shardSchema) });

/** A shard's place, without a password. */
function location(c: ShardConnection): string {
  if (c.kind === 'sqlite') return c.path;
  const url = new URL(c.connectionString);
  if (url.password !== '') url.password = '***';
  return `${url.toString()}${c.schema ? ` (schema ${c.schema})` : ''}`;
}

/** `GET /api/shards` (the map with slot and event counts per shard) and `GET /api/shards/route?key=` (where a key goes). */
export function shardRoutes(app: TesseraApp, _ctx: ServerContext, source: ShardsSource): void {
  const router = source.store.router;
  app.get('/api/shards', {
    schema: { summary: 'Shard map from the catalog: epoch, strategy, shards with slot and event counts', response: { 200: mapSchema } },
  }, async () => {
    await router.refresh();
    const map = router.map;
    const slots = slotsByShard(map);
    const pins = [...router.directory.values()];
    const strategy = map.strategy.kind === 'composite' ? `composite (directory over ${map.strategy.fallback.kind})` : map.strategy.kind;
    const hash = map.strategy.kind === 'hash' ? map.strategy : map.strategy.kind === 'composite' && map.strategy.fallback.kind === 'hash' ? map.strategy.fallback : null;
    const shards = await Promise.all([...map.shards].sort((a, b) => a.index - b.index).map(async (s) => {
      // One shard down must not hide the others: its count is null with the error beside it.
      const r = await source.store.query<{ n: number | bigint }>({ table: 'tessera_events', aggregates: [{ fn: 'count', as: 'n' }] }, { shards: [s.id], partial: true, timeoutMs: 2_000 });
      const n = r.rows[0]?.n;
      return {
        id: s.id, index: s.index, location: location(s.connection), slots: slots.get(s.id)?.length ?? 0, pins: pins.filter((p) => p === s.id).length,
        events: r.errors.length > 0 || n === undefined ? null : Number(n), error: r.errors[0]?.error.message ?? null,
      };
    }));
    return { label: source.label, epoch: map.epoch, strategy, totalSlots: hash?.owners.length ?? null, shards };
  });

  app.get('/api/shards/route', {
    schema: {
      summary: 'The shard (and hash slot) a key goes to under the current map',
      querystring: z.object({ key: z.string().min(1, 'must not be empty').max(500, 'must be at most 500 characters') }),
      response: { 200: z.object({ key: z.string(), shard: z.string(), slot: z.number().nullable(), epoch: z.number() }) },
    },
  }, async (req) => {
    await router.refresh();
    const r = router.route(req.query.key);
    return { key: req.query.key, shard: r.shard, slot: r.slot, epoch: r.epoch };
  });
}
