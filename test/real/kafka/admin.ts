/** Topic helpers for real-Kafka tests and the benchmark: topics are created the way the platform creates them. */
import { Kafka, logLevel } from "kafkajs";
import { REPLICATION_FACTOR, TOPIC_DURABILITY_CONFIG } from "../../../contract/durability";
import { waitUntil } from "./jvm";

/** New topics get leaders within a second or two on loopback. */
const TOPIC_READY_TIMEOUT_MS = 30_000;

/** Creates `topic` with RF 3 and the topic-level durability settings (min ISR 2, no unclean election). */
export async function createDurableTopic(brokers: readonly string[], topic: string, partitions: number): Promise<void> {
  const admin = new Kafka({ clientId: "harness-topics", brokers: [...brokers], logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    const created = await admin.createTopics({
      // kafkajs's own wait gives up on UNKNOWN_TOPIC_OR_PARTITION from a broker whose metadata is a moment
      // behind the controller; poll ourselves instead.
      waitForLeaders: false,
      topics: [
        {
          topic,
          numPartitions: partitions,
          replicationFactor: REPLICATION_FACTOR,
          configEntries: Object.entries(TOPIC_DURABILITY_CONFIG).map(([name, value]) => ({ name, value: String(value) })),
        },
      ],
    });
    if (!created) throw new Error(`topic ${topic} already exists; tests expect to create it fresh`);
    await waitUntil(`leaders for all ${partitions} partitions of new topic ${topic}`, TOPIC_READY_TIMEOUT_MS, async () => {
      const md = await admin.fetchTopicMetadata({ topics: [topic] });
      const parts = md.topics[0]?.partitions ?? [];
      return parts.length === partitions && parts.every((p) => p.leader >= 0 && p.isr.length === REPLICATION_FACTOR);
    });
  } finally {
    await admin.disconnect();
  }
}
