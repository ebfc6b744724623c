-- V006 (issue 23): history partitioned by UTC day, closed segments materialized by one maintenance function, and
-- the report views re-pointed at the materialized tables plus the still-open tail. Idempotent like every file: the
-- migration Job re-applies V001..V006 on every deploy.
--
-- Why: the V004 views stitch every piece of history on every query, so a report grows with the whole table (issue
-- 23: 20 M pieces, the all-videos daily report 284 s). Here a segment is stitched once, when it closes, by
-- watchpipe_maintain() (run by a CronJob as the schema owner), into watch_segments_closed; per-day and per-hour
-- rollups per video are amended in the same transaction, so all-videos statements cost O(videos).
--
-- Time is UTC everywhere (V002). Every day-partitioned table has partitions named <table>_pYYYYMMDD covering
-- [day 00:00 UTC, next day 00:00 UTC); the function below creates them, the maintenance job creates them ahead and
-- drops them after retention.
--
-- YugabyteDB assumptions (YSQL of the 2026.1 chart the program deploys = a PostgreSQL 15 fork):
--   * declarative partitioning (RANGE, DEFAULT partitions, ATTACH) works as in PostgreSQL; each partition is its
--     own table with its own tablets, so dropping a day is a metadata operation, not a delete;
--   * the first primary-key column is hash-sharded unless declared ASC/DESC. Every primary key below starts with
--     user_id or video_id (hash-spread writes); the day/hour columns come after it or are the partition key, so no
--     table funnels the current day's writes into one tablet. The one exception is watch_pieces_changed_idx
--     (updated_at), the job's change feed: range on a rising timestamp. In YSQL it would be declared
--     (yb_hash_code(user_id) % 16 ASC, updated_at ASC) or hash-bucketed the same way; PostgreSQL takes it as is.
--   Sources: docs.yugabyte.com, "Table partitioning" (explore/ysql-language-features/advanced-features/partitions:
--   RANGE, LIST and HASH declarative partitioning in YSQL) and "Partition data by time" (develop/data-modeling/
--   common-patterns/timeseries/partitioning-by-time: time-range partitions with a DEFAULT one, each partition its own
--   table, old ones dropped rather than deleted; the example key is hash on the entity, range on the time); the
--   hash-sharded first key column is the project guide's note for the 2026.1 chart. Not run on a YugabyteDB server here.

-- ---------------------------------------------------------------------------------------------------------------
-- Partition management.

-- Creates <parent>_pYYYYMMDD for one UTC day if it is missing; returns 1 when it created it. The bound literal carries
-- an explicit +00 so it means the same day whatever the session TimeZone is (a date or timestamp key ignores it).
-- Rows of that day already sitting in the parent's DEFAULT partition (pieces that arrived before the job created
-- their day) are moved into the new partition: PostgreSQL refuses to create a partition whose rows are in DEFAULT.
CREATE OR REPLACE FUNCTION watch_ensure_day_partition(parent regclass, day date) RETURNS integer
LANGUAGE plpgsql SET search_path = pg_catalog, public AS $$
DECLARE
    part_name text := format('%s_p%s', (SELECT relname FROM pg_class WHERE oid = parent), to_char(day, 'YYYYMMDD'));
    lo        text := to_char(day, 'YYYY-MM-DD') || ' 00:00:00+00';
    hi        text := to_char(day + 1, 'YYYY-MM-DD') || ' 00:00:00+00';
    def       regclass;
    key_col   text;
    moved     bigint := 0;
