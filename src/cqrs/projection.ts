import { InvalidArgumentError } from '../errors.js';
import type { RecordedEvent } from '../eventstore/types.js';
import type { SqlExecutor } from '../storage/port.js';
import { requireOptionsObject, requirePositiveInt } from '../support/validate.js';

/** Logical table name → the physical table to use (the live one, or a rebuild's shadow copy). */
export type TableNames<T extends string> = { readonly [K in T]: string };

/**
 * A SQL read model fed by events. `setup` creates its tables and `apply` writes one event's effect,
 * both through the table names they are given (never hard-coded), so a rebuild can run them against
 * shadow tables and swap those in atomically. Name indexes after their table (`${t.carts}_by_user`).
 */
export interface ProjectionDefinition<T extends string = string> {
  /** Unique name: letters, digits, `_`, `-`, `.`; at most 100 characters. */
  name: string;
  /** Bump when `setup` or `apply` change: the projector then rebuilds into new tables and swaps them in. */
  version: number;
  /** The tables this projection owns: plain SQL identifiers of at most 48 characters. */
  tables: readonly T[];
  /** Event types to apply; all events when absent. */
  handles?: readonly string[];
  /** Creates the tables (runs once per version, inside a transaction). */
  setup(db: SqlExecutor, tables: TableNames<T>): Promise<void> | void;
  /** Applies one event, inside the transaction that also moves the checkpoint. Must not commit itself. */
  apply(event: RecordedEvent, db: SqlExecutor, tables: TableNames<T>): Promise<void> | void;
}

/** A validated projection definition. */
export type Projection<T extends string = string> = Readonly<ProjectionDefinition<T>> & { readonly __projection: true };

const NAME = /^[A-Za-z0-9_.-]{1,100}$/;
const TABLE = /^[A-Za-z_][A-Za-z0-9_]{0,47}$/;

/**
 * Validates a projection definition. The same projection can run inline (in the append's transaction)
 * or async (a projector process with checkpoints).
 *
 * @example
 * ```ts
 * const cartTotals = projection({
 *   name: 'cart_totals', version: 1, tables: ['cart_totals'], handles: ['ItemAdded'],
 *   setup: (db, t) => db.exec(`CREATE TABLE ${t.cart_totals} (cart_id TEXT PRIMARY KEY, total BIGINT NOT NULL)`),
 *   apply: async (e, db, t) => {
 *     const d = e.data as { qty: number; price: number };
 *     await db.run(`INSERT INTO ${t.cart_totals} (cart_id, total) VALUES (?, ?)
 *       ON CONFLICT (cart_id) DO UPDATE SET total = ${t.cart_totals}.total + excluded.total`, [e.streamId, d.qty * d.price]);
 *   },
 * });
 * ```
 */
export function projection<T extends string>(definition: ProjectionDefinition<T>): Projection<T> {
  const d = requireOptionsObject(definition, 'projection') as Partial<ProjectionDefinition<T>>;
  const hint = 'Pass projection({ name, version, tables, setup(db, t), apply(event, db, t) }).';
  if (typeof d.name !== 'string' || !NAME.test(d.name)) {
    throw new InvalidArgumentError('projection.name', `${JSON.stringify(d.name)} is not 1–100 letters, digits, _ . -`, hint);
  }
  requirePositiveInt(d.version, 'projection.version');
  if (!Array.isArray(d.tables) || d.tables.length === 0 || d.tables.some((t) => typeof t !== 'string' || !TABLE.test(t))) {
    throw new InvalidArgumentError('projection.tables', 'must be a non-empty array of SQL identifiers (≤ 48 characters)', "Pass e.g. tables: ['cart_totals'].");
  }
  if (new Set(d.tables).size !== d.tables.length) {
    throw new InvalidArgumentError('projection.tables', 'lists a table twice', 'List each table once.');
  }
  if (d.handles !== undefined && (!Array.isArray(d.handles) || d.handles.length === 0 || d.handles.some((t) => typeof t !== 'string' || t.length === 0))) {
    throw new InvalidArgumentError('projection.handles', 'must be a non-empty array of event types', "Pass e.g. handles: ['ItemAdded'], or leave it out for all events.");
  }
  for (const fn of ['setup', 'apply'] as const) {
    if (typeof d[fn] !== 'function') throw new InvalidArgumentError(`projection.${fn}`, 'is not a function', hint);
  }
  return Object.freeze({ ...(d as ProjectionDefinition<T>), tables: [...d.tables], __projection: true as const });
}

/** Table names mapped to themselves: the live tables. */
export function liveTables<T extends string>(p: Projection<T>): TableNames<T> {
  return Object.fromEntries(p.tables.map((t) => [t, t])) as unknown as TableNames<T>;
}

/** Table names of a rebuild's shadow copy; `generation` keeps index names of successive rebuilds apart. */
export function shadowTables<T extends string>(p: Projection<T>, generation: number): TableNames<T> {
  return Object.fromEntries(p.tables.map((t) => [t, `${t}__b${generation}`])) as TableNames<T>;
}

/** Whether the projection applies this event type. */
export function handlesEvent(p: Projection, type: string): boolean {
  return p.handles === undefined || p.handles.includes(type);
}

/** Throws unless `value` came from {@link projection}. */
export function requireProjection(value: unknown, argument: string): Projection {
  if (typeof value !== 'object' || value === null || (value as { __projection?: unknown }).__projection !== true) {
    throw new InvalidArgumentError(argument, 'is not a projection', 'Create it with projection({ name, version, tables, setup, apply }).');
  }
  return value as Projection;
}
