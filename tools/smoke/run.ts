/**
 * The smoke run: check the database is reachable and clean for this run id, send the scenario once (acks=all),
 * then poll watch_segments until it holds exactly the expected rows or the timeout passes. Every side effect goes
 * through {@link SmokeDeps}, so the unit tests drive it with fakes and a fake clock.
 */
import type { WatchSegment } from "../../contract/topics";
import { describeSendError } from "../loadgen/kafkaSender";
import type { Lane } from "../loadgen/run";
import type { LoadRecord } from "../loadgen/records";
import { diffSegments, formatDiff, isMatch, progressLine } from "./diff";
import type { SmokeScenario } from "./scenario";

export interface SmokeDeps {
  /** The sender (a KafkaLane or a BridgeLane); one send of the whole scenario. */
  readonly lane: Lane;
  /** The watch_segments rows of these users. Throws when the database cannot be queried. */
  readonly fetchRows: (userIds: readonly string[]) => Promise<WatchSegment[]>;
  readonly now: () => number;
  readonly sleep: (ms: number) => Promise<void>;
  readonly log: (line: string) => void;
}

export interface SmokeTiming {
  readonly timeoutSec: number;
  readonly pollIntervalSec: number;
  readonly progressIntervalSec: number;
}

export type SmokeOutcome =
  | { readonly code: 0; readonly elapsedMs: number }
  | { readonly code: 1; readonly reason: "database" | "send" | "mismatch"; readonly elapsedMs: number };

/** The records the sender writes: JSON heartbeats keyed by user_id, as the players' bridge requests are. */
export function scenarioRecords(s: SmokeScenario): LoadRecord[] {
  return s.heartbeats.map((h, seq) => ({ key: h.user_id, value: JSON.stringify(h), seq, malformed: false }));
}

export async function runSmoke(s: SmokeScenario, t: SmokeTiming, deps: SmokeDeps): Promise<SmokeOutcome> {
  const { log } = deps;
  const started = deps.now();
  const elapsed = (): number => deps.now() - started;

  // 1) The database first: a wrong password or host should fail before anything is written to Kafka.
  try {
    const before = await deps.fetchRows(s.userIds);
    if (before.length > 0) {
      log(`ERROR: watch_segments already has ${before.length} rows for run ${s.runId}; expected none. Use a new --run-id (or omit it).`);
      return { code: 1, reason: "database", elapsedMs: elapsed() };
    }
  } catch (err) {
    log(`ERROR: cannot query watch_segments: ${(err as Error).message}. Check the --pg-* settings / PG* variables, the password and TLS.`);
    return { code: 1, reason: "database", elapsedMs: elapsed() };
  }

  // 2) Send once. The lane retries internally; a failed send is reported, never silently repeated (a retry by a
  //    new producer could duplicate records, which would still sessionize the same but hides a broken path).
  const records = scenarioRecords(s);
  const sent = await deps.lane.send(records);
  if (sent.error !== undefined || sent.acked !== records.length) {
    const why = sent.error === undefined ? "no error given" : describeSendError(sent.error);
    log(`ERROR: ${sent.acked} of ${records.length} heartbeats acknowledged: ${why}. Check the Kafka/bridge settings and the cluster's health.`);
    return { code: 1, reason: "send", elapsedMs: elapsed() };
  }
  log(`sent ${records.length} heartbeats in ${sent.latencyMs} ms (all acknowledged); waiting up to ${t.timeoutSec} s for ${s.expected.length} segments`);

  // 3) Poll until the table holds exactly the expected rows.
  const deadline = started + t.timeoutSec * 1000;
  let nextProgress = deps.now() + t.progressIntervalSec * 1000;
  let lastDiff = diffSegments(s.expected, []);
  let lastError: string | null = null;
  for (;;) {
    try {
      lastDiff = diffSegments(s.expected, await deps.fetchRows(s.userIds));
      lastError = null;
    } catch (err) {
      // A database blip while waiting is not a verdict; it is reported if it is still failing at the timeout.
      lastError = (err as Error).message;
    }
    if (lastError === null && isMatch(lastDiff)) {
      log(`OK: ${progressLine(lastDiff, s.expected.length, elapsed())}: every expected segment is in watch_segments, nothing else`);
      return { code: 0, elapsedMs: elapsed() };
    }
    const now = deps.now();
    if (now >= deadline) break;
    if (now >= nextProgress) {
      log(progressLine(lastDiff, s.expected.length, elapsed()) + (lastError === null ? "" : ` (last query failed: ${lastError})`));
      nextProgress = now + t.progressIntervalSec * 1000;
    }
    await deps.sleep(Math.min(t.pollIntervalSec * 1000, Math.max(0, deadline - now)));
  }
  log(`MISMATCH: watch_segments for run ${s.runId} after ${Math.round(elapsed() / 1000)} s (timeout ${t.timeoutSec} s)`);
  if (lastError !== null) log(`the last query failed: ${lastError}`);
  log(formatDiff(lastDiff));
  return { code: 1, reason: "mismatch", elapsedMs: elapsed() };
}
