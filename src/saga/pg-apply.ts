import { StorageError } from '../errors.js';
import { NotifySender } from '../eventstore/postgres/listener.js';
import { notifyChannel } from '../eventstore/postgres/schema.js';
import type { StoreRuntime } from '../eventstore/store.js';
import { pgTextArray } from '../eventstore/postgres/append.js';
import { runAutocommit } from '../eventstore/postgres/fast-append.js';
import { numberPlaceholders } from '../storage/postgres-placeholders.js';
import type { EventStore } from '../eventstore/types.js';
import type { Migration } from '../storage/migrations.js';
import type { PostgresDatabase } from '../storage/postgres.js';
import type { SqlDriver, SqlValue } from '../storage/port.js';
import { encodeJson } from '../support/json.js';
import { sagaStreamId } from './events.js';
import { filterSql, type RunnableFilter } from './repo.js';
import { ACTIVE_STATUSES, T_INSTANCES, T_LOCKS, T_STEPS } from './schema.js';
import { fencedOut, startedRow, type Transition, type TransitionResult } from './transition.js';

/** Where the PostgreSQL-only saga objects record their migrations. */
export const SAGA_PG_MIGRATIONS_TABLE = 'tessera_saga_pg_migrations';

/** SQLSTATE the function raises when a transition with events no longer matches (then the batch runs piece by piece). */
const CHANGED_SQLSTATE = 'TS4SA';

/** Runnable by any engine without a claim to wait out (the partial index's predicate, repeated in the probe). */
const UNLEASED = `status IN ${ACTIVE_STATUSES} AND lease_owner IS NULL`;
const DUE = 'COALESCE(wake_at, 0)';

const set = (col: string, cast: string): string => `${col} = CASE WHEN t->'${col}' IS NOT NULL THEN (t->>'${col}')${cast} ELSE ${T_INSTANCES}.${col} END`;

/**
 * `tessera_saga_apply`: a batch of saga transitions (see `transition.ts`) as one autocommit statement: one round
 * trip and one commit for every saga of the batch.
 * 1. Transitions with lifecycle events are checked first (fence, or absence for a new saga) without writing, then
 *    their events go in through the event store's own `append_events_group` (stream locks in hash order, then the
 *    transaction id: its ordering rules hold). Should a checked transition fail its write after all (a claim
 *    raced in between), the function raises and nothing of the batch is stored.
 *    Subscribers are woken by a NOTIFY on the store's channel: inside this commit for a lone transition (no
 *    second commit and WAL flush for it), after the commit and coalesced, as the store's own appends do, for a
 *    batch (inside, it would hold the cluster-wide notify lock through the WAL flush and serialize batches).
 * 2. Each transition: the fenced update (or idempotent insert), the step result, the semantic locks, the next
 *    step's start. A fenced-out transition without events fails alone (`applied` false).
 * Never a question mark in this text: statements are scanned for placeholders.
 */
