import { InvalidArgumentError, InvalidShardMapError, StaleShardMapError } from '../errors.js';
import type { AppendHook, RecordedEvent } from '../eventstore/types.js';
import type { SqlDriver, SqlExecutor } from '../storage/port.js';
import { POSITION_STRIDE, type ShardInfo } from './map.js';

/**
 * What each shard database keeps beside its events:
 * - `tessera_shard_state`: which shard it is, the map epoch it accepted, and its Lamport clock;
 * - `tessera_shard_slots`: the hash slots it owns under that epoch (the fence a stale router hits);
 * - `tessera_shard_log`: the merged global position of each event, `lamport * 1024 + shard index`.
 * An append hook fills them inside the append's own transaction, so an event, its fence check and its
 * merged position commit together or not at all.
 * @module
 */

const MIGRATIONS = [
  {
    version: 1,
    name: 'shard state, owned slots, merged positions',
    sql: `
      CREATE TABLE IF NOT EXISTS tessera_shard_state (
        id          INTEGER PRIMARY KEY CHECK (id = 1),
        shard_id    TEXT    NOT NULL,
        shard_index INTEGER NOT NULL,
        epoch       BIGINT  NOT NULL,
        lamport     BIGINT  NOT NULL
      );
      CREATE TABLE IF NOT EXISTS tessera_shard_slots (slot INTEGER PRIMARY KEY);
      CREATE TABLE IF NOT EXISTS tessera_shard_log (
        position   BIGINT  PRIMARY KEY,
        event_id   TEXT    NOT NULL UNIQUE,
        event_type TEXT    NOT NULL,
        slot       INTEGER
      );
      CREATE INDEX IF NOT EXISTS tessera_shard_log_type ON tessera_shard_log (event_type, position);`,
  },
];

/** What the router tells the shard about one append (looked up by the batch's first event id). */
export interface AppendContext {
  epoch: number;
  slot: number | null;
  /** The router's Lamport clock: positions are assigned above it, so one caller's appends stay in order. */
  hint: bigint;
  /** Set by the hook: the merged positions it assigned. */
  positions?: bigint[];
}

/** Pending contexts of one shard, keyed by first event id. */
export type ContextTable = Map<string, AppendContext[]>;

/**
 * Creates the shard tables. Runs from the hook's `setup`, inside the shard store's own open transaction,
 * so plain idempotent DDL (every statement is IF NOT EXISTS) rather than a migrations table of its own.
 */
export async function migrateShard(db: SqlExecutor): Promise<void> {
  for (const m of MIGRATIONS) await db.exec(m.sql);
}

/**
 * Records on the shard that it accepted map `epoch` and owns `slots`, unless it already accepted a newer
 * map. Refuses a database that belongs to another shard id (a wrong connection in the map).
 */
export async function pushFence(db: SqlDriver, shard: ShardInfo, epoch: number, slots: readonly number[]): Promise<void> {
  await db.transaction(async (tx) => {
    // The state row is the lock appends take: taken first, no append of this shard interleaves from here.
    await tx.run('UPDATE tessera_shard_state SET epoch = epoch WHERE id = 1');
    const [row] = await tx.query<{ shard_id: string; epoch: number | bigint }>('SELECT shard_id, epoch FROM tessera_shard_state WHERE id = 1');
    if (row !== undefined && row.shard_id !== shard.id) {
      throw new InvalidShardMapError(`the database of shard "${shard.id}" belongs to shard "${row.shard_id}"`, 'Fix the shard\'s connection in the map: each shard needs its own database.');
    }
    if (row !== undefined && Number(row.epoch) >= epoch) return;
    if (row === undefined) await tx.run('INSERT INTO tessera_shard_state (id, shard_id, shard_index, epoch, lamport) VALUES (1, ?, ?, ?, 0)', [shard.id, shard.index, epoch]);
    else await tx.run('UPDATE tessera_shard_state SET epoch = ? WHERE id = 1', [epoch]);
    const owned = new Set(slots);
    const lost = (await tx.query<{ slot: number }>('SELECT slot FROM tessera_shard_slots')).map((r) => Number(r.slot)).filter((x) => !owned.has(x));
    await refuseStrandedEvents(tx, shard.id, lost);
    await tx.run('DELETE FROM tessera_shard_slots');
    for (let i = 0; i < slots.length; i += 500) {
      const chunk = slots.slice(i, i + 500);
      await tx.run(`INSERT INTO tessera_shard_slots (slot) VALUES ${chunk.map(() => '(?)').join(', ')}`, chunk);
    }
  });
}

/**
 * A slot may leave a shard only while the shard holds no events of it: moving stored streams needs a copy
 * (resharding), which this release does not do, and a move without it would strand them.
 */
async function refuseStrandedEvents(tx: SqlExecutor, shard: string, lost: readonly number[]): Promise<void> {
  for (let i = 0; i < lost.length; i += 500) {
    const chunk = lost.slice(i, i + 500);
    const [hit] = await tx.query<{ slot: number }>(`SELECT slot FROM tessera_shard_log WHERE slot IN (${chunk.map(() => '?').join(', ')}) LIMIT 1`, chunk);
    if (hit !== undefined) {
      throw new InvalidShardMapError(
        `slot ${hit.slot} would leave shard "${shard}", which holds events of it`,
        'Move only empty slots (add shards before the data grows, or pin new big keys with the directory); copying stored streams (online resharding) is not offered yet.',
      );
    }
  }
}

