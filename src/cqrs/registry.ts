import { UnknownProjectionError } from '../errors.js';
import { runMigrations } from '../storage/migrations.js';
import type { SqlDriver, SqlExecutor } from '../storage/port.js';
import { liveTables, type Projection } from './projection.js';

/**
 * The `tessera_projections` table: one row per projection, in the read model's database, holding its
 * checkpoint (moved in the same transaction as the read-model writes), its failure and rebuild state.
 * @module
 */

export const REGISTRY_TABLE = 'tessera_projections';

const DDL = `CREATE TABLE IF NOT EXISTS ${REGISTRY_TABLE} (
  name TEXT PRIMARY KEY,
  kind TEXT NOT NULL,
  version INTEGER NOT NULL,
  tables TEXT NOT NULL,
  position BIGINT NOT NULL DEFAULT 0,
  phase TEXT NOT NULL DEFAULT 'catching_up',
  state TEXT NOT NULL DEFAULT 'running',
  failed_event_id TEXT,
  failed_position BIGINT,
  failed_phase TEXT,
  error TEXT,
  attempts INTEGER NOT NULL DEFAULT 0,
  generation INTEGER NOT NULL DEFAULT 0,
  rebuild_requested INTEGER NOT NULL DEFAULT 0,
  rebuild_version INTEGER,
  rebuild_position BIGINT,
  rebuild_started_at BIGINT,
  rebuild_applied BIGINT NOT NULL DEFAULT 0,
  updated_at BIGINT NOT NULL
)`;

/** A registry row, with positions as bigints. */
export interface RegistryRow {
  name: string;
  kind: 'async' | 'inline';
  version: number;
  tables: string[];
  position: bigint;
  phase: 'running' | 'catching_up';
  state: 'running' | 'failed';
  failedEventId: string | null;
  failedPosition: bigint | null;
  failedPhase: 'live' | 'rebuild' | null;
  error: string | null;
  attempts: number;
  generation: number;
  rebuildRequested: boolean;
  rebuildVersion: number | null;
  rebuildPosition: bigint | null;
  rebuildStartedAt: number | null;
  /** Events the current rebuild has replayed so far. */
  rebuildApplied: number;
  updatedAt: number;
}

/** Creates the registry table (through migrations, so concurrent starts on PostgreSQL do not race). */
export async function ensureRegistry(db: SqlDriver): Promise<void> {
  await runMigrations(db, 'tessera_projections_migrations', [{ version: 1, name: 'projection registry', sql: DDL }]);
}

/** Creates the registry table from inside an open transaction (inline projections set up at store open). */
export async function ensureRegistryIn(tx: SqlExecutor): Promise<void> {
  await tx.exec(DDL);
}

/**
 * Registers a projection the first time it is seen and runs its `setup` on the live tables in the same
 * transaction; a no-op when the row exists.
 */
export async function registerProjection(tx: SqlExecutor, p: Projection, kind: 'async' | 'inline', now: number): Promise<boolean> {
  const { changes } = await tx.run(
    `INSERT INTO ${REGISTRY_TABLE} (name, kind, version, tables, updated_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (name) DO NOTHING`,
    [p.name, kind, p.version, JSON.stringify(p.tables), now],
  );
  if (changes === 1) await p.setup(tx, liveTables(p));
  return changes === 1;
}

const big = (v: unknown): bigint => BigInt(v as string | number | bigint);
const bigOrNull = (v: unknown): bigint | null => (v === null || v === undefined ? null : big(v));
const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

/** Reads a projection's row; null when it is not registered. */
export async function readRow(db: SqlExecutor, name: string): Promise<RegistryRow | null> {
  const [r] = await db.query<Record<string, unknown>>(`SELECT * FROM ${REGISTRY_TABLE} WHERE name = ?`, [name]);
  return r === undefined ? null : toRow(r);
}

/** Like {@link readRow}, but an unknown name is an `UnknownProjectionError`. */
export async function requireRow(db: SqlExecutor, name: string): Promise<RegistryRow> {
  const row = await readRow(db, name).catch((e: unknown) => {
    // No registry table yet means no projection was ever registered here.
    if (/no such table|does not exist/i.test(String(e))) return null;
    throw e;
  });
  if (row === null) throw new UnknownProjectionError(name);
  return row;
}

/** Every registered projection, by name. */
export async function readRows(db: SqlExecutor): Promise<RegistryRow[]> {
  const rows = await db.query<Record<string, unknown>>(`SELECT * FROM ${REGISTRY_TABLE} ORDER BY name`).catch((e: unknown) => {
    if (/no such table|does not exist/i.test(String(e))) return [];
    throw e;
  });
  return rows.map(toRow);
}

function toRow(r: Record<string, unknown>): RegistryRow {
  return {
    name: String(r.name),
    kind: r.kind as RegistryRow['kind'],
    version: Number(r.version),
    tables: JSON.parse(String(r.tables)) as string[],
    position: big(r.position),
    phase: r.phase as RegistryRow['phase'],
    state: r.state as RegistryRow['state'],
    failedEventId: (r.failed_event_id as string | null) ?? null,
    failedPosition: bigOrNull(r.failed_position),
    failedPhase: (r.failed_phase as RegistryRow['failedPhase']) ?? null,
    error: (r.error as string | null) ?? null,
    attempts: Number(r.attempts),
    generation: Number(r.generation),
    rebuildRequested: Number(r.rebuild_requested) === 1,
    rebuildVersion: numOrNull(r.rebuild_version),
    rebuildPosition: bigOrNull(r.rebuild_position),
    rebuildStartedAt: numOrNull(r.rebuild_started_at),
    rebuildApplied: Number(r.rebuild_applied ?? 0),
    updatedAt: Number(r.updated_at),
  };
}
