/**
 * Pure Helm values for the Strimzi cluster operator chart. Every path here exists in the chart's values.yaml
 * (test/kafkaOperators.test.ts checks it against ../shared/charts/strimzi-kafka-operator-1.2.0/values.yaml).
 */

import { mirrorPrefix, PINNED_CHART_VERSIONS, type ImageSourceSettings, type PinnedChart } from "../contract/sources";

/** The operator chart, from Strimzi's OCI registry. */
export const STRIMZI_CHART = "oci://quay.io/strimzi-helm/strimzi-kafka-operator";
/** Strimzi 1.2.0 (contract/sources.ts says why). Pinned: operator upgrades roll every broker and must be planned. */
export const STRIMZI_CHART_VERSION = PINNED_CHART_VERSIONS.strimzi;
/** Namespace the operator runs in; it watches the Kafka namespace only (least privilege across namespaces). */
export const STRIMZI_NAMESPACE = "strimzi";
/** Helm release name (fixed: it prefixes the operator's resources). */
export const STRIMZI_RELEASE_NAME = "strimzi";
/** The operator is a reconcile loop: its downtime pauses changes, never traffic. One replica with leader election on. */
const OPERATOR_REPLICAS = 1;
/** Enough for one cluster's reconciliation; the chart's 384Mi gets OOM-killed during rolling updates of large pools. */
const OPERATOR_RESOURCES = { requests: { cpu: "200m", memory: "512Mi" }, limits: { cpu: "1000m", memory: "512Mi" } };

/** The same pin for `watchpipe:charts.strimzi` overrides (contract/sources.ts releaseChart). */
export const STRIMZI_PINNED_CHART: PinnedChart = {
  repo: STRIMZI_CHART.slice(0, STRIMZI_CHART.lastIndexOf("/")),
  chart: STRIMZI_CHART.slice(STRIMZI_CHART.lastIndexOf("/") + 1),
  version: STRIMZI_CHART_VERSION,
};
/** Where the chart's own images live (values.yaml defaultImageRegistry): operator, Kafka, bridge, builders. */
export const STRIMZI_IMAGE_REGISTRY = "quay.io";

/**
 * Image values for a mirror: the chart builds every image (operator, Kafka, Connect, bridge, exporters, build
 * tools) as `<defaultImageRegistry>/<defaultImageRepository>/<name>:<pinned tag>`, so moving the registry prefix moves
 * all of them and keeps every tag.
 */
export function strimziImageValues(images: ImageSourceSettings | undefined): { defaultImageRegistry?: string } {
  const prefix = mirrorPrefix(STRIMZI_IMAGE_REGISTRY, images);
  return prefix ? { defaultImageRegistry: prefix } : {};
}

export function strimziValues(kafkaNamespace: string, images?: ImageSourceSettings) {
  return {
    ...strimziImageValues(images),
    replicas: OPERATOR_REPLICAS,
    watchNamespaces: [kafkaNamespace],
    watchAnyNamespace: false,
    resources: OPERATOR_RESOURCES,
    leaderElection: { enable: true },
    // Strimzi writes NetworkPolicies for its operands (brokers' replication and listener ports, honouring
    // networkPolicyPeers) and PDBs for them; both are part of our security and availability story.
    generateNetworkPolicy: true,
    generatePodDisruptionBudget: true,
    // The CRDs and cluster roles (rack awareness reads node labels) come with the release.
    createGlobalResources: true,
  };
}
