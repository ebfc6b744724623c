-- V005 (issue 13): a piece the table would refuse never fails the sink. The Debezium JDBC sink (3.6) does not route
-- a database error to its DLQ: one refused row would fail the task, and fail it again after every restart, so every
-- piece behind it waits until a human intervenes. Instead a BEFORE trigger checks each row against every NOT NULL and
-- CHECK rule of watch_pieces and diverts a violating row into watch_pieces_rejected (the database's dead-letter
-- table) with the rule it broke; the statement succeeds, the task stays RUNNING, and the pieces after it land.
-- The CHECK constraints stay as the backstop. test/real/rejects.test.ts walks every rule pg_catalog lists for
-- watch_pieces and fails if one is not diverted here, so a new constraint cannot slip past this file.
-- Idempotent: re-applied on every deploy like every file.

-- One row per distinct refused piece: a replay of the same bad record bumps times_seen instead of adding rows, so
-- the table grows with distinct bad records, never with retries. `piece` is the row as the sink sent it.
CREATE TABLE IF NOT EXISTS watch_pieces_rejected (
    piece_digest     text        NOT NULL,
    violated_rule    text        NOT NULL,
    error            text        NOT NULL,
    piece            jsonb       NOT NULL,
    first_seen_at    timestamptz NOT NULL DEFAULT now(),
    last_seen_at     timestamptz NOT NULL DEFAULT now(),
    times_seen       integer     NOT NULL DEFAULT 1,
    -- Set by an operator once the piece is dealt with (docs/runbooks/connector-failed.md#rows-refused); until then
    -- the rejects check CronJob fails and the SinkRowsRefused alert fires.
    acknowledged_at  timestamptz,
    CONSTRAINT watch_pieces_rejected_pkey PRIMARY KEY (piece_digest)
);

-- The first rule of watch_pieces a row breaks (the constraint's name, or `<column>_not_null`), or NULL when it
-- breaks none. Same expressions as V004's constraints; a CHECK passes on NULL, which the NOT NULL tests catch first.
-- updated_at is not checked: the sink never writes it, and V004's upsert guard stamps it on every write.
CREATE OR REPLACE FUNCTION watch_pieces_violation(p watch_pieces) RETURNS text
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    IF p.user_id            IS NULL THEN RETURN 'user_id_not_null'; END IF;
    IF p.video_id           IS NULL THEN RETURN 'video_id_not_null'; END IF;
    IF p.start_ts           IS NULL THEN RETURN 'start_ts_not_null'; END IF;
    IF p.piece_no           IS NULL THEN RETURN 'piece_no_not_null'; END IF;
    IF p.end_ts             IS NULL THEN RETURN 'end_ts_not_null'; END IF;
    IF p.first_position_sec IS NULL THEN RETURN 'first_position_sec_not_null'; END IF;
    IF p.last_position_sec  IS NULL THEN RETURN 'last_position_sec_not_null'; END IF;
    IF p.min_position_sec   IS NULL THEN RETURN 'min_position_sec_not_null'; END IF;
    IF p.max_position_sec   IS NULL THEN RETURN 'max_position_sec_not_null'; END IF;
    IF p.heartbeat_count    IS NULL THEN RETURN 'heartbeat_count_not_null'; END IF;
    IF p.session_gap_ms     IS NULL THEN RETURN 'session_gap_ms_not_null'; END IF;
    IF p.seek_tolerance_ms  IS NULL THEN RETURN 'seek_tolerance_ms_not_null'; END IF;
    IF p.max_rate_permille  IS NULL THEN RETURN 'max_rate_permille_not_null'; END IF;
    IF NOT (length(p.user_id) BETWEEN 1 AND 256) THEN RETURN 'watch_pieces_user_id_chk'; END IF;
    IF NOT (length(p.video_id) BETWEEN 1 AND 256) THEN RETURN 'watch_pieces_video_id_chk'; END IF;
    IF NOT (p.piece_no >= 1) THEN RETURN 'watch_pieces_piece_no_chk'; END IF;
    IF NOT (p.end_ts >= p.start_ts) THEN RETURN 'watch_pieces_time_order_chk'; END IF;
    IF NOT (p.min_position_sec >= 0 AND p.max_position_sec < 'Infinity'::double precision
            AND p.min_position_sec <= p.first_position_sec AND p.first_position_sec <= p.max_position_sec
            AND p.min_position_sec <= p.last_position_sec AND p.last_position_sec <= p.max_position_sec) THEN
        RETURN 'watch_pieces_range_chk';
    END IF;
    IF NOT (p.heartbeat_count >= 1) THEN RETURN 'watch_pieces_heartbeat_count_chk'; END IF;
    IF NOT (p.session_gap_ms >= 1 AND p.seek_tolerance_ms >= 0 AND p.max_rate_permille >= 1) THEN
        RETURN 'watch_pieces_rule_chk';
    END IF;
    RETURN NULL;
END;
$$;

-- SECURITY DEFINER: the sink role writes the dead-letter row through this function only; it holds no privilege on
-- watch_pieces_rejected itself. search_path is fixed so the function cannot be pointed at another table.
CREATE OR REPLACE FUNCTION watch_pieces_reject_guard() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    rule   text := public.watch_pieces_violation(NEW);
    doc    jsonb;
BEGIN
    IF rule IS NULL THEN
        RETURN NEW;
    END IF;
    doc := to_jsonb(NEW) - 'updated_at';
    INSERT INTO public.watch_pieces_rejected AS r (piece_digest, violated_rule, error, piece)
    VALUES (md5(doc::text), rule,
            format('%s on watch_pieces refused by %s (diverted by watch_pieces_reject_guard, connectors/schema/V005)', TG_OP, rule),
            doc)
    ON CONFLICT (piece_digest) DO UPDATE SET last_seen_at = now(), times_seen = r.times_seen + 1;
    -- NULL from a BEFORE row trigger skips this row without an error; the rest of the batch goes on.
    RETURN NULL;
END;
$$;
REVOKE ALL ON FUNCTION watch_pieces_reject_guard() FROM PUBLIC;

-- Triggers fire in name order: `reject` sorts before V004's `upsert_guard`, so a refused row is diverted before
-- anything else looks at it (an UPDATE of an existing piece to bad values is diverted too; the old row stays).
DROP TRIGGER IF EXISTS watch_pieces_reject_guard ON watch_pieces;
CREATE TRIGGER watch_pieces_reject_guard
    BEFORE INSERT OR UPDATE ON watch_pieces
    FOR EACH ROW EXECUTE FUNCTION watch_pieces_reject_guard();

-- Operators read and acknowledge the table by hand; the sink role has no access to it (see above).
REVOKE ALL ON TABLE watch_pieces_rejected FROM watchpipe_sink;
-- A table created by an earlier version of this file gets the column too.
ALTER TABLE watch_pieces_rejected ADD COLUMN IF NOT EXISTS acknowledged_at timestamptz;

-- What the rejects check CronJob (connectors/rejectsCheck.ts) reads, logged in as the sink role: per broken rule,
-- how many refused pieces nobody has acknowledged yet. Counts and rule names only, never the pieces themselves.
CREATE OR REPLACE FUNCTION watch_pieces_rejects_pending()
RETURNS TABLE (violated_rule text, pieces bigint, last_seen_at timestamptz)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    SELECT r.violated_rule, count(*), max(r.last_seen_at)
      FROM public.watch_pieces_rejected r
     WHERE r.acknowledged_at IS NULL
     GROUP BY r.violated_rule
     ORDER BY r.violated_rule
$$;
REVOKE ALL ON FUNCTION watch_pieces_rejects_pending() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION watch_pieces_rejects_pending() TO watchpipe_sink;

INSERT INTO schema_migrations (version, name) VALUES (5, 'watch_pieces_rejects') ON CONFLICT (version) DO NOTHING;
