/**
 * NetworkPolicies of the Kafka namespace (pure). Ingress is denied by default; the brokers' own policy is generated
 * by Strimzi from the listener's `networkPolicyPeers` (only pods with KAFKA_CLIENT_LABEL in this namespace reach the
 * client port; replication and control ports only from Strimzi's components and the operator). Here: the default
 * deny, the bridge's HTTP port, and metrics scraping from a monitoring namespace.
 */
import { KAFKA_CLUSTER_NAME } from "../../contract/clients";
import { BRIDGE_HTTP_PORT, BRIDGE_MANAGEMENT_PORT, BRIDGE_POD_SELECTOR } from "./kafkaBridgeSpecs";

/** Port (and its container-port name) Strimzi exposes JMX exporter / Kafka Exporter metrics on. */
export const STRIMZI_METRICS_PORT = 9404;
export const STRIMZI_METRICS_PORT_NAME = "tcp-prometheus";
/** A namespace carrying this label (e.g. the Prometheus one) may scrape broker and exporter metrics. */
export const MONITORING_NAMESPACE_LABEL = { "watchpipe.io/monitoring": "true" } as const;

export function defaultDenyIngressSpec() {
  return { podSelector: {}, policyTypes: ["Ingress"] };
}

/**
 * The bridge's HTTP port: from the VPC (the ALB's ip targets come from its subnets) and from pods in this namespace
 * (in-cluster load generator, port-forward tests). `sourceCidrs` is empty where there is no VPC (local).
 */
export function bridgeIngressPolicySpec(sourceCidrs: readonly string[]) {
  return {
    podSelector: { matchLabels: { ...BRIDGE_POD_SELECTOR } },
    policyTypes: ["Ingress"],
    ingress: [
      {
        from: [...sourceCidrs.map((cidr) => ({ ipBlock: { cidr } })), { podSelector: {} }],
        ports: [{ protocol: "TCP", port: BRIDGE_HTTP_PORT }],
      },
      // The ALB's target health checks: /healthy on the management port (bridge 1.x), from the VPC only.
      ...(sourceCidrs.length
        ? [{ from: sourceCidrs.map((cidr) => ({ ipBlock: { cidr } })), ports: [{ protocol: "TCP", port: BRIDGE_MANAGEMENT_PORT }] }]
        : []),
    ],
  };
}

export function metricsScrapePolicySpec() {
  return {
    podSelector: { matchLabels: { "strimzi.io/cluster": KAFKA_CLUSTER_NAME } },
    policyTypes: ["Ingress"],
    ingress: [
      {
        from: [{ namespaceSelector: { matchLabels: { ...MONITORING_NAMESPACE_LABEL } } }],
        ports: [{ protocol: "TCP", port: STRIMZI_METRICS_PORT }],
      },
    ],
  };
}
