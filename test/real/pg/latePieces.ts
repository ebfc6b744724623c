/**
 * On-time playback plus pieces delivered late, as the arrival-time windows (ksql V000004) make them: a late
 * heartbeat lands in a later window than its neighbours and becomes a piece of its own (or, for a queued run of
 * heartbeats, one piece of several) with its true played_at, inside or across the span of the on-time pieces.
 * Used by the offline stitching properties and by the real-PostgreSQL stitching tests (issue 21, V007).
 */
import { DEFAULT_SESSIONIZATION_PARAMS, maxRatePermille, secToMs } from "../../../contract/sessionization";
import type { WatchPiece } from "../../../contract/topics";
import { type PieceRecord, SegmentModel, sinkPieces } from "../../../ksql/model/pipeline";
import type { ValidHeartbeat } from "../../../ksql/model/validate";
import { prng } from "./fixtures";

const P = DEFAULT_SESSIONIZATION_PARAMS;

/** The pieces ksqlDB writes for heartbeats that all arrive on time (windows on their own time). */
export function onTimePieces(hbs: readonly ValidHeartbeat[]): WatchPiece[] {
  const m = new SegmentModel(P);
  const recs: PieceRecord[] = [];
  for (const h of [...hbs].sort((a, b) => a.event_ts - b.event_ts)) recs.push(...m.push(h));
  recs.push(...m.closeAll());
  return sinkPieces(recs);
}

/** One piece from played points [ts, playhead sec] in played order, with the default rule. */
export function pieceOf(user: string, video: string, points: ReadonlyArray<readonly [number, number]>, pieceNo = 1): WatchPiece {
  const pos = points.map(([, p]) => p);
  return {
    user_id: user, video_id: video, start_ts: points[0][0], end_ts: points[points.length - 1][0], piece_no: pieceNo,
    first_position_sec: pos[0], last_position_sec: pos[pos.length - 1],
    min_position_sec: Math.min(...pos), max_position_sec: Math.max(...pos), heartbeat_count: points.length,
    session_gap_ms: secToMs(P.sessionGapSec), seek_tolerance_ms: secToMs(P.seekToleranceSec), max_rate_permille: maxRatePermille(P),
  };
}

export interface LatePlayback {
  /** Every heartbeat that arrived on time. */
  readonly onTime: readonly ValidHeartbeat[];
  /** The late pieces, each a run of heartbeats that were also played (copies of on-time points or re-sent ones). */
  readonly late: readonly WatchPiece[];
}

/**
 * Viewings of `users` x `videos` from t0 (1x playback, a heartbeat every 5 s, some pauses longer than the gap), and
 * late copies of some of their heartbeats: single retried heartbeats and queued runs of 2-6, delivered in a later
 * window. `wild` adds late pieces whose playhead does not fit (a second device), to test the merge rule itself.
 * Late pieces never share (start_ts, piece_no) with another piece (they would overwrite it in watch_pieces).
 */
export function latePlayback(seed: number, t0: number, users = 4, videos = 3, wild = false): LatePlayback {
  const rnd = prng(seed);
  const onTime: ValidHeartbeat[] = [];
  const late: WatchPiece[] = [];
  for (let u = 0; u < users; u++) {
    for (let v = 0; v < videos; v++) {
      const user = `late${seed}-u${u}`;
      const video = `v${v}`;
      let t = t0 + Math.floor(rnd() * 300_000);
      let pos = Math.floor(rnd() * 600) * 1000;
      const played: Array<[number, number]> = [];
      const beats = 20 + Math.floor(rnd() * 60);
      for (let k = 0; k < beats; k++) {
        played.push([t, pos / 1000]);
        onTime.push({ user_id: user, video_id: video, position_sec: pos / 1000, event_ts: t, device_id: null });
        if (rnd() < 0.05) t += 40_000 + Math.floor(rnd() * 60_000); // a pause longer than the gap
        t += 5000;
        pos += 5000;
      }
      const starts = new Set<number>();
      const lateCount = Math.floor(rnd() * 5);
      for (let j = 0; j < lateCount; j++) {
        const i = Math.floor(rnd() * played.length);
        const want = rnd() < 0.6 ? 1 : 2 + Math.floor(rnd() * 5);
        // A queued run is consecutive heartbeats of one stretch of playback (never across a pause).
        let n = 1;
        while (n < want && i + n < played.length && played[i + n][0] - played[i + n - 1][0] === 5000) n++;
        const run = played.slice(i, i + n);
        // A re-sent copy is placed by its own transit time: played_at up to 3 s off, the same playhead.
        const shift = rnd() < 0.5 ? 0 : Math.floor((rnd() - 0.5) * 6000);
        let pts = run.map(([ts, p]) => [ts + shift, p] as const);
        if (wild && rnd() < 0.3) pts = pts.map(([ts, p]) => [ts, p + 900] as const);
        if (starts.has(pts[0][0])) continue;
        starts.add(pts[0][0]);
        late.push(pieceOf(user, video, pts, 2));
      }
    }
  }
  return { onTime, late };
}
