-- V000005: the `late:` rejects, copied to their own topic `heartbeats_late`, so they are a metric.
--
-- Why: a heartbeat played more than 1 h before it was sent is rejected by V000004 into `heartbeats_rejected` with a
-- reason starting `late:`. ksqlDB counts the records each persistent query writes per topic
-- (ksqldb_query_records_produced_total{topic}), but not per reason; this query writes only the late rejects, so its
-- count for topic `heartbeats_late` is the late-reject count the alert HeartbeatsRejectedLate divides by what arrived on
-- `heartbeats_raw` (components/ops/alertRules.ts, runbook docs/runbooks/ksqldb-query.md).
-- Relies on: V000004's `heartbeats_rejected` stream (column `reason`). `heartbeats_late` is a topic this SQL makes itself
-- (contract/topics.ts KSQL_CREATED_TOPICS: ksqlDB's user may create and write it), so the statement states its
-- PARTITIONS and REPLICAS. Each record also stays in `heartbeats_rejected`: this copy is for counting, not a second
-- home, so conservation counts `heartbeats_rejected` only.
-- Re-running V000004 later must first drop this stream (a source with a reading query cannot be dropped).
CREATE STREAM IF NOT EXISTS heartbeats_late WITH (
  KAFKA_TOPIC = 'heartbeats_late',
  KEY_FORMAT = 'KAFKA',
  VALUE_FORMAT = 'JSON',
  PARTITIONS = ${sessionsPartitions},
  REPLICAS = ${replicas}
) AS SELECT *
FROM heartbeats_rejected
WHERE `reason` LIKE 'late:%'
EMIT CHANGES;
