-- V000002 (semantics v2): heartbeats -> 30 s tumbling windows per user_id|video_id (EMIT FINAL) -> pieces of
-- continuous playback -> `watch_segments` (one record per piece). The database stitches pieces into watch segments
-- (connectors/schema V004). ksql/README.md explains every rule; ksql/model/ mirrors them.
--
-- Replaces the v1 file of the same version, which never applied anywhere: ksql-migrations failed on its first
-- statement (a variable inside a WINDOW clause is a syntax error), so no environment recorded it as MIGRATED and
-- ksql-migrations (which checks the checksums of MIGRATED versions only) applies this content instead.
--
-- Variables (ksql-migrations `apply --define`, from ksql/migrations.ts migrationDefines): sessionGapMs,
-- seekToleranceMs, maxRatePermille, sessionsPartitions, replicas. ksqlDB substitutes variables only where a literal
-- or identifier goes; a WINDOW clause takes plain numbers, so its size, RETENTION and GRACE PERIOD are literals here
-- (PIECE_WINDOW_SEC, WINDOW_RETENTION_SEC, SQL_GRACE_PERIOD_SEC in ksql/params.ts; a unit test keeps them equal).
-- Server config: ksql.functions.collect_set.limit (COLLECT_SET_LIMIT), windowstore.changelog.additional.retention.ms.
-- Topic names are v1's (heartbeat_sessions, watch_segment_points, watch_segments: ACLs and Strimzi topics exist).

-- One row per (session key, 30 s window) once the window is final: Kafka Streams' windowed aggregate with
-- EmitStrategy.onWindowClose emits a window [s, s + 30 s) when stream time reaches s + 30 s + grace, once, never
-- a tombstone. The value is the window's distinct points, sorted: 13-digit event_ts then 11-digit playhead in ms
-- (fixed width, so string order is (event_ts, playhead) order). Sorted here, once: sorting again downstream inside
-- the REDUCE's arguments made ksqlDB 8.3.1 return NULL (ARRAY_SORT and SLICE over the same list). State per heartbeat: one window's points (<= 6 at 5 s).
-- RETENTION 6 h: a window stays readable until the store's stream time is 6 h past its start, so only a single
-- stream-time jump of more than 6 h - 30 s - grace can hide a window before it is emitted.
-- Ticks (user '__tick__') advance stream time on their partition and contribute only ''.
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
    ELSE CONCAT(LPAD(CAST(event_ts AS STRING), 13, '0'), LPAD(CAST(ROUND(position_sec * 1000) AS STRING), 11, '0'))
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

-- Pieces: walk the window's points (sorted by the table); a point continues the current piece iff, against the previous point,
-- Δt <= gap and -tolerance <= Δplayhead <= maxRate·Δt + tolerance (ms; maxRate in thousandths, so integer math:
-- 1000·Δplayhead <= maxRatePermille·Δt + 1000·tolerance). Otherwise it starts a new piece.
-- REDUCE's state is an array of 84-character pieces:
--   1-13 first event_ts, 14-24 first playhead ms, 25-37 last event_ts, 38-48 last playhead ms,
--   49-59 lowest playhead ms, 60-70 highest playhead ms, 71-80 distinct heartbeats, 81-84 piece number in the window.
-- EXPLODE turns the array into one row per piece, in order, all with the window's key, window and timestamp.
-- Ticks are dropped here: the WHERE runs before the table function.
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

-- One piece per row, its fields parsed from the fixed-width string. The value carries the key columns (the windowed
-- key is binary) and the rule parameters, so the database stitches pieces with the same rule (connectors/schema V004)
-- and the sink upserts on (user_id, video_id, start_ts, piece_no).
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
  -- first heartbeat's event time, epoch ms
  CAST(SUBSTRING(`piece`, 1, 13) AS BIGINT) AS `start_ts`,
  -- last heartbeat's event time, epoch ms
  CAST(SUBSTRING(`piece`, 25, 13) AS BIGINT) AS `end_ts`,
  -- first and last heartbeat's playhead, s
  CAST(SUBSTRING(`piece`, 14, 11) AS DOUBLE) / 1000 AS `first_position_sec`,
  CAST(SUBSTRING(`piece`, 38, 11) AS DOUBLE) / 1000 AS `last_position_sec`,
  -- the range the playhead moved through, s
  CAST(SUBSTRING(`piece`, 49, 11) AS DOUBLE) / 1000 AS `min_position_sec`,
  CAST(SUBSTRING(`piece`, 60, 11) AS DOUBLE) / 1000 AS `max_position_sec`,
  -- distinct heartbeats in the piece
  CAST(SUBSTRING(`piece`, 71, 10) AS INTEGER) AS `heartbeat_count`,
  -- 1, 2, ... within the window: orders pieces that start at the same event time
  CAST(SUBSTRING(`piece`, 81, 4) AS INTEGER) AS `piece_no`,
  -- the rule the pieces were cut with, for the database's stitching
  ${sessionGapMs} AS `session_gap_ms`,
  ${seekToleranceMs} AS `seek_tolerance_ms`,
  ${maxRatePermille} AS `max_rate_permille`
FROM watch_pieces_encoded
EMIT CHANGES;