export const SAGA_PG_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'one-statement saga transitions',
    sql: `
CREATE OR REPLACE FUNCTION tessera_saga_apply(p jsonb,
  p_streams text[], p_counts int[], p_recorded_at timestamptz[], p_ids text[], p_types text[], p_data text[], p_metadata text[], p_sv int[],
  p_notify boolean)
RETURNS TABLE (o_applied boolean, o_cancel int, o_attempts int, o_budget int)
LANGUAGE plpgsql VOLATILE AS $fn$
DECLARE
  t jsonb;
  v_fence bigint;
  v_cancel int;
  v_off bigint;
BEGIN
  IF cardinality(p_streams) > 0 THEN
    FOR t IN SELECT value FROM jsonb_array_elements(p) LOOP
      CONTINUE WHEN NOT (t->>'ev')::boolean;
      v_fence := NULL;
      SELECT fence INTO v_fence FROM ${T_INSTANCES} WHERE saga_id = t->>'id';
      IF (t->'ins' IS NOT NULL AND v_fence IS NOT NULL) OR (t->'ins' IS NULL AND v_fence IS DISTINCT FROM (t->>'fence')::bigint) THEN
        RAISE EXCEPTION 'saga % changed' , t->>'id' USING ERRCODE = '${CHANGED_SQLSTATE}';
      END IF;
    END LOOP;
    SELECT xid_offset INTO v_off FROM log_clock;
    PERFORM append_events_group(ARRAY(SELECT (current_schema() || ':' || s) COLLATE "default" FROM unnest(p_streams) AS s), p_streams,
      array_fill('any'::text, ARRAY[cardinality(p_streams)]), p_counts, p_recorded_at, p_ids, p_types, p_data, p_metadata, p_sv, v_off);
    IF p_notify THEN
      PERFORM pg_notify(left('tessera_' || current_schema(), 63), '');
    END IF;
  END IF;
  FOR t IN SELECT value FROM jsonb_array_elements(p) LOOP
    o_attempts := NULL;
    o_budget := NULL;
    IF t->'ins' IS NOT NULL THEN
      INSERT INTO ${T_INSTANCES} (saga_id, saga_type, def_version, status, input, deadline_at, lease_owner, lease_until, fence, created_at, updated_at)
      VALUES (t->>'id', t->'ins'->>'type', (t->'ins'->>'version')::int, 'running', t->'ins'->>'input', (t->'ins'->>'deadline')::bigint,
        t->'ins'->>'owner', (t->'ins'->>'until')::bigint, (t->>'fence')::bigint, (t->>'now')::bigint, (t->>'now')::bigint)
      ON CONFLICT (saga_id) DO NOTHING;
      v_cancel := 0;
    ELSE
      UPDATE ${T_INSTANCES} SET updated_at = (t->>'now')::bigint, ${set('status', '')}, ${set('next_step', '::int')},
        ${set('undo_outcome', '')}, ${set('wake_at', '::bigint')}, ${set('timer_at', '::bigint')}, ${set('error', '')},
        lease_owner = CASE WHEN (t->>'release')::boolean THEN NULL ELSE ${T_INSTANCES}.lease_owner END,
        lease_until = CASE WHEN (t->>'release')::boolean THEN NULL WHEN t->'lease_until' IS NOT NULL THEN (t->>'lease_until')::bigint ELSE ${T_INSTANCES}.lease_until END
      WHERE saga_id = t->>'id' AND fence = (t->>'fence')::bigint
      RETURNING cancel_requested INTO v_cancel;
    END IF;
    IF NOT FOUND THEN
      IF (t->>'ev')::boolean THEN
        RAISE EXCEPTION 'saga % changed', t->>'id' USING ERRCODE = '${CHANGED_SQLSTATE}';
      END IF;
      o_applied := false;
      o_cancel := 0;
      RETURN NEXT;
      CONTINUE;
    END IF;
    IF t->'fin' IS NOT NULL THEN
      UPDATE ${T_STEPS} SET state = t->'fin'->>'state', output = t->'fin'->>'output', error = t->'fin'->>'error',
        uncertain = (t->'fin'->>'uncertain')::int, fence = (t->>'fence')::bigint, ended_at = (t->>'now')::bigint
      WHERE saga_id = t->>'id' AND step_no = (t->'fin'->>'no')::int AND phase = t->'fin'->>'phase';
    END IF;
    IF (t->>'unlock')::boolean THEN
      DELETE FROM ${T_LOCKS} WHERE saga_id = t->>'id';
    END IF;
    IF t->'start' IS NOT NULL THEN
      INSERT INTO ${T_STEPS} AS s (saga_id, step_no, phase, name, state, attempts, fence, started_at)
      VALUES (t->>'id', (t->'start'->>'no')::int, t->'start'->>'phase', t->'start'->>'name', 'started', 1, (t->>'fence')::bigint, (t->>'now')::bigint)
      ON CONFLICT (saga_id, step_no, phase) DO UPDATE SET state = 'started', attempts = s.attempts + 1,
        fence = excluded.fence, started_at = excluded.started_at, ended_at = NULL, uncertain = 0
      RETURNING s.attempts, s.budget_from INTO o_attempts, o_budget;
    END IF;
    o_applied := true;
    o_cancel := v_cancel;
    RETURN NEXT;
  END LOOP;
END
$fn$;`,
  },
  {
    // The sagas some engine may take over now without waiting for a lease to expire: started unclaimed, parked
    // (signal, timer, backoff), cancelled or re-driven while free, handed back by a stopping engine. Small (the
    // sagas engines hold are not in it), and the hot transitions leave it alone (claimed at the start, terminal
    // at the end), so probing it with every commit tells a busy engine of new work at no extra round trip.
    version: 2,
    name: 'unleased runnable sagas',
    // Keyed by when each may run (now, for NULL), so the probe reads only the ones due: never the many parked
    // until a signal or a far timer.
    sql: `CREATE INDEX tessera_saga_unleased ON ${T_INSTANCES} ((${DUE})) WHERE ${UNLEASED};`,
  },
];


