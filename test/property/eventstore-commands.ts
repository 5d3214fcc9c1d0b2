import fc from 'fast-check';
import { expect } from 'vitest';
import {
  type AppendOptions,
  type AppendResult,
  ConcurrencyError,
  type EventStore,
  type ExpectedVersion,
  InvalidArgumentError,
  isTesseraError,
} from '../../src/index.js';
import { comparable, type EventStoreModel, type SentEvent } from './eventstore-model.js';

/**
 * fast-check commands for the event store model test: appends (alone or several in one event-loop turn,
 * so they share a group commit), idempotent retries and id re-use, reads, aggregation, reopening.
 * @module
 */

/** The system under test; `store` is replaced when the Reopen command runs. */
export interface Real {
  store: EventStore;
  clock: { t: number };
  reopen(): Promise<void>;
}

type Cmd = fc.AsyncCommand<EventStoreModel, Real>;

const STREAMS = ['a', 'b', 'c'] as const;
const TYPES = ['T1', 'T2', 'T3'] as const;
const BASE_TIME = Date.UTC(2026, 0, 1);
/** Clock readings per append; not monotonic on purpose (a skewed writer clock). */
const timeAt = (slot: number): number => BASE_TIME + slot * 1000 + 7;

type ExpectedSpec = { mode: 'right' | 'wrong' | 'any' | 'no_stream' | 'stream_exists' | 'omitted'; delta: bigint };
type EventSpec = { type: string; data: unknown; metadata: Record<string, unknown> | undefined };
type NewSpec = { kind: 'new'; stream: string; events: EventSpec[]; ids: 'none' | 'fresh' | 'mixed'; expected: ExpectedSpec; time: number };
type RetrySpec = {
  kind: 'retry';
  pick: number;
  variation: 'same' | 'new-metadata' | 'subset' | 'changed-data' | 'changed-type' | 'other-stream' | 'partial';
  stream: string;
  expected: ExpectedSpec;
  time: number;
};
type AppendSpec = NewSpec | RetrySpec;

const expectedArb: fc.Arbitrary<ExpectedSpec> = fc.record({
  mode: fc.constantFrom('right', 'right', 'wrong', 'any', 'no_stream', 'stream_exists', 'omitted'),
  delta: fc.constantFrom(1n, 2n, -1n),
});
const dataArb = fc.oneof(
  fc.integer(),
  fc.constant(null),
  fc.record({ n: fc.integer(), s: fc.string({ maxLength: 6 }) }),
  fc.array(fc.boolean(), { maxLength: 3 }),
);
const eventSpecArb: fc.Arbitrary<EventSpec> = fc.record({
  type: fc.constantFrom(...TYPES),
  data: dataArb,
  metadata: fc.option(fc.record({ k: fc.string({ maxLength: 4 }) }), { nil: undefined }),
});
const newSpecArb: fc.Arbitrary<NewSpec> = fc.record({
  kind: fc.constant('new' as const),
  stream: fc.constantFrom(...STREAMS),
  events: fc.array(eventSpecArb, { minLength: 1, maxLength: 5 }),
  ids: fc.constantFrom('none', 'fresh', 'fresh', 'mixed'),
  expected: expectedArb,
  time: fc.nat(5),
});
const retrySpecArb: fc.Arbitrary<RetrySpec> = fc.record({
  kind: fc.constant('retry' as const),
  pick: fc.nat(),
  variation: fc.constantFrom('same', 'same', 'new-metadata', 'subset', 'changed-data', 'changed-type', 'other-stream', 'partial'),
  stream: fc.constantFrom(...STREAMS),
  expected: expectedArb,
  time: fc.nat(5),
});
const appendSpecArb = fc.oneof({ arbitrary: newSpecArb, weight: 3 }, { arbitrary: retrySpecArb, weight: 2 });

interface Resolved {
  stream: string;
  sent: SentEvent[];
  /** The sent events with the ids the store will use (generated ones predicted). */
  withIds: (SentEvent & { id: string })[];
  expected: ExpectedVersion;
  opts: AppendOptions;
  recordedAt: number;
  label: string;
}

