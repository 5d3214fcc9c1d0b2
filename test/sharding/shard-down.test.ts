import { afterAll, describe, expect, it } from 'vitest';
import { isTesseraError, openShardedEventStore, ShardUnavailableError } from '../../src/index.js';
import { destroyAllPgClusters, startPgCluster } from '../support/pg-cluster.js';
import { freshSchemaName } from '../support/pg-schema.js';

// Three throwaway clusters, one shard on each; the test stops one of them.
const clusters = await Promise.all([startPgCluster(), startPgCluster(), startPgCluster()]);
afterAll(destroyAllPgClusters);

describe('one shard down', () => {
  it('reads and writes of its keys fail with ShardUnavailableError; other keys keep working; it recovers on restart', async () => {
    const schema = freshSchemaName('down');
    const store = await openShardedEventStore({
      catalog: { kind: 'postgres', connectionString: clusters[0]!.url, schema: `${schema}_catalog` },
      shards: clusters.map((c, i) => ({ id: `pg${i}`, connection: { kind: 'postgres' as const, connectionString: c.url, schema, maxConnections: 3 } })),
    });
    try {
      const streams = Array.from({ length: 30 }, (_, i) => `acct-${i}`);
      for (const s of streams) await store.appendToStream(s, [{ type: 'Opened', data: { s } }]);
      const onDown = streams.filter((s) => store.router.route(s).shard === 'pg1');
      const elsewhere = streams.filter((s) => store.router.route(s).shard !== 'pg1');
      expect(onDown.length).toBeGreaterThan(0);
      expect(elsewhere.length).toBeGreaterThan(0);

      await clusters[1]!.stopImmediate();
      for (const s of onDown.slice(0, 3)) {
        const err = await store.readStream(s).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(ShardUnavailableError);
        expect(err).toMatchObject({ code: 'SHARD_UNAVAILABLE', shard: 'pg1', retryable: true });
        const werr = await store.appendToStream(s, [{ type: 'Late', data: {} }]).catch((e: unknown) => e);
        expect(isTesseraError(werr, 'SHARD_UNAVAILABLE')).toBe(true);
      }
      for (const s of elsewhere) {
        expect(await store.readStream(s)).toHaveLength(1);
        await store.appendToStream(s, [{ type: 'StillOk', data: {} }], { expectedVersion: 1n });
      }
      // A global read needs every shard: it fails with the same typed error, naming the shard.
      await expect(store.readAll()).rejects.toMatchObject({ code: 'SHARD_UNAVAILABLE', shard: 'pg1' });

      await clusters[1]!.start();
      expect(await store.readStream(onDown[0]!)).toHaveLength(1);
      const all = await store.readAll();
      expect(all).toHaveLength(30 + elsewhere.length);
      expect(all.filter((e) => e.type === 'Late')).toEqual([]); // the refused writes left nothing
    } finally {
      await store.close();
    }
  });
});
