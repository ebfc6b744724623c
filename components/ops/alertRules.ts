/**
 * The pipeline's alert rules (a PrometheusRule's `spec.groups`), built by a pure function so `promtool test rules`
 * can run the exact rules the cluster gets (test/promtool.test.ts) and the render tool can show them.
 *
 * Every rule carries `severity` (critical pages, warning tickets), a summary, a description naming what to look at,
 * and a `runbook_url` into docs/runbooks/. Annotations use `{{ $labels.x }}` only (no `$value` formatting), so the
 * promtool tests can state the exact text they expect.
 */
import { HEARTBEATS_TOPIC, LATE_HEARTBEATS_TOPIC, RAW_HEARTBEATS_TOPIC, WATCH_SEGMENTS_DLQ_TOPIC, WATCH_SEGMENTS_TOPIC } from "../../contract/topics";
import { KSQL_PROCESSING_LOG_TOPIC } from "../../contract/acls";
import { KSQL_SERVICE_ID, SINK_CONNECTOR_NAME } from "../../contract/clients";
import { REJECTS_ALERT_AFTER_SEC, REJECTS_CHECK_NAME } from "../../connectors/rejectsCheck";
import { BACKUP_ALERT_AFTER_SEC, BACKUP_CRONJOB_NAME } from "../../contract/backup";
import { MAINTENANCE_CRONJOB_NAME, maintenanceAlertAfterSec } from "../../contract/database";

/** `watchpipe_component` label values the monitors set on every target (components/ops/monitorSpecs.ts). */
export const COMPONENT_LABEL = "watchpipe_component";
export const COMPONENTS = {
  kafkaBroker: "kafka-broker",
  kafkaController: "kafka-controller",
  kafkaExporter: "kafka-exporter",
  connect: "kafka-connect",
  bridge: "kafka-bridge",
  ingestGateway: "ingest-gateway",
  ksqldb: "ksqldb",
  schemaRegistry: "schema-registry",
  ybMaster: "yb-master",
  ybTserver: "yb-tserver",
  strimziOperator: "strimzi-operator",
} as const;

/** Runbook files under docs/runbooks/ and the anchors the rules link to (test/monitoring.test.ts checks both exist). */
export const RUNBOOKS = {
  brokerLoss: "broker-loss.md",
  connector: "connector-failed.md",
  ksqldb: "ksqldb-query.md",
  yugabyte: "yugabyte.md",
  disk: "disk-full.md",
  certificates: "certificates.md",
} as const;

export interface AlertRuleArgs {
  readonly kafkaNamespace: string;
  readonly yugabyteNamespace: string;
  readonly brokers: number;
  readonly tservers: number;
  /**
   * How far (in seconds of input at the current rate) ksqlDB and the sink may fall behind before the alert fires.
   * Sessions close gap + grace after their last heartbeat; lag adds to that delay.
   */
  readonly lagBudgetSec: number;
  /** `database.maintenanceEveryMinutes`: the maintenance CronJob's interval, which its staleness alert counts in. */
  readonly maintenanceEveryMinutes: number;
  /** Where docs/runbooks/ is served, without a trailing slash. */
  readonly runbookBaseUrl: string;
}

export interface AlertRule {
  readonly alert: string;
  readonly expr: string;
  readonly for: string;
  readonly labels: { readonly severity: "critical" | "warning" };
  readonly annotations: { readonly summary: string; readonly description: string; readonly runbook_url: string };
}

export interface RuleGroup {
  readonly name: string;
  readonly rules: readonly AlertRule[];
}

/** Strimzi renews its CAs 30 days before expiry (`renewalDays`); below this something stopped the renewal. */
export const CERT_EXPIRY_WARNING_DAYS = 21;
/** Kubernetes volumes the pipeline's data sits on: warn at 80 %, page at 90 % (a full broker disk stops it). */
export const DISK_WARNING_RATIO = 0.8;
export const DISK_CRITICAL_RATIO = 0.9;

