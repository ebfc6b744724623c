/**
 * The stitching rule of connectors/schema V007 as a pure function (contract/stitching.ts), offline: without
 * overlapping pieces it is V004's neighbour rule (the reference model's stitchRows) on every ksql/tests vector and on
 * generated playback; with pieces delivered late (inside or across the span of on-time ones) it neither splits a
 * viewing nor widens its range, and it does not depend on the order the rows are read in. The real-PostgreSQL twin
 * (test/real/stitchOverlap.test.ts) holds the three SQL stitchings to this function.
 */
import { describe, expect, it } from "vitest";
import { stitchPieces } from "../contract/stitching";
import type { WatchPiece } from "../contract/topics";
import { stitchRows } from "../ksql/model/pipeline";
import { loadVectors } from "../ksql/vectors";
import { prng } from "./real/pg/fixtures";
import { latePlayback, onTimePieces, pieceOf } from "./real/pg/latePieces";

const T0 = Date.UTC(2026, 0, 5, 12);
const withoutResume = (rows: ReturnType<typeof stitchPieces>): unknown[] => rows.map(({ last_position_sec: _, ...s }) => s);

/** Whether a piece of some user and video starts before an earlier-starting piece of the same key has ended. */
function overlapping(pieces: readonly WatchPiece[]): boolean {
  const ends = new Map<string, number>();
  for (const p of [...pieces].sort((a, b) => a.start_ts - b.start_ts || a.piece_no - b.piece_no)) {
    const k = `${p.user_id}|${p.video_id}`;
    if (p.start_ts < (ends.get(k) ?? -Infinity)) return true;
    ends.set(k, Math.max(ends.get(k) ?? -Infinity, p.end_ts));
  }
  return false;
}

describe("without overlapping pieces, V007's rule is V004's neighbour rule", () => {
  const vectorPieces = loadVectors().map((v) => ({ name: v.name, pieces: v.outputs.filter((o) => o.topic === "watch_segments").map((o) => o.value as WatchPiece) }));
  for (const v of vectorPieces.filter((x) => !overlapping(x.pieces))) {
    it(`vector ${v.name}`, () => {
      expect(withoutResume(stitchPieces(v.pieces))).toEqual(stitchRows(v.pieces));
    });
  }

  it("the one vector with an overlapping piece (a copy re-sent 90 s later, beyond V000006's horizon) is one viewing under V007", () => {
    expect(vectorPieces.filter((x) => overlapping(x.pieces)).map((x) => x.name)).toEqual(["retry_after_90s_counts_twice"]);
    const pieces = vectorPieces.find((x) => x.name === "retry_after_90s_counts_twice")!.pieces;
    // V004's neighbour rule splits it in three; V007 keeps one segment, the copy counted a second time.
    expect(stitchRows(pieces)).toHaveLength(3);
    expect(withoutResume(stitchPieces(pieces))).toEqual([
      { user_id: "u1", video_id: "v1", start_ts: 1_700_000_014_000, end_ts: 1_700_000_159_000, start_position_sec: 0, end_position_sec: 145, heartbeat_count: 31, watched_sec: 145 },
    ]);
  });

  it.each([1, 2, 3, 4, 5, 6, 7, 8])("generated on-time playback, seed %i", (seed) => {
    const pieces = onTimePieces(latePlayback(seed, T0).onTime);
    expect(withoutResume(stitchPieces(pieces))).toEqual(stitchRows(pieces));
  });
});

describe("late pieces inside or across a viewing's span", () => {
  it.each([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])("seed %i: the same viewings and ranges, every late heartbeat counted once", (seed) => {
    const { onTime, late } = latePlayback(seed, T0);
    expect(late.length).toBeGreaterThan(5);
    const base = stitchPieces(onTimePieces(onTime));
    const merged = stitchPieces([...onTimePieces(onTime), ...late]);
    const ranges = (rows: typeof base): unknown[] =>
      rows.map((s) => [s.user_id, s.video_id, s.start_position_sec, s.end_position_sec, s.watched_sec, s.last_position_sec]);
    expect(ranges(merged)).toEqual(ranges(base));
    const count = (rows: typeof base): number => rows.reduce((n, s) => n + s.heartbeat_count, 0);
    expect(count(merged)).toBe(count(base) + late.reduce((n, p) => n + p.heartbeat_count, 0));
  });

  it("the order rows are read in does not matter", () => {
    const { onTime, late } = latePlayback(11, T0, 3, 2, true);
    const pieces = [...onTimePieces(onTime), ...late];
    const rnd = prng(5);
    const shuffled = pieces.map((p) => ({ p, k: rnd() })).sort((a, b) => a.k - b.k).map((x) => x.p);
    expect(stitchPieces(shuffled)).toEqual(stitchPieces(pieces));
  });

  it("ties on the latest heartbeat go to the piece later in (start_ts, piece_no) order: its playhead is the head and the resume", () => {
    const a = pieceOf("u", "v", [[T0, 100], [T0 + 20_000, 120]]);
    const b = pieceOf("u", "v", [[T0 + 10_000, 110], [T0 + 20_000, 118]]);
    expect(stitchPieces([b, a])).toEqual([
      { user_id: "u", video_id: "v", start_ts: T0, end_ts: T0 + 20_000, start_position_sec: 100, end_position_sec: 120, heartbeat_count: 4, watched_sec: 20, last_position_sec: 118 },
    ]);
    // The next piece is judged against 118 s at T0 + 20 s: 20 s later at 138 s is within the rule, at 169 s it is not
    // (169 - 118 = 51 > 2 x 20 + 10); against 120 s it would be 49 and continue.
    expect(stitchPieces([a, b, pieceOf("u", "v", [[T0 + 40_000, 138]])])).toHaveLength(1);
    expect(stitchPieces([a, b, pieceOf("u", "v", [[T0 + 40_000, 169]])])).toHaveLength(2);
  });

  it("a contained one-point piece joins; a piece one gap after the head continues, one millisecond more does not", () => {
    const base = onTimePieces(Array.from({ length: 24 }, (_, k) => ({ user_id: "u", video_id: "v", position_sec: 100 + k * 5, event_ts: T0 + k * 5000, device_id: null })));
    const point = pieceOf("u", "v", [[T0 + 95_000, 195]]);
    expect(stitchPieces([...base, point])).toEqual([
      { user_id: "u", video_id: "v", start_ts: T0, end_ts: T0 + 115_000, start_position_sec: 100, end_position_sec: 215, heartbeat_count: 25, watched_sec: 115, last_position_sec: 215 },
    ]);
    // The neighbour rule compares the next piece with the late point (50 s before it) and splits.
    const next = (dt: number): WatchPiece => pieceOf("u", "v", [[T0 + 115_000 + dt, 245], [T0 + 150_000, 250]]);
    expect(stitchPieces([...base, point, next(30_000)])).toHaveLength(1);
    expect(stitchRows([...base, point, next(30_000)])).toHaveLength(3);
    expect(stitchPieces([...base, point, next(30_001)])).toHaveLength(2);
  });
});
