import type pg from 'pg';
import { ConcurrencyError, IndeterminateCommitError } from '../../errors.js';
import { PG_TYPES, type PostgresDatabase } from '../../storage/postgres.js';
import { describePgError, isPgConnectionError, toPgStorageError } from '../../storage/postgres-errors.js';
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
 * `ConcurrencyError` with the stored version. The statement is its own COMMIT, so a connection lost after it
 * was sent leaves the outcome unknown: `IndeterminateCommitError`; one lost while connecting stored nothing.
 */
export async function appendInOneStatement(
  db: PostgresDatabase,
  functionCall: string,
  schema: string,
  xidOffset: bigint,
  req: AppendRequest,
): Promise<AppliedAppend> {
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
    const res = await client.query<{ first_position: bigint; last_position: bigint; next_version: bigint }>({
      text: functionCall,
      values: [
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
      ],
      types: PG_TYPES,
    });
    const row = res.rows[0]!;
    return { result: { nextExpectedVersion: row.next_version, lastGlobalPosition: row.last_position }, firstPosition: row.first_position };
  } catch (e) {
    if (isPgConnectionError(e)) {
      lost = e;
      const { code, detail } = describePgError(e);
      throw new IndeterminateCommitError(
        `The connection was lost during a one-statement append; it may or may not have committed: ${detail}${code ? ` (${code})` : ''}`,
        { cause: e },
      );
    }
    if (describePgError(e).code === WRONG_VERSION_SQLSTATE) {
      const actual = (e as { detail?: unknown }).detail;
      throw new ConcurrencyError(req.streamId, req.expectedVersion, BigInt(typeof actual === 'string' ? actual : '0'), { cause: e });
    }
    throw toPgStorageError(e, 'PostgreSQL append failed');
  } finally {
    client.removeListener('error', ignore);
    client.release(lost instanceof Error ? lost : lost === undefined ? undefined : true);
  }
}

function ignore(): void {}
