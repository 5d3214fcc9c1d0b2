import { InvalidArgumentError } from '../errors.js';
import { requireOptionsObject, requirePositiveInt } from '../support/validate.js';
import { filterSubject, validateFilterToken, validateName } from './subjects.js';
import type { BusHandler, BusSubscribeOptions, RedeliveryBackoff } from './types.js';

/** Subscribe options after validation and defaults. */
export interface ResolvedSubscribe {
  consumer: string;
  handler: BusHandler;
  filter: string;
  category: string | undefined;
  eventType: string | undefined;
  maxDeliver: number;
  backoff: RedeliveryBackoff;
  ackWaitMs: number;
  concurrency: number;
  orderWaitMs: number;
}

export const DEFAULT_MAX_DELIVER = 5;
export const DEFAULT_BACKOFF: RedeliveryBackoff = { initialDelayMs: 200, maxDelayMs: 5_000 };

/** Validates {@link BusSubscribeOptions} (both adapters accept exactly the same input). */
export function resolveSubscribe(prefix: string, options: unknown, defaultConcurrency: number): ResolvedSubscribe {
  const o = requireOptionsObject(options, 'options') as Partial<BusSubscribeOptions>;
  if (o.consumer === undefined) {
    throw new InvalidArgumentError('consumer', 'is missing', "Pass subscribe({ consumer: 'billing', handler }).");
  }
  const consumer = validateName(o.consumer, 'consumer');
  if (typeof o.handler !== 'function') {
    throw new InvalidArgumentError('handler', 'is not a function', 'Pass subscribe({ consumer, handler: async (message) => { … } }).');
  }
  const category = o.category === undefined ? undefined : validateFilterToken(o.category, 'category');
  const eventType = o.eventType === undefined ? undefined : validateFilterToken(o.eventType, 'eventType');
  const b = requireOptionsObject(o.backoff, 'backoff') as Partial<RedeliveryBackoff>;
  const backoff = {
    initialDelayMs: b.initialDelayMs === undefined ? DEFAULT_BACKOFF.initialDelayMs : requirePositiveInt(b.initialDelayMs, 'backoff.initialDelayMs'),
    maxDelayMs: b.maxDelayMs === undefined ? DEFAULT_BACKOFF.maxDelayMs : requirePositiveInt(b.maxDelayMs, 'backoff.maxDelayMs'),
  };
  return {
    consumer,
    handler: o.handler,
    filter: filterSubject(prefix, category, eventType),
    category,
    eventType,
    maxDeliver: o.maxDeliver === undefined ? DEFAULT_MAX_DELIVER : requirePositiveInt(o.maxDeliver, 'maxDeliver'),
    backoff,
    ackWaitMs: o.ackWaitMs === undefined ? 30_000 : requirePositiveInt(o.ackWaitMs, 'ackWaitMs'),
    concurrency: o.concurrency === undefined ? defaultConcurrency : requirePositiveInt(o.concurrency, 'concurrency'),
    orderWaitMs: o.orderWaitMs === undefined ? 60_000 : requirePositiveInt(o.orderWaitMs, 'orderWaitMs'),
  };
}

/** Subject-token match of a filter like `p.cat.*` or `p.>` (enough for the filters {@link filterSubject} builds). */
export function subjectMatches(filter: string, subject: string): boolean {
  const f = filter.split('.');
  const s = subject.split('.');
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '>') return s.length > i;
    if (i >= s.length) return false;
    if (f[i] !== '*' && f[i] !== s[i]) return false;
  }
  return f.length === s.length;
}

/** Error text stored with a dead letter. */
export function errorText(e: unknown): string {
  const text = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  return text.length > 500 ? `${text.slice(0, 500)}…` : text;
}
