/** Reads a whole topic back with a read_committed consumer and counts each record's loadgen sequence header. */
import { randomUUID } from "node:crypto";
import { Kafka, logLevel } from "kafkajs";
import { CONSUMER_ISOLATION_LEVEL } from "../../../contract/durability";
import { SEQ_HEADER } from "../../../tools/loadgen/records";

/** Reading ~100k records on loopback takes seconds; this bounds a hung consumer. */
const READ_BACK_TIMEOUT_MS = 120_000;

export interface ReadBack {
  /** `<runId>:<seq>` -> how many times it is in the topic. */
  readonly counts: Map<string, number>;
  readonly total: number;
  /** Records without the header (should be none). */
  readonly withoutSeq: number;
}

export async function readAllSeqs(brokers: readonly string[], topic: string): Promise<ReadBack> {
  const kafka = new Kafka({ clientId: "harness-readback", brokers: [...brokers], logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  const offsets = await admin.fetchTopicOffsets(topic);
  await admin.disconnect();
  const expected = offsets.reduce((sum, o) => sum + (Number(o.high) - Number(o.low)), 0);

  const consumer = kafka.consumer({
    groupId: `readback-${randomUUID()}`,
    // kafkajs: readUncommitted=false is isolation.level=read_committed.
    readUncommitted: CONSUMER_ISOLATION_LEVEL !== "read_committed",
    maxBytes: 50 * 1024 * 1024,
  });
  const counts = new Map<string, number>();
  let total = 0;
  let withoutSeq = 0;
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`read back of ${topic} timed out after ${READ_BACK_TIMEOUT_MS} ms: read ${total} of ${expected} records`)),
        READ_BACK_TIMEOUT_MS,
      );
      if (expected === 0) {
        clearTimeout(timer);
        resolve();
        return;
      }
      consumer
        .run({
          autoCommit: false,
          eachBatch: async ({ batch }) => {
            for (const m of batch.messages) {
              total++;
              const h = m.headers?.[SEQ_HEADER];
              const id = h === undefined ? undefined : Buffer.isBuffer(h) ? h.toString() : String(h);
              if (id === undefined) withoutSeq++;
              else counts.set(id, (counts.get(id) ?? 0) + 1);
            }
            if (total >= expected) {
              clearTimeout(timer);
              resolve();
            }
          },
        })
        .catch(reject);
    });
  } finally {
    await consumer.disconnect();
  }
  return { counts, total, withoutSeq };
}

/** Compares what the producer saw acknowledged with what the topic holds. */
export function auditDelivery(acked: ReadonlySet<string>, read: ReadBack): { lost: string[]; duplicated: string[]; unackedPresent: number } {
  const lost: string[] = [];
  for (const id of acked) if ((read.counts.get(id) ?? 0) === 0) lost.push(id);
  const duplicated: string[] = [];
  let unackedPresent = 0;
  for (const [id, n] of read.counts) {
    if (n > 1) duplicated.push(id);
    if (!acked.has(id)) unackedPresent++;
  }
  return { lost, duplicated, unackedPresent };
}
