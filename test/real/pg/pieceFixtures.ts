/**
 * Realistic watch pieces for the sink tests: seeded viewing (rates 0.5x-2x, a seek, a pause) run through the
 * reference model (ksql/model), so the rows are exactly what ksqlDB writes to the watch_segments topic.
 */
import type { WatchPiece } from "../../../contract/topics";
import { DEFAULT_SESSIONIZATION_PARAMS } from "../../../contract/sessionization";
import { type PieceRecord, SegmentModel, sinkPieces } from "../../../ksql/model/pipeline";
import { prng } from "./fixtures";

const DAY0_MS = Date.UTC(2026, 10, 20, 8);

/** Pieces of `users` x `videos` viewings of 1-4 minutes each; distinct (user, video, start_ts, piece_no). */
export function fixturePieces(seed = 42, users = 4, videos = 3): WatchPiece[] {
  const rnd = prng(seed);
  const m = new SegmentModel(DEFAULT_SESSIONIZATION_PARAMS);
  const recs: PieceRecord[] = [];
  const hbs = [];
  for (let u = 0; u < users; u++) {
    for (let v = 0; v < videos; v++) {
      let t = DAY0_MS + Math.floor(rnd() * 3_600_000);
      let pos = Math.floor(rnd() * 600) * 1000;
      const rate = [500, 1000, 1500, 2000][Math.floor(rnd() * 4)];
      const n = 12 + Math.floor(rnd() * 36);
      for (let k = 0; k < n; k++) {
        hbs.push({ user_id: `seed${seed}-u${u}`, video_id: `v${v}`, position_sec: pos / 1000, event_ts: t, device_id: null });
        t += 5000;
        pos = k === 7 ? pos + 120_000 : k > 9 && k < 12 ? pos : pos + (5000 * rate) / 1000;
      }
    }
  }
  hbs.sort((a, b) => a.event_ts - b.event_ts);
  for (const h of hbs) recs.push(...m.push(h));
  recs.push(...m.closeAll());
  return sinkPieces(recs);
}

export const pieceKey = (p: Pick<WatchPiece, "user_id" | "video_id" | "start_ts" | "piece_no">): string =>
  JSON.stringify([p.user_id, p.video_id, p.start_ts, p.piece_no]);
