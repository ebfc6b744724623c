/**
 * Validation exactly as the migrations in force do it (V000004): first ksqlDB's JSON decoding of a raw record into
 * the typed columns of `heartbeats_raw_keyed` (undecodable records go to the processing log), then the reject rules,
 * in the same order and with the same reason strings as the SQL's CASE, then the player's time of play
 * (`played_at`) from the broker's arrival time, corrected for the player's clock with `sent_at`.
 */
import {
  MAX_EVENT_TS_MS,
  MAX_ID_LENGTH,
  MAX_LATENESS_SEC,
  MAX_POSITION_SEC,
  SESSION_KEY_SEPARATOR,
  secToMs,
} from "../../contract/sessionization";

/** The raw stream's columns after ksqlDB's JSON deserializer (null = absent or JSON null). */
export interface RawRow {
  readonly user_id: string | null;
  readonly video_id: string | null;
  readonly position_sec: number | null;
  readonly event_ts: number | null;
  readonly device_id: string | null;
  /** The player's clock when it sent the heartbeat (optional field, epoch ms). Absent in rows built before V000004. */
  readonly sent_at?: number | null;
}

/**
 * A heartbeat that passed validation: what the `heartbeats` stream carries. `rowtime` is the record's arrival time
 * (the broker's LogAppendTime on heartbeats_raw, carried on as the record timestamp; defaults to event_ts, a player
 * with a correct clock and no delay); `sent_at` the player's clock when it sent (optional). See {@link playedAt}.
 */
export interface ValidHeartbeat {
  readonly user_id: string;
  readonly video_id: string;
  readonly position_sec: number;
  readonly event_ts: number;
  readonly device_id: string | null;
  readonly sent_at?: number | null;
  readonly rowtime?: number;
}

/** The record's arrival time (ROWTIME); event_ts when the caller models no delivery. */
export function arrivalOf(hb: ValidHeartbeat): number {
  return hb.rowtime ?? hb.event_ts;
}

/**
 * V000004's `played_at`: when the heartbeat was played, on our clock. With `sent_at`, the player's own distance
 * between playing and sending (sent_at − event_ts, skew cancels) is taken off the arrival time; without it, the
 * arrival time. Validation guarantees 0 <= sent_at − event_ts <= MAX_LATENESS_SEC.
 */
export function playedAt(hb: ValidHeartbeat): number {
  const rowtime = arrivalOf(hb);
  return hb.sent_at === undefined || hb.sent_at === null ? rowtime : rowtime - (hb.sent_at - hb.event_ts);
}

export type DecodeResult = { readonly ok: true; readonly row: RawRow } | { readonly ok: false; readonly error: string };

const JAVA_DOUBLE = /^[\x00-\x20]*[+-]?(NaN|Infinity|(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?[fFdD]?)[\x00-\x20]*$/;
const JAVA_LONG = /^[+-]?\d+$/;
const LONG_MAX = 9223372036854775807n;
const LONG_MIN = -9223372036854775808n;

function textOf(v: unknown): string {
  // Jackson's JsonNode.asText(): numbers and booleans print as text, arrays as "[a, b]", objects as JSON. Integers
  // print identically in JS; other numbers and objects print the way JS does (documented approximation).
  if (Array.isArray(v)) return `[${v.map((e) => (e === null ? "null" : textOf(e))).join(", ")}]`;
  if (typeof v === "object" && v !== null) return JSON.stringify(v);
  return String(v);
}

function coerce(col: string, kind: "STRING" | "DOUBLE" | "BIGINT", v: unknown): string | number | null {
  if (v === undefined || v === null) return null;
  if (kind === "STRING") return textOf(v);
  if (kind === "DOUBLE") {
    if (typeof v === "number") return v;
    if (typeof v === "string" && JAVA_DOUBLE.test(v)) return Number(v.trim().replace(/[fFdD]$/, ""));
    throw new Error(`${col}: cannot coerce ${JSON.stringify(v)} to DOUBLE`);
  }
  if (typeof v === "number") return Math.trunc(v); // Jackson asLong() on a floating node truncates toward zero
  if (typeof v === "string" && JAVA_LONG.test(v)) {
    const b = BigInt(v);
    if (b <= LONG_MAX && b >= LONG_MIN) return Number(b);
  }
  throw new Error(`${col}: cannot coerce ${JSON.stringify(v)} to BIGINT`);
}

/**
 * ksqlDB's JSON value deserializer for the raw stream's columns: field names match case-insensitively, numeric
 * strings coerce to numbers, scalars coerce to strings; anything else makes the whole record undecodable.
 */
export function decodeRaw(value: unknown): DecodeResult {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return { ok: false, error: `value: expected a JSON object, got ${JSON.stringify(value)}` };
  }
  const byUpper = new Map<string, unknown>();
  for (const [k, v] of Object.entries(value)) byUpper.set(k.toUpperCase(), v);
  try {
    return {
      ok: true,
      row: {
        user_id: coerce("user_id", "STRING", byUpper.get("USER_ID")) as string | null,
        video_id: coerce("video_id", "STRING", byUpper.get("VIDEO_ID")) as string | null,
        position_sec: coerce("position_sec", "DOUBLE", byUpper.get("POSITION_SEC")) as number | null,
        event_ts: coerce("event_ts", "BIGINT", byUpper.get("EVENT_TS")) as number | null,
        device_id: coerce("device_id", "STRING", byUpper.get("DEVICE_ID")) as string | null,
        sent_at: coerce("sent_at", "BIGINT", byUpper.get("SENT_AT")) as number | null,
      },
    };
  } catch (e) {
    return { ok: false, error: (e as Error).message };
  }
}

