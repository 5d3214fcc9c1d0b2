import {
  connect,
  type JetStreamManager,
  type NatsConnection,
  nanos,
  RetentionPolicy,
  StorageType,
} from 'nats';
import { BusUnavailableError, InvalidArgumentError, isTesseraError } from '../../errors.js';
import { describe } from '../../support/validate.js';

/** Validates a `nats://host:port[,nats://…]` URL list and returns the server list. */
export function parseNatsUrl(url: unknown): string[] {
  const bad = (why: string): never => {
    throw new InvalidArgumentError('url', `${describe(url)} ${why}`, "Pass a NATS URL such as 'nats://127.0.0.1:4222' (several separated by commas).");
  };
  if (typeof url !== 'string' || url.trim() === '') return bad('is not a non-empty string');
  const servers = url.split(',').map((s) => s.trim());
  for (const s of servers) {
    let u: URL;
    try {
      u = new URL(s);
    } catch {
      return bad('is not a URL');
    }
    if (u.protocol !== 'nats:' && u.protocol !== 'tls:') bad('does not use the nats:// or tls:// scheme');
    if (u.hostname === '') bad('has no host');
  }
  return servers;
}

/** Connects with a bounded first attempt, then reconnects forever (publishes and pulls resume by themselves). */
export async function connectNats(url: string, servers: string[], timeoutMs: number, name: string): Promise<NatsConnection> {
  const started = Date.now();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no connection within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    // noAsyncTraces: no Error (stack capture) per request, a large share of a publish's CPU cost.
    const nc = connect({ servers, name, timeout: timeoutMs, maxReconnectAttempts: -1, reconnectTimeWait: 250, waitOnFirstConnect: false, noAsyncTraces: true });
    // If the deadline wins, a late connection must not leak.
    nc.then((c) => (Date.now() - started > timeoutMs ? c.close() : undefined)).catch(() => undefined);
    return await Promise.race([nc, deadline]);
  } catch (e) {
    throw new BusUnavailableError(url, `Cannot connect to NATS at ${url}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  } finally {
    clearTimeout(timer);
  }
}

/** Opens the JetStream manager, failing with a typed error when JetStream is not enabled on the server. */
export async function jetStreamManager(nc: NatsConnection, url: string, timeoutMs: number): Promise<JetStreamManager> {
  try {
    return await nc.jetstreamManager({ timeout: timeoutMs });
  } catch (e) {
    throw new BusUnavailableError(url, `NATS at ${url} has no JetStream: ${e instanceof Error ? e.message : String(e)}`, {
      cause: e,
      hint: `Start nats-server with JetStream enabled (\`nats-server -js\`) at ${url}, or unset TESSERA_BUS to use the in-process bus.`,
    });
  }
}

/** Creates the store's JetStream stream (`<prefix>.>`, file storage, deduplication window) unless it exists. */
export async function ensureStream(
  jsm: JetStreamManager,
  url: string,
  cfg: { name: string; prefix: string; duplicateWindowMs: number; maxAgeMs: number; storage: 'file' | 'memory' },
): Promise<void> {
  const subject = `${cfg.prefix}.>`;
  try {
    const info = await jsm.streams.info(cfg.name).catch((e: unknown) => {
      if (isNotFound(e)) return null;
      throw e;
    });
    if (info !== null) {
      if (!info.config.subjects?.includes(subject)) {
        throw new InvalidArgumentError(
          'streamName',
          `JetStream stream "${cfg.name}" already exists with subjects ${JSON.stringify(info.config.subjects)}, not "${subject}"`,
          'Use another streamName, or the prefix that stream was created with.',
        );
      }
      return;
    }
    await jsm.streams.add({
      name: cfg.name,
      subjects: [subject],
      retention: RetentionPolicy.Limits,
      storage: cfg.storage === 'memory' ? StorageType.Memory : StorageType.File,
      duplicate_window: nanos(cfg.maxAgeMs > 0 ? Math.min(cfg.duplicateWindowMs, cfg.maxAgeMs) : cfg.duplicateWindowMs),
      max_age: nanos(cfg.maxAgeMs),
    });
  } catch (e) {
    if (isTesseraError(e)) throw e;
    const text = e instanceof Error ? e.message : String(e);
    if (/overlap/i.test(text)) {
      throw new InvalidArgumentError('prefix', `subjects "${subject}" overlap another JetStream stream (${text})`, 'Use a prefix no other stream on this server covers.');
    }
    throw new BusUnavailableError(url, `Cannot create JetStream stream "${cfg.name}": ${text}`, { cause: e });
  }
}

/** True for JetStream "not found" API errors (stream or consumer). */
export function isNotFound(e: unknown): boolean {
  const text = e instanceof Error ? e.message : String(e);
  return /not found/i.test(text);
}
