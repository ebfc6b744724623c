/**
 * Pure builders for `KafkaTopic` CRs. Every topic carries replicas and min.insync.replicas explicitly (never broker
 * defaults) and its own retention. {@link kafkaTopicManifest} is exported for other components that need a topic
 * created ahead of their clients (e.g. Schema Registry's `_schemas`, compacted).
 */
import type { AppSettings } from "../../contract/settings";
import { partitionPlan, LOW_VOLUME_PARTITIONS } from "../../contract/capacity";
import { KAFKA_CLUSTER_NAME } from "../../contract/clients";
import { MIN_INSYNC_REPLICAS, REPLICATION_FACTOR, TOPIC_DURABILITY_CONFIG } from "../../contract/durability";
import type { SinkTopics } from "../../ksql/migrations";
import { STRIMZI_API_VERSION } from "./kafkaSpecs";
import {
  HEARTBEATS_TOPIC,
  RAW_HEARTBEATS_TOPIC,
  REJECTED_HEARTBEATS_TOPIC,
  WATCH_SEGMENTS_DLQ_TOPIC,
  WATCH_SEGMENTS_TOPIC,
} from "../../contract/topics";

const MS_PER_HOUR = 3_600_000;
/** Topic config naming who sets a record's timestamp. */
export const TIMESTAMP_TYPE_CONFIG = "message.timestamp.type";
/** The broker's append time, not the producer's: the only record time a player cannot choose. */
export const LOG_APPEND_TIME = "LogAppendTime";

export type TopicConfigValue = string | number | boolean;

export interface TopicPlan {
  /** The Kafka topic name (may contain `_`, which Kubernetes names cannot). */
  readonly topicName: string;
  readonly partitions: number;
  /** Extra topic config (retention, cleanup.policy, ...); durability keys are added by the builder. */
  readonly config?: Readonly<Record<string, TopicConfigValue>>;
}

export interface TopicDurability {
  readonly replicas: number;
  readonly minInsyncReplicas: number;
}

/** The project-wide durability floor; stacks may only raise it (config.ts enforces that). */
export const DEFAULT_TOPIC_DURABILITY: TopicDurability = { replicas: REPLICATION_FACTOR, minInsyncReplicas: MIN_INSYNC_REPLICAS };

/** A valid Kubernetes object name for a topic: `heartbeats_raw` → `heartbeats-raw`, `_schemas` → `schemas`. */
export function topicResourceName(topicName: string): string {
  const name = topicName.toLowerCase().replace(/[^a-z0-9.-]+/g, "-").replace(/^[^a-z0-9]+|[^a-z0-9]+$/g, "");
  if (!name) throw new Error(`topic "${topicName}": cannot derive a Kubernetes name from it; use letters or digits in the topic name.`);
  return name;
}

/** Retention hours → the `retention.ms` value Kafka wants. */
export function retentionMs(hours: number): number {
  return hours * MS_PER_HOUR;
}

/** A KafkaTopic manifest. Durability keys always win over `plan.config` so no caller can weaken them. */
export function kafkaTopicManifest(plan: TopicPlan, namespace: string, durability: TopicDurability = DEFAULT_TOPIC_DURABILITY) {
  return {
    apiVersion: STRIMZI_API_VERSION,
    kind: "KafkaTopic",
    metadata: { name: topicResourceName(plan.topicName), namespace, labels: { "strimzi.io/cluster": KAFKA_CLUSTER_NAME } },
    spec: {
      topicName: plan.topicName,
      partitions: plan.partitions,
      replicas: durability.replicas,
      config: { ...plan.config, ...TOPIC_DURABILITY_CONFIG, "min.insync.replicas": durability.minInsyncReplicas },
    },
  };
}

/** The pipeline's topics with partitions from the capacity model and retention from config. */
export function pipelineTopicPlans(config: Pick<AppSettings, "kafka" | "capacity">): TopicPlan[] {
  const { partitions } = partitionPlan(config.capacity);
  const r = config.kafka.retentionHours;
  const deleteAfter = (hours: number) => ({ "cleanup.policy": "delete", "retention.ms": retentionMs(hours) });
  return [
    // The broker stamps every raw record on arrival (a client cannot set it): ksqlDB's windows run on that time
    // (ksql/migrations/V000004), so player clocks and replays cannot make heartbeats late.
    { topicName: RAW_HEARTBEATS_TOPIC, partitions, config: { ...deleteAfter(r.raw), [TIMESTAMP_TYPE_CONFIG]: LOG_APPEND_TIME } },
    { topicName: HEARTBEATS_TOPIC, partitions, config: deleteAfter(r.heartbeats) },
    { topicName: REJECTED_HEARTBEATS_TOPIC, partitions: LOW_VOLUME_PARTITIONS, config: deleteAfter(r.rejected) },
    // Segments follow the heartbeats' partitioning: with EMIT CHANGES every heartbeat can update a segment.
    { topicName: WATCH_SEGMENTS_TOPIC, partitions, config: deleteAfter(r.segments) },
    { topicName: WATCH_SEGMENTS_DLQ_TOPIC, partitions: LOW_VOLUME_PARTITIONS, config: deleteAfter(r.rejected) },
  ];
}

/**
 * The topics the sessionization SQL writes into, with the partitions and retention their KafkaTopics declare: the
 * migrations state exactly these (ksqlDB refuses a CREATE … AS SELECT into a topic whose shape differs). Throws
 * naming the topic when a plan is missing or has no numeric retention.ms.
 */
export function ksqlSinkTopics(plans: readonly TopicPlan[]): SinkTopics {
  const shape = (topicName: string) => {
    const plan = plans.find((p) => p.topicName === topicName);
    const retention = plan?.config?.["retention.ms"];
    if (plan === undefined || typeof retention !== "number") {
      throw new Error(`topic plans: ${topicName} needs a plan with a numeric retention.ms (the ksqlDB migrations state it), got ${JSON.stringify(plan)}`);
    }
    return { partitions: plan.partitions, retentionMs: retention };
  };
  return { heartbeats: shape(HEARTBEATS_TOPIC), rejected: shape(REJECTED_HEARTBEATS_TOPIC), segments: shape(WATCH_SEGMENTS_TOPIC) };
}

/** Durability the stack configures for its topics. */
export function topicDurability(config: Pick<AppSettings, "kafka">): TopicDurability {
  return { replicas: config.kafka.replicationFactor, minInsyncReplicas: config.kafka.minInsyncReplicas };
}
