/**
 * Confluent Schema Registry in the Kafka namespace: the compacted `_schemas` KafkaTopic it stores schemas in, a
 * Deployment talking TLS + SCRAM-SHA-512 to the brokers as the `schema-registry` KafkaUser, a ClusterIP Service,
 * a PodDisruptionBudget and an ingress NetworkPolicy. Specs come from components/stream/schemaRegistrySpecs.ts.
 */
import type { ImageSourceSettings } from "../../contract/sources";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { withAwait, type DeploySettings } from "../../contract/readiness";
import { kafkaTopicManifest } from "../kafka/kafkaTopicSpecs";
import {
  SCHEMA_REGISTRY_APP,
  SCHEMA_REGISTRY_PORT,
  schemaRegistryDeploymentSpec,
  schemaRegistryServiceSpec,
  schemaRegistryUrl,
  SCHEMA_REGISTRY_METRICS_CONFIG_MAP,
} from "./schemaRegistrySpecs";
import { podDisruptionBudgetSpec, sameNamespaceIngressPolicySpec, workloadLabels } from "./streamingSpecs";
import { SCHEMAS_TOPIC } from "../../contract/topics";
import { SCHEMA_REGISTRY_JMX_EXPORTER_RULES, SCHEMA_REGISTRY_METRICS_CONFIG_KEY } from "../ops/schemaRegistryMetrics";

/** `_schemas` must have exactly one partition: Schema Registry refuses to start otherwise (total order of writes). */
export const SCHEMAS_TOPIC_PARTITIONS = 1;

export interface SchemaRegistryArgs {
  /** `watchpipe:images`: the registry mirror to pull from (unset: the public registry). */
  readonly images?: ImageSourceSettings;
  /** The Kafka namespace: the KafkaUser Secret and the cluster CA Secret are there. */
  readonly namespace: string;
  readonly replicas: number;
  readonly provider: k8s.Provider;
  /** Pulumi `protect` on the `_schemas` topic (losing it loses every registered schema). */
  readonly protect: boolean;
  /**
   * What must exist first: the Strimzi operator release (KafkaTopic CRD), the Kafka cluster, the `schema-registry`
   * KafkaUser (its Secret) and the namespace.
   */
  readonly dependsOn: pulumi.Input<pulumi.Resource>[];
  /** `watchpipe:deploy`: with waitForReady false the provider creates these objects without awaiting them. */
  readonly deploy?: DeploySettings;
}

export class SchemaRegistry extends pulumi.ComponentResource {
  /** In-cluster URL for ksqlDB and Connect's Avro converters. */
  readonly url: string;
  readonly deployment: k8s.apps.v1.Deployment;
  readonly service: k8s.core.v1.Service;
  readonly schemasTopic: k8s.apiextensions.CustomResource;

  constructor(name: string, args: SchemaRegistryArgs, opts?: pulumi.ComponentResourceOptions) {
    super("watchpipe:schemaRegistry:SchemaRegistry", name, {}, opts);
    const k = { parent: this, provider: args.provider };
    const ns = args.namespace;
    const metadata = (suffix = "") => ({ name: `${SCHEMA_REGISTRY_APP}${suffix}`, namespace: ns, labels: workloadLabels(SCHEMA_REGISTRY_APP, false) });
    const awaited = withAwait(metadata(), args.deploy);

    this.schemasTopic = new k8s.apiextensions.CustomResource(
      `${name}-schemas-topic`,
      kafkaTopicManifest(
        { topicName: SCHEMAS_TOPIC, partitions: SCHEMAS_TOPIC_PARTITIONS, config: { "cleanup.policy": "compact" } },
        ns,
      ),
      { ...k, dependsOn: args.dependsOn, protect: args.protect },
    );

    this.service = new k8s.core.v1.Service(`${name}-service`, { metadata: awaited, spec: schemaRegistryServiceSpec() }, { ...k, dependsOn: args.dependsOn });

    const metricsRules = new k8s.core.v1.ConfigMap(
      `${name}-metrics-config`,
      { metadata: { ...metadata(), name: SCHEMA_REGISTRY_METRICS_CONFIG_MAP }, data: { [SCHEMA_REGISTRY_METRICS_CONFIG_KEY]: SCHEMA_REGISTRY_JMX_EXPORTER_RULES } },
      { ...k, dependsOn: args.dependsOn },
    );

    this.deployment = new k8s.apps.v1.Deployment(
      `${name}-deployment`,
      { metadata: awaited, spec: schemaRegistryDeploymentSpec({ namespace: ns, replicas: args.replicas, ...(args.images ? { images: args.images } : {}) }) },
      { ...k, dependsOn: [...args.dependsOn, this.schemasTopic, metricsRules] },
    );

    new k8s.policy.v1.PodDisruptionBudget(`${name}-pdb`, { metadata: metadata(), spec: podDisruptionBudgetSpec(SCHEMA_REGISTRY_APP) }, { ...k, dependsOn: args.dependsOn });

    new k8s.networking.v1.NetworkPolicy(
      `${name}-ingress`,
      { metadata: metadata("-ingress"), spec: sameNamespaceIngressPolicySpec(SCHEMA_REGISTRY_APP, SCHEMA_REGISTRY_PORT) },
      { ...k, dependsOn: args.dependsOn },
    );

    this.url = schemaRegistryUrl(ns);
    this.registerOutputs({ url: this.url });
  }
}
