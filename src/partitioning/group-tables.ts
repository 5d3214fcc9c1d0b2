import { PartitionCountMismatchError, UnknownConsumerGroupError } from '../errors.js';
import { LeaseTable } from '../storage/lease.js';
import { runMigrations } from '../storage/migrations.js';
import { describePgError } from '../storage/postgres-errors.js';
import type { SqlDriver, SqlExecutor } from '../storage/port.js';
import type { Clock } from '../support/clock.js';

/**
 * The consumer-group tables in the store's database: the group (with its fixed partition count), its live
 * members (a heartbeat row each), one checkpoint per partition, and one fenced lease per partition.
 * @module
 */

export const GROUPS_TABLE = 'tessera_groups';
export const MEMBERS_TABLE = 'tessera_group_members';
export const CHECKPOINTS_TABLE = 'tessera_group_checkpoints';
export const GROUP_LEASES_TABLE = 'tessera_group_leases';

/** The lease name of one partition of a group. */
export function leaseName(group: string, partition: number): string {
  return `${group}:${partition}`;
}

/** Creates the tables if needed (safe from several processes at once). */
export async function ensureGroupSchema(db: SqlDriver, clock: Clock): Promise<LeaseTable> {
  await runMigrations(db, 'tessera_groups_migrations', [
    {
      version: 1,
      name: 'consumer groups',
      sql: `CREATE TABLE IF NOT EXISTS ${GROUPS_TABLE} (group_name TEXT PRIMARY KEY, partitions INTEGER NOT NULL CHECK (partitions > 0), created_at BIGINT NOT NULL);
        CREATE TABLE IF NOT EXISTS ${MEMBERS_TABLE} (group_name TEXT NOT NULL, member_id TEXT NOT NULL, joined_at BIGINT NOT NULL, expires_at BIGINT NOT NULL, PRIMARY KEY (group_name, member_id));
        CREATE TABLE IF NOT EXISTS ${CHECKPOINTS_TABLE} (group_name TEXT NOT NULL, part INTEGER NOT NULL, position BIGINT NOT NULL, updated_at BIGINT NOT NULL, PRIMARY KEY (group_name, part))`,
    },
  ]);
  const leases = new LeaseTable(db, { table: GROUP_LEASES_TABLE, clock });
  await leases.ensureSchema();
  return leases;
}

/** Creates the group with `partitions` checkpoints at 0, or checks that the stored count is the same. */
export async function registerGroup(db: SqlDriver, group: string, partitions: number, now: number): Promise<void> {
  // Rows that exist are only read: an INSERT … ON CONFLICT on a row that a member paused inside its batch has
  // updated (locked, uncommitted) waits for that member, so a joining member would hang until it resumed.
  let stored = await groupPartitions(db, group);
  const have = stored === null ? new Map<number, bigint>() : await checkpoints(db, group);
  if (stored !== null && have.size >= partitions) {
    if (stored !== partitions) throw new PartitionCountMismatchError(group, stored, partitions);
    return;
  }
  await db.transaction(async (tx) => {
    await tx.run(`INSERT INTO ${GROUPS_TABLE} (group_name, partitions, created_at) VALUES (?, ?, ?) ON CONFLICT (group_name) DO NOTHING`, [group, partitions, now]);
    stored = await groupPartitions(tx, group);
    if (stored !== partitions) throw new PartitionCountMismatchError(group, stored!, partitions);
    for (let p = 0; p < partitions; p++) {
      if (have.has(p)) continue;
      await tx.run(`INSERT INTO ${CHECKPOINTS_TABLE} (group_name, part, position, updated_at) VALUES (?, ?, 0, ?) ON CONFLICT (group_name, part) DO NOTHING`, [group, p, now]);
    }
  });
}

/** The stored partition count, or null for an unknown group. */
export async function groupPartitions(db: SqlExecutor, group: string): Promise<number | null> {
  const [row] = await db.query<{ partitions: unknown }>(`SELECT partitions FROM ${GROUPS_TABLE} WHERE group_name = ?`, [group]);
  return row === undefined ? null : Number(row.partitions);
}

/** Like {@link groupPartitions} but throws {@link UnknownConsumerGroupError}. */
export async function requireGroup(db: SqlExecutor, group: string): Promise<number> {
  const partitions = await groupPartitions(db, group);
  if (partitions === null) throw new UnknownConsumerGroupError(group);
  return partitions;
}

/** Every group name with its partition count. */
export async function listGroups(db: SqlExecutor): Promise<Array<{ group: string; partitions: number; createdAt: number }>> {
  const rows = await db.query<{ group_name: string; partitions: unknown; created_at: unknown }>(`SELECT group_name, partitions, created_at FROM ${GROUPS_TABLE} ORDER BY group_name`);
  return rows.map((r) => ({ group: r.group_name, partitions: Number(r.partitions), createdAt: Number(r.created_at) }));
}

