/**
 * Splitting one closed session into watch segments: what the SQL's REDUCE lambda computes from the session's
 * sorted, de-duplicated points.
 */
import type { WatchSegment } from "../../contract/topics";
import { decodePoint, type Point } from "./encoding";

export interface SegmentPoints {
  readonly first: Point;
  readonly last: Point;
  readonly count: number;
}

/**
 * A heartbeat continues the current segment iff its drift against the previous heartbeat AND its drift against the
 * segment's first heartbeat are both within tolerance (drift = Δplayhead − Δevent time, ms). The first catches a
 * seek or a silent pause between two heartbeats; the second catches drift that builds up in small steps, such as a
 * paused player that keeps sending heartbeats at the same playhead. Otherwise the heartbeat starts a new segment:
 * the range between the two is never covered.
 */
export function continues(seg: SegmentPoints, p: Point, toleranceMs: number): boolean {
  const stepDrift = p.posMs - seg.last.posMs - (p.ts - seg.last.ts);
  const totalDrift = p.posMs - seg.first.posMs - (p.ts - seg.first.ts);
  return Math.abs(stepDrift) <= toleranceMs && Math.abs(totalDrift) <= toleranceMs;
}

/**
 * Segments of a session from its collected encoded points (any order, duplicates allowed), mirroring
 * ARRAY_SORT(ARRAY_DISTINCT(COLLECT_LIST(point))) followed by the REDUCE.
 */
export function segmentsOfPoints(encoded: readonly string[], toleranceMs: number): SegmentPoints[] {
  const sorted = [...new Set(encoded)].sort();
  const out: SegmentPoints[] = [];
  let cur: SegmentPoints | undefined;
  for (const e of sorted) {
    const p = decodePoint(e);
    if (cur !== undefined && continues(cur, p, toleranceMs)) {
      cur = { first: cur.first, last: p, count: cur.count + 1 };
    } else {
      if (cur !== undefined) out.push(cur);
      cur = { first: p, last: p, count: 1 };
    }
  }
  if (cur !== undefined) out.push(cur);
  return out;
}

/** The row the SQL writes: positions back to seconds as DOUBLE (ms / 1000.0), watched = end − start. */
export function toWatchSegment(userId: string, videoId: string, s: SegmentPoints): WatchSegment {
  return {
    user_id: userId,
    video_id: videoId,
    start_position_sec: s.first.posMs / 1000,
    end_position_sec: s.last.posMs / 1000,
    start_ts: s.first.ts,
    end_ts: s.last.ts,
    heartbeat_count: s.count,
    watched_sec: (s.last.posMs - s.first.posMs) / 1000,
  };
}
