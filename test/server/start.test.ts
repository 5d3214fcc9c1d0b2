import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT, spawnTs } from '../cli/run-cli.js';
import { tempDir } from '../support/tmp.js';

const tmp = tempDir('tessera-start-');
const children = new Set<ChildProcess>();
afterAll(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  tmp.remove();
});

/** Collects output; resolves with the dashboard URL once printed. */
function watch(child: ChildProcess): { url: Promise<string>; output: () => string; exit: Promise<number | null> } {
  let out = '';
  const url = new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no URL within 120 s:\n${out}`)), 120_000);
    const onData = (d: Buffer) => {
      out += d.toString();
      const m = /dashboard at (http:\/\/127\.0\.0\.1:\d+)\/dashboard\//.exec(out);
      if (m?.[1] !== undefined) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    child.on('exit', () => {
      clearTimeout(timer);
      reject(new Error(`exited before printing the URL:\n${out}`));
    });
  });
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { url, output: () => out, exit };
}

async function placeOrder(url: string, orderId: string): Promise<string> {
  const r = await fetch(`${url}/api/orders`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ orderId, items: [{ sku: 'pear', qty: 1 }], payment: { card: '4242', amount: 5 }, address: '2 Main St' }),
  });
  expect(r.status).toBe(202);
  for (let i = 0; i < 600; i++) {
    const saga = await (await fetch(`${url}/api/sagas/${orderId}`)).json() as { status: string };
    if (saga.status === 'completed' || saga.status === 'compensated') return saga.status;
    await new Promise((res) => setTimeout(res, 100));
  }
  throw new Error('saga did not finish');
}

// Starting npm, tsx and the service takes a while on a loaded two-core machine: generous bounds, no timings asserted.
describe('npm start', { timeout: 150_000 }, () => {
  it('starts the real command on a SQLite file, serves an order over HTTP and stops cleanly on SIGINT', async () => {
    const db = join(tmp.dir, 'data', 'orders.db');
    // A process group of its own, like a terminal's foreground job: Ctrl-C reaches npm, the shell and node alike.
    const child = spawn('npm', ['start', '--silent', '--', '--port', '0', '--decline-rate', '0', '--shipping-timeout-rate', '0'], {
      cwd: ROOT, env: { ...process.env, TESSERA_DB: db, TESSERA_LOG_LEVEL: 'warn' }, stdio: ['ignore', 'pipe', 'pipe'], detached: true,
    });
    children.add(child);
    const run = watch(child);
    const url = await run.url;
    expect(existsSync(db)).toBe(true);
    expect(await placeOrder(url, 'smoke-1')).toBe('completed');
    expect((await fetch(`${url}/dashboard/`)).status).toBe(200);
    // An open dashboard (a live event stream) must not hold the shutdown up.
    const live = await fetch(`${url}/api/live`);
    expect(live.status).toBe(200);
    process.kill(-child.pid!, 'SIGINT');
    await run.exit;
    expect(run.output()).toContain('SIGINT: stopping');
    expect(run.output()).toContain('stopped');
    await expect(fetch(`${url}/health`)).rejects.toThrow();
  });

  it('stops with exit code 0 on SIGTERM, and keeps the orders of the previous run', async () => {
    const db = join(tmp.dir, 'data', 'orders.db');
    const child = spawnTs('examples/orders/start.ts', ['--port', '0'], { TESSERA_DB: db, TESSERA_LOG_LEVEL: 'warn' });
    children.add(child);
    const run = watch(child);
    const url = await run.url;
    expect(((await (await fetch(`${url}/api/orders/smoke-1`)).json()) as { order: { status: string } }).order.status).toBe('confirmed');
    // The step timeline of the previous run's saga, durations included, was kept in the database.
    const saga = (await (await fetch(`${url}/api/sagas/smoke-1`)).json()) as { timeline: Array<{ step: string; durationMs: number | null }> };
    expect(saga.timeline.map((a) => a.step)).toEqual(['placeOrder', 'reserveInventory', 'chargePayment', 'createShipment', 'confirmOrder']);
    expect(saga.timeline.every((a) => typeof a.durationMs === 'number')).toBe(true);
    child.kill('SIGTERM');
    expect(await run.exit).toBe(0);
    expect(run.output()).toContain('SIGTERM: stopping');
  });

  it('refuses a non-loopback host without TESSERA_ADMIN_TOKEN', async () => {
    const child = spawnTs('examples/orders/start.ts', ['--port', '0', '--host', '0.0.0.0'], { TESSERA_DB: join(tmp.dir, 'refuse.db'), TESSERA_LOG_LEVEL: 'warn', TESSERA_ADMIN_TOKEN: '' });
    children.add(child);
    const run = watch(child);
    run.url.catch(() => undefined);
    expect(await run.exit).toBe(1);
    expect(run.output()).toContain('Refusing to listen on 0.0.0.0');
  });
});
