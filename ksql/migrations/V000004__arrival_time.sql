-- V000004 (issue 21): windows on arrival time, player clocks corrected with sent_at, records keyed at the source.
--
-- Why: V000001-V000003 windowed on event_ts, the player's clock, after a PARTITION BY. A player whose clock was
-- minutes slow lost every heartbeat (more than grace behind stream time, dropped without a trace), a fast one was
-- rejected whole, a burst delivered late was dropped, and during a catch-up the repartition interleaved the raw
-- partitions so that one running ahead made the others' heartbeats late (51 % of a 5-minute backlog lost on
-- ksqlDB 8.3.1). Here:
--   * heartbeats_raw is stamped by the broker (message.timestamp.type=LogAppendTime, components/kafka): ROWTIME of a
--     raw record is its arrival time, which a client cannot set and which does not run backwards in a partition;
--   * every producer keys its records by the session key user_id|video_id (UTF-8, Kafka's murmur2 partitioner), so
--     the raw stream declares the key and nothing is repartitioned; a record with another key is rejected (`key:`),
--     it would sit on the wrong partition;
--   * played_at = ROWTIME - (sent_at - event_ts) when the player sends `sent_at` (its own distance between playing
--     and sending: skew cancels), else ROWTIME. A heartbeat sent more than 1 h after it was played is rejected
--     (`late:`); an invalid sent_at is rejected (`sent_at:`). No rule compares event_ts with ROWTIME any more;
--   * 30 s tumbling windows run on ROWTIME (arrival) per session key and collect (played_at, playhead) points, so a
--     burst delivered late lands in one arrival window with its true times, and the database stitches pieces by
--     played_at as before. A catch-up, a crash or a restart replays each partition in arrival order: nothing late.
--
-- Relies on:
--   * topics heartbeats_raw, heartbeats, heartbeats_rejected, watch_segments (Strimzi KafkaTopics) and
--     heartbeat_sessions, watch_segment_points (created by V000002); `heartbeats` has as many partitions as
--     heartbeats_raw (one partition plan), so the validated record stays on the partition number it arrived on;
--   * CREATE ... AS SELECT into a program-made topic states its PARTITIONS / RETENTION_MS (--define, from the topic
--     plans; ksqlDB refuses a mismatch), into a topic the SQL made itself PARTITIONS / REPLICAS, as V000001-2 do;
--   * Schema Registry, compatibility BACKWARD: `heartbeats` gains SENT_AT and PLAYED_AT (optional, default null);
--     heartbeat_sessions and watch_segments keep their value schemas exactly;
--   * server config as before (collect_set limit, windowstore changelog retention, exactly_once_v2); undecodable
--     records go to the processing log.
-- The WINDOW clause takes literal numbers only (PIECE_WINDOW_SEC, WINDOW_RETENTION_SEC, SQL_GRACE_PERIOD_SEC; a unit
-- test keeps them equal). ksql/model/ mirrors every rule and text; ksql/README.md explains the design.
--
-- Cutover (what happens to records in flight), applied by the migrations Job like every version:
--   1. Deploy the program first: the topic config (LogAppendTime), the keyed producers and the keyed ticker. From
--      then on V000003 rejects nothing new (its rules still hold for keyed records) and keeps counting as before.
--   2. The Job runs this file. Its statements run back to back (seconds): every V000001-V000003 query and source is
--      dropped (their topics stay), then all seven are created again in dependency order.
--   3. The new queries start at the END of their source topics (auto.offset.reset=latest below): the 24 h of
--      heartbeats_raw and the days of `heartbeats` that V000001-V000003 already counted are not counted again.
--   4. Not counted, once: heartbeats that sat in V000002's windows still open at the DROP (the last window + grace,
--      at most ~90 s of each playing viewer; with the ticker on, every older window has been emitted already, so run
--      it with the ticker on), and records that arrive on heartbeats_raw while the statements run (they are not yet
--      read by the new queries). Apply it at the quietest hour; on a new environment (no traffic yet) nothing is lost.
--   5. The downstream queries (windows -> pieces) are created before the windowed table emits anything (its first
--      window closes 30 s + grace after its first record), so no window is skipped between them.
-- A rerun after a partial failure is safe: every DROP and CREATE is guarded, and the whole file is re-applied.

SET 'auto.offset.reset' = 'latest';

