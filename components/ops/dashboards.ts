/**
 * Grafana dashboards as code: one end-to-end pipeline board and one per platform part. Pure builders return the
 * dashboard JSON model; components/ops/monitoring.ts ships each as a ConfigMap Grafana's sidecar loads. Every
 * query names only metrics in components/ops/metrics.ts (test/monitoring.test.ts checks it; test:real checks the
 * names from brokers and Connect on real servers).
 */
import {
  HEARTBEATS_TOPIC,
  RAW_HEARTBEATS_TOPIC,
  REJECTED_HEARTBEATS_TOPIC,
  WATCH_SEGMENTS_DLQ_TOPIC,
  WATCH_SEGMENTS_TOPIC,
} from "../../contract/topics";
import { KSQL_QUERY_GROUP_REGEX, SINK_CONSUMER_GROUP, COMPONENT_LABEL, COMPONENTS } from "./alertRules";

export interface PanelQuery {
  readonly expr: string;
  readonly legend: string;
}

export interface PanelSpec {
  readonly title: string;
  readonly queries: readonly PanelQuery[];
  /** Grafana unit id: "short", "s", "bytes", "Bps", "percentunit", "ms", "reqps". */
  readonly unit: string;
  readonly description?: string;
}

export interface DashboardSpec {
  readonly uid: string;
  readonly title: string;
  readonly panels: readonly PanelSpec[];
}

const DATASOURCE = { type: "prometheus", uid: "${datasource}" } as const;

/** The Grafana JSON model of a dashboard: two panels per row, a datasource picker, UTC, 30 s refresh. */
export function dashboardJson(d: DashboardSpec) {
  return {
    uid: d.uid,
    title: d.title,
    tags: ["watchpipe"],
    timezone: "utc",
    schemaVersion: 39,
    version: 1,
    editable: false,
    refresh: "30s",
    time: { from: "now-6h", to: "now" },
    templating: {
      list: [{ name: "datasource", label: "Prometheus", type: "datasource", query: "prometheus", current: {}, hide: 0 }],
    },
    panels: d.panels.map((p, i) => ({
      id: i + 1,
      type: "timeseries",
      title: p.title,
      ...(p.description ? { description: p.description } : {}),
      datasource: DATASOURCE,
      gridPos: { x: (i % 2) * 12, y: Math.floor(i / 2) * 8, w: 12, h: 8 },
      fieldConfig: { defaults: { unit: p.unit }, overrides: [] },
      options: { legend: { displayMode: "list", placement: "bottom" }, tooltip: { mode: "multi" } },
      targets: p.queries.map((q, j) => ({ refId: String.fromCharCode(65 + j), datasource: DATASOURCE, expr: q.expr, legendFormat: q.legend })),
    })),
  };
}

export interface DashboardArgs {
  readonly kafkaNamespace: string;
  readonly yugabyteNamespace: string;
}

