-- V000002: session windows over event time per user_id|video_id, closed with EMIT FINAL, split into watch segments.
--
-- Parameters (ksql-migrations `apply --define`, computed by ksql/migrations.ts from the stack config):
--   sessionGapMs, gracePeriodMs, sessionRetentionMs (= 2 x gap + grace), seekToleranceMs, sessionsPartitions, replicas.
-- Relies on: ksql.functions.collect_list.limit = 4320 (server config; see ksql/params.ts COLLECT_LIST_LIMIT), topic
-- watch_segments existing (Strimzi KafkaTopic). heartbeat_sessions and watch_segment_points are this file's own
-- topics: PARTITIONS/REPLICAS set.
-- ksql/model/ mirrors every rule here; ksql/README.md explains them.

-- One row per FINAL session: Kafka Streams' session-window aggregate with EmitStrategy.onWindowClose emits a session
-- once stream time passes its end + gap + grace, exactly once per window and never a tombstone. The value carries the
-- session's heartbeats as sorted, de-duplicated 24-character points: 13-digit event_ts then 11-digit playhead in ms
-- (fixed width, so string order is (event_ts, playhead) order). Ticks (user '__tick__') advance stream time on their
-- partition and contribute only ''.
CREATE TABLE IF NOT EXISTS heartbeat_sessions WITH (
  KAFKA_TOPIC = 'heartbeat_sessions',
  KEY_FORMAT = 'KAFKA',
  VALUE_FORMAT = 'AVRO',
  PARTITIONS = ${sessionsPartitions},
  REPLICAS = ${replicas}
) AS SELECT
  session_key,
  WINDOWSTART AS `session_start_ts`,
  WINDOWEND AS `session_end_ts`,
  ARRAY_SORT(ARRAY_DISTINCT(COLLECT_LIST(
    CASE WHEN user_id = '__tick__' THEN ''
    ELSE CONCAT(LPAD(CAST(event_ts AS STRING), 13, '0'), LPAD(CAST(ROUND(position_sec * 1000) AS STRING), 11, '0'))
    END
  ))) AS `points`
FROM heartbeats
WINDOW SESSION (${sessionGapMs} MILLISECONDS, RETENTION ${sessionRetentionMs} MILLISECONDS, GRACE PERIOD ${gracePeriodMs} MILLISECONDS)
GROUP BY session_key
EMIT FINAL;

-- The final sessions read back as a stream (session-windowed key), so a table function can turn each into rows.
CREATE STREAM IF NOT EXISTS heartbeat_sessions_final (
  session_key STRING KEY,
  `session_start_ts` BIGINT,
  `session_end_ts` BIGINT,
  `points` ARRAY<STRING>
) WITH (KAFKA_TOPIC = 'heartbeat_sessions', KEY_FORMAT = 'KAFKA', VALUE_FORMAT = 'AVRO', WINDOW_TYPE = 'SESSION');

-- Segments: walk the sorted points; a point continues the current segment iff its drift (delta playhead - delta
-- event time, ms) against the previous point AND against the segment's first point are both within tolerance.
-- REDUCE's state is an array of 58-character segments: first point (24) + last point (24) + count (10 digits),
-- i.e. characters 1-13 first event_ts, 14-24 first playhead ms, 25-37 last event_ts, 38-48 last playhead ms,
-- 49-58 distinct heartbeats. EXPLODE turns the array into one row per segment, in start order, all with the
-- session's key, window and timestamp (so they stay on one partition, in order). Ticks are dropped here: the WHERE
-- runs before the table function.
CREATE STREAM IF NOT EXISTS watch_segment_points WITH (
  KAFKA_TOPIC = 'watch_segment_points',
  KEY_FORMAT = 'KAFKA',
  VALUE_FORMAT = 'AVRO',
  PARTITIONS = ${sessionsPartitions},
  REPLICAS = ${replicas}
) AS SELECT
  session_key,
  EXPLODE(REDUCE(
      SLICE(`points`, 2, ARRAY_LENGTH(`points`)),
      ARRAY[CONCAT(`points`[1], `points`[1], '0000000001')],
      (s, x) => CASE
        WHEN ABS((CAST(SUBSTRING(x, 14, 11) AS BIGINT) - CAST(SUBSTRING(s[ARRAY_LENGTH(s)], 38, 11) AS BIGINT)) - (CAST(SUBSTRING(x, 1, 13) AS BIGINT) - CAST(SUBSTRING(s[ARRAY_LENGTH(s)], 25, 13) AS BIGINT))) <= ${seekToleranceMs}
          AND ABS((CAST(SUBSTRING(x, 14, 11) AS BIGINT) - CAST(SUBSTRING(s[ARRAY_LENGTH(s)], 14, 11) AS BIGINT)) - (CAST(SUBSTRING(x, 1, 13) AS BIGINT) - CAST(SUBSTRING(s[ARRAY_LENGTH(s)], 1, 13) AS BIGINT))) <= ${seekToleranceMs}
        THEN ARRAY_CONCAT(
          SLICE(s, 1, ARRAY_LENGTH(s) - 1),
          ARRAY[CONCAT(SUBSTRING(s[ARRAY_LENGTH(s)], 1, 24), x, LPAD(CAST(CAST(SUBSTRING(s[ARRAY_LENGTH(s)], 49, 10) AS BIGINT) + 1 AS STRING), 10, '0'))])
        ELSE ARRAY_CONCAT(s, ARRAY[CONCAT(x, x, '0000000001')])
      END)) AS `segment`
FROM heartbeat_sessions_final
WHERE SPLIT(session_key, '|')[1] <> '__tick__'
EMIT CHANGES;

-- One watch segment per row: the fields are fixed-width slices of the 58-character segment string.
CREATE STREAM IF NOT EXISTS watch_segments WITH (
  KAFKA_TOPIC = 'watch_segments',
  KEY_FORMAT = 'KAFKA',
  VALUE_FORMAT = 'AVRO',
  VALUE_AVRO_SCHEMA_FULL_NAME = 'watchpipe.WatchSegment'
) AS SELECT
  session_key,
  SPLIT(session_key, '|')[1] AS `user_id`,
  SPLIT(session_key, '|')[2] AS `video_id`,
  -- first heartbeat's playhead, s
  CAST(SUBSTRING(`segment`, 14, 11) AS DOUBLE) / 1000 AS `start_position_sec`,
  -- last heartbeat's playhead, s
  CAST(SUBSTRING(`segment`, 38, 11) AS DOUBLE) / 1000 AS `end_position_sec`,
  -- first heartbeat's event time, epoch ms
  CAST(SUBSTRING(`segment`, 1, 13) AS BIGINT) AS `start_ts`,
  -- last heartbeat's event time, epoch ms
  CAST(SUBSTRING(`segment`, 25, 13) AS BIGINT) AS `end_ts`,
  -- distinct heartbeats in the segment
  CAST(SUBSTRING(`segment`, 49, 10) AS INTEGER) AS `heartbeat_count`,
  -- end_position_sec - start_position_sec
  (CAST(SUBSTRING(`segment`, 38, 11) AS DOUBLE) - CAST(SUBSTRING(`segment`, 14, 11) AS DOUBLE)) / 1000 AS `watched_sec`
FROM watch_segment_points
EMIT CHANGES;
