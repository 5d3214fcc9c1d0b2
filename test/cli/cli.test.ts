import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../support/tmp.js';
import { runCli, spawnTs, waitForOutput } from './run-cli.js';

const tmp = tempDir('tessera-cli-');
afterAll(() => tmp.remove());

describe('tessera CLI', () => {
  const db = join(tmp.dir, 'nested', 'folder', 'tessera.db');

  beforeAll(async () => {
    // The first append creates the database and its missing parent folders.
    const first = await runCli(db, ['append', 'cart-1', 'ItemAdded', '{"sku":"A-1","qty":2}', '--expected-version', 'no_stream']);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/^appended ItemAdded to cart-1: version 1, position 1, id \S+/);
    const second = await runCli(db, ['append', 'cart-1', 'ItemAdded', '{"sku":"B-2","qty":1}', '-e', '1', '--metadata', '{"user":"ann"}']);
    expect(second.code).toBe(0);
    // Data from stdin when the argument is omitted.
    const third = await runCli(db, ['append', 'account-7', 'Deposited'], '{"amount":10}\n');
    expect(third.code).toBe(0);
    expect(third.stdout).toContain('appended Deposited to account-7: version 1, position 3');
  });

  it('reads a stream and the global log back as aligned rows', async () => {
    const stream = await runCli(db, ['read', 'cart-1']);
    expect(stream.code).toBe(0);
    const lines = stream.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^position\s+stream\s+version\s+type\s+time\s+data$/);
    expect(lines.slice(2).map((l) => l.trim().split(/\s{2,}/).map((c) => c.trim()))).toEqual([
      ['1', 'cart-1', '1', 'ItemAdded', expect.stringMatching(/^\d{4}-\d\d-\d\dT/), '{"sku":"A-1","qty":2}'],
      ['2', 'cart-1', '2', 'ItemAdded', expect.stringMatching(/^\d{4}-\d\d-\d\dT/), '{"sku":"B-2","qty":1}'],
    ]);
    const all = await runCli(db, ['read']);
    expect(all.stdout.trimEnd().split('\n').slice(2).map((l) => l.trim().split(/\s+/)[0])).toEqual(['1', '2', '3']);
    const backward = await runCli(db, ['read', '--backward', '--max', '2']);
    expect(backward.stdout.trimEnd().split('\n').slice(2).map((l) => l.trim().split(/\s+/)[0])).toEqual(['3', '2']);
    const typed = await runCli(db, ['read', '--types', 'Deposited']);
    expect(typed.stdout).toContain('account-7');
    expect(typed.stdout).not.toContain('cart-1');
    const empty = await runCli(db, ['read', 'no-such-stream']);
    expect(empty).toMatchObject({ code: 0, stdout: 'no events in stream no-such-stream\n' });
  });

  it('prints one parseable JSON object per line with --json, bigints as strings', async () => {
    const read = await runCli(db, ['read', '--json']);
    expect(read.code).toBe(0);
    const events = read.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(events.map((e) => [e.globalPosition, e.streamId, e.streamVersion, e.type])).toEqual([
      ['1', 'cart-1', '1', 'ItemAdded'],
      ['2', 'cart-1', '2', 'ItemAdded'],
      ['3', 'account-7', '1', 'Deposited'],
    ]);
    expect(events[1]).toMatchObject({ data: { sku: 'B-2', qty: 1 }, metadata: { user: 'ann' }, schemaVersion: 1 });
    expect(new Date(events[0]!.recordedAt as string).getTime()).not.toBeNaN();

    const appended = await runCli(db, ['--json', 'append', 'cart-2', 'CartOpened', '{}', '--id', 'evt-json-1']);
    expect(JSON.parse(appended.stdout)).toEqual({
      streamId: 'cart-2', type: 'CartOpened', id: 'evt-json-1', nextExpectedVersion: '1', lastGlobalPosition: '4',
    });
    // Re-sending the same id is an idempotent retry: nothing new is stored.
    const retried = await runCli(db, ['--json', 'append', 'cart-2', 'CartOpened', '{}', '--id', 'evt-json-1']);
    expect(JSON.parse(retried.stdout)).toMatchObject({ nextExpectedVersion: '1', lastGlobalPosition: '4' });
  });

  it('reports counts, last position, size and top streams with stats', async () => {
    const json = await runCli(db, ['stats', '--json']);
    expect(json.code).toBe(0);
    const s = JSON.parse(json.stdout) as Record<string, unknown>;
    expect(s).toMatchObject({ events: 4, streams: 3, lastPosition: '4', path: db });
    expect(s.fileBytes).toBeGreaterThan(0);
    expect((s.topStreams as unknown[])[0]).toEqual({ streamId: 'cart-1', events: 2 });
    const text = await runCli(db, ['stats', '--top', '1']);
    expect(text.stdout).toMatch(/^events\s+4$/m);
    expect(text.stdout).toMatch(/^streams\s+3$/m);
    expect(text.stdout).toMatch(/^cart-1\s+2$/m);
    expect(text.stdout).not.toMatch(/^account-7/m);
  });

  it('exits 1 with the hint on a concurrency conflict, in text and JSON', async () => {
    const text = await runCli(db, ['append', 'cart-1', 'ItemAdded', '{}', '--expected-version', '1']);
    expect(text.code).toBe(1);
    expect(text.stdout).toBe('');
    expect(text.stderr).toBe(
      'error: Stream "cart-1" is at version 2, but the append expected 1\n' +
        'hint: Another writer appended first. Read the stream again, re-decide, and retry with the new version.\n',
    );
    const json = await runCli(db, ['append', 'cart-1', 'ItemAdded', '{}', '-e', 'no_stream', '--json']);
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stderr)).toEqual({
      error: expect.objectContaining({ code: 'CONCURRENCY_CONFLICT', streamId: 'cart-1', expected: 'no_stream', actual: '2', hint: expect.stringContaining('retry') }),
    });
  });

  it('rejects bad input with a clear error and a hint, never a stack trace', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['append', 'cart-1', 'ItemAdded', '{"sku":'], /^error: Invalid data: "\{\\"sku\\":" is not valid JSON/],
      [['append', 'cart-1', 'ItemAdded', '{}', '--expected-version', 'latest'], /^error: Invalid --expected-version: "latest" is not a version/],
      [['append', 'cart-1', 'ItemAdded', '{}', '--metadata', '[1]'], /^error: Invalid --metadata: an array is not a JSON object/],
      [['append', 'cart-1', 'ItemAdded'], /^error: Invalid data: stdin was empty/],
      [['read', '--max', '0'], /^error: Invalid --max: "0" is not a positive whole number/],
      [['read', '--from', '-3'], /^error: Invalid --from: "-3" is not a whole number/],
      [['stats', '--top', 'many'], /^error: Invalid --top: "many" is not a positive whole number/],
      [['read', '--types', ','], /^error: Invalid --types/],
      [['read', '--bogus'], /^error: unknown option '--bogus'/],
      [['frobnicate'], /^error: unknown command 'frobnicate'/],
    ];
    for (const [args, message] of cases) {
      const r = await runCli(db, args);
      expect(r.code, args.join(' ')).toBe(1);
      expect(r.stderr, args.join(' ')).toMatch(message);
      expect(r.stderr, args.join(' ')).toMatch(/\nhint: \S/);
      expect(r.stderr, args.join(' ')).not.toMatch(/\n\s+at /);
    }
  });

  it('refuses to read a database that does not exist, and exits 2 when storage fails', async () => {
    const missing = await runCli(join(tmp.dir, 'missing.db'), ['read']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^error: Invalid --db: no database at .*missing\.db\nhint: /);
    const folder = join(tmp.dir, 'a-folder');
    mkdirSync(folder);
    const broken = await runCli(folder, ['append', 's', 't', '{}']);
    expect(broken.code).toBe(2);
    expect(broken.stderr).toMatch(/^error: Cannot open SQLite database/);
  });

  it('tail prints an event appended after it started, and stops on SIGTERM', async () => {
    const child = spawnTs('src/cli/main.ts', ['--db', db, 'tail', '--json']);
    try {
      await waitForOutput(child.stderr!, 'Ctrl-C to stop');
      const seen = waitForOutput(child.stdout!, '"streamId":"live-1"');
      const appended = await runCli(db, ['append', 'live-1', 'Pinged', '{"n":1}']);
      expect(appended.code).toBe(0);
      const line = (await seen).trimEnd().split('\n').pop()!;
      // Started after the existing events: only the new one is printed.
      expect(JSON.parse(line)).toMatchObject({ streamId: 'live-1', type: 'Pinged', data: { n: 1 }, globalPosition: '5' });
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
