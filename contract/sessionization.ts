/**
 * Sessionization parameters: stack config (`watchpipe:sessionization`) overrides the DEFAULT_* values. The SQL
 * migrations (via `--define`), the reference model (ksql/model) and the tick source all take the same values.
 * The other constants are fixed contract limits shared by the SQL and the model; see ksql/README.md.
 */

/** Silence longer than this ends a segment: six missed 5 s heartbeats, so one lost request never splits a segment. */
export const DEFAULT_SESSION_GAP_SEC = 30;
/**
 * Records up to this far behind the partition's stream time (arrival time since V000004) still join their window.
 * Arrival time does not run backwards within a partition (LogAppendTime), so this only absorbs broker clock steps.
 */
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
 * Allowance for the time between a player sending a heartbeat and the broker stamping it (network, retries inside
 * one request). Since V000004 windows run on the broker's arrival time (LogAppendTime) and no rule compares
 * event_ts with the record timestamp any more; this only pads the worst-case close delay below.
 */
export const MAX_FUTURE_SKEW_SEC = 30;
/**
 * Latest delivery that still counts (V000004): a heartbeat whose player sent it more than this after it was played
 * (`sent_at > event_ts + MAX_LATENESS_SEC * 1000`, both on the player's clock, so skew cancels) is rejected with
 * reason prefix `late:`. An hour covers offline queues, retries and any backlog upstream of the broker.
 */
export const MAX_LATENESS_SEC = 3600;
/**
 * Playback up to this rate (playhead seconds per wall-clock second) is continuous: 0.5x to 2x player settings are one
 * segment. Between two consecutive heartbeats the playhead may advance by at most rate x elapsed + tolerance.
 */
export const DEFAULT_MAX_PLAYBACK_RATE = 2;
/** Range stack config and the CLI accept: 1× (normal speed must stay continuous) to 16×. */
export const MIN_MAX_PLAYBACK_RATE = 1;
export const MAX_MAX_PLAYBACK_RATE = 16;
/**
 * Pre-aggregation step on arrival time (V000006: windows of twice this size HOPPING by it; each window owns the
 * records that arrived in its newer half, the older half only serves to recognise copies of a heartbeat). Each
 * session key's owned heartbeats become pieces once per step, closed with EMIT FINAL, so state written per heartbeat
 * is bounded by one window's points. Literals in V000006's WINDOW clause and REDUCE cutoff (ksqlDB takes no variables
 * there); a unit test keeps them equal. Chosen by `npm run bench:state` (ksql/README.md, "Costs").
 */
export const PIECE_WINDOW_SEC = 30;
/**
 * RETENTION of the window store (literal in V000002, V000004 and V000006). A window becomes invisible once the store's stream time (the
 * latest window start written) is more than this past the window's start, and Kafka Streams writes the new record
 * before it emits closed windows: a single stream-time jump larger than RETENTION - window size - grace loses the windows
 * not yet emitted. 6 h is far beyond any backlog, replay or tick burst (ksql/README.md, "Limits").
 */
export const WINDOW_RETENTION_SEC = 6 * 3600;
/**
 * Grace period the SQL is written with (literal in the WINDOW clause, V000002 to V000006). The stack's gracePeriodSec must equal
 * it: migrationDefines refuses anything else, because a different value would need a new migration.
 */
export const SQL_GRACE_PERIOD_SEC = DEFAULT_GRACE_PERIOD_SEC;
/**
 * `ksql.functions.collect_set.limit` the ksqlDB server runs with: distinct points kept per window and key. Since
 * V000006 a window spans 60 s (two steps): a player sends 12 per window, plus any copies of a retried body (each
 * arrival is a distinct point until the REDUCE skips it). 1000 still leaves ~80x headroom for honest players and
 * bounds the state a broken or hostile client can build in one window. Past it, further points of that window are
 * ignored (CollectSetUdaf); the model does the same.
 */
