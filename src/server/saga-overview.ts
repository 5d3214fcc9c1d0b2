import { projection } from '../cqrs/index.js';
import type { SagaStatus } from '../saga/index.js';
import type { SqlExecutor } from '../storage/index.js';

const STATUS_BY_EVENT: Record<string, SagaStatus> = {
  SagaStarted: 'running',
  SagaCompleted: 'completed',
  SagaCompensating: 'compensating',
  SagaCancelling: 'cancelling',
  SagaCompensated: 'compensated',
  SagaCancelled: 'cancelled',
  SagaCompensationFailed: 'compensation_failed',
  SagaCompensationRetried: 'compensating',
};

/**
 * A read model of every saga's latest status, fed by the lifecycle events sagas append to `saga-<id>`: the
 * dashboard's counts by status and its newest-first list come from here (one indexed query each, however many
 * sagas have run). Run it in the service's projector.
 *
 * @example
 * ```ts
 * const projector = await startProjector({ store, projections: [sagaOverview, ...mine] });
 * ```
 */
export const sagaOverview = projection({
  name: 'tessera_saga_overview',
  version: 1,
  tables: ['tessera_saga_overview'],
  handles: Object.keys(STATUS_BY_EVENT),
  setup: async (db, t) => {
    await db.exec(`CREATE TABLE ${t.tessera_saga_overview} (saga_id TEXT PRIMARY KEY, saga_name TEXT NOT NULL, status TEXT NOT NULL,
      error TEXT, created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL)`);
    await db.exec(`CREATE INDEX ${t.tessera_saga_overview}_by_update ON ${t.tessera_saga_overview} (updated_at)`);
  },
  apply: async (e, db, t) => {
    const d = e.data as { sagaId: string; sagaName: string; error?: string };
    const at = e.recordedAt.getTime();
    await db.run(`INSERT INTO ${t.tessera_saga_overview} (saga_id, saga_name, status, error, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)
      ON CONFLICT (saga_id) DO UPDATE SET status = excluded.status, error = excluded.error, updated_at = excluded.updated_at`,
    [d.sagaId, d.sagaName, STATUS_BY_EVENT[e.type] ?? 'running', d.error ?? null, at, at]);
  },
});

/**
 * One row of the saga overview.
 * @example
 * ```ts
 * const [newest]: SagaSummary[] = await recentSagas(db, { limit: 1 });
 * ```
 */
export interface SagaSummary {
  id: string;
  name: string;
  status: string;
  error: string | null;
  createdAt: string;
  updatedAt: string;
}

/**
 * Newest sagas first (optionally of one status), from the {@link sagaOverview} read model.
 *
 * @example
 * ```ts
 * const failed = await recentSagas(db, { status: 'compensation_failed', limit: 20 });
 * ```
 */
export async function recentSagas(db: SqlExecutor, o: { status?: string; limit: number }): Promise<SagaSummary[]> {
  const where = o.status === undefined ? '' : 'WHERE status = ?';
  const rows = await db.query<Record<string, unknown>>(
    `SELECT saga_id, saga_name, status, error, created_at, updated_at FROM tessera_saga_overview ${where} ORDER BY updated_at DESC, saga_id LIMIT ?`,
    o.status === undefined ? [o.limit] : [o.status, o.limit],
  );
  return rows.map((r) => ({
    id: String(r.saga_id),
    name: String(r.saga_name),
    status: String(r.status),
    error: r.error === null || r.error === undefined ? null : String(r.error),
    createdAt: new Date(Number(r.created_at)).toISOString(),
    updatedAt: new Date(Number(r.updated_at)).toISOString(),
  }));
}

/**
 * Sagas per status, from the {@link sagaOverview} read model.
 *
 * @example
 * ```ts
 * const { completed = 0 } = await sagaCounts(db);
 * ```
 */
export async function sagaCounts(db: SqlExecutor): Promise<Partial<Record<SagaStatus, number>>> {
  const rows = await db.query<{ status: string; n: unknown }>('SELECT status, count(*) AS n FROM tessera_saga_overview GROUP BY status');
  return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
}