/**
 * The batch statement, numbered for the driver. `o_work` reads the statement's snapshot (taken before the
 * function writes): the other sagas as they were.
 */
function applyStatement(work: string): string {
  return numberPlaceholders(`SELECT *, ${work} AS o_work
    FROM tessera_saga_apply(?::jsonb, ?::text[], ?::int[], ?::timestamptz[], ?::text[], ?::text[], ?::text[], ?::text[], ?::int[], ?::boolean)`).text;
}
const PLAIN_APPLY = applyStatement('false');

/** What the batch path needs from the store: its event ids, schema versions, and whether appends have hooks. */
interface StoreParts {
  ids(): string;
  currentVersion(type: string): number;
  now(): number;
}

/**
 * The store's internals the one-statement path relies on (read-only), or null when they are not as expected —
 * or when the store has append hooks (inline projections), which only the store's own append path runs.
 */
function storeParts(store: EventStore): StoreParts | null {
  const rt = (store as unknown as { rt?: StoreRuntime }).rt;
  const hooks = (rt?.backend as { config?: { hooks?: readonly unknown[] } } | undefined)?.config?.hooks;
  if (rt === undefined || !Array.isArray(hooks) || hooks.length > 0) return null;
  return { ids: () => rt.ids(), currentVersion: (type) => rt.upcasters.currentVersion(type), now: () => rt.clock.now() };
}

/** One statement for a batch of transitions on PostgreSQL; null where it cannot be used (then: statement by statement). */
export class PgTransitionBatch {
  readonly #db: PostgresDatabase;
  readonly #parts: StoreParts;

  readonly #notify: NotifySender;
  #watch: (work: boolean) => void = () => undefined;
  /** The statement with the o_work test (see watch), and the test's parameters after the time. */
  #probe: { text: string; params: SqlValue[] } | null = null;

  private constructor(db: PostgresDatabase, parts: StoreParts, schema: string) {
    this.#db = db;
    this.#parts = parts;
    this.#notify = new NotifySender(db, 'SELECT pg_notify(?, ?)', notifyChannel(schema));
  }

  /** Available when the store's `append_events_group` exists and its appends run no hooks. */
  static async open(store: EventStore, db: SqlDriver): Promise<PgTransitionBatch | null> {
    if (db.dialect !== 'postgres') return null;
    const parts = storeParts(store);
    if (parts === null) return null;
    const [row] = await db.query<{ schema: string | null; ok: boolean }>(
      `SELECT current_schema() AS schema, to_regprocedure('append_events_group(text[],text[],text[],integer[],timestamp with time zone[],text[],text[],text[],text[],integer[],bigint,bigint[])') IS NOT NULL
         AND to_regclass('log_clock') IS NOT NULL AS ok`,
    );
    if (row === undefined || row.schema === null || !row.ok) return null;
    return new PgTransitionBatch(db as PostgresDatabase, parts, row.schema);
  }

