/**
 * The pipeline's topics exactly as the program's KafkaTopic specs make them for a stack (partitions, replicas and
 * every topic config), for real-server suites that run ksqlDB's migrations: ksqlDB checks a CREATE … AS SELECT into
 * an existing topic against the partitions, replicas and retention it would have chosen, so a suite that makes its
 * topics any other way cannot see what the migrations Job meets on a real cluster.
 */
import { Kafka, logLevel } from "kafkajs";
import { parseConfig, rawConfigOf } from "../../../config";
import { partitionPlan } from "../../../contract/capacity";
import { kafkaTopicManifest, ksqlSinkTopics, pipelineTopicPlans, topicDurability } from "../../../components/kafka/kafkaTopicSpecs";
import type { SinkTopics } from "../../../ksql/migrations";
import { stackConfig } from "../../../tools/mockRun";
import { waitUntil } from "./jvm";

/** New topics get leaders within seconds on loopback; a loaded 2-core machine needs more. */
const TOPICS_READY_TIMEOUT_MS = 60_000;

export interface ProgramTopic {
  readonly topic: string;
  readonly numPartitions: number;
  readonly replicationFactor: number;
  readonly configEntries: { name: string; value: string }[];
}

export interface ProgramTopics {
  readonly topics: ProgramTopic[];
  /** Partitions of the heartbeat topics: the `sessionsPartitions` the migrations Job defines for this stack. */
  readonly heartbeatPartitions: number;
  /** What the migrations Job defines for the topics the SQL writes into (the same plans). */
  readonly sinkTopics: SinkTopics;
}

/** The stack's pipeline topics as its KafkaTopic resources declare them. */
export function programTopics(stack: string): ProgramTopics {
  const cfg = parseConfig(rawConfigOf(stackConfig(stack)), stack);
  const durability = topicDurability(cfg);
  const plans = pipelineTopicPlans(cfg);
  const topics = plans.map((plan) => {
    const { spec } = kafkaTopicManifest(plan, "kafka", durability);
    return {
      topic: spec.topicName,
      numPartitions: spec.partitions,
      replicationFactor: spec.replicas,
      configEntries: Object.entries(spec.config).map(([name, value]) => ({ name, value: String(value) })),
    };
  });
  return { topics, heartbeatPartitions: partitionPlan(cfg.capacity).partitions, sinkTopics: ksqlSinkTopics(plans) };
}

/**
 * Creates `topics` and waits until every partition has a leader and a full ISR (kafkajs's own waitForLeaders gives
 * up on UNKNOWN_TOPIC_OR_PARTITION from a broker whose metadata lags the controller; test/real/kafka/admin.ts).
 */
export async function createTopicsAndWait(brokers: readonly string[], topics: readonly ProgramTopic[]): Promise<void> {
  const admin = new Kafka({ clientId: "harness-program-topics", brokers: [...brokers], logLevel: logLevel.NOTHING, retry: { retries: 10 } }).admin();
  await admin.connect();
  try {
    await admin.createTopics({ waitForLeaders: false, topics: topics.map((t) => ({ ...t, configEntries: [...t.configEntries] })) });
    await waitUntil(`leaders and full ISR for ${topics.map((t) => t.topic).join(", ")}`, TOPICS_READY_TIMEOUT_MS, async () => {
      const md = await admin.fetchTopicMetadata({ topics: topics.map((t) => t.topic) });
      return topics.every((t) => {
        const parts = md.topics.find((m) => m.name === t.topic)?.partitions ?? [];
        return parts.length === t.numPartitions && parts.every((p) => p.leader >= 0 && p.isr.length === t.replicationFactor);
      });
    });
  } finally {
    await admin.disconnect();
  }
}
