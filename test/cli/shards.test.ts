import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openShardedEventStore } from '../../src/index.js';
import { tempDir } from '../support/tmp.js';
import { runCli } from './run-cli.js';

const tmp = tempDir('tessera-cli-shards-');
afterAll(() => tmp.remove());

describe('tessera shards', () => {
  it('shows the map, routes keys like the store does, adds a shard, and refuses bad input with exit code 1', { timeout: 60_000 }, async () => {
    const catalog = join(tmp.dir, 'catalog.db');
    const store = await openShardedEventStore({
      catalog: { kind: 'sqlite', path: catalog },
      shards: ['a', 'b', 'c'].map((id) => ({ id, connection: { kind: 'sqlite' as const, path: join(tmp.dir, `${id}.db`) } })),
    });
    const expected = store.router.route('order-42');
    await store.close();
    const db = join(tmp.dir, 'unused.db');

    const show = await runCli(db, ['shards', '--catalog', catalog, 'show', '--json']);
    expect(show.code).toBe(0);
    const map = JSON.parse(show.stdout) as { epoch: number; strategy: string; shards: Array<{ id: string; slots: number }> };
    expect(map).toMatchObject({ epoch: 1, strategy: 'hash' });
    expect(map.shards.map((s) => [s.id, s.slots])).toEqual([['a', 1366], ['b', 1365], ['c', 1365]]);

    const route = await runCli(db, ['shards', '--catalog', catalog, 'route', 'order-42', '--json']);
    expect(route.code).toBe(0);
    expect(JSON.parse(route.stdout)).toEqual({ key: 'order-42', shard: expected.shard, slot: expected.slot, epoch: 1 });

    const add = await runCli(db, ['shards', '--catalog', catalog, 'add', 'd', join(tmp.dir, 'd.db')]);
    expect(add.code).toBe(0);
    expect(add.stdout).toContain('added shard d (epoch 2)');
    expect(add.stdout).toMatch(/d\s+3\s+1024/);

    const text = await runCli(db, ['shards', '--catalog', catalog, 'route', 'order-42']);
    expect(text.stdout).toMatch(/epoch\s+2/);

    const dup = await runCli(db, ['shards', '--catalog', catalog, 'add', 'd', join(tmp.dir, 'd2.db'), '--json']);
    expect(dup.code).toBe(1);
    expect(dup.stderr).toContain('INVALID_SHARD_MAP');
    const missing = await runCli(db, ['shards', 'show']);
    expect(missing.code).not.toBe(0);
  });
});