function toSent(e: EventSpec, id: string | undefined): SentEvent {
  const s: SentEvent = { type: e.type, data: e.data };
  if (e.metadata !== undefined) s.metadata = e.metadata;
  if (id !== undefined) s.id = id;
  return s;
}

function resolveExpected(model: EventStoreModel, stream: string, spec: ExpectedSpec): { expected: ExpectedVersion; opts: AppendOptions } {
  const v = model.version(stream);
  switch (spec.mode) {
    case 'right':
      return { expected: v, opts: { expectedVersion: v } };
    case 'wrong': {
      const w = v + spec.delta >= 0n ? v + spec.delta : v + 1n;
      return { expected: w, opts: { expectedVersion: w } };
    }
    case 'omitted':
      return { expected: 'any', opts: {} };
    default:
      return { expected: spec.mode, opts: { expectedVersion: spec.mode } };
  }
}

function retryEvents(model: EventStoreModel, spec: RetrySpec): { stream: string; sent: SentEvent[] } {
  const h = model.history[spec.pick % model.history.length]!;
  const same = h.events.map((e) => ({ ...e }));
  switch (spec.variation) {
    case 'same':
      return { stream: h.streamId, sent: same };
    case 'new-metadata':
      return { stream: h.streamId, sent: same.map((e) => ({ ...e, metadata: { retry: spec.pick } })) };
    case 'subset':
      return { stream: h.streamId, sent: same.slice(0, 1) };
    case 'changed-data':
      return { stream: h.streamId, sent: same.map((e, i) => (i === 0 ? { ...e, data: { changed: spec.pick } } : e)) };
    case 'changed-type':
      return { stream: h.streamId, sent: same.map((e, i) => (i === same.length - 1 ? { ...e, type: e.type === 'T3' ? 'T1' : 'T3' } : e)) };
    case 'other-stream':
      return { stream: spec.stream === h.streamId ? `${spec.stream}-other` : spec.stream, sent: same };
    case 'partial':
      return { stream: h.streamId, sent: [same[0]!, { id: model.freshId(), type: 'T1', data: 0 }] };
  }
}

/** Turns a spec into a concrete append against the model's current state (ids, versions, history). */
function resolve(model: EventStoreModel, spec: AppendSpec): Resolved {
  let stream: string;
  let sent: SentEvent[];
  if (spec.kind === 'retry' && model.history.length > 0) {
    ({ stream, sent } = retryEvents(model, spec));
  } else if (spec.kind === 'new') {
    stream = spec.stream;
    sent = spec.events.map((e, i) => toSent(e, spec.ids === 'fresh' || (spec.ids === 'mixed' && i % 2 === 0) ? model.freshId() : undefined));
    if (spec.ids !== 'none') model.history.push({ streamId: stream, events: sent });
  } else {
    stream = spec.stream;
    sent = [{ id: model.freshId(), type: 'T2', data: 'first' }];
    model.history.push({ streamId: stream, events: sent });
  }
  // The store's id generator runs once per id-less event, in order, when the append is called.
  const withIds = sent.map((e) => ({ ...e, id: e.id ?? model.nextGeneratedId() }));
  const { expected, opts } = resolveExpected(model, stream, spec.expected);
  const label = `${spec.kind === 'retry' ? `retry/${spec.variation}` : `new/${spec.ids}`} ${stream} ×${sent.length} expected ${String(expected)}`;
  return { stream, sent, withIds, expected, opts, recordedAt: timeAt(spec.time), label };
}

function fire(real: Real, r: Resolved): Promise<AppendResult> {
  real.clock.t = r.recordedAt;
  return real.store.appendToStream(r.stream, r.sent, r.opts);
}

