import { realpathSync } from 'node:fs';
import { Mutex } from './mutex.js';

/**
 * One write lock per database file per process. Two connections of one process to the same SQLite file
 * must not both try to write at once: better-sqlite3 waits for SQLite's file lock synchronously (the busy
 * handler blocks the event loop), so a connection waiting in `BEGIN IMMEDIATE` would stop the other one
 * from ever finishing the async transaction that holds the lock, until busy_timeout fails it. Sharing the
 * lock per file makes the second connection wait asynchronously instead. Other processes are still
 * coordinated by SQLite's own file lock.
 */
const locks = new Map<string, { mutex: Mutex; refs: number }>();

/** The lock for `path` (a private one for in-memory databases); pair with {@link releaseFileLock}. */
export function acquireFileLock(path: string): { mutex: Mutex; key: string | null } {
  if (path === ':memory:' || path === '') return { mutex: new Mutex(), key: null };
  const key = realpathSync(path);
  const entry = locks.get(key) ?? { mutex: new Mutex(), refs: 0 };
  entry.refs++;
  locks.set(key, entry);
  return { mutex: entry.mutex, key };
}

/** Drops one reference taken by {@link acquireFileLock}. */
export function releaseFileLock(key: string | null): void {
  if (key === null) return;
  const entry = locks.get(key);
  if (entry === undefined) return;
  if (--entry.refs === 0) locks.delete(key);
}
