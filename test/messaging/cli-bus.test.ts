import { afterEach, describe, expect, it } from 'vitest';
import { REPO_ROOT, spawnTsx, waitForExit } from '../support/processes.js';
import { tempDir } from '../support/tmp.js';
import { deleteStreams, freePort, NATS_URL, uniqueBusNames, until } from './nats-helpers.js';

const cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await Promise.resolve(f()).catch(() => undefined);
});
const CLI = `${REPO_ROOT}/src/cli/main.ts`;

async function cli(args: string[]): Promise<{ code: number | null; lines: string[]; stderr: string }> {
  const child = spawnTsx(CLI, args, { name: `tessera ${args.join(' ')}` });
  const exit = await waitForExit(child, 30_000);
  return { code: exit.code, lines: child.lines, stderr: child.stderr() };
}

describe('tessera bus', () => {
  it('relays the store to JetStream and reports the checkpoint, lag and stream state', async () => {
    const tmp = tempDir('tessera-cli-bus-');
    cleanup.push(tmp.remove);
    const names = uniqueBusNames('cli');
    cleanup.push(() => deleteStreams(NATS_URL, [names.streamName]));
    const db = `${tmp.dir}/events.db`;
    const bus = ['--url', NATS_URL, '--stream', names.streamName, '--prefix', names.prefix];
    for (const i of [1, 2, 3]) expect((await cli(['--db', db, 'append', `order-${i}`, 'Placed', '{"n":1}'])).code).toBe(0);
    const relay = spawnTsx(CLI, ['--db', db, 'bus', 'relay', ...bus], { name: 'bus relay' });
    cleanup.push(() => relay.kill9().then(() => undefined));
    await until(async () => {
      const s = await cli(['--db', db, '--json', 'bus', 'status', ...bus]);
      const status = JSON.parse(s.lines[0] ?? '{}') as { relays?: Array<{ lag: string }>; jetstream?: { messages: number } };
      return status.relays?.[0]?.lag === '0' && status.jetstream?.messages === 3;
    }, 30_000, 'relay caught up');
    relay.process.kill('SIGTERM');
    expect((await waitForExit(relay, 10_000)).timedOut).toBe(false);
    const dead = await cli(['--db', db, '--json', 'bus', 'dead-letters', ...bus]);
    expect(dead.code).toBe(0);
    expect(dead.lines.filter((l) => l.trim() !== '')).toEqual([]);
  });

  it('exits 1 with a hint when NATS is unreachable or the stream name is invalid', async () => {
    const port = await freePort();
    const down = await cli(['bus', 'dead-letters', '--url', `nats://127.0.0.1:${port}`]);
    expect(down.code).toBe(1);
    expect(down.stderr).toContain('hint:');
    const bad = await cli(['bus', 'dead-letters', '--url', NATS_URL, '--stream', 'a.b']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('Invalid streamName');
  });
});
