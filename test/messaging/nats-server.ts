import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './nats-helpers.js';

/** A throwaway `nats-server -js` on a free port with its own store dir (RECIPES.md), for fault tests. */
export interface ThrowawayNats {
  readonly url: string;
  readonly port: number;
  readonly dir: string;
  /** SIGKILLs the server and waits for its exit. */
  kill9(): Promise<void>;
  /** Starts it again on the same port with the same store dir (JetStream data survives). */
  restart(): Promise<void>;
  /** Kills the server (if running) and deletes its directory. */
  destroy(): Promise<void>;
}

const BIN = (() => {
  try {
    return execFileSync('sh', ['-c', 'command -v nats-server || echo /usr/sbin/nats-server']).toString().trim();
  } catch {
    return '/usr/sbin/nats-server';
  }
})();

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });
}

async function waitForPort(port: number, proc: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await portOpen(port))) {
    if (proc.exitCode !== null || proc.signalCode !== null) throw new Error(`nats-server exited (${proc.exitCode ?? proc.signalCode})`);
    if (Date.now() > deadline) throw new Error(`nats-server did not open port ${port} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Starts a throwaway JetStream server; call `destroy()` in a finally/afterEach. */
export async function startThrowawayNats(options: { jetstream?: boolean } = {}): Promise<ThrowawayNats> {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-nats-'));
  const port = await freePort();
  let proc: ChildProcess | undefined;
  const start = async (): Promise<void> => {
    const js = options.jetstream === false ? [] : ['-js', '-sd', join(dir, 'js')];
    proc = spawn(BIN, ['-a', '127.0.0.1', '-p', String(port), ...js, '-l', join(dir, 'log')], { stdio: 'ignore' });
    await waitForPort(port, proc, 30_000);
  };
  const kill9 = async (): Promise<void> => {
    const p = proc;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    const exited = new Promise<void>((r) => p.once('exit', () => r()));
    p.kill('SIGKILL');
    await exited;
  };
  await start();
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    dir,
    kill9,
    restart: start,
    destroy: async () => {
      await kill9();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
