import type { HeadTable } from './append-function.js';

/**
 * `append_events_group`: several appends (to distinct or equal streams) in one autocommit statement, so
 * concurrent callers share one round trip and one commit (one WAL flush). Per group:
 * 1. every stream's advisory lock (the key of `append_events`), distinct and in ascending order of the
 *    hash: two groups (or a group and single appends, which hold one lock) never wait on each other in a
 *    cycle, so no deadlock;
 * 2. the transaction id, only after all locks: each stream's previous holder has committed, so positions
 *    still increase with stream versions (as in `append-function.ts`);
 * 3. every append's stream head in one statement (a fresh snapshot, after the locks), and for each append
 *    the group's previous append to the same stream (`lag`), whose outcome moves that head;
 * 4. per append, in submission order, the expected-version check as a pre-check: a conflict writes nothing
 *    and reports the version it met in `actual_version`, so it fails alone without a savepoint; an accepted
 *    append takes the next free positions of the transaction, `((xid + offset) << 16) + i`;
 * 5. one INSERT of the accepted appends' events (a statement per append cost about 35 µs each).
 * Events arrive flattened; `p_counts[k]` events belong to append `k`. One row per append, in order.
 * `p_stream_hashes[k]` is append `k`'s `signedHashKey(stream id)`; callers inside the database that cannot
 * compute it (the saga engine's batch function) leave it NULL, and partition readers filter those rows themselves.
 * Any other error (an event id stored twice, say) fails the whole statement: nothing is stored and the
 * caller falls back to one append per statement, where each gets its own outcome.
 * The stream-id comparison names its collation: a PL/pgSQL function takes its parameters' collation from the
 * call, and a caller whose arguments carry "C" (anything built from `current_schema()`, a `name`) would
 * otherwise compare under "C", which the default-collation index cannot serve: a sequential scan of
 * `events` per append (seen from the saga engine's batch statement: throughput fell with the table's size).
 * Never `?` in this text: statements are scanned for placeholders.
 */
export function appendGroupFunctionSql(s: string, head: HeadTable = 'events'): string {
  return `
    CREATE OR REPLACE FUNCTION ${s}.append_events_group(
      p_lock_keys text[], p_stream_ids text[], p_expected text[], p_counts int[], p_recorded_at timestamptz[],
      p_ids text[], p_types text[], p_data text[], p_metadata text[], p_schema_versions int[], p_xid_offset bigint,
      p_stream_hashes bigint[] DEFAULT NULL)
    RETURNS TABLE (first_position bigint, last_position bigint, next_version bigint, actual_version bigint)
    LANGUAGE plpgsql VOLATILE
    AS $fn$
    DECLARE
      v_n int := cardinality(p_stream_ids);
      v_key bigint;
      v_k int;
      v_heads bigint[];
      v_prev int[];
      v_after bigint[] := array_fill(0::bigint, ARRAY[v_n]);
      v_first bigint[] := array_fill(NULL::bigint, ARRAY[v_n]);
      v_from int[] := array_fill(0, ARRAY[v_n]);
      v_base_version bigint[] := array_fill(0::bigint, ARRAY[v_n]);
      v_event_append int[];
      v_next_from int := 1;
      v_current bigint;
      v_expected text;
      v_base bigint;
      v_used bigint := 0;
    BEGIN
      FOR v_key IN SELECT DISTINCT hashtextextended(k.key, 0) FROM unnest(p_lock_keys) AS k(key) ORDER BY 1 LOOP
        PERFORM pg_advisory_xact_lock(v_key);
      END LOOP;
      v_base := (pg_current_xact_id()::text::bigint + p_xid_offset) << 16;
      SELECT array_agg(x.head ORDER BY x.ord), array_agg(x.prev ORDER BY x.ord) INTO v_heads, v_prev FROM (
        SELECT a.ord, coalesce(lag(a.ord) OVER (PARTITION BY a.id ORDER BY a.ord), 0)::int AS prev,
               coalesce((SELECT h.stream_version FROM ${s}.${head} h WHERE h.stream_id = a.id COLLATE "default" ORDER BY h.stream_version DESC LIMIT 1), 0) AS head
        FROM unnest(p_stream_ids) WITH ORDINALITY AS a(id, ord)) x;
      FOR v_k IN 1 .. v_n LOOP
        v_current := CASE WHEN v_prev[v_k] = 0 THEN v_heads[v_k] ELSE v_after[v_prev[v_k]] END;
        v_expected := p_expected[v_k];
        v_from[v_k] := v_next_from;
        v_next_from := v_next_from + p_counts[v_k];
        IF v_expected = 'any'
            OR (v_expected = 'no_stream' AND v_current = 0)
            OR (v_expected = 'stream_exists' AND v_current > 0)
            OR (v_expected ~ '^[0-9]+$' AND v_expected::numeric = v_current) THEN
          v_first[v_k] := v_base + v_used;
          v_base_version[v_k] := v_current;
          v_after[v_k] := v_current + p_counts[v_k];
          v_used := v_used + p_counts[v_k];
          first_position := v_first[v_k];
          last_position := v_first[v_k] + p_counts[v_k] - 1;
          next_version := v_after[v_k];
          actual_version := NULL;
        ELSE
          v_after[v_k] := v_current;
          first_position := NULL;
          last_position := NULL;
          next_version := NULL;
          actual_version := v_current;
        END IF;
        RETURN NEXT;
      END LOOP;
      IF v_used > 0 THEN
        v_event_append := ARRAY(SELECT c.k FROM unnest(p_counts) WITH ORDINALITY AS c(cnt, k), generate_series(1, c.cnt) ORDER BY c.k);
        INSERT INTO ${s}.events (global_position, event_id, stream_id, stream_version, event_type, data, metadata, schema_version, recorded_at, stream_hash)
        SELECT v_first[e.k] + (e.ord - v_from[e.k]), e.id, p_stream_ids[e.k], v_base_version[e.k] + (e.ord - v_from[e.k]) + 1,
               e.type, e.data::jsonb, e.meta::jsonb, e.sv, p_recorded_at[e.k], p_stream_hashes[e.k]
        FROM unnest(p_ids, p_types, p_data, p_metadata, p_schema_versions, v_event_append) WITH ORDINALITY AS e(id, type, data, meta, sv, k, ord)
        WHERE v_first[e.k] IS NOT NULL;
      END IF;
    END
    $fn$;`;
}