/** Writes this member's heartbeat (joins the group on the first call). */
export async function heartbeat(db: SqlExecutor, group: string, member: string, now: number, sessionMs: number): Promise<void> {
  await db.run(
    `INSERT INTO ${MEMBERS_TABLE} (group_name, member_id, joined_at, expires_at) VALUES (?, ?, ?, ?)
     ON CONFLICT (group_name, member_id) DO UPDATE SET expires_at = excluded.expires_at`,
    [group, member, now, now + sessionMs],
  );
}

/** Removes a member at once (a graceful leave), so the others take its partitions without waiting. */
export async function leave(db: SqlExecutor, group: string, member: string): Promise<void> {
  await db.run(`DELETE FROM ${MEMBERS_TABLE} WHERE group_name = ? AND member_id = ?`, [group, member]);
}

/** A member row: `live` while its heartbeat has not expired. */
export interface MemberRow {
  memberId: string;
  joinedAt: number;
  expiresAt: number;
}

/** Every member row of a group (live or expired), by id. */
export async function members(db: SqlExecutor, group: string): Promise<MemberRow[]> {
  const rows = await db.query<{ member_id: string; joined_at: unknown; expires_at: unknown }>(
    `SELECT member_id, joined_at, expires_at FROM ${MEMBERS_TABLE} WHERE group_name = ? ORDER BY member_id`,
    [group],
  );
  return rows.map((r) => ({ memberId: r.member_id, joinedAt: Number(r.joined_at), expiresAt: Number(r.expires_at) }));
}

/** A partition's lease row. */
export interface PartitionLease {
  partition: number;
  owner: string;
  fence: bigint;
  expiresAt: number;
}

/** The lease rows of a group's partitions (held or expired). */
export async function partitionLeases(db: SqlExecutor, group: string): Promise<PartitionLease[]> {
  const prefix = `${group}:`;
  const rows = await db.query<{ name: string; owner: string; fence: unknown; expires_at: unknown }>(
    `SELECT name, owner, fence, expires_at FROM ${GROUP_LEASES_TABLE} WHERE substr(name, 1, ?) = ?`,
    [prefix.length, prefix],
  );
  return rows
    .map((r) => ({ partition: Number(r.name.slice(prefix.length)), owner: r.owner, fence: BigInt(r.fence as string | number | bigint), expiresAt: Number(r.expires_at) }))
    .filter((l) => Number.isSafeInteger(l.partition));
}

/**
 * Takes a partition's lease if it is free, expired, or recorded under this same member id: a restarted
 * static member takes its partitions back at once, and the new fence shuts out its former incarnation.
 */
export async function acquirePartition(db: SqlDriver, group: string, partition: number, member: string, now: number, ttlMs: number): Promise<bigint | null> {
  if (db.dialect === 'sqlite') return acquireIn(db, group, partition, member, now, ttlMs);
  // A holder paused inside its batch keeps the lease row locked: give up at once instead of waiting for it,
  // so this member's heartbeats and other partitions carry on (the next sync tries again).
  try {
    return await db.transaction(async (tx) => {
      await tx.exec("SET LOCAL lock_timeout = '100ms'");
      return acquireIn(tx, group, partition, member, now, ttlMs);
    });
  } catch (error) {
    if (describePgError(error).code === '55P03') return null;
    throw error;
  }
}

async function acquireIn(db: SqlExecutor, group: string, partition: number, member: string, now: number, ttlMs: number): Promise<bigint | null> {
  const rows = await db.query<{ fence: unknown }>(
    `INSERT INTO ${GROUP_LEASES_TABLE} (name, owner, fence, expires_at) VALUES (?, ?, 1, ?)
     ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, fence = ${GROUP_LEASES_TABLE}.fence + 1, expires_at = excluded.expires_at
     WHERE ${GROUP_LEASES_TABLE}.expires_at <= ? OR ${GROUP_LEASES_TABLE}.owner = ?
     RETURNING fence`,
    [leaseName(group, partition), member, now + ttlMs, now, member],
  );
  const row = rows[0];
  return row === undefined ? null : BigInt(row.fence as string | number | bigint);
}

/** Every checkpoint of a group, indexed by partition. */
export async function checkpoints(db: SqlExecutor, group: string): Promise<Map<number, bigint>> {
  const rows = await db.query<{ part: unknown; position: unknown }>(`SELECT part, position FROM ${CHECKPOINTS_TABLE} WHERE group_name = ?`, [group]);
  return new Map(rows.map((r) => [Number(r.part), BigInt(r.position as string | number | bigint)]));
}

/** Moves a checkpoint from `from` to `to`; false when it was not at `from` (someone else moved it). */
export async function moveCheckpoint(tx: SqlExecutor, group: string, partition: number, from: bigint, to: bigint, now: number): Promise<boolean> {
  const { changes } = await tx.run(
    `UPDATE ${CHECKPOINTS_TABLE} SET position = ?, updated_at = ? WHERE group_name = ? AND part = ? AND position = ?`,
    [to, now, group, partition, from],
  );
  return changes === 1;
}
