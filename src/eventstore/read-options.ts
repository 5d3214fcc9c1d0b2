import { InvalidArgumentError } from '../errors.js';
import { requireOptionsObject, requirePositiveInt } from '../support/validate.js';
import { DEFAULT_HANDLER_RETRY, type SubscriptionConfig } from './subscription.js';
import type { RecordedEvent, SubscribeOptions } from './types.js';
import { validateFrom, validateTypes } from './validation.js';

/**
 * Validates `subscribeToAll` options into a subscription's settings. Every `EventStore` (a single store, a sharded
 * one) checks them the same way, so the same bad input gets the same `InvalidArgumentError` everywhere.
 * @example
 * ```ts
 * const config = subscriptionConfig(opts); // throws before anything starts
 * ```
 */
export function subscriptionConfig(opts: SubscribeOptions): SubscriptionConfig {
  const o = requireOptionsObject(opts, 'options') as Partial<SubscribeOptions>;
  if (typeof o.handler !== 'function') {
    throw new InvalidArgumentError('handler', 'is not a function', 'Pass subscribeToAll({ handler: async (event) => { … } }).');
  }
  const retry = { ...DEFAULT_HANDLER_RETRY, ...requireOptionsObject(o.retry, 'retry') };
  requirePositiveInt(retry.maxAttempts, 'retry.maxAttempts');
  return {
    fromPosition: validateFrom(o.fromPosition, 'fromPosition', 0n) ?? 0n,
    handler: o.handler,
    types: validateTypes(o.types),
    retry,
    pollIntervalMs: o.pollIntervalMs === undefined ? 100 : requirePositiveInt(o.pollIntervalMs, 'pollIntervalMs'),
    batchSize: o.batchSize === undefined ? 500 : requirePositiveInt(o.batchSize, 'batchSize'),
  };
}

/** Options of `streamAll`. */
export interface StreamAllOptions {
  fromPosition?: bigint;
  types?: string[];
  batchSize?: number;
}

/**
 * `streamAll` over any `readAll`: keyset pages, so no read transaction stays open between pages (writers and
 * checkpoints are never blocked) and memory stays flat whatever the log's length. Options are validated before
 * the first read.
 * @example
 * ```ts
 * for await (const e of pagedStreamAll((o) => store.readAll(o), { types: ['OrderPlaced'] }, 1_000)) count++;
 * ```
 */
export function pagedStreamAll(
  readAll: (o: { fromPosition: bigint; maxCount: number; types?: string[] }) => Promise<RecordedEvent[]>,
  opts: StreamAllOptions | undefined,
  defaultPageSize: number,
): AsyncIterable<RecordedEvent> {
  const o = requireOptionsObject(opts, 'options') as StreamAllOptions;
  const start = validateFrom(o.fromPosition, 'fromPosition', 0n) ?? 0n;
  const types = validateTypes(o.types);
  const pageSize = o.batchSize === undefined ? defaultPageSize : requirePositiveInt(o.batchSize, 'batchSize');
  return (async function* pages() {
    let from = start;
    for (;;) {
      const page = await readAll({ fromPosition: from, maxCount: pageSize, ...(types ? { types } : {}) });
      for (const e of page) yield e;
      const last = page[page.length - 1];
      if (last === undefined || page.length < pageSize) return;
      from = last.globalPosition + 1n;
    }
  })();
}
