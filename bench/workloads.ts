import type { Sizes, Target, WorkloadId } from './types.js';

/** The in-process workloads (f, streamAll, runs in child processes: see stream-all.ts). */
export const WORKLOADS: { id: Exclude<WorkloadId, 'f'>; title: (s: Sizes) => string }[] = [
  { id: 'a', title: (s) => `(a) ${n(s.singleAppends)} single-event appends to new streams` },
  { id: 'b', title: (s) => `(b) ${n(s.singleAppends)} single-event appends to one stream, exact expected version` },
  { id: 'c', title: (s) => `(c) one ${n(s.batchSize)}-event batch (x${s.batchesPerRep} per repetition)` },
  { id: 'd', title: (s) => `(d) read a ${n(s.readStreamLength)}-event stream (x${s.readsPerRep} per repetition)` },
  { id: 'e', title: (s) => `(e) ${s.concurrentWriters} concurrent writers to distinct streams, ${n(s.concurrentAppends)} single-event appends in all` },
];

export function n(x: number): string {
  return x.toLocaleString('en-US');
}

/** Work done before timing starts (JIT, statement caches, the read workload's stream). */
export async function prepare(id: WorkloadId, t: Target, s: Sizes): Promise<void> {
  for (let i = 0; i < s.warmupAppends; i++) await t.appendNew(`warm-${i}`);
  if (id === 'd') {
    await t.appendBatch('read-me', s.readStreamLength);
    // One repetition's worth of reads first: the JIT and the young generation settle before timing starts.
    for (let i = 0; i < s.readsPerRep; i++) await t.read('read-me');
  }
}

/** Runs repetition `rep` of a workload; returns how many events it wrote or read. */
export async function runOnce(id: WorkloadId, t: Target, s: Sizes, rep: number): Promise<number> {
  switch (id) {
    case 'a':
      for (let i = 0; i < s.singleAppends; i++) await t.appendNew(`a-${rep}-${i}`);
      return s.singleAppends;
    case 'b':
      for (let i = 0; i < s.singleAppends; i++) await t.appendExpected(`b-${rep}`, BigInt(i));
      return s.singleAppends;
    case 'c':
      for (let i = 0; i < s.batchesPerRep; i++) await t.appendBatch(`c-${rep}-${i}`, s.batchSize);
      return s.batchesPerRep * s.batchSize;
    case 'd': {
      let read = 0;
      for (let i = 0; i < s.readsPerRep; i++) read += await t.read('read-me');
      if (read !== s.readsPerRep * s.readStreamLength) throw new Error(`read ${read} events, expected ${s.readsPerRep * s.readStreamLength}`);
      return read;
    }
    case 'e': {
      const perWriter = Math.ceil(s.concurrentAppends / s.concurrentWriters);
      const writer = async (w: number): Promise<void> => {
        for (let i = 0; i < perWriter; i++) await t.appendExpected(`e-${rep}-${w}`, BigInt(i));
      };
      // allSettled: when one writer fails, the others must still finish before the target is closed.
      const results = await Promise.allSettled(Array.from({ length: s.concurrentWriters }, (_, w) => writer(w)));
      const failed = results.find((r) => r.status === 'rejected');
      if (failed) throw failed.reason;
      return perWriter * s.concurrentWriters;
    }
    case 'f':
      throw new Error('streamAll runs in a child process');
  }
}
