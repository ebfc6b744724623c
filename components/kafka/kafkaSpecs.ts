/**
 * Pure builders for the Strimzi `Kafka` CR, its `KafkaNodePool`s and the metrics ConfigMap. They return plain
 * manifests (apiVersion, kind, metadata, spec) so tests validate them against the Strimzi 1.2.0 CRDs, the policy pack
 * checks them, and the component only wraps them in resources.
 */
import type { KafkaSettings } from "../../contract/settings";
import { KAFKA_CLIENT_LABEL, KAFKA_CLUSTER_NAME, KAFKA_TLS_PORT } from "../../contract/clients";
import { BROKER_DURABILITY_CONFIG } from "../../contract/durability";
import { METRICS_CONFIG_KEY } from "./kafkaMetrics";

/** Strimzi API group/version; 1.2.0 serves v1 only. */
export const STRIMZI_API_VERSION = "kafka.strimzi.io/v1";
/** Kafka 4.3.1: the newest release Strimzi 1.2.0 supports (KRaft only). Metadata version follows it by default. */
export const KAFKA_VERSION = "4.3.1";
/** The one listener: TLS + SCRAM inside the cluster. The name shows up in Service and Secret names. */
export const TLS_LISTENER_NAME = "tls";
/** Node label the brokers take their rack (AZ) from: RF 3 then places one replica per zone. */
export const ZONE_TOPOLOGY_KEY = "topology.kubernetes.io/zone";
/** Consumers fetch from a replica in their own zone when they send client.rack (saves cross-AZ traffic). */
const RACK_AWARE_REPLICA_SELECTOR = "org.apache.kafka.common.replica.RackAwareReplicaSelector";
/** Name of the ConfigMap with the JMX exporter rules. */
export const KAFKA_METRICS_CONFIGMAP = `${KAFKA_CLUSTER_NAME}-kafka-metrics`;
/** Broker heap cap: beyond ~6 GiB the broker gains nothing, the page cache does the caching. */
export const MAX_BROKER_HEAP_MIB = 6144;
/** Heap share of the container memory; the rest is page cache and off-heap buffers. */
export const HEAP_FRACTION = 0.5;
/** Resources for Strimzi's helper containers (entity operators, exporter, Cruise Control): small, steady loads. */
const ENTITY_OPERATOR_RESOURCES = { requests: { cpu: "100m", memory: "384Mi" }, limits: { memory: "384Mi" } };
const KAFKA_EXPORTER_RESOURCES = { requests: { cpu: "100m", memory: "128Mi" }, limits: { memory: "256Mi" } };
const CRUISE_CONTROL_RESOURCES = { requests: { cpu: "200m", memory: "768Mi" }, limits: { memory: "1Gi" } };

export type NodeRole = "controller" | "broker";

export interface NodePoolPlan {
  /** Pool name (pods are `<cluster>-<pool>-<n>`); never rename a live pool. */
  readonly name: string;
  readonly roles: readonly NodeRole[];
  readonly replicas: number;
  readonly storageGiB: number;
  readonly resources: { readonly cpu: string; readonly memory: string };
}

/** Memory quantity → MiB (accepts Ki/Mi/Gi/Ti and plain bytes, as config.ts allows). */
export function quantityToMiB(quantity: string): number {
  const m = /^([0-9]+(?:\.[0-9]+)?)(Ki|Mi|Gi|Ti)?$/.exec(quantity);
  if (!m) throw new Error(`memory quantity: expected a Kubernetes quantity like 4Gi or 512Mi; got "${quantity}".`);
  const factor = { Ki: 1 / 1024, Mi: 1, Gi: 1024, Ti: 1024 * 1024 }[m[2] ?? ""] ?? 1 / (1024 * 1024);
  return Number(m[1]) * factor;
}

/** -Xms/-Xmx for a broker container: half its memory, at most {@link MAX_BROKER_HEAP_MIB}. */
export function heapFor(memory: string): string {
  return `${Math.floor(Math.min(quantityToMiB(memory) * HEAP_FRACTION, MAX_BROKER_HEAP_MIB))}m`;
}

/** The node pools for a cluster shape: dedicated (controllers + brokers) or dual-role (each node both). */
export function nodePoolPlans(k: KafkaSettings): NodePoolPlan[] {
  if (k.nodePools === "dual-role") {
    return [{ name: "dual", roles: ["controller", "broker"], replicas: k.brokers, storageGiB: k.brokerStorageGiB, resources: k.brokerResources }];
  }
  return [
    { name: "controller", roles: ["controller"], replicas: k.controllers, storageGiB: k.controllerStorageGiB, resources: k.controllerResources },
    { name: "broker", roles: ["broker"], replicas: k.brokers, storageGiB: k.brokerStorageGiB, resources: k.brokerResources },
  ];
}

