import { afterEach, describe, it } from 'vitest';
import { killScenario } from './fixtures/kill9-scenario.js';

const SOAK = process.env.TESSERA_SOAK === '1';
const KILLS = SOAK ? 300 : 50;
const EVENTS = SOAK ? 100_000 : 20_000;

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('async projector under kill -9 (PostgreSQL)', () => {
  it(`${KILLS} kill -9s of projector processes over ${EVENTS} events: each applied exactly once, model equals the fold`, { timeout: SOAK ? 1_800_000 : 150_000 }, async () => {
    await killScenario('PostgreSQL', KILLS, EVENTS, cleanups);
  });
});