BEGIN
    IF to_regclass(format('public.%I', part_name)) IS NOT NULL THEN
        RETURN 0;
    END IF;
    SELECT i.inhrelid::regclass INTO def
      FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
     WHERE i.inhparent = parent AND pg_get_expr(c.relpartbound, c.oid) = 'DEFAULT';
    IF def IS NOT NULL THEN
        SELECT a.attname INTO key_col
          FROM pg_partitioned_table pt JOIN pg_attribute a ON a.attrelid = pt.partrelid AND a.attnum = pt.partattrs[0]
         WHERE pt.partrelid = parent;
        IF to_regclass('pg_temp.watch_move_' || parent::oid) IS NULL THEN
            EXECUTE format('CREATE TEMP TABLE %I (LIKE %s) ON COMMIT DROP', 'watch_move_' || parent::oid, parent);
        ELSE
            EXECUTE format('TRUNCATE %I', 'watch_move_' || parent::oid);
        END IF;
        EXECUTE format('WITH m AS (DELETE FROM %s WHERE %I >= %L AND %I < %L RETURNING *) '
                       'INSERT INTO %I SELECT * FROM m', def, key_col, lo, key_col, hi, 'watch_move_' || parent::oid);
        GET DIAGNOSTICS moved = ROW_COUNT;
    END IF;
    EXECUTE format('CREATE TABLE IF NOT EXISTS public.%I PARTITION OF %s FOR VALUES FROM (%L) TO (%L)',
                   part_name, parent, lo, hi);
    IF moved > 0 THEN
        -- Through the parent, so the row triggers run: moved pieces get a fresh updated_at and the next
        -- maintenance run re-stitches their keys (a no-op when they were already materialized from DEFAULT).
        EXECUTE format('INSERT INTO %s SELECT * FROM %I', parent, 'watch_move_' || parent::oid);
    END IF;
    RETURN 1;
END;
$$;

-- Drops <parent>_pYYYYMMDD partitions of days before `before_day`; returns how many. Reads the day from the name
-- (only this file's naming), never a guess from the bounds.
CREATE OR REPLACE FUNCTION watch_drop_day_partitions(parent regclass, before_day date) RETURNS integer
LANGUAGE plpgsql SET search_path = pg_catalog, public AS $$
DECLARE
    r record;
    n integer := 0;
    prefix text := (SELECT relname FROM pg_class WHERE oid = parent) || '_p';
BEGIN
    FOR r IN
        SELECT c.relname
          FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
         WHERE i.inhparent = parent
           AND c.relname = prefix || substr(c.relname, length(prefix) + 1)
           AND substr(c.relname, length(prefix) + 1) ~ '^\d{8}$'
           AND to_date(substr(c.relname, length(prefix) + 1), 'YYYYMMDD') < before_day
         ORDER BY c.relname
    LOOP
        EXECUTE format('DROP TABLE public.%I', r.relname);
        n := n + 1;
    END LOOP;
    RETURN n;
END;
$$;

-- ---------------------------------------------------------------------------------------------------------------
-- watch_pieces partitioned by RANGE (start_ts). V004 creates it unpartitioned on a new database; the block below
-- converts it once, in one transaction (ON_ERROR_STOP: any error rolls the whole conversion back):
--   * the report views and V005's watch_pieces_violation(watch_pieces) depend on the old table (the function on its
--     row type), so they are dropped first and re-created by re-applying V004 and V005 on the new table below;
--   * every row is copied into a day partition (days within -400/+7 days of now; any outlier into DEFAULT) BEFORE
--     the triggers exist, so a copied piece keeps its updated_at and is not re-checked;
--   * cost: the table is rewritten once (time and transient space ~ its size plus its primary key; measured by
--     test/real/maintenance.test.ts), and the sink is blocked (ACCESS EXCLUSIVE) for that time; its retries carry it.
-- On an already partitioned table (every later deploy) the block is skipped: V004/V005, re-applied before this file,
-- only re-create triggers (inherited by every partition) and views (replaced again below) and re-grant.
SELECT c.relkind = 'r' AS watch_pieces_needs_partitioning
  FROM pg_class c WHERE c.oid = 'public.watch_pieces'::regclass \gset
