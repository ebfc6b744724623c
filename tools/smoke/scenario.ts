/**
 * The smoke test's scripted heartbeats and the watch segments the pipeline must turn them into. Pure: the same
 * run id, end time and parameters always give the same heartbeats and the same expectation.
 *
 * Four viewers, 5 s heartbeats over the last SCENARIO_SPAN_SEC seconds of event time, sent interleaved in event-time
 * order. Each covers one rule of ksql/README.md "Semantics":
 *   u1  video A  continuous playback (fractional playhead)            -> 1 segment of 12 heartbeats
 *   u2  video A  seek forward after 20 s                              -> 2 segments (5 + 7)
 *   u3  video B  silent pause of 20 s (< session gap), resumes rewound -> 2 segments (4 + 4)
 *   u4  video A, then switches to video B                             -> 2 segments, one per video
 * With the default parameters that is 44 heartbeats and 7 segments; the expectation itself always comes from the
 * reference model (ksql/model.ts) with the parameters the stack runs, never from this table.
 */
import { HEARTBEAT_INTERVAL_SEC, type Heartbeat, type WatchSegment } from "../../contract/topics";
import { MAX_ID_LENGTH, SESSION_KEY_SEPARATOR, type SessionizationParams, secToMs } from "../../contract/sessionization";
import { sessionize } from "../../ksql/model";
import { SMOKE_USER_PREFIX } from "../../contract/smokeIssuer";

/** Heartbeats per viewer: 12 x 5 s covers a minute, long enough for a seek and a pause inside one session. */
export const HEARTBEATS_PER_VIEWER = 12;
/** Event time from the first to the last heartbeat (55 s). */
export const SCENARIO_SPAN_SEC = (HEARTBEATS_PER_VIEWER - 1) * HEARTBEAT_INTERVAL_SEC;
/**
 * Time allowed between computing the scenario and the pipeline reading its first heartbeat (send retries, a busy
 * ksqlDB). The first heartbeats are SCENARIO_SPAN_SEC old when sent; with this allowance they must still be within
 * gap + grace of stream time, or the session window drops them as late.
 */
export const SEND_ALLOWANCE_SEC = 15;
/**
 * Prefix of every id the smoke test writes, so its rows are easy to recognise and exclude from reports; the gateway
 * holds tokens of the deploy smoke issuer to it (contract/smokeIssuer.ts).
 */
export const SMOKE_ID_PREFIX = SMOKE_USER_PREFIX;
/** Device id on every smoke heartbeat (device_id is optional and never part of a segment). */
export const SMOKE_DEVICE_ID = "smoke-device";
/** Run ids: short, lower-case, and safe inside user ids (no separator, no spaces). */
export const RUN_ID_PATTERN = /^[a-z0-9][a-z0-9-]{0,31}$/;

export interface SmokeScenario {
  readonly runId: string;
  /** Heartbeats in the order they are sent (event time, then user). */
  readonly heartbeats: readonly Heartbeat[];
  /** The distinct user ids, for the database lookup (the sink's key starts with user_id). */
  readonly userIds: readonly string[];
  /** The rows watch_segments must hold for these users afterwards, sorted by user, video, start_ts. */
  readonly expected: readonly WatchSegment[];
}

export const smokeUserId = (runId: string, n: number): string => `${SMOKE_ID_PREFIX}${runId}-u${n}`;
export const smokeVideoId = (runId: string, name: string): string => `${SMOKE_ID_PREFIX}${runId}-v${name}`;

/** Checks a run id; returns a message naming the problem, or null. */
export function runIdProblem(runId: string): string | null {
  if (!RUN_ID_PATTERN.test(runId)) return `--run-id must match ${RUN_ID_PATTERN} (lower-case letters, digits, '-'; at most 32), got "${runId}"`;
  const longest = smokeUserId(runId, 9);
  if (longest.length > MAX_ID_LENGTH || longest.includes(SESSION_KEY_SEPARATOR)) return `--run-id "${runId}" makes ids longer than ${MAX_ID_LENGTH}`;
  return null;
}

