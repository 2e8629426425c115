-- The locked enqueue (0012) announces only pending jobs: a job inserted already leased to a worker
-- loop of the inserting process (its claim made part of the insert) has nobody to wake, so its
-- NOTIFY would only send every instance's idle loops to claim nothing.
CREATE OR REPLACE FUNCTION photochanger_enqueue_locked(
  cols jsonb, col_list text, cap integer, live_since timestamptz, entries jsonb, channel text
) RETURNS TABLE (counted_n integer, inserted_id uuid)
LANGUAGE plpgsql VOLATILE AS $fn$
DECLARE
  n integer;
  new_id uuid;
  new_status text;
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
    'INSERT INTO job (%s) SELECT %s FROM jsonb_populate_record(NULL::job, $1) RETURNING id, status',
    col_list, col_list
  ) INTO new_id, new_status USING cols;
  INSERT INTO processing_log (job_id, slot_id, event, occurred_at, details)
    SELECT new_id, j.slot_id, e.event, e.at, e.details
    FROM job j CROSS JOIN jsonb_to_recordset(entries) AS e(event text, at timestamptz, details jsonb)
    WHERE j.id = new_id;
  IF new_status = 'pending' THEN
    PERFORM pg_notify(channel, new_id::text);
  END IF;
  RETURN QUERY SELECT n, new_id;
END
$fn$;
