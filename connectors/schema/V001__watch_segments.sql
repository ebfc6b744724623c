-- V001: the table the Debezium JDBC sink upserts finished watch segments into.
-- PostgreSQL 15 / YugabyteDB YSQL. Idempotent: the migration Job re-applies every file on every deploy.

CREATE TABLE IF NOT EXISTS schema_migrations (
    version    integer     PRIMARY KEY,
    name       text        NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
);

-- One row per segment, named like components/topics.ts WatchSegment. The sink writes every column except
-- updated_at (primary.key.mode=record_value on user_id, video_id, start_ts).
-- Key: YSQL hash-shards the first PK column (user_id) and range-orders the rest, so one user's rows live in one
-- tablet sorted by (video_id, start_ts): the resume lookup is a single-tablet range scan, and writes from
-- many users spread over all tablets. In PostgreSQL the same key is a plain B-tree.
CREATE TABLE IF NOT EXISTS watch_segments (
    user_id            text             NOT NULL,
    video_id           text             NOT NULL,
    start_ts           timestamptz      NOT NULL,
    end_ts             timestamptz      NOT NULL,
    start_position_sec double precision NOT NULL,
    end_position_sec   double precision NOT NULL,
    heartbeat_count    integer          NOT NULL,
    watched_sec        double precision NOT NULL,
    updated_at         timestamptz      NOT NULL DEFAULT now(),
    CONSTRAINT watch_segments_pkey PRIMARY KEY (user_id, video_id, start_ts),
    -- Empty ids would silently merge unrelated users/videos in every report; 256 bounds a garbage id.
    CONSTRAINT watch_segments_user_id_chk  CHECK (length(user_id)  BETWEEN 1 AND 256),
    CONSTRAINT watch_segments_video_id_chk CHECK (length(video_id) BETWEEN 1 AND 256),
    CONSTRAINT watch_segments_time_order_chk CHECK (end_ts >= start_ts),
    -- `< 'Infinity'` also rejects NaN (PostgreSQL sorts NaN above Infinity) and +/-Infinity.
    CONSTRAINT watch_segments_start_position_chk
        CHECK (start_position_sec >= 0 AND start_position_sec < 'Infinity'::double precision),
    -- Not `>= start_position_sec`: the sessionizer keeps a segment going while the playhead tracks event time within
    -- the seek tolerance (ksql/README.md), so a small step back (end < start, watched_sec < 0) is a legal segment.
    CONSTRAINT watch_segments_end_position_chk
        CHECK (end_position_sec >= 0 AND end_position_sec < 'Infinity'::double precision),
    CONSTRAINT watch_segments_heartbeat_count_chk CHECK (heartbeat_count >= 1),
    -- Stored as sent (end - start, may be slightly negative, see above); the report views count max(watched_sec, 0).
    CONSTRAINT watch_segments_watched_sec_chk
        CHECK (watched_sec > '-Infinity'::double precision AND watched_sec < 'Infinity'::double precision)
);
-- Why the checks are no stricter than the ksqlDB output contract: the Debezium JDBC sink (3.6) does not send rows the
-- database rejects to the DLQ; a rejected row fails the task, and it fails again on every restart. A CHECK is the
-- last line of defence against a broken producer, not a filter.

-- Upserts only move a segment forward. ksqlDB re-emits a segment as it grows (more heartbeats, later end_ts), and
-- a consumer rewind or a retried batch can replay an older version after a newer one; the JDBC sink's
-- INSERT ... ON CONFLICT DO UPDATE cannot carry a WHERE, so the guard lives here:
--   * an incoming version that is older (smaller (end_ts, heartbeat_count)) than the stored one is skipped;
--   * an identical replay is skipped too (no write: in YSQL every update is a distributed write);
--   * otherwise the row is updated and updated_at stamped. updated_at is ours, not the pipeline's: the time the
--     row's content last changed (set on insert too, whatever the writer sent).
-- Returning NULL from a BEFORE UPDATE row trigger skips that row's update without an error.
CREATE OR REPLACE FUNCTION watch_segments_upsert_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        IF (NEW.end_ts, NEW.heartbeat_count) < (OLD.end_ts, OLD.heartbeat_count) THEN
            RETURN NULL;
        END IF;
        IF (NEW.end_ts, NEW.heartbeat_count, NEW.start_position_sec, NEW.end_position_sec, NEW.watched_sec)
           IS NOT DISTINCT FROM
           (OLD.end_ts, OLD.heartbeat_count, OLD.start_position_sec, OLD.end_position_sec, OLD.watched_sec) THEN
            RETURN NULL;
        END IF;
    END IF;
    NEW.updated_at := now();
    RETURN NEW;
END;
$$;

-- DROP + CREATE rather than CREATE OR REPLACE TRIGGER keeps this file valid on every PG15-compatible YSQL build.
DROP TRIGGER IF EXISTS watch_segments_upsert_guard ON watch_segments;
CREATE TRIGGER watch_segments_upsert_guard
    BEFORE INSERT OR UPDATE ON watch_segments
    FOR EACH ROW EXECUTE FUNCTION watch_segments_upsert_guard();

INSERT INTO schema_migrations (version, name) VALUES (1, 'watch_segments') ON CONFLICT (version) DO NOTHING;
