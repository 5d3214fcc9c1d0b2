import type { PostgresDatabase } from '../../storage/postgres.js';

/**
 * Keeps positions increasing when a schema moves to another cluster.
 *
 * Positions are `(xid + offset) << 16 + i`. Transaction ids only grow within one cluster (also across
 * crashes, physical backups, replicas and pg_upgrade), but a logical dump restored into another cluster
 * starts again from small xids: new events would get positions below the restored ones, and the read
 * horizon would hide the restored log. So at open, under an advisory lock, the store compares the newest
 * stored position with the cluster's next xid and, when the log is ahead, raises the persisted offset so
 * that every future position is above every stored one. In normal operation it never changes (it is 0).
 *
 * @returns the offset to add to transaction ids.
 */
export async function syncLogClock(db: PostgresDatabase, schema: string): Promise<bigint> {
  const s = `"${schema}"`;
  return db.transaction(async (tx) => {
    await tx.query("SELECT pg_advisory_xact_lock(hashtext('tessera.clock:' || ?))", [schema]);
    const [row] = await tx.query<{ xid_offset: bigint; last_xid: bigint | null; next_xid: bigint }>(
      `SELECT c.xid_offset,
              (SELECT max(global_position) >> 16 FROM ${s}.events) AS last_xid,
              pg_snapshot_xmax(pg_current_snapshot())::text::bigint AS next_xid
       FROM ${s}.log_clock c`,
    );
    const { xid_offset: offset, last_xid: lastXid, next_xid: nextXid } = row!;
    if (lastXid === null || nextXid + offset > lastXid) return offset;
    const raised = lastXid - nextXid + 1n;
    await tx.run(`UPDATE ${s}.log_clock SET xid_offset = ?`, [raised]);
    return raised;
  });
}
