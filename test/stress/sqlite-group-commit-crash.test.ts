import Database from 'better-sqlite3';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openSqliteEventStore } from '../../src/index.js';
import { fixture, killAllChildren, readLogLines, sleep, spawnTsx } from '../support/processes.js';
import { tempDir } from '../support/tmp.js';
import { groupToDistinctStreams, groupWithConflicts } from './group-commit-cases.js';
import { readWriterLog, verifyStore } from './verify-log.js';

const GROUP = 8;

function rawEvents(dbPath: string): { ids: string[]; positions: bigint[]; integrity: unknown } {
  const db = new Database(dbPath);
  try {
    const rows = db.prepare('SELECT event_id, global_position FROM tessera_events ORDER BY global_position').safeIntegers(true).all() as {
      event_id: string;
      global_position: bigint;
    }[];
    return { ids: rows.map((r) => r.event_id), positions: rows.map((r) => r.global_position), integrity: db.pragma('integrity_check', { simple: true }) };
  } finally {
    db.close();
  }
}

describe('SQLite group commit: a crash before COMMIT', () => {
  afterEach(async () => {
    await killAllChildren();
  });

  // blockAt 1: killed with one append of the group applied; GROUP: with all applied. Large payloads make
  // SQLite spill uncommitted pages into the WAL, so recovery must also ignore frames with no commit.
  it.each([
    { blockAt: 1, payloadBytes: 100 },
    { blockAt: GROUP, payloadBytes: 100 },
    { blockAt: GROUP, payloadBytes: 600_000 },
  ])('stores none of the group when killed inside its transaction (blockAt $blockAt, $payloadBytes-byte events)', async ({ blockAt, payloadBytes }) => {
    const tmp = tempDir('tessera-gc-crash-');
    try {
      const dbPath = join(tmp.dir, 'events.db');
      const child = spawnTsx(fixture('sqlite-group-crash.ts'), [dbPath, String(GROUP), String(blockAt), String(payloadBytes)], { name: 'group-crash' });
      await child.waitForLine((l) => l === 'in-transaction', 60_000);
      const exit = await child.kill9();
      expect(exit.signal).toBe('SIGKILL');
      expect(child.lines).toContain('seeded');
      expect(child.lines).toContain('fired');
      expect(child.lines.filter((l) => l.startsWith('acked ') || l.startsWith('failed '))).toEqual([]);

      if (payloadBytes > 100_000) {
        // The group's pages reached the WAL uncommitted: recovery below must ignore them.
        expect(statSync(`${dbPath}-wal`).size).toBeGreaterThan((GROUP * payloadBytes) / 2);
      }
      const after = rawEvents(dbPath);
      expect(after.integrity).toBe('ok');
      expect(after.ids).toEqual(['seed-1']);

      // The store opens and writes normally; the group's streams are absent and free.
      const store = await openSqliteEventStore({ path: dbPath, busyTimeoutMs: 10_000 });
      try {
        for (let i = 0; i < GROUP; i++) expect(await store.streamExists(`group-${i}`)).toBe(false);
        const r = await store.appendToStream('group-0', [{ id: 'g-0', type: 'Grouped', data: { again: true } }], { expectedVersion: 'no_stream' });
        expect(r.nextExpectedVersion).toBe(1n);
        expect(r.lastGlobalPosition).toBeGreaterThan(after.positions[0]!);
        expect((await store.readStream('group-0'))[0]!.data).toEqual({ again: true });
      } finally {
        await store.close();
      }
      expect(rawEvents(dbPath).integrity).toBe('ok');
    } finally {
      await killAllChildren();
      tmp.remove();
    }
  }, 120_000);
});

/** True when another connection holds the write lock (the probe cannot begin a write transaction). */
function writeLockHeld(probe: Database.Database): boolean {
  try {
    probe.exec('BEGIN IMMEDIATE');
    probe.exec('ROLLBACK');
    return false;
  } catch (e) {
    if (String((e as { code?: unknown }).code).startsWith('SQLITE_BUSY')) return true;
    throw e;
  }
}

