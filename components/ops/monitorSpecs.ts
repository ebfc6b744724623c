/**
 * Pure builders for what Prometheus scrapes (PodMonitors, monitoring.coreos.com/v1) and the NetworkPolicies that
 * let only the Prometheus pods reach those metrics ports. Every target gets a `watchpipe_component` label, which
 * the alert rules and dashboards select on (a pod name or a job name would change with the installer).
 */
import { KAFKA_CLUSTER_NAME } from "../../contract/clients";
import { BRIDGE_MANAGEMENT_PORT, BRIDGE_MANAGEMENT_PORT_NAME, BRIDGE_POD_SELECTOR } from "../kafka/kafkaBridgeSpecs";
import { CAMEL_MANAGEMENT_PORT_NAME, CAMEL_METRICS_PATH, GATEWAY_APP } from "../kafka/ingestGatewaySpecs";
import { STRIMZI_METRICS_PORT, STRIMZI_METRICS_PORT_NAME } from "../kafka/kafkaNetworkPolicySpecs";
import { KSQLDB_APP } from "../stream/ksqldbSpecs";
import { SCHEMA_REGISTRY_APP } from "../stream/schemaRegistrySpecs";
import { selectorLabels } from "../stream/streamingSpecs";
import { COMPONENT_LABEL, COMPONENTS } from "./alertRules";
import { JMX_AGENT_PORT, JMX_AGENT_PORT_NAME } from "./jmxAgentSpecs";

/** YugabyteDB web servers serve Prometheus text on /prometheus-metrics: master 7000, tserver 9000. */
export const YB_MASTER_METRICS_PORT = 7000;
export const YB_TSERVER_METRICS_PORT = 9000;
export const YB_METRICS_PATH = "/prometheus-metrics";
/** The Strimzi cluster operator's metrics (certificate expiry, reconciliations) on its `http` port. */
export const STRIMZI_OPERATOR_METRICS_PORT_NAME = "http";
export const STRIMZI_OPERATOR_POD_LABEL = { name: "strimzi-cluster-operator" } as const;
/** Pods of kube-prometheus-stack's Prometheus carry this label (Prometheus Operator sets it on its StatefulSet). */
export const PROMETHEUS_POD_LABEL = { "app.kubernetes.io/name": "prometheus" } as const;
/** 30 s: fine enough for 5-minute rates and `for` clauses of a few minutes; brokers expose thousands of series. */
export const SCRAPE_INTERVAL = "30s";

export interface PodMonitorSpecArgs {
  readonly name: string;
  readonly namespace: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly component: string;
  readonly selector: Record<string, unknown>;
  readonly port?: string;
  readonly portNumber?: number;
  readonly path?: string;
  /** Extra relabelings after the component label (e.g. broker vs controller). */
  readonly relabelings?: readonly Record<string, unknown>[];
}

export function podMonitorManifest(a: PodMonitorSpecArgs) {
  return {
    apiVersion: "monitoring.coreos.com/v1",
    kind: "PodMonitor",
    metadata: { name: a.name, namespace: a.namespace, labels: { ...a.labels } },
    spec: {
      selector: a.selector,
      podMetricsEndpoints: [
        {
          ...(a.port !== undefined ? { port: a.port } : {}),
          ...(a.portNumber !== undefined ? { portNumber: a.portNumber } : {}),
          path: a.path ?? "/metrics",
          interval: SCRAPE_INTERVAL,
          relabelings: [
            { action: "replace", targetLabel: COMPONENT_LABEL, replacement: a.component },
            ...(a.relabelings ?? []),
          ],
        },
      ],
    },
  };
}

export interface MonitorTargets {
  readonly kafkaNamespace: string;
  readonly yugabyteNamespace: string;
  readonly strimziNamespace: string;
  readonly labels: Readonly<Record<string, string>>;
  /**
   * The players' HTTP path, which is scraped: the Kafka Bridge, or the ingest gateway (then no Bridge is deployed; its
   * own NetworkPolicy already admits the monitoring namespace). Unset: the Bridge.
   */
  readonly ingest?: IngestPath;
}

