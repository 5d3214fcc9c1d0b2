import { afterEach, describe, expect, it } from 'vitest';
import { killAllChildren } from '../support/processes.js';
import { type GroupAdapter, sqliteAdapter } from './adapters.js';
import { membersCrashScenario } from './members-crash.js';

let adapter: GroupAdapter | undefined;
afterEach(async () => {
  await killAllChildren();
  await adapter?.cleanup();
});

describe('consumer group members joining and dying (SQLite)', () => {
  it('kill -9 one member, SIGSTOP another past its lease, start a new one: exactly-once, ordered, fenced', { timeout: 300_000 }, async () => {
    adapter = sqliteAdapter();
    const figures = await membersCrashScenario(adapter);
    console.log('[partitioning] SQLite members crash:', figures);
    expect(figures.events).toBeGreaterThan(0);
  });
});
