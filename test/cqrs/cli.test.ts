import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openSqliteEventStore, projectionRef, storeDatabase, waitFor } from '../../src/index.js';
import { runCli } from '../cli/run-cli.js';
import { tempDir } from '../support/tmp.js';
import { added } from './fixtures/cart.js';
import { ProjectorChild } from './fixtures/child.js';
import { foldTotals, totals } from './fixtures/projections.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const jsonLines = (out: string): Array<Record<string, unknown>> => out.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);

describe('tessera projections (CLI, SQLite)', () => {
  it('list, rebuild with progress while a projector runs, skip and retry', { timeout: 90_000 }, async () => {
    const tmp = tempDir();
    cleanups.push(tmp.remove);
    const path = join(tmp.dir, 'events.db');
    const store = await openSqliteEventStore({ path });
    cleanups.push(() => store.close());
    const db = storeDatabase(store);
    let last = 0n;
    for (let i = 0; i < 200; i++) last = (await store.appendToStream(`c${i % 11}`, Array.from({ length: 50 }, () => added('A', 1, 2)))).lastGlobalPosition;
    const child = new ProjectorChild({ TESSERA_DB: path, BATCH: '100', POLL_MS: '5' });
    cleanups.push(() => child.kill());
    await child.next((l) => l.ev === 'ready');
    await waitFor(projectionRef(db, 'cart_totals'), last, { timeoutMs: 30_000 });

    const list = await runCli(path, ['--json', 'projections', 'list']);
    expect(list.code).toBe(0);
    expect(jsonLines(list.stdout)[0]).toMatchObject({ name: 'cart_totals', state: 'running', position: String(last), lagEvents: '0' });
    const text = await runCli(path, ['projections', 'list']);
    expect(text.stdout).toMatch(/cart_totals\s+async\s+1\s+running/);

    const rebuild = await runCli(path, ['--json', 'projections', 'rebuild', 'cart_totals']);
    expect(rebuild.code).toBe(0);
    const lines = jsonLines(rebuild.stdout);
    expect(lines.some((l) => l.progress !== undefined)).toBe(true);
    expect(lines.at(-1)).toMatchObject({ name: 'cart_totals', rebuild: 'swapped', version: 1 });
    await child.next((l) => l.ev === 'swapped');
    const plain = await runCli(path, ['projections', 'rebuild', 'cart_totals']);
    expect(plain.code).toBe(0);
    expect(plain.stdout).toMatch(/rebuilt cart_totals: version 1, position \d+/);
    expect(await totals(db)).toEqual(foldTotals(await store.readAll()));

    // A poison event parks the projection; skip passes over it.
    await store.appendToStream('p', [{ type: 'Poison', data: {}, id: 'cli-poison' }]);
    const after = (await store.appendToStream('q', [added('B', 1, 3)])).lastGlobalPosition;
    for (let i = 0; i < 200 && !(await db.query("SELECT 1 FROM tessera_projections WHERE state = 'failed'")).length; i++) await new Promise((r) => setTimeout(r, 50));
    const failed = await runCli(path, ['projections', 'list']);
    expect(failed.stdout).toMatch(/failed.*event cli-poison: poison cli-poison/);
    const skip = await runCli(path, ['--json', 'projections', 'skip', 'cart_totals']);
    expect(jsonLines(skip.stdout)[0]).toMatchObject({ name: 'cart_totals', skipped: { eventId: 'cli-poison' } });
    await waitFor(projectionRef(db, 'cart_totals'), after, { timeoutMs: 30_000 });

    const notFailed = await runCli(path, ['projections', 'retry', 'cart_totals']);
    expect(notFailed.code).not.toBe(0);
    expect(notFailed.stderr).toMatch(/not parked in failed/);
    const unknown = await runCli(path, ['--json', 'projections', 'skip', 'nope']);
    expect(unknown.code).not.toBe(0);
    expect(unknown.stdout + unknown.stderr).toMatch(/UNKNOWN_PROJECTION/);
  });
});
