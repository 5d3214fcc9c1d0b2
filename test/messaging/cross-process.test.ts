import { afterEach, describe, expect, it } from 'vitest';
import { openSqliteEventStore } from '../../src/index.js';
import { killAllChildren, spawnTsx, type TsxChild } from '../support/processes.js';
import { tempDir } from '../support/tmp.js';
import { deleteStreams, NATS_URL, uniqueBusNames, until } from './nats-helpers.js';
import { appliedCount, readAllEvents, verifyEffects } from './verify.js';

const FIX = new URL('./fixtures/', import.meta.url).pathname;
const TOTAL = Number(process.env.TESSERA_XPROC_EVENTS ?? 10_000);
const cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  await killAllChildren();
  for (const f of cleanup.splice(0).reverse()) await Promise.resolve(f()).catch(() => undefined);
});

describe('cross-process: producer → relay → consumer group of two processes (NATS JetStream)', () => {
  it(`applies each of ${TOTAL} events exactly once, keeping per-stream order`, async () => {
    const tmp = tempDir('tessera-xproc-');
    cleanup.push(tmp.remove);
    const names = uniqueBusNames('xproc');
    cleanup.push(() => deleteStreams(NATS_URL, [names.streamName]));
    const dbPath = `${tmp.dir}/events.db`;
    const effectsPath = `${tmp.dir}/effects.db`;
    const started = Date.now();

    const producer = spawnTsx(`${FIX}producer.ts`, [JSON.stringify({ dbPath, total: TOTAL, streams: 50, perAppend: 5 })], { name: 'producer' });
    await producer.waitForLine((l) => l === 'ready', 30_000);
    const relay = spawnTsx(`${FIX}relay.ts`, [JSON.stringify({ dbPath, url: NATS_URL, ...names, owner: 'relay-1' })], { name: 'relay' });
    const consumers: TsxChild[] = ['w1', 'w2'].map((worker) =>
      spawnTsx(`${FIX}consumer.ts`, [JSON.stringify({ effectsPath, url: NATS_URL, ...names, consumer: 'ledger', worker })], { name: worker }),
    );
    await Promise.all([relay, ...consumers].map((c) => c.waitForLine((l) => l === 'ready', 30_000)));
    await producer.waitForLine((l) => l.startsWith('done'), 60_000);
    await until(async () => (await appliedCount(effectsPath)) >= TOTAL, 90_000, `${TOTAL} effects`);
    // A short grace period in which a double application would surface.
    await new Promise((r) => setTimeout(r, 500));

    const store = await openSqliteEventStore({ path: dbPath });
    const events = await readAllEvents((from) => store.readAll({ fromPosition: from, maxCount: 5_000 }));
    await store.close();
    const report = await verifyEffects(effectsPath, events);
    console.log(`cross-process: ${JSON.stringify(report)} in ${Date.now() - started} ms`);
    expect(report.events).toBe(TOTAL);
    expect(report.lost).toBe(0);
    expect(report.doubleApplied).toBe(0);
    expect(report.applied).toBe(TOTAL);
    expect(report.orderViolations).toBe(0);
    expect(Object.keys(report.workers).sort()).toEqual(['w1', 'w2']);
  }, 150_000);
});
