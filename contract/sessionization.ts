/**
 * Sessionization parameters: stack config (`watchpipe:sessionization`) overrides the DEFAULT_* values. The SQL
 * migrations (via `--define`), the reference model (ksql/model) and the tick source all take the same values.
 * The other constants are fixed contract limits shared by the SQL and the model; see ksql/README.md.
 */

/** Silence longer than this ends a segment: six missed 5 s heartbeats, so one lost request never splits a segment. */
export const DEFAULT_SESSION_GAP_SEC = 30;
/** Heartbeats arriving up to this late (event time behind stream time) still count; later ones are dropped. */
export const DEFAULT_GRACE_PERIOD_SEC = 60;
/** A playhead jump or pause differing from elapsed wall time by more than this starts a new segment. */
export const DEFAULT_SEEK_TOLERANCE_SEC = 10;
/** How often the tick source advances stream time on every partition so quiet partitions still close sessions. */
export const DEFAULT_TICK_INTERVAL_SEC = 10;

/** Reserved user id of tick records: they advance stream time on a partition and never produce segments. */
export const TICK_USER_ID = "__tick__";
/** Joins user_id and video_id into the single-string session key; ids containing it are rejected (no collisions). */
export const SESSION_KEY_SEPARATOR = "|";
/** Longest accepted user_id / video_id: keeps keys, state and the sink's primary key bounded. */
export const MAX_ID_LENGTH = 128;
/** Playhead ceiling (115 days): longer than any VOD or live DVR window; fits the 11-digit millisecond encoding. */
export const MAX_POSITION_SEC = 10_000_000;
/** Latest accepted event_ts (year 2286): fits the 13-digit millisecond encoding the SQL sorts on. */
export const MAX_EVENT_TS_MS = 9_999_999_999_999;
/**
 * How far event_ts may run ahead of the Kafka record timestamp. Must stay well under gap + grace: one player with a
 * fast clock would otherwise push the partition's stream time past the close time of every honest open session.
 */
export const MAX_FUTURE_SKEW_SEC = 30;
/**
 * `ksql.functions.collect_list.limit` the ksqlDB server must run with: 6 h of 5 s heartbeats per session. Past it,
 * further heartbeats of that session are ignored (ksqlDB's COLLECT_LIST semantics); the model does the same.
 */
export const COLLECT_LIST_LIMIT = 4320;
/**
 * Kafka Streams checks for closed session windows at most once per this interval (internal config
 * `__emit.interval.ms.kstreams.windowed.aggregation__`, default 1000 ms). It only delays emission; the model checks
 * on every record (interval 0), which yields the same final rows (see ksql/README.md, "Emission").
 */
export const KSTREAMS_EMIT_INTERVAL_MS = 1000;
/** ksqlDB runs exactly_once_v2; Kafka Streams' commit interval under EOS defaults to 100 ms. */
export const KSTREAMS_EOS_COMMIT_INTERVAL_MS = 100;

/** The three parameters the SQL and the model take (seconds). */
export interface SessionizationParams {
  readonly sessionGapSec: number;
  readonly gracePeriodSec: number;
  readonly seekToleranceSec: number;
}

export const DEFAULT_SESSIONIZATION_PARAMS: SessionizationParams = {
  sessionGapSec: DEFAULT_SESSION_GAP_SEC,
  gracePeriodSec: DEFAULT_GRACE_PERIOD_SEC,
  seekToleranceSec: DEFAULT_SEEK_TOLERANCE_SEC,
};

/** Seconds to whole milliseconds, the unit both the SQL and the model compute in. */
export function secToMs(sec: number): number {
  return Math.round(sec * 1000);
}

/**
 * Checks parameters; returns one message per problem (empty when valid). Each names the key, the expected and the
 * actual value.
 */
export function paramProblems(p: SessionizationParams, where = "config"): string[] {
  const problems: string[] = [];
  const check = (key: keyof SessionizationParams, ok: (v: number) => boolean, expected: string): void => {
    const v = p[key];
    if (typeof v !== "number" || !Number.isFinite(v) || !ok(v)) {
      problems.push(`${where}.${key}: expected ${expected}, got ${JSON.stringify(v)}`);
    }
  };
  check("sessionGapSec", (v) => secToMs(v) >= 1, "a number of seconds >= 0.001");
  check("gracePeriodSec", (v) => v >= 0, "a number of seconds >= 0");
  check("seekToleranceSec", (v) => v >= 0, "a number of seconds >= 0");
  return problems;
}

/**
 * Worst-case delay (seconds) from a session's last heartbeat (event time) until its segments are committed to
 * `watch_segments`, on a partition that only receives ticks:
 * - the window closes once stream time passes end + gap + grace (Kafka Streams' rule, strict: +1 ms);
 * - stream time reaches that only at the next tick (<= one tick interval);
 * - the close check runs on record arrival and is throttled to once per KSTREAMS_EMIT_INTERVAL_MS: if a heartbeat
 *   took the check just before that tick, the next check is at the next record, at worst the next tick;
 * - the output becomes visible to read_committed consumers at the EOS commit;
 * - a player clock running ahead by up to MAX_FUTURE_SKEW_SEC moves the session's event time later by that much.
 */
export function worstCaseCloseDelaySec(p: SessionizationParams, tickIntervalSec = DEFAULT_TICK_INTERVAL_SEC): number {
  const tickMs = secToMs(tickIntervalSec);
  const ms =
    secToMs(p.sessionGapSec) +
    secToMs(p.gracePeriodSec) +
    1 +
    tickMs +
    Math.max(tickMs, KSTREAMS_EMIT_INTERVAL_MS) +
    KSTREAMS_EOS_COMMIT_INTERVAL_MS +
    secToMs(MAX_FUTURE_SKEW_SEC);
  return ms / 1000;
}
