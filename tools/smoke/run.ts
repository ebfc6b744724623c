/**
 * The smoke run: check the database is reachable and clean for this run id, send the scenario once (acks=all),
 * then poll watch_segments until it holds exactly the expected rows or the timeout passes. Every side effect goes
 * through {@link SmokeDeps}, so the unit tests drive it with fakes and a fake clock.
 */
import { REJECTED_HEARTBEATS_TOPIC, WATCH_SEGMENTS_DLQ_TOPIC, WATCH_SEGMENTS_TOPIC, type WatchSegment } from "../../contract/topics";
import { isTokenRefusal } from "../loadgen/gatewaySender";
import { describeSendError } from "../loadgen/kafkaSender";
import type { Lane } from "../loadgen/run";
import { recordKey, type LoadRecord } from "../loadgen/records";
import { diffSegments, formatDiff, isMatch, progressLine, transitToleranceMs, type SegmentDiff } from "./diff";
import type { SmokeScenario } from "./scenario";

export interface SmokeDeps {
  /** The sender (a KafkaLane, a BridgeLane or a GatewayLane); one send of the whole scenario. */
  readonly lane: Lane;
  /** The watch_segments rows of these users. Throws when the database cannot be queried. */
  readonly fetchRows: (userIds: readonly string[]) => Promise<WatchSegment[]>;
  readonly now: () => number;
  readonly sleep: (ms: number) => Promise<void>;
  readonly log: (line: string) => void;
  /** What to check when the sender gets no answer (tools/loadgen/config.ts connectionHint for Kafka). */
  readonly sendHint?: string;
  /** What to fix when the gateway refuses the smoke's tokens (401/403): tools/loadgen/gatewaySender.ts tokenRefusalHint. */
  readonly tokenHint?: string;
}

export interface SmokeTiming {
  readonly timeoutSec: number;
  readonly pollIntervalSec: number;
  readonly progressIntervalSec: number;
}

export type SmokeOutcome =
  | { readonly code: 0; readonly elapsedMs: number }
  /** The pipeline did not produce the expected rows (tools/exitCodes.ts: a check failed). */
  | { readonly code: 1; readonly reason: "mismatch" | "send"; readonly elapsedMs: number }
  /**
   * The check could not run: database or sender unreachable, the run id already used, or the smoke's own tokens
   * refused by the gateway (its settings, like a wrong database password: usage or connection).
   */
  | { readonly code: 2; readonly reason: "database" | "send" | "token"; readonly elapsedMs: number };

/**
 * Where to look next after a mismatch, following the heartbeats downstream from what the diff shows: nothing at all
 * arrived, some segments are missing, or rows arrived with other values.
 */
export function mismatchHint(diff: SegmentDiff, runId: string): string[] {
  const arrived = diff.matched.length + diff.different.length + diff.unexpected.length;
  if (arrived === 0) {
    return [
      `next: nothing of run ${runId} reached watch_segments. Follow the heartbeats downstream:`,
      `  1. topic ${REJECTED_HEARTBEATS_TOPIC}: did validation reject them (each reject carries its reason)?`,
      "  2. ksqlDB: are the queries RUNNING (SHOW QUERIES;) and is the processing log free of errors?",
      `  3. topic ${WATCH_SEGMENTS_TOPIC}: did ksqlDB write this run's segments (EMIT FINAL writes a session once stream time passes its end + grace; the session ticker advances it)?`,
      `  4. the JDBC sink connector: kubectl get kafkaconnector -A (READY, task state) and topic ${WATCH_SEGMENTS_DLQ_TOPIC}.`,
      "  5. the database: the sink role's grants and the connector's log for JDBC errors.",
    ];
  }
  const lines: string[] = [];
  if (diff.missing.length > 0) {
    lines.push(
      `next: ${diff.missing.length} segments are missing while others arrived: sessions close when stream time passes end + grace; check the session ticker runs, then the connector's lag and topic ${WATCH_SEGMENTS_DLQ_TOPIC}.`,
    );
  }
  if (diff.different.length > 0 || diff.unexpected.length > 0) {
    lines.push(
      "next: rows arrived with other values or keys: the model parameters printed at the start must equal the deployed watchpipe:sessionization settings; " +
        "if they do, ksqlDB's SQL and the reference model disagree (run the ksql test vectors: npx vitest run test/ksql).",
    );
  }
  return lines;
}