\if :watch_pieces_needs_partitioning
BEGIN;
LOCK TABLE watch_pieces IN ACCESS EXCLUSIVE MODE;
DROP VIEW IF EXISTS watch_segments_v2 CASCADE;
DROP FUNCTION IF EXISTS watch_pieces_violation(watch_pieces);
ALTER TABLE watch_pieces RENAME TO watch_pieces_unpartitioned;
ALTER INDEX watch_pieces_pkey RENAME TO watch_pieces_unpartitioned_pkey;
CREATE TABLE IF NOT EXISTS watch_pieces (
    LIKE watch_pieces_unpartitioned INCLUDING DEFAULTS INCLUDING CONSTRAINTS,
    CONSTRAINT watch_pieces_pkey PRIMARY KEY (user_id, video_id, start_ts, piece_no)
) PARTITION BY RANGE (start_ts);
-- DEFAULT: a piece whose day has no partition (the job down for longer than partitions_ahead_days, a replay of a
-- dropped day) still lands; a refused insert would fail the sink task (V005's header). The job moves such rows out.
CREATE TABLE IF NOT EXISTS watch_pieces_default PARTITION OF watch_pieces DEFAULT;
SELECT count(watch_ensure_day_partition('watch_pieces', d.day)) AS watch_pieces_days_created
  FROM (SELECT DISTINCT (start_ts AT TIME ZONE 'UTC')::date AS day FROM watch_pieces_unpartitioned
         WHERE start_ts >= now() - interval '400 days' AND start_ts < now() + interval '7 days') d \gset
INSERT INTO watch_pieces SELECT * FROM watch_pieces_unpartitioned;
DROP TABLE watch_pieces_unpartitioned;
\ir V004__watch_pieces_stitching.sql
\ir V005__watch_pieces_rejects.sql
COMMIT;
\endif

-- The maintenance job's change feed: every write of a piece stamps updated_at (V004's upsert guard), so the pieces
-- written since the last run, new or late, are one range of this index. Created on the parent, so every partition
-- (present and future) gets its own.
CREATE INDEX IF NOT EXISTS watch_pieces_changed_idx ON watch_pieces (updated_at);

-- ---------------------------------------------------------------------------------------------------------------
-- Closed segments: the columns of watch_segments_v2, one row per segment whose last piece ended before the job's
-- closed_until. Key (user_id, video_id, start_ts) serves per-user history and resume (YSQL: user_id hashed).
CREATE TABLE IF NOT EXISTS watch_segments_closed (
    user_id            text             NOT NULL,
    video_id           text             NOT NULL,
    start_ts           timestamptz      NOT NULL,
    end_ts             timestamptz      NOT NULL,
    start_position_sec double precision NOT NULL,
    end_position_sec   double precision NOT NULL,
    heartbeat_count    integer          NOT NULL,
    watched_sec        double precision NOT NULL,
    last_position_sec  double precision NOT NULL,
    CONSTRAINT watch_segments_closed_pkey PRIMARY KEY (user_id, video_id, start_ts)
) PARTITION BY RANGE (start_ts);
-- One video's day or hours of segments (who watched, how long): video_id first (hashed in YSQL), then time.
CREATE INDEX IF NOT EXISTS watch_segments_closed_video_idx
    ON watch_segments_closed (video_id, start_ts) INCLUDE (user_id, watched_sec);

-- Distinct viewers, incrementally: how many closed segments each user has per video and UTC day (hour). A row
-- appearing (0 -> n) adds a viewer to the rollup, a row reaching 0 removes one, so amendments stay exact.
CREATE TABLE IF NOT EXISTS watch_viewers_daily (
    video_id  text    NOT NULL,
    day_utc   date    NOT NULL,
    user_id   text    NOT NULL,
    segments  integer NOT NULL,
    CONSTRAINT watch_viewers_daily_pkey PRIMARY KEY (video_id, day_utc, user_id)
) PARTITION BY RANGE (day_utc);
CREATE TABLE IF NOT EXISTS watch_viewers_hourly (
    video_id  text      NOT NULL,
    hour_utc  timestamp NOT NULL,
    user_id   text      NOT NULL,
    segments  integer   NOT NULL,
    CONSTRAINT watch_viewers_hourly_pkey PRIMARY KEY (video_id, hour_utc, user_id)
) PARTITION BY RANGE (hour_utc);

