import { type Command, Option } from 'commander';
import { InvalidArgumentError } from '../../errors.js';
import { storeDatabase } from '../../eventstore/store.js';
import type { EventStore } from '../../eventstore/types.js';
import type { NatsEventBus } from '../../messaging/nats/bus.js';
import { openNatsEventBus } from '../../messaging/open.js';
import { startOutboxRelay } from '../../messaging/relay.js';
import { note, withStore, writeLine } from '../context.js';
import { jsonLine, keyValues, table } from '../format.js';
import { parsePositiveInt } from '../parse.js';

interface BusOptions {
  url?: string;
  stream: string;
  prefix: string;
}

/**
 * `tessera bus …`: the event bus around the store. `relay` publishes the store's log to NATS JetStream
 * (the store is the outbox) until Ctrl-C; `status` shows the relay's checkpoint and lag, and the JetStream
 * stream and consumers; `dead-letters` lists messages that ran out of deliveries.
 *
 * @example
 * ```sh
 * TESSERA_BUS=nats://127.0.0.1:4222 tessera bus relay
 * tessera bus status --url nats://127.0.0.1:4222
 * tessera bus dead-letters --consumer billing --json
 * ```
 */
export function register(program: Command): void {
  const bus = program.command('bus').description('relay the log to NATS JetStream, show lag and dead letters');
  const common = (c: Command): Command =>
    c
      .addOption(new Option('--url <nats-url>', 'NATS server with JetStream').env('TESSERA_BUS'))
      .option('--stream <name>', 'JetStream stream of this store', 'TESSERA_EVENTS')
      .option('--prefix <subject-prefix>', 'subject prefix', 'tessera');

  common(bus.command('relay').description('publish the log to the bus from the stored checkpoint, until Ctrl-C'))
    .option('--name <relay>', 'relay name (checkpoint and lease)', 'default')
    .action(async (opts: BusOptions & { name: string }, cmd: Command) => {
      await withStore(cmd, 'create', async (store) => {
        const b = await openBus(opts);
        const relay = await startOutboxRelay({ store, bus: b, name: opts.name, onError: (e) => note(`relay: ${e instanceof Error ? e.message : String(e)}`) });
        note(`relaying to ${opts.url} stream ${opts.stream} from position ${await relay.checkpoint()} (Ctrl-C to stop)`);
        const stop = (): void => void relay.stop();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
        try {
          await relay.done;
        } finally {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          await b.close();
        }
      });
    });

  common(bus.command('status').description("relay checkpoints and lag; with --url, the stream's and consumers' state"))
    .action(async (opts: BusOptions, cmd: Command) => {
      await withStore(cmd, 'existing', async (store, g) => {
        const status: Record<string, unknown> = { relays: await relayCheckpoints(store) };
        if (opts.url !== undefined) {
          const b = await openBus(opts);
          try {
            status.jetstream = await streamState(b);
          } finally {
            await b.close();
          }
        }
        await writeLine(g.json ? jsonLine(status) : renderStatus(status));
      });
    });

  common(bus.command('dead-letters').description('messages that ran out of deliveries, oldest first'))
    .option('--consumer <name>', 'only this consumer')
    .option('--limit <n>', 'at most this many', '100')
    .action(async (opts: BusOptions & { consumer?: string; limit: string }, cmd: Command) => {
      const limit = parsePositiveInt(opts.limit, '--limit');
      const json = cmd.optsWithGlobals<{ json?: boolean }>().json === true;
      const b = await openBus(opts);
      try {
        const dead = await b.deadLetters({ limit, ...(opts.consumer !== undefined ? { consumer: opts.consumer } : {}) });
        const rows = dead.map((d) => ({ consumer: d.consumer, eventId: d.event.id, streamId: d.event.streamId, type: d.event.type, deliveries: d.deliveries, error: d.error ?? '', at: d.deadLetteredAt.toISOString() }));
        if (json) for (const r of rows) await writeLine(jsonLine(r));
        else await writeLine(table(['consumer', 'event id', 'stream', 'type', 'deliveries', 'error'], rows.map((r) => [r.consumer, r.eventId, r.streamId, r.type, String(r.deliveries), r.error])));
      } finally {
        await b.close();
      }
    });
}

async function openBus(opts: BusOptions): Promise<NatsEventBus> {
  if (opts.url === undefined) {
    throw new InvalidArgumentError('--url', 'is missing', 'Pass --url nats://127.0.0.1:4222 or set TESSERA_BUS.');
  }
  return openNatsEventBus({ url: opts.url, streamName: opts.stream, prefix: opts.prefix });
}

async function relayCheckpoints(store: EventStore): Promise<Array<{ name: string; position: string; lag: string }>> {
  const db = storeDatabase(store);
  const [last] = await db.query<{ p: number | bigint | null }>('SELECT max(global_position) AS p FROM tessera_events');
  const head = last?.p == null ? 0n : BigInt(last.p);
  const tables = await db.query<{ name: string }>("SELECT name FROM sqlite_master WHERE name = 'tessera_relay_checkpoints'");
  if (tables.length === 0) return [];
  const rows = await db.query<{ name: string; position: number | bigint }>('SELECT name, position FROM tessera_relay_checkpoints ORDER BY name');
  return rows.map((r) => ({ name: r.name, position: String(r.position), lag: String(head - BigInt(r.position)) }));
}

async function streamState(b: NatsEventBus): Promise<Record<string, unknown>> {
  const jsm = await b.connection.jetstreamManager();
  const info = await jsm.streams.info(b.streamName);
  const consumers: Array<Record<string, unknown>> = [];
  for await (const c of jsm.consumers.list(b.streamName)) {
    consumers.push({ name: c.name, pending: c.num_pending, ackPending: c.num_ack_pending, redelivered: c.num_redelivered });
  }
  return { stream: b.streamName, messages: info.state.messages, lastSequence: info.state.last_seq, consumers };
}

function renderStatus(status: Record<string, unknown>): string {
  const relays = status.relays as Array<{ name: string; position: string; lag: string }>;
  const parts = [relays.length === 0 ? 'no relay has run on this store' : table(['relay', 'checkpoint', 'lag'], relays.map((r) => [r.name, r.position, r.lag]), ['left', 'right', 'right'])];
  const js = status.jetstream as { stream: string; messages: number; lastSequence: number; consumers: Array<Record<string, unknown>> } | undefined;
  if (js) {
    parts.push(keyValues([['stream', js.stream], ['messages', String(js.messages)], ['last sequence', String(js.lastSequence)]]));
    parts.push(table(['consumer', 'pending', 'ack pending', 'redelivered'], js.consumers.map((c) => [String(c.name), String(c.pending), String(c.ackPending), String(c.redelivered)])));
  }
  return parts.join('\n\n');
}
