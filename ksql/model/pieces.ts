/**
 * Semantics v2 of a watch segment, in three pure steps:
 * - `continuesPair`: the pairwise rule between two consecutive heartbeats of one user and video;
 * - `piecesOfOwnedPoints`: one closed window's points cut into pieces (V000006's REDUCE: copies skipped, only the
 *   points the window owns, Δt on the player's clock, times anchored on ours); `piecesOfWindow` is the same cut on
 *   bare (time, playhead) points, the reference the stitching property is stated with;
 * - `stitch`: pieces of one user and video, in order, joined into segments with the same rule between a piece's
 *   first point and the previous piece's last point (the database view, connectors/schema V004).
 * Stitching the pieces of every window gives exactly what cutting all of a key's points at once would.
 */
import type { WatchSegment } from "../../contract/topics";
import { decodePoint, decodeWindowPoint, POINT_LENGTH, type Point } from "./encoding";

/** The rule's parameters in integer milliseconds (and thousandths for the rate), as the SQL computes. */
export interface PairRule {
  readonly gapMs: number;
  readonly toleranceMs: number;
  readonly maxRatePermille: number;
}

/**
 * `next` continues the playback of `prev` (sorted by event time, then playhead) iff
 * Δt <= gap and −tolerance <= Δplayhead <= maxRate·Δt + tolerance. So 0.5× to maxRate× playback is continuous, a
 * paused player sending heartbeats (Δplayhead 0) continues without adding coverage, and a seek back or forward
 * beyond the tolerance, or a silence longer than the gap, starts a new segment (the skipped range is never covered).
 */
export function continuesPair(prev: Point, next: Point, r: PairRule): boolean {
  const dt = next.ts - prev.ts;
  const dp = next.posMs - prev.posMs;
  return dt <= r.gapMs && dp + r.toleranceMs >= 0 && 1000 * dp <= r.maxRatePermille * dt + 1000 * r.toleranceMs;
}

/** A run of consecutive heartbeats the rule keeps together. Positions in ms. */
export interface Piece {
  readonly first: Point;
  readonly last: Point;
  readonly minPosMs: number;
  readonly maxPosMs: number;
  readonly count: number;
  /** 1, 2, ... within its window (orders pieces that start at the same event time). */
  readonly pieceNo: number;
}

function extend(p: Piece, x: Point): Piece {
  return { ...p, last: x, minPosMs: Math.min(p.minPosMs, x.posMs), maxPosMs: Math.max(p.maxPosMs, x.posMs), count: p.count + 1 };
}

function single(x: Point, pieceNo: number): Piece {
  return { first: x, last: x, minPosMs: x.posMs, maxPosMs: x.posMs, count: 1, pieceNo };
}

/** Pieces of one window from its encoded points (any order, duplicates allowed): ARRAY_SORT then the REDUCE. */
export function piecesOfWindow(encoded: readonly string[], r: PairRule): Piece[] {
  const sorted = [...new Set(encoded)].sort();
  const out: Piece[] = [];
  for (const e of sorted) {
    const x = decodePoint(e);
    const cur = out[out.length - 1];
    if (cur !== undefined && continuesPair(cur.last, x, r)) out[out.length - 1] = extend(cur, x);
    else out.push(single(x, out.length + 1));
  }
  return out;
}

/** A piece while V000006's REDUCE builds it: identity times on the player's clock, plus its last played_at. */
interface OpenPiece {
  readonly firstEventTs: number;
  readonly firstPosMs: number;
  readonly last: Point; // (event_ts, playhead) of its last point
  readonly lastPlayedAt: number;
  readonly minPosMs: number;
  readonly maxPosMs: number;
  readonly count: number;
  readonly pieceNo: number;
}

/**
 * V000006's REDUCE over one final window's points (50-character items, any order, duplicates allowed): ARRAY_SORT,
 * then per point x, with the identity (event_ts, playhead) of the last point seen:
 * - the same identity → a copy of that heartbeat (a later arrival: the sort puts the first arrival first), skipped;
 * - arrived before `ownedFrom` (the window's older half, owned by the previous window) → only its identity counts;
 * - else it continues the last piece iff `continuesPair` holds on (event_ts, playhead) against that piece's last
 *   point — Δt is the player's clock — otherwise it starts a new piece.
 * A piece's times are on our clock, anchored on its last point: end = played_at(last), start = end − (event_ts(last)
 * − event_ts(first)). Pieces are numbered 1, 2, ... within the window.
 */