-- The rollups the all-videos statements read: one row per video per UTC day (hour) with closed segments.
-- watched_ms is integer milliseconds (the stitching's own unit), so adding and subtracting amendments is exact.
CREATE TABLE IF NOT EXISTS watch_rollup_daily (
    video_id    text    NOT NULL,
    day_utc     date    NOT NULL,
    watched_ms  bigint  NOT NULL,
    viewers     bigint  NOT NULL,
    segments    bigint  NOT NULL,
    CONSTRAINT watch_rollup_daily_pkey PRIMARY KEY (video_id, day_utc)
) PARTITION BY RANGE (day_utc);
CREATE TABLE IF NOT EXISTS watch_rollup_hourly (
    video_id    text      NOT NULL,
    hour_utc    timestamp NOT NULL,
    viewers     bigint    NOT NULL,
    segments    bigint    NOT NULL,
    CONSTRAINT watch_rollup_hourly_pkey PRIMARY KEY (video_id, hour_utc)
) PARTITION BY RANGE (hour_utc);

-- The job's watermark: segments ending before closed_until are in watch_segments_closed; pieces stamped at or after
-- last_run_at (the last run's start, or an older transaction still open then) are the next run's input.
CREATE TABLE IF NOT EXISTS watch_maintenance_state (
    id           boolean     NOT NULL DEFAULT true,
    closed_until timestamptz NOT NULL,
    last_run_at  timestamptz NOT NULL,
    CONSTRAINT watch_maintenance_state_pkey PRIMARY KEY (id),
    CONSTRAINT watch_maintenance_state_one_row_chk CHECK (id)
);

-- Keys with a segment still open at the last run, and where that segment starts: the open tail re-stitches from
-- here, and the next run re-stitches these keys whether or not a new piece arrived.
CREATE TABLE IF NOT EXISTS watch_open_keys (
    user_id  text        NOT NULL,
    video_id text        NOT NULL,
    from_ts  timestamptz NOT NULL,
    CONSTRAINT watch_open_keys_pkey PRIMARY KEY (user_id, video_id)
);

-- ---------------------------------------------------------------------------------------------------------------
-- The open tail: segments not closed yet (end_ts >= closed_until), stitched like watch_segments_v2 from the pieces
-- that can belong to them: every piece starting at or after closed_until, and the pieces of each open key from its
-- open segment's start. A WHERE on user_id is pushed below the window functions. Before the first maintenance run
-- there is no state row: closed_until is -infinity, and the tail is every piece (what V004's view showed).
-- A piece that arrives after its segment closed (late) shows up after the next run has amended the closed table.
CREATE OR REPLACE VIEW watch_segments_open AS
WITH state AS (
    SELECT coalesce((SELECT s.closed_until FROM watch_maintenance_state s), '-infinity'::timestamptz) AS closed_until
), input AS (
    SELECT p.* FROM watch_pieces p WHERE p.start_ts >= (SELECT closed_until FROM state)
    UNION ALL
    SELECT p.* FROM watch_open_keys k
      JOIN watch_pieces p ON p.user_id = k.user_id AND p.video_id = k.video_id
                         AND p.start_ts >= k.from_ts AND p.start_ts < (SELECT closed_until FROM state)
), ordered AS (
    SELECT i.*,
           (extract(epoch FROM i.start_ts) * 1000)::bigint AS start_ms,
           round(i.first_position_sec * 1000)::bigint      AS first_pos_ms,
           lag((extract(epoch FROM i.end_ts) * 1000)::bigint) OVER w AS prev_end_ms,
           lag(round(i.last_position_sec * 1000)::bigint)     OVER w AS prev_last_pos_ms
      FROM input i
    WINDOW w AS (PARTITION BY i.user_id, i.video_id ORDER BY i.start_ts, i.piece_no)
), marked AS (
    SELECT o.*,
           CASE WHEN o.prev_end_ms IS NOT NULL
                 AND o.start_ms - o.prev_end_ms <= o.session_gap_ms
                 AND o.first_pos_ms - o.prev_last_pos_ms + o.seek_tolerance_ms >= 0
                 AND 1000 * (o.first_pos_ms - o.prev_last_pos_ms)
                     <= o.max_rate_permille::bigint * (o.start_ms - o.prev_end_ms) + 1000 * o.seek_tolerance_ms
                THEN 0 ELSE 1 END AS starts_segment
      FROM ordered o
), numbered AS (
    SELECT m.*,
           sum(m.starts_segment) OVER (PARTITION BY m.user_id, m.video_id ORDER BY m.start_ts, m.piece_no
                                       ROWS UNBOUNDED PRECEDING) AS segment_no
      FROM marked m
), segments AS (
    SELECT user_id,
           video_id,
           min(start_ts)                         AS start_ts,
           max(end_ts)                           AS end_ts,
           min(min_position_sec)                 AS start_position_sec,
           max(max_position_sec)                 AS end_position_sec,
           sum(heartbeat_count)::integer         AS heartbeat_count,
           ((max(round(max_position_sec * 1000)::bigint) - min(round(min_position_sec * 1000)::bigint)) / 1000.0)::double precision
                                                 AS watched_sec,
           (array_agg(last_position_sec ORDER BY start_ts DESC, piece_no DESC))[1] AS last_position_sec
      FROM numbered
     GROUP BY user_id, video_id, segment_no
)
SELECT s.* FROM segments s WHERE s.end_ts >= (SELECT closed_until FROM state);

-- Every segment: closed ones from the table, open ones stitched live. Same columns as watch_segments_v2.
CREATE OR REPLACE VIEW watch_segments_current AS
SELECT user_id, video_id, start_ts, end_ts, start_position_sec, end_position_sec, heartbeat_count, watched_sec,
       last_position_sec
  FROM watch_segments_closed
UNION ALL
SELECT user_id, video_id, start_ts, end_ts, start_position_sec, end_position_sec, heartbeat_count, watched_sec,
       last_position_sec
  FROM watch_segments_open;

-- The V002/V004 report views, same columns, now over the materialized tables plus the open tail. (V004's
-- watch_segments_all keeps stitching all history; nothing reads it any more but ad-hoc queries.)
CREATE OR REPLACE VIEW watch_resume_positions AS
SELECT DISTINCT ON (user_id, video_id)
       user_id,
       video_id,
       last_position_sec AS resume_position_sec,
       end_ts            AS last_watched_at,
       start_ts          AS segment_start_ts
  FROM watch_segments_current
 ORDER BY user_id, video_id, start_ts DESC;

-- Closed days from the rollup; open segments added with their viewers counted only when the user has no closed
-- segment of that video that day (watch_viewers_daily), so nobody is counted twice.
CREATE OR REPLACE VIEW video_daily_watch AS
SELECT video_id, day_utc, sum(watched_sec) AS watched_sec, sum(viewers)::bigint AS viewers, sum(segments)::bigint AS segments
  FROM (
    SELECT r.video_id, r.day_utc, r.watched_ms / 1000.0::double precision AS watched_sec, r.viewers, r.segments
      FROM watch_rollup_daily r
    UNION ALL
    SELECT o.video_id, o.day_utc, sum(greatest(o.watched_sec, 0)),
           count(DISTINCT o.user_id) FILTER (WHERE NOT o.seen), count(*)
      FROM (SELECT s.video_id, (s.start_ts AT TIME ZONE 'UTC')::date AS day_utc, s.user_id, s.watched_sec,
                   EXISTS (SELECT 1 FROM watch_viewers_daily v
                            WHERE v.video_id = s.video_id AND v.user_id = s.user_id
                              AND v.day_utc = (s.start_ts AT TIME ZONE 'UTC')::date) AS seen
              FROM watch_segments_open s) o
     GROUP BY o.video_id, o.day_utc
  ) u
 GROUP BY video_id, day_utc;

CREATE OR REPLACE VIEW video_hourly_reach AS
SELECT video_id, hour_utc, sum(segments)::bigint AS segments, sum(viewers)::bigint AS viewers
  FROM (
    SELECT r.video_id, r.hour_utc, r.segments, r.viewers FROM watch_rollup_hourly r
    UNION ALL
    SELECT o.video_id, o.hour_utc, count(*), count(DISTINCT o.user_id) FILTER (WHERE NOT o.seen)
      FROM (SELECT s.video_id, date_trunc('hour', s.start_ts AT TIME ZONE 'UTC') AS hour_utc, s.user_id,
                   EXISTS (SELECT 1 FROM watch_viewers_hourly v
                            WHERE v.video_id = s.video_id AND v.user_id = s.user_id
                              AND v.hour_utc = date_trunc('hour', s.start_ts AT TIME ZONE 'UTC')) AS seen
              FROM watch_segments_open s) o
     GROUP BY o.video_id, o.hour_utc
  ) u
 GROUP BY video_id, hour_utc;

-- The report CLI's statements (connectors/reports.ts): like the views, but the open tail is read only when the
-- asked range reaches a day that is not closed yet, so a report on past days reads the rollups alone.
CREATE OR REPLACE FUNCTION watch_daily_report(from_day date, to_day date, video_ids text[])
RETURNS TABLE (day_utc date, video_id text, watched_sec double precision, viewers bigint, segments bigint)
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, public AS $$
#variable_conflict use_column
DECLARE
    open_from date := (SELECT (s.closed_until AT TIME ZONE 'UTC')::date FROM watch_maintenance_state s);
BEGIN
    IF open_from IS NULL OR to_day >= open_from THEN
        RETURN QUERY
        SELECT w.day_utc, w.video_id, w.watched_sec, w.viewers, w.segments FROM video_daily_watch w
         WHERE w.day_utc BETWEEN from_day AND to_day AND (video_ids IS NULL OR w.video_id = ANY (video_ids));
    ELSIF video_ids IS NULL THEN
        RETURN QUERY
        SELECT r.day_utc, r.video_id, r.watched_ms / 1000.0::double precision, r.viewers, r.segments
          FROM watch_rollup_daily r WHERE r.day_utc BETWEEN from_day AND to_day;
    ELSE
        RETURN QUERY
        SELECT r.day_utc, r.video_id, r.watched_ms / 1000.0::double precision, r.viewers, r.segments
          FROM watch_rollup_daily r
         WHERE r.video_id = ANY (video_ids) AND r.day_utc BETWEEN from_day AND to_day;
    END IF;
END;
$$;

CREATE OR REPLACE FUNCTION watch_hourly_report(one_video text, from_day date, to_day date)
RETURNS TABLE (hour_utc timestamp, segments bigint, viewers bigint)
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, public AS $$
#variable_conflict use_column
DECLARE
    open_from date := (SELECT (s.closed_until AT TIME ZONE 'UTC')::date FROM watch_maintenance_state s);
BEGIN
    IF open_from IS NULL OR to_day >= open_from THEN
        RETURN QUERY
        SELECT h.hour_utc, h.segments, h.viewers FROM video_hourly_reach h
         WHERE h.video_id = one_video AND h.hour_utc >= from_day AND h.hour_utc < to_day + 1;
    ELSE
        RETURN QUERY
        SELECT r.hour_utc, r.segments, r.viewers FROM watch_rollup_hourly r
         WHERE r.video_id = one_video AND r.hour_utc >= from_day AND r.hour_utc < to_day + 1;
    END IF;
END;
$$;

-- ---------------------------------------------------------------------------------------------------------------
-- The maintenance entry point (connectors/maintenance.ts builds the call; a CronJob runs it as the schema owner).
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

    -- 4. the pieces of those keys from their start, stitched exactly like watch_segments_v2 (V004).
    CREATE TEMP TABLE watch_m_pieces ON COMMIT DROP AS
    SELECT p.* FROM watch_m_keys k
      JOIN watch_pieces p ON p.user_id = k.user_id AND p.video_id = k.video_id AND p.start_ts >= k.from_ts
     WHERE p.start_ts >= min_from;
    GET DIAGNOSTICS v_read = ROW_COUNT;

    CREATE TEMP TABLE watch_m_segments ON COMMIT DROP AS
    WITH ordered AS (
        SELECT i.*,
               (extract(epoch FROM i.start_ts) * 1000)::bigint AS start_ms,
               round(i.first_position_sec * 1000)::bigint      AS first_pos_ms,
               lag((extract(epoch FROM i.end_ts) * 1000)::bigint) OVER w AS prev_end_ms,
               lag(round(i.last_position_sec * 1000)::bigint)     OVER w AS prev_last_pos_ms
          FROM watch_m_pieces i
        WINDOW w AS (PARTITION BY i.user_id, i.video_id ORDER BY i.start_ts, i.piece_no)
    ), marked AS (
        SELECT o.*,
               CASE WHEN o.prev_end_ms IS NOT NULL
                     AND o.start_ms - o.prev_end_ms <= o.session_gap_ms
                     AND o.first_pos_ms - o.prev_last_pos_ms + o.seek_tolerance_ms >= 0
                     AND 1000 * (o.first_pos_ms - o.prev_last_pos_ms)
                         <= o.max_rate_permille::bigint * (o.start_ms - o.prev_end_ms) + 1000 * o.seek_tolerance_ms
                    THEN 0 ELSE 1 END AS starts_segment
          FROM ordered o
    ), numbered AS (
        SELECT m.*,
               sum(m.starts_segment) OVER (PARTITION BY m.user_id, m.video_id ORDER BY m.start_ts, m.piece_no
                                           ROWS UNBOUNDED PRECEDING) AS segment_no
          FROM marked m
    )
    SELECT n.user_id,
           n.video_id,
           min(n.start_ts)                       AS start_ts,
           max(n.end_ts)                         AS end_ts,
           min(n.min_position_sec)               AS start_position_sec,
           max(n.max_position_sec)               AS end_position_sec,
           sum(n.heartbeat_count)::integer       AS heartbeat_count,
           ((max(round(n.max_position_sec * 1000)::bigint) - min(round(n.min_position_sec * 1000)::bigint)) / 1000.0)::double precision
                                                 AS watched_sec,
           (array_agg(n.last_position_sec ORDER BY n.start_ts DESC, n.piece_no DESC))[1] AS last_position_sec
      FROM numbered n
     GROUP BY n.user_id, n.video_id, n.segment_no;

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
REVOKE ALL ON FUNCTION watch_ensure_day_partition(regclass, date) FROM PUBLIC;
REVOKE ALL ON FUNCTION watch_drop_day_partitions(regclass, date) FROM PUBLIC;

-- Least privilege (V003): the sink writes pieces only. Nothing on the new tables, stated so a hand-made grant is
-- undone on the next deploy.
REVOKE ALL ON TABLE watch_segments_closed, watch_viewers_daily, watch_viewers_hourly, watch_rollup_daily,
                    watch_rollup_hourly, watch_maintenance_state, watch_open_keys FROM watchpipe_sink;

INSERT INTO schema_migrations (version, name) VALUES (6, 'closed_segments_partitioned') ON CONFLICT (version) DO NOTHING;