/** ksqlDB persistent queries' consumer groups: `_confluent-ksql-<service.id>query_<id>`. */
export const KSQL_QUERY_GROUP_REGEX = `_confluent-ksql-${KSQL_SERVICE_ID}.*`;
/** The sink connector's consumer group (Connect names sink groups `connect-<connector>`). */
export const SINK_CONSUMER_GROUP = `connect-${SINK_CONNECTOR_NAME}`;
/**
 * Share of raw heartbeats rejected as `late:` (played more than an hour before they were sent) above which
 * HeartbeatsRejectedLate fires: 0.1 %, averaged over {@link LATE_REJECT_WINDOW}. Offline queues and retries make a
 * few; more means players (or a backlog upstream of the Bridge) hold heartbeats for hours.
 */
export const LATE_REJECT_ALERT_SHARE = 0.001;
export const LATE_REJECT_WINDOW = "30m";
/** Kafka Streams states that mean a query is not processing (ksqlDB reports a count per state). */
export const KSQL_BAD_QUERY_STATES = ["ERROR", "PENDING_ERROR", "NOT_RUNNING", "PENDING_SHUTDOWN"] as const;

export function alertRuleGroups(a: AlertRuleArgs): RuleGroup[] {
  const kns = a.kafkaNamespace;
  const yns = a.yugabyteNamespace;
  const link = (file: string, anchor: string) => `${a.runbookBaseUrl}/${file}#${anchor}`;
  const comp = (c: string) => `${COMPONENT_LABEL}="${c}"`;
  const topicIn = (topic: string, range: string) =>
    `sum(increase(kafka_server_brokertopicmetrics_messagesinpersec_total{namespace="${kns}", topic="${topic}"}[${range}]))`;
  const lagSeconds = (group: string) =>
    `sum by (consumergroup, topic) (kafka_consumergroup_lag{namespace="${kns}", consumergroup=~"${group}"})\n` +
    `  / on (topic) group_left\n` +
    `sum by (topic) (rate(kafka_server_brokertopicmetrics_messagesinpersec_total{namespace="${kns}"}[5m]))`;

  const kafka: AlertRule[] = [
    {
      alert: "KafkaBrokersMissing",
      expr: `(count(up{namespace="${kns}", ${comp(COMPONENTS.kafkaBroker)}} == 1) or vector(0)) < ${a.brokers}`,
      for: "2m",
      labels: { severity: "critical" },
      annotations: {
        summary: "Fewer Kafka brokers are up than the cluster has",
        description: `Fewer than ${a.brokers} broker metrics endpoints answer in ${kns}. With one broker lost, partitions run at min ISR; with two, acks=all writes stop.`,
        runbook_url: link(RUNBOOKS.brokerLoss, "a-broker-is-down"),
      },
    },
    {
      alert: "KafkaOfflinePartitions",
      expr: `sum(kafka_controller_kafkacontroller_offlinepartitionscount{namespace="${kns}"}) > 0`,
      for: "1m",
      labels: { severity: "critical" },
      annotations: {
        summary: "Kafka partitions have no leader",
        description: "The active controller reports offline partitions: nothing can be written to or read from them.",
        runbook_url: link(RUNBOOKS.brokerLoss, "offline-partitions"),
      },
    },
    {
      alert: "KafkaUnderMinIsrPartitions",
      expr: `sum by (pod) (kafka_server_replicamanager_underminisrpartitioncount{namespace="${kns}"}) > 0`,
      for: "1m",
      labels: { severity: "critical" },
      annotations: {
        summary: "Partitions led by {{ $labels.pod }} are below min.insync.replicas",
        description: "acks=all producers (the Bridge, ksqlDB) are refused on these partitions until a replica catches up.",
        runbook_url: link(RUNBOOKS.brokerLoss, "under-min-isr"),
      },
    },
    {
      alert: "KafkaUnderReplicatedPartitions",
      expr: `sum by (pod) (kafka_server_replicamanager_underreplicatedpartitions{namespace="${kns}"}) > 0`,
      for: "10m",
      labels: { severity: "warning" },
      annotations: {
        summary: "{{ $labels.pod }} leads under-replicated partitions",
        description: "A follower has been out of the ISR for 10 minutes: one more broker loss would stop writes to these partitions.",
        runbook_url: link(RUNBOOKS.brokerLoss, "under-replicated-partitions"),
      },
    },
    {
      alert: "KafkaIsrShrinking",
      expr: `sum by (pod) (increase(kafka_server_replicamanager_isrshrinkspersec_total{namespace="${kns}"}[10m])) > 0`,
      for: "15m",
      labels: { severity: "warning" },
      annotations: {
        summary: "ISRs keep shrinking on {{ $labels.pod }}",
        description: "Followers keep dropping out of the ISR for 25 minutes; outside a rolling restart that is a slow disk, network or GC pauses.",
        runbook_url: link(RUNBOOKS.brokerLoss, "isr-shrinks"),
      },
    },
    {
      alert: "KafkaNoActiveController",
      expr: `(sum(kafka_controller_kafkacontroller_activecontrollercount{namespace="${kns}"}) or vector(0)) != 1`,
      for: "2m",
      labels: { severity: "critical" },
      annotations: {
        summary: "The KRaft quorum has no single active controller",
        description: "No controller (or more than one) reports itself active: topic, ISR and leadership changes are stuck.",
        runbook_url: link(RUNBOOKS.brokerLoss, "no-active-controller"),
      },
    },
    {
      alert: "KafkaCertificateExpiring",
      expr: `min by (cluster, type) (strimzi_certificate_expiration_timestamp_ms{resource_namespace="${kns}"}) / 1000 - time() < ${CERT_EXPIRY_WARNING_DAYS} * 86400`,
      for: "1h",
      labels: { severity: "warning" },
      annotations: {
        summary: "Strimzi {{ $labels.type }} certificate of {{ $labels.cluster }} expires within " + `${CERT_EXPIRY_WARNING_DAYS} days`,
        description: "Strimzi renews its CAs 30 days ahead; a certificate this close to expiry means renewal is not happening.",
        runbook_url: link(RUNBOOKS.certificates, "strimzi-certificate-expiring"),
      },
    },
  ];

  const disks = (ratio: number) =>
    `max by (namespace, persistentvolumeclaim) (kubelet_volume_stats_used_bytes{namespace=~"${kns}|${yns}"}\n` +
    `  / kubelet_volume_stats_capacity_bytes{namespace=~"${kns}|${yns}"}) > ${ratio}`;
  const storage: AlertRule[] = [
    {
      alert: "DataVolumeFilling",
      expr: disks(DISK_WARNING_RATIO),
      for: "10m",
      labels: { severity: "warning" },
      annotations: {
        summary: "{{ $labels.persistentvolumeclaim }} in {{ $labels.namespace }} is over 80 % full",
        description: "A broker, ksqlDB state or YugabyteDB volume is filling. Grow it or shorten retention before it is full.",
        runbook_url: link(RUNBOOKS.disk, "volume-over-80"),
      },
    },
    {
      alert: "DataVolumeAlmostFull",
      expr: disks(DISK_CRITICAL_RATIO),
      for: "5m",
      labels: { severity: "critical" },
      annotations: {
        summary: "{{ $labels.persistentvolumeclaim }} in {{ $labels.namespace }} is over 90 % full",
        description: "A full broker log directory takes the broker offline; a full tserver volume stops writes.",
        runbook_url: link(RUNBOOKS.disk, "volume-over-90"),
      },
    },
  ];

  const stream: AlertRule[] = [
    {
      alert: "KsqldbLagBeyondCloseBudget",
      expr: `(${lagSeconds(KSQL_QUERY_GROUP_REGEX)}) > ${a.lagBudgetSec}`,
      for: "5m",
      labels: { severity: "warning" },
      annotations: {
        summary: "ksqlDB query {{ $labels.consumergroup }} is behind on {{ $labels.topic }}",
        description: `Its lag is more than ${a.lagBudgetSec} s of input at the current rate, so sessions close later than the close-delay budget.`,
        runbook_url: link(RUNBOOKS.ksqldb, "lag-beyond-budget"),
      },
    },
    {
      alert: "KsqldbQueryNotRunning",
      expr: `sum by (pod, state) (ksqldb_queries{namespace="${kns}", state=~"${KSQL_BAD_QUERY_STATES.join("|")}"}) > 0`,
      for: "2m",
      labels: { severity: "critical" },
      annotations: {
        summary: "ksqlDB on {{ $labels.pod }} has queries in state {{ $labels.state }}",
        description: "A persistent query stopped processing: heartbeats are not validated or sessions not computed.",
        runbook_url: link(RUNBOOKS.ksqldb, "query-not-running"),
      },
    },
    {
      alert: "KsqldbProcessingLogErrors",
      expr: `${topicIn(KSQL_PROCESSING_LOG_TOPIC, "10m")} > 0`,
      for: "10m",
      labels: { severity: "warning" },
      annotations: {
        summary: "ksqlDB keeps writing to its processing log",
        description: `Records are arriving on ${KSQL_PROCESSING_LOG_TOPIC} for 20 minutes: rows ksqlDB could not deserialize or compute. Read the log topic.`,
        runbook_url: link(RUNBOOKS.ksqldb, "processing-log-errors"),
      },
    },
    {
      alert: "KsqldbRecordsDropped",
      // Kafka Streams' task-level dropped-records count: records for windows that had already closed, records it
      // could not read or key. Nothing else counts them (ksqlDB only logs a WARN per record).
      expr: `sum by (pod, query_id) (increase(ksqldb_streams_dropped_records_total{namespace="${kns}"}[10m])) > 0`,
      for: "5m",
      labels: { severity: "warning" },
      annotations: {
        summary: "ksqlDB query {{ $labels.query_id }} on {{ $labels.pod }} drops records",
        description: "Kafka Streams dropped records in this query in the last 10 minutes: they are in no piece and no reject. Replay from heartbeats_raw (kept 24 h) once the cause is fixed.",
        runbook_url: link(RUNBOOKS.ksqldb, "records-dropped"),
      },
    },
    {
      alert: "HeartbeatsRejectedLate",
      // ksqlDB counts the records its queries write per topic (heartbeats_late: the late: rejects, one query writes
      // them; no transaction markers); the brokers count what arrives on heartbeats_raw (plain producers, no markers).
      expr:
        `sum(rate(ksqldb_query_records_produced_total{namespace="${kns}", topic="${LATE_HEARTBEATS_TOPIC}"}[${LATE_REJECT_WINDOW}]))\n` +
        `  /\n` +
        `sum(rate(kafka_server_brokertopicmetrics_messagesinpersec_total{namespace="${kns}", topic="${RAW_HEARTBEATS_TOPIC}"}[${LATE_REJECT_WINDOW}]))\n` +
        `  > ${LATE_REJECT_ALERT_SHARE}`,
      for: "5m",
      labels: { severity: "warning" },
      annotations: {
        summary: `More than ${LATE_REJECT_ALERT_SHARE * 100} % of heartbeats are rejected as late`,
        description: `Over ${LATE_REJECT_WINDOW}, more than ${LATE_REJECT_ALERT_SHARE * 100} % of the records on ${RAW_HEARTBEATS_TOPIC} were played more than an hour before they were sent (reason late: in heartbeats_rejected, copied to ${LATE_HEARTBEATS_TOPIC}): those viewings are not counted.`,
        runbook_url: link(RUNBOOKS.ksqldb, "late-heartbeats-rejected"),
      },
    },
    {
      alert: "SchemaRegistryNoLeader",
      // No instance reports the leader role, or none is scraped at all (all down looks the same to ksqlDB).
      expr: `(max(schema_registry_leader{namespace="${kns}"}) or vector(0)) < 1`,
      for: "5m",
      labels: { severity: "warning" },
      annotations: {
        summary: "No Schema Registry instance is the leader",
        description: "Schemas can be read but not registered: a new or replaced ksqlDB query, or a migration, that writes a new schema fails. Running queries keep their cached schema ids.",
        runbook_url: link(RUNBOOKS.ksqldb, "schema-registry-no-leader"),
      },
    },
    {
      alert: "SessionsNotClosing",
      expr: `${topicIn(HEARTBEATS_TOPIC, "15m")} > 0\nand\n(${topicIn(WATCH_SEGMENTS_TOPIC, "15m")} or vector(0)) == 0`,
      for: "5m",
      labels: { severity: "critical" },
      annotations: {
        summary: "Heartbeats arrive but no watch segments come out",
        description: `Validated heartbeats reach ${HEARTBEATS_TOPIC} but nothing was written to ${WATCH_SEGMENTS_TOPIC} for 20 minutes: the session ticker is silent or the session query is stuck.`,
        runbook_url: link(RUNBOOKS.ksqldb, "sessions-not-closing"),
      },
    },
    {
      alert: "SessionTickerDown",
      expr: `(max(kube_deployment_status_replicas_available{namespace="${kns}", deployment="session-ticker"}) or vector(0)) < 1`,
      for: "5m",
      labels: { severity: "critical" },
      annotations: {
        summary: "The session tick source is not running",
        description: "Without ticks, quiet partitions never close their sessions (EMIT FINAL waits for stream time).",
        runbook_url: link(RUNBOOKS.ksqldb, "sessions-not-closing"),
      },
    },
    {
      alert: "RawHeartbeatsStopped",
      expr: `(${topicIn(RAW_HEARTBEATS_TOPIC, "10m")} or vector(0)) == 0`,
      for: "10m",
      labels: { severity: "warning" },
      annotations: {
        summary: `Nothing arrives on ${RAW_HEARTBEATS_TOPIC}`,
        description: "Not even the session ticker's ticks (its own producer, straight to the brokers) reach the raw topic for 20 minutes: the brokers refuse producers, or the ticker is down too.",
        runbook_url: link(RUNBOOKS.brokerLoss, "nothing-arrives"),
      },
    },
  ];

  const sink: AlertRule[] = [
    {
      alert: "ConnectTaskFailed",
      expr: `sum by (connector) (kafka_connect_worker_connector_failed_task_count{namespace="${kns}"}) > 0`,
      for: "1m",
      labels: { severity: "critical" },
      annotations: {
        summary: "Connector {{ $labels.connector }} has FAILED tasks",
        description: "A failed sink task writes nothing until it is restarted; segments pile up in Kafka.",
        runbook_url: link(RUNBOOKS.connector, "task-failed"),
      },
    },
    {
      alert: "ConnectConnectorNotRunning",
      expr: `max by (connector, status) (kafka_connect_connector_status{namespace="${kns}", status=~"failed|unassigned|paused"}) == 1`,
      for: "5m",
      labels: { severity: "critical" },
      annotations: {
        summary: "Connector {{ $labels.connector }} is {{ $labels.status }}",
        description: "The connector itself is not running, so no task is.",
        runbook_url: link(RUNBOOKS.connector, "connector-not-running"),
      },
    },
    {
      alert: "SinkDeadLetterQueueGrowing",
      expr: `${topicIn(WATCH_SEGMENTS_DLQ_TOPIC, "10m")} > 0`,
      for: "1m",
      labels: { severity: "warning" },
      annotations: {
        summary: `Segments are going to ${WATCH_SEGMENTS_DLQ_TOPIC}`,
        description: "Records the sink could not convert (not valid JSON/Avro, or a field missing) went to the DLQ topic; those pieces are not in YugabyteDB.",
        runbook_url: link(RUNBOOKS.connector, "dlq-growing"),
      },
    },
    {
      alert: "SinkRowsRefused",
      // The check CronJob fails while refused pieces wait unacknowledged; before its first success, count from its
      // creation. A check that cannot reach the database alerts the same way (nobody can tell it is empty).
      expr: `time() - max(kube_cronjob_status_last_successful_time{namespace="${yns}", cronjob="${REJECTS_CHECK_NAME}"}` +
        ` or kube_cronjob_created{namespace="${yns}", cronjob="${REJECTS_CHECK_NAME}"}) > ${REJECTS_ALERT_AFTER_SEC}`,
      for: "1m",
      labels: { severity: "warning" },
      annotations: {
        summary: "YugabyteDB refused pieces; they wait in watch_pieces_rejected",
        description: `The ${REJECTS_CHECK_NAME} CronJob has not passed for ${REJECTS_ALERT_AFTER_SEC / 60} minutes: pieces broke a rule of watch_pieces and were diverted (the sink kept running), or the check cannot reach YSQL. Its last Job's log names the rules.`,
        runbook_url: link(RUNBOOKS.connector, "rows-refused"),
      },
    },
    {
      alert: "SinkLagBeyondBudget",
      expr: `(${lagSeconds(SINK_CONSUMER_GROUP)}) > ${a.lagBudgetSec}`,
      for: "10m",
      labels: { severity: "warning" },
      annotations: {
        summary: "The YugabyteDB sink is behind on {{ $labels.topic }}",
        description: `Its lag is more than ${a.lagBudgetSec} s of input at the current rate: the database writes slower than segments arrive.`,
        runbook_url: link(RUNBOOKS.connector, "sink-lag"),
      },
    },
  ];

  const database: AlertRule[] = [
    {
      alert: "YugabyteTserverDown",
      expr: `(count(up{namespace="${yns}", ${comp(COMPONENTS.ybTserver)}} == 1) or vector(0)) < ${a.tservers}`,
      for: "2m",
      labels: { severity: "critical" },
      annotations: {
        summary: "Fewer YugabyteDB tservers are up than the universe has",
        description: `Fewer than ${a.tservers} tservers answer. RF 3 survives one; tablets led there re-elect, writes resume in seconds. Two down stops writes.`,
        runbook_url: link(RUNBOOKS.yugabyte, "tserver-down"),
      },
    },
    {
      alert: "YugabyteMasterDown",
      expr: `up{namespace="${yns}", ${comp(COMPONENTS.ybMaster)}} == 0`,
      for: "2m",
      labels: { severity: "critical" },
      annotations: {
        summary: "YugabyteDB master {{ $labels.pod }} is down",
        description: "The masters hold the catalog and move tablets; with a majority down no DDL and no tablet re-replication happen.",
        runbook_url: link(RUNBOOKS.yugabyte, "master-down"),
      },
    },
    {
      alert: "BackupMissing",
      // Daily CronJob (backup.enabled): no success for a day and two hours, counted from its creation before the first.
      // Without backups the CronJob and so the series do not exist, and config requires them in prod.
      expr: `time() - max(kube_cronjob_status_last_successful_time{namespace="${yns}", cronjob="${BACKUP_CRONJOB_NAME}"}` +
        ` or kube_cronjob_created{namespace="${yns}", cronjob="${BACKUP_CRONJOB_NAME}"}) > ${BACKUP_ALERT_AFTER_SEC}`,
      for: "5m",
      labels: { severity: "critical" },
      annotations: {
        summary: "No YugabyteDB backup has succeeded for more than a day",
        description: `The ${BACKUP_CRONJOB_NAME} CronJob has not completed for ${BACKUP_ALERT_AFTER_SEC / 3600} h: a dump or upload failed, or no run started. The newest backup in S3 is older than a day.`,
        runbook_url: link(RUNBOOKS.yugabyte, "backup-missing"),
      },
    },
    {
      alert: "DatabaseMaintenanceStale",
      // No successful maintenance run for a few intervals, counted from the CronJob's creation before the first:
      // closed segments stop reaching the reports, and partitions stop being created ahead and dropped.
      expr: `time() - max(kube_cronjob_status_last_successful_time{namespace="${yns}", cronjob="${MAINTENANCE_CRONJOB_NAME}"}` +
        ` or kube_cronjob_created{namespace="${yns}", cronjob="${MAINTENANCE_CRONJOB_NAME}"}) > ${maintenanceAlertAfterSec(a.maintenanceEveryMinutes)}`,
      for: "5m",
      labels: { severity: "critical" },
      annotations: {
        summary: "The database maintenance job has not succeeded for several intervals",
        description: `The ${MAINTENANCE_CRONJOB_NAME} CronJob (every ${a.maintenanceEveryMinutes} min) has not completed for ${maintenanceAlertAfterSec(a.maintenanceEveryMinutes) / 60} min: reports miss the segments closed since, expired partitions stay, and once the day partitions created ahead run out, new pieces pile up in the default partition.`,
        runbook_url: link(RUNBOOKS.yugabyte, "maintenance-stale"),
      },
    },
  ];

  return [
    { name: "watchpipe-kafka", rules: kafka },
    { name: "watchpipe-storage", rules: storage },
    { name: "watchpipe-stream", rules: stream },
    { name: "watchpipe-sink", rules: sink },
    { name: "watchpipe-yugabyte", rules: database },
  ];
}
