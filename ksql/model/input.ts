/**
 * Strict parsing of the `npm run sessionize` input file. Unlike ksqlDB's lenient JSON decoding, the CLI accepts
 * only properly typed fields, and a heartbeat breaking one of the field rules (ids, position, event_ts) is an input
 * error: a vector must say exactly which heartbeats it means. What the pipeline rejects for reasons of delivery —
 * the record key (`key:`), the player's send time (`sent_at:`) and lateness (`late:`) — is an outcome, not an input
 * error: those heartbeats are returned in `rejected` with the SQL's reason. Messages name the record index, the
 * field, what was expected and what was found.
 */
import { DEFAULT_SESSIONIZATION_PARAMS, paramProblems, type SessionizationParams } from "../../contract/sessionization";
import { expectedKey, reasonText, rejection, type Rejection, type ValidHeartbeat } from "./validate";

/** A heartbeat the pipeline rejects (key, sent_at or late): what heartbeats_rejected carries, plus its input index. */
export interface RejectedInput {
  readonly index: number;
  readonly user_id: string;
  readonly video_id: string;
  readonly position_sec: number;
  readonly event_ts: number;
  readonly device_id: string | null;
  readonly sent_at: number | null;
  readonly rowtime: number;
  readonly key: string | null;
  readonly reason: string;
}

export interface SessionizeInput {
  readonly params: SessionizationParams;
  /** Accepted heartbeats in stable arrival order (rowtime, then input order), each with its rowtime. */
  readonly heartbeats: readonly ValidHeartbeat[];
  /** Heartbeats the SQL rejects for their key, sent_at or lateness, in input order. */
  readonly rejected: readonly RejectedInput[];
  /** Non-fatal remarks (unknown config keys); printed to stderr. */
  readonly warnings: readonly string[];
}

/** Rules whose breach is an input error (the heartbeat itself is malformed); the others are pipeline outcomes. */
const INPUT_ERROR_FIELDS: ReadonlySet<Rejection["field"]> = new Set(["user_id", "video_id", "position_sec", "event_ts"]);

const isInt = (v: unknown): v is number => typeof v === "number" && Number.isSafeInteger(v);

export class InputError extends Error {}

const CONFIG_KEYS = ["sessionGapSec", "gracePeriodSec", "seekToleranceSec", "maxPlaybackRate"] as const;

