-- V000001: validate raw JSON heartbeats into the Avro stream `heartbeats`, rejects into `heartbeats_rejected`.
--
-- Relies on: topics heartbeats_raw, heartbeats, heartbeats_rejected existing (Strimzi KafkaTopics). ksqlDB checks a
-- CREATE … AS SELECT into an existing topic against the partitions and retention it would choose (the source topic's
-- unless the WITH clause names them), so each one below states the KafkaTopic's own values (--define, from the same
-- topic plans the program creates the topics from: components/stream/ksqlMigrationsSpecs.ts). Also relies on Schema
-- Registry (the `heartbeats` value schema is registered under the subject `heartbeats-value`, compatibility BACKWARD
-- so fields can be added with defaults); records the JSON deserializer
-- cannot decode (not JSON, wrong types that cannot be coerced) are skipped and logged to the processing log
-- (ksql.logging.processing.stream.auto.create / topic.replication.factor=3 are server config).
-- The reject rules and reason texts below are mirrored one to one by ksql/model/validate.ts.

CREATE STREAM IF NOT EXISTS heartbeats_raw_json (
  user_id STRING,
  video_id STRING,
  position_sec DOUBLE,
  event_ts BIGINT,
  device_id STRING
) WITH (KAFKA_TOPIC = 'heartbeats_raw', KEY_FORMAT = 'KAFKA', VALUE_FORMAT = 'JSON');

-- Valid heartbeats, re-keyed by the session key user_id|video_id (KAFKA key = UTF-8 bytes, default partitioner) so
-- the session aggregation needs no repartition and ticks can target each partition (ksql/ticks.ts). Event time
-- becomes the record timestamp for everything downstream. Column names stay unquoted (Avro fields USER_ID, ...) so
-- TIMESTAMP='event_ts' resolves; only ksqlDB reads this topic.
CREATE STREAM IF NOT EXISTS heartbeats WITH (
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
    WHEN video_id IS NULL THEN 'video_id: expected a string'
    WHEN LEN(video_id) = 0 THEN 'video_id: expected a non-empty string'
    WHEN LEN(video_id) > 128 THEN 'video_id: expected at most 128 characters'
    WHEN INSTR(video_id, '|') > 0 THEN 'video_id: expected no ''|'' character'
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
CREATE STREAM IF NOT EXISTS heartbeats_rejected WITH (
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
    WHEN video_id IS NULL THEN 'video_id: expected a string'
    WHEN LEN(video_id) = 0 THEN 'video_id: expected a non-empty string'
    WHEN LEN(video_id) > 128 THEN 'video_id: expected at most 128 characters'
    WHEN INSTR(video_id, '|') > 0 THEN 'video_id: expected no ''|'' character'
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
    WHEN video_id IS NULL THEN 'video_id: expected a string'
    WHEN LEN(video_id) = 0 THEN 'video_id: expected a non-empty string'
    WHEN LEN(video_id) > 128 THEN 'video_id: expected at most 128 characters'
    WHEN INSTR(video_id, '|') > 0 THEN 'video_id: expected no ''|'' character'
    WHEN position_sec IS NULL THEN 'position_sec: expected a number'
    WHEN NOT (position_sec >= 0) THEN 'position_sec: expected a number >= 0'
    WHEN NOT (position_sec <= 10000000) THEN 'position_sec: expected a number <= 10000000'
    WHEN event_ts IS NULL THEN 'event_ts: expected an integer (epoch ms)'
    WHEN event_ts < 0 THEN 'event_ts: expected epoch ms >= 0'
    WHEN event_ts > 9999999999999 THEN 'event_ts: expected epoch ms <= 9999999999999'
    WHEN event_ts > ROWTIME + 30000 THEN 'event_ts: expected at most 30 s after the record timestamp'
  END) IS NOT NULL
EMIT CHANGES;