/** Broker settings: the durability constants, raised to the stack's configured values (config.ts only allows >=). */
export function brokerConfig(k: KafkaSettings): Record<string, string | number | boolean> {
  return {
    ...BROKER_DURABILITY_CONFIG,
    "default.replication.factor": k.replicationFactor,
    "offsets.topic.replication.factor": k.replicationFactor,
    "transaction.state.log.replication.factor": k.replicationFactor,
    "min.insync.replicas": k.minInsyncReplicas,
    "transaction.state.log.min.isr": k.minInsyncReplicas,
    // Cruise Control's metrics topic defaults to fewer replicas; it must follow the cluster's durability policy.
    "cruise.control.metrics.topic.replication.factor": k.replicationFactor,
    "cruise.control.metrics.topic.min.insync.replicas": k.minInsyncReplicas,
    ...(k.rackAwareness ? { "replica.selector.class": RACK_AWARE_REPLICA_SELECTOR } : {}),
  };
}

/** Pod spread over zones (hard) and hosts (soft), for one pool's pods. */
export function zoneSpread(poolName: string) {
  const labelSelector = { matchLabels: { "strimzi.io/cluster": KAFKA_CLUSTER_NAME, "strimzi.io/pool-name": poolName } };
  return [
    { maxSkew: 1, topologyKey: ZONE_TOPOLOGY_KEY, whenUnsatisfiable: "DoNotSchedule", labelSelector },
    { maxSkew: 1, topologyKey: "kubernetes.io/hostname", whenUnsatisfiable: "ScheduleAnyway", labelSelector },
  ];
}

function clusterLabels() {
  return { "strimzi.io/cluster": KAFKA_CLUSTER_NAME };
}

/** One KafkaNodePool manifest. Storage is never deleted with the pool (`deleteClaim: false`). */
export function nodePoolManifest(pool: NodePoolPlan, k: KafkaSettings, namespace: string, storageClassName: string) {
  const heap = heapFor(pool.resources.memory);
  return {
    apiVersion: STRIMZI_API_VERSION,
    kind: "KafkaNodePool",
    metadata: { name: pool.name, namespace, labels: clusterLabels() },
    spec: {
      replicas: pool.replicas,
      roles: [...pool.roles],
      storage: { type: "persistent-claim", size: `${pool.storageGiB}Gi`, class: storageClassName, deleteClaim: false },
      // CPU has a request but no limit: throttling a broker stalls replication for every partition it leads.
      resources: {
        requests: { cpu: pool.resources.cpu, memory: pool.resources.memory },
        limits: { memory: pool.resources.memory },
      },
      jvmOptions: { "-Xms": heap, "-Xmx": heap },
      ...(k.rackAwareness
        ? { template: { pod: { topologySpreadConstraints: zoneSpread(pool.name) } } }
        : {}),
    },
  };
}

/** The `Kafka` CR: KRaft, one TLS+SCRAM listener, simple authorization, Cruise Control, metrics, exporter. */
export function kafkaManifest(k: KafkaSettings, namespace: string) {
  return {
    apiVersion: STRIMZI_API_VERSION,
    kind: "Kafka",
    metadata: { name: KAFKA_CLUSTER_NAME, namespace },
    spec: {
      kafka: {
        version: KAFKA_VERSION,
        listeners: [
          {
            name: TLS_LISTENER_NAME,
            port: KAFKA_TLS_PORT,
            type: "internal",
            tls: true,
            authentication: { type: "scram-sha-512" },
            // Strimzi's generated NetworkPolicy admits only labelled client pods in this namespace to this port.
            networkPolicyPeers: [{ podSelector: { matchLabels: { ...KAFKA_CLIENT_LABEL } } }],
          },
        ],
        authorization: { type: "simple" },
        config: brokerConfig(k),
        ...(k.rackAwareness ? { rack: { type: "topology-label", topologyKey: ZONE_TOPOLOGY_KEY } } : {}),
        metricsConfig: {
          type: "jmxPrometheusExporter",
          valueFrom: { configMapKeyRef: { name: KAFKA_METRICS_CONFIGMAP, key: METRICS_CONFIG_KEY } },
        },
      },
      entityOperator: {
        topicOperator: { resources: ENTITY_OPERATOR_RESOURCES },
        userOperator: { resources: ENTITY_OPERATOR_RESOURCES },
      },
      cruiseControl: {
        resources: CRUISE_CONTROL_RESOURCES,
        // Its sample-store topics are created by Cruise Control itself: keep them as durable as everything else.
        config: {
          "sample.store.topic.replication.factor": k.replicationFactor,
        },
      },
      // Consumer lag per group (ksqlDB, Connect sink) is the pipeline's main health signal.
      kafkaExporter: { topicRegex: ".*", groupRegex: ".*", resources: KAFKA_EXPORTER_RESOURCES },
    },
  };
}

/** The ConfigMap the Kafka CR's metricsConfig points at. */
export function metricsConfigMapData(rules: string): Record<string, string> {
  return { [METRICS_CONFIG_KEY]: rules };
}
