-- V007 (issue 21, known limit "a single late heartbeat among on-time ones"): the stitching compares each piece with
-- the latest heartbeat of ALL earlier pieces of its key, not with the previous piece's last one, so a piece lying
-- inside another piece's span no longer splits the segment. Idempotent like every file (the migration Job re-applies
-- V001..V007 on every deploy; V004 and V006 put their own definitions back for a moment and this file replaces them
-- again in the same Job run).
--
-- Why: since arrival-time windows (ksql V000004) a heartbeat delivered late lands in a later window than its
-- neighbours and becomes its own piece, with its true played_at. A one-point piece at t inside an on-time piece's
-- [a, b] sorts between that piece and the next one; V004/V006 compared the next piece with t instead of b, so the
-- segment split in two that overlap in time (the overlap's watched range counted in both), and the one-point piece
-- itself, compared with b (Δt < 0, playhead behind), started the second segment.
--
-- The rule (one definition, used by the three places that stitch: watch_segments_v2, the open tail
-- watch_segments_open, and watchpipe_maintain's re-stitch; the stitching text below is the same in all three and
-- test/connectors.test.ts checks that it stays so; contract/stitching.ts is the same rule in TypeScript, the
-- reference test/real/stitchOverlap.test.ts holds all three to):
--   * pieces of one (user_id, video_id) in (start_ts, piece_no) order, as before;
--   * the HEAD before a piece is the latest heartbeat of every earlier piece of the key: the greatest end_ts, with
--     that piece's last playhead. Ties on end_ts go to the piece later in the order (greatest start_ts, then
--     piece_no), which is the previous piece whenever pieces do not overlap;
--   * a piece whose first heartbeat is strictly before the head (start_ts < head's end_ts: it lies inside the span
--     of the segment so far, wholly or in part) CONTINUES the segment, whatever its playhead: the same viewer playing
--     the same video at the same moment is the same viewing. Its playhead range merges into the segment's;
--   * otherwise (start_ts >= head's end_ts) the pairwise rule decides, between the head and the piece's first
--     heartbeat, with the piece's own parameters, exactly as before: Δt <= gap and
--     -tolerance <= Δplayhead <= maxRate·Δt + tolerance. A piece starting exactly at the head's time (Δt = 0) is
--     judged by the rule, not merged, so equal-time points keep cutting as the whole-sequence cut would.
--   When no piece overlaps another, the head is the previous piece's last heartbeat and the result is V004's.
-- The segment (one row, so the overlap is counted once):
--   start_ts / end_ts: the first start and the greatest end; start/end_position_sec: lowest / highest playhead of
--   all its pieces; watched_sec: that range's length (integer ms, as before); heartbeat_count: the sum (a heartbeat
--   delivered twice at different arrival times is still two points: see ksql/README "Known limits");
--   last_position_sec: the playhead at the latest heartbeat (the piece with the greatest end_ts, ties as for the
--   head), so resume is not pulled back by a late piece that sorts last.
-- Consequences relied on below: segments of a key never overlap in time (a new segment starts only at or after the
-- head, and the head is always in the current segment), and the stitching of the pieces from a segment's first
-- piece onward does not depend on the pieces before it (every earlier end is <= that first piece's start). So
-- watchpipe_maintain may re-stitch a key from the start of the closed segment a late piece falls in (V006's rule for
-- choosing where to start), and a late piece inside an already closed segment amends that segment in place (same
-- start_ts, wider or unchanged range, one more heartbeat) instead of adding a second one.
--
-- Relies on: V004 (watch_pieces and its columns), V006 (the partitioned tables, watch_open_keys,
-- watch_maintenance_state, watch_segments_closed and the report views over watch_segments_open, which keep their
-- columns, so CREATE OR REPLACE VIEW keeps every dependent view). max() over bigint[] (element-wise array order) and
-- window frames ending at 1 PRECEDING, both plain PostgreSQL 15, which YSQL (2026.1) is a fork of; not run on a
-- YugabyteDB server here. The view and function names and columns are unchanged: connectors/maintenance.ts and the
-- report statements call them as before.
-- Segments closed before this file ran keep the stitching they were closed with; a key is re-stitched with this
-- rule when a piece of it is written again or its segment is still open.

-- ---------------------------------------------------------------------------------------------------------------
-- The two pieces of the rule the stitching text calls, over integer milliseconds (the text computes them once per
-- piece in its `timed` step). IMMUTABLE single-expression SQL functions, so the planner inlines them.

-- A piece's last heartbeat as an array ordered the way the head is chosen: [end_ms, start_ms, piece_no,
-- last_position_ms]. max() of it over the earlier pieces is the head.
CREATE OR REPLACE FUNCTION watch_piece_head(end_ms bigint, start_ms bigint, piece_no integer, last_pos_ms bigint)
RETURNS bigint[] LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT ARRAY[end_ms, start_ms, piece_no::bigint, last_pos_ms]
$$;