describe('SQLite group commit without hooks: SIGKILL while the group holds the write lock', () => {
  afterEach(async () => {
    await killAllChildren();
  });

  // The writer is frozen (SIGSTOP) at random moments until a probe connection finds the write lock taken,
  // i.e. the writer is between BEGIN IMMEDIATE and the end of COMMIT of a group; then it is SIGKILLed.
  it('keeps every acknowledged group and stores the group in flight entirely or not at all', async () => {
    const ROUNDS = 3;
    const tmp = tempDir('tessera-gc-lock-');
    const dbPath = join(tmp.dir, 'events.db');
    await (await openSqliteEventStore({ path: dbPath })).close();
    const probe = new Database(dbPath);
    probe.pragma('busy_timeout = 0');
    const names: string[] = [];
    let probes = 0;
    const inFlight = { none: 0, all: 0 };
    try {
      for (let round = 0; round < ROUNDS; round++) {
        const name = `r${round}`;
        names.push(name);
        const child = spawnTsx(fixture('sqlite-group-writer.ts'), [dbPath, join(tmp.dir, `${name}.log`), name, String(GROUP)], { name });
        await child.waitForLine((l) => l === 'ready', 60_000);
        await sleep(50 + Math.floor(Math.random() * 200));
        let caught = false;
        for (let attempt = 0; attempt < 2_000 && !caught && !child.hasExited; attempt++) {
          process.kill(child.process.pid!, 'SIGSTOP');
          probes++;
          caught = writeLockHeld(probe);
          if (!caught) {
            process.kill(child.process.pid!, 'SIGCONT');
            await sleep(Math.floor(Math.random() * 4));
          }
        }
        const exit = await child.kill9();
        expect(exit.signal, child.stderr()).toBe('SIGKILL');
        expect(caught, 'the writer was caught holding the write lock').toBe(true);
      }
      probe.close();

      const logs = names.map((n) => readWriterLog(n, join(tmp.dir, `${n}.log`)));
      const { problems, totals } = verifyStore(dbPath, logs);
      expect(problems).toEqual([]);
      // Group level: the appends of the group in flight share one transaction, so all or none are stored.
      const reader = new Database(dbPath);
      const stored = new Set(reader.prepare('SELECT event_id FROM tessera_events').pluck().all() as string[]);
      reader.close();
      for (const n of names) {
        const lines = readLogLines(join(tmp.dir, `${n}.log`)).map((l) => JSON.parse(l) as { k: string; ids: string[]; g: number });
        const lastGroup = Math.max(...lines.map((l) => l.g));
        const tries = lines.filter((l) => l.k === 'try' && l.g === lastGroup);
        const acked = lines.filter((l) => l.k === 'ack' && l.g === lastGroup).length;
        expect(acked, `${n}: the group in flight was not acknowledged`).toBe(0);
        expect(tries.length).toBe(GROUP);
        const present = tries.filter((t) => t.ids.every((id) => stored.has(id))).length;
        expect([0, GROUP], `${n}: ${present} of ${GROUP} appends of the group in flight stored`).toContain(present);
        if (present === 0) inFlight.none++;
        else inFlight.all++;
      }
      console.log('[sqlite-group-lock-kill]', JSON.stringify({ kills: ROUNDS, probes, acknowledgedAppends: totals.acknowledgedAppends, storedEvents: totals.storedEvents, inFlightGroups: inFlight }));
    } finally {
      if (probe.open) probe.close();
      await killAllChildren();
      tmp.remove();
    }
  }, 180_000);
});

describe('SQLite group commit: concurrent appends in one turn', () => {
  it('acknowledges and stores every append of a group to distinct streams, each result matching what is stored', async () => {
    const tmp = tempDir('tessera-gc-');
    const store = await openSqliteEventStore({ path: join(tmp.dir, 'events.db') });
    try {
      await groupToDistinctStreams(store, GROUP);
    } finally {
      await store.close();
      tmp.remove();
    }
  });

  it('fails a conflicting append alone while the rest of its group commits', async () => {
    const tmp = tempDir('tessera-gc-');
    const store = await openSqliteEventStore({ path: join(tmp.dir, 'events.db') });
    try {
      await groupWithConflicts(store);
    } finally {
      await store.close();
      tmp.remove();
    }
  });
});