/** Compares one settled append with the model's prediction and updates the model. */
function settle(model: EventStoreModel, r: Resolved, outcome: PromiseSettledResult<AppendResult>): void {
  const p = model.predict(r.stream, r.withIds, r.expected);
  const got = outcome.status === 'fulfilled' ? outcome.value : outcome.reason;
  switch (p.kind) {
    case 'append': {
      expect(outcome.status, `${r.label}: ${String(got)}`).toBe('fulfilled');
      const problem = model.commit(r.stream, r.withIds, p.current, got as AppendResult, r.recordedAt);
      expect(problem, r.label).toBeNull();
      return;
    }
    case 'replay':
      expect(got, r.label).toEqual(p.result);
      return;
    case 'concurrency':
      expect(got, r.label).toBeInstanceOf(ConcurrencyError);
      expect((got as ConcurrencyError).actual, r.label).toBe(p.actual);
      expect((got as ConcurrencyError).streamId, r.label).toBe(r.stream);
      return;
    case 'id-conflict':
      expect(isTesseraError(got, 'EVENT_ID_CONFLICT'), `${r.label}: ${String(got)}`).toBe(true);
      return;
  }
}

const always = (): boolean => true;

class AppendCommand implements Cmd {
  constructor(readonly spec: AppendSpec) {}
  check = always;
  async run(model: EventStoreModel, real: Real): Promise<void> {
    const r = resolve(model, this.spec);
    const [outcome] = await Promise.allSettled([fire(real, r)]);
    settle(model, r, outcome!);
  }
  toString = (): string => `append(${JSON.stringify(this.spec, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v))})`;
}

/** Several appends in one event-loop turn: one group commit, applied in submission order. */
class GroupAppendCommand implements Cmd {
  constructor(readonly specs: AppendSpec[]) {}
  check = always;
  async run(model: EventStoreModel, real: Real): Promise<void> {
    const resolved = this.specs.map((s) => resolve(model, s));
    const outcomes = await Promise.allSettled(resolved.map((r) => fire(real, r)));
    resolved.forEach((r, i) => settle(model, r, outcomes[i]!));
  }
  toString = (): string => `group(${this.specs.length})`;
}

class InvalidAppendCommand implements Cmd {
  constructor(readonly stream: string, readonly poison: string) {}
  check = always;
  async run(model: EventStoreModel, real: Real): Promise<void> {
    const poison: Record<string, unknown> = { bigint: 1n, fn: () => 1, symbol: Symbol('s'), nan: Number.NaN, nul: 'a\u0000b', inf: -Infinity };
    const events = [{ id: model.freshId(), type: 'T1', data: 1 }, { id: model.freshId(), type: 'T2', data: { nested: [poison[this.poison]] } }];
    await expect(real.store.appendToStream(this.stream, events)).rejects.toBeInstanceOf(InvalidArgumentError);
    expect(await real.store.streamExists(this.stream)).toBe(model.version(this.stream) > 0n);
  }
  toString = (): string => `invalid(${this.stream}, ${this.poison})`;
}

type StreamRead = { fromVersion?: bigint; maxCount?: number; direction?: 'forward' | 'backward' };
class ReadStreamCommand implements Cmd {
  constructor(readonly stream: string, readonly opts: StreamRead) {}
  check = always;
  async run(model: EventStoreModel, real: Real): Promise<void> {
    const got = (await real.store.readStream(this.stream, this.opts)).map(comparable);
    expect(got).toEqual(model.readStream(this.stream, this.opts));
  }
  toString = (): string => `readStream(${this.stream}, ${this.opts.direction ?? 'forward'}, from ${String(this.opts.fromVersion)}, max ${String(this.opts.maxCount)})`;
}

