import { ConcurrencyError, InvalidArgumentError } from '../errors.js';
import type { EventStore, NewEvent, RecordedEvent } from '../eventstore/types.js';
import { backoffDelay } from '../support/backoff.js';
import { sleep } from '../support/clock.js';
import { requireBoundedString, requireOptionsObject } from '../support/validate.js';
import {
  type CommandResult,
  COMMAND_ID_MAX_BYTES,
  type Decider,
  decidedEvents,
  type HandleCommandOptions,
  validateDecider,
} from './decider.js';

const DEFAULT_RETRY_DELAY = { initialDelayMs: 10, maxDelayMs: 500 };

/**
 * Loads a stream, decides, and appends the decided events with the loaded version as the expected
 * version. On a `ConcurrencyError` it loads, decides and appends again, up to `maxRetries` times with
 * jittered exponential backoff. With a `commandId`, handling the same command twice appends nothing the
 * second time and returns the first result.
 *
 * @example
 * ```ts
 * const r = await handleCommand(store, 'cart-1', { type: 'AddItem', sku: 'A' }, cartDecider, { commandId: 'req-42' });
 * await waitFor(db, 'cart_totals', r.lastGlobalPosition, { timeoutMs: 2_000 });
 * ```
 */
export async function handleCommand<S, C, E extends NewEvent>(
  store: EventStore,
  streamId: string,
  command: C,
  decider: Decider<S, C, E>,
  opts?: HandleCommandOptions<S>,
): Promise<CommandResult<S>> {
  if (typeof store !== 'object' || store === null || typeof store.appendToStream !== 'function') {
    throw new InvalidArgumentError('store', 'is not an event store', 'Pass a store from openSqliteEventStore or openPostgresEventStore.');
  }
  requireBoundedString(streamId, 'streamId', 512);
  validateDecider(decider);
  const o = requireOptionsObject(opts, 'options') as HandleCommandOptions<S>;
  const commandId = o.commandId === undefined ? undefined : requireBoundedString(o.commandId, 'commandId', COMMAND_ID_MAX_BYTES);
  const maxRetries = o.maxRetries ?? 5;
  if (!Number.isSafeInteger(maxRetries) || maxRetries < 0) {
    throw new InvalidArgumentError('maxRetries', `${String(maxRetries)} is not a whole number ≥ 0`, 'Pass e.g. maxRetries: 5.');
  }
  const delay = { ...DEFAULT_RETRY_DELAY, ...requireOptionsObject(o.retryDelay, 'retryDelay') };
  const random = o.random ?? Math.random;

  for (let attempt = 1; ; attempt++) {
    if (commandId !== undefined) {
      const previous = await previousResult(store, streamId, commandId, decider);
      if (previous) return previous;
    }
    try {
      return await decideAndAppend(store, streamId, command, decider, o, commandId);
    } catch (e) {
      if (!(e instanceof ConcurrencyError) || attempt > maxRetries) throw e;
      await sleep(backoffDelay(delay, attempt, random));
    }
  }
}

async function decideAndAppend<S, C, E extends NewEvent>(
  store: EventStore,
  streamId: string,
  command: C,
  decider: Decider<S, C, E>,
  o: HandleCommandOptions<S>,
  commandId: string | undefined,
): Promise<CommandResult<S>> {
  const loaded = await store.aggregateStream(streamId, {
    initialState: () => decider.initialState(),
    evolve: (s, e) => decider.evolve(s, e),
    ...(o.snapshot ? { snapshot: o.snapshot } : {}),
  });
  const decided = decidedEvents(decider.decide(command, loaded.state));
  if (decided.length === 0) {
    return { state: loaded.state, events: [], nextExpectedVersion: loaded.version, lastGlobalPosition: 0n };
  }
  const events: NewEvent[] = commandId === undefined ? decided : decided.map((e, i) => ({ ...e, id: `${commandId}:${i}` }));
  const appended = await store.appendToStream(streamId, events, {
    expectedVersion: loaded.version === 0n ? 'no_stream' : loaded.version,
    ...(o.correlationId !== undefined ? { correlationId: o.correlationId } : {}),
    ...(o.causationId !== undefined ? { causationId: o.causationId } : {}),
  });
  if (commandId !== undefined && appended.nextExpectedVersion !== loaded.version + BigInt(events.length)) {
    // The store answered with an earlier handling of this command id (it committed after our first look
    // but before we loaded the stream): return that handling's result, rebuilt from the log.
    const previous = await previousResult(store, streamId, commandId, decider);
    if (previous) return previous;
  }
  // Read back what was stored (metadata, timestamps, positions): versions loaded+1… are ours alone.
  const recorded = await store.readStream(streamId, { fromVersion: loaded.version + 1n, maxCount: events.length });
  const state = recorded.reduce((s, e) => decider.evolve(s, e), loaded.state);
  return { state, events: recorded, nextExpectedVersion: appended.nextExpectedVersion, lastGlobalPosition: appended.lastGlobalPosition };
}

/** The result of an earlier handling of `commandId`, rebuilt from the log, or null if there was none. */
async function previousResult<S, C, E extends NewEvent>(
  store: EventStore,
  streamId: string,
  commandId: string,
  decider: Decider<S, C, E>,
): Promise<CommandResult<S> | null> {
  const [first] = await store.readEventsById([`${commandId}:0`]);
  if (first === undefined) return null;
  if (first.streamId !== streamId) {
    throw new InvalidArgumentError('commandId', `"${commandId}" was already used for stream "${first.streamId}"`, 'Give every command a unique id.');
  }
  // The command's events are consecutive in the stream: read pages until an event of another command.
  const events: RecordedEvent[] = [];
  for (let from = first.streamVersion, more = true; more; ) {
    const page = await store.readStream(streamId, { fromVersion: from, maxCount: 100 });
    more = page.length === 100;
    for (const e of page) {
      if (e.id !== `${commandId}:${events.length}`) {
        more = false;
        break;
      }
      events.push(e);
    }
    from += 100n;
  }
  const last = events[events.length - 1]!;
  const { state } = await store.aggregateStream(streamId, {
    initialState: () => decider.initialState(),
    evolve: (s, e) => decider.evolve(s, e),
    asOf: { version: last.streamVersion },
  });
  return { state, events, nextExpectedVersion: last.streamVersion, lastGlobalPosition: last.globalPosition };
}
