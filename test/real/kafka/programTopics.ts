/**
 * The pipeline's topics exactly as the program's KafkaTopic specs make them for a stack (partitions, replicas and
 * every topic config), for real-server suites that run ksqlDB's migrations: ksqlDB checks a CREATE … AS SELECT into
 * an existing topic against the partitions, replicas and retention it would have chosen, so a suite that makes its
 * topics any other way cannot see what the migrations Job meets on a real cluster.
 */
import { parseConfig, rawConfigOf } from "../../../config";
import { partitionPlan } from "../../../contract/capacity";
import { kafkaTopicManifest, ksqlSinkTopics, pipelineTopicPlans, topicDurability } from "../../../components/kafka/kafkaTopicSpecs";
import type { SinkTopics } from "../../../ksql/migrations";
import { stackConfig } from "../../../tools/mockRun";

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
