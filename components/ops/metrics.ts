/**
 * Every metric name an alert rule or a dashboard panel of this program queries, with the component that exports it.
 * Rules and panels must name only metrics listed here (test/monitoring.test.ts extracts the names from each
 * expression), and test/real/monitoring.test.ts scrapes real brokers and a real Connect worker with the JMX exporter
 * agent and checks that every name whose source runs there exists. Sources that cannot run on the CI machine are
 * listed in docs/runbooks/README.md ("Where the metric names come from").
 *
 * Pure data: no Pulumi.
 */

/** Who exports a metric. `kafka-broker` and `kafka-connect` are proven on real servers in test:real. */
export type MetricSource =
  | "kafka-broker"
  | "kafka-connect"
  | "prometheus"
  | "kafka-exporter"
  | "strimzi-operator"
  | "ksqldb"
  | "schema-registry"
  | "yugabyte"
  | "kubelet"
  | "kube-state-metrics";

/** Sources the real-server test scrapes (brokers, controllers and Connect run here from Maven Central jars). */
export const SOURCES_PROVEN_HERE: readonly MetricSource[] = ["kafka-broker", "kafka-connect", "prometheus"];

export interface MetricInfo {
  readonly source: MetricSource;
  /** Where the name comes from, for the names we cannot scrape here. */
  readonly note?: string;
}

const broker = { source: "kafka-broker" } as const;
const connect = { source: "kafka-connect" } as const;
const exporter = { source: "kafka-exporter", note: "Strimzi's Kafka Exporter (kafkaExporter in the Kafka CR)" } as const;
const ksqldb = { source: "ksqldb" } as const;
const schemaRegistry = { source: "schema-registry" } as const;

export const METRICS: Readonly<Record<string, MetricInfo>> = {
  // Brokers and controllers: components/kafka/kafkaMetrics.ts (JMX exporter rules Strimzi loads).
  kafka_server_brokertopicmetrics_messagesinpersec_total: broker,
  kafka_server_brokertopicmetrics_bytesinpersec_total: broker,
  kafka_server_brokertopicmetrics_bytesoutpersec_total: broker,
  kafka_server_brokertopicmetrics_failedproducerequestspersec_total: broker,
  kafka_server_replicamanager_underreplicatedpartitions: broker,
  kafka_server_replicamanager_underminisrpartitioncount: broker,
  kafka_server_replicamanager_offlinereplicacount: broker,
  kafka_server_replicamanager_partitioncount: broker,
  kafka_server_replicamanager_leadercount: broker,
  kafka_server_replicamanager_isrshrinkspersec_total: broker,
  kafka_server_replicamanager_isrexpandspersec_total: broker,
  kafka_controller_kafkacontroller_activecontrollercount: broker,
  kafka_controller_kafkacontroller_offlinepartitionscount: broker,
  kafka_server_raft_current_leader: broker,
  kafka_server_raft_commit_latency_avg: broker,
  kafka_network_requestmetrics_totaltimems: broker,
  kafka_network_socketserver_networkprocessoravgidlepercent: broker,
  kafka_server_kafkarequesthandlerpool_requesthandleravgidlepercent: broker,
  kafka_log_log_size: broker,
  // Kafka Connect: components/ops/connectMetrics.ts (JMX exporter rules for the KafkaConnect).
  kafka_connect_worker_connector_failed_task_count: connect,
  kafka_connect_worker_connector_running_task_count: connect,
  kafka_connect_worker_connector_count: connect,
  kafka_connect_worker_task_count: connect,
  kafka_connect_connector_status: connect,
  kafka_connect_task_status: connect,
  kafka_connect_sink_task_sink_record_read_total: connect,
  kafka_connect_sink_task_sink_record_send_total: connect,
  kafka_connect_sink_task_put_batch_avg_time_ms: connect,
  kafka_connect_task_error_total_record_errors_total: connect,
  kafka_connect_task_error_deadletterqueue_produce_requests_total: connect,
  kafka_consumer_records_lag_max: connect,
  // ksqlDB and Schema Registry: components/ops/ksqldbMetrics.ts, components/ops/schemaRegistryMetrics.ts (JMX
  // exporter agent rules). Proven on ksqlDB and Schema Registry 8.3.1 built from source beside the checkout; CI has
  // no build of them (no Confluent repository), see docs/real-engines.md.
  ksqldb_queries: ksqldb,
  ksqldb_persistent_queries: ksqldb,
  ksqldb_messages_consumed_per_sec: ksqldb,
  ksqldb_error_rate: ksqldb,
  ksqldb_query_restart_total: ksqldb,
  ksqldb_streams_dropped_records_total: ksqldb,
  ksqldb_query_records_produced_total: ksqldb,
  schema_registry_leader: schemaRegistry,
  schema_registry_api_failure_count_total: schemaRegistry,
  // Prometheus itself.
  up: { source: "prometheus" },
  // Not runnable on the CI machine.
  kafka_consumergroup_lag: exporter,
  strimzi_certificate_expiration_timestamp_ms: { source: "strimzi-operator", note: "Strimzi cluster operator /metrics" },
  kubelet_volume_stats_used_bytes: { source: "kubelet", note: "kubelet /metrics (kube-prometheus-stack scrapes it)" },
  kubelet_volume_stats_capacity_bytes: { source: "kubelet", note: "kubelet /metrics" },
  kube_deployment_status_replicas_available: { source: "kube-state-metrics" },
  kube_pod_container_status_restarts_total: { source: "kube-state-metrics" },
  kube_cronjob_status_last_successful_time: { source: "kube-state-metrics", note: "the rejects check CronJob (SinkRowsRefused)" },
  kube_cronjob_created: { source: "kube-state-metrics" },
};

const PROMQL_KEYWORDS = new Set([
  "and", "or", "unless", "by", "without", "on", "ignoring", "group_left", "group_right", "bool", "offset", "inf", "nan",
]);

/**
 * Metric names an expression selects. Drops string literals, label matchers (`{…}`), grouping clauses
 * (`by (…)`, `on (…)`, …), range/subquery brackets and function names (an identifier followed by `(`); what is
 * left that looks like an identifier is a metric name. Enough for the expressions this program writes; it is
 * not a PromQL parser.
 */
export function metricNamesIn(expr: string): string[] {
  let s = expr.replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'/g, '""');
  s = s.replace(/\{[^}]*\}/g, " ");
  s = s.replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, " ");
  s = s.replace(/\[[^\]]*\]/g, " ");
  const names = new Set<string>();
  for (const m of s.matchAll(/[A-Za-z_:][A-Za-z0-9_:]*/g)) {
    const word = m[0];
    const after = s.slice((m.index ?? 0) + word.length).trimStart();
    const before = s.slice(0, m.index ?? 0);
    if (after.startsWith("(")) continue; // a function or aggregation
    if (PROMQL_KEYWORDS.has(word.toLowerCase())) continue;
    if (/[0-9.]$/.test(before)) continue; // the unit of a number like 5m or 1e3
    names.add(word);
  }
  return [...names].sort();
}
