/**
 * Replication bench (`npm run bench:replication`, `-- --quick`): on a throwaway primary with two streaming
 * replicas on this machine, measures (1) read throughput with every read on the primary (`strong`) against
 * reads spread over the replicas (`eventual`), (2) replica lag under write load, (3) read-your-writes round
 * trips and where they were served, (4) the acknowledged writes lost by an asynchronous failover (RPO), and
 * (5) the log-shipping follower's copy rate PostgreSQL → SQLite. Writes bench/results/replication.md/.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openPostgresEventStore } from '../src/eventstore/postgres/open.js';
import { openLogShippingFollower } from '../src/replication/follower.js';
import { openReplicaSet, type ReplicaSet } from '../src/replication/replica-set.js';
import type { ConsistencyLevel } from '../src/replication/options.js';
import { startPgCluster } from '../test/support/pg-cluster.js';
import { startPgReplica } from '../test/support/pg-replica.js';
import { tempDir } from '../test/support/tmp.js';

const quick = process.argv.includes('--quick');
const READ_SECONDS = quick ? 1 : 3;
const READERS = 16;
const FOLLOW_EVENTS = quick ? 10_000 : 50_000;
const FAILOVERS = quick ? 1 : 3;
const out: Record<string, unknown> = { quick, date: new Date().toISOString() };
const log = (line: string): void => console.log(line);

async function readThroughput(rs: ReplicaSet, consistency: ConsistencyLevel): Promise<number> {
  let reads = 0;
  const end = Date.now() + READ_SECONDS * 1_000;
  await Promise.all(Array.from({ length: READERS }, async (_, r) => {
    for (let i = r; Date.now() < end; i++) {
      await rs.readStream(`acct-${i % 200}`, { consistency });
      reads++;
    }
  }));
  return reads / READ_SECONDS;
}

async function withSet<T>(fn: (rs: ReplicaSet) => Promise<T>): Promise<T> {
  const primary = await startPgCluster();
  const [r1, r2] = await Promise.all([startPgReplica(primary, 'r1'), startPgReplica(primary, 'r2')]);
  const rs = await openReplicaSet({ primary: primary.url, replicas: [{ name: 'r1', connectionString: r1.url }, { name: 'r2', connectionString: r2.url }], probeIntervalMs: 50 });
  try {
    return await fn(rs);
  } finally {
    await rs.close();
    await Promise.all([r1.destroy(), r2.destroy()]);
    await primary.destroy();
  }
}

await withSet(async (rs) => {
  for (let i = 0; i < 200; i++) await rs.appendToStream(`acct-${i}`, Array.from({ length: 20 }, (_, k) => ({ type: 'Deposited', data: { k, note: 'x'.repeat(100) } })));
  await rs.refresh();
  // Alternating rounds, so load from elsewhere on the machine hits both sides alike; the median ratio is reported.
  const readRounds: Array<{ strong: number; eventual: number; ratio: number }> = [];
  for (let i = 0; i < 3; i++) {
    const strong = await readThroughput(rs, 'strong');
    const eventual = await readThroughput(rs, 'eventual');
    readRounds.push({ strong: Math.round(strong), eventual: Math.round(eventual), ratio: +(eventual / strong).toFixed(2) });
  }
  const median = [...readRounds].sort((a, b) => a.ratio - b.ratio)[1]!;
  out.reads = { readers: READERS, secondsPerRound: READ_SECONDS, rounds: readRounds, medianSpeedup: median.ratio, loadAverage: loadavg().map((l) => +l.toFixed(1)), servedBy: rs.status().reads };
  log(`reads/s, ${READERS} readers, 3 alternating rounds (strong/eventual): ${readRounds.map((r) => `${r.strong}/${r.eventual}`).join(', ')}; median ×${median.ratio}; load average ${loadavg()[0]!.toFixed(1)}`);

  // Lag under write load, and read-your-writes rounds meanwhile.
  let writing = true;
  const load = Promise.all(Array.from({ length: 4 }, async (_, w) => {
    for (let n = 0; writing; n++) await rs.appendToStream(`load-${w}-${n % 20}`, [{ type: 'Load', data: { n, pad: 'y'.repeat(500) } }]);
  }));
  const samples: Array<{ lagBytes: number; lagMs: number }> = [];
  const session = rs.session();
  const before = rs.status().reads;
  const rounds = quick ? 200 : 500;
  const t0 = performance.now();
  for (let i = 1; i <= rounds; i++) {
    await session.appendToStream('ryw', [{ type: 'W', data: { i } }]);
    await session.readStream('ryw', { direction: 'backward', maxCount: 1 });
    if (i % 10 === 0) samples.push(...rs.status().replicas.map((x) => ({ lagBytes: x.lagBytes, lagMs: x.lagMs })));
  }
  const roundMs = (performance.now() - t0) / rounds;
  writing = false;
  await load;
  const after = rs.status().reads;
  const pct = (xs: number[], p: number): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))] ?? 0;
  const bytes = samples.map((s) => s.lagBytes);
  const ms = samples.map((s) => s.lagMs);
  out.lag = { writers: 4, samples: samples.length, bytesP50: pct(bytes, 0.5), bytesP99: pct(bytes, 0.99), msP50: pct(ms, 0.5), msP99: pct(ms, 0.99) };
  const replicaReads = Object.keys(after.replicas).reduce((a, k) => a + (after.replicas[k] ?? 0) - (before.replicas[k] ?? 0), 0);
  out.readYourWrites = { rounds, roundMs: +roundMs.toFixed(2), servedByReplicas: replicaReads, servedByPrimary: after.primary - before.primary, waited: after.waited - before.waited };
  log(`lag under 4 writers: p50 ${pct(bytes, 0.5)} B / ${pct(ms, 0.5)} ms, p99 ${pct(bytes, 0.99)} B / ${pct(ms, 0.99)} ms`);
  log(`read-your-writes: ${rounds} write+read rounds, ${roundMs.toFixed(2)} ms each, ${replicaReads} reads served by replicas, ${after.primary - before.primary} by the primary`);
});

// Asynchronous failover: acknowledged writes lost (RPO).
const rpo: Array<{ ackedBeforeCrash: number; lost: number }> = [];
for (let run = 0; run < FAILOVERS; run++) {
  const primary = await startPgCluster();
  const r1 = await startPgReplica(primary, 'r1');
  const rs = await openReplicaSet({ primary: primary.url, replicas: [{ name: 'r1', connectionString: r1.url }], probeIntervalMs: 50 });
  const acked: Array<{ id: string; at: number }> = [];
  let stop = false;
  const writers = Array.from({ length: 8 }, async (_, w) => {
    for (let n = 0; !stop; n++) {
      const id = `w${w}-${n}`;
      try {
        await rs.appendToStream(`w-${w}`, [{ id, type: 'W', data: { n, pad: 'z'.repeat(1000) } }]);
        acked.push({ id, at: Date.now() });
      } catch {
        break;
      }
    }
  });
  await new Promise((r) => setTimeout(r, 1_000));
  const crashAt = Date.now();
  await primary.stopImmediate();
  stop = true;
  await Promise.all(writers);
  await r1.promote();
  for (let i = 0; i < 400 && rs.status().failovers === 0; i++) await new Promise((r) => setTimeout(r, 25));
  const found = new Set<string>();
  for (let i = 0; i < acked.length; i += 1_000) for (const e of await rs.readEventsById(acked.slice(i, i + 1_000).map((a) => a.id))) found.add(e.id);
  const before = acked.filter((a) => a.at <= crashAt).length;
  rpo.push({ ackedBeforeCrash: before, lost: acked.length - found.size });
  log(`async failover ${run + 1}: ${before} acknowledged before the crash, ${acked.length - found.size} lost`);
  await rs.close();
  await r1.destroy();
  await primary.destroy();
}
out.asyncFailover = rpo;

// Follower copy rate.
{
  const primary = await startPgCluster();
  const tmp = tempDir('tessera-bench-follow-');
  try {
    const source = await openPostgresEventStore({ connectionString: primary.url, schema: 'bench' });
    for (let i = 0; i < FOLLOW_EVENTS / 100; i++) await source.appendToStream(`s-${i % 500}`, Array.from({ length: 100 }, (_, k) => ({ type: 'E', data: { i, k, pad: 'w'.repeat(100) } })));
    const follower = await openLogShippingFollower({ source, target: { path: join(tmp.dir, 'edge.db') }, batchSize: 2_000 });
    const t0 = performance.now();
    const { copied } = await follower.catchUp();
    const secs = (performance.now() - t0) / 1_000;
    out.follower = { events: copied, seconds: +secs.toFixed(2), eventsPerSec: Math.round(copied / secs), batchSize: 2_000 };
    log(`follower PG → SQLite: ${copied} events in ${secs.toFixed(2)} s (${Math.round(copied / secs)} events/s)`);
    await follower.close();
    await source.close();
  } finally {
    await primary.destroy();
    tmp.remove();
  }
}

const dir = join(fileURLToPath(new URL('.', import.meta.url)), 'results');
mkdirSync(dir, { recursive: true });
const name = quick ? 'replication-quick' : 'replication';
writeFileSync(join(dir, `${name}.json`), JSON.stringify(out, null, 2));
writeFileSync(join(dir, `${name}.md`), `# Replication bench${quick ? ' (quick)' : ''}\n\n${new Date().toISOString()}, one machine (${cpus().length} cores, load average ${loadavg()[0]!.toFixed(1)} at the end): primary and replicas share the CPU and disk.\n\n\`\`\`json\n${JSON.stringify(out, null, 2)}\n\`\`\`\n`);
log(`wrote bench/results/${name}.md`);
