/**
 * Pure builders for the ksqlDB servers: their properties (as cp-image env vars), the StatefulSet, the Services, PDB
 * and NetworkPolicy specs. `components/stream/ksqldb.ts` wraps them in resources.
 */
import { mirrorImage, type ImageSourceSettings } from "../../contract/sources";
import type { types } from "@pulumi/kubernetes";
import { standbyCopies } from "../../contract/loadPlan";
import { COLLECT_SET_LIMIT, WINDOW_CHANGELOG_ADDITIONAL_RETENTION_MS } from "../../contract/sessionization";
import { bootstrapAddress, KAFKA_USERS, KSQL_SERVICE_ID } from "../../contract/clients";
import { KSQL_PROCESSING_LOG_TOPIC } from "../../contract/acls";
import { CONSUMER_ISOLATION_LEVEL, MIN_INSYNC_REPLICAS, PRODUCER_DURABILITY_CONFIG, REPLICATION_FACTOR } from "../../contract/durability";
import {
  containerSecurityContext,
  CP_UID,
  type EnvVar,
  heapOpts,
  httpProbe,
  JAAS_SECRET_KEY,
  kafkaCaVolume,
  kafkaCaVolumeMount,
  kafkaClientSecurityProps,
  KSQLDB_IMAGE,
  podSecurityContext,
  prefixed,
  propertiesToEnv,
  secretEnv,
  selectorLabels,
  workloadLabels,
  zoneSpread,
} from "./streamingSpecs";
import { jmxAgentJavaOption, jmxAgentPodParts } from "../ops/jmxAgentSpecs";
import { KSQLDB_METRICS_CONFIG_KEY } from "../ops/ksqldbMetrics";

/** App label and StatefulSet name; the ClusterIP Service has the same name. */
/** Compression of everything ksqlDB's queries produce (changelogs, repartition and sink topics). */
export const KSQLDB_PRODUCER_COMPRESSION = "zstd";
export const KSQLDB_APP = "ksqldb";
/** Headless Service that gives each server a stable DNS name for ksql.advertised.listener. */
export const KSQLDB_HEADLESS_SERVICE = "ksqldb-headless";
/** ksqlDB's default REST port. */
export const KSQLDB_PORT = 8088;
/** Env prefix the cp-ksqldb-server image turns into properties. */
export const KSQL_ENV_PREFIX = "KSQL_";
/** The state PersistentVolume is mounted here (the image creates the directory for appuser). */
export const KSQLDB_STATE_MOUNT = "/var/lib/kafka-streams";
/**
 * Kafka Streams state (RocksDB), one level below the mount: a fresh ext4 volume has a root-owned lost+found at its
 * root, which ksqlDB's cleanup of state directories of dropped queries would otherwise try to delete.
 */
export const KSQLDB_STATE_DIR = `${KSQLDB_STATE_MOUNT}/state`;
/** volumeClaimTemplate name (part of every PVC name: state-ksqldb-0, ...); never rename. */
export const KSQLDB_STATE_VOLUME = "state";
/** Processing-log partitions: a burst of deserialization errors at peak is spread over the brokers. */
export const KSQL_PROCESSING_LOG_PARTITIONS = 3;
/**
 * Heap share of the memory limit: RocksDB (session-window state) and the Streams record caches live off-heap, so
 * the JVM gets 40 % and the rest is left to RocksDB block cache and memtables.
 */
export const KSQLDB_HEAP_PERCENT = 40;
/** Kafka's JMX metrics reporter class. */
export const KAFKA_JMX_REPORTER = "org.apache.kafka.common.metrics.JmxReporter";
/**
 * Longest SIGTERM stop of a ksqlDB 8.3.1 server measured under load, seconds: issue 21's run on this 2-core machine
 * kind (a server processing a backlog with exactly-once: 83 s, past the 60 s grace the pods had, so Kubernetes
 * SIGKILLed servers mid-commit). `npm run bench:ksql -- --stop-runs 3` on 2026-12-07 (new SQL, 20 s into a fresh
 * 150,000-heartbeat backlog, load average 63-68): 10.1, 19.6 and 17.4 s; the issue's 83 s stays the longest seen.
 */
export const KSQLDB_MEASURED_STOP_SEC = 83;
/** Grace over the longest measured stop: a busier node or a larger commit must still end cleanly. */
export const KSQLDB_STOP_MARGIN = 1.5;
/**
 * The pod's terminationGracePeriodSeconds: the measured stop × the margin, rounded up to half a minute (150 s). A
 * stop that ends cleanly commits its transactions and closes its state stores; a SIGKILL aborts them (nothing is
 * lost under exactly-once, but the restart restores state and replays from the last commit).
 */
export const KSQLDB_TERMINATION_GRACE_SEC = Math.ceil((KSQLDB_MEASURED_STOP_SEC * KSQLDB_STOP_MARGIN) / 30) * 30;

export interface KsqldbSpecArgs {
  /** `watchpipe:images`: the registry mirror to pull from (unset: the public registry). */
  readonly images?: ImageSourceSettings;
  readonly namespace: string;
  readonly replicas: number;
  readonly storageGiB: number;
  readonly storageClassName: string;
  readonly resources: { readonly cpu: string; readonly memory: string };
  /** Kafka Streams threads per server (see {@link streamThreadsPerReplica}). */
  readonly streamThreads: number;
  readonly schemaRegistryUrl: string;
}

