/**
 * JMX exporter rules for the ksqlDB servers (loaded by the agent of components/ops/jmxAgentSpecs.ts). Only what
 * operating the pipeline needs: the engine's counters (queries per Kafka Streams state, persistent queries,
 * consumption, error rate, liveness) and per-query restarts. ksqlDB registers its engine metrics twice (a legacy
 * group named after the service id, and `_confluent-ksql-engine-query-stats` tagged with it); the rules read the
 * tagged one. The MBean names were read off ksqlDB 8.3.1 running with this agent (docs/real-engines.md).
 */

/** ConfigMap key the ksqlDB pods mount. */
export const KSQLDB_METRICS_CONFIG_KEY = "ksqldb-metrics-config.yml";

export const KSQLDB_JMX_EXPORTER_RULES = `lowercaseOutputName: true
lowercaseOutputLabelNames: true
rules:
  # Persistent queries per Kafka Streams state (CREATED, REBALANCING, RUNNING, PENDING_SHUTDOWN, NOT_RUNNING,
  # PENDING_ERROR, ERROR): a query in ERROR stopped validating heartbeats or cutting pieces.
  - pattern: 'io.confluent.ksql.metrics<type=_confluent-ksql-engine-query-stats, ksql_service_id=([^,>]+)><>([A-Z_]+)-queries'
    name: ksqldb_queries
    type: GAUGE
    labels:
      service_id: "$1"
      state: "$2"
  - pattern: 'io.confluent.ksql.metrics<type=_confluent-ksql-engine-query-stats, ksql_service_id=([^,>]+)><>num-(persistent|active|idle)-queries'
    name: ksqldb_$2_queries
    type: GAUGE
    labels:
      service_id: "$1"
  - pattern: 'io.confluent.ksql.metrics<type=_confluent-ksql-engine-query-stats, ksql_service_id=([^,>]+)><>(messages-consumed-per-sec|messages-produced-per-sec|error-rate|liveness-indicator)'
    name: ksqldb_$2
    type: GAUGE
    labels:
      service_id: "$1"
  - pattern: 'io.confluent.ksql.metrics<type=_confluent-ksql-engine-query-stats, ksql_service_id=([^,>]+)><>(messages-consumed-total|bytes-consumed-total)'
    name: ksqldb_$2
    type: COUNTER
    labels:
      service_id: "$1"
  # How often each query's stream threads died and were restarted (ksql.query.retry.backoff). This MBean has three
  # keys (query-id, ksql_service_id, status) in hash order, so only query-id is taken, wherever it stands.
  - pattern: 'io.confluent.ksql.metrics<type=ksql-queries, (?:[^>]*, )?query-id=([^,>]+)(?:, [^>]*)?><>query-restart-total'
    name: ksqldb_query_restart_total
    type: COUNTER
    labels:
      query_id: "$1"
  # Records Kafka Streams dropped inside a query's task (task level, recording level INFO; in JMX only because the
  # server properties add Kafka's JmxReporter to ksql.streams.metric.reporters: components/stream/ksqldbSpecs.ts): a record for a window that
  # had already closed (arrival beyond grace), a record it could not read, a key or value it could not use. The
  # thread id names the query (_confluent-ksql-<service id>query_<id>-<uuid>-StreamThread-<n>).
  - pattern: 'kafka.streams<type=stream-task-metrics, thread-id=[^,>]*query_([A-Za-z0-9_]+?)-[0-9a-f]{8}-[0-9a-f-]+-StreamThread-[0-9]+, task-id=([^,>]+)><>dropped-records-total'
    name: ksqldb_streams_dropped_records_total
    type: COUNTER
    labels:
      query_id: "$1"
      task_id: "$2"
  # Records each query wrote per topic (ksqlDB sums Kafka Streams' topic-level counts per query; data records only,
  # no transaction markers). heartbeats_late holds the late: rejects, so this is the late-reject count. The keys
  # (member, query-id, topic) come in hash order, so each is found wherever it stands.
  - pattern: 'io.confluent.ksql.metrics<type=ksql-query-throughput-metrics(?=[^>]*, query-id=([^,>]+))(?=[^>]*, topic=([^,>]+))(?=[^>]*, member=([^,>]+))[^>]*><>records-produced-total'
    name: ksqldb_query_records_produced_total
    type: COUNTER
    labels:
      query_id: "$1"
      topic: "$2"
      member: "$3"
`;
