/**
 * The pipeline's KafkaTopic CRs. In prod (protect) Pulumi refuses to delete them, and `retainOnDelete` leaves the
 * CR in the cluster even when the stack deletes it deliberately: the Topic Operator deletes a Kafka topic when its
 * KafkaTopic CR goes away, so leaving the CR behind is what keeps the data.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { kafkaTopicManifest, topicResourceName, type TopicDurability, type TopicPlan } from "./kafkaTopicSpecs";

export interface KafkaTopicsArgs {
  readonly provider: k8s.Provider;
  readonly namespace: string;
  readonly topics: readonly TopicPlan[];
  readonly durability: TopicDurability;
  /** protect + retainOnDelete (config.protectData). */
  readonly protect: boolean;
  /** The Kafka CR (the Topic Operator runs in its entity operator). */
  readonly dependsOn: pulumi.Resource[];
}

export class KafkaTopics extends pulumi.ComponentResource {
  /** By Kafka topic name. */
  readonly topics: Record<string, k8s.apiextensions.CustomResource> = {};

  constructor(name: string, args: KafkaTopicsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("watchpipe:kafka:KafkaTopics", name, {}, opts);
    for (const plan of args.topics) {
      this.topics[plan.topicName] = new k8s.apiextensions.CustomResource(
        `${name}-${topicResourceName(plan.topicName)}`,
        kafkaTopicManifest(plan, args.namespace, args.durability),
        { parent: this, provider: args.provider, dependsOn: args.dependsOn, protect: args.protect, retainOnDelete: args.protect },
      );
    }
    this.registerOutputs({ topics: Object.keys(this.topics) });
  }
}
