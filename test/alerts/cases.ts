/**
 * Synthetic series for every alert rule: each case says what failure makes the rule fire (and with which labels),
 * and what healthy or merely transient behaviour must keep it silent. test/promtool.test.ts turns these into
 * `promtool test rules` files; series use promtool's expanding notation ('0+1x10' = 0, 1, …, 10 one interval apart).
 */
import { SINK_CONNECTOR_NAME } from "../../contract/clients";
import type { AlertRuleArgs } from "../../components/ops/alertRules";

/** The rule arguments the cases are written against. */
export const CASE_ARGS: AlertRuleArgs = {
  kafkaNamespace: "kafka",
  yugabyteNamespace: "yugabyte",
  brokers: 3,
  tservers: 3,
  lagBudgetSec: 300,
  maintenanceEveryMinutes: 5,
  runbookBaseUrl: "https://runbooks.example/docs/runbooks",
};

export interface Series {
  readonly series: string;
  readonly values: string;
}

export interface Scenario {
  readonly why: string;
  readonly series: readonly Series[];
  /** Minutes after the first sample (the series step is one minute). */
  readonly evalMinutes: number;
  /** Label sets (beyond the rule's own labels) of the alerts expected firing; empty means silent. */
  readonly firing: readonly Readonly<Record<string, string>>[];
}

export interface AlertCase {
  readonly alert: string;
  readonly scenarios: readonly Scenario[];
}

const K = 'namespace="kafka"';
const sinkGroup = `connect-${SINK_CONNECTOR_NAME}`;
const ksqlGroup = "_confluent-ksql-watchpipe_query_CSAS_WATCH_SEGMENTS_3";
const topicIn = (topic: string, values: string, pod = "watchpipe-broker-0"): Series => ({
  series: `kafka_server_brokertopicmetrics_messagesinpersec_total{${K}, pod="${pod}", topic="${topic}"}`,
  values,
});
/** Kafka Streams' dropped-records counter of one task of one query on ksqldb-0. */
const dropped = (query: string, task: string, values: string): Series => ({
  series: `ksqldb_streams_dropped_records_total{${K}, pod="ksqldb-0", query_id="${query}", task_id="${task}"}`,
  values,
});
/** Records the late-copy query wrote to heartbeats_late (the late: rejects), as ksqlDB counts them per query. */
const lateSent = (values: string): Series => ({
  series: `ksqldb_query_records_produced_total{${K}, pod="ksqldb-0", query_id="CSAS_HEARTBEATS_LATE_21", topic="heartbeats_late", member="m1"}`,
  values,
});
const up = (ns: string, component: string, pod: string, values: string): Series => ({
  series: `up{namespace="${ns}", watchpipe_component="${component}", pod="${pod}"}`,
  values,
});
const volume = (ns: string, pvc: string, usedPct: number): Series[] => [
  { series: `kubelet_volume_stats_used_bytes{namespace="${ns}", persistentvolumeclaim="${pvc}", node="n1"}`, values: `${usedPct}x30` },
  { series: `kubelet_volume_stats_capacity_bytes{namespace="${ns}", persistentvolumeclaim="${pvc}", node="n1"}`, values: "100x30" },
];
const lag = (group: string, topic: string, records: number): Series => ({
  series: `kafka_consumergroup_lag{${K}, consumergroup="${group}", topic="${topic}", partition="0"}`,
  values: `${records}x30`,
});
/** kube-state-metrics series of the rejects check CronJob in the yugabyte namespace. */
const rejectsCheck = (metric: "last_successful_time" | "created", values: string): Series => ({
  series: `kube_cronjob_${metric === "created" ? "created" : "status_last_successful_time"}{namespace="yugabyte", cronjob="sink-rejects-check"}`,
  values,
});
const backupCron = (metric: "last_successful_time" | "created", values: string): Series => ({
  series: `kube_cronjob_${metric === "created" ? "created" : "status_last_successful_time"}{namespace="yugabyte", cronjob="yugabyte-backup"}`,
  values,
});
/** kube-state-metrics series of the database maintenance CronJob (every 5 min in CASE_ARGS: alert after 15 min). */
const maintenanceCron = (metric: "last_successful_time" | "created", values: string): Series => ({
  series: `kube_cronjob_${metric === "created" ? "created" : "status_last_successful_time"}{namespace="yugabyte", cronjob="database-maintenance"}`,
  values,
});
/** 6000 records a minute = 100/s across the topic's leaders. */
const inputAt100PerSec = (topic: string): Series => topicIn(topic, "0+6000x30");