class ReadAllCommand implements Cmd {
  constructor(readonly fromSlot: number | undefined, readonly maxCount: number | undefined, readonly types: string[] | undefined) {}
  check = always;
  async run(model: EventStoreModel, real: Real): Promise<void> {
    const opts: { fromPosition?: bigint; maxCount?: number; types?: string[] } = {};
    // Positions are only known at run time: pick one in 0 … last + 2.
    if (this.fromSlot !== undefined) opts.fromPosition = BigInt(this.fromSlot) % (model.lastPosition + 3n);
    if (this.maxCount !== undefined) opts.maxCount = this.maxCount;
    if (this.types !== undefined) opts.types = this.types;
    const got = (await real.store.readAll(opts)).map(comparable);
    expect(got).toEqual(model.readAll(opts));
  }
  toString = (): string => `readAll(from slot ${String(this.fromSlot)}, max ${String(this.maxCount)}, types ${JSON.stringify(this.types)})`;
}

class StreamExistsCommand implements Cmd {
  constructor(readonly stream: string) {}
  check = always;
  async run(model: EventStoreModel, real: Real): Promise<void> {
    expect(await real.store.streamExists(this.stream)).toBe(model.version(this.stream) > 0n);
  }
  toString = (): string => `streamExists(${this.stream})`;
}

class AggregateCommand implements Cmd {
  constructor(readonly stream: string, readonly version: bigint | undefined, readonly timeSlot: number | undefined) {}
  check = always;
  async run(model: EventStoreModel, real: Real): Promise<void> {
    const asOf: { version?: bigint; time?: Date } = {};
    if (this.version !== undefined) asOf.version = this.version;
    if (this.timeSlot !== undefined) asOf.time = new Date(timeAt(this.timeSlot));
    const got = await real.store.aggregateStream(this.stream, {
      initialState: (): string[] => [],
      evolve: (s, e) => [...s, `${e.streamVersion}:${e.id}`],
      asOf,
    });
    const want = model.aggregate(this.stream, { ...(this.version !== undefined ? { version: this.version } : {}), ...(asOf.time ? { time: asOf.time.getTime() } : {}) });
    expect(got).toEqual(want);
  }
  toString = (): string => `aggregate(${this.stream}, v ${String(this.version)}, t ${String(this.timeSlot)})`;
}

class ReopenCommand implements Cmd {
  check = always;
  async run(_model: EventStoreModel, real: Real): Promise<void> {
    await real.reopen();
  }
  toString = (): string => 'reopen';
}

const readStreamName = fc.constantFrom(...STREAMS, 'never');
const opt = <T>(a: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> => fc.option(a, { nil: undefined });

/** Every command arbitrary, weighted towards appends. */
export const allCommands: fc.Arbitrary<Cmd>[] = [
  appendSpecArb.map((s) => new AppendCommand(s)),
  appendSpecArb.map((s) => new AppendCommand(s)),
  appendSpecArb.map((s) => new AppendCommand(s)),
  fc.array(appendSpecArb, { minLength: 2, maxLength: 5 }).map((s) => new GroupAppendCommand(s)),
  fc.tuple(fc.constantFrom(...STREAMS), fc.constantFrom('bigint', 'fn', 'symbol', 'nan', 'nul', 'inf')).map(([s, p]) => new InvalidAppendCommand(s, p)),
  fc
    .record({ stream: readStreamName, from: opt(fc.bigInt({ min: 0n, max: 14n })), max: opt(fc.integer({ min: 1, max: 6 })), backward: fc.boolean() })
    .map(({ stream, from, max, backward }) => {
      const o: StreamRead = { direction: backward ? 'backward' : 'forward' };
      if (from !== undefined) o.fromVersion = from;
      if (max !== undefined) o.maxCount = max;
      return new ReadStreamCommand(stream, o);
    }),
  fc
    .tuple(opt(fc.nat(60)), opt(fc.integer({ min: 1, max: 8 })), opt(fc.array(fc.constantFrom('T1', 'T2', 'T3', 'T9'), { maxLength: 4 })))
    .map(([from, max, types]) => new ReadAllCommand(from, max, types)),
  readStreamName.map((s) => new StreamExistsCommand(s)),
  fc
    .tuple(readStreamName, opt(fc.bigInt({ min: 0n, max: 14n })), opt(fc.nat(6)))
    .map(([s, v, t]) => new AggregateCommand(s, v, t)),
  fc.constant(new ReopenCommand()),
];