export const COLLECT_SET_LIMIT = 1000;
/**
 * Kafka Streams' `windowstore.changelog.additional.retention.ms` the server sets: the window store's changelog keeps
 * RETENTION plus this (default one day, which would keep 5x the data the store holds). One hour covers broker/clock
 * skew between the store's stream time and the brokers' wall clock.
 */
export const WINDOW_CHANGELOG_ADDITIONAL_RETENTION_MS = 3_600_000;
/**
 * Kafka Streams checks for closed windows at most once per this interval of wall-clock time (internal config
 * `__emit.interval.ms.kstreams.windowed.aggregation__`, default 1000 ms). It only delays emission while the
 * retention holds (see ksql/README.md, "Emission"); the model takes the interval and a wall clock as options.
 */
export const KSTREAMS_EMIT_INTERVAL_MS = 1000;
/** ksqlDB runs exactly_once_v2; Kafka Streams' commit interval under EOS defaults to 100 ms. */
export const KSTREAMS_EOS_COMMIT_INTERVAL_MS = 100;

/** The parameters the SQL and the model take (seconds; rate in playhead seconds per second). */
export interface SessionizationParams {
  readonly sessionGapSec: number;
  readonly gracePeriodSec: number;
  readonly seekToleranceSec: number;
  /** Defaults to DEFAULT_MAX_PLAYBACK_RATE. */
  readonly maxPlaybackRate?: number;
}

export const DEFAULT_SESSIONIZATION_PARAMS: SessionizationParams = {
  sessionGapSec: DEFAULT_SESSION_GAP_SEC,
  gracePeriodSec: DEFAULT_GRACE_PERIOD_SEC,
  seekToleranceSec: DEFAULT_SEEK_TOLERANCE_SEC,
  maxPlaybackRate: DEFAULT_MAX_PLAYBACK_RATE,
};

/** The max playback rate in thousandths (the SQL compares in integer milliseconds: 1000·Δpos <= permille·Δt + ...). */
export function maxRatePermille(p: SessionizationParams): number {
  return Math.round((p.maxPlaybackRate ?? DEFAULT_MAX_PLAYBACK_RATE) * 1000);
}

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
  if (p.maxPlaybackRate !== undefined) check("maxPlaybackRate", (v) => v >= MIN_MAX_PLAYBACK_RATE && v <= MAX_MAX_PLAYBACK_RATE, `a playback rate between ${MIN_MAX_PLAYBACK_RATE} and ${MAX_MAX_PLAYBACK_RATE}`);
  return problems;
}

/**
 * Worst-case delay (seconds) from a heartbeat's arrival until the piece holding it is committed to
 * `watch_segments`, on a partition that only receives ticks:
 * - the window owning it (V000006: [start − W, start + W), the heartbeat in its newer half [start, start + W))
 *   closes once stream time reaches start + W + grace; at worst the heartbeat arrived at start, so W + grace after
 *   it (the same as V000004's tumbling window [start, start + W));
 * - stream time reaches that only at the next tick (<= one tick interval);
 * - the close check runs on record arrival and is throttled to once per KSTREAMS_EMIT_INTERVAL_MS of wall-clock
 *   time: if a record took the check just before that tick, the next check is at the next record, at worst the next
 *   tick;
 * - the output becomes visible to read_committed consumers at the EOS commit;
 * - windows run on arrival time (V000004): MAX_FUTURE_SKEW_SEC pads for the transit from the player to the broker.
 * The segment a piece belongs to is visible in the database as soon as the sink writes the piece.
 */
export function worstCaseCloseDelaySec(p: SessionizationParams, tickIntervalSec = DEFAULT_TICK_INTERVAL_SEC): number {
  const tickMs = secToMs(tickIntervalSec);
  const ms =
    secToMs(PIECE_WINDOW_SEC) +
    secToMs(p.gracePeriodSec) +
    tickMs +
    Math.max(tickMs, KSTREAMS_EMIT_INTERVAL_MS) +
    KSTREAMS_EOS_COMMIT_INTERVAL_MS +
    secToMs(MAX_FUTURE_SKEW_SEC);
  return ms / 1000;
}