/** In-cluster URL of the ksqlDB REST API (any server can take a statement). */
export function ksqldbUrl(namespace: string): string {
  return `http://${KSQLDB_APP}.${namespace}.svc:${KSQLDB_PORT}`;
}

/**
 * Stream threads per server so that all servers together run `parallelism` threads (capacity.consumerParallelism):
 * more threads than input partitions would sit idle, fewer leave partitions sharing a thread.
 */
export function streamThreadsPerReplica(parallelism: number, replicas: number): number {
  if (!Number.isInteger(parallelism) || parallelism < 1 || !Number.isInteger(replicas) || replicas < 1) {
    throw new Error(`streamThreadsPerReplica: expected positive integers, got parallelism ${parallelism} and replicas ${replicas}`);
  }
  return Math.ceil(parallelism / replicas);
}

/**
 * Standby replicas keep a warm copy of each task's state on another server, so a failover need not rebuild it.
 * The capacity plan counts the same copies (contract/loadPlan.ts).
 */
export const standbyReplicas = standbyCopies;

function stringValues(config: Record<string, string | number | boolean>): Record<string, string> {
  return Object.fromEntries(Object.entries(config).map(([k, v]) => [k, String(v)]));
}

/**
 * Every non-secret ksqlDB server property. Unprefixed Kafka client settings (bootstrap, security) apply to every
 * client ksqlDB creates (Streams, command-topic producer and consumer, admin); `ksql.streams.producer.*` and
 * `ksql.streams.consumer.*` reach the clients inside the persistent queries.
 */
export function ksqldbProperties(args: KsqldbSpecArgs): Record<string, string> {
  return {
    listeners: `http://0.0.0.0:${KSQLDB_PORT}`,
    // $(POD_NAME) is expanded by Kubernetes from the env var of that name (declared first in the env list).
    "ksql.advertised.listener": `http://$(POD_NAME).${KSQLDB_HEADLESS_SERVICE}.${args.namespace}.svc:${KSQLDB_PORT}`,
    "bootstrap.servers": bootstrapAddress(args.namespace),
    ...kafkaClientSecurityProps(),
    // Fixed: internal topics, consumer groups and the transactional id derive from it; changing it orphans state.
    "ksql.service.id": KSQL_SERVICE_ID,
    "ksql.schema.registry.url": args.schemaRegistryUrl,
    // Command topic and other ksqlDB-internal topics: both default to 1, which fails against min ISR 2.
    "ksql.internal.topic.replicas": String(REPLICATION_FACTOR),
    "ksql.internal.topic.min.insync.replicas": String(MIN_INSYNC_REPLICAS),
    // Kafka Streams' repartition and changelog topics.
    "ksql.streams.replication.factor": String(REPLICATION_FACTOR),
    "ksql.streams.topic.min.insync.replicas": String(MIN_INSYNC_REPLICAS),
    "ksql.streams.processing.guarantee": "exactly_once_v2",
    "ksql.streams.num.standby.replicas": String(standbyReplicas(args.replicas)),
    "ksql.streams.num.stream.threads": String(args.streamThreads),
    "ksql.streams.state.dir": KSQLDB_STATE_DIR,
    // A query created by a later migration must start from the beginning of its input, not from "now".
    "ksql.streams.auto.offset.reset": "earliest",
    ...prefixed("ksql.streams.producer.", stringValues(PRODUCER_DURABILITY_CONFIG)),
    // Every heartbeat rewrites its session's point list in the changelog (~300 MB/s at the design peak, ksql/README.md);
    // the fixed-width digit strings compress about 3x (deflate on realistic batches), so compress what reaches brokers.
    "ksql.streams.producer.compression.type": KSQLDB_PRODUCER_COMPRESSION,
    "ksql.streams.consumer.isolation.level": CONSUMER_ISOLATION_LEVEL,
    // Processing log: records the queries could not process, queryable as the KSQL_PROCESSING_LOG stream. Named
    // explicitly (the name the ksqldb user's ACL grants) so the pre-created KafkaTopic and the server agree.
    "ksql.logging.processing.topic.name": KSQL_PROCESSING_LOG_TOPIC,
    "ksql.logging.processing.topic.auto.create": "true",
    "ksql.logging.processing.topic.partitions": String(KSQL_PROCESSING_LOG_PARTITIONS),
    "ksql.logging.processing.topic.replication.factor": String(REPLICATION_FACTOR),
    "ksql.logging.processing.stream.auto.create": "true",
    // The window SQL collects each window's distinct points per key (contract/sessionization.ts explains the bound).
    "ksql.functions.collect_set.limit": String(COLLECT_SET_LIMIT),
    // The window store's changelog keeps RETENTION plus this; the one-day default would keep 5x what the store holds.
    "ksql.streams.windowstore.changelog.additional.retention.ms": String(WINDOW_CHANGELOG_ADDITIONAL_RETENTION_MS),
    // Kafka Streams' own metrics (dropped-records per task: KsqldbRecordsDropped) reach JMX only through this
    // reporter: ksqlDB sets the queries' metric.reporters to its own collectors, and Kafka 4 no longer adds the
    // JmxReporter by itself. Seen on 8.3.1: without it no kafka.streams MBean exists.
    "ksql.streams.metric.reporters": KAFKA_JMX_REPORTER,
    // No version check: the server would report to version-check.confluent.io from inside the cluster.
    "confluent.support.metrics.enable": "false",
  };
}

