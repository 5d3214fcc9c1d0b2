import { InvalidArgumentError } from '../errors.js';
import { requireOptionsObject, requirePositiveInt } from '../support/validate.js';
import { InProcessEventBus } from './in-process.js';
import { NatsEventBus } from './nats/bus.js';
import { connectNats, ensureStream, jetStreamManager, parseNatsUrl } from './nats/connect.js';
import { DEFAULT_PREFIX, DEFAULT_STREAM_NAME, validateName, validatePrefix } from './subjects.js';
import type { EventBus } from './types.js';

/**
 * Options of {@link openNatsEventBus}.
 *
 * @example
 * ```ts
 * const options: NatsEventBusOptions = { url: 'nats://127.0.0.1:4222', streamName: 'ORDERS', prefix: 'orders' };
 * ```
 */
export interface NatsEventBusOptions {
  /** `nats://host:port` (several separated by commas). */
  url: string;
  /** The JetStream stream of this store (default `TESSERA_EVENTS`): 1–64 letters, digits, `_`, `-`. */
  streamName?: string;
  /** Subject prefix (default `tessera`); the stream captures `<prefix>.>`. */
  prefix?: string;
  /** Bound on the first connection and on JetStream setup (default 3000 ms). */
  connectTimeoutMs?: number;
  /** How long a publish waits for JetStream's ack (default 5000 ms). */
  publishTimeoutMs?: number;
  /** JetStream's deduplication window for event ids (default 2 minutes). */
  duplicateWindowMs?: number;
  /** Publishes in flight at once in `publishAll` (default 256). */
  maxInFlight?: number;
  /**
   * Drop messages older than this (JetStream `max_age`; default: keep everything). A consumer that falls
   * further behind loses events, so keep it well above the longest outage you plan for.
   */
  maxAgeMs?: number;
  /** `file` (default) or `memory`. */
  storage?: 'file' | 'memory';
  /** Connection name shown by the server's monitoring. */
  name?: string;
  /** Recovered failures (reconnects, a consumer re-created); default: ignored. */
  onError?: (e: unknown) => void;
}

/**
 * Connects to NATS, creates the store's JetStream stream if needed and returns the JetStream bus.
 * Fails with `BusUnavailableError` (with a hint) within `connectTimeoutMs` when NATS or JetStream is not there.
 *
 * @example
 * ```ts
 * const bus = await openNatsEventBus({ url: 'nats://127.0.0.1:4222', streamName: 'SHOP', prefix: 'shop' });
 * ```
 */
export async function openNatsEventBus(options: NatsEventBusOptions): Promise<NatsEventBus> {
  const o = requireOptionsObject(options, 'options') as Partial<NatsEventBusOptions>;
  const servers = parseNatsUrl(o.url);
  const url = o.url!;
  const streamName = validateName(o.streamName ?? DEFAULT_STREAM_NAME, 'streamName');
  const prefix = validatePrefix(o.prefix ?? DEFAULT_PREFIX);
  const ms = (v: number | undefined, name: string, dflt: number): number => (v === undefined ? dflt : requirePositiveInt(v, name));
  const connectTimeoutMs = ms(o.connectTimeoutMs, 'connectTimeoutMs', 3_000);
  if (o.storage !== undefined && o.storage !== 'file' && o.storage !== 'memory') {
    throw new InvalidArgumentError('storage', `"${String(o.storage)}" is not file or memory`, "Pass storage: 'file' (default) or 'memory'.");
  }
  const cfg = {
    url,
    streamName,
    prefix,
    publishTimeoutMs: ms(o.publishTimeoutMs, 'publishTimeoutMs', 5_000),
    maxInFlight: ms(o.maxInFlight, 'maxInFlight', 256),
    random: Math.random,
    onError: o.onError ?? ((): void => undefined),
  };
  const duplicateWindowMs = ms(o.duplicateWindowMs, 'duplicateWindowMs', 120_000);
  const maxAgeMs = o.maxAgeMs === undefined ? 0 : requirePositiveInt(o.maxAgeMs, 'maxAgeMs');
  const nc = await connectNats(url, servers, connectTimeoutMs, o.name ?? `tessera-${process.pid}`);
  try {
    const jsm = await jetStreamManager(nc, url, connectTimeoutMs);
    await ensureStream(jsm, url, { name: streamName, prefix, duplicateWindowMs, maxAgeMs, storage: o.storage ?? 'file' });
    return new NatsEventBus(nc, nc.jetstream({ timeout: cfg.publishTimeoutMs }), jsm, cfg);
  } catch (e) {
    await nc.close().catch(() => undefined);
    throw e;
  }
}

/**
 * Opens the bus a configuration names: a `nats://` URL (e.g. `process.env.TESSERA_BUS`) gives the JetStream
 * bus; nothing, `''`, `memory` or `in-process` gives the in-process bus, so everything works without NATS.
 *
 * @example
 * ```ts
 * const bus = await openEventBus(process.env.TESSERA_BUS, { streamName: 'ORDERS' });
 * ```
 */
export async function openEventBus(url?: string, options: Omit<NatsEventBusOptions, 'url'> = {}): Promise<EventBus> {
  if (url === undefined || url === '' || url === 'memory' || url === 'in-process') {
    const o = requireOptionsObject(options, 'options') as { prefix?: string };
    return new InProcessEventBus(o.prefix === undefined ? {} : { prefix: o.prefix });
  }
  return openNatsEventBus({ ...options, url });
}
