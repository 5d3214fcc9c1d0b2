import type { Command } from 'commander';
import { InvalidArgumentError } from '../../errors.js';
import { addShard } from '../../sharding/admin.js';
import { type CatalogConnection, openShardCatalog, type ShardCatalog } from '../../sharding/catalog.js';
import type { ShardConnection, ShardMap } from '../../sharding/map.js';
import { slotsByShard } from '../../sharding/plan.js';
import { ShardRouter } from '../../sharding/router.js';
import { globalOptions, storeTarget, writeLine } from '../context.js';
import { jsonLine, keyValues, table } from '../format.js';

/**
 * `tessera shards show|route <key>|add <id> <location>`: the shard map in the catalog (`--catalog`, a
 * SQLite file or a postgres:// URL), where a key goes, and adding a shard (hash maps move whole slots to
 * it, only while they hold no events).
 *
 * @example
 * ```sh
 * tessera shards show --catalog ./data/catalog.db
 * tessera shards route order-42 --catalog ./data/catalog.db --json
 * tessera shards add d ./data/shard-d.db --catalog ./data/catalog.db
 * ```
 */
export function register(program: Command): void {
  const shards = program
    .command('shards')
    .description('show the shard map, route a key, add a shard')
    .requiredOption('--catalog <path|url>', 'shard catalog: a SQLite file, or a postgres:// URL', process.env.TESSERA_SHARD_CATALOG)
    .option('--catalog-schema <name>', 'PostgreSQL schema of the catalog (with a postgres:// --catalog)');

  shards
    .command('show')
    .description('epoch, strategy, shards with their slot counts and directory pins')
    .action(async (_opts: unknown, cmd: Command) => {
      await withCatalog(cmd, async (catalog, json) => {
        const router = await ShardRouter.open(catalog);
        const view = describeMap(router.map, router.directory);
        if (json) await writeLine(jsonLine(view));
        else await writeLine(renderMap(view));
      });
    });

  shards
    .command('route <key>')
    .description('the shard (and hash slot) a key goes to under the current map')
    .action(async (key: string, _opts: unknown, cmd: Command) => {
      await withCatalog(cmd, async (catalog, json) => {
        const route = (await ShardRouter.open(catalog)).route(key);
        if (json) await writeLine(jsonLine({ key, ...route }));
        else await writeLine(keyValues([['key', key], ['shard', route.shard], ['slot', route.slot === null ? '-' : String(route.slot)], ['epoch', String(route.epoch)]]));
      });
    });

  shards
    .command('add <id> <location>')
    .description('add a shard (a SQLite file or a postgres:// URL); hash maps move ⌊S/(n+1)⌋ empty slots to it')
    .option('--schema <name>', 'PostgreSQL schema of the new shard\'s event store')
    .option('--split-at <key>', 'range maps: the key where the new shard\'s range starts')
    .action(async (id: string, location: string, opts: { schema?: string; splitAt?: string }, cmd: Command) => {
      const target = storeTarget({ db: location, schema: opts.schema ?? 'tessera', json: false });
      const connection: ShardConnection =
        target.kind === 'sqlite' ? { kind: 'sqlite', path: target.path } : { kind: 'postgres', connectionString: target.url, ...(opts.schema ? { schema: target.schema } : {}) };
      await withCatalog(cmd, async (catalog, json) => {
        const state = await addShard(catalog, { id, connection }, opts.splitAt === undefined ? {} : { splitAt: opts.splitAt });
        const view = describeMap(state.map, state.directory);
        if (json) await writeLine(jsonLine(view));
        else await writeLine(`added shard ${id} (epoch ${state.map.epoch})\n\n${renderMap(view)}`);
      });
    });
}

async function withCatalog(cmd: Command, fn: (catalog: ShardCatalog, json: boolean) => Promise<void>): Promise<void> {
  const o = cmd.optsWithGlobals<{ catalog?: string; catalogSchema?: string }>();
  if (o.catalog === undefined || o.catalog.length === 0) {
    throw new InvalidArgumentError('--catalog', 'is missing', 'Pass --catalog ./data/catalog.db (or a postgres:// URL), or set TESSERA_SHARD_CATALOG.');
  }
  const target = storeTarget({ db: o.catalog, schema: o.catalogSchema ?? 'public', json: false });
  const connection: CatalogConnection =
    target.kind === 'sqlite' ? { kind: 'sqlite', path: target.path } : { kind: 'postgres', connectionString: target.url, ...(o.catalogSchema ? { schema: target.schema } : {}) };
  const catalog = await openShardCatalog(connection);
  try {
    await fn(catalog, globalOptions(cmd).json);
  } finally {
    await catalog.close();
  }
}

/** The map as shown: connections without passwords. */
interface MapView {
  epoch: number;
  strategy: string;
  shards: Array<{ id: string; index: number; location: string; slots: number; pins: number }>;
}

function location(c: ShardConnection): string {
  if (c.kind === 'sqlite') return c.path;
  const url = new URL(c.connectionString);
  if (url.password !== '') url.password = '***';
  return `${url.toString()}${c.schema ? ` (schema ${c.schema})` : ''}`;
}

function describeMap(map: ShardMap, directory: ReadonlyMap<string, string>): MapView {
  const slots = slotsByShard(map);
  const pins = [...directory.values()];
  const strategy = map.strategy.kind === 'composite' ? `composite (directory over ${map.strategy.fallback.kind})` : map.strategy.kind;
  return {
    epoch: map.epoch,
    strategy,
    shards: [...map.shards]
      .sort((a, b) => a.index - b.index)
      .map((s) => ({ id: s.id, index: s.index, location: location(s.connection), slots: slots.get(s.id)?.length ?? 0, pins: pins.filter((p) => p === s.id).length })),
  };
}

function renderMap(v: MapView): string {
  const head = keyValues([['epoch', String(v.epoch)], ['strategy', v.strategy]]);
  const rows = v.shards.map((s) => [s.id, String(s.index), String(s.slots), String(s.pins), s.location]);
  return `${head}\n\n${table(['shard', 'index', 'slots', 'pins', 'location'], rows, ['left', 'right', 'right', 'right', 'left'])}`;
}