DROP STREAM IF EXISTS watch_pieces;
DROP STREAM IF EXISTS watch_pieces_encoded;
DROP STREAM IF EXISTS heartbeat_windows_final;
DROP TABLE IF EXISTS heartbeat_windows;
DROP STREAM IF EXISTS heartbeats_rejected;
DROP STREAM IF EXISTS heartbeats;
DROP STREAM IF EXISTS heartbeats_raw_json;

-- The raw topic with its key: session_key is the producer's record key (KAFKA format: the UTF-8 bytes).
CREATE STREAM IF NOT EXISTS heartbeats_raw_keyed (
  session_key STRING KEY,
  user_id STRING,
  video_id STRING,
  position_sec DOUBLE,
  event_ts BIGINT,
  device_id STRING,
  sent_at BIGINT
) WITH (KAFKA_TOPIC = 'heartbeats_raw', KEY_FORMAT = 'KAFKA', VALUE_FORMAT = 'JSON');

-- Valid heartbeats, keyed as they arrived (no PARTITION BY: the key is already the session key, so the record keeps
-- its partition and its arrival order). The record timestamp stays ROWTIME, the arrival time, for everything
-- downstream. played_at: every expression touching sent_at is guarded by a sent_at IS NULL branch first (ksqlDB
-- 8.3.1 dropped records whose CASE did arithmetic on a NULL). Rules in CASE order; the first broken one is the reason.
CREATE STREAM IF NOT EXISTS heartbeats WITH (
  KAFKA_TOPIC = 'heartbeats',
  KEY_FORMAT = 'KAFKA',
  VALUE_FORMAT = 'AVRO',
  VALUE_AVRO_SCHEMA_FULL_NAME = 'watchpipe.Heartbeat',
  PARTITIONS = ${heartbeatsPartitions},
  RETENTION_MS = ${heartbeatsRetentionMs}
) AS SELECT
  session_key,
  user_id,
  video_id,
  position_sec,
  event_ts,
  device_id,
  sent_at,
  CASE WHEN sent_at IS NULL THEN ROWTIME ELSE ROWTIME - (sent_at - event_ts) END AS played_at
FROM heartbeats_raw_keyed
WHERE (CASE
    WHEN user_id IS NULL THEN 'user_id: expected a string'
    WHEN LEN(user_id) = 0 THEN 'user_id: expected a non-empty string'
    WHEN LEN(user_id) > 128 THEN 'user_id: expected at most 128 characters'
    WHEN INSTR(user_id, '|') > 0 THEN 'user_id: expected no ''|'' character'
    WHEN INSTR(user_id, CHR(0)) > 0 THEN 'user_id: expected no NUL (U+0000) character'
    WHEN video_id IS NULL THEN 'video_id: expected a string'
    WHEN LEN(video_id) = 0 THEN 'video_id: expected a non-empty string'
    WHEN LEN(video_id) > 128 THEN 'video_id: expected at most 128 characters'
    WHEN INSTR(video_id, '|') > 0 THEN 'video_id: expected no ''|'' character'
    WHEN INSTR(video_id, CHR(0)) > 0 THEN 'video_id: expected no NUL (U+0000) character'
    WHEN session_key IS NULL THEN 'key: expected a record key (user_id|video_id)'
    WHEN session_key <> CONCAT(user_id, '|', video_id) THEN 'key: expected the record key to be user_id|video_id'
    WHEN position_sec IS NULL THEN 'position_sec: expected a number'
    WHEN NOT (position_sec >= 0) THEN 'position_sec: expected a number >= 0'
    WHEN NOT (position_sec <= 10000000) THEN 'position_sec: expected a number <= 10000000'
    WHEN event_ts IS NULL THEN 'event_ts: expected an integer (epoch ms)'
    WHEN event_ts < 0 THEN 'event_ts: expected epoch ms >= 0'
    WHEN event_ts > 9999999999999 THEN 'event_ts: expected epoch ms <= 9999999999999'
    WHEN sent_at IS NULL THEN CAST(NULL AS STRING)
    WHEN sent_at < 0 THEN 'sent_at: expected epoch ms >= 0'
    WHEN sent_at > 9999999999999 THEN 'sent_at: expected epoch ms <= 9999999999999'
    WHEN sent_at < event_ts THEN 'sent_at: expected epoch ms >= event_ts (sent after it was played)'
    WHEN sent_at > event_ts + 3600000 THEN 'late: expected sent at most 3600 s after it was played'
  END) IS NULL
EMIT CHANGES;

