-- V000003: ids holding a NUL character (U+0000) become rejects instead of valid heartbeats.
--
-- Why: PostgreSQL and YSQL text cannot store U+0000, so a piece whose user_id or video_id holds one is refused by
-- the database with a type error (SQLSTATE 22021) that no trigger sees, and the JDBC sink task fails on it. JSON
-- allows the character ("\u0000"), so it must be stopped here, before any state or topic downstream holds it.
--
-- How: both V000001 queries are upgraded in place (CREATE OR REPLACE: same sources, sink topics, columns, key and
-- PARTITION BY; only the filter and the reason CASE gain one rule per id), so they keep their consumer groups and
-- offsets and nothing is reprocessed. The full rule list is restated because a query upgrade restates its query;
-- it is V000001's list plus the two NUL rules after the separator rules, mirrored by ksql/model/validate.ts.
-- CHR(0) is how ksqlDB writes U+0000: its string literals have no escapes.

CREATE OR REPLACE STREAM heartbeats WITH (
  KAFKA_TOPIC = 'heartbeats',
  KEY_FORMAT = 'KAFKA',
  VALUE_FORMAT = 'AVRO',
  VALUE_AVRO_SCHEMA_FULL_NAME = 'watchpipe.Heartbeat',
  TIMESTAMP = 'event_ts',
  PARTITIONS = ${heartbeatsPartitions},
  RETENTION_MS = ${heartbeatsRetentionMs}
) AS SELECT
  CONCAT(user_id, '|', video_id) AS session_key,
  user_id,
  video_id,
  position_sec,
  event_ts,
  device_id
FROM heartbeats_raw_json
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
    WHEN position_sec IS NULL THEN 'position_sec: expected a number'
    WHEN NOT (position_sec >= 0) THEN 'position_sec: expected a number >= 0'
    WHEN NOT (position_sec <= 10000000) THEN 'position_sec: expected a number <= 10000000'
    WHEN event_ts IS NULL THEN 'event_ts: expected an integer (epoch ms)'
    WHEN event_ts < 0 THEN 'event_ts: expected epoch ms >= 0'
    WHEN event_ts > 9999999999999 THEN 'event_ts: expected epoch ms <= 9999999999999'
    WHEN event_ts > ROWTIME + 30000 THEN 'event_ts: expected at most 30 s after the record timestamp'
  END) IS NULL
PARTITION BY CONCAT(user_id, '|', video_id)
EMIT CHANGES;

-- Rejects with the first rule they break (same CASE as above).
CREATE OR REPLACE STREAM heartbeats_rejected WITH (
  KAFKA_TOPIC = 'heartbeats_rejected',
  KEY_FORMAT = 'KAFKA',
  VALUE_FORMAT = 'JSON',
  PARTITIONS = ${rejectedPartitions},
  RETENTION_MS = ${rejectedRetentionMs}
) AS SELECT
  user_id AS `user_id`,
  video_id AS `video_id`,
  position_sec AS `position_sec`,
  event_ts AS `event_ts`,
  device_id AS `device_id`,
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
    WHEN position_sec IS NULL THEN 'position_sec: expected a number'
    WHEN NOT (position_sec >= 0) THEN 'position_sec: expected a number >= 0'
    WHEN NOT (position_sec <= 10000000) THEN 'position_sec: expected a number <= 10000000'
    WHEN event_ts IS NULL THEN 'event_ts: expected an integer (epoch ms)'
    WHEN event_ts < 0 THEN 'event_ts: expected epoch ms >= 0'
    WHEN event_ts > 9999999999999 THEN 'event_ts: expected epoch ms <= 9999999999999'
    WHEN event_ts > ROWTIME + 30000 THEN 'event_ts: expected at most 30 s after the record timestamp'
  END AS `reason`
FROM heartbeats_raw_json
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
    WHEN position_sec IS NULL THEN 'position_sec: expected a number'
    WHEN NOT (position_sec >= 0) THEN 'position_sec: expected a number >= 0'
    WHEN NOT (position_sec <= 10000000) THEN 'position_sec: expected a number <= 10000000'
    WHEN event_ts IS NULL THEN 'event_ts: expected an integer (epoch ms)'
    WHEN event_ts < 0 THEN 'event_ts: expected epoch ms >= 0'
    WHEN event_ts > 9999999999999 THEN 'event_ts: expected epoch ms <= 9999999999999'
    WHEN event_ts > ROWTIME + 30000 THEN 'event_ts: expected at most 30 s after the record timestamp'
  END) IS NOT NULL
EMIT CHANGES;
