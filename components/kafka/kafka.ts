/**
 * The Kafka cluster: the Strimzi `Kafka` CR (KRaft), its KafkaNodePools and the metrics ConfigMap.
 *
 * Data safety: with `protect` (prod) Pulumi refuses to delete or replace the Kafka CR and the node pools; storage
 * claims survive a pool's deletion (`deleteClaim: false`). Child names are fixed forever: renaming this component or
 * a pool would replace the cluster. If a rename is unavoidable, pass the old name as an alias so Pulumi moves the
 * state instead of recreating it, e.g.
 *   new KafkaCluster("kafka-v2", args, { aliases: [{ name: "kafka" }] })
 * (and for a child whose own name changed: `aliases: [{ name: "kafka-pool-broker" }]` on that child).
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { KafkaSettings } from "../../contract/settings";
import { bootstrapAddress, KAFKA_CLUSTER_NAME } from "../../contract/clients";
import { KAFKA_JMX_EXPORTER_RULES } from "./kafkaMetrics";
import { KAFKA_METRICS_CONFIGMAP, kafkaManifest, metricsConfigMapData, nodePoolManifest, nodePoolPlans } from "./kafkaSpecs";

export interface KafkaClusterArgs {
  readonly provider: k8s.Provider;
  readonly namespace: string;
  readonly kafka: KafkaSettings;
  readonly storageClassName: string;
  /** Pulumi `protect` on the Kafka CR and node pools (config.protectData). */
  readonly protect: boolean;
  /** The Strimzi operator release (installs the CRDs) and the namespace. */
  readonly dependsOn: pulumi.Resource[];
}

export class KafkaCluster extends pulumi.ComponentResource {
  readonly kafka: k8s.apiextensions.CustomResource;
  readonly nodePools: k8s.apiextensions.CustomResource[];
  readonly bootstrapServers: string;

  constructor(name: string, args: KafkaClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    super("watchpipe:kafka:KafkaCluster", name, {}, opts);
    const k = { parent: this, provider: args.provider };
    const ns = args.namespace;

    const metrics = new k8s.core.v1.ConfigMap(`${name}-metrics`, {
      metadata: { name: KAFKA_METRICS_CONFIGMAP, namespace: ns, labels: { "strimzi.io/cluster": KAFKA_CLUSTER_NAME } },
      data: metricsConfigMapData(KAFKA_JMX_EXPORTER_RULES),
    }, { ...k, dependsOn: args.dependsOn });

    this.nodePools = nodePoolPlans(args.kafka).map((pool) =>
      new k8s.apiextensions.CustomResource(
        `${name}-pool-${pool.name}`,
        nodePoolManifest(pool, args.kafka, ns, args.storageClassName),
        { ...k, dependsOn: args.dependsOn, protect: args.protect },
      ),
    );

    this.kafka = new k8s.apiextensions.CustomResource(
      `${name}-kafka`,
      kafkaManifest(args.kafka, ns),
      { ...k, dependsOn: [...args.dependsOn, metrics, ...this.nodePools], protect: args.protect },
    );

    this.bootstrapServers = bootstrapAddress(ns);
    this.registerOutputs({ bootstrapServers: this.bootstrapServers });
  }
}
