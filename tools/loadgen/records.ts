/**
 * Pure mapping from simulated heartbeats to the records the load generator writes: JSON values exactly as the
 * Strimzi HTTP bridge writes a JSON POST (key = user_id, value = the Heartbeat object), plus deliberately
 * malformed records so the validation path (heartbeats_rejected) gets traffic too.
 */
import type { Heartbeat } from "../../components/topics";

/** One record to send. `seq` is unique within a run and travels in a header, never in the JSON value. */
export interface LoadRecord {
  readonly key: string;
  readonly value: string;
  readonly seq: number;
  /** True when the value was deliberately malformed. */
  readonly malformed: boolean;
}

/** Header carrying `<runId>:<seq>` so tests can count every record exactly, without changing the JSON shape. */
export const SEQ_HEADER = "loadgen-seq";

/** The ways a player (or a broken client) gets a heartbeat wrong, as the validation SQL must see them. */
export const MALFORMED_KINDS = [
  "not_json",
  "missing_user_id",
  "negative_position",
  "position_not_number",
  "missing_event_ts",
  "empty_object",
] as const;
export type MalformedKind = (typeof MALFORMED_KINDS)[number];

export function malformedValue(hb: Heartbeat, kind: MalformedKind): string {
  switch (kind) {
    case "not_json":
      return `{"user_id":"${hb.user_id}","video_id":`; // truncated body
    case "missing_user_id": {
      const { user_id: _omit, ...rest } = hb;
      return JSON.stringify(rest);
    }
    case "negative_position":
      return JSON.stringify({ ...hb, position_sec: -Math.max(1, hb.position_sec) });
    case "position_not_number":
      return JSON.stringify({ ...hb, position_sec: `${hb.position_sec}s` });
    case "missing_event_ts": {
      const { event_ts: _omit, ...rest } = hb;
      return JSON.stringify(rest);
    }
    case "empty_object":
      return "{}";
  }
}

/**
 * Turns heartbeats into records. `random` decides which ones are malformed (share in [0, 1]) and how;
 * sequence numbers continue from `firstSeq`.
 */
export function toRecords(
  heartbeats: readonly Heartbeat[],
  firstSeq: number,
  malformedShare: number,
  random: () => number,
): LoadRecord[] {
  return heartbeats.map((hb, i) => {
    if (malformedShare > 0 && random() < malformedShare) {
      const kind = MALFORMED_KINDS[Math.floor(random() * MALFORMED_KINDS.length)]!;
      return { key: hb.user_id, value: malformedValue(hb, kind), seq: firstSeq + i, malformed: true };
    }
    return { key: hb.user_id, value: JSON.stringify(hb), seq: firstSeq + i, malformed: false };
  });
}