/** Which component carries the players' heartbeats over HTTP (components/kafka/kafkaPlatform.ts). */
export type IngestPath = "bridge" | "gateway";

/** One PodMonitor per scraped workload, in the workload's namespace. */
export function podMonitorManifests(t: MonitorTargets) {
  const base = { labels: t.labels };
  return [
    podMonitorManifest({
      ...base,
      name: "kafka-nodes",
      namespace: t.kafkaNamespace,
      component: COMPONENTS.kafkaController,
      // Node-pool pods only (not the exporter or entity operator). A dual-role node is scraped once, as a broker.
      selector: { matchLabels: { "strimzi.io/cluster": KAFKA_CLUSTER_NAME, "strimzi.io/kind": "Kafka" }, matchExpressions: [{ key: "strimzi.io/pool-name", operator: "Exists" }] },
      port: STRIMZI_METRICS_PORT_NAME,
      relabelings: [{
        action: "replace",
        sourceLabels: ["__meta_kubernetes_pod_label_strimzi_io_broker_role"],
        regex: "true",
        targetLabel: COMPONENT_LABEL,
        replacement: COMPONENTS.kafkaBroker,
      }],
    }),
    podMonitorManifest({
      ...base,
      name: "kafka-exporter",
      namespace: t.kafkaNamespace,
      component: COMPONENTS.kafkaExporter,
      selector: { matchLabels: { "strimzi.io/name": `${KAFKA_CLUSTER_NAME}-kafka-exporter` } },
      port: STRIMZI_METRICS_PORT_NAME,
    }),
    podMonitorManifest({
      ...base,
      name: "kafka-connect",
      namespace: t.kafkaNamespace,
      component: COMPONENTS.connect,
      selector: { matchLabels: { "strimzi.io/kind": "KafkaConnect" } },
      port: STRIMZI_METRICS_PORT_NAME,
    }),
    // The ingest bridge serves its producer's metrics (Strimzi Metrics Reporter) on its management port.
    ...(t.ingest !== "gateway" ? [podMonitorManifest({
      ...base,
      name: "kafka-bridge",
      namespace: t.kafkaNamespace,
      component: COMPONENTS.bridge,
      selector: { matchLabels: { ...BRIDGE_POD_SELECTOR } },
      port: BRIDGE_MANAGEMENT_PORT_NAME,
    })] : []),
    // The ingest gateway's Camel serves its refusals by reason, requests and producer metrics on its management port.
    ...(t.ingest === "gateway" ? [podMonitorManifest({
      ...base,
      name: "ingest-gateway",
      namespace: t.kafkaNamespace,
      component: COMPONENTS.ingestGateway,
      selector: { matchLabels: selectorLabels(GATEWAY_APP) },
      port: CAMEL_MANAGEMENT_PORT_NAME,
      path: CAMEL_METRICS_PATH,
    })] : []),
    // The Confluent servers run the JMX exporter agent (components/ops/jmxAgentSpecs.ts) in the Kafka namespace.
    podMonitorManifest({
      ...base,
      name: "ksqldb",
      namespace: t.kafkaNamespace,
      component: COMPONENTS.ksqldb,
      selector: { matchLabels: selectorLabels(KSQLDB_APP) },
      port: JMX_AGENT_PORT_NAME,
    }),
    podMonitorManifest({
      ...base,
      name: "schema-registry",
      namespace: t.kafkaNamespace,
      component: COMPONENTS.schemaRegistry,
      selector: { matchLabels: selectorLabels(SCHEMA_REGISTRY_APP) },
      port: JMX_AGENT_PORT_NAME,
    }),
    podMonitorManifest({
      ...base,
      name: "strimzi-operator",
      namespace: t.strimziNamespace,
      component: COMPONENTS.strimziOperator,
      selector: { matchLabels: { ...STRIMZI_OPERATOR_POD_LABEL } },
      port: STRIMZI_OPERATOR_METRICS_PORT_NAME,
    }),
    podMonitorManifest({
      ...base,
      name: "yb-master",
      namespace: t.yugabyteNamespace,
      component: COMPONENTS.ybMaster,
      selector: { matchLabels: { "app.kubernetes.io/name": "yb-master" } },
      portNumber: YB_MASTER_METRICS_PORT,
      path: YB_METRICS_PATH,
    }),
    podMonitorManifest({
      ...base,
      name: "yb-tserver",
      namespace: t.yugabyteNamespace,
      component: COMPONENTS.ybTserver,
      selector: { matchLabels: { "app.kubernetes.io/name": "yb-tserver" } },
      portNumber: YB_TSERVER_METRICS_PORT,
      path: YB_METRICS_PATH,
    }),
  ];
}

