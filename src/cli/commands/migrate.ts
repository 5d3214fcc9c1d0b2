import type { Command } from 'commander';
import { globalOptions, storeTarget, writeLine } from '../context.js';
import { jsonLine, table } from '../format.js';
import { MIGRATION_STEPS, type MigrationReport, migrateTarget } from '../migrations.js';
import { stepBar } from '../progress.js';

/**
 * `tessera init` creates the store — the SQLite file and its folder, or the PostgreSQL schema — and runs
 * every migration; `tessera migrate` runs the pending migrations of an existing store. Both report what
 * ran, are idempotent, and are safe while services use the store.
 *
 * @example
 * ```sh
 * tessera init                                   # ./data/tessera.db
 * tessera migrate --db postgres://postgres@127.0.0.1:5432/app --schema orders --json
 * ```
 */
export function register(program: Command): void {
  const commands = [
    { name: 'init', mode: 'create', description: 'create the store (file or PostgreSQL schema) and run every migration; safe to repeat' },
    { name: 'migrate', mode: 'existing', description: 'run the pending migrations of an existing store and report what ran' },
  ] as const;
  for (const c of commands) {
    program
      .command(c.name)
      .description(c.description)
      .action(async (_opts: unknown, cmd: Command) => {
        await runMigrateCommand(cmd, c.mode);
      });
  }
}

/**
 * Runs {@link migrateTarget} with a progress bar and prints its report (one JSON object with `--json`).
 *
 * @example
 * ```ts
 * .action(async (_opts, cmd: Command) => runMigrateCommand(cmd, 'create'));
 * ```
 */
export async function runMigrateCommand(cmd: Command, mode: 'create' | 'existing'): Promise<MigrationReport> {
  const g = globalOptions(cmd);
  const target = storeTarget(g);
  const bar = stepBar(mode === 'create' ? 'init' : 'migrate', MIGRATION_STEPS, g.json);
  let report: MigrationReport;
  try {
    report = await migrateTarget(target, mode, (done, part) => bar.update(done, part));
  } finally {
    bar.stop();
  }
  await writeLine(g.json ? jsonLine(report) : renderReport(report, mode));
  return report;
}

function renderReport(r: MigrationReport, mode: 'create' | 'existing'): string {
  const head = mode === 'create'
    ? `${r.created ? 'created' : 'already initialized:'} ${r.database}`
    : `migrated ${r.database}`;
  if (r.applied.length === 0) return `${head}\nup to date: nothing to migrate`;
  const rows = r.applied.map((m) => [m.part, String(m.version), m.name]);
  return `${head}\nran ${r.applied.length} migration${r.applied.length === 1 ? '' : 's'}:\n${table(['part', 'version', 'name'], rows, ['left', 'right', 'left'])}`;
}
