import { expect } from 'vitest';
import type { EventStore } from '../../src/index.js';
import { consumerGroupStatus } from '../../src/partitioning/index.js';
import { sleep, spawnTsx, type TsxChild } from '../support/processes.js';
import { checkEffects, createEffects, type GroupAdapter, readEffects } from './adapters.js';
import { eventually } from './group-conformance.js';

const MEMBER = new URL('./fixtures/member.ts', import.meta.url).pathname;
const STREAMS = 200;
const SESSION_MS = 2_000;

/** Appends one event at a time to 200 streams until stopped; retries a failed append with the same id. */
function startWriter(store: EventStore): { stop(): Promise<number> } {
  let running = true;
  let written = 0;
  const done = (async () => {
    for (let i = 0; running; i++) {
      const event = { id: crypto.randomUUID(), type: 'Tick', data: { i } };
      for (;;) {
        try {
          await store.appendToStream(`s-${i % STREAMS}`, [event]);
          break;
        } catch {
          await sleep(50); // a member paused inside a SQLite write transaction holds the lock
        }
      }
      written++;
    }
  })();
  return { stop: async () => ((running = false), await done, written) };
}

/**
 * The issue's scenario: 3 member processes on 8 partitions while a writer appends to 200 streams; kill -9 one,
 * SIGSTOP another past its session, start a new one, SIGCONT the stopped one. At the end every event was
 * handled exactly once (effects commit with the checkpoint), in stream order, and within each partition the
 * fencing token never went back (no two holders' commits interleaved).
 */
export async function membersCrashScenario(adapter: GroupAdapter): Promise<Record<string, number | string>> {
  const store = await adapter.openStore();
  await createEffects(store);
  const writer = startWriter(store);
  const spawnMember = (id: string): TsxChild => spawnTsx(MEMBER, [...adapter.childArgs, 'crash', id, String(SESSION_MS)], { name: id });
  const [m1, m2, m3] = ['m1', 'm2', 'm3'].map(spawnMember) as [TsxChild, TsxChild, TsxChild];
  for (const m of [m1, m2, m3]) await m.waitForLine((l) => l.includes('"assigned"'), 90_000);
  await sleep(1_000);
  await m1.kill9();
  await sleep(500);
  m2.process.kill('SIGSTOP');
  await sleep(SESSION_MS * 2);
  const m4 = spawnMember('m4');
  await m4.waitForLine((l) => l.includes('"assigned"'), 90_000);
  await sleep(1_000);
  m2.process.kill('SIGCONT');
  await sleep(1_500);
  const written = await writer.stop();
  await eventually(async () => (await consumerGroupStatus(store, 'crash')).totalLag === 0, 120_000, 'group caught up');
  const status = await consumerGroupStatus(store, 'crash');
  for (const m of [m2, m3, m4]) await m.kill9();
  const result = await checkEffects(store, await readEffects(store));
  expect(result.violations).toEqual([]);
  expect(result.handled).toBe(result.events);
  expect(result.events).toBe(written);
  const fenced = m2.lines.filter((l) => l.includes('"fenced"')).length;
  return { events: result.events, handled: result.handled, liveMembers: status.members.filter((m) => m.live).length, m2FencedPartitions: fenced };
}
