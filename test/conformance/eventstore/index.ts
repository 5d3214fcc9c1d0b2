import { describe } from 'vitest';
import { aggregateCases } from './aggregate.js';
import { appendCases } from './append.js';
import { badInputCases } from './bad-input.js';
import type { EventStoreCapability, EventStoreFactory } from './harness.js';
import { hookCases } from './hooks.js';
import { readCases } from './read.js';
import { subscribeCases } from './subscribe.js';
import { transactionCases } from './transaction.js';

export type { EventStoreCapability, EventStoreFactory, EventStoreHarness } from './harness.js';

/**
 * The event store conformance suite: every adapter runs exactly these tests, unchanged.
 *
 * @example
 * ```ts
 * eventStoreConformance('sqlite file', async () => ({ open: …, cleanup: … }), ['sharedDatabase']);
 * ```
 */
export function eventStoreConformance(
  name: string,
  factory: EventStoreFactory,
  capabilities: readonly EventStoreCapability[] = [],
): void {
  const ctx = { name, factory, capabilities: new Set(capabilities) };
  describe(`EventStore conformance: ${name}`, () => {
    appendCases(ctx);
    readCases(ctx);
    subscribeCases(ctx);
    aggregateCases(ctx);
    transactionCases(ctx);
    hookCases(ctx);
    badInputCases(ctx);
  });
}