export function piecesOfOwnedPoints(items: readonly string[], ownedFrom: number, r: PairRule): Piece[] {
  const sorted = [...new Set(items)].sort();
  const open: OpenPiece[] = [];
  let lastId = "";
  for (const e of sorted) {
    const id = e.slice(0, POINT_LENGTH);
    if (id === lastId) continue;
    lastId = id;
    const x = decodeWindowPoint(e);
    if (x.arrival < ownedFrom) continue;
    const at: Point = { ts: x.eventTs, posMs: x.posMs };
    const cur = open[open.length - 1];
    if (cur !== undefined && continuesPair(cur.last, at, r)) {
      open[open.length - 1] = {
        ...cur,
        last: at,
        lastPlayedAt: x.playedAt,
        minPosMs: Math.min(cur.minPosMs, x.posMs),
        maxPosMs: Math.max(cur.maxPosMs, x.posMs),
        count: cur.count + 1,
      };
    } else {
      open.push({ firstEventTs: x.eventTs, firstPosMs: x.posMs, last: at, lastPlayedAt: x.playedAt, minPosMs: x.posMs, maxPosMs: x.posMs, count: 1, pieceNo: open.length + 1 });
    }
  }
  return open.map((p) => ({
    first: { ts: p.lastPlayedAt - (p.last.ts - p.firstEventTs), posMs: p.firstPosMs },
    last: { ts: p.lastPlayedAt, posMs: p.last.posMs },
    minPosMs: p.minPosMs,
    maxPosMs: p.maxPosMs,
    count: p.count,
    pieceNo: p.pieceNo,
  }));
}

/** A stitched segment before it becomes a row: the pieces it spans, merged. */
export interface StitchedSegment {
  readonly first: Point;
  readonly last: Point;
  readonly minPosMs: number;
  readonly maxPosMs: number;
  readonly count: number;
}

/** Joins one key's pieces, ordered by (first event time, piece number), into segments. */
export function stitch(pieces: readonly Piece[], r: PairRule): StitchedSegment[] {
  const out: StitchedSegment[] = [];
  for (const p of pieces) {
    const cur = out[out.length - 1];
    if (cur !== undefined && continuesPair(cur.last, p.first, r)) {
      out[out.length - 1] = {
        first: cur.first,
        last: p.last,
        minPosMs: Math.min(cur.minPosMs, p.minPosMs),
        maxPosMs: Math.max(cur.maxPosMs, p.maxPosMs),
        count: cur.count + p.count,
      };
    } else {
      out.push({ first: p.first, last: p.last, minPosMs: p.minPosMs, maxPosMs: p.maxPosMs, count: p.count });
    }
  }
  return out;
}

/** Orders pieces as the database view does: first event time, then piece number. */
export function comparePieces(a: Piece, b: Piece): number {
  return a.first.ts - b.first.ts || a.pieceNo - b.pieceNo;
}

/** Cuts a whole sorted point sequence at once (the reference the stitching must reproduce). */
export function segmentsOfPoints(encoded: readonly string[], r: PairRule): StitchedSegment[] {
  return stitch(piecesOfWindow(encoded, r), r);
}

/**
 * A segment as the database view (and the CLI) gives it: start/end position = the range the playhead moved through
 * (lowest and highest), watched = that range's length, times of the first and last heartbeat.
 */
export function toWatchSegment(userId: string, videoId: string, s: StitchedSegment): WatchSegment {
  return {
    user_id: userId,
    video_id: videoId,
    start_position_sec: s.minPosMs / 1000,
    end_position_sec: s.maxPosMs / 1000,
    start_ts: s.first.ts,
    end_ts: s.last.ts,
    heartbeat_count: s.count,
    watched_sec: (s.maxPosMs - s.minPosMs) / 1000,
  };
}
