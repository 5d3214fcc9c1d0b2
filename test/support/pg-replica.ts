import { execFile, execFileSync } from 'node:child_process';
import { chownSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { freePort, type PgCluster } from './pg-cluster.js';

const run = promisify(execFile);

/**
 * A streaming replica of a throwaway cluster (RECIPES.md "A streaming replica"): pg_basebackup with a
 * replication slot, started with `cluster_name = name`, which the walreceiver reports as its
 * `application_name` (so `synchronous_standby_names = 'name'` selects it).
 */
export interface PgReplica {
  readonly name: string;
  readonly port: number;
  readonly dir: string;
  readonly url: string;
  readonly slot: string;
  /** Starts the replica (again) and waits until it accepts connections. */
  start(): Promise<void>;
  /** `pg_ctl promote`: the replica leaves recovery and becomes a writable primary (on a new timeline). */
  promote(): Promise<void>;
  /** Crash-stops the server. */
  stopImmediate(): Promise<void>;
  /** Stops (if running) and deletes the folder; never throws. Drop the slot on the primary yourself if it lives on. */
  destroy(): Promise<void>;
}

const live = new Set<PgReplica>();

function pgBin(): string {
  const versions = readdirSync('/usr/lib/postgresql').sort((a, b) => Number(a) - Number(b));
  return `/usr/lib/postgresql/${versions[versions.length - 1]}/bin`;
}

async function asPostgres(command: string, timeoutMs = 60_000): Promise<void> {
  await run('su', ['postgres', '-c', command], { timeout: timeoutMs });
}

/** Extra server settings for a replica, e.g. `{ recovery_min_apply_delay: '300ms' }` to make it lag. */
export type ReplicaSettings = Record<string, string>;

/** Creates a streaming replica of `primary` (which must be running) and starts it. */
export async function startPgReplica(primary: PgCluster, name: string, settings: ReplicaSettings = {}): Promise<PgReplica> {
  if (!/^[a-z][a-z0-9_]*$/.test(name)) throw new Error(`replica name ${name} must be a plain lower-case identifier`);
  const bin = pgBin();
  const dir = mkdtempSync(join(tmpdir(), 'tessera-pgr.'));
  const owner = statSync(primary.dir);
  chownSync(dir, owner.uid, owner.gid);
  const port = await freePort();
  const data = join(dir, 'data');
  const slot = `slot_${name}_${port}`;
  const extra = Object.entries({ cluster_name: name, ...settings })
    .map(([k, v]) => `-c ${k}=${v}`)
    .join(' ');
  const startCmd = `${bin}/pg_ctl -D ${data} -l ${dir}/log -w -t 60 -o '-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 ${extra}' start`;
  let running = false;
  const replica: PgReplica = {
    name,
    port,
    dir,
    slot,
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    start: async () => {
      await asPostgres(`${startCmd} >/dev/null`);
      running = true;
    },
    promote: () => asPostgres(`${bin}/pg_ctl -D ${data} -w promote >/dev/null`),
    stopImmediate: async () => {
      await asPostgres(`${bin}/pg_ctl -D ${data} -m immediate -w stop >/dev/null`);
      running = false;
    },
    destroy: async () => {
      live.delete(replica);
      if (running) await asPostgres(`${bin}/pg_ctl -D ${data} -m fast -w stop >/dev/null`).catch(() => undefined);
      running = false;
      rmSync(dir, { recursive: true, force: true });
    },
  };
  live.add(replica);
  try {
    await asPostgres(`${bin}/pg_basebackup -h 127.0.0.1 -p ${primary.port} -U postgres -D ${data} -R -X stream -c fast -C -S ${slot}`);
    await replica.start();
  } catch (e) {
    await replica.destroy();
    throw e;
  }
  return replica;
}

/** Runs one statement on a server and returns its rows (a short-lived client). */
export async function sqlOn<R extends object = Record<string, unknown>>(url: string, text: string, params: unknown[] = []): Promise<R[]> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  await client.connect();
  try {
    return (await client.query(text, params)).rows as R[];
  } finally {
    await client.end();
  }
}

/** Sets `synchronous_standby_names` on the primary (`''` for asynchronous replication) and reloads. */
export async function setSynchronousStandbys(primaryUrl: string, names: string): Promise<void> {
  await sqlOn(primaryUrl, `ALTER SYSTEM SET synchronous_standby_names = '${names.replace(/'/g, "''")}'`);
  await sqlOn(primaryUrl, 'SELECT pg_reload_conf()');
}

/** Waits until every replica has replayed the primary's current WAL position. */
export async function waitForReplay(primaryUrl: string, replicas: readonly PgReplica[], timeoutMs = 30_000): Promise<void> {
  const [{ lsn }] = (await sqlOn<{ lsn: string }>(primaryUrl, 'SELECT pg_current_wal_lsn()::text AS lsn')) as [{ lsn: string }];
  const deadline = Date.now() + timeoutMs;
  for (const r of replicas) {
    for (;;) {
      const [row] = await sqlOn<{ ok: boolean }>(r.url, 'SELECT pg_last_wal_replay_lsn() >= $1::pg_lsn AS ok', [lsn]);
      if (row?.ok === true) break;
      if (Date.now() > deadline) throw new Error(`replica ${r.name} did not replay ${lsn} within ${timeoutMs} ms`);
      await new Promise((res) => setTimeout(res, 20));
    }
  }
}

process.once('exit', () => {
  for (const r of live) {
    try {
      execFileSync('su', ['postgres', '-c', `${pgBin()}/pg_ctl -D ${r.dir}/data -m immediate stop`], { stdio: 'ignore', timeout: 30_000 });
    } catch {
      // already stopped
    }
    rmSync(r.dir, { recursive: true, force: true });
  }
});
