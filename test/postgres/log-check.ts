import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { expect } from 'vitest';
import type { RecordedEvent } from '../../src/index.js';

const ROOT = join(import.meta.dirname, '..', '..');
const WRITER = join(import.meta.dirname, 'fixtures', 'pg-writer.ts');

/** One writer child process and what it reported so far. */
export interface Writer {
  readonly name: string;
  readonly proc: ChildProcess;
  readonly lines: string[];
  readonly exited: Promise<number | null>;
  ready: Promise<void>;
  stderr(): string;
}

const children = new Set<ChildProcess>();

/** Spawns `test/postgres/fixtures/pg-writer.ts` (see there for its protocol). */
export function spawnWriter(name: string, url: string, schema: string, durationMs: number, streams: number): Writer {
  const proc = spawn(process.execPath, ['--import', 'tsx', WRITER, url, schema, name, String(durationMs), String(streams)], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(proc);
  const lines: string[] = [];
  let partial = '';
  let err = '';
  let onReady!: () => void;
  const ready = new Promise<void>((r) => (onReady = r));
  proc.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    const parts = (partial + chunk).split('\n');
    partial = parts.pop() ?? '';
    for (const p of parts) {
      lines.push(p);
      if (p === 'ready') onReady();
    }
  });
  proc.stderr!.setEncoding('utf8').on('data', (c: string) => (err += c));
  const exited = new Promise<number | null>((r) =>
    proc.on('exit', (code) => {
      children.delete(proc);
      onReady();
      r(code);
    }),
  );
  return { name, proc, lines, exited, ready, stderr: () => err };
}

/** SIGKILLs every writer still running (for afterAll / finally). */
export function killAllWriters(): void {
  for (const c of children) c.kill('SIGKILL');
}

/** What all writers reported, by event id. */
export interface Reports {
  acked: Set<string>;
  failed: Set<string>;
  indeterminate: Set<string>;
}

export function collectReports(writers: readonly Writer[]): Reports {
  const r: Reports = { acked: new Set(), failed: new Set(), indeterminate: new Set() };
  for (const w of writers) {
    for (const line of w.lines) {
      const [kind, ...ids] = line.split(' ');
      const target = kind === 'ack' ? r.acked : kind === 'fail' ? r.failed : kind === 'indet' ? r.indeterminate : null;
      for (const id of ids) target?.add(id);
    }
  }
  for (const id of r.acked) r.indeterminate.delete(id);
  return r;
}

/**
 * The invariants of the final log against what writers reported:
 * - every acknowledged event is stored exactly once; no definite failure is stored;
 * - no event id twice; each append stored whole or not at all;
 * - per stream, versions are 1..n without holes, and global positions increase with stream versions;
 * - the global log is strictly increasing.
 * Returns how many indeterminate events turned out stored.
 */
export function checkFinalLog(all: readonly RecordedEvent[], reports: Reports): { indeterminateStored: number } {
  const ids = all.map((e) => e.id);
  expect(new Set(ids).size, 'duplicate event ids').toBe(ids.length);
  const stored = new Set(ids);
  const lostAcks = [...reports.acked].filter((id) => !stored.has(id));
  expect(lostAcks, 'acknowledged events missing').toEqual([]);
  const storedFailures = [...reports.failed].filter((id) => stored.has(id));
  expect(storedFailures, 'events of definitely failed appends stored').toEqual([]);
  for (let i = 1; i < all.length; i++) expect(all[i]!.globalPosition > all[i - 1]!.globalPosition).toBe(true);
  const appends = new Map<string, number[]>();
  const byStream = new Map<string, RecordedEvent[]>();
  for (const e of all) {
    const [writer, seq, idx] = e.id.split('-');
    const key = `${writer}-${seq}`;
    appends.set(key, [...(appends.get(key) ?? []), Number(idx)]);
    byStream.set(e.streamId, [...(byStream.get(e.streamId) ?? []), e]);
  }
  for (const [key, idxs] of appends) {
    const seq = Number(key.split('-')[1]);
    expect(idxs, `append ${key} partially stored`).toEqual(Array.from({ length: 1 + (seq % 3) }, (_, i) => i));
  }
  for (const [stream, events] of byStream) {
    expect(events.map((e) => e.streamVersion), `versions of ${stream}`).toEqual(events.map((_, i) => BigInt(i + 1)));
  }
  return { indeterminateStored: [...reports.indeterminate].filter((id) => stored.has(id)).length };
}
