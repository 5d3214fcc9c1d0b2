/**
 * Where a stream's head (its last version) is looked up: `events`, or on a time-partitioned store the plain
 * `event_keys` table beside it (one index instead of one per attached partition, and it still knows the
 * versions of retired events, so a stream whose events were all retired continues at its next version).
 */
export type HeadTable = 'events' | 'event_keys';

/** SQLSTATE the append function raises when the expected version does not match; DETAIL holds the actual version. */
export const WRONG_VERSION_SQLSTATE = 'TS409';

/**
 * `append_events`: the whole append of `appendInTransaction` (without hooks or id checks) as one function,
 * so an append is one autocommit statement, one round trip. The order is the same:
 * 1. the per-stream advisory lock (same key). Neither the calling SELECT nor the lock assigns a transaction
 *    id, so the id is assigned after the previous holder committed, as in the multi-statement path;
 * 2. the stream head (from `head`, see {@link HeadTable}), read by a new statement: a VOLATILE function takes a fresh snapshot per statement
 *    (READ COMMITTED), so it sees the previous holder's commit;
 * 3. the expected-version check of `expected-version.ts` (`any`, `no_stream`, `stream_exists` or a
 *    decimal version), raising {@link WRONG_VERSION_SQLSTATE} with the actual version in DETAIL;
 * 4. the insert at `((xid + offset) << 16) + i` (the transaction wrote nothing before, so from index 0), with
 *    the stream id's hash (`signedHashKey`) that lets readers filter by log partition.
 * Never `?` in this text: statements are scanned for placeholders.
 */
export function appendFunctionSql(s: string, head: HeadTable = 'events'): string {
  return `
    CREATE OR REPLACE FUNCTION ${s}.append_events(
      p_lock_key text, p_stream_id text, p_expected text, p_ids text[], p_types text[], p_data text[],
      p_metadata text[], p_schema_versions int[], p_recorded_at timestamptz, p_xid_offset bigint, p_stream_hash bigint DEFAULT NULL)
    RETURNS TABLE (first_position bigint, last_position bigint, next_version bigint)
    LANGUAGE plpgsql VOLATILE
    AS $fn$
    DECLARE
      v_current bigint;
      v_base bigint;
      v_count bigint := cardinality(p_ids);
    BEGIN
      PERFORM pg_advisory_xact_lock(hashtextextended(p_lock_key, 0));
      SELECT h.stream_version INTO v_current FROM ${s}.${head} h
        WHERE h.stream_id = p_stream_id ORDER BY h.stream_version DESC LIMIT 1;
      v_current := coalesce(v_current, 0);
      IF NOT (p_expected = 'any'
          OR (p_expected = 'no_stream' AND v_current = 0)
          OR (p_expected = 'stream_exists' AND v_current > 0)
          OR (p_expected ~ '^[0-9]+$' AND p_expected::numeric = v_current)) THEN
        RAISE EXCEPTION 'Stream % is at version %, expected %', p_stream_id, v_current, p_expected
          USING ERRCODE = '${WRONG_VERSION_SQLSTATE}', DETAIL = v_current::text;
      END IF;
      v_base := (pg_current_xact_id()::text::bigint + p_xid_offset) << 16;
      INSERT INTO ${s}.events (global_position, event_id, stream_id, stream_version, event_type, data, metadata, schema_version, recorded_at, stream_hash)
      SELECT v_base + (e.ord - 1), e.id, p_stream_id, v_current + e.ord, e.type, e.data::jsonb, e.meta::jsonb, e.sv, p_recorded_at, p_stream_hash
      FROM unnest(p_ids, p_types, p_data, p_metadata, p_schema_versions) WITH ORDINALITY AS e(id, type, data, meta, sv, ord);
      first_position := v_base;
      last_position := v_base + v_count - 1;
      next_version := v_current + v_count;
      RETURN NEXT;
    END
    $fn$;`;
}