export function dashboards(a: DashboardArgs): DashboardSpec[] {
  const kns = a.kafkaNamespace;
  const yns = a.yugabyteNamespace;
  const topicRate = (topic: string) => `sum(rate(kafka_server_brokertopicmetrics_messagesinpersec_total{namespace="${kns}", topic="${topic}"}[5m]))`;
  const lagSeconds = (group: string) =>
    `sum by (consumergroup, topic) (kafka_consumergroup_lag{namespace="${kns}", consumergroup=~"${group}"}) / on (topic) group_left sum by (topic) (rate(kafka_server_brokertopicmetrics_messagesinpersec_total{namespace="${kns}"}[5m]))`;

  const pipeline: DashboardSpec = {
    uid: "watchpipe-pipeline",
    title: "watchpipe / Pipeline end to end",
    panels: [
      {
        title: "Heartbeats in, rejected, validated (records/s)",
        unit: "reqps",
        queries: [
          { expr: topicRate(RAW_HEARTBEATS_TOPIC), legend: `in (${RAW_HEARTBEATS_TOPIC})` },
          { expr: topicRate(REJECTED_HEARTBEATS_TOPIC), legend: `rejected (${REJECTED_HEARTBEATS_TOPIC})` },
          { expr: topicRate(HEARTBEATS_TOPIC), legend: `validated (${HEARTBEATS_TOPIC})` },
        ],
      },
      {
        title: "Session close delay added by ksqlDB lag (s)",
        description: "Sessions close gap + grace after their last heartbeat; this is how far behind the queries are on top of that.",
        unit: "s",
        queries: [{ expr: lagSeconds(KSQL_QUERY_GROUP_REGEX), legend: "{{consumergroup}} on {{topic}}" }],
      },
      {
        title: "Watch segments out (records/s)",
        unit: "reqps",
        queries: [{ expr: topicRate(WATCH_SEGMENTS_TOPIC), legend: WATCH_SEGMENTS_TOPIC }],
      },
      {
        title: "Sink lag (s of input) and records behind",
        unit: "s",
        queries: [
          { expr: lagSeconds(SINK_CONSUMER_GROUP), legend: "seconds behind on {{topic}}" },
          { expr: `max by (client_id) (kafka_consumer_records_lag_max{namespace="${kns}"})`, legend: "max records behind {{client_id}}" },
        ],
      },
      {
        title: "Database write rate (rows upserted/s)",
        unit: "reqps",
        queries: [{ expr: `sum by (connector) (rate(kafka_connect_sink_task_sink_record_send_total{namespace="${kns}"}[5m]))`, legend: "{{connector}}" }],
      },
      {
        title: "Dead-letter queue (records/s)",
        unit: "reqps",
        queries: [
          { expr: topicRate(WATCH_SEGMENTS_DLQ_TOPIC), legend: WATCH_SEGMENTS_DLQ_TOPIC },
          { expr: `sum by (connector) (rate(kafka_connect_task_error_deadletterqueue_produce_requests_total{namespace="${kns}"}[5m]))`, legend: "dead-lettered by {{connector}}" },
        ],
      },
    ],
  };

  const brokers: DashboardSpec = {
    uid: "watchpipe-brokers",
    title: "watchpipe / Kafka brokers",
    panels: [
      {
        title: "Bytes in / out per broker",
        unit: "Bps",
        queries: [
          { expr: `sum by (pod) (rate(kafka_server_brokertopicmetrics_bytesinpersec_total{namespace="${kns}"}[5m]))`, legend: "in {{pod}}" },
          { expr: `sum by (pod) (rate(kafka_server_brokertopicmetrics_bytesoutpersec_total{namespace="${kns}"}[5m]))`, legend: "out {{pod}}" },
        ],
      },
      {
        title: "Replication health",
        unit: "short",
        queries: [
          { expr: `sum(kafka_server_replicamanager_underreplicatedpartitions{namespace="${kns}"})`, legend: "under-replicated" },
          { expr: `sum(kafka_server_replicamanager_underminisrpartitioncount{namespace="${kns}"})`, legend: "under min ISR" },
          { expr: `sum(kafka_server_replicamanager_offlinereplicacount{namespace="${kns}"})`, legend: "offline replicas" },
          { expr: `sum(rate(kafka_server_replicamanager_isrshrinkspersec_total{namespace="${kns}"}[5m]))`, legend: "ISR shrinks/s" },
          { expr: `sum(rate(kafka_server_replicamanager_isrexpandspersec_total{namespace="${kns}"}[5m]))`, legend: "ISR expands/s" },
        ],
      },
      {
        title: "Partitions and leaders per broker",
        unit: "short",
        queries: [
          { expr: `sum by (pod) (kafka_server_replicamanager_partitioncount{namespace="${kns}"})`, legend: "partitions {{pod}}" },
          { expr: `sum by (pod) (kafka_server_replicamanager_leadercount{namespace="${kns}"})`, legend: "leaders {{pod}}" },
        ],
      },
      {
        title: "Produce / fetch latency p99 (ms)",
        unit: "ms",
        queries: [{ expr: `max by (request) (kafka_network_requestmetrics_totaltimems{namespace="${kns}", quantile="0.99"})`, legend: "{{request}}" }],
      },
      {
        title: "Thread idle (1 = idle)",
        unit: "percentunit",
        queries: [
          { expr: `min by (pod) (kafka_network_socketserver_networkprocessoravgidlepercent{namespace="${kns}"})`, legend: "network {{pod}}" },
          { expr: `min by (pod) (kafka_server_kafkarequesthandlerpool_requesthandleravgidlepercent{namespace="${kns}"})`, legend: "request handlers {{pod}}" },
        ],
      },
      {
        title: "Log size per topic and broker volume use",
        unit: "bytes",
        queries: [
          { expr: `sum by (topic) (kafka_log_log_size{namespace="${kns}"})`, legend: "{{topic}}" },
          { expr: `sum by (persistentvolumeclaim) (kubelet_volume_stats_used_bytes{namespace="${kns}"})`, legend: "used {{persistentvolumeclaim}}" },
        ],
      },
      {
        title: "Failed produce requests/s",
        unit: "reqps",
        queries: [{ expr: `sum by (pod) (rate(kafka_server_brokertopicmetrics_failedproducerequestspersec_total{namespace="${kns}"}[5m]))`, legend: "{{pod}}" }],
      },
    ],
  };

  const kraft: DashboardSpec = {
    uid: "watchpipe-kraft",
    title: "watchpipe / KRaft controllers",
    panels: [
      {
        title: "Active controllers (must be 1) and offline partitions",
        unit: "short",
        queries: [
          { expr: `sum(kafka_controller_kafkacontroller_activecontrollercount{namespace="${kns}"})`, legend: "active controllers" },
          { expr: `sum(kafka_controller_kafkacontroller_offlinepartitionscount{namespace="${kns}"})`, legend: "offline partitions" },
        ],
      },
      {
        title: "Quorum leader seen by each node",
        unit: "short",
        queries: [{ expr: `max by (pod) (kafka_server_raft_current_leader{namespace="${kns}"})`, legend: "{{pod}}" }],
      },
      {
        title: "Metadata commit latency (ms)",
        unit: "ms",
        queries: [{ expr: `max by (pod) (kafka_server_raft_commit_latency_avg{namespace="${kns}"})`, legend: "{{pod}}" }],
      },
      {
        title: "Kafka nodes up",
        unit: "short",
        queries: [{ expr: `sum by (${COMPONENT_LABEL}) (up{namespace="${kns}", ${COMPONENT_LABEL}=~"${COMPONENTS.kafkaBroker}|${COMPONENTS.kafkaController}"})`, legend: `{{${COMPONENT_LABEL}}}` }],
      },
    ],
  };

  const connect: DashboardSpec = {
    uid: "watchpipe-connect",
    title: "watchpipe / Kafka Connect",
    panels: [
      {
        title: "Tasks by state",
        unit: "short",
        queries: [
          { expr: `sum by (connector) (kafka_connect_worker_connector_running_task_count{namespace="${kns}"})`, legend: "running {{connector}}" },
          { expr: `sum by (connector) (kafka_connect_worker_connector_failed_task_count{namespace="${kns}"})`, legend: "failed {{connector}}" },
        ],
      },
      {
        title: "Connector and task status",
        unit: "short",
        queries: [
          { expr: `sum by (connector, status) (kafka_connect_connector_status{namespace="${kns}"})`, legend: "connector {{connector}} {{status}}" },
          { expr: `sum by (connector, status) (kafka_connect_task_status{namespace="${kns}"})`, legend: "tasks {{connector}} {{status}}" },
        ],
      },
      {
        title: "Records read from Kafka / written to the database (per s)",
        unit: "reqps",
        queries: [
          { expr: `sum by (connector) (rate(kafka_connect_sink_task_sink_record_read_total{namespace="${kns}"}[5m]))`, legend: "read {{connector}}" },
          { expr: `sum by (connector) (rate(kafka_connect_sink_task_sink_record_send_total{namespace="${kns}"}[5m]))`, legend: "written {{connector}}" },
        ],
      },
      {
        title: "Put batch time (ms)",
        unit: "ms",
        queries: [{ expr: `max by (connector) (kafka_connect_sink_task_put_batch_avg_time_ms{namespace="${kns}"})`, legend: "{{connector}}" }],
      },
      {
        title: "Record errors and dead-lettered records (per s)",
        unit: "reqps",
        queries: [
          { expr: `sum by (connector) (rate(kafka_connect_task_error_total_record_errors_total{namespace="${kns}"}[5m]))`, legend: "errors {{connector}}" },
          { expr: `sum by (connector) (rate(kafka_connect_task_error_deadletterqueue_produce_requests_total{namespace="${kns}"}[5m]))`, legend: "to DLQ {{connector}}" },
        ],
      },
      {
        title: "Workers: connectors and tasks",
        unit: "short",
        queries: [
          { expr: `sum(kafka_connect_worker_connector_count{namespace="${kns}"})`, legend: "connectors" },
          { expr: `sum(kafka_connect_worker_task_count{namespace="${kns}"})`, legend: "tasks" },
        ],
      },
    ],
  };

  const ksqldb: DashboardSpec = {
    uid: "watchpipe-ksqldb",
    title: "watchpipe / ksqlDB",
    panels: [
      {
        title: "Queries by state",
        unit: "short",
        queries: [{ expr: `sum by (state) (ksqldb_queries{namespace="${kns}"})`, legend: "{{state}}" }],
      },
      {
        title: "Persistent queries per server",
        unit: "short",
        queries: [{ expr: `max by (pod) (ksqldb_persistent_queries{namespace="${kns}"})`, legend: "{{pod}}" }],
      },
      {
        title: "Messages consumed/s and error rate",
        unit: "reqps",
        queries: [
          { expr: `sum by (pod) (ksqldb_messages_consumed_per_sec{namespace="${kns}"})`, legend: "consumed {{pod}}" },
          { expr: `sum by (pod) (ksqldb_error_rate{namespace="${kns}"})`, legend: "errors {{pod}}" },
        ],
      },
      {
        title: "Consumer lag (s of input)",
        unit: "s",
        queries: [{ expr: lagSeconds(KSQL_QUERY_GROUP_REGEX), legend: "{{consumergroup}} on {{topic}}" }],
      },
      {
        title: "Query restarts per 15 min",
        unit: "short",
        queries: [{ expr: `sum by (query_id) (increase(ksqldb_query_restart_total{namespace="${kns}"}[15m]))`, legend: "{{query_id}}" }],
      },
      {
        title: "Schema Registry: leader and API failures/s",
        unit: "short",
        queries: [
          { expr: `sum(schema_registry_leader{namespace="${kns}"})`, legend: "leaders" },
          { expr: `sum by (pod) (rate(schema_registry_api_failure_count_total{namespace="${kns}"}[5m]))`, legend: "failures {{pod}}" },
        ],
      },
    ],
  };

  const yugabyte: DashboardSpec = {
    uid: "watchpipe-yugabyte",
    title: "watchpipe / YugabyteDB",
    panels: [
      {
        title: "Masters and tservers up",
        unit: "short",
        queries: [{ expr: `sum by (${COMPONENT_LABEL}) (up{namespace="${yns}"})`, legend: `{{${COMPONENT_LABEL}}}` }],
      },
      {
        title: "Volume use",
        unit: "percentunit",
        queries: [{
          expr: `max by (persistentvolumeclaim) (kubelet_volume_stats_used_bytes{namespace="${yns}"} / kubelet_volume_stats_capacity_bytes{namespace="${yns}"})`,
          legend: "{{persistentvolumeclaim}}",
        }],
      },
      {
        title: "Rows written by the sink (per s)",
        unit: "reqps",
        queries: [{ expr: `sum(rate(kafka_connect_sink_task_sink_record_send_total{namespace="${kns}"}[5m]))`, legend: "upserts" }],
      },
      {
        title: "Pod restarts (1h)",
        unit: "short",
        queries: [{ expr: `sum by (pod) (increase(kube_pod_container_status_restarts_total{namespace="${yns}"}[1h]))`, legend: "{{pod}}" }],
      },
    ],
  };

  return [pipeline, brokers, kraft, connect, ksqldb, yugabyte];
}
