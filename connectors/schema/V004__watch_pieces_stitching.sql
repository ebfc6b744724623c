-- V004 (sessionization v2, issue 10): the table the JDBC sink upserts pieces of playback into, the view that stitches
-- them into watch segments, and the report views re-pointed at segments from both generations.
-- Idempotent: the migration Job re-applies every file on every deploy (V002 re-creates its views over the v1 table
-- first; this file then replaces them again, in the same Job run).
--
-- ksqlDB (ksql/migrations/V000002) cuts each user's and video's heartbeats per 30 s window into pieces: runs of
-- consecutive heartbeats that satisfy the pairwise rule (Δt <= gap, -tolerance <= Δplayhead <= maxRate·Δt + tolerance).
-- A segment is a maximal run of pieces where the same rule holds between a piece's first heartbeat and the previous
-- piece's last one, so stitching here gives exactly what cutting the whole heartbeat sequence at once would.
-- ksql/model/pipeline.ts stitchRows is the reference; test/real/stitching.test.ts checks this view against it.

-- One row per piece, named like the watch_segments topic's `watchpipe.WatchPiece` records. The sink writes every
-- column except updated_at (primary.key.mode=record_value on user_id, video_id, start_ts, piece_no).
-- Key: YSQL hash-shards user_id and range-orders (video_id, start_ts, piece_no), so one user's pieces of one video are
-- a single-tablet ordered range: exactly the order the stitching walks.
CREATE TABLE IF NOT EXISTS watch_pieces (
    user_id            text             NOT NULL,
    video_id           text             NOT NULL,
    start_ts           timestamptz      NOT NULL,
    piece_no           integer          NOT NULL,
    end_ts             timestamptz      NOT NULL,
    first_position_sec double precision NOT NULL,
    last_position_sec  double precision NOT NULL,
    min_position_sec   double precision NOT NULL,
    max_position_sec   double precision NOT NULL,
    heartbeat_count    integer          NOT NULL,
    -- The rule ksqlDB cut the piece with (stack config): the stitching applies the same one.
    session_gap_ms     integer          NOT NULL,
    seek_tolerance_ms  integer          NOT NULL,
    max_rate_permille  integer          NOT NULL,
    updated_at         timestamptz      NOT NULL DEFAULT now(),
    CONSTRAINT watch_pieces_pkey PRIMARY KEY (user_id, video_id, start_ts, piece_no),
    CONSTRAINT watch_pieces_user_id_chk  CHECK (length(user_id)  BETWEEN 1 AND 256),
    CONSTRAINT watch_pieces_video_id_chk CHECK (length(video_id) BETWEEN 1 AND 256),
    CONSTRAINT watch_pieces_piece_no_chk CHECK (piece_no >= 1),
    CONSTRAINT watch_pieces_time_order_chk CHECK (end_ts >= start_ts),
    -- `< 'Infinity'` also rejects NaN and +/-Infinity; min <= first, last <= max by construction.
    CONSTRAINT watch_pieces_range_chk CHECK (
        min_position_sec >= 0 AND max_position_sec < 'Infinity'::double precision
        AND min_position_sec <= first_position_sec AND first_position_sec <= max_position_sec
        AND min_position_sec <= last_position_sec AND last_position_sec <= max_position_sec),
    CONSTRAINT watch_pieces_heartbeat_count_chk CHECK (heartbeat_count >= 1),
    CONSTRAINT watch_pieces_rule_chk CHECK (session_gap_ms >= 1 AND seek_tolerance_ms >= 0 AND max_rate_permille >= 1)
);

-- A piece is written once (EMIT FINAL windows are final); a replay (consumer rewind, retried batch) sends the same
-- content again. Skip an identical update (in YSQL every update is a distributed write) and stamp updated_at on a
-- real change. Returning NULL from a BEFORE UPDATE row trigger skips that row without an error.
CREATE OR REPLACE FUNCTION watch_pieces_upsert_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND
       (NEW.end_ts, NEW.first_position_sec, NEW.last_position_sec, NEW.min_position_sec, NEW.max_position_sec,
        NEW.heartbeat_count, NEW.session_gap_ms, NEW.seek_tolerance_ms, NEW.max_rate_permille)
       IS NOT DISTINCT FROM
       (OLD.end_ts, OLD.first_position_sec, OLD.last_position_sec, OLD.min_position_sec, OLD.max_position_sec,
        OLD.heartbeat_count, OLD.session_gap_ms, OLD.seek_tolerance_ms, OLD.max_rate_permille) THEN
        RETURN NULL;
    END IF;
    NEW.updated_at := now();
    RETURN NEW;