-- Rejects with the first rule they break (same CASE as above), keyed by the raw key, timestamp = arrival.
CREATE STREAM IF NOT EXISTS heartbeats_rejected WITH (
  KAFKA_TOPIC = 'heartbeats_rejected',
  KEY_FORMAT = 'KAFKA',
  VALUE_FORMAT = 'JSON',
  PARTITIONS = ${rejectedPartitions},
  RETENTION_MS = ${rejectedRetentionMs}
) AS SELECT
  session_key,
  user_id AS `user_id`,
  video_id AS `video_id`,
  position_sec AS `position_sec`,
  event_ts AS `event_ts`,
  device_id AS `device_id`,
  sent_at AS `sent_at`,
  CASE
    WHEN user_id IS NULL THEN 'user_id: expected a string'
    WHEN LEN(user_id) = 0 THEN 'user_id: expected a non-empty string'
    WHEN LEN(user_id) > 128 THEN 'user_id: expected at most 128 characters'
    WHEN INSTR(user_id, '|') > 0 THEN 'user_id: expected no ''|'' character'
    WHEN INSTR(user_id, CHR(0)) > 0 THEN 'user_id: expected no NUL (U+0000) character'
    WHEN video_id IS NULL THEN 'video_id: expected a string'
    WHEN LEN(video_id) = 0 THEN 'video_id: expected a non-empty string'
    WHEN LEN(video_id) > 128 THEN 'video_id: expected at most 128 characters'
    WHEN INSTR(video_id, '|') > 0 THEN 'video_id: expected no ''|'' character'
    WHEN INSTR(video_id, CHR(0)) > 0 THEN 'video_id: expected no NUL (U+0000) character'
    WHEN session_key IS NULL THEN 'key: expected a record key (user_id|video_id)'
    WHEN session_key <> CONCAT(user_id, '|', video_id) THEN 'key: expected the record key to be user_id|video_id'
    WHEN position_sec IS NULL THEN 'position_sec: expected a number'
    WHEN NOT (position_sec >= 0) THEN 'position_sec: expected a number >= 0'
    WHEN NOT (position_sec <= 10000000) THEN 'position_sec: expected a number <= 10000000'
    WHEN event_ts IS NULL THEN 'event_ts: expected an integer (epoch ms)'
    WHEN event_ts < 0 THEN 'event_ts: expected epoch ms >= 0'
    WHEN event_ts > 9999999999999 THEN 'event_ts: expected epoch ms <= 9999999999999'
    WHEN sent_at IS NULL THEN CAST(NULL AS STRING)
    WHEN sent_at < 0 THEN 'sent_at: expected epoch ms >= 0'
    WHEN sent_at > 9999999999999 THEN 'sent_at: expected epoch ms <= 9999999999999'
    WHEN sent_at < event_ts THEN 'sent_at: expected epoch ms >= event_ts (sent after it was played)'
    WHEN sent_at > event_ts + 3600000 THEN 'late: expected sent at most 3600 s after it was played'
  END AS `reason`
FROM heartbeats_raw_keyed
WHERE (CASE
    WHEN user_id IS NULL THEN 'user_id: expected a string'
    WHEN LEN(user_id) = 0 THEN 'user_id: expected a non-empty string'
    WHEN LEN(user_id) > 128 THEN 'user_id: expected at most 128 characters'
    WHEN INSTR(user_id, '|') > 0 THEN 'user_id: expected no ''|'' character'
    WHEN INSTR(user_id, CHR(0)) > 0 THEN 'user_id: expected no NUL (U+0000) character'
    WHEN video_id IS NULL THEN 'video_id: expected a string'
    WHEN LEN(video_id) = 0 THEN 'video_id: expected a non-empty string'
    WHEN LEN(video_id) > 128 THEN 'video_id: expected at most 128 characters'
    WHEN INSTR(video_id, '|') > 0 THEN 'video_id: expected no ''|'' character'
    WHEN INSTR(video_id, CHR(0)) > 0 THEN 'video_id: expected no NUL (U+0000) character'
    WHEN session_key IS NULL THEN 'key: expected a record key (user_id|video_id)'
    WHEN session_key <> CONCAT(user_id, '|', video_id) THEN 'key: expected the record key to be user_id|video_id'
    WHEN position_sec IS NULL THEN 'position_sec: expected a number'
    WHEN NOT (position_sec >= 0) THEN 'position_sec: expected a number >= 0'
    WHEN NOT (position_sec <= 10000000) THEN 'position_sec: expected a number <= 10000000'
    WHEN event_ts IS NULL THEN 'event_ts: expected an integer (epoch ms)'
    WHEN event_ts < 0 THEN 'event_ts: expected epoch ms >= 0'
    WHEN event_ts > 9999999999999 THEN 'event_ts: expected epoch ms <= 9999999999999'
    WHEN sent_at IS NULL THEN CAST(NULL AS STRING)
    WHEN sent_at < 0 THEN 'sent_at: expected epoch ms >= 0'
    WHEN sent_at > 9999999999999 THEN 'sent_at: expected epoch ms <= 9999999999999'
    WHEN sent_at < event_ts THEN 'sent_at: expected epoch ms >= event_ts (sent after it was played)'
    WHEN sent_at > event_ts + 3600000 THEN 'late: expected sent at most 3600 s after it was played'
  END) IS NOT NULL
