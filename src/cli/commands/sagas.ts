import type { Command } from 'commander';
import { InvalidArgumentError, SagaNotFoundError, SagaTimeoutError } from '../../errors.js';
import type { EventStore } from '../../eventstore/types.js';
import { openSagaEngine } from '../../saga/engine.js';
import { isTerminalStatus, type SagaEngine, type SagaInstance, type SagaStatus, TERMINAL_STATUSES } from '../../saga/types.js';
import { withStore, writeLine } from '../context.js';
import { jsonLine, keyValues, table } from '../format.js';
import { parsePositiveInt } from '../parse.js';
import { stepBar } from '../progress.js';

const STATUSES: readonly string[] = ['running', 'waiting', 'compensating', 'cancelling', ...TERMINAL_STATUSES];

/**
 * `tessera sagas …`: inspect and steer the sagas in a store. `list` and `show` read the saga log; `cancel` and
 * `retry` (retryCompensation) record the request, which the running saga engines (any process) carry out.
 *
 * @example
 * ```sh
 * tessera sagas list --status compensation_failed
 * tessera sagas show order-42 --json
 * tessera sagas retry order-42               # alias: retry-compensation
 * tessera sagas retry order-42 --wait        # progress bar until the compensation ends
 * tessera sagas cancel order-43
 * ```
 */
export function register(program: Command): void {
  const sagas = program.command('sagas').description('list, inspect, cancel and re-drive sagas');

  sagas
    .command('list')
    .description('sagas, oldest first')
    .option('-s, --status <status>', `only this status (${STATUSES.join(', ')})`)
    .option('-n, --limit <n>', 'at most this many', '100')
    .action(async (opts: { status?: string; limit: string }, cmd: Command) => {
      const limit = parsePositiveInt(opts.limit, '--limit');
      if (opts.status !== undefined && !STATUSES.includes(opts.status)) {
        throw new InvalidArgumentError('--status', `"${opts.status}" is not a saga status`, `Pass one of ${STATUSES.join(', ')}.`);
      }
      await withClient(cmd, async (engine, json) => {
        const list = await engine.list(opts.status === undefined ? { limit } : { status: opts.status as SagaStatus, limit });
        if (json) {
          for (const s of list) await writeLine(jsonLine(s));
          return;
        }
        if (list.length === 0) return void (await writeLine('no sagas'));
        const rows = list.map((s) => [s.id, s.name, String(s.version), s.status, progress(s), s.updatedAt.toISOString(), s.error ?? '']);
        await writeLine(table(['id', 'saga', 'version', 'status', 'steps', 'updated', 'error'], rows));
      });
    });

  sagas
    .command('show')
    .description("one saga: status, input, outputs and its step log")
    .argument('<sagaId>', 'the saga id')
    .action(async (sagaId: string, _opts: unknown, cmd: Command) => {
      await withClient(cmd, async (engine, json) => {
        const s = await engine.get(sagaId);
        if (s === null) throw new SagaNotFoundError(sagaId);
        if (json) return void (await writeLine(jsonLine(s)));
        await writeLine(keyValues([
          ['id', s.id], ['saga', `${s.name} v${s.version}`], ['status', s.status], ['created', s.createdAt.toISOString()],
          ['updated', s.updatedAt.toISOString()], ['input', JSON.stringify(s.input)], ['outputs', JSON.stringify(s.outputs)],
          ...(s.error === undefined ? [] : [['error', s.error] as const]),
        ]));
        await writeLine('');
        await writeLine(table(['step', 'phase', 'state', 'attempts', 'error'], s.steps.map((r) => [r.name, r.phase, r.state, String(r.attempts), r.error ?? ''])));
      });
    });

  sagas
    .command('cancel')
    .description('cancel a running or waiting saga: its started steps are compensated')
    .argument('<sagaId>', 'the saga id')
    .action(async (sagaId: string, _opts: unknown, cmd: Command) => {
      await withClient(cmd, async (engine, json) => {
        await engine.cancel(sagaId);
        const s = await engine.get(sagaId);
        await writeLine(json ? jsonLine({ sagaId, status: s?.status }) : `cancel requested for ${sagaId} (now ${s?.status})`);
      });
    });

  sagas
    .command('retry')
    .alias('retry-compensation')
    .description('re-drive a compensation_failed saga after fixing the cause (a running engine does the work)')
    .argument('<sagaId>', 'the saga id')
    .option('-w, --wait', 'follow the compensation (progress bar) until the saga ends')
    .option('--timeout <ms>', 'with --wait: give up after this long', '60000')
    .action(async (sagaId: string, opts: { wait?: boolean; timeout: string }, cmd: Command) => {
      const timeoutMs = parsePositiveInt(opts.timeout, '--timeout');
      await withClient(cmd, async (engine, json) => {
        await engine.retryCompensation(sagaId);
        const s = opts.wait === true ? await followUndo(engine, sagaId, timeoutMs, json) : await engine.get(sagaId);
        await writeLine(json ? jsonLine({ sagaId, status: s?.status }) : `compensation of ${sagaId} re-driven (now ${s?.status})`);
      });
    });
}

/** Polls the saga until it ends, drawing undone steps against the steps to undo. */
async function followUndo(engine: SagaEngine, sagaId: string, timeoutMs: number, json: boolean): Promise<SagaInstance> {
  const deadline = Date.now() + timeoutMs;
  const first = await engine.get(sagaId);
  const bar = stepBar('compensate', Math.max(1, first?.steps.filter((r) => r.phase === 'do' && r.state === 'succeeded').length ?? 1), json);
  try {
    for (;;) {
      const s = await engine.get(sagaId);
      if (s === null) throw new SagaNotFoundError(sagaId);
      bar.update(s.steps.filter((r) => r.phase === 'undo' && r.state === 'succeeded').length, s.status);
      if (isTerminalStatus(s.status)) return s;
      if (Date.now() >= deadline) throw new SagaTimeoutError(`The compensation of saga "${sagaId}" (a running saga engine does it)`, timeoutMs, true);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  } finally {
    bar.stop();
  }
}

function progress(s: SagaInstance): string {
  const done = s.steps.filter((r) => r.phase === 'do' && r.state === 'succeeded').length;
  const undone = s.steps.filter((r) => r.phase === 'undo' && r.state === 'succeeded').length;
  return undone > 0 ? `${done} done, ${undone} undone` : `${done} done`;
}

// A client engine: no definitions, runs nothing; reading and requests need no step code.
async function withClient(cmd: Command, fn: (engine: SagaEngine, json: boolean) => Promise<void>): Promise<void> {
  await withStore(cmd, 'existing', async (store: EventStore, g) => {
    const engine = await openSagaEngine({ store, sagas: [], maxConcurrent: 0 });
    try {
      await fn(engine, g.json);
    } finally {
      await engine.stop();
    }
  });
}
