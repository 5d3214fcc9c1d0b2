import { SingleBar } from 'cli-progress';
import type { Command } from 'commander';
import { requestRebuild, retryProjection, skipProjection } from '../../cqrs/admin.js';
import { type RebuildProgress, RebuildWatch } from '../../cqrs/rebuild-watch.js';
import { type ProjectionStatus, projectionStatus } from '../../cqrs/status.js';
import { storeDatabase } from '../../eventstore/store.js';
import type { EventStore } from '../../eventstore/types.js';
import type { SqlDriver } from '../../storage/port.js';
import { openSqlite } from '../../storage/sqlite.js';
import { note, withStore, writeLine } from '../context.js';
import { jsonLine, table } from '../format.js';

/**
 * `tessera projections list|rebuild|retry|skip`: inspect and operate the async projections whose
 * checkpoints live in the store's database (or in `--read-db`). The projector processes do the work; these
 * commands only read and flag the registry, so they are safe while projectors run.
 *
 * @example
 * ```sh
 * tessera projections list
 * tessera projections rebuild cart_totals      # progress bar until the rebuilt tables are swapped in
 * tessera projections retry cart_totals        # after fixing the cause of a failure
 * tessera projections skip cart_totals --json  # pass over the poison event
 * ```
 */
export function register(program: Command): void {
  const projections = program
    .command('projections')
    .description('list, rebuild, retry or skip async projections')
    .option('--read-db <path>', 'SQLite file holding the read models, if not the event store itself');

  projections
    .command('list')
    .description('position, lag and state of every projection')
    .action(async (_opts: unknown, cmd: Command) => {
      await withProjections(cmd, async (store, db, json) => {
        const statuses = await projectionStatus(db, store);
        if (json) for (const s of statuses) await writeLine(jsonLine(s));
        else if (statuses.length === 0) note('no projections registered in this database');
        else await writeLine(renderList(statuses));
      });
    });

  projections
    .command('rebuild <name>')
    .description('replay into new tables and swap them in when caught up (a running projector does the work)')
    .option('--no-wait', 'flag the rebuild and return at once')
    .action(async (name: string, opts: { wait: boolean }, cmd: Command) => {
      await withProjections(cmd, async (store, db, json) => {
        await requestRebuild(db, name);
        const [status] = await projectionStatus(db, store, { names: [name] });
        if (!status?.lease?.held) note(`no projector holds "${name}" right now: the rebuild starts when one runs`);
        if (!opts.wait) return writeLine(json ? jsonLine({ name, rebuild: 'requested' }) : `rebuild of ${name} requested`);
        const done = await follow(new RebuildWatch(db, store, name), json);
        await writeLine(json ? jsonLine({ name, rebuild: 'swapped', ...done }) : `rebuilt ${name}: version ${done.version}, position ${done.position}`);
      });
    });

  projections
    .command('retry <name>')
    .description('try the event a failed projection is parked on again')
    .action(async (name: string, _opts: unknown, cmd: Command) => {
      await withProjections(cmd, async (_store, db, json) => {
        await retryProjection(db, name);
        await writeLine(json ? jsonLine({ name, retried: true }) : `${name}: retrying`);
      });
    });

  projections
    .command('skip <name>')
    .description('pass over the event a failed projection is parked on (it is never applied)')
    .action(async (name: string, _opts: unknown, cmd: Command) => {
      await withProjections(cmd, async (_store, db, json) => {
        const skipped = await skipProjection(db, name);
        await writeLine(json ? jsonLine({ name, skipped }) : `${name}: skipped event ${skipped.eventId} at position ${skipped.position}`);
      });
    });
}

async function withProjections(cmd: Command, fn: (store: EventStore, db: SqlDriver, json: boolean) => Promise<void>): Promise<void> {
  const readDb = cmd.optsWithGlobals<{ readDb?: string }>().readDb;
  await withStore(cmd, 'existing', async (store, g) => {
    const db = readDb === undefined ? storeDatabase(store) : openSqlite({ path: readDb });
    try {
      await fn(store, db, g.json);
    } finally {
      if (readDb !== undefined) await db.close();
    }
  });
}

/** Shows a rebuild's progress: a bar on a terminal's stderr, JSON lines with `--json`. */
async function follow(watch: RebuildWatch, json: boolean): Promise<{ version: number; position: bigint }> {
  const bar = json ? null : new SingleBar({ format: ' rebuild [{bar}] {percentage}% | {value}/{total} events | {rate} events/s | ETA {eta}s', stream: process.stderr, hideCursor: true });
  let started = false;
  watch.on('progress', (p: RebuildProgress) => {
    if (json) return void writeLine(jsonLine({ progress: p }));
    const total = Math.max(1, p.processed + p.remaining);
    const done = p.percent === 100 ? total : p.processed;
    const payload = { rate: Math.round(p.eventsPerSec), eta: p.etaMs === null ? '?' : Math.ceil(p.etaMs / 1000) };
    if (!started) bar!.start(total, done, payload);
    else bar!.setTotal(total);
    bar!.update(done, payload);
    started = true;
  });
  watch.on('failed', (f: { eventId: string | null; error: string | null }) => note(`rebuild parked on event ${f.eventId ?? '?'}: ${f.error ?? ''} (retry or skip it)`));
  const stop = (): void => watch.stop();
  process.once('SIGINT', stop);
  try {
    return await watch.done;
  } finally {
    process.off('SIGINT', stop);
    if (started) bar!.stop();
  }
}

function renderList(statuses: ProjectionStatus[]): string {
  const rows = statuses.map((s) => [
    s.name,
    s.kind,
    String(s.version),
    s.state,
    s.kind === 'inline' ? '-' : String(s.position),
    s.lagEvents === null ? '-' : String(s.lagEvents),
    s.lagMs === null ? '-' : String(s.lagMs),
    s.lease?.held ? s.lease.owner : '-',
    s.failed ? `event ${s.failed.eventId}: ${s.failed.error}` : s.rebuild ? `rebuilding v${s.rebuild.version} at ${s.rebuild.position}` : '',
  ]);
  return table(['name', 'kind', 'version', 'state', 'position', 'lag', 'lag ms', 'owner', 'note'], rows, ['left', 'left', 'right', 'left', 'right', 'right', 'right']);
}