/** The shard's accepted epoch and Lamport clock (`null` before its first fence). */
export async function shardState(db: SqlExecutor): Promise<{ shardId: string; epoch: number; lamport: bigint } | null> {
  const [row] = await db.query<{ shard_id: string; epoch: number | bigint; lamport: number | bigint }>('SELECT shard_id, epoch, lamport FROM tessera_shard_state WHERE id = 1');
  return row === undefined ? null : { shardId: row.shard_id, epoch: Number(row.epoch), lamport: BigInt(row.lamport) };
}

async function insertLog(tx: SqlExecutor, events: readonly RecordedEvent[], positions: readonly bigint[], slot: number | null): Promise<void> {
  for (let i = 0; i < events.length; i += 400) {
    const params: Array<string | bigint | number | null> = [];
    const rows = events.slice(i, i + 400).map((e, j) => {
      params.push(positions[i + j]!, e.id, e.type, slot);
      return '(?, ?, ?, ?)';
    });
    await tx.run(`INSERT INTO tessera_shard_log (position, event_id, event_type, slot) VALUES ${rows.join(', ')}`, params);
  }
}

/**
 * The append hook of one shard: checks the fence (epoch, slot), advances the Lamport clock (its row lock
 * also orders this shard's appends), stores merged positions, then runs the user's hooks on the events as
 * callers will read them.
 */
export function shardAppendHook(shard: ShardInfo, contexts: ContextTable, userHooks: readonly AppendHook[]): AppendHook {
  return {
    name: `tessera-shard:${shard.id}`,
    setup: async (db) => {
      await migrateShard(db);
      for (const h of userHooks) await h.setup?.(db);
    },
    apply: async (events, tx) => {
      const ctx = contexts.get(events[0]!.id)?.[0];
      if (ctx === undefined) {
        throw new InvalidArgumentError('store', `an append reached shard "${shard.id}" without its router`, 'Append through the sharded store, not through a shard\'s own store.');
      }
      const n = BigInt(events.length);
      const [row] = await tx.query<{ epoch: number | bigint; lamport: number | bigint }>(
        'UPDATE tessera_shard_state SET lamport = CASE WHEN lamport > ? THEN lamport ELSE ? END + ? WHERE id = 1 RETURNING epoch, lamport',
        [ctx.hint, ctx.hint, n],
      );
      const epoch = Number(row?.epoch ?? 0);
      if (row === undefined || ctx.epoch < epoch) {
        throw new StaleShardMapError(ctx.epoch, epoch, `shard "${shard.id}" accepted a newer map; nothing was written`);
      }
      if (ctx.slot !== null && (await tx.query('SELECT slot FROM tessera_shard_slots WHERE slot = ?', [ctx.slot])).length === 0) {
        throw new StaleShardMapError(ctx.epoch, epoch, `shard "${shard.id}" does not own slot ${ctx.slot}; nothing was written`);
      }
      const base = BigInt(row.lamport) - n + 1n;
      const stride = BigInt(POSITION_STRIDE);
      const positions = events.map((_, i) => (base + BigInt(i)) * stride + BigInt(shard.index));
      await insertLog(tx, events, positions, ctx.slot);
      ctx.positions = positions;
      if (userHooks.length === 0) return;
      const merged = events.map((e, i) => ({ ...e, globalPosition: positions[i]! }));
      for (const h of userHooks) await h.apply(merged, tx);
    },
  };
}

/** Merged positions of stored events, by event id. */
export async function positionsOf(db: SqlExecutor, ids: readonly string[]): Promise<Map<string, bigint>> {
  const out = new Map<string, bigint>();
  for (let i = 0; i < ids.length; i += 500) {
    const chunk = ids.slice(i, i + 500);
    const rows = await db.query<{ position: number | bigint; event_id: string }>(
      `SELECT position, event_id FROM tessera_shard_log WHERE event_id IN (${chunk.map(() => '?').join(', ')})`,
      chunk,
    );
    for (const r of rows) out.set(r.event_id, BigInt(r.position));
  }
  return out;
}

/** One page of the shard's merged log after `after` (exclusive), optionally of some types only. */
export async function readLogPage(db: SqlExecutor, after: bigint, limit: number, types: readonly string[] | undefined): Promise<Array<{ position: bigint; eventId: string }>> {
  const typeFilter = types ? ` AND event_type IN (${types.map(() => '?').join(', ')})` : '';
  const rows = await db.query<{ position: number | bigint; event_id: string }>(
    `SELECT position, event_id FROM tessera_shard_log WHERE position > ?${typeFilter} ORDER BY position ASC LIMIT ?`,
    [after, ...(types ?? []), limit],
  );
  return rows.map((r) => ({ position: BigInt(r.position), eventId: r.event_id }));
}

/** The Lamport part of a merged position. */
export function lamportOf(position: bigint): bigint {
  return position / BigInt(POSITION_STRIDE);
}
