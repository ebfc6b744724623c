/** Topic helpers for real-Kafka tests and the benchmark: topics are created the way the platform creates them. */
import { Kafka, logLevel, type ITopicConfig } from "kafkajs";
import { REPLICATION_FACTOR, TOPIC_DURABILITY_CONFIG } from "../../../contract/durability";
import { waitUntil } from "./jvm";

/**
 * New topics get leaders within a second or two on an idle loopback cluster; a loaded 2-core CI machine has been
 * seen to take several seconds, so allow far more than that before calling it a failure.
 */
const TOPIC_READY_TIMEOUT_MS = 30_000;

/**
 * Creates `topics` and returns once every partition of each has a leader and its full ISR on the metadata the
 * brokers serve. Never let kafkajs wait for leaders itself (`waitForLeaders` on): it gives up with "This server does
 * not host this topic-partition" (UNKNOWN_TOPIC_OR_PARTITION) when the broker it asks is a moment behind the
 * controller, which a busy machine makes likely. test/kafkaPitfalls.test.ts keeps that option out of test/ and tools/.
 */
export async function createTopicsReady(brokers: readonly string[], topics: readonly ITopicConfig[]): Promise<void> {
  const admin = new Kafka({ clientId: "harness-topics", brokers: [...brokers], logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    const created = await admin.createTopics({ waitForLeaders: false, topics: [...topics] });
    if (!created) throw new Error(`topics ${topics.map((t) => t.topic).join(", ")}: at least one already exists; tests expect to create them fresh`);
    const names = topics.map((t) => t.topic);
    await waitUntil(`leaders and full ISR for every partition of new topics ${names.join(", ")}`, TOPIC_READY_TIMEOUT_MS, async () => {
      const md = await admin.fetchTopicMetadata({ topics: names });
      return topics.every((t) => {
        const parts = md.topics.find((m) => m.name === t.topic)?.partitions ?? [];
        const rf = t.replicationFactor ?? REPLICATION_FACTOR;
        return parts.length === (t.numPartitions ?? 1) && parts.every((p) => p.leader >= 0 && p.isr.length === rf);
      });
    });
  } finally {
    await admin.disconnect();
  }
}

/** Creates `topic` with RF 3 and the topic-level durability settings (min ISR 2, no unclean election). */
export async function createDurableTopic(brokers: readonly string[], topic: string, partitions: number): Promise<void> {
  await createTopicsReady(brokers, [
    {
      topic,
      numPartitions: partitions,
      replicationFactor: REPLICATION_FACTOR,
      configEntries: Object.entries(TOPIC_DURABILITY_CONFIG).map(([name, value]) => ({ name, value: String(value) })),
    },
  ]);
}