EMIT CHANGES;

-- One row per (session key, 30 s window of ARRIVAL time) once the window is final: Kafka Streams' windowed aggregate
-- with EmitStrategy.onWindowClose emits [s, s + 30 s) when stream time (the latest arrival on the partition) reaches
-- s + 30 s + grace, once, never a tombstone. GROUP BY the key column: no repartition. The value is the window's
-- distinct points, sorted once: 13-digit played_at then 11-digit playhead in ms (fixed width, so string order is
-- (played_at, playhead) order; sorting again downstream made 8.3.1 return NULL). Arrival time does not run backwards
-- within a partition, so a window is late only after a broker clock step; the grace stays for that.
-- RETENTION 6 h: only a single arrival-time jump of more than 6 h - 30 s - grace on one partition (no ticks, no
-- heartbeats in between) can hide a window before it is emitted. Ticks (user '__tick__') contribute only ''.
CREATE TABLE IF NOT EXISTS heartbeat_windows WITH (
  KAFKA_TOPIC = 'heartbeat_sessions',
  KEY_FORMAT = 'KAFKA',
  VALUE_FORMAT = 'AVRO',
  PARTITIONS = ${sessionsPartitions},
  REPLICAS = ${replicas}
) AS SELECT
  session_key,
  ARRAY_SORT(COLLECT_SET(
    CASE WHEN user_id = '__tick__' THEN ''
    ELSE CONCAT(LPAD(CAST(played_at AS STRING), 13, '0'), LPAD(CAST(ROUND(position_sec * 1000) AS STRING), 11, '0'))
    END
  )) AS `points`
FROM heartbeats
WINDOW TUMBLING (SIZE 30000 MILLISECONDS, RETENTION 21600000 MILLISECONDS, GRACE PERIOD 60000 MILLISECONDS)
GROUP BY session_key
EMIT FINAL;

-- The final windows read back as a stream (time-windowed key), so a table function can turn each into rows.
CREATE STREAM IF NOT EXISTS heartbeat_windows_final (
  session_key STRING KEY,
  `points` ARRAY<STRING>
) WITH (
  KAFKA_TOPIC = 'heartbeat_sessions',
  KEY_FORMAT = 'KAFKA',
  VALUE_FORMAT = 'AVRO',
  WINDOW_TYPE = 'TUMBLING',
  WINDOW_SIZE = '30000 MILLISECONDS'
);

