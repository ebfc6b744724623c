/**
 * The compact, sortable point encoding the SQL collects per session: event_ts as 13 zero-padded digits followed by
 * the playhead in whole milliseconds as 11 zero-padded digits. Fixed width makes string order equal numeric
 * (event_ts, position) order, so the SQL can sort and deduplicate with ARRAY_SORT / ARRAY_DISTINCT on strings.
 */
import { MAX_EVENT_TS_MS, MAX_POSITION_SEC } from "../../contract/sessionization";

/** Digits of event_ts (epoch ms) in a point: MAX_EVENT_TS_MS has 13. */
export const TS_DIGITS = 13;
/** Digits of the playhead (ms) in a point: MAX_POSITION_SEC * 1000 fits in 11. */
export const POS_DIGITS = 11;
/** Length of one encoded point. */
export const POINT_LENGTH = TS_DIGITS + POS_DIGITS;

if (String(MAX_EVENT_TS_MS).length > TS_DIGITS || String(MAX_POSITION_SEC * 1000).length > POS_DIGITS) {
  throw new Error("ksql/model/encoding: MAX_EVENT_TS_MS or MAX_POSITION_SEC no longer fit the fixed-width encoding");
}

/** One heartbeat reduced to what segmentation needs: event time and playhead, both in ms. */
export interface Point {
  readonly ts: number;
  readonly posMs: number;
}

/** The SQL's CAST(ROUND(position_sec * 1000) AS BIGINT): Java Math.round and JS Math.round agree for x >= 0. */
export function positionToMs(positionSec: number): number {
  return Math.round(positionSec * 1000);
}

/** LPAD(CAST(event_ts AS STRING), 13, '0') || LPAD(CAST(position_ms AS STRING), 11, '0'). */
export function encodePoint(p: Point): string {
  return String(p.ts).padStart(TS_DIGITS, "0") + String(p.posMs).padStart(POS_DIGITS, "0");
}

export function decodePoint(s: string): Point {
  if (s.length !== POINT_LENGTH) {
    throw new Error(`decodePoint: expected ${POINT_LENGTH} characters, got ${s.length} (${JSON.stringify(s)})`);
  }
  return { ts: Number(s.slice(0, TS_DIGITS)), posMs: Number(s.slice(TS_DIGITS)) };
}

/**
 * One heartbeat as V000006 collects it per window: its identity (event_ts, playhead ms), its arrival (ROWTIME) and
 * its played_at (our clock), all in ms.
 */
export interface WindowPoint {
  readonly eventTs: number;
  readonly posMs: number;
  readonly arrival: number;
  readonly playedAt: number;
}

/** Length of a V000006 window point: event_ts(13) + playhead(11) + arrival(13) + played_at(13). */
export const WINDOW_POINT_LENGTH = POINT_LENGTH + 2 * TS_DIGITS;

/**
 * V000006's point: CONCAT of LPAD(event_ts, 13), LPAD(playhead ms, 11), LPAD(ROWTIME, 13), LPAD(played_at, 13).
 * Fixed width, so string order is (event_ts, playhead, arrival) order: copies of one heartbeat are adjacent and the
 * first arrival comes first.
 */
export function encodeWindowPoint(p: WindowPoint): string {
  return encodePoint({ ts: p.eventTs, posMs: p.posMs }) + String(p.arrival).padStart(TS_DIGITS, "0") + String(p.playedAt).padStart(TS_DIGITS, "0");
}

export function decodeWindowPoint(s: string): WindowPoint {
  if (s.length !== WINDOW_POINT_LENGTH) {
    throw new Error(`decodeWindowPoint: expected ${WINDOW_POINT_LENGTH} characters, got ${s.length} (${JSON.stringify(s)})`);
  }
  const id = decodePoint(s.slice(0, POINT_LENGTH));
  return {
    eventTs: id.ts,
    posMs: id.posMs,
    arrival: Number(s.slice(POINT_LENGTH, POINT_LENGTH + TS_DIGITS)),
    playedAt: Number(s.slice(POINT_LENGTH + TS_DIGITS)),
  };
}
