/**
 * `append_events_group`: several appends (to distinct or equal streams) in one autocommit statement, so
 * concurrent callers share one round trip and one commit (one WAL flush). Per group:
 * 1. every stream's advisory lock (the key of `append_events`), distinct and in ascending order of the
 *    hash: two groups (or a group and single appends, which hold one lock) never wait on each other in a
 *    cycle, so no deadlock;
 * 2. the transaction id, only after all locks: each stream's previous holder has committed, so positions
 *    still increase with stream versions (as in `append-function.ts`);
 * 3. per append, in submission order: the stream head (a new statement sees earlier appends of the group
 *    to the same stream), the expected-version check as a pre-check (a conflict writes nothing and
 *    reports the stored version in `actual_version`, so it fails alone without a savepoint), then the
 *    insert at the next free positions of the transaction: `((xid + offset) << 16) + i`.
 * Events arrive flattened; `p_counts[k]` events belong to append `k`. One row per append, in order.
 * Any other error (an event id stored twice, say) fails the whole statement: nothing is stored and the
 * caller falls back to one append per statement, where each gets its own outcome.
 * Never `?` in this text: statements are scanned for placeholders.
 */
export function appendGroupFunctionSql(s: string): string {
  return `
    CREATE OR REPLACE FUNCTION ${s}.append_events_group(
      p_lock_keys text[], p_stream_ids text[], p_expected text[], p_counts int[], p_recorded_at timestamptz[],
      p_ids text[], p_types text[], p_data text[], p_metadata text[], p_schema_versions int[], p_xid_offset bigint)
    RETURNS TABLE (first_position bigint, last_position bigint, next_version bigint, actual_version bigint)
    LANGUAGE plpgsql VOLATILE
    AS $fn$
    DECLARE
      v_key bigint;
      v_k int;
      v_from int := 1;
      v_count int;
      v_current bigint;
      v_expected text;
      v_base bigint;
      v_used bigint := 0;
    BEGIN
      FOR v_key IN SELECT DISTINCT hashtextextended(k.key, 0) FROM unnest(p_lock_keys) AS k(key) ORDER BY 1 LOOP
        PERFORM pg_advisory_xact_lock(v_key);
      END LOOP;
      v_base := (pg_current_xact_id()::text::bigint + p_xid_offset) << 16;
      FOR v_k IN 1 .. cardinality(p_stream_ids) LOOP
        v_count := p_counts[v_k];
        v_expected := p_expected[v_k];
        v_current := NULL;
        SELECT h.stream_version INTO v_current FROM ${s}.events h
          WHERE h.stream_id = p_stream_ids[v_k] ORDER BY h.stream_version DESC LIMIT 1;
        v_current := coalesce(v_current, 0);
        IF v_expected = 'any'
            OR (v_expected = 'no_stream' AND v_current = 0)
            OR (v_expected = 'stream_exists' AND v_current > 0)
            OR (v_expected ~ '^[0-9]+$' AND v_expected::numeric = v_current) THEN
          INSERT INTO ${s}.events (global_position, event_id, stream_id, stream_version, event_type, data, metadata, schema_version, recorded_at)
          SELECT v_base + v_used + (e.ord - 1), e.id, p_stream_ids[v_k], v_current + e.ord, e.type, e.data::jsonb, e.meta::jsonb, e.sv, p_recorded_at[v_k]
          FROM unnest(p_ids[v_from : v_from + v_count - 1], p_types[v_from : v_from + v_count - 1], p_data[v_from : v_from + v_count - 1],
                      p_metadata[v_from : v_from + v_count - 1], p_schema_versions[v_from : v_from + v_count - 1])
            WITH ORDINALITY AS e(id, type, data, meta, sv, ord);
          first_position := v_base + v_used;
          last_position := v_base + v_used + v_count - 1;
          next_version := v_current + v_count;
          actual_version := NULL;
          v_used := v_used + v_count;
        ELSE
          first_position := NULL;
          last_position := NULL;
          next_version := NULL;
          actual_version := v_current;
        END IF;
        RETURN NEXT;
        v_from := v_from + v_count;
      END LOOP;
    END
    $fn$;`;
}
