/**
 * One consumer-group member process for bench/partitioning.ts. Usage:
 *   partitioning-child.ts <sqlite|postgres> <path|url> [schema] <group> <memberId>
 * Opens the store, prints `ready`, waits for SIGUSR1, then joins the group; the handler adds one to
 * a per-stream counter in the checkpoint's transaction (exactly-once). Exits on SIGTERM.
 */
import { type EventStore, openPostgresEventStore, openSqliteEventStore } from '../src/index.js';
import { openConsumerGroup } from '../src/partitioning/index.js';

const args = process.argv.slice(2);
const engine = args.shift();
const store: EventStore = engine === 'sqlite'
  ? await openSqliteEventStore({ path: args.shift()! })
  : await openPostgresEventStore({ connectionString: args.shift()!, schema: args.shift()!, maxConnections: 2 });
const [group, memberId] = args as [string, string];
// Listen before saying ready: SIGUSR1's default action would end the process.
// A signal listener does not keep Node alive: the timer does, until the signal comes.
const keepAlive = setInterval(() => undefined, 1_000);
const go = new Promise<void>((resolve) => process.once('SIGUSR1', () => resolve()));
process.stdout.write('ready\n');
await go;
clearInterval(keepAlive);
const member = await openConsumerGroup({
  store, group, partitions: 8, memberId, batchSize: 500, pollIntervalMs: 20, rebalanceIntervalMs: 100,
  handler: async (e, { tx }) => {
    await tx!.sql.run('UPDATE bench_counts SET n = n + 1 WHERE stream_id = ?', [e.streamId]);
  },
});
process.on('SIGTERM', () => void member.stop().then(() => store.close()).then(() => process.exit(0)));
await member.done;