export const ALERT_CASES: readonly AlertCase[] = [
  {
    alert: "KafkaBrokersMissing",
    scenarios: [
      {
        why: "one of three brokers stops answering",
        series: [up("kafka", "kafka-broker", "b0", "1x20"), up("kafka", "kafka-broker", "b1", "1x20"), up("kafka", "kafka-broker", "b2", "1x5 0x15")],
        evalMinutes: 10,
        firing: [{}],
      },
      { why: "no broker target is scraped at all", series: [up("kafka", "kafka-connect", "c0", "1x20")], evalMinutes: 10, firing: [{}] },
      {
        why: "all three up",
        series: [up("kafka", "kafka-broker", "b0", "1x20"), up("kafka", "kafka-broker", "b1", "1x20"), up("kafka", "kafka-broker", "b2", "1x20")],
        evalMinutes: 10,
        firing: [],
      },
      {
        why: "a one-minute scrape gap (rolling restart) stays under the 2m for",
        series: [up("kafka", "kafka-broker", "b0", "1x20"), up("kafka", "kafka-broker", "b1", "1x20"), up("kafka", "kafka-broker", "b2", "1x8 0 1x11")],
        evalMinutes: 10,
        firing: [],
      },
    ],
  },
  {
    alert: "KafkaOfflinePartitions",
    scenarios: [
      { why: "the controller reports two offline partitions", series: [{ series: `kafka_controller_kafkacontroller_offlinepartitionscount{${K}, pod="c0"}`, values: "0x3 2x10" }], evalMinutes: 10, firing: [{}] },
      { why: "none offline", series: [{ series: `kafka_controller_kafkacontroller_offlinepartitionscount{${K}, pod="c0"}`, values: "0x13" }], evalMinutes: 10, firing: [] },
    ],
  },
  {
    alert: "KafkaUnderMinIsrPartitions",
    scenarios: [
      { why: "a broker leads a partition below min ISR", series: [{ series: `kafka_server_replicamanager_underminisrpartitioncount{${K}, pod="b1"}`, values: "0 0 1x10" }], evalMinutes: 5, firing: [{ pod: "b1" }] },
      { why: "all at or above min ISR", series: [{ series: `kafka_server_replicamanager_underminisrpartitioncount{${K}, pod="b1"}`, values: "0x12" }], evalMinutes: 5, firing: [] },
      { why: "another namespace's Kafka is not ours", series: [{ series: `kafka_server_replicamanager_underminisrpartitioncount{namespace="other", pod="b1"}`, values: "1x12" }], evalMinutes: 5, firing: [] },
    ],
  },
  {
    alert: "KafkaUnderReplicatedPartitions",
    scenarios: [
      { why: "under-replicated for more than 10 minutes", series: [{ series: `kafka_server_replicamanager_underreplicatedpartitions{${K}, pod="b0"}`, values: "0 5x20" }], evalMinutes: 15, firing: [{ pod: "b0" }] },
      { why: "a two-minute blip while a broker restarts", series: [{ series: `kafka_server_replicamanager_underreplicatedpartitions{${K}, pod="b0"}`, values: "0 3 3 0x18" }], evalMinutes: 15, firing: [] },
    ],
  },
  {
    alert: "KafkaIsrShrinking",
    scenarios: [
      { why: "ISR shrinks every minute for half an hour", series: [{ series: `kafka_server_replicamanager_isrshrinkspersec_total{${K}, pod="b2"}`, values: "0+1x40" }], evalMinutes: 30, firing: [{ pod: "b2" }] },
      { why: "a burst during a restart, then stable", series: [{ series: `kafka_server_replicamanager_isrshrinkspersec_total{${K}, pod="b2"}`, values: "0 5 10 10x37" }], evalMinutes: 30, firing: [] },
    ],
  },
  {
    alert: "KafkaNoActiveController",
    scenarios: [
      {
        why: "the active controller stops reporting itself active",
        series: [
          { series: `kafka_controller_kafkacontroller_activecontrollercount{${K}, pod="c0"}`, values: "1x3 0x10" },
          { series: `kafka_controller_kafkacontroller_activecontrollercount{${K}, pod="c1"}`, values: "0x13" },
        ],
        evalMinutes: 10,
        firing: [{}],
      },
      {
        why: "exactly one active controller, moving from c0 to c1",
        series: [
          { series: `kafka_controller_kafkacontroller_activecontrollercount{${K}, pod="c0"}`, values: "1x5 0x8" },
          { series: `kafka_controller_kafkacontroller_activecontrollercount{${K}, pod="c1"}`, values: "0x5 1x8" },
        ],
        evalMinutes: 10,
        firing: [],
      },
    ],
  },
  {
    alert: "KafkaCertificateExpiring",
    scenarios: [
      {
        why: "the clients CA expires in 10 days (evaluated at 2h: 7200 s + 10 d)",
        series: [{ series: `strimzi_certificate_expiration_timestamp_ms{resource_namespace="kafka", cluster="watchpipe", type="clients-ca", pod="op"}`, values: "871200000x130" }],
        evalMinutes: 120,
        firing: [{ cluster: "watchpipe", type: "clients-ca" }],
      },
      {
        why: "60 days left",
        series: [{ series: `strimzi_certificate_expiration_timestamp_ms{resource_namespace="kafka", cluster="watchpipe", type="clients-ca", pod="op"}`, values: "5191200000x130" }],
        evalMinutes: 120,
        firing: [],
      },
    ],
  },
  {
    alert: "DataVolumeFilling",
    scenarios: [
      { why: "a broker volume at 85 %", series: volume("kafka", "data-0-watchpipe-broker-0", 85), evalMinutes: 20, firing: [{ namespace: "kafka", persistentvolumeclaim: "data-0-watchpipe-broker-0" }] },
      { why: "a tserver volume at 95 % fires the warning too", series: volume("yugabyte", "datadir0-yb-tserver-0", 95), evalMinutes: 20, firing: [{ namespace: "yugabyte", persistentvolumeclaim: "datadir0-yb-tserver-0" }] },
      { why: "half full", series: volume("kafka", "data-0-watchpipe-broker-0", 50), evalMinutes: 20, firing: [] },
      { why: "a volume outside the pipeline's namespaces", series: volume("monitoring", "prometheus-db", 99), evalMinutes: 20, firing: [] },
    ],
  },
  {
    alert: "DataVolumeAlmostFull",
    scenarios: [
      { why: "a broker volume at 95 %", series: volume("kafka", "data-0-watchpipe-broker-0", 95), evalMinutes: 20, firing: [{ namespace: "kafka", persistentvolumeclaim: "data-0-watchpipe-broker-0" }] },
      { why: "85 % is only a warning", series: volume("kafka", "data-0-watchpipe-broker-0", 85), evalMinutes: 20, firing: [] },
    ],
  },
  {
    alert: "KsqldbLagBeyondCloseBudget",
    scenarios: [
      {
        why: "200 000 records behind at 100/s = 2000 s > 300 s",
        series: [lag(ksqlGroup, "heartbeats", 200_000), inputAt100PerSec("heartbeats")],
        evalMinutes: 15,
        firing: [{ consumergroup: ksqlGroup, topic: "heartbeats" }],
      },
      { why: "1000 records behind = 10 s", series: [lag(ksqlGroup, "heartbeats", 1000), inputAt100PerSec("heartbeats")], evalMinutes: 15, firing: [] },
      { why: "the sink's group is not a ksqlDB query", series: [lag(sinkGroup, "heartbeats", 200_000), inputAt100PerSec("heartbeats")], evalMinutes: 15, firing: [] },
    ],
  },
  {
    alert: "KsqldbRecordsDropped",
    scenarios: [
      {
        why: "the window query drops 40 records a minute",
        series: [dropped("CTAS_HEARTBEAT_WINDOWS_5", "0_3", "0+40x20"), dropped("CSAS_HEARTBEATS_1", "0_3", "0x20")],
        evalMinutes: 15,
        firing: [{ pod: "ksqldb-0", query_id: "CTAS_HEARTBEAT_WINDOWS_5" }],
      },
      { why: "nothing dropped", series: [dropped("CTAS_HEARTBEAT_WINDOWS_5", "0_3", "0x30")], evalMinutes: 25, firing: [] },
      { why: "a counter that restarts at 0 with the pod is no drop", series: [dropped("CTAS_HEARTBEAT_WINDOWS_5", "0_3", "7x10 0x20")], evalMinutes: 25, firing: [] },
      { why: "one drop long ago is over", series: [dropped("CTAS_HEARTBEAT_WINDOWS_5", "0_3", "0 1x40")], evalMinutes: 30, firing: [] },
    ],
  },
  {
    alert: "HeartbeatsRejectedLate",
    scenarios: [
      {
        why: "0.5 % of heartbeats late (3 of 600 a minute)",
        series: [topicIn("heartbeats_raw", "0+600x60"), lateSent("0+3x60")],
        evalMinutes: 50,
        firing: [{}],
      },
      { why: "0.05 % late (3 of 6,000 a minute)", series: [topicIn("heartbeats_raw", "0+6000x60"), lateSent("0+3x60")], evalMinutes: 50, firing: [] },
      { why: "no late reject ever sent (no series at all)", series: [topicIn("heartbeats_raw", "0+600x60")], evalMinutes: 50, firing: [] },
      { why: "a burst of 20 late in one minute, averaged over 30 min of 6,000/min", series: [topicIn("heartbeats_raw", "0+6000x60"), lateSent("0x10 20x50")], evalMinutes: 50, firing: [] },
    ],
  },
  {
    alert: "SchemaRegistryNoLeader",
    scenarios: [
      {
        why: "the leader steps down and no follower takes over",
        series: [
          { series: `schema_registry_leader{${K}, pod="schema-registry-a"}`, values: "1 1 0x12" },
          { series: `schema_registry_leader{${K}, pod="schema-registry-b"}`, values: "0x14" },
        ],
        evalMinutes: 10,
        firing: [{}],
      },
      { why: "every instance gone (nothing scraped)", series: [{ series: `schema_registry_leader{${K}, pod="schema-registry-a"}`, values: "1 1" }], evalMinutes: 12, firing: [{}] },
      {
        why: "a leader election moves the role within a minute",
        series: [
          { series: `schema_registry_leader{${K}, pod="schema-registry-a"}`, values: "1 1 0x12" },
          { series: `schema_registry_leader{${K}, pod="schema-registry-b"}`, values: "0 0 0 1x11" },
        ],
        evalMinutes: 10,
        firing: [],
      },
    ],
  },
  {
    alert: "KsqldbQueryNotRunning",
    scenarios: [
      {
        why: "one query goes to ERROR",
        series: [
          { series: `ksqldb_queries{${K}, pod="ksqldb-0", state="ERROR"}`, values: "0 0 1x10" },
          { series: `ksqldb_queries{${K}, pod="ksqldb-0", state="RUNNING"}`, values: "3 3 2x10" },
        ],
        evalMinutes: 8,
        firing: [{ pod: "ksqldb-0", state: "ERROR" }],
      },
      {
        why: "all running",
        series: [
          { series: `ksqldb_queries{${K}, pod="ksqldb-0", state="ERROR"}`, values: "0x12" },
          { series: `ksqldb_queries{${K}, pod="ksqldb-0", state="RUNNING"}`, values: "3x12" },
        ],
        evalMinutes: 8,
        firing: [],
      },
      { why: "a one-minute REBALANCING is normal", series: [{ series: `ksqldb_queries{${K}, pod="ksqldb-0", state="REBALANCING"}`, values: "0 1 0x10" }], evalMinutes: 8, firing: [] },
    ],
  },
  {
    alert: "KsqldbProcessingLogErrors",
    scenarios: [
      { why: "ten processing-log records a minute", series: [topicIn("watchpipe_ksql_processing_log", "0+10x40")], evalMinutes: 30, firing: [{}] },
      { why: "an empty processing log", series: [topicIn("watchpipe_ksql_processing_log", "0x40")], evalMinutes: 30, firing: [] },
      { why: "one burst, then quiet", series: [topicIn("watchpipe_ksql_processing_log", "0 20 20x38")], evalMinutes: 30, firing: [] },
    ],
  },
  {
    alert: "SessionsNotClosing",
    scenarios: [
      { why: "heartbeats flow, segments stay flat", series: [topicIn("heartbeats", "0+1000x40"), topicIn("watch_segments", "5x40")], evalMinutes: 30, firing: [{}] },
      { why: "heartbeats flow, segments were never written", series: [topicIn("heartbeats", "0+1000x40")], evalMinutes: 30, firing: [{}] },
      { why: "segments come out", series: [topicIn("heartbeats", "0+1000x40"), topicIn("watch_segments", "0+100x40")], evalMinutes: 30, firing: [] },
      { why: "no input at all (that is RawHeartbeatsStopped's job)", series: [topicIn("heartbeats", "7x40"), topicIn("watch_segments", "5x40")], evalMinutes: 30, firing: [] },
    ],
  },
  {
    alert: "SessionTickerDown",
    scenarios: [
      { why: "no available ticker replica", series: [{ series: `kube_deployment_status_replicas_available{${K}, deployment="session-ticker"}`, values: "1x3 0x20" }], evalMinutes: 15, firing: [{}] },
      { why: "the Deployment is gone", series: [{ series: `kube_deployment_status_replicas_available{${K}, deployment="ksqldb"}`, values: "1x20" }], evalMinutes: 15, firing: [{}] },
      { why: "one replica available", series: [{ series: `kube_deployment_status_replicas_available{${K}, deployment="session-ticker"}`, values: "1x20" }], evalMinutes: 15, firing: [] },
    ],
  },
  {
    alert: "RawHeartbeatsStopped",
    scenarios: [
      { why: "the raw topic's counter stops", series: [topicIn("heartbeats_raw", "100x40")], evalMinutes: 30, firing: [{}] },
      { why: "ticks and heartbeats arrive", series: [topicIn("heartbeats_raw", "0+50x40")], evalMinutes: 30, firing: [] },
    ],
  },
  {
    alert: "ConnectTaskFailed",
    scenarios: [
      {
        why: "a sink task FAILED on one worker",
        series: [
          { series: `kafka_connect_worker_connector_failed_task_count{${K}, pod="connect-0", connector="${SINK_CONNECTOR_NAME}"}`, values: "0 0 1x10" },
          { series: `kafka_connect_worker_connector_failed_task_count{${K}, pod="connect-1", connector="${SINK_CONNECTOR_NAME}"}`, values: "0x12" },
        ],
        evalMinutes: 8,
        firing: [{ connector: SINK_CONNECTOR_NAME }],
      },
      { why: "no failed task", series: [{ series: `kafka_connect_worker_connector_failed_task_count{${K}, pod="connect-0", connector="${SINK_CONNECTOR_NAME}"}`, values: "0x12" }], evalMinutes: 8, firing: [] },
    ],
  },
  {
    alert: "ConnectConnectorNotRunning",
    scenarios: [
      { why: "the connector is FAILED", series: [{ series: `kafka_connect_connector_status{${K}, pod="connect-0", connector="${SINK_CONNECTOR_NAME}", status="failed"}`, values: "1x20" }], evalMinutes: 10, firing: [{ connector: SINK_CONNECTOR_NAME, status: "failed" }] },
      { why: "running", series: [{ series: `kafka_connect_connector_status{${K}, pod="connect-0", connector="${SINK_CONNECTOR_NAME}", status="running"}`, values: "1x20" }], evalMinutes: 10, firing: [] },
      { why: "unassigned for two minutes during a rebalance", series: [{ series: `kafka_connect_connector_status{${K}, pod="connect-0", connector="${SINK_CONNECTOR_NAME}", status="unassigned"}`, values: "1 1 _x18" }], evalMinutes: 10, firing: [] },
    ],
  },
  {
    alert: "SinkDeadLetterQueueGrowing",
    scenarios: [
      { why: "records reach the DLQ topic", series: [topicIn("watch_segments_dlq", "0x5 0+1x10")], evalMinutes: 10, firing: [{}] },
      { why: "an empty DLQ", series: [topicIn("watch_segments_dlq", "0x20")], evalMinutes: 10, firing: [] },
      { why: "old DLQ records an hour ago", series: [topicIn("watch_segments_dlq", "0 3 3x70")], evalMinutes: 70, firing: [] },
    ],
  },
  {
    alert: "SinkRowsRefused",
    scenarios: [
      { why: "the check passes every minute", series: [rejectsCheck("last_successful_time", "0+60x40"), rejectsCheck("created", "0x40")], evalMinutes: 30, firing: [] },
      { why: "the check fails from minute 5 on (refused pieces pending)", series: [rejectsCheck("last_successful_time", "0+60x5 300x35"), rejectsCheck("created", "0x40")], evalMinutes: 30, firing: [{}] },
      { why: "the check never passed since it was created 30 min ago", series: [rejectsCheck("created", "0x40")], evalMinutes: 30, firing: [{}] },
      { why: "created 10 min ago, no run finished yet", series: [rejectsCheck("created", "0x40")], evalMinutes: 10, firing: [] },
      { why: "one failed run between passes", series: [rejectsCheck("last_successful_time", "0+60x10 600x5 960+60x20"), rejectsCheck("created", "0x40")], evalMinutes: 20, firing: [] },
    ],
  },
  {
    alert: "SinkLagBeyondBudget",
    scenarios: [
      { why: "the sink is 2000 s behind", series: [lag(sinkGroup, "watch_segments", 200_000), inputAt100PerSec("watch_segments")], evalMinutes: 20, firing: [{ consumergroup: sinkGroup, topic: "watch_segments" }] },
      { why: "10 s behind", series: [lag(sinkGroup, "watch_segments", 1000), inputAt100PerSec("watch_segments")], evalMinutes: 20, firing: [] },
    ],
  },
  {
    alert: "YugabyteTserverDown",
    scenarios: [
      {
        why: "one of three tservers down",
        series: [up("yugabyte", "yb-tserver", "t0", "1x20"), up("yugabyte", "yb-tserver", "t1", "1x20"), up("yugabyte", "yb-tserver", "t2", "1x3 0x17")],
        evalMinutes: 10,
        firing: [{}],
      },
      {
        why: "all three up",
        series: [up("yugabyte", "yb-tserver", "t0", "1x20"), up("yugabyte", "yb-tserver", "t1", "1x20"), up("yugabyte", "yb-tserver", "t2", "1x20")],
        evalMinutes: 10,
        firing: [],
      },
    ],
  },
  {
    alert: "BackupMissing",
    // Timestamps in seconds, one sample a minute: a success at day 1 is the value 86400 from minute 1440 on.
    scenarios: [
      { why: "a backup succeeded at day 1, evaluated 6 h later", series: [backupCron("last_successful_time", "0x1439 86400x400"), backupCron("created", "0x1840")], evalMinutes: 1800, firing: [] },
      { why: "the day-1 backup failed: the last success is the creation, 30 h ago", series: [backupCron("last_successful_time", "0x1840"), backupCron("created", "0x1840")], evalMinutes: 1800, firing: [{}] },
      { why: "created 20 h ago, first run not yet due", series: [backupCron("created", "0x1240")], evalMinutes: 1200, firing: [] },
      { why: "never succeeded since it was created 30 h ago", series: [backupCron("created", "0x1840")], evalMinutes: 1800, firing: [{}] },
    ],
  },
  {
    alert: "DatabaseMaintenanceStale",
    scenarios: [
      { why: "a run succeeds every interval", series: [maintenanceCron("last_successful_time", "0+60x40"), maintenanceCron("created", "0x40")], evalMinutes: 30, firing: [] },
      { why: "every run fails from minute 5 on (the maintenance function errors)", series: [maintenanceCron("last_successful_time", "0+60x5 300x35"), maintenanceCron("created", "0x40")], evalMinutes: 30, firing: [{}] },
      { why: "never succeeded since it was created 30 min ago (no run starts, or the schema lacks the function)", series: [maintenanceCron("created", "0x40")], evalMinutes: 30, firing: [{}] },
      { why: "created 10 min ago, no run finished yet", series: [maintenanceCron("created", "0x40")], evalMinutes: 10, firing: [] },
      { why: "two runs fail (a tablet leader moving), the third passes", series: [maintenanceCron("last_successful_time", "0+60x10 600x9 1200+60x20"), maintenanceCron("created", "0x40")], evalMinutes: 25, firing: [] },
    ],
  },
  {
    alert: "YugabyteMasterDown",
    scenarios: [
      { why: "a master stops answering", series: [up("yugabyte", "yb-master", "yb-master-1", "1 0x12")], evalMinutes: 8, firing: [{ namespace: "yugabyte", watchpipe_component: "yb-master", pod: "yb-master-1" }] },
      { why: "masters up", series: [up("yugabyte", "yb-master", "yb-master-1", "1x12")], evalMinutes: 8, firing: [] },
    ],
  },
];
