import type { Sizes } from './types.js';

/** `npm run bench`: the sizes the issue asks for. */
export const FULL: Sizes = {
  name: 'full',
  reps: 5,
  singleAppends: 2_000,
  batchSize: 1_000,
  batchesPerRep: 5,
  readStreamLength: 1_000,
  // 100 reads (~0.1 s) per repetition: with 20, one scavenge or JIT tier-up was a large share of the window.
  readsPerRep: 100,
  concurrentWriters: 8,
  concurrentAppends: 2_000,
  streamAllEvents: 1_000_000,
  streamAllReps: 2,
  warmupAppends: 100,
};

/** `npm run bench -- --quick`: about a minute. */
export const QUICK: Sizes = {
  ...FULL,
  name: 'quick',
  reps: 3,
  singleAppends: 400,
  batchesPerRep: 2,
  readsPerRep: 20,
  concurrentAppends: 800,
  streamAllEvents: 200_000,
  streamAllReps: 1,
  warmupAppends: 30,
};

/** The smoke test: tiny, only proves every path still runs. */
export const SMOKE: Sizes = {
  name: 'smoke',
  reps: 1,
  singleAppends: 16,
  batchSize: 20,
  batchesPerRep: 1,
  readStreamLength: 20,
  readsPerRep: 1,
  concurrentWriters: 8,
  concurrentAppends: 16,
  streamAllEvents: 500,
  streamAllReps: 1,
  warmupAppends: 2,
};
