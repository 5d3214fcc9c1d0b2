import { createHash } from 'node:crypto';
import type pg from 'pg';
import { ConcurrencyError, IndeterminateCommitError } from '../../errors.js';
import { PG_TYPES, type PostgresDatabase } from '../../storage/postgres.js';
import { describePgError, isPgConnectionError, toPgStorageError } from '../../storage/postgres-errors.js';
import { signedHashKey } from '../../support/hash.js';
import type { AppendRequest } from '../backend.js';
import type { AppliedAppend } from '../applied.js';
import { pgTextArray, POSITIONS_PER_TRANSACTION } from './append.js';
import { WRONG_VERSION_SQLSTATE } from './append-function.js';

/**
 * True when an append can run as the one-statement `append_events` call: no append hooks (they need the
 * open transaction), no caller-given ids (the idempotency check stays in `appendInTransaction`), and a
 * batch that fits one transaction's positions (the multi-statement path reports the error otherwise).
 */
export function canAppendInOneStatement(req: AppendRequest, hookCount: number): boolean {
  return hookCount === 0 && req.events.length <= POSITIONS_PER_TRANSACTION && !req.events.some((e) => e.idGiven);
}

/**
 * Runs `append_events` (see `append-function.ts`) as one autocommit statement on a pooled connection: one
 * round trip instead of BEGIN, lock, head, INSERT, COMMIT. A wrong expected version becomes
 * `ConcurrencyError` with the stored version.
 */
export async function appendInOneStatement(
  db: PostgresDatabase,
  functionCall: string,
  schema: string,
  xidOffset: bigint,
  req: AppendRequest,
): Promise<AppliedAppend> {
  try {
    const [row] = await runAutocommit<{ first_position: bigint; last_position: bigint; next_version: bigint }>(db, functionCall, [
      `${schema}:${req.streamId}`,
      req.streamId,
      String(req.expectedVersion),
      pgTextArray(req.events.map((e) => e.id)),
      pgTextArray(req.events.map((e) => e.type)),
      pgTextArray(req.events.map((e) => e.data)),
      pgTextArray(req.events.map((e) => e.metadata)),
      `{${req.events.map((e) => e.schemaVersion).join(',')}}`,
      new Date(req.recordedAt).toISOString(),
      xidOffset.toString(),
      signedHashKey(req.streamId).toString(),
    ]);
    return { result: { nextExpectedVersion: row!.next_version, lastGlobalPosition: row!.last_position }, firstPosition: row!.first_position };
  } catch (e) {
    if (describePgError(e).code === WRONG_VERSION_SQLSTATE) {
      const actual = (e as { detail?: unknown }).detail;
      throw new ConcurrencyError(req.streamId, req.expectedVersion, BigInt(typeof actual === 'string' ? actual : '0'), { cause: e });
    }
    throw toPgStorageError(e, 'PostgreSQL append failed');
  }
}

/**
 * Runs one autocommit statement on a pooled connection. The statement is its own COMMIT, so a connection
 * lost after it was sent leaves the outcome unknown: `IndeterminateCommitError`; one lost while connecting
 * stored nothing (`StorageError`). Any error the server reports comes back as thrown by the driver (the
 * statement rolled back).
 */
export async function runAutocommit<R extends pg.QueryResultRow>(db: PostgresDatabase, text: string, values: unknown[]): Promise<R[]> {
  db.assertOpen();
  let client: pg.PoolClient;
  try {
    client = await db.pool.connect();
  } catch (e) {
    throw toPgStorageError(e, 'Cannot connect to PostgreSQL');
  }
  client.on('error', ignore);
  let lost: unknown;
  try {
    return (await client.query<R>({ name: statementName(text), text, values, types: PG_TYPES })).rows;
  } catch (e) {
    if (!isPgConnectionError(e)) throw e;
    lost = e;
    const { code, detail } = describePgError(e);
    throw new IndeterminateCommitError(
      `The connection was lost during a one-statement append; it may or may not have committed: ${detail}${code ? ` (${code})` : ''}`,
      { cause: e },
    );
  } finally {
    client.removeListener('error', ignore);
    client.release(lost instanceof Error ? lost : lost === undefined ? undefined : true);
  }
}

function ignore(): void {}

const names = new Map<string, string>();
/**
 * A prepared-statement name per text: each pooled connection parses and plans the append call once instead of
 * on every append. The name comes from the text, so stores of other schemas on the same pool never share one.
 */
function statementName(text: string): string {
  let name = names.get(text);
  if (name === undefined) names.set(text, (name = `tessera_${createHash('sha1').update(text).digest('hex').slice(0, 20)}`));
  return name;
}

/** The outcome of one append of a group: what it stored, or the version conflict it failed on alone. */
export type GroupedOutcome = { ok: true; applied: AppliedAppend } | { ok: false; error: ConcurrencyError };

/**
 * Runs `append_events_group` (see `append-group-function.ts`): the appends of `reqs` in one autocommit
 * statement, one round trip and one commit. A version conflict fails its append alone; any other server
 * error rejects with the driver's error (the statement rolled back, nothing is stored). Every request must
 * pass {@link canAppendInOneStatement} and all together hold at most 65,536 events.
 */
export async function appendGroupInOneStatement(
  db: PostgresDatabase,
  functionCall: string,
  schema: string,
  xidOffset: bigint,
  reqs: readonly AppendRequest[],
): Promise<GroupedOutcome[]> {
  const events = reqs.flatMap((r) => r.events);
  const rows = await runAutocommit<{ first_position: bigint | null; last_position: bigint | null; next_version: bigint | null; actual_version: bigint | null }>(
    db,
    functionCall,
    [
      pgTextArray(reqs.map((r) => `${schema}:${r.streamId}`)),
      pgTextArray(reqs.map((r) => r.streamId)),
      pgTextArray(reqs.map((r) => String(r.expectedVersion))),
      `{${reqs.map((r) => r.events.length).join(',')}}`,
      pgTextArray(reqs.map((r) => new Date(r.recordedAt).toISOString())),
      pgTextArray(events.map((e) => e.id)),
      pgTextArray(events.map((e) => e.type)),
      pgTextArray(events.map((e) => e.data)),
      pgTextArray(events.map((e) => e.metadata)),
      `{${events.map((e) => e.schemaVersion).join(',')}}`,
      xidOffset.toString(),
      `{${reqs.map((r) => signedHashKey(r.streamId)).join(',')}}`,
    ],
  );
  return reqs.map((req, k): GroupedOutcome => {
    const row = rows[k]!;
    if (row.first_position === null || row.last_position === null || row.next_version === null) {
      return { ok: false, error: new ConcurrencyError(req.streamId, req.expectedVersion, row.actual_version ?? 0n) };
    }
    return { ok: true, applied: { result: { nextExpectedVersion: row.next_version, lastGlobalPosition: row.last_position }, firstPosition: row.first_position } };
  });
}
