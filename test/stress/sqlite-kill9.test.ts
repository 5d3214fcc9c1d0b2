import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openSqliteEventStore } from '../../src/index.js';
import { fixture, killAllChildren, sleep, spawnTsx, type TsxChild, waitForExit } from '../support/processes.js';
import { tempDir } from '../support/tmp.js';
import { readWriterLog, verifyStore, type WriterLog } from './verify-log.js';

const SOAK = process.env.TESSERA_SOAK === '1';
const STREAMS = 5;
const LANES = 2;
const DURATION_MS = SOAK ? 40_000 : 5_000;
/** Each victim slot is killed this many times (restarted after every kill but the last). */
const KILLS_PER_VICTIM = SOAK ? 6 : 2;

interface Incarnation {
  name: string;
  logPath: string;
  child: TsxChild;
  killed: boolean;
}

describe('SQLite event store: writers killed with SIGKILL mid-run', () => {
  afterEach(async () => {
    await killAllChildren();
  });

  it('keeps every acknowledged append, stores unacknowledged ones at most once and whole, stays intact', async () => {
    const tmp = tempDir('tessera-kill9-');
    let stopped = false; // set on the way out, so a failing victim loop starts no further child
    try {
      const dbPath = join(tmp.dir, 'events.db');
      await (await openSqliteEventStore({ path: dbPath })).close();
      const incarnations: Incarnation[] = [];
      const start = (name: string, durationMs: number): Incarnation => {
        const logPath = join(tmp.dir, `${name}.log`);
        const args = [dbPath, logPath, name, String(durationMs), String(STREAMS), String(LANES)];
        const inc = { name, logPath, child: spawnTsx(fixture('sqlite-writer.ts'), args, { name }), killed: false };
        incarnations.push(inc);
        return inc;
      };

      // Two survivors run the whole time; two victim slots are killed and restarted.
      start('steady-0', DURATION_MS);
      start('steady-1', DURATION_MS);
      let kills = 0;
      const victim = async (slot: string): Promise<void> => {
        for (let round = 0; round < KILLS_PER_VICTIM && !stopped; round++) {
          const inc = start(`${slot}-r${round}`, DURATION_MS * 4); // outlives its kill
          await inc.child.waitForLine((l) => l === 'ready', 60_000);
          // A random moment once appends are flowing: usually mid-transaction or between commit and log.
          await sleep(200 + Math.floor(Math.random() * (DURATION_MS / KILLS_PER_VICTIM - 200)));
          const exit = await inc.child.kill9();
          expect(exit.signal, `${inc.name} died by our SIGKILL, not on its own: ${inc.child.stderr()}`).toBe('SIGKILL');
          inc.killed = true;
          kills++;
        }
      };
      await Promise.all([victim('victim-a'), victim('victim-b')]);

      for (const inc of incarnations.filter((i) => !i.killed)) {
        const exit = await waitForExit(inc.child, DURATION_MS + 60_000);
        expect(exit, `${inc.name} stderr:\n${inc.child.stderr()}`).toEqual({ code: 0, signal: null, timedOut: false });
      }

      const logs: WriterLog[] = incarnations.map((i) => readWriterLog(i.name, i.logPath));
      const { problems, totals } = verifyStore(dbPath, logs);
      const perProcess = logs.map((l) => ({
        writer: l.name,
        killed: incarnations.find((i) => i.name === l.name)!.killed,
        tried: l.tries.length,
        acknowledged: l.acks.length,
        conflicts: l.done?.conflicts ?? l.acks[l.acks.length - 1]?.c ?? 0,
      }));
      console.log('[sqlite-kill9]', JSON.stringify({ durationMs: DURATION_MS, kills, ...totals, perProcess }));

      expect(problems).toEqual([]);
      expect(kills).toBe(2 * KILLS_PER_VICTIM);
      // A victim killed soon after it started may have acknowledged nothing; the steady writers must have.
      for (const l of logs.filter((l) => l.name.startsWith('steady'))) expect(l.acks.length, `${l.name} acknowledged something`).toBeGreaterThan(0);
      expect(totals.acknowledgedAppends).toBeGreaterThan(0);
      // At most one append per lane of a killed process can be cut in flight.
      expect(totals.unacknowledgedButStored + totals.unacknowledgedAndAbsent).toBeLessThanOrEqual(kills * LANES);

      // The file is still a working store: a fresh writer appends after the dead ones' locks are gone.
      const store = await openSqliteEventStore({ path: dbPath, busyTimeoutMs: 10_000 });
      try {
        const [stream, version] = Object.entries(totals.streams)[0]!;
        const r = await store.appendToStream(stream, [{ type: 'AfterKill', data: {} }], { expectedVersion: BigInt(version) });
        expect(r.nextExpectedVersion).toBe(BigInt(version) + 1n);
        expect((await store.readAll()).length).toBe(totals.storedEvents + 1);
      } finally {
        await store.close();
      }
    } finally {
      stopped = true;
      await killAllChildren();
      tmp.remove();
    }
  }, DURATION_MS * 2 + 120_000);
});
