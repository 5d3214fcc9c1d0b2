import { afterEach, describe, expect, it } from 'vitest';
import { openSqliteEventStore } from '../../src/index.js';
import { killAllChildren, spawnTsx, type TsxChild } from '../support/processes.js';
import { tempDir } from '../support/tmp.js';
import { until } from './nats-helpers.js';
import { startThrowawayNats, type ThrowawayNats } from './nats-server.js';
import { appliedCount, consumerStats, diagnose, readAllEvents, verifyEffects } from './verify.js';

const FIX = new URL('./fixtures/', import.meta.url).pathname;
const TOTAL = Number(process.env.TESSERA_FAULT_EVENTS ?? (process.env.TESSERA_SOAK === '1' ? 30_000 : 6_000));
const cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  await killAllChildren();
  for (const f of cleanup.splice(0).reverse()) await Promise.resolve(f()).catch(() => undefined);
});

describe('faults: kill -9 of nats-server, the relay and a consumer', () => {
  it('loses nothing and applies nothing twice', async () => {
    const tmp = tempDir('tessera-faults-');
    cleanup.push(tmp.remove);
    const nats: ThrowawayNats = await startThrowawayNats();
    cleanup.push(() => nats.destroy());
    const names = { streamName: 'FAULTS', prefix: 'faults' };
    const dbPath = `${tmp.dir}/events.db`;
    const effectsPath = `${tmp.dir}/effects.db`;
    const relayArgs = (owner: string): string[] => [JSON.stringify({ dbPath, url: nats.url, ...names, owner })];
    const consumerArgs = (worker: string): string[] => [JSON.stringify({ effectsPath, url: nats.url, ...names, consumer: 'ledger', worker })];
    const ready = (c: TsxChild): Promise<string> => c.waitForLine((l) => l === 'ready', 30_000);
    const applied = (): Promise<number> => appliedCount(effectsPath);
    const faults: string[] = [];

    const producer = spawnTsx(`${FIX}producer.ts`, [JSON.stringify({ dbPath, total: TOTAL, streams: 40, perAppend: 4, pauseMs: 3 })], { name: 'producer' });
    await ready(producer);
    const relay1 = spawnTsx(`${FIX}relay.ts`, relayArgs('relay-1'), { name: 'relay-1' });
    let relay = relay1;
    const c1 = spawnTsx(`${FIX}consumer.ts`, consumerArgs('c1'), { name: 'c1' });
    const c2 = spawnTsx(`${FIX}consumer.ts`, consumerArgs('c2'), { name: 'c2' });
    await Promise.all([relay, c1, c2].map(ready));

    await until(async () => (await applied()) >= TOTAL * 0.15, 60_000, 'first effects');
    faults.push(`nats kill -9 at ${await applied()} applied`);
    await nats.kill9();
    await new Promise((r) => setTimeout(r, 1_000));
    await nats.restart();

    await until(async () => (await applied()) >= TOTAL * 0.4, 60_000, 'effects after the nats restart');
    faults.push(`relay kill -9 at ${await applied()} applied`);
    await relay.kill9();
    relay = spawnTsx(`${FIX}relay.ts`, relayArgs('relay-2'), { name: 'relay-2' });
    await ready(relay);

    await until(async () => (await applied()) >= TOTAL * 0.6, 60_000, 'effects after the relay restart');
    faults.push(`consumer c1 kill -9 at ${await applied()} applied`);
    await c1.kill9();
    const c1b = spawnTsx(`${FIX}consumer.ts`, consumerArgs('c1b'), { name: 'c1b' });
    await ready(c1b);

    await producer.waitForLine((l) => l.startsWith('done'), 60_000);
    await until(async () => (await applied()) >= TOTAL, 90_000, `${TOTAL} effects`).catch(async (e: unknown) => {
      console.log(await diagnose(nats.url, names.streamName, dbPath, effectsPath, [relay, c2, c1b]));
      throw e;
    });
    await new Promise((r) => setTimeout(r, 1_000));

    const store = await openSqliteEventStore({ path: dbPath });
    const events = await readAllEvents((from) => store.readAll({ fromPosition: from, maxCount: 5_000 }));
    await store.close();
    const report = await verifyEffects(effectsPath, events);
    const stats = await consumerStats(nats.url, names.streamName, 'ledger');
    const errors = [relay1, relay, c1, c2, c1b].flatMap((c) => c.lines.filter((l) => l.startsWith('error')).map((l) => `${c.name}: ${l}`));
    console.log(`faults: ${faults.join('; ')}`);
    console.log(`faults result: ${JSON.stringify(report)}; JetStream consumer: ${JSON.stringify(stats)}; recovered errors seen: ${errors.length} (e.g. ${JSON.stringify(errors.slice(0, 3))})`);
    expect(report.events).toBe(TOTAL);
    expect(report.lost).toBe(0);
    expect(report.doubleApplied).toBe(0);
    expect(report.applied).toBe(TOTAL);
    expect(report.orderViolations).toBe(0);
  }, 240_000);
});
