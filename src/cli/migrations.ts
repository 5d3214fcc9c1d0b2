import { ensureRegistry } from '../cqrs/registry.js';
import { storeDatabase } from '../eventstore/store.js';
import { migrationsTable } from '../eventstore/postgres/schema.js';
import { SQLITE_MIGRATIONS_TABLE } from '../eventstore/sqlite/schema.js';
import { migrateSagaTables } from '../saga/migrate.js';
import { SAGA_MIGRATIONS_TABLE } from '../saga/schema.js';
import { LeaseTable } from '../storage/lease.js';
import type { SqlDriver } from '../storage/port.js';
import { openTarget, type StoreTarget, targetExists, withRawDriver } from './context.js';

/**
 * What `tessera init` and `tessera migrate` set up: the event store's own tables, then the tables the other
 * parts keep in the store's database (projection registry, leases, sagas). Each part runs its migrations
 * through its own entry point, so the CLI applies exactly what the library would apply on first use; the
 * report is the difference between each migrations table before and after.
 *
 * The outbox relay's checkpoints, the inbox and the choreography dedupe table are created by
 * `startOutboxRelay`, `openInbox` and `startParticipant` on first use (they are cheap and per-consumer).
 *
 * @example
 * ```ts
 * const report = await migrateTarget(storeTarget(globalOptions(cmd)), 'existing', (done, part) => bar.update(done, { part }));
 * ```
 * @module
 */

/** One migration that ran. */
export interface AppliedMigration {
  part: string;
  version: number;
  name: string;
}

/** What {@link migrateTarget} did. */
export interface MigrationReport {
  /** The store's label (file path, or URL without password plus schema). */
  database: string;
  /** True when the store did not exist before this call. */
  created: boolean;
  /** Migrations that ran now, in order; empty when everything was up to date. */
  applied: AppliedMigration[];
  /** Every part and its latest version after the call. */
  parts: Array<{ part: string; version: number }>;
}

interface Part {
  name: string;
  table(target: StoreTarget): string;
  /** Applies the part's migrations on the store's database; the event store's part is applied by opening the store. */
  apply?(db: SqlDriver): Promise<unknown>;
}

const PARTS: readonly Part[] = [
  { name: 'eventstore', table: (t) => (t.kind === 'sqlite' ? SQLITE_MIGRATIONS_TABLE : migrationsTable(t.schema)) },
  { name: 'projections', table: (t) => inSchema(t, 'tessera_projections_migrations'), apply: (db) => ensureRegistry(db) },
  { name: 'leases', table: (t) => inSchema(t, 'tessera_leases_migrations'), apply: (db) => new LeaseTable(db).ensureSchema() },
  { name: 'sagas', table: (t) => inSchema(t, SAGA_MIGRATIONS_TABLE), apply: (db) => migrateSagaTables(db) },
];

// The parts create their tables unqualified, in the first schema of the store's search_path: its own schema.
// Reading them qualified keeps a same-named table in `public` (another store's) out of the report.
function inSchema(target: StoreTarget, table: string): string {
  return target.kind === 'sqlite' ? table : `"${target.schema}".${table}`;
}

/** How many steps {@link migrateTarget} reports through `onStep` (one per part). */
export const MIGRATION_STEPS = PARTS.length;

/**
 * Creates (with `'create'`) or requires (with `'existing'`) the store, then runs every part's pending
 * migrations. Idempotent: a second call applies nothing. Safe while other processes use the store, since
 * each part's migrations take the same locks the library takes.
 *
 * @example
 * ```ts
 * const { applied } = await migrateTarget(target, 'create');
 * ```
 */
export async function migrateTarget(
  target: StoreTarget,
  mode: 'create' | 'existing',
  onStep: (done: number, part: string) => void = () => undefined,
): Promise<MigrationReport> {
  const existed = await targetExists(target);
  const before = existed ? await withRawDriver(target, (db) => readAll(db, target)) : new Map<string, Map<number, string>>();
  const store = await openTarget(target, mode);
  try {
    const db = storeDatabase(store);
    onStep(1, PARTS[0]!.name);
    for (const [i, part] of PARTS.entries()) {
      if (part.apply === undefined) continue;
      await part.apply(db);
      onStep(i + 1, part.name);
    }
    const after = await readAll(db, target);
    const applied: AppliedMigration[] = [];
    const parts: MigrationReport['parts'] = [];
    for (const part of PARTS) {
      const rows = after.get(part.name) ?? new Map<number, string>();
      const old = before.get(part.name);
      for (const [version, name] of rows) if (!old?.has(version)) applied.push({ part: part.name, version, name });
      parts.push({ part: part.name, version: Math.max(0, ...rows.keys()) });
    }
    return { database: target.label, created: !existed, applied, parts };
  } finally {
    await store.close();
  }
}

async function readAll(db: SqlDriver, target: StoreTarget): Promise<Map<string, Map<number, string>>> {
  const out = new Map<string, Map<number, string>>();
  for (const part of PARTS) out.set(part.name, await readApplied(db, part.table(target)));
  return out;
}

/** The migrations a table records, or none when the table does not exist yet. */
async function readApplied(db: SqlDriver, table: string): Promise<Map<number, string>> {
  const exists = db.dialect === 'sqlite'
    ? (await db.query("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", [table])).length > 0
    : (await db.query<{ t: string | null }>('SELECT to_regclass(?)::text AS t', [table]))[0]?.t != null;
  if (!exists) return new Map();
  const rows = await db.query<{ version: number | bigint; name: string }>(`SELECT version, name FROM ${table} ORDER BY version`);
  return new Map(rows.map((r) => [Number(r.version), r.name]));
}