/** Ingress from the Prometheus pods in the monitoring namespace, to these ports of these pods, and nothing else. */
export function scrapeIngressPolicy(name: string, namespace: string, monitoringNamespace: string, podSelector: Record<string, unknown>, ports: readonly number[]) {
  return {
    metadata: { name, namespace },
    spec: {
      podSelector,
      policyTypes: ["Ingress"],
      ingress: [{
        from: [{
          namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": monitoringNamespace } },
          podSelector: { matchLabels: { ...PROMETHEUS_POD_LABEL } },
        }],
        ports: ports.map((port) => ({ protocol: "TCP", port })),
      }],
    },
  };
}

/**
 * The scrape paths the namespaces' default-deny policies would otherwise block: the metrics ports of Connect, the
 * bridge, ksqlDB and Schema Registry in the Kafka namespace (the brokers' and the exporter's are let in by components/kafka's
 * metrics-scrape policy) and the YugabyteDB web ports. Only Prometheus pods, only those ports.
 */
export function scrapeNetworkPolicies(t: MonitorTargets & { readonly monitoringNamespace: string }) {
  return [
    scrapeIngressPolicy("allow-prometheus-to-connect-metrics", t.kafkaNamespace, t.monitoringNamespace, { matchLabels: { "strimzi.io/kind": "KafkaConnect" } }, [STRIMZI_METRICS_PORT]),
    ...(t.ingest !== "gateway" ? [scrapeIngressPolicy("allow-prometheus-to-bridge-metrics", t.kafkaNamespace, t.monitoringNamespace, { matchLabels: { ...BRIDGE_POD_SELECTOR } }, [BRIDGE_MANAGEMENT_PORT])] : []),
    scrapeIngressPolicy("allow-prometheus-to-ksqldb-metrics", t.kafkaNamespace, t.monitoringNamespace, { matchLabels: selectorLabels(KSQLDB_APP) }, [JMX_AGENT_PORT]),
    scrapeIngressPolicy("allow-prometheus-to-schema-registry-metrics", t.kafkaNamespace, t.monitoringNamespace, { matchLabels: selectorLabels(SCHEMA_REGISTRY_APP) }, [JMX_AGENT_PORT]),
    scrapeIngressPolicy("allow-prometheus-to-yb-master-metrics", t.yugabyteNamespace, t.monitoringNamespace, { matchLabels: { "app.kubernetes.io/name": "yb-master" } }, [YB_MASTER_METRICS_PORT]),
    scrapeIngressPolicy("allow-prometheus-to-yb-tserver-metrics", t.yugabyteNamespace, t.monitoringNamespace, { matchLabels: { "app.kubernetes.io/name": "yb-tserver" } }, [YB_TSERVER_METRICS_PORT]),
  ];
}

/** The PrometheusRule holding the alert groups. */
export function prometheusRuleManifest(name: string, namespace: string, labels: Readonly<Record<string, string>>, groups: unknown) {
  return { apiVersion: "monitoring.coreos.com/v1", kind: "PrometheusRule", metadata: { name, namespace, labels: { ...labels } }, spec: { groups } };
}
