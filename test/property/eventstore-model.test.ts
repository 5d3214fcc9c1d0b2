import fc from 'fast-check';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openSqliteEventStore } from '../../src/index.js';
import { tempDir } from '../support/tmp.js';
import { allCommands, type Real } from './eventstore-commands.js';
import { comparable, EventStoreModel } from './eventstore-model.js';

const SOAK = process.env.TESSERA_SOAK === '1';

describe('SQLite event store against a model (fast-check commands)', () => {
  it('appends, retries, reads and aggregates exactly as the in-memory model predicts', async () => {
    let run = 0;
    const stats = { append: 0, replay: 0, concurrency: 0, 'id-conflict': 0 };
    let storedEvents = 0;
    await fc.assert(
      fc.asyncProperty(fc.commands(allCommands, { maxCommands: 60, size: 'large' }), async (cmds) => {
        const tmp = tempDir('tessera-model-');
        const path = join(tmp.dir, `run-${run++}.db`);
        const clock = { t: 0 };
        let generated = 0;
        const open = () => openSqliteEventStore({ path, clock: { now: () => clock.t }, ids: () => `gen-${++generated}` });
        const real: Real = {
          store: await open(),
          clock,
          reopen: async () => {
            await real.store.close();
            real.store = await open();
          },
        };
        const model = new EventStoreModel(stats);
        try {
          await fc.asyncModelRun(() => ({ model, real }), cmds);
          // Whatever ran, the whole log and every stream agree with the model at the end.
          expect((await real.store.readAll()).map(comparable)).toEqual(model.log);
          for (const [stream, events] of model.streams) {
            expect((await real.store.readStream(stream)).map(comparable)).toEqual(events);
          }
          storedEvents += model.log.length;
        } finally {
          await real.store.close();
          tmp.remove();
        }
      }),
      { numRuns: SOAK ? 1_000 : 120 },
    );
    // Outcomes counted over all runs, shrinking included: every kind must have been exercised.
    console.log('[eventstore-model]', JSON.stringify({ runs: run, storedEvents, predicted: stats }));
    for (const n of Object.values(stats)) expect(n).toBeGreaterThan(0);
  }, SOAK ? 900_000 : 120_000);
});
