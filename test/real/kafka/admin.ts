/** Topic helpers for real-Kafka tests and the benchmark: topics are created the way the platform creates them. */
import { Kafka, logLevel } from "kafkajs";
import { REPLICATION_FACTOR, TOPIC_DURABILITY_CONFIG } from "../../../components/durability";

/** Creates `topic` with RF 3 and the topic-level durability settings (min ISR 2, no unclean election). */
export async function createDurableTopic(brokers: readonly string[], topic: string, partitions: number): Promise<void> {
  const admin = new Kafka({ clientId: "harness-topics", brokers: [...brokers], logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    const created = await admin.createTopics({
      waitForLeaders: true,
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
  } finally {
    await admin.disconnect();
  }
}