/** ConfigMap with the JMX exporter rules (components/ops/ksqldbMetrics.ts). */
export const KSQLDB_METRICS_CONFIG_MAP = "ksqldb-metrics";

/** The container's env: POD_NAME first (the advertised listener refers to it), the properties, the JAAS line. */
export function ksqldbEnv(args: KsqldbSpecArgs): EnvVar[] {
  return [
    { name: "POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
    ...propertiesToEnv(KSQL_ENV_PREFIX, ksqldbProperties(args)),
    secretEnv(KSQL_ENV_PREFIX, JAAS_SECRET_KEY, KAFKA_USERS.ksqldb, JAAS_SECRET_KEY),
    // Read by the start script; replaces its -Xmx3g default.
    { name: "KSQL_HEAP_OPTS", value: heapOpts(KSQLDB_HEAP_PERCENT) },
    // Extra JVM flags for the start script: the metrics agent (like the heap line, it also lands in the properties
    // file as `opts`, which ksqlDB ignores).
    { name: "KSQL_OPTS", value: jmxAgentJavaOption(KSQLDB_METRICS_CONFIG_KEY) },
  ];
}

/** StatefulSet spec: state on a PersistentVolume per server, stable names for the advertised listener. */
export function ksqldbStatefulSetSpec(args: KsqldbSpecArgs): types.input.apps.v1.StatefulSetSpec {
  const labels = workloadLabels(KSQLDB_APP, true);
  const agent = jmxAgentPodParts({ rulesConfigMap: KSQLDB_METRICS_CONFIG_MAP, rulesKey: KSQLDB_METRICS_CONFIG_KEY, ...(args.images ? { images: args.images } : {}) });
  return {
    serviceName: KSQLDB_HEADLESS_SERVICE,
    replicas: args.replicas,
    // Servers do not depend on each other's start order; parallel start halves a cold start.
    podManagementPolicy: "Parallel",
    updateStrategy: { type: "RollingUpdate" },
    selector: { matchLabels: selectorLabels(KSQLDB_APP) },
    template: {
      metadata: { labels },
      spec: {
        enableServiceLinks: false,
        automountServiceAccountToken: false,
        securityContext: podSecurityContext(CP_UID),
        terminationGracePeriodSeconds: KSQLDB_TERMINATION_GRACE_SEC,
        topologySpreadConstraints: [zoneSpread(KSQLDB_APP)],
        initContainers: [agent.initContainer],
        containers: [
          {
            name: KSQLDB_APP,
            image: mirrorImage(KSQLDB_IMAGE, args.images),
            ports: [{ name: "http", containerPort: KSQLDB_PORT, protocol: "TCP" }, agent.port],
            env: ksqldbEnv(args),
            resources: { requests: { cpu: args.resources.cpu, memory: args.resources.memory }, limits: { memory: args.resources.memory } },
            securityContext: containerSecurityContext(false),
            volumeMounts: [kafkaCaVolumeMount(), { name: KSQLDB_STATE_VOLUME, mountPath: KSQLDB_STATE_MOUNT }, ...agent.volumeMounts],
            // Every endpoint answers 503 until the server has replayed the command topic; allow 15 minutes.
            startupProbe: httpProbe("/info", "http", 10, 90),
            readinessProbe: httpProbe("/healthcheck", "http", 10, 3),
            livenessProbe: httpProbe("/info", "http", 20, 6),
          },
        ],
        volumes: [kafkaCaVolume(), ...agent.volumes],
      },
    },
    volumeClaimTemplates: [
      {
        metadata: { name: KSQLDB_STATE_VOLUME, labels: selectorLabels(KSQLDB_APP) },
        spec: {
          accessModes: ["ReadWriteOnce"],
          storageClassName: args.storageClassName,
          resources: { requests: { storage: `${args.storageGiB}Gi` } },
        },
      },
    ],
  };
}

export function ksqldbServiceSpec(): types.input.core.v1.ServiceSpec {
  return {
    type: "ClusterIP",
    selector: selectorLabels(KSQLDB_APP),
    ports: [{ name: "http", port: KSQLDB_PORT, targetPort: "http", protocol: "TCP" }],
  };
}

/** Headless: per-pod DNS names; not-ready pods are published so starting servers can already reach each other. */
export function ksqldbHeadlessServiceSpec(): types.input.core.v1.ServiceSpec {
  return {
    clusterIP: "None",
    publishNotReadyAddresses: true,
    selector: selectorLabels(KSQLDB_APP),
    ports: [{ name: "http", port: KSQLDB_PORT, targetPort: "http", protocol: "TCP" }],
  };
}
