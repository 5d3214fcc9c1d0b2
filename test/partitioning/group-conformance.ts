import { afterEach, describe, expect, it } from 'vitest';
import {
  ConsumerHandlerError, type EventStore, InvalidArgumentError, PartitionCountMismatchError, storeDatabase, UnknownConsumerGroupError,
} from '../../src/index.js';
import {
  type ConsumerGroup, type ConsumerGroupOptions, type ConsumerHandler, consumerGroupStatus, listConsumerGroups, openConsumerGroup,
  repartitionConsumerGroup,
} from '../../src/partitioning/index.js';
import { checkEffects, createEffects, type GroupAdapter, type GroupAdapterFactory, readEffects, RECORD_EFFECT } from './adapters.js';

/** Polls `check` until it returns true; fails after `timeoutMs`. */
export async function eventually(check: () => Promise<boolean> | boolean, timeoutMs = 20_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A handler that records each handling in the checkpoint's transaction. */
export const recordEffect: ConsumerHandler = async (e, ctx) => {
  await ctx.tx!.sql.run(RECORD_EFFECT, [e.id, e.streamId, e.streamVersion, ctx.partition, ctx.memberId, ctx.fence]);
};

export async function appendRound(store: EventStore, streams: number, round: number): Promise<void> {
  for (let s = 0; s < streams; s++) await store.appendToStream(`s-${s}`, [{ type: 'Tick', data: { round } }]);
}

async function caughtUp(store: EventStore, group: string): Promise<boolean> {
  return (await consumerGroupStatus(store, group)).totalLag === 0;
}

/**
 * The consumer-group suite, run against every engine: each case gets a fresh store from `factory`.
 */
export function consumerGroupConformance(factory: GroupAdapterFactory): void {
  const name = factory().name;
  let adapter: GroupAdapter;
  let store: EventStore;
  const members: ConsumerGroup[] = [];
  const open = async (o: Partial<ConsumerGroupOptions> & { group: string }): Promise<ConsumerGroup> => {
    const m = await openConsumerGroup({ store, partitions: 8, handler: recordEffect, rebalanceIntervalMs: 50, pollIntervalMs: 20, batchSize: 50, ...o });
    members.push(m);
    return m;
  };

  describe(`consumer groups (${name})`, () => {
    afterEach(async () => {
      for (const m of members.splice(0)) await m.stop();
      await adapter?.cleanup();
    });
    const setup = async (): Promise<void> => {
      adapter = factory();
      store = await adapter.openStore();
      await createEffects(store);
    };

    it('one member handles every event once, in stream order, with a checkpoint per partition', async () => {
      await setup();
      for (let r = 0; r < 15; r++) await appendRound(store, 20, r);
      const m = await open({ group: 'g1', partitions: 4 });
      await eventually(() => caughtUp(store, 'g1'), 20_000, 'catch-up');
      const result = await checkEffects(store, await readEffects(store));
      expect(result).toEqual({ events: 300, handled: 300, violations: [] });
      const status = await m.status();
      expect(status.members.map((x) => [x.memberId, x.partitions])).toEqual([[m.memberId, [0, 1, 2, 3]]]);
      expect(status.partitionStatus.every((p) => p.checkpoint === status.head && p.lag === 0)).toBe(true);
    });

    it('members split partitions evenly and rebalance cooperatively while events flow', async () => {
      await setup();
      let writing = true;
      let round = 0;
      const writer = (async () => {
        while (writing) await appendRound(store, 30, round++);
      })();
      const revoked: Array<{ memberId: string; partition: number; to: string }> = [];
      const track = (m: ConsumerGroup): void => void m.events.on('revoked', (r: (typeof revoked)[number]) => revoked.push(r));
      const a = await open({ group: 'g2', memberId: 'a' });
      track(a);
      await eventually(() => a.assigned.length === 8, 10_000, 'a holds all');
      const b = await open({ group: 'g2', memberId: 'b' });
      track(b);
      await eventually(() => b.assigned.length === 4 && a.assigned.length === 4, 10_000, 'a and b balanced');
      const bFirst = b.assigned;
      const c = await open({ group: 'g2', memberId: 'c' });
      track(c);
      await eventually(() => c.assigned.length === 2 && a.assigned.length === 3 && b.assigned.length === 3, 10_000, 'three balanced');
      // Cooperative: b's join moved 4 partitions off a, c's join one off each; nothing else moved.
      expect(revoked.length).toBe(6);
      expect(revoked.filter((r) => r.to === 'b').map((r) => r.partition).sort()).toEqual(bFirst);
      await b.stop();
      await eventually(() => a.assigned.length === 4 && c.assigned.length === 4, 10_000, 'b left');
      expect(revoked.length).toBe(6);
      writing = false;
      await writer;
      await eventually(() => caughtUp(store, 'g2'), 30_000, 'catch-up');
      const result = await checkEffects(store, await readEffects(store));
      expect(result.violations).toEqual([]);
      expect(result.handled).toBe(result.events);
      expect(result.events).toBeGreaterThan(0);
    });

    it('a static member restarted with its id takes its own partitions back, without a rebalance', async () => {
      await setup();
      await appendRound(store, 10, 0);
      const a = await open({ group: 'g3', partitions: 6, memberId: 'static-a', sessionMs: 60_000 });
      const b = await open({ group: 'g3', partitions: 6, memberId: 'static-b', sessionMs: 60_000 });
      await eventually(() => a.assigned.length === 3 && b.assigned.length === 3, 10_000, 'balanced');
      const mine = a.assigned;
      let bAssignments = 0;
      b.events.on('assigned', () => bAssignments++);
      await a.stop({ leave: false });
      await appendRound(store, 10, 1);
      const again = await open({ group: 'g3', partitions: 6, memberId: 'static-a', sessionMs: 60_000 });
      // Far sooner than the 60 s session: only the static id can explain getting them back.
      await eventually(() => again.assigned.length === 3, 10_000, 'restart got its partitions');
      expect(again.assigned).toEqual(mine);
      expect(bAssignments).toBe(0);
      await eventually(() => caughtUp(store, 'g3'), 20_000, 'catch-up');
      expect((await checkEffects(store, await readEffects(store))).violations).toEqual([]);
    });

    it('a member whose leases were taken over is fenced: its late checkpoint commit is refused', async () => {
      await setup();
      await appendRound(store, 10, 0);
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      let handledByA = 0;
      const a = await open({
        group: 'g4', partitions: 2, memberId: 'a', delivery: 'at-least-once', sessionMs: 5_000,
        handler: async () => { handledByA++; await gate; },
      });
      const fenced: unknown[] = [];
      a.events.on('fenced', (f) => fenced.push(f));
      await eventually(() => handledByA === 1, 10_000, 'a inside its batch');
      // b's clock runs an hour ahead: to it, a's heartbeat and leases expired long ago (a paused process).
      const b = await open({ group: 'g4', partitions: 2, memberId: 'b', sessionMs: 5_000, clock: { now: () => Date.now() + 3_600_000 } });
      await eventually(() => b.assigned.length === 2, 10_000, 'b took over');
      await eventually(() => caughtUp(store, 'g4'), 10_000, 'b caught up');
      release();
      await eventually(() => fenced.length > 0, 10_000, 'a fenced');
      const effects = await readEffects(store);
      expect(new Set(effects.map((e) => e.member))).toEqual(new Set(['b']));
      expect((await checkEffects(store, effects)).violations).toEqual([]);
      const status = await consumerGroupStatus(store, 'g4', { clock: { now: () => Date.now() + 3_600_000 } });
      expect(status.partitionStatus.map((p) => p.owner)).toEqual(['b', 'b']);
    });

    it('a handler that keeps failing stops the member with ConsumerHandlerError; the checkpoint stays', async () => {
      await setup();
      await appendRound(store, 3, 0);
      const m = await open({ group: 'g5', partitions: 2, retry: { maxAttempts: 2, initialDelayMs: 1, maxDelayMs: 2 }, handler: () => { throw new Error('boom'); } });
      await expect(m.done).rejects.toBeInstanceOf(ConsumerHandlerError);
      const status = await consumerGroupStatus(store, 'g5');
      expect(status.partitionStatus.every((p) => p.checkpoint === 0n)).toBe(true);
      expect(status.totalLag).toBe(3);
    });

    it('bad input is refused with typed errors and writes nothing', async () => {
      await setup();
      for (const partitions of [0, -1, 1.5, 5_000, Number.NaN]) {
        await expect(openConsumerGroup({ store, group: 'bad', partitions, handler: recordEffect })).rejects.toBeInstanceOf(InvalidArgumentError);
      }
      await expect(openConsumerGroup({ store, group: '', partitions: 4, handler: recordEffect })).rejects.toBeInstanceOf(InvalidArgumentError);
      expect(await listConsumerGroups(store)).toEqual([]);
      await expect(consumerGroupStatus(store, 'nope')).rejects.toBeInstanceOf(UnknownConsumerGroupError);
      const m = await open({ group: 'g6', partitions: 4 });
      await expect(openConsumerGroup({ store, group: 'g6', partitions: 8, handler: recordEffect })).rejects.toBeInstanceOf(PartitionCountMismatchError);
      await expect(repartitionConsumerGroup(store, 'g6', 8)).rejects.toMatchObject({ code: 'GROUP_NOT_DRAINED' });
      await m.stop();
      const rows = await storeDatabase(store).query<{ n: unknown }>("SELECT count(*) AS n FROM tessera_group_checkpoints WHERE group_name = 'g6'");
      expect(Number(rows[0]!.n)).toBe(4);
    });

    it('repartition drains first: new partitions start at the head and only later events are handled', async () => {
      await setup();
      await appendRound(store, 10, 0);
      const m = await open({ group: 'g7', partitions: 2 });
      await eventually(() => caughtUp(store, 'g7'), 10_000, 'catch-up');
      await m.stop();
      const moved = await repartitionConsumerGroup(store, 'g7', 5);
      expect(moved).toMatchObject({ from: 2, to: 5 });
      await appendRound(store, 10, 1);
      await open({ group: 'g7', partitions: 5 });
      await eventually(() => caughtUp(store, 'g7'), 10_000, 'catch-up after repartition');
      expect((await checkEffects(store, await readEffects(store))).violations).toEqual([]);
      expect((await listConsumerGroups(store)).map((g) => [g.group, g.partitions])).toEqual([['g7', 5]]);
    });
  });
}