-- Pieces, exactly as V000002 cuts them (times are played_at now): a point continues the current piece iff, against
-- the previous point, Δt <= gap and -tolerance <= Δplayhead <= maxRate·Δt + tolerance (ms; maxRate in thousandths:
-- 1000·Δplayhead <= maxRatePermille·Δt + 1000·tolerance). REDUCE's state is an array of 84-character pieces:
--   1-13 first played_at, 14-24 first playhead ms, 25-37 last played_at, 38-48 last playhead ms,
--   49-59 lowest playhead ms, 60-70 highest playhead ms, 71-80 distinct heartbeats, 81-84 piece number in the window.
-- EXPLODE turns the array into one row per piece. Ticks are dropped here: the WHERE runs before the table function.
CREATE STREAM IF NOT EXISTS watch_pieces_encoded WITH (
  KAFKA_TOPIC = 'watch_segment_points',
  KEY_FORMAT = 'KAFKA',
  VALUE_FORMAT = 'AVRO',
  PARTITIONS = ${sessionsPartitions},
  REPLICAS = ${replicas}
) AS SELECT
  session_key,
  EXPLODE(REDUCE(
      SLICE(`points`, 2, ARRAY_LENGTH(`points`)),
      ARRAY[CONCAT(`points`[1], `points`[1], SUBSTRING(`points`[1], 14, 11), SUBSTRING(`points`[1], 14, 11), '0000000001', '0001')],
      (s, x) => CASE
        WHEN CAST(SUBSTRING(x, 1, 13) AS BIGINT) - CAST(SUBSTRING(s[ARRAY_LENGTH(s)], 25, 13) AS BIGINT) <= ${sessionGapMs}
          AND CAST(SUBSTRING(x, 14, 11) AS BIGINT) - CAST(SUBSTRING(s[ARRAY_LENGTH(s)], 38, 11) AS BIGINT) + ${seekToleranceMs} >= 0
          AND 1000 * (CAST(SUBSTRING(x, 14, 11) AS BIGINT) - CAST(SUBSTRING(s[ARRAY_LENGTH(s)], 38, 11) AS BIGINT))
            <= ${maxRatePermille} * (CAST(SUBSTRING(x, 1, 13) AS BIGINT) - CAST(SUBSTRING(s[ARRAY_LENGTH(s)], 25, 13) AS BIGINT)) + 1000 * ${seekToleranceMs}
        THEN ARRAY_CONCAT(
          SLICE(s, 1, ARRAY_LENGTH(s) - 1),
          ARRAY[CONCAT(
            SUBSTRING(s[ARRAY_LENGTH(s)], 1, 24),
            x,
            CASE WHEN SUBSTRING(x, 14, 11) < SUBSTRING(s[ARRAY_LENGTH(s)], 49, 11) THEN SUBSTRING(x, 14, 11) ELSE SUBSTRING(s[ARRAY_LENGTH(s)], 49, 11) END,
            CASE WHEN SUBSTRING(x, 14, 11) > SUBSTRING(s[ARRAY_LENGTH(s)], 60, 11) THEN SUBSTRING(x, 14, 11) ELSE SUBSTRING(s[ARRAY_LENGTH(s)], 60, 11) END,
            LPAD(CAST(CAST(SUBSTRING(s[ARRAY_LENGTH(s)], 71, 10) AS BIGINT) + 1 AS STRING), 10, '0'),
            SUBSTRING(s[ARRAY_LENGTH(s)], 81, 4))])
        ELSE ARRAY_CONCAT(s, ARRAY[CONCAT(x, x, SUBSTRING(x, 14, 11), SUBSTRING(x, 14, 11), '0000000001', LPAD(CAST(ARRAY_LENGTH(s) + 1 AS STRING), 4, '0'))])
      END)) AS `piece`
FROM heartbeat_windows_final
WHERE SPLIT(session_key, '|')[1] <> '__tick__'
EMIT CHANGES;

-- One piece per row (watchpipe.WatchPiece, unchanged): start_ts / end_ts are the first / last heartbeat's played_at.
CREATE STREAM IF NOT EXISTS watch_pieces WITH (
  KAFKA_TOPIC = 'watch_segments',
  KEY_FORMAT = 'KAFKA',
  VALUE_FORMAT = 'AVRO',
  VALUE_AVRO_SCHEMA_FULL_NAME = 'watchpipe.WatchPiece',
  PARTITIONS = ${segmentsPartitions},
  RETENTION_MS = ${segmentsRetentionMs}
) AS SELECT
  session_key,
  SPLIT(session_key, '|')[1] AS `user_id`,
  SPLIT(session_key, '|')[2] AS `video_id`,
  CAST(SUBSTRING(`piece`, 1, 13) AS BIGINT) AS `start_ts`,
  CAST(SUBSTRING(`piece`, 25, 13) AS BIGINT) AS `end_ts`,
  CAST(SUBSTRING(`piece`, 14, 11) AS DOUBLE) / 1000 AS `first_position_sec`,
  CAST(SUBSTRING(`piece`, 38, 11) AS DOUBLE) / 1000 AS `last_position_sec`,
  CAST(SUBSTRING(`piece`, 49, 11) AS DOUBLE) / 1000 AS `min_position_sec`,
  CAST(SUBSTRING(`piece`, 60, 11) AS DOUBLE) / 1000 AS `max_position_sec`,
  CAST(SUBSTRING(`piece`, 71, 10) AS INTEGER) AS `heartbeat_count`,
  CAST(SUBSTRING(`piece`, 81, 4) AS INTEGER) AS `piece_no`,
  ${sessionGapMs} AS `session_gap_ms`,
  ${seekToleranceMs} AS `seek_tolerance_ms`,
  ${maxRatePermille} AS `max_rate_permille`
FROM watch_pieces_encoded
EMIT CHANGES;
