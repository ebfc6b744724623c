/**
 * How the database stitches pieces into watch segments (connectors/schema V007, issue 21), as a pure function: the
 * reference the real-PostgreSQL tests hold the three SQL stitchings to, and the rule the sessionization model shares.
 *
 * Per (user_id, video_id), pieces in (start_ts, piece_no) order. The head before a piece is the latest heartbeat of
 * all earlier pieces of the key (greatest end_ts; ties to the piece later in the order) with its playhead. A piece
 * starting strictly before the head's time lies inside the segment's span and continues it; any other piece
 * continues it iff the pairwise rule holds between the head and the piece's first heartbeat, with the piece's own
 * parameters: Δt <= gap and -tolerance <= Δplayhead <= maxRate·Δt + tolerance (integer ms, as the SQL computes).
 * Without overlapping pieces the head is the previous piece's last heartbeat: V004's neighbour rule.
 */
import type { WatchPiece, WatchSegment } from "./topics";

/** A watch_segments_v2 row: the segment plus where the playhead was at its latest heartbeat (resume). */
export interface StitchedSegment extends WatchSegment {
  readonly last_position_sec: number;
}

/** A piece's latest heartbeat, ordered as the head is chosen: end, then start, then piece number. */
export interface Head {
  readonly endMs: number;
  readonly startMs: number;
  readonly pieceNo: number;
  readonly lastPosMs: number;
}

const toMs = (sec: number): number => Math.round(sec * 1000);

function later(a: Head, b: Head): boolean {
  return a.endMs !== b.endMs ? a.endMs > b.endMs : a.startMs !== b.startMs ? a.startMs > b.startMs : a.pieceNo > b.pieceNo;
}

function headOf(p: WatchPiece): Head {
  return { endMs: p.end_ts, startMs: p.start_ts, pieceNo: p.piece_no, lastPosMs: toMs(p.last_position_sec) };
}

/** V007's watch_piece_continues: does `p` continue the segment whose latest heartbeat is `head`? */
export function pieceContinues(head: Head | undefined, p: WatchPiece): boolean {
  if (head === undefined) return false;
  if (p.start_ts < head.endMs) return true;
  const dt = p.start_ts - head.endMs;
  const dp = toMs(p.first_position_sec) - head.lastPosMs;
  return dt <= p.session_gap_ms && dp + p.seek_tolerance_ms >= 0 && 1000 * dp <= p.max_rate_permille * dt + 1000 * p.seek_tolerance_ms;
}

interface Open {
  startMs: number;
  endMs: number;
  minPosMs: number;
  maxPosMs: number;
  count: number;
  last: Head;
}

function row(userId: string, videoId: string, s: Open): StitchedSegment {
  return {
    user_id: userId,
    video_id: videoId,
    start_ts: s.startMs,
    end_ts: s.endMs,
    start_position_sec: s.minPosMs / 1000,
    end_position_sec: s.maxPosMs / 1000,
    heartbeat_count: s.count,
    watched_sec: (s.maxPosMs - s.minPosMs) / 1000,
    last_position_sec: s.last.lastPosMs / 1000,
  };
}

/** Piece rows grouped by their key (user_id, video_id), each group in input order: what both stitchings start from. */
export function piecesByKey<P extends Pick<WatchPiece, "user_id" | "video_id">>(pieces: readonly P[]): Map<string, P[]> {
  const byKey = new Map<string, P[]>();
  for (const p of pieces) {
    const k = JSON.stringify([p.user_id, p.video_id]);
    const list = byKey.get(k);
    if (list === undefined) byKey.set(k, [p]);
    else list.push(p);
  }
  return byKey;
}

/** The segments watch_segments_v2 (V007) gives for these piece rows, ordered by user_id, video_id, start_ts. */
export function stitchPieces(pieces: readonly WatchPiece[]): StitchedSegment[] {
  const out: StitchedSegment[] = [];
  for (const list of piecesByKey(pieces).values()) {
    const ordered = [...list].sort((a, b) => a.start_ts - b.start_ts || a.piece_no - b.piece_no);
    let cur: Open | undefined;
    let head: Head | undefined;
    for (const p of ordered) {
      const h = headOf(p);
      if (cur !== undefined && pieceContinues(head, p)) {
        cur.endMs = Math.max(cur.endMs, p.end_ts);
        cur.minPosMs = Math.min(cur.minPosMs, toMs(p.min_position_sec));
        cur.maxPosMs = Math.max(cur.maxPosMs, toMs(p.max_position_sec));
        cur.count += p.heartbeat_count;
        if (later(h, cur.last)) cur.last = h;
      } else {
        if (cur !== undefined) out.push(row(p.user_id, p.video_id, cur));
        cur = { startMs: p.start_ts, endMs: p.end_ts, minPosMs: toMs(p.min_position_sec), maxPosMs: toMs(p.max_position_sec), count: p.heartbeat_count, last: h };
      }
      if (head === undefined || later(h, head)) head = h;
    }
    if (cur !== undefined) out.push(row(list[0].user_id, list[0].video_id, cur));
  }
  return out.sort((a, b) =>
    a.user_id !== b.user_id ? (a.user_id < b.user_id ? -1 : 1) : a.video_id !== b.video_id ? (a.video_id < b.video_id ? -1 : 1) : a.start_ts - b.start_ts);
}