/** True when a send error says the service was never reached (as opposed to reached and refusing). */
export function isConnectionFailure(description: string): boolean {
  return /KafkaJSConnectionError|Broker not connected|Connection timeout|ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|fetch failed/i.test(description);
}

/**
 * The records the sender writes: JSON heartbeats keyed by the session key user_id|video_id, each with the time it
 * is sent (`sent_at`, this host's clock, the same clock as event_ts), as a player sends them: the pipeline places
 * each at arrival − (sent_at − event_ts), i.e. its event time plus the transit.
 */
export function scenarioRecords(s: SmokeScenario, sentAt: number): LoadRecord[] {
  return s.heartbeats.map((h, seq) => ({ key: recordKey(h), value: JSON.stringify({ ...h, sent_at: sentAt }), seq, malformed: false }));
}

/** What `smoke --json` prints: the run, its verdict and where it looked. */
export interface SmokeResult {
  readonly runId: string;
  readonly code: number;
  /** null when the segments matched; else mismatch, send, token or database (SmokeOutcome's reason). */
  readonly reason: string | null;
  readonly elapsedMs: number;
  readonly expectedSegments: number;
  readonly heartbeats: number;
  readonly target: string;
  readonly database: string;
}

/** Pure: the result object, with `result` spelled out so a CI step can test one field. */
export function smokeResultJson(r: SmokeResult): Record<string, unknown> {
  const result = r.code === 0 ? "match" : r.reason === "mismatch" ? "mismatch" : r.reason === "token" ? "unauthorized" : r.code === 2 ? "unreachable" : "failed";
  return { result, ...r };
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
      return { code: 2, reason: "database", elapsedMs: elapsed() };
    }
  } catch (err) {
    log(`ERROR: cannot query watch_segments: ${(err as Error).message}. Check the --pg-* settings / PG* variables, the password and TLS.`);
    return { code: 2, reason: "database", elapsedMs: elapsed() };
  }

  // 2) Send once. The lane retries internally; a failed send is reported, never silently repeated (a retry by a
  //    new producer could duplicate records, which would still sessionize the same but hides a broken path).
  const records = scenarioRecords(s, deps.now());
  const sent = await deps.lane.send(records);
  if (sent.error !== undefined || sent.acked !== records.length) {
    const why = sent.error === undefined ? "no error given" : describeSendError(sent.error);
    if (isTokenRefusal(sent.error)) {
      // The smoke's own credentials, not the pipeline: nothing was written and the check could not run.
      log(`ERROR: ${sent.acked} of ${records.length} heartbeats acknowledged: the gateway refused the smoke's token (HTTP ${sent.error.status}): ${why}. ${deps.tokenHint ?? "Check the token settings."}`);
      return { code: 2, reason: "token", elapsedMs: elapsed() };
    }
    if (isConnectionFailure(why)) {
      log(`ERROR: ${sent.acked} of ${records.length} heartbeats acknowledged: ${why}. ${deps.sendHint ?? "Check the Kafka/bridge settings."}`);
      return { code: 2, reason: "send", elapsedMs: elapsed() };
    }
    // Reached, but refused (NOT_ENOUGH_REPLICAS, authorization, a 4xx from the bridge, a 413/400/503 from the gateway): the pipeline failed the check.
    log(`ERROR: ${sent.acked} of ${records.length} heartbeats acknowledged: ${why}. Check the cluster's health (broker and ISR state, ACLs).`);
    return { code: 1, reason: "send", elapsedMs: elapsed() };
  }
  const toleranceMs = transitToleranceMs(s.expected, sent.latencyMs);
  log(
    `sent ${records.length} heartbeats in ${sent.latencyMs} ms (all acknowledged); waiting up to ${t.timeoutSec} s for ${s.expected.length} segments, ` +
      `their times within ${(toleranceMs / 1000).toFixed(1)} s of the model's (the transit, at most the send's ${sent.latencyMs} ms, + 2 s)`,
  );

  // 3) Poll until the table holds exactly the expected rows.
  const deadline = started + t.timeoutSec * 1000;
  let nextProgress = deps.now() + t.progressIntervalSec * 1000;
  let lastDiff = diffSegments(s.expected, []);
  let lastError: string | null = null;
  for (;;) {
    try {
      lastDiff = diffSegments(s.expected, await deps.fetchRows(s.userIds), toleranceMs);
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
  for (const line of mismatchHint(lastDiff, s.runId)) log(line);
  return { code: 1, reason: "mismatch", elapsedMs: elapsed() };
}