/**
 * Checks that the scenario fits the parameters: its oldest heartbeat, sent SEND_ALLOWANCE_SEC late at worst, must
 * still be within gap + grace of stream time (Kafka Streams drops a record whose session ends before
 * streamTime - grace - gap). Returns a message, or null when it fits.
 */
export function scenarioFitProblem(p: SessionizationParams): string | null {
  const needMs = secToMs(SCENARIO_SPAN_SEC + SEND_ALLOWANCE_SEC);
  const haveMs = secToMs(p.sessionGapSec) + secToMs(p.gracePeriodSec);
  if (haveMs < needMs) {
    return (
      `the smoke scenario spans ${SCENARIO_SPAN_SEC} s of event time (+${SEND_ALLOWANCE_SEC} s send allowance); with session gap ` +
      `${p.sessionGapSec} s + grace ${p.gracePeriodSec} s = ${haveMs / 1000} s its first heartbeats would be dropped as late. ` +
      `Pass the stack's real --session-gap-sec / --grace-period-sec (their sum must be >= ${needMs / 1000} s).`
    );
  }
  return null;
}

interface ViewerScript {
  readonly user: number;
  /** Heartbeat slot (0..HEARTBEATS_PER_VIEWER-1) -> [video, playhead s], or null for no heartbeat in that slot. */
  readonly at: (k: number) => readonly [string, number] | null;
}

const SCRIPTS: readonly ViewerScript[] = [
  // Continuous playback; a fractional playhead exercises the ms rounding and the double columns.
  { user: 1, at: (k) => ["A", 120.1 + HEARTBEAT_INTERVAL_SEC * k] },
  // Plays 10..30 s, then seeks forward to 600 s and plays on.
  { user: 2, at: (k) => (k < 5 ? ["A", 10 + HEARTBEAT_INTERVAL_SEC * k] : ["A", 600 + HEARTBEAT_INTERVAL_SEC * (k - 5)]) },
  // Plays 40..55 s, pauses silently for 20 s (no heartbeats in slots 4..7), resumes rewound to 5 s: a pause shorter
  // than the gap alone does not split (semantics v2), the seek back beyond the tolerance does.
  { user: 3, at: (k) => (k < 4 ? ["B", 40 + HEARTBEAT_INTERVAL_SEC * k] : k < 8 ? null : ["B", 5 + HEARTBEAT_INTERVAL_SEC * (k - 8)]) },
  // Watches video A from 300 s, then switches to video B from the start.
  { user: 4, at: (k) => (k < 6 ? ["A", 300 + HEARTBEAT_INTERVAL_SEC * k] : ["B", HEARTBEAT_INTERVAL_SEC * (k - 6)]) },
];

/** The scripted heartbeats ending at `endTs` (epoch ms), interleaved across viewers in event-time order. */
export function smokeHeartbeats(runId: string, endTs: number): Heartbeat[] {
  const startTs = endTs - secToMs(SCENARIO_SPAN_SEC);
  const out: Heartbeat[] = [];
  for (let k = 0; k < HEARTBEATS_PER_VIEWER; k++) {
    for (const s of SCRIPTS) {
      const point = s.at(k);
      if (point === null) continue;
      out.push({
        user_id: smokeUserId(runId, s.user),
        video_id: smokeVideoId(runId, point[0]),
        position_sec: point[1],
        event_ts: startTs + k * secToMs(HEARTBEAT_INTERVAL_SEC),
        device_id: SMOKE_DEVICE_ID,
      });
    }
  }
  return out;
}

/** The whole scenario: heartbeats and the model's expectation for the given sessionization parameters. */
export function smokeScenario(runId: string, endTs: number, params: SessionizationParams): SmokeScenario {
  const problem = runIdProblem(runId);
  if (problem !== null) throw new Error(problem);
  const heartbeats = smokeHeartbeats(runId, endTs);
  const valid = heartbeats.map((h) => ({ ...h, device_id: h.device_id ?? null }));
  return {
    runId,
    heartbeats,
    userIds: [...new Set(heartbeats.map((h) => h.user_id))].sort(),
    // One model partition for all of them: nothing is late, so per-key results do not depend on the partitioning.
    expected: sessionize(valid, params),
  };
}