/** U+0000: JSON can carry it, PostgreSQL/YSQL text cannot store it (V000003). */
const NUL = "\u0000";

/** A reject rule: the field it concerns and what was expected. The SQL's reason is `<field>: expected <expected>`. */
export interface Rejection {
  readonly field: "user_id" | "video_id" | "key" | "position_sec" | "event_ts" | "sent_at" | "late";
  readonly expected: string;
}

/**
 * Every reject reason the SQL can write, in CASE order; a unit test checks each appears verbatim in the latest
 * validation migration (V000004).
 */
export const REJECTIONS = {
  userMissing: { field: "user_id", expected: "a string" },
  userEmpty: { field: "user_id", expected: "a non-empty string" },
  userTooLong: { field: "user_id", expected: `at most ${MAX_ID_LENGTH} characters` },
  userSeparator: { field: "user_id", expected: `no '${SESSION_KEY_SEPARATOR}' character` },
  userNul: { field: "user_id", expected: "no NUL (U+0000) character" },
  videoMissing: { field: "video_id", expected: "a string" },
  videoEmpty: { field: "video_id", expected: "a non-empty string" },
  videoTooLong: { field: "video_id", expected: `at most ${MAX_ID_LENGTH} characters` },
  videoSeparator: { field: "video_id", expected: `no '${SESSION_KEY_SEPARATOR}' character` },
  videoNul: { field: "video_id", expected: "no NUL (U+0000) character" },
  keyMissing: { field: "key", expected: "a record key (user_id|video_id)" },
  keyMismatch: { field: "key", expected: "the record key to be user_id|video_id" },
  positionMissing: { field: "position_sec", expected: "a number" },
  positionNegative: { field: "position_sec", expected: "a number >= 0" },
  positionTooLarge: { field: "position_sec", expected: `a number <= ${MAX_POSITION_SEC}` },
  eventTsMissing: { field: "event_ts", expected: "an integer (epoch ms)" },
  eventTsNegative: { field: "event_ts", expected: "epoch ms >= 0" },
  eventTsTooLarge: { field: "event_ts", expected: `epoch ms <= ${MAX_EVENT_TS_MS}` },
  sentAtNegative: { field: "sent_at", expected: "epoch ms >= 0" },
  sentAtTooLarge: { field: "sent_at", expected: `epoch ms <= ${MAX_EVENT_TS_MS}` },
  sentAtBeforePlay: { field: "sent_at", expected: "epoch ms >= event_ts (sent after it was played)" },
  late: { field: "late", expected: `sent at most ${MAX_LATENESS_SEC} s after it was played` },
} as const satisfies Record<string, Rejection>;

export function reasonText(r: Rejection): string {
  return `${r.field}: expected ${r.expected}`;
}

function idRejection(v: string | null, which: "user" | "video"): Rejection | null {
  const R = REJECTIONS;
  if (v === null) return which === "user" ? R.userMissing : R.videoMissing;
  if (v.length === 0) return which === "user" ? R.userEmpty : R.videoEmpty;
  if (v.length > MAX_ID_LENGTH) return which === "user" ? R.userTooLong : R.videoTooLong;
  if (v.includes(SESSION_KEY_SEPARATOR)) return which === "user" ? R.userSeparator : R.videoSeparator;
  if (v.includes(NUL)) return which === "user" ? R.userNul : R.videoNul;
  return null;
}

/** The record key every producer must set: the session key user_id|video_id (UTF-8, Kafka's default partitioner). */
export function expectedKey(userId: string, videoId: string): string {
  return userId + SESSION_KEY_SEPARATOR + videoId;
}

/**
 * The first rule a decoded row breaks, or null if it is valid. `key` is the raw record's key (null: none). NaN fails
 * `>= 0` in Java as in JS, so it is rejected as negative. The sent_at rules apply only when sent_at is present.
 */
export function rejection(row: RawRow, key: string | null): Rejection | null {
  const R = REJECTIONS;
  const id = idRejection(row.user_id, "user") ?? idRejection(row.video_id, "video");
  if (id !== null) return id;
  if (key === null) return R.keyMissing;
  if (key !== expectedKey(row.user_id as string, row.video_id as string)) return R.keyMismatch;
  const pos = row.position_sec;
  if (pos === null) return R.positionMissing;
  if (!(pos >= 0)) return R.positionNegative;
  if (!(pos <= MAX_POSITION_SEC)) return R.positionTooLarge;
  const ts = row.event_ts;
  if (ts === null) return R.eventTsMissing;
  if (ts < 0) return R.eventTsNegative;
  if (ts > MAX_EVENT_TS_MS) return R.eventTsTooLarge;
  const sent = row.sent_at ?? null;
  if (sent === null) return null;
  if (sent < 0) return R.sentAtNegative;
  if (sent > MAX_EVENT_TS_MS) return R.sentAtTooLarge;
  if (sent < ts) return R.sentAtBeforePlay;
  if (sent > ts + secToMs(MAX_LATENESS_SEC)) return R.late;
  return null;
}

/** A row that passed {@link rejection}, with its arrival time (the raw record's ROWTIME). */
export function asValid(row: RawRow, rowtime: number): ValidHeartbeat {
  return {
    user_id: row.user_id as string,
    video_id: row.video_id as string,
    position_sec: row.position_sec as number,
    event_ts: row.event_ts as number,
    device_id: row.device_id,
    sent_at: row.sent_at ?? null,
    rowtime,
  };
}
