/**
 * Plays scheduled sends (players.ts) in wall time through the load generator's Kafka producer path (kafkajs lanes:
 * acks=all, idempotent, one request in flight per lane), and the session ticker: one `__tick__` heartbeat per
 * partition of heartbeats_raw every tick interval, keyed so it lands on that partition (ksql/ticks.ts).
 */
import { DEFAULT_TICK_INTERVAL_SEC } from "../../../contract/sessionization";
import { RAW_HEARTBEATS_TOPIC } from "../../../contract/topics";
import { parseLoadgenArgs } from "../../../tools/loadgen/config";
import { createPartitionedKafkaLanes, describeSendError } from "../../../tools/loadgen/kafkaSender";
import type { LoadRecord } from "../../../tools/loadgen/records";
import { sendTicks } from "../ticks";
import type { ScheduledSend } from "./players";

/** How often the driver looks for sends that are due. */
const DRIVE_STEP_MS = 250;
/** A send that keeps failing this long fails the scenario (the cluster never stops accepting writes here). */
const SEND_RETRY_BUDGET_MS = 120_000;

export interface DriveResult {
  readonly records: number;
  readonly resentAfterFailure: number;
  /** Largest lag between a record's due time and its acknowledgement, ms. */
  readonly maxLagMs: number;
}

/** Sends every record at (or just after) its time; resolves when all are acknowledged. */
export async function drive(bootstrap: string, runId: string, sends: readonly ScheduledSend[], log: (line: string) => void): Promise<DriveResult> {
  const parsed = parseLoadgenArgs(["--bootstrap", bootstrap, "--topic", RAW_HEARTBEATS_TOPIC, "--count", "1", "--producers", "4", "--client-id", `e2e-${runId}`], {});
  if (parsed.help) throw new Error("internal: loadgen parser returned help");
  const { lanes, laneOf } = await createPartitionedKafkaLanes(parsed.config, runId);
  let next = 0;
  let seq = 0;
  let resent = 0;
  let maxLag = 0;
  let lastLog = Date.now();
  try {
    while (next < sends.length) {
      const now = Date.now();
      const due: ScheduledSend[] = [];
      while (next < sends.length && sends[next]!.atMs <= now) due.push(sends[next++]!);
      if (due.length === 0) {
        await new Promise((r) => setTimeout(r, Math.min(DRIVE_STEP_MS, sends[next]!.atMs - now)));
        continue;
      }
      const byLane = new Map<number, LoadRecord[]>();
      for (const s of due) {
        const l = laneOf(s.key);
        byLane.set(l, [...(byLane.get(l) ?? []), { key: s.key, value: s.value, seq: seq++, malformed: false }]);
      }
      await Promise.all([...byLane].map(async ([l, batch]) => {
        const deadline = Date.now() + SEND_RETRY_BUDGET_MS;
        let pending = batch;
        for (let attempt = 0; pending.length > 0; attempt++) {
          if (Date.now() > deadline) throw new Error(`${runId}: ${pending.length} heartbeats unacknowledged after ${SEND_RETRY_BUDGET_MS / 1000} s`);
          if (attempt > 0) resent += pending.length;
          const res = await lanes[l]!.send(pending);
          const acked = new Set(res.ackedRecords.map((r) => r.seq));
          pending = pending.filter((r) => !acked.has(r.seq));
          if (res.error !== undefined) log(`${runId}: ${pending.length} to resend: ${describeSendError(res.error)}`);
        }
      }));
      maxLag = Math.max(maxLag, Date.now() - due[0]!.atMs);
      if (Date.now() - lastLog > 30_000) {
        lastLog = Date.now();
        log(`${runId}: ${next}/${sends.length} records sent`);
      }
    }
  } finally {
    await Promise.all(lanes.map((l) => l.close().catch(() => undefined)));
  }
  return { records: sends.length, resentAfterFailure: resent, maxLagMs: maxLag };
}

/** The session ticker: ticks now, then every interval, until stopped. */
export function startTicker(brokers: readonly string[], partitions: number, log: (line: string) => void): { stop: () => Promise<void> } {
  let stopped = false;
  let running: Promise<void> = Promise.resolve();
  const tick = (): void => {
    running = sendTicks(brokers, RAW_HEARTBEATS_TOPIC, partitions, Date.now()).catch((err: unknown) => log(`ticker: ${(err as Error).message}`));
  };
  tick();
  const timer = setInterval(() => {
    if (!stopped) tick();
  }, DEFAULT_TICK_INTERVAL_SEC * 1000);
  return {
    stop: async () => {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}
