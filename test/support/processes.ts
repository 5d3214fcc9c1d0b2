import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root: children run there so `--import tsx` resolves from its node_modules. */
export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Absolute path of a child-process script in test/fixtures. */
export function fixture(name: string): string {
  return join(REPO_ROOT, 'test', 'fixtures', name);
}

/** How a child ended. */
export interface ChildExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/**
 * A TypeScript child process (run through tsx) with its output collected line by line.
 * Every spawned child is registered so {@link killAllChildren} can reap it whatever the test's outcome.
 */
export interface TsxChild {
  readonly name: string;
  readonly process: ChildProcess;
  /** Complete stdout lines received so far. */
  readonly lines: string[];
  /** Everything written to stderr so far (for failure messages). */
  stderr(): string;
  /** Settles when the process has exited (never rejects). */
  readonly exited: Promise<ChildExit>;
  /** True once the process has exited. */
  readonly hasExited: boolean;
  /** Resolves with the first stdout line matching `predicate` (also one already received); rejects on exit or timeout. */
  waitForLine(predicate: (line: string) => boolean, timeoutMs: number): Promise<string>;
  /** SIGKILLs the process (if still running) and waits for its exit. */
  kill9(): Promise<ChildExit>;
}

const live = new Set<TsxChild>();

/** Spawns `node --import tsx <file> ...args` in the repository root. */
export function spawnTsx(file: string, args: readonly string[], opts: { name?: string; env?: NodeJS.ProcessEnv } = {}): TsxChild {
  const proc = spawn(process.execPath, ['--import', 'tsx', file, ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const listeners = new Set<() => void>();
  let partial = '';
  let err = '';
  let exitedFlag = false;
  proc.stdout!.setEncoding('utf8');
  proc.stdout!.on('data', (chunk: string) => {
    const parts = (partial + chunk).split('\n');
    partial = parts.pop() ?? '';
    lines.push(...parts);
    for (const l of [...listeners]) l();
  });
  proc.stderr!.setEncoding('utf8');
  proc.stderr!.on('data', (chunk: string) => {
    // Bounded: a runaway child must not eat the test runner's memory.
    if (err.length < 64 * 1024) err += chunk;
  });
  const exited = new Promise<ChildExit>((resolve) => {
    const finish = (code: number | null, signal: NodeJS.Signals | null): void => {
      if (exitedFlag) return;
      exitedFlag = true;
      if (partial !== '') lines.push(partial);
      partial = '';
      live.delete(child);
      for (const l of [...listeners]) l();
      resolve({ code, signal });
    };
    proc.on('close', finish);
    proc.on('error', (e) => {
      err += `spawn error: ${e.message}\n`;
      // A process that never started emits no 'close'.
      if (proc.pid === undefined) finish(null, null);
    });
  });

  const child: TsxChild = {
    name: opts.name ?? file,
    process: proc,
    lines,
    stderr: () => err,
    exited,
    get hasExited() {
      return exitedFlag;
    },
    waitForLine(predicate, timeoutMs) {
      return new Promise<string>((resolve, reject) => {
        const check = (): void => {
          const found = lines.find(predicate);
          if (found !== undefined) return finish(() => resolve(found));
          if (exitedFlag) return finish(() => reject(new Error(`${child.name} exited before printing the expected line; stderr:\n${err}`)));
        };
        const timer = setTimeout(
          () => finish(() => reject(new Error(`${child.name}: no expected line within ${timeoutMs} ms; stderr:\n${err}`))),
          timeoutMs,
        );
        const finish = (f: () => void): void => {
          clearTimeout(timer);
          listeners.delete(check);
          f();
        };
        listeners.add(check);
        check();
      });
    },
    async kill9() {
      if (!exitedFlag) proc.kill('SIGKILL');
      return exited;
    },
  };
  live.add(child);
  return child;
}

/** SIGKILLs every child still running (call from afterEach / finally). */
export async function killAllChildren(): Promise<void> {
  await Promise.all([...live].map((c) => c.kill9()));
}

/** Waits for a child's exit, SIGKILLing it if it has not exited within `timeoutMs`. */
export async function waitForExit(child: TsxChild, timeoutMs: number): Promise<ChildExit & { timedOut: boolean }> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutMs)));
  const result = await Promise.race([child.exited, timeout]);
  clearTimeout(timer);
  if (result === 'timeout') return { ...(await child.kill9()), timedOut: true };
  return { ...result, timedOut: false };
}

/** The complete lines of a log file a child appends to (a torn last line, cut by a kill, is dropped). */
export function readLogLines(path: string): string[] {
  if (!existsSync(path)) return [];
  const text = readFileSync(path, 'utf8');
  const parts = text.split('\n');
  parts.pop(); // the text after the last newline is empty or a torn line
  return parts.filter((l) => l.length > 0);
}

/** A promise that resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