END;
$$;

DROP TRIGGER IF EXISTS watch_pieces_upsert_guard ON watch_pieces;
CREATE TRIGGER watch_pieces_upsert_guard
    BEFORE INSERT OR UPDATE ON watch_pieces
    FOR EACH ROW EXECUTE FUNCTION watch_pieces_upsert_guard();

-- Watch segments v2: pieces per (user_id, video_id) in (start_ts, piece_no) order; a piece starts a new segment
-- unless the pairwise rule (its own piece's parameters) holds between the previous piece's last heartbeat and its
-- first. Integer milliseconds throughout, as ksqlDB computed them (positions are ms / 1000 exactly). A WHERE on
-- user_id (and video_id) is pushed below the window functions (they partition by those columns), so one user's
-- segments read one tablet's range.
--   start_position_sec / end_position_sec: the range the playhead moved through (lowest, highest);
--   watched_sec: that range's length; last_position_sec: where the playhead was at the last heartbeat (resume).
CREATE OR REPLACE VIEW watch_segments_v2 AS
WITH ordered AS (
    SELECT p.*,
           (extract(epoch FROM p.start_ts) * 1000)::bigint AS start_ms,
           round(p.first_position_sec * 1000)::bigint      AS first_pos_ms,
           lag((extract(epoch FROM p.end_ts) * 1000)::bigint) OVER w AS prev_end_ms,
           lag(round(p.last_position_sec * 1000)::bigint)     OVER w AS prev_last_pos_ms
      FROM watch_pieces p
    WINDOW w AS (PARTITION BY p.user_id, p.video_id ORDER BY p.start_ts, p.piece_no)
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
 GROUP BY user_id, video_id, segment_no;

-- Every segment the reports count: v1 rows (the watch_segments table, written by the v1 pipeline if it ever ran)
-- and v2 segments stitched from pieces. The two never overlap: v1 never produced rows after v2 replaced it.
CREATE OR REPLACE VIEW watch_segments_all AS
SELECT user_id, video_id, start_ts, end_ts, start_position_sec, end_position_sec, heartbeat_count, watched_sec,
       end_position_sec AS last_position_sec
  FROM watch_segments
UNION ALL
SELECT user_id, video_id, start_ts, end_ts, start_position_sec, end_position_sec, heartbeat_count, watched_sec,
       last_position_sec
  FROM watch_segments_v2;

-- The V002 report views, same columns, over both generations. Resume at the playhead's last position.
CREATE OR REPLACE VIEW watch_resume_positions AS
SELECT DISTINCT ON (user_id, video_id)
       user_id,
       video_id,
       last_position_sec AS resume_position_sec,
       end_ts            AS last_watched_at,
       start_ts          AS segment_start_ts
  FROM watch_segments_all
 ORDER BY user_id, video_id, start_ts DESC;

CREATE OR REPLACE VIEW video_daily_watch AS
SELECT video_id,
       (start_ts AT TIME ZONE 'UTC')::date AS day_utc,
       sum(greatest(watched_sec, 0))       AS watched_sec,
       count(DISTINCT user_id)             AS viewers,
       count(*)                            AS segments
  FROM watch_segments_all
 GROUP BY video_id, (start_ts AT TIME ZONE 'UTC')::date;

CREATE OR REPLACE VIEW video_hourly_reach AS
SELECT video_id,
       date_trunc('hour', start_ts AT TIME ZONE 'UTC') AS hour_utc,
       count(*)                                        AS segments,
       count(DISTINCT user_id)                         AS viewers
  FROM watch_segments_all
 GROUP BY video_id, date_trunc('hour', start_ts AT TIME ZONE 'UTC');

-- The sink role (V003) writes pieces now: the same least privilege on the new table.
GRANT SELECT, INSERT, UPDATE ON TABLE watch_pieces TO watchpipe_sink;
REVOKE DELETE, TRUNCATE, REFERENCES, TRIGGER ON TABLE watch_pieces FROM watchpipe_sink;

INSERT INTO schema_migrations (version, name) VALUES (4, 'watch_pieces_stitching') ON CONFLICT (version) DO NOTHING;
