-- Enqueue at the in-flight cap in one round trip and one commit: the advisory lock serialises the
-- enqueues near the cap, and each statement of a PL/pgSQL function takes its own snapshot, so the
-- count after the lock sees every insert committed before it (exact cap, never overshot).
CREATE OR REPLACE FUNCTION photochanger_enqueue_locked(
  cols jsonb, col_list text, cap integer, live_since timestamptz, entries jsonb, channel text
) RETURNS TABLE (counted_n integer, inserted_id uuid)
LANGUAGE plpgsql VOLATILE AS $fn$
DECLARE
  n integer;
  new_id uuid;
BEGIN
  PERFORM pg_advisory_xact_lock(hashtext('photochanger.enqueue'));
  SELECT count(*)::int INTO n FROM job
    WHERE NOT unattended
      AND (status = 'pending' OR (status = 'processing' AND heartbeat_at >= live_since));
  IF n >= cap THEN
    RETURN QUERY SELECT n, NULL::uuid;
    RETURN;
  END IF;
  EXECUTE format(
    'INSERT INTO job (%s) SELECT %s FROM jsonb_populate_record(NULL::job, $1) RETURNING id',
    col_list, col_list
  ) INTO new_id USING cols;
  INSERT INTO processing_log (job_id, slot_id, event, occurred_at, details)
    SELECT new_id, j.slot_id, e.event, e.at, e.details
    FROM job j CROSS JOIN jsonb_to_recordset(entries) AS e(event text, at timestamptz, details jsonb)
    WHERE j.id = new_id;
  PERFORM pg_notify(channel, new_id::text);
  RETURN QUERY SELECT n, new_id;
END
$fn$;