-- true when a piece (its first heartbeat at start_ms, playhead first_pos_ms) continues the segment whose head is
-- `head`; false for the first piece of a key (head NULL).
CREATE OR REPLACE FUNCTION watch_piece_continues(head bigint[], start_ms bigint, first_pos_ms bigint,
                                                 session_gap_ms integer, seek_tolerance_ms integer,
                                                 max_rate_permille integer)
RETURNS boolean LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT head IS NOT NULL
       AND (start_ms < head[1]
            OR (start_ms - head[1] <= session_gap_ms
                AND first_pos_ms - head[4] + seek_tolerance_ms >= 0
                AND 1000 * (first_pos_ms - head[4])
                    <= max_rate_permille::bigint * (start_ms - head[1]) + 1000 * seek_tolerance_ms::bigint))
$$;

-- ---------------------------------------------------------------------------------------------------------------
-- Watch segments v2 over all history (V004's view, same columns), for ad-hoc checks and the tests' reference. A WHERE
-- on user_id (and video_id) is pushed below the window functions (they partition by those columns).
CREATE OR REPLACE VIEW watch_segments_v2 AS
WITH input AS (
    SELECT p.* FROM watch_pieces p
), timed AS (
    SELECT i.*,
           (extract(epoch FROM i.start_ts) * 1000)::bigint AS start_ms,
           (extract(epoch FROM i.end_ts) * 1000)::bigint   AS end_ms,
           round(i.first_position_sec * 1000)::bigint      AS first_pos_ms,
           round(i.last_position_sec * 1000)::bigint       AS last_pos_ms
      FROM input i
), ordered AS (
    SELECT tm.*,
           max(watch_piece_head(tm.end_ms, tm.start_ms, tm.piece_no, tm.last_pos_ms))
               OVER (PARTITION BY tm.user_id, tm.video_id ORDER BY tm.start_ts, tm.piece_no
                     ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS head
      FROM timed tm
), numbered AS (
    SELECT o.*,
           sum(CASE WHEN watch_piece_continues(o.head, o.start_ms, o.first_pos_ms, o.session_gap_ms,
                                               o.seek_tolerance_ms, o.max_rate_permille) THEN 0 ELSE 1 END)
               OVER (PARTITION BY o.user_id, o.video_id ORDER BY o.start_ts, o.piece_no
                     ROWS UNBOUNDED PRECEDING) AS segment_no
      FROM ordered o
), stitched AS (
    SELECT n.user_id,
           n.video_id,
           min(n.start_ts)                       AS start_ts,
           max(n.end_ts)                         AS end_ts,
           min(n.min_position_sec)               AS start_position_sec,
           max(n.max_position_sec)               AS end_position_sec,
           sum(n.heartbeat_count)::integer       AS heartbeat_count,
           ((max(round(n.max_position_sec * 1000)::bigint) - min(round(n.min_position_sec * 1000)::bigint)) / 1000.0)::double precision
                                                 AS watched_sec,
           (array_agg(n.last_position_sec ORDER BY n.end_ts DESC, n.start_ts DESC, n.piece_no DESC))[1]
                                                 AS last_position_sec
      FROM numbered n
     GROUP BY n.user_id, n.video_id, n.segment_no
)
SELECT s.user_id, s.video_id, s.start_ts, s.end_ts, s.start_position_sec, s.end_position_sec, s.heartbeat_count,
       s.watched_sec, s.last_position_sec
  FROM stitched s;

-- The open tail (V006's view, same columns and input: every piece starting at or after closed_until, and the pieces
-- of each open key from its open segment's start), stitched with the rule above.
CREATE OR REPLACE VIEW watch_segments_open AS
WITH state AS (
    SELECT coalesce((SELECT s.closed_until FROM watch_maintenance_state s), '-infinity'::timestamptz) AS closed_until
), input AS (
    SELECT p.* FROM watch_pieces p WHERE p.start_ts >= (SELECT closed_until FROM state)
    UNION ALL
    SELECT p.* FROM watch_open_keys k
      JOIN watch_pieces p ON p.user_id = k.user_id AND p.video_id = k.video_id
                         AND p.start_ts >= k.from_ts AND p.start_ts < (SELECT closed_until FROM state)
), timed AS (
    SELECT i.*,
           (extract(epoch FROM i.start_ts) * 1000)::bigint AS start_ms,
           (extract(epoch FROM i.end_ts) * 1000)::bigint   AS end_ms,
           round(i.first_position_sec * 1000)::bigint      AS first_pos_ms,
           round(i.last_position_sec * 1000)::bigint       AS last_pos_ms
      FROM input i
), ordered AS (
    SELECT tm.*,
           max(watch_piece_head(tm.end_ms, tm.start_ms, tm.piece_no, tm.last_pos_ms))
               OVER (PARTITION BY tm.user_id, tm.video_id ORDER BY tm.start_ts, tm.piece_no
                     ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS head
      FROM timed tm
), numbered AS (
    SELECT o.*,
           sum(CASE WHEN watch_piece_continues(o.head, o.start_ms, o.first_pos_ms, o.session_gap_ms,
                                               o.seek_tolerance_ms, o.max_rate_permille) THEN 0 ELSE 1 END)
               OVER (PARTITION BY o.user_id, o.video_id ORDER BY o.start_ts, o.piece_no
                     ROWS UNBOUNDED PRECEDING) AS segment_no
      FROM ordered o
), stitched AS (
    SELECT n.user_id,
           n.video_id,
           min(n.start_ts)                       AS start_ts,
           max(n.end_ts)                         AS end_ts,
           min(n.min_position_sec)               AS start_position_sec,
           max(n.max_position_sec)               AS end_position_sec,
           sum(n.heartbeat_count)::integer       AS heartbeat_count,
           ((max(round(n.max_position_sec * 1000)::bigint) - min(round(n.min_position_sec * 1000)::bigint)) / 1000.0)::double precision
                                                 AS watched_sec,
           (array_agg(n.last_position_sec ORDER BY n.end_ts DESC, n.start_ts DESC, n.piece_no DESC))[1]
                                                 AS last_position_sec
      FROM numbered n
     GROUP BY n.user_id, n.video_id, n.segment_no
)
SELECT s.user_id, s.video_id, s.start_ts, s.end_ts, s.start_position_sec, s.end_position_sec, s.heartbeat_count,
       s.watched_sec, s.last_position_sec
  FROM stitched s
 WHERE s.end_ts >= (SELECT closed_until FROM state);

-- ---------------------------------------------------------------------------------------------------------------
-- The maintenance entry point, V006's function with step 4 stitching by the rule above (everything else as in V006:
-- see its header there). connectors/maintenance.ts builds the call; a CronJob runs it as the schema owner.
-- One transaction: a crash or a kill rolls it all back and the next run redoes it from the same watermark.
--   1. serialize: a transaction-level advisory lock, so two overlapping runs take turns (the second finds the work
--      done and changes nothing but the watermark);
--   2. partitions: today .. today + partitions_ahead_days for every day-partitioned table;
--   3. input, bounded by time: the pieces written since the last run (updated_at, see last_run_at) and the keys
--      whose segment was open at the last run. For each such key the re-stitch starts at its open segment, or, for a
--      piece earlier than that (late, or new next to a closed segment), at the closed segment it falls in or follows
--      (looked up only within piece_retention_days: older pieces are gone and cannot be re-stitched anyway);
--   4. stitch those pieces; segments ending before closed_until = now() - close_delay are closed;
--   5. amend: closed rows of those keys from the re-stitch start that differ from the new stitching are deleted,
--      new ones inserted, and exactly those rows' contributions subtracted from / added to the viewer tables and
--      the rollups (identical rows are left alone, so a rerun writes nothing);
--   6. retention: piece partitions older than piece_retention_days (never one holding a piece of a segment not yet
--      closed), segment, viewer and rollup partitions older than segment_retention_days.
CREATE OR REPLACE FUNCTION watchpipe_maintain(close_delay_ms bigint, piece_retention_days integer,
                                              segment_retention_days integer, partitions_ahead_days integer)
RETURNS TABLE (segments_closed bigint, segments_amended bigint, pieces_read bigint, late_pieces bigint,
               partitions_created integer, partitions_dropped integer, closed_until timestamptz)
LANGUAGE plpgsql SET search_path = pg_catalog, public SET TimeZone = 'UTC' AS $$
#variable_conflict use_column
DECLARE
    -- Clock step between two servers stamping updated_at (YugabyteDB's hybrid clock bounds skew to 500 ms by
    -- default); re-reading this much more is harmless, the re-stitch is idempotent.
    commit_slack   constant interval := interval '1 second';
    next_from      timestamptz;
    -- pg_advisory_xact_lock key: "watchpipe maintain" as a stable 64-bit number, shared by every run.
    lock_key       constant bigint   := 7716033260934512945;
    prev_closed    timestamptz;
    prev_run       timestamptz;
    cutoff         timestamptz;
    today          date := (now() AT TIME ZONE 'UTC')::date;
    lookback_from  timestamptz;
    min_from       timestamptz;
    v_created      integer := 0;
    v_dropped      integer := 0;
    v_read         bigint;
    v_late         bigint;
    v_closed       bigint;
    v_amended      bigint;
    d              date;
    t              regclass;
BEGIN
    IF close_delay_ms IS NULL OR close_delay_ms < 0 THEN
        RAISE EXCEPTION 'watchpipe_maintain: close_delay_ms must be >= 0 (ms), got %', close_delay_ms;
    END IF;
    IF piece_retention_days IS NULL OR piece_retention_days < 1 THEN
        RAISE EXCEPTION 'watchpipe_maintain: piece_retention_days must be >= 1, got %', piece_retention_days;
    END IF;
    IF segment_retention_days IS NULL OR segment_retention_days < piece_retention_days THEN
        RAISE EXCEPTION 'watchpipe_maintain: segment_retention_days must be >= piece_retention_days (%), got %',
            piece_retention_days, segment_retention_days;
    END IF;
    IF partitions_ahead_days IS NULL OR partitions_ahead_days < 1 THEN
        RAISE EXCEPTION 'watchpipe_maintain: partitions_ahead_days must be >= 1, got %', partitions_ahead_days;
    END IF;

    PERFORM pg_advisory_xact_lock(lock_key);

    SELECT s.closed_until, s.last_run_at INTO prev_closed, prev_run FROM watch_maintenance_state s FOR UPDATE;
    cutoff := greatest(coalesce(prev_closed, '-infinity'), now() - close_delay_ms * interval '1 millisecond');
    lookback_from := now() - piece_retention_days * interval '1 day';

    -- 2. partitions ahead.
    FOR d IN SELECT today + g FROM generate_series(0, partitions_ahead_days) g LOOP
        FOREACH t IN ARRAY ARRAY['watch_pieces', 'watch_segments_closed', 'watch_viewers_daily',
                                 'watch_viewers_hourly', 'watch_rollup_daily', 'watch_rollup_hourly']::regclass[] LOOP
            v_created := v_created + watch_ensure_day_partition(t, d);
        END LOOP;
    END LOOP;
    -- Pieces that fell into DEFAULT (no partition for their day yet) get their day's partition (and move there).
    FOR d IN SELECT DISTINCT (p.start_ts AT TIME ZONE 'UTC')::date FROM watch_pieces_default p
              WHERE p.start_ts >= lookback_from LOOP
        v_created := v_created + watch_ensure_day_partition('watch_pieces', d);
    END LOOP;

    -- 3. input keys and where each one's re-stitch starts.
    -- A writer stamps updated_at with its transaction's start (now()) and may commit after this run has read the
    -- index, so the next run starts from the oldest transaction still open now (read before the pieces are: any
    -- transaction this run cannot see was open at this point or started after it), never later than this run.
    -- Assumption for YugabyteDB: pg_stat_activity lists one node's sessions only; there, the sink's longest
    -- transaction (a batch, milliseconds) is what commit_slack would have to cover instead.
    SELECT least(now(), min(a.xact_start)) INTO next_from
      FROM pg_stat_activity a
     WHERE a.backend_type = 'client backend' AND a.pid <> pg_backend_pid() AND a.xact_start IS NOT NULL;
    next_from := coalesce(next_from, now());
    CREATE TEMP TABLE watch_m_changed ON COMMIT DROP AS
    SELECT p.user_id, p.video_id, min(p.start_ts) AS first_start, count(*) AS pieces,
           count(*) FILTER (WHERE p.start_ts < prev_closed AND p.updated_at > prev_run) AS late
      FROM watch_pieces p
     WHERE prev_run IS NULL OR p.updated_at >= prev_run - commit_slack
     GROUP BY p.user_id, p.video_id;
    SELECT coalesce(sum(c.late), 0) INTO v_late FROM watch_m_changed c;

    CREATE TEMP TABLE watch_m_keys ON COMMIT DROP AS
    SELECT coalesce(c.user_id, o.user_id) AS user_id, coalesce(c.video_id, o.video_id) AS video_id,
           least(o.from_ts,
                 -- A new piece at or after the open segment's start cannot touch the closed segments before it.
                 CASE WHEN c.user_id IS NULL OR prev_run IS NULL OR c.first_start >= o.from_ts THEN NULL
                      ELSE coalesce((SELECT max(s.start_ts) FROM watch_segments_closed s
                                      WHERE s.user_id = c.user_id AND s.video_id = c.video_id
                                        AND s.start_ts <= c.first_start AND s.start_ts >= lookback_from),
                                    c.first_start) END,
                 CASE WHEN prev_run IS NULL THEN c.first_start END) AS from_ts
      FROM watch_m_changed c FULL JOIN watch_open_keys o ON o.user_id = c.user_id AND o.video_id = c.video_id;
    ALTER TABLE watch_m_keys ADD PRIMARY KEY (user_id, video_id);
    ANALYZE watch_m_keys;
    SELECT min(k.from_ts) INTO min_from FROM watch_m_keys k;

    -- 4. the pieces of those keys from their start, stitched with the same text as watch_segments_v2 (above).
    CREATE TEMP TABLE watch_m_pieces ON COMMIT DROP AS
    SELECT p.* FROM watch_m_keys k
      JOIN watch_pieces p ON p.user_id = k.user_id AND p.video_id = k.video_id AND p.start_ts >= k.from_ts
     WHERE p.start_ts >= min_from;
    GET DIAGNOSTICS v_read = ROW_COUNT;

    CREATE TEMP TABLE watch_m_segments ON COMMIT DROP AS
    WITH input AS (
        SELECT w.* FROM watch_m_pieces w
    ), timed AS (
        SELECT i.*,
               (extract(epoch FROM i.start_ts) * 1000)::bigint AS start_ms,
               (extract(epoch FROM i.end_ts) * 1000)::bigint   AS end_ms,
               round(i.first_position_sec * 1000)::bigint      AS first_pos_ms,
               round(i.last_position_sec * 1000)::bigint       AS last_pos_ms
          FROM input i
    ), ordered AS (
        SELECT tm.*,
               max(watch_piece_head(tm.end_ms, tm.start_ms, tm.piece_no, tm.last_pos_ms))
                   OVER (PARTITION BY tm.user_id, tm.video_id ORDER BY tm.start_ts, tm.piece_no
                         ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS head
          FROM timed tm
    ), numbered AS (
        SELECT o.*,
               sum(CASE WHEN watch_piece_continues(o.head, o.start_ms, o.first_pos_ms, o.session_gap_ms,
                                                   o.seek_tolerance_ms, o.max_rate_permille) THEN 0 ELSE 1 END)
                   OVER (PARTITION BY o.user_id, o.video_id ORDER BY o.start_ts, o.piece_no
                         ROWS UNBOUNDED PRECEDING) AS segment_no
          FROM ordered o
    ), stitched AS (
        SELECT n.user_id,
               n.video_id,
               min(n.start_ts)                       AS start_ts,
               max(n.end_ts)                         AS end_ts,
               min(n.min_position_sec)               AS start_position_sec,
               max(n.max_position_sec)               AS end_position_sec,
               sum(n.heartbeat_count)::integer       AS heartbeat_count,
               ((max(round(n.max_position_sec * 1000)::bigint) - min(round(n.min_position_sec * 1000)::bigint)) / 1000.0)::double precision
                                                     AS watched_sec,
               (array_agg(n.last_position_sec ORDER BY n.end_ts DESC, n.start_ts DESC, n.piece_no DESC))[1]
                                                     AS last_position_sec
          FROM numbered n
         GROUP BY n.user_id, n.video_id, n.segment_no
    )
    SELECT s.user_id, s.video_id, s.start_ts, s.end_ts, s.start_position_sec, s.end_position_sec, s.heartbeat_count,
           s.watched_sec, s.last_position_sec
      FROM stitched s;

    -- 5. amend the closed table: what it holds for these keys from their start vs. what is closed now.
    CREATE TEMP TABLE watch_m_old ON COMMIT DROP AS
    SELECT s.user_id, s.video_id, s.start_ts, s.end_ts, s.start_position_sec, s.end_position_sec, s.heartbeat_count,
           s.watched_sec, s.last_position_sec
      FROM watch_m_keys k
      JOIN watch_segments_closed s ON s.user_id = k.user_id AND s.video_id = k.video_id AND s.start_ts >= k.from_ts
     WHERE s.start_ts >= min_from;
    -- First run only: the v1 table's rows (watch_segments, V001; a pipeline that no longer writes) join the closed
    -- table once, so the reports keep counting them.
    IF prev_run IS NULL THEN
        INSERT INTO watch_m_segments
        SELECT w.user_id, w.video_id, w.start_ts, w.end_ts, w.start_position_sec, w.end_position_sec,
               w.heartbeat_count, w.watched_sec, w.end_position_sec
          FROM watch_segments w
         WHERE w.end_ts < cutoff
           AND NOT EXISTS (SELECT 1 FROM watch_m_segments m
                            WHERE m.user_id = w.user_id AND m.video_id = w.video_id AND m.start_ts = w.start_ts);
    END IF;
    CREATE TEMP TABLE watch_m_delta ON COMMIT DROP AS
    SELECT g.*, -1 AS sign FROM (SELECT * FROM watch_m_old
                                 EXCEPT ALL
                                 SELECT * FROM watch_m_segments WHERE end_ts < cutoff) g
    UNION ALL
    SELECT a.*, 1 AS sign FROM (SELECT * FROM watch_m_segments WHERE end_ts < cutoff
                                EXCEPT ALL
                                SELECT * FROM watch_m_old) a;
    SELECT count(*) FILTER (WHERE x.sign = 1), count(*) FILTER (WHERE x.sign = -1) INTO v_closed, v_amended
      FROM watch_m_delta x;

    -- Partitions for every day a delta touches (a late amendment may reach a day before today).
    FOR d IN SELECT DISTINCT (x.start_ts AT TIME ZONE 'UTC')::date FROM watch_m_delta x LOOP
        FOREACH t IN ARRAY ARRAY['watch_segments_closed', 'watch_viewers_daily', 'watch_viewers_hourly',
                                 'watch_rollup_daily', 'watch_rollup_hourly']::regclass[] LOOP
            v_created := v_created + watch_ensure_day_partition(t, d);
        END LOOP;
    END LOOP;

    DELETE FROM watch_segments_closed s USING watch_m_delta x
     WHERE x.sign = -1 AND s.user_id = x.user_id AND s.video_id = x.video_id AND s.start_ts = x.start_ts
       AND s.start_ts >= min_from;
    INSERT INTO watch_segments_closed
    SELECT x.user_id, x.video_id, x.start_ts, x.end_ts, x.start_position_sec, x.end_position_sec, x.heartbeat_count,
           x.watched_sec, x.last_position_sec
      FROM watch_m_delta x WHERE x.sign = 1;

    -- Viewers per (video, day, user) and (video, hour, user): segment counts before and after the delta.
    CREATE TEMP TABLE watch_m_vd ON COMMIT DROP AS
    SELECT x.video_id, (x.start_ts AT TIME ZONE 'UTC')::date AS day_utc, x.user_id, sum(x.sign)::integer AS d,
           coalesce(max(v.segments), 0) AS before
      FROM watch_m_delta x
      LEFT JOIN watch_viewers_daily v
        ON v.video_id = x.video_id AND v.user_id = x.user_id AND v.day_utc = (x.start_ts AT TIME ZONE 'UTC')::date
     GROUP BY 1, 2, 3;
    CREATE TEMP TABLE watch_m_vh ON COMMIT DROP AS
    SELECT x.video_id, date_trunc('hour', x.start_ts AT TIME ZONE 'UTC') AS hour_utc, x.user_id,
           sum(x.sign)::integer AS d, coalesce(max(v.segments), 0) AS before
      FROM watch_m_delta x
      LEFT JOIN watch_viewers_hourly v
        ON v.video_id = x.video_id AND v.user_id = x.user_id
       AND v.hour_utc = date_trunc('hour', x.start_ts AT TIME ZONE 'UTC')
     GROUP BY 1, 2, 3;

    INSERT INTO watch_viewers_daily AS v (video_id, day_utc, user_id, segments)
    SELECT q.video_id, q.day_utc, q.user_id, q.d FROM watch_m_vd q WHERE q.d <> 0
    ON CONFLICT (video_id, day_utc, user_id) DO UPDATE SET segments = v.segments + excluded.segments;
    DELETE FROM watch_viewers_daily v USING watch_m_vd q
     WHERE q.d <> 0 AND q.before + q.d = 0
       AND v.video_id = q.video_id AND v.day_utc = q.day_utc AND v.user_id = q.user_id;
    INSERT INTO watch_viewers_hourly AS v (video_id, hour_utc, user_id, segments)
    SELECT q.video_id, q.hour_utc, q.user_id, q.d FROM watch_m_vh q WHERE q.d <> 0
    ON CONFLICT (video_id, hour_utc, user_id) DO UPDATE SET segments = v.segments + excluded.segments;
    DELETE FROM watch_viewers_hourly v USING watch_m_vh q
     WHERE q.d <> 0 AND q.before + q.d = 0
       AND v.video_id = q.video_id AND v.hour_utc = q.hour_utc AND v.user_id = q.user_id;

    -- Rollups: segments and watched time by the delta's signs; viewers by rows appearing (0 -> n) or vanishing.
    INSERT INTO watch_rollup_daily AS r (video_id, day_utc, watched_ms, viewers, segments)
    SELECT s.video_id, s.day_utc, sum(s.watched_ms), sum(s.viewers), sum(s.segments)
      FROM (SELECT x.video_id, (x.start_ts AT TIME ZONE 'UTC')::date AS day_utc,
                   x.sign * round(greatest(x.watched_sec, 0) * 1000)::bigint AS watched_ms, 0 AS viewers,
                   x.sign AS segments
              FROM watch_m_delta x
            UNION ALL
            SELECT q.video_id, q.day_utc, 0, CASE WHEN q.before = 0 THEN 1 ELSE -1 END, 0
              FROM watch_m_vd q WHERE q.d <> 0 AND (q.before = 0 OR q.before + q.d = 0)) s
     GROUP BY s.video_id, s.day_utc
    ON CONFLICT (video_id, day_utc) DO UPDATE
       SET watched_ms = r.watched_ms + excluded.watched_ms, viewers = r.viewers + excluded.viewers,
           segments = r.segments + excluded.segments;
    DELETE FROM watch_rollup_daily r
     WHERE r.segments = 0 AND (r.video_id, r.day_utc) IN (SELECT q.video_id, q.day_utc FROM watch_m_vd q);
    INSERT INTO watch_rollup_hourly AS r (video_id, hour_utc, viewers, segments)
    SELECT s.video_id, s.hour_utc, sum(s.viewers), sum(s.segments)
      FROM (SELECT x.video_id, date_trunc('hour', x.start_ts AT TIME ZONE 'UTC') AS hour_utc, 0 AS viewers,
                   x.sign AS segments
              FROM watch_m_delta x
            UNION ALL
            SELECT q.video_id, q.hour_utc, CASE WHEN q.before = 0 THEN 1 ELSE -1 END, 0
              FROM watch_m_vh q WHERE q.d <> 0 AND (q.before = 0 OR q.before + q.d = 0)) s
     GROUP BY s.video_id, s.hour_utc
    ON CONFLICT (video_id, hour_utc) DO UPDATE
       SET viewers = r.viewers + excluded.viewers, segments = r.segments + excluded.segments;
    DELETE FROM watch_rollup_hourly r
     WHERE r.segments = 0 AND (r.video_id, r.hour_utc) IN (SELECT q.video_id, q.hour_utc FROM watch_m_vh q);

    -- The keys' open segments after this run.
    DELETE FROM watch_open_keys o USING watch_m_keys k WHERE o.user_id = k.user_id AND o.video_id = k.video_id;
    INSERT INTO watch_open_keys (user_id, video_id, from_ts)
    SELECT m.user_id, m.video_id, min(m.start_ts) FROM watch_m_segments m WHERE m.end_ts >= cutoff
     GROUP BY m.user_id, m.video_id;

    INSERT INTO watch_maintenance_state AS s (id, closed_until, last_run_at) VALUES (true, cutoff, next_from)
    ON CONFLICT (id) DO UPDATE SET closed_until = excluded.closed_until, last_run_at = excluded.last_run_at;

    -- 6. retention. A piece partition goes only once its whole day is older than the retention AND closed.
    -- (an open segment older than that keeps its pieces: it is re-stitched from its start on every run).
    v_dropped := v_dropped + watch_drop_day_partitions('watch_pieces',
        least(today - piece_retention_days, (cutoff AT TIME ZONE 'UTC')::date,
              (SELECT (min(o.from_ts) AT TIME ZONE 'UTC')::date FROM watch_open_keys o)));
    DELETE FROM watch_pieces_default p
     WHERE p.start_ts < least(now() - piece_retention_days * interval '1 day', cutoff - interval '1 day');
    FOREACH t IN ARRAY ARRAY['watch_segments_closed', 'watch_viewers_daily', 'watch_viewers_hourly',
                             'watch_rollup_daily', 'watch_rollup_hourly']::regclass[] LOOP
        v_dropped := v_dropped + watch_drop_day_partitions(t, today - segment_retention_days);
    END LOOP;

    RETURN QUERY SELECT v_closed, v_amended, v_read, v_late, v_created, v_dropped, cutoff;
END;
$$;
-- Only the schema owner (the superuser the Job and the CronJob log in as) runs it; the sink role cannot.
REVOKE ALL ON FUNCTION watchpipe_maintain(bigint, integer, integer, integer) FROM PUBLIC;

-- This file's first version (commit 2c65433) had these two take timestamps; nothing uses those overloads any more.
DROP FUNCTION IF EXISTS watch_piece_head(timestamptz, timestamptz, integer, double precision);
DROP FUNCTION IF EXISTS watch_piece_continues(bigint[], timestamptz, double precision, integer, integer, integer);

INSERT INTO schema_migrations (version, name) VALUES (7, 'stitch_overlapping_pieces') ON CONFLICT (version) DO NOTHING;
