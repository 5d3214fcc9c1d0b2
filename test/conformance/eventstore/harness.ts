import type { CommonStoreOptions, EventStore } from '../../../src/index.js';

/**
 * What an adapter gives the conformance suite. One harness per test: `open()` opens a store on a fresh,
 * empty database the first time, and further handles on the *same* database after that (like a second
 * process), when the adapter has the `sharedDatabase` capability.
 */
export interface EventStoreHarness {
  open(options?: CommonStoreOptions): Promise<EventStore>;
  /** Closes every handle and deletes the database (file, schema). */
  cleanup(): Promise<void>;
}

export type EventStoreFactory = () => Promise<EventStoreHarness>;

/**
 * Optional abilities; a test that needs one an adapter lacks is skipped with the reason printed.
 * - `sharedDatabase`: a second `open()` sees the first one's data (files, servers; not `:memory:`).
 * - `severalDatabases`: the store spans several databases (a sharded store), so `storeDatabase` and
 *   `storeTransaction`, which hand out the one database of a store, do not apply; their cases are skipped.
 */
export type EventStoreCapability = 'sharedDatabase' | 'severalDatabases';

/** Suffix of a case that needs the store's one database (skipped with `severalDatabases`). */
export const ONE_DATABASE = ' [needs the store\'s one database (storeDatabase/storeTransaction); skipped for stores spanning several databases]';

export interface ConformanceContext {
  name: string;
  factory: EventStoreFactory;
  capabilities: ReadonlySet<EventStoreCapability>;
}

/** Opens a harness and a first store, and guarantees cleanup. */
export async function withStore<T>(
  ctx: ConformanceContext,
  fn: (store: EventStore, harness: EventStoreHarness) => Promise<T>,
  options?: CommonStoreOptions,
): Promise<T> {
  const harness = await ctx.factory();
  try {
    const store = await harness.open(options);
    return await fn(store, harness);
  } finally {
    await harness.cleanup();
  }
}

/** Events with predictable content. */
export function events(n: number, type = 'Happened', start = 0): Array<{ type: string; data: { n: number } }> {
  return Array.from({ length: n }, (_, i) => ({ type, data: { n: start + i } }));
}

/** Waits until `cond()` holds, polling; fails after `timeoutMs`. Never asserts a time, only bounds the wait. */
export async function until(cond: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** A snapshot of the whole log, to prove a failed call changed nothing. */
export async function logSnapshot(store: EventStore): Promise<string> {
  const all = await store.readAll();
  return JSON.stringify(all, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v));
}
