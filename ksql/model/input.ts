/**
 * Strict parsing of the `npm run sessionize` input file. Unlike ksqlDB's lenient JSON decoding, the CLI accepts
 * only properly typed fields, and a heartbeat the SQL would reject is an input error too: a vector must say exactly
 * which heartbeats it means. Messages name the record index, the field, what was expected and what was found.
 */
import { DEFAULT_SESSIONIZATION_PARAMS, paramProblems, type SessionizationParams } from "../../contract/sessionization";
import { reasonText, rejection, type Rejection, type ValidHeartbeat } from "./validate";

export interface SessionizeInput {
  readonly params: SessionizationParams;
  readonly heartbeats: readonly ValidHeartbeat[];
  /** Non-fatal remarks (unknown config keys); printed to stderr. */
  readonly warnings: readonly string[];
}

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

function heartbeatProblem(r: unknown, i: number): string | null {
  const at = `heartbeats[${i}]`;
  if (!isPlainObject(r)) return `${at}: expected an object, got ${show(r)}`;
  for (const f of ["user_id", "video_id"] as const) {
    if (typeof r[f] !== "string") return `${at}.${f}: expected a string, got ${show(r[f])}`;
  }
  if (typeof r.position_sec !== "number") return `${at}.position_sec: expected a number >= 0, got ${show(r.position_sec)}`;
  if (typeof r.event_ts !== "number" || !Number.isSafeInteger(r.event_ts)) {
    return `${at}.event_ts: expected an integer (epoch ms), got ${show(r.event_ts)}`;
  }
  if (r.device_id !== undefined && r.device_id !== null && typeof r.device_id !== "string") {
    return `${at}.device_id: expected a string or null, got ${show(r.device_id)}`;
  }
  if (r.rowtime !== undefined && (typeof r.rowtime !== "number" || !Number.isSafeInteger(r.rowtime) || r.rowtime < 0)) {
    return `${at}.rowtime: expected an integer >= 0 (Kafka record timestamp, epoch ms), got ${show(r.rowtime)}`;
  }
  const row = {
    user_id: r.user_id as string,
    video_id: r.video_id as string,
    position_sec: r.position_sec,
    event_ts: r.event_ts,
    device_id: (r.device_id as string | null | undefined) ?? null,
  };
  // Without a Kafka record timestamp the record is taken as produced at event_ts: the future check cannot fire.
  const rej: Rejection | null = rejection(row, typeof r.rowtime === "number" ? r.rowtime : r.event_ts);
  if (rej !== null) return `${at}.${rej.field}: ${reasonText(rej).slice(rej.field.length + 2)}, got ${show(r[rej.field])}`;
  return null;
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
  const heartbeats: ValidHeartbeat[] = [];
  doc.heartbeats.forEach((r: unknown, i: number) => {
    const problem = heartbeatProblem(r, i);
    if (problem !== null) throw new InputError(problem);
    const o = r as Record<string, unknown>;
    heartbeats.push({
      user_id: o.user_id as string,
      video_id: o.video_id as string,
      position_sec: o.position_sec as number,
      event_ts: o.event_ts as number,
      device_id: (o.device_id as string | null | undefined) ?? null,
    });
  });
  return { params, heartbeats, warnings };
}
