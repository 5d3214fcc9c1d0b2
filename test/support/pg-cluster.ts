import { execFile, execFileSync } from 'node:child_process';
import { chownSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** A throwaway PostgreSQL cluster (RECIPES.md) for fault tests: its own data folder and port. */
export interface PgCluster {
  readonly port: number;
  readonly dir: string;
  /** `postgres://postgres@127.0.0.1:<port>/postgres` */
  readonly url: string;
  /** Starts the server (again) and waits until it accepts connections. */
  start(): Promise<void>;
  /** Crash-stops the server (`pg_ctl -m immediate`): no shutdown checkpoint, recovery on the next start. */
  stopImmediate(): Promise<void>;
  /** Stops the server if running and deletes the folder; never throws. */
  destroy(): Promise<void>;
}

const live = new Set<PgCluster>();

function pgBin(): string {
  const versions = readdirSync('/usr/lib/postgresql').sort((a, b) => Number(a) - Number(b));
  return `/usr/lib/postgresql/${versions[versions.length - 1]}/bin`;
}

/** Runs a PostgreSQL binary as the `postgres` user (initdb refuses root). */
async function asPostgres(command: string, timeoutMs = 60_000): Promise<string> {
  const { stdout } = await run('su', ['postgres', '-c', command], { timeout: timeoutMs });
  return stdout;
}

/** A port nobody listens on right now. */
export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

/**
 * Creates and starts a cluster on a free port. fsync stays on (the default), so acknowledged commits must
 * survive an immediate stop. If anything fails half-way, what was created is removed before rethrowing.
 */
export async function startPgCluster(): Promise<PgCluster> {
  const bin = pgBin();
  const dir = mkdtempSync(join(tmpdir(), 'tessera-pg.'));
  chownSync(dir, uidOf('postgres'), gidOf('postgres'));
  const port = await freePort();
  const data = join(dir, 'data');
  const startCmd = `${bin}/pg_ctl -D ${data} -l ${dir}/log -w -t 60 -o '-p ${port} -k ${dir} -c listen_addresses=127.0.0.1' start`;
  let running = false;
  const cluster: PgCluster = {
    port,
    dir,
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    start: async () => {
      await asPostgres(`${startCmd} >/dev/null`);
      running = true;
    },
    stopImmediate: async () => {
      await asPostgres(`${bin}/pg_ctl -D ${data} -m immediate -w stop >/dev/null`);
      running = false;
    },
    destroy: async () => {
      live.delete(cluster);
      if (running) await asPostgres(`${bin}/pg_ctl -D ${data} -m fast -w stop >/dev/null`).catch(() => undefined);
      running = false;
      rmSync(dir, { recursive: true, force: true });
    },
  };
  live.add(cluster);
  try {
    await asPostgres(`${bin}/initdb -D ${data} -U postgres --auth=trust --no-sync >/dev/null`);
    await cluster.start();
  } catch (e) {
    await cluster.destroy();
    throw e;
  }
  return cluster;
}

/** Destroys every cluster this process started and has not destroyed yet (for afterAll). */
export async function destroyAllPgClusters(): Promise<void> {
  await Promise.all([...live].map((c) => c.destroy()));
}

function uidOf(user: string): number {
  return idOf(user, 2);
}

function gidOf(user: string): number {
  return idOf(user, 3);
}

function idOf(user: string, field: number): number {
  // /etc/passwd: name:x:uid:gid:…
  const line = readFileSyncUtf8('/etc/passwd').split('\n').find((l) => l.startsWith(`${user}:`));
  const id = Number(line?.split(':')[field]);
  if (!Number.isInteger(id)) throw new Error(`user ${user} not found`);
  return id;
}

function readFileSyncUtf8(path: string): string {
  return readFileSync(path, 'utf8');
}

// A test process that dies unexpectedly must not leave servers behind.
process.once('exit', () => {
  for (const c of live) {
    try {
      execFileSyncQuiet('su', ['postgres', '-c', `${pgBin()}/pg_ctl -D ${c.dir}/data -m immediate stop`]);
    } catch {
      // already stopped
    }
    rmSync(c.dir, { recursive: true, force: true });
  }
});

function execFileSyncQuiet(cmd: string, args: string[]): void {
  execFileSync(cmd, args, { stdio: 'ignore', timeout: 30_000 });
}
