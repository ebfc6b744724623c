/**
 * Plays the session ticker in real-service tests: one `__tick__` heartbeat per partition of the model's
 * `heartbeats` topic, so stream time passes every open session's close time. The event time (and the matching
 * Kafka record timestamp, so validation's future-skew rule accepts it) is chosen by the caller, usually
 * gap + grace + a few seconds past now, so a test need not wait gap + grace of wall time.
 */
import { Kafka, logLevel } from "kafkajs";
import type { Heartbeat } from "../../contract/topics";
import { DEFAULT_SESSIONIZATION_PARAMS, secToMs } from "../../contract/sessionization";
import { tickKeysForPartitions } from "../../ksql/ticks";

/** Event time that closes every session whose last heartbeat is at or before `now`: now + gap + grace + lead. */
export function closingTickTs(leadSec: number, now: number = Date.now()): number {
  const { sessionGapSec, gracePeriodSec } = DEFAULT_SESSIONIZATION_PARAMS;
  return now + secToMs(sessionGapSec + gracePeriodSec + leadSec);
}

/** Writes one tick per partition (idempotent, acks=all) with event time and record timestamp `tickTs`. */
export async function sendTicks(brokers: readonly string[], topic: string, partitions: number, tickTs: number): Promise<void> {
  const kafka = new Kafka({ clientId: "test-ticker", brokers: [...brokers], logLevel: logLevel.NOTHING });
  const ticker = kafka.producer({ idempotent: true, maxInFlightRequests: 1, retry: { retries: 10 } });
  await ticker.connect();
  try {
    await ticker.send({
      topic,
      acks: -1,
      messages: tickKeysForPartitions(partitions).map((t) => {
        const value: Heartbeat = { user_id: t.user_id, video_id: t.video_id, position_sec: 0, event_ts: tickTs };
        return { key: t.key, value: JSON.stringify(value), timestamp: String(tickTs) };
      }),
    });
  } finally {
    await ticker.disconnect();
  }
}
