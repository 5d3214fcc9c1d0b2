import { deepStrictEqual, fail } from 'node:assert/strict';
import type { SqlDriver, SqlExecutor } from '../storage/port.js';
import { openSqlite } from '../storage/sqlite.js';
import { type SpecEvent, specRecorded } from './decider-spec.js';
import { handlesEvent, liveTables, type Projection, requireProjection, type TableNames } from './projection.js';

/** Assertions on a projection's read model after the given and `when` events. */
export interface ProjectionSpecThen<T extends string> {
  /** Runs `check` against the read model (throw to fail). */
  then(check: (db: SqlExecutor, tables: TableNames<T>) => Promise<void> | void): Promise<void>;
  /** The query (built from the table names) returns exactly these rows. */
  thenRows(sql: (tables: TableNames<T>) => string, expected: Record<string, unknown>[]): Promise<void>;
  /** Applying the `when` events throws; `check` must accept the error. */
  thenThrows(check?: (error: unknown) => boolean): Promise<void>;
}

/**
 * Given/When/Then tests for a projection, against a fresh in-memory SQLite database (or the driver you
 * pass, e.g. a PostgreSQL test schema). Events may name their `streamId`; positions are made up.
 *
 * @example
 * ```ts
 * await projectionSpec(cartTotals)
 *   .given([{ type: 'ItemAdded', data: { qty: 1, price: 5 }, streamId: 'c1' }])
 *   .when([{ type: 'ItemAdded', data: { qty: 2, price: 5 }, streamId: 'c1' }])
 *   .thenRows((t) => `SELECT cart_id, total FROM ${t.cart_totals}`, [{ cart_id: 'c1', total: 15 }]);
 * ```
 */
export function projectionSpec<T extends string>(
  p: Projection<T>,
  options: { db?: () => SqlDriver } = {},
): { given(events: SpecEvent[]): { when(events: SpecEvent[]): ProjectionSpecThen<T> } } {
  requireProjection(p, 'projection');
  const tables = liveTables(p);
  return {
    given: (given) => ({
      when: (when) => {
        const run = async <R>(body: (db: SqlDriver, error: unknown) => Promise<R>): Promise<R> => {
          const db = options.db ? options.db() : openSqlite();
          try {
            await db.transaction(async (tx) => p.setup(tx, tables));
            const [past, now] = [specRecorded(given, 0), specRecorded([...given, ...when], 0).slice(given.length)];
            await db.transaction(async (tx) => {
              for (const e of past) if (handlesEvent(p, e.type)) await p.apply(e, tx, tables);
            });
            let error: unknown = undefined;
            await db
              .transaction(async (tx) => {
                for (const e of now) if (handlesEvent(p, e.type)) await p.apply(e, tx, tables);
              })
              .catch((e: unknown) => {
                error = e ?? new Error('apply threw a nullish value');
              });
            return await body(db, error);
          } finally {
            await db.close();
          }
        };
        return {
          then: (check) =>
            run(async (db, error) => {
              if (error !== undefined) throw error;
              await check(db, tables);
            }),
          thenRows: (sql, expected) =>
            run(async (db, error) => {
              if (error !== undefined) throw error;
              const rows = await db.query(sql(tables));
              deepStrictEqual(rows.map((r) => ({ ...r })), expected);
            }),
          thenThrows: (check) =>
            run(async (_db, error) => {
              if (error === undefined) fail('expected apply to throw, but it did not');
              if (check !== undefined && !check(error)) fail(`apply threw an unexpected error: ${String(error)}`);
            }),
        };
      },
    }),
  };
}