  /** Called after every batch with whether some saga of `filter` was runnable and unleased (work for this engine). */
  watch(filter: RunnableFilter, fn: (work: boolean) => void): void {
    const f = filterSql(filter);
    this.#probe = { text: applyStatement(`EXISTS (SELECT 1 FROM ${T_INSTANCES} WHERE ${UNLEASED} AND ${DUE} <= ?::bigint AND ${f.sql})`), params: f.params };
    this.#watch = fn;
  }

  /**
   * Runs the batch; per transition a result, or the `FencingError` it failed with. Rejects as a whole (nothing
   * stored) when a transition with events changed under it, or on any database error: the caller then runs the
   * transitions one by one.
   */
  async apply(batch: readonly Transition[]): Promise<Array<TransitionResult | Error>> {
    const ev = { streams: [] as string[], counts: [] as number[], at: [] as string[], ids: [] as string[], types: [] as string[], data: [] as (string | null)[], meta: [] as (string | null)[], sv: [] as number[] };
    const json = batch.map((t) => {
      if (t.events.length > 0) {
        ev.streams.push(sagaStreamId(t.sagaId));
        ev.counts.push(t.events.length);
        ev.at.push(new Date(this.#parts.now()).toISOString());
        for (const e of t.events) {
          ev.ids.push(this.#parts.ids());
          ev.types.push(e.type);
          ev.data.push(encodeJson(e.data, 'saga event data'));
          ev.meta.push(e.metadata === undefined ? null : encodeJson(e.metadata, 'saga event metadata'));
          ev.sv.push(this.#parts.currentVersion(e.type));
        }
      }
      const o: Record<string, unknown> = { id: t.sagaId, fence: t.fence, now: t.now, ev: t.events.length > 0, release: t.changes?.release === true, unlock: t.releaseLocks === true };
      if (t.insert) o.ins = { type: t.insert.type, version: t.insert.version, input: t.insert.input, deadline: t.insert.deadlineAt, owner: t.insert.leaseOwner, until: t.insert.leaseUntil };
      for (const [k, v] of Object.entries(t.changes ?? {})) if (k !== 'release' && v !== undefined) o[k] = v;
      if (t.finish) o.fin = { no: t.finish.stepNo, phase: t.finish.phase, state: t.finish.state, output: t.finish.output, error: t.finish.error, uncertain: t.finish.uncertain ? 1 : 0 };
      if (t.start) o.start = { no: t.start.stepNo, phase: t.start.phase, name: t.start.name };
      return o;
    });
    const probe = this.#probe;
    // A named prepared statement (its text is fixed per engine): each pooled connection parses and plans it once,
    // which the probe would otherwise add to every transition's round trip.
    const rows = await runAutocommit<{ o_applied: boolean; o_cancel: number | null; o_attempts: number | null; o_budget: number | null; o_work: boolean }>(
      this.#db,
      probe?.text ?? PLAIN_APPLY,
      [...(probe === null ? [] : [batch[0]!.now, ...probe.params]), JSON.stringify(json), pgTextArray(ev.streams), `{${ev.counts.join(',')}}`, pgTextArray(ev.at), pgTextArray(ev.ids), pgTextArray(ev.types), pgTextArray(ev.data), pgTextArray(ev.meta), `{${ev.sv.join(',')}}`, batch.length === 1],
    );
    if (rows.length !== batch.length) throw new StorageError(`tessera_saga_apply returned ${rows.length} rows for ${batch.length} transitions`);
    if (ev.streams.length > 0 && batch.length > 1) this.#notify.send();
    this.#watch(rows[0]?.o_work === true);
    return batch.map((t, i) => {
      const r = rows[i]!;
      if (!r.o_applied) return t.insert ? { applied: false, cancelRequested: false, started: null } : fencedOut(t);
      return { applied: true, cancelRequested: Number(r.o_cancel ?? 0) !== 0, started: startedRow(t, Number(r.o_attempts ?? 0), Number(r.o_budget ?? 0)) };
    });
  }

  /** Waits for the last wake-up notification to go out (before the store closes its pool). */
  drain(): Promise<void> {
    return this.#notify.drain();
  }
}