function show(v: unknown): string {
  if (v === undefined) return "nothing (field missing)";
  const s = JSON.stringify(v);
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function parseConfig(v: unknown, warnings: string[]): SessionizationParams {
  if (v === undefined || v === null) return DEFAULT_SESSIONIZATION_PARAMS;
  if (!isPlainObject(v)) throw new InputError(`config: expected an object, got ${show(v)}`);
  for (const k of Object.keys(v)) {
    if (!(CONFIG_KEYS as readonly string[]).includes(k)) warnings.push(`config.${k}: unknown key ignored (known: ${CONFIG_KEYS.join(", ")})`);
  }
  const params = { ...DEFAULT_SESSIONIZATION_PARAMS };
  for (const k of CONFIG_KEYS) {
    if (v[k] !== undefined) (params as Record<string, unknown>)[k] = v[k];
  }
  const problems = paramProblems(params);
  if (problems.length > 0) throw new InputError(problems.join("; "));
  return params;
}

interface Parsed {
  readonly hb: ValidHeartbeat & { readonly rowtime: number };
  readonly key: string | null;
  readonly rejection: Rejection | null;
}

/** Type checks, then the SQL's rules: throws InputError for a malformed heartbeat, else returns it with its outcome. */
function parseHeartbeat(r: unknown, i: number): Parsed {
  const at = `heartbeats[${i}]`;
  if (!isPlainObject(r)) throw new InputError(`${at}: expected an object, got ${show(r)}`);
  for (const f of ["user_id", "video_id"] as const) {
    if (typeof r[f] !== "string") throw new InputError(`${at}.${f}: expected a string, got ${show(r[f])}`);
  }
  if (typeof r.position_sec !== "number") throw new InputError(`${at}.position_sec: expected a number >= 0, got ${show(r.position_sec)}`);
  if (!isInt(r.event_ts)) throw new InputError(`${at}.event_ts: expected an integer (epoch ms), got ${show(r.event_ts)}`);
  if (r.device_id !== undefined && r.device_id !== null && typeof r.device_id !== "string") {
    throw new InputError(`${at}.device_id: expected a string or null, got ${show(r.device_id)}`);
  }
  if (r.rowtime !== undefined && (!isInt(r.rowtime) || r.rowtime < 0)) {
    throw new InputError(`${at}.rowtime: expected an integer >= 0 (the record's arrival time, epoch ms), got ${show(r.rowtime)}`);
  }
  if (r.sent_at !== undefined && r.sent_at !== null && !isInt(r.sent_at)) {
    throw new InputError(`${at}.sent_at: expected an integer (the player's clock when it sent, epoch ms) or null, got ${show(r.sent_at)}`);
  }
  if (r.key !== undefined && r.key !== null && typeof r.key !== "string") {
    throw new InputError(`${at}.key: expected a string (the record key) or null, got ${show(r.key)}`);
  }
  const userId = r.user_id as string;
  const videoId = r.video_id as string;
  const row = {
    user_id: userId,
    video_id: videoId,
    position_sec: r.position_sec,
    event_ts: r.event_ts,
    device_id: (r.device_id as string | null | undefined) ?? null,
    sent_at: (r.sent_at as number | null | undefined) ?? null,
  };
  // Without a key the record is taken as produced the way every producer we ship does: keyed user_id|video_id.
  const key = r.key === undefined ? expectedKey(userId, videoId) : (r.key as string | null);
  const rej = rejection(row, key);
  if (rej !== null && INPUT_ERROR_FIELDS.has(rej.field)) {
    throw new InputError(`${at}.${rej.field}: ${reasonText(rej).slice(rej.field.length + 2)}, got ${show(r[rej.field])}`);
  }
  const rowtime = isInt(r.rowtime) ? r.rowtime : r.event_ts;
  return { hb: { ...row, rowtime }, key, rejection: rej };
}

/** Parses the CLI's input text; throws InputError naming what is wrong. */
export function parseSessionizeInput(text: string): SessionizeInput {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new InputError(`input: not valid JSON (${(e as Error).message}); expected {"config"?: {...}, "heartbeats": [...]}`);
  }
  if (!isPlainObject(doc)) throw new InputError(`input: expected an object with a "heartbeats" array, got ${show(doc)}`);
  const warnings: string[] = [];
  const params = parseConfig(doc.config, warnings);
  if (!Array.isArray(doc.heartbeats)) throw new InputError(`heartbeats: expected an array, got ${show(doc.heartbeats)}`);
  const parsed = (doc.heartbeats as unknown[]).map((r, i) => ({ index: i, ...parseHeartbeat(r, i) }));
  const rejected: RejectedInput[] = parsed
    .filter((p) => p.rejection !== null)
    .map(({ index, hb, key, rejection: rej }) => ({
      index,
      user_id: hb.user_id,
      video_id: hb.video_id,
      position_sec: hb.position_sec,
      event_ts: hb.event_ts,
      device_id: hb.device_id,
      sent_at: hb.sent_at ?? null,
      rowtime: hb.rowtime,
      key,
      reason: reasonText(rej as Rejection),
    }));
  // One partition consumes in arrival order; Array.prototype.sort is stable, so equal rowtimes keep input order.
  const heartbeats = parsed
    .filter((p) => p.rejection === null)
    .map((p) => p.hb)
    .sort((a, b) => a.rowtime - b.rowtime);
  return { params, heartbeats, rejected, warnings };
}
