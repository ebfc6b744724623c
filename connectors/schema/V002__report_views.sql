-- V002: the report views and the secondary indexes they read. Idempotent (IF NOT EXISTS / CREATE OR REPLACE).
--
-- "Day" and "hour" are UTC everywhere: a segment counts in the UTC day/hour its start_ts falls in, whatever the
-- session or server TimeZone is. Royalty statements and ad-reach reports must not change with a client's locale,
-- and a segment is never split across a midnight (it is attributed whole to the day it started).
-- `timestamptz AT TIME ZONE 'UTC'` is immutable, so the same expressions can be indexed and the planner matches a
-- view's WHERE on day_utc / hour_utc to the index below.
--
-- YSQL notes: a secondary index is its own distributed table; every indexed row costs one more (remote) write,
-- so there are only two, each serving one report. YSQL hash-shards an index's first column unless it says ASC/DESC.

-- Daily watch time and viewers (royalties): one date range, all videos or a few. Day first and ASC so a date range is
-- one range scan (in YSQL, ASC makes the index range-sharded: a hash-sharded day could only be probed by equality).
-- Writes land on the current day's range; at the segment rate (hundreds/s, not heartbeats/s) one tablet copes and
-- YSQL splits it as it grows. INCLUDE makes the report an index-only scan (no table lookups); start_ts is included
-- because PostgreSQL only answers from an expression index when the expression's own column is in it too.
CREATE INDEX IF NOT EXISTS watch_segments_day_video_idx
    ON watch_segments (((start_ts AT TIME ZONE 'UTC')::date) ASC, video_id ASC)
    INCLUDE (user_id, watched_sec, start_ts);

-- Hourly reach per video (advertisers): always asked for one video and an hour range. video_id first (hash-sharded
-- in YSQL, spreading writes over tablets), then the UTC hour, so one video's hours are a single ordered range.
CREATE INDEX IF NOT EXISTS watch_segments_video_hour_idx
    ON watch_segments (video_id, (date_trunc('hour', start_ts AT TIME ZONE 'UTC')))
    INCLUDE (user_id, start_ts);

-- Where to resume: the end of the latest segment (largest start_ts) for each user and video. Served by the primary
-- key (user_id, video_id, start_ts): a WHERE on user_id (and video_id) is pushed into the DISTINCT ON, so it is a
-- single-tablet backward range scan in YSQL. No extra index.
CREATE OR REPLACE VIEW watch_resume_positions AS
SELECT DISTINCT ON (user_id, video_id)
       user_id,
       video_id,
       end_position_sec AS resume_position_sec,
       end_ts           AS last_watched_at,
       start_ts         AS segment_start_ts
  FROM watch_segments
 ORDER BY user_id, video_id, start_ts DESC;

-- Watch time and distinct viewers per video per UTC day: the basis for license holders' royalties.
CREATE OR REPLACE VIEW video_daily_watch AS
SELECT video_id,
       (start_ts AT TIME ZONE 'UTC')::date AS day_utc,
       -- A small step back inside a segment is 0 s watched, never negative watch time (V001).
       sum(greatest(watched_sec, 0))       AS watched_sec,
       count(DISTINCT user_id)             AS viewers,
       count(*)                            AS segments
  FROM watch_segments
 GROUP BY video_id, (start_ts AT TIME ZONE 'UTC')::date;

-- Segments and distinct viewers per video per UTC hour: advertisers' reach. hour_utc is a UTC wall-clock timestamp
-- (timestamp without time zone) so it prints the same in every session.
CREATE OR REPLACE VIEW video_hourly_reach AS
SELECT video_id,
       date_trunc('hour', start_ts AT TIME ZONE 'UTC') AS hour_utc,
       count(*)                                        AS segments,
       count(DISTINCT user_id)                         AS viewers
  FROM watch_segments
 GROUP BY video_id, date_trunc('hour', start_ts AT TIME ZONE 'UTC');

INSERT INTO schema_migrations (version, name) VALUES (2, 'report_views') ON CONFLICT (version) DO NOTHING;
