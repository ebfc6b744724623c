/**
 * Stitching pieces that overlap in time (connectors/schema V007, issue 21's known limit) on a real PostgreSQL 15 with
 * the schema Job's own script: a piece lying inside the span of earlier pieces of its key (a heartbeat delivered
 * late among on-time ones) continues the segment instead of splitting it, in all three places that stitch — the
 * all-history view watch_segments_v2, the open tail (watch_segments_current before any run) and watchpipe_maintain's
 * closed table — and a late piece inside an already closed segment amends that segment in place.
 *
 * The on-time pieces come from the reference model (exactly what ksqlDB writes for 1x playback, 30 s windows); the
 * late pieces are written by hand, as the arrival-time windows make them (their own window, their true played_at).
 */
import { Client } from "pg";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { closeDelayMs, maintenanceSql, type MaintenanceParams } from "../../connectors/maintenance";
import { DEFAULT_SESSIONIZATION_PARAMS, maxRatePermille, secToMs } from "../../contract/sessionization";
import { type StitchedSegment, stitchPieces } from "../../contract/stitching";
import type { WatchPiece } from "../../contract/topics";
import { type PieceRecord, SegmentModel, sinkPieces } from "../../ksql/model/pipeline";
import { latePlayback, onTimePieces } from "./pg/latePieces";
import { upsertPieces } from "./pg/pieceUpsert";
import { type SchemaDatabase, startSchemaDatabase } from "./pg/schemaJob";

const P = DEFAULT_SESSIONIZATION_PARAMS;
const GAP_MS = secToMs(P.sessionGapSec);
const KEEP: MaintenanceParams = { closeDelayMs: closeDelayMs(P), pieceRetentionDays: 1000, segmentRetentionDays: 1000, partitionsAheadDays: 2 };
const VIDEO = "ov-v";

let db: Client;
let sink: Client;
let env: SchemaDatabase | undefined;
/** Three hours ago on a 30 s boundary: old enough for a maintenance run to close it, within every retention. */
let T0: number;

beforeAll(async () => {
  T0 = Math.floor((Date.now() - 3 * 3_600_000) / 30_000) * 30_000;
  env = await startSchemaDatabase();
  ({ db, sink } = env);
});

afterAll(async () => {
  await env?.stop();
});

beforeEach(async () => {
  await db.query(`TRUNCATE watch_pieces, watch_segments, watch_segments_closed, watch_viewers_daily, watch_viewers_hourly,
                  watch_rollup_daily, watch_rollup_hourly, watch_maintenance_state, watch_open_keys`);
});

interface Seg {
  start_s: number; end_s: number; start_position_sec: number; end_position_sec: number; heartbeat_count: number;
  watched_sec: number; last_position_sec: number;
}

/** Segments of one user from a view or table, times in seconds after T0. */
async function segs(from: string, user: string): Promise<Seg[]> {
  const r = await db.query(
    `SELECT (extract(epoch FROM start_ts) * 1000 - $2::bigint) / 1000.0 AS start_s, (extract(epoch FROM end_ts) * 1000 - $2::bigint) / 1000.0 AS end_s,
            start_position_sec, end_position_sec, heartbeat_count, watched_sec, last_position_sec
       FROM ${from} WHERE user_id = $1 ORDER BY start_ts`, [user, T0]);
  return r.rows.map((x: Record<string, unknown>) => ({ ...x, start_s: Number(x.start_s), end_s: Number(x.end_s) }) as Seg);
}

/** On-time 1x playback: a heartbeat every 5 s for `beats` beats from T0 + fromSec, playhead `pos0` + elapsed. */
function onTime(user: string, beats: number, pos0 = 100, fromSec = 0): WatchPiece[] {
  const m = new SegmentModel(P);
  const recs: PieceRecord[] = [];
  for (let k = 0; k < beats; k++) {
    recs.push(...m.push({ user_id: user, video_id: VIDEO, position_sec: pos0 + k * 5, event_ts: T0 + fromSec * 1000 + k * 5000, device_id: null }));
  }
  recs.push(...m.closeAll());
  return sinkPieces(recs);
}

/** A late piece as its own arrival window makes it: heartbeats (seconds after T0, playhead) in played_at order. */
function late(user: string, points: ReadonlyArray<readonly [number, number]>): WatchPiece {
  const ts = points.map(([s]) => T0 + Math.round(s * 1000));
  const pos = points.map(([, p]) => p);
  return {
    user_id: user, video_id: VIDEO, start_ts: ts[0], end_ts: ts[ts.length - 1], piece_no: 1,
    first_position_sec: pos[0], last_position_sec: pos[pos.length - 1],
    min_position_sec: Math.min(...pos), max_position_sec: Math.max(...pos), heartbeat_count: points.length,
    session_gap_ms: GAP_MS, seek_tolerance_ms: secToMs(P.seekToleranceSec), max_rate_permille: maxRatePermille(P),
  };
}

async function maintain(): Promise<Record<string, number>> {
  const row = (await db.query(maintenanceSql(KEEP))).rows[0] as Record<string, unknown>;
  return Object.fromEntries(["segments_closed", "segments_amended", "late_pieces"].map((k) => [k, Number(row[k])]));
}

/**
 * The three stitchings agree on `user` and give `expected`: the all-history view and the open tail before any
 * maintenance run, then the closed table (and the current view, closed + open) after one, with rollups matching.
 */
async function expectEverywhere(user: string, expected: Seg[]): Promise<void> {
  expect(await segs("watch_segments_v2", user)).toEqual(expected);
  expect(await segs("watch_segments_open", user)).toEqual(expected);
  await maintain();
  expect(await segs("watch_segments_closed", user)).toEqual(expected);
  expect(await segs("watch_segments_open", user)).toEqual([]);
  expect(await segs("watch_segments_current", user)).toEqual(expected);
  // Summed over days: a case run just before 00:00 UTC may put its two segments on two days.
  const rollup = await db.query(
    "SELECT sum(watched_ms)::bigint::text AS w, sum(segments)::int AS s FROM watch_rollup_daily WHERE video_id = $1", [VIDEO]);
  const watchedMs = expected.reduce((n, s) => n + Math.round(s.watched_sec * 1000), 0);
  expect(rollup.rows).toEqual([{ w: String(watchedMs), s: expected.length }]);
}

/** 2 minutes of on-time playback (24 heartbeats, playhead 100 s -> 215 s, T0 .. T0 + 115 s) as one segment. */
const BASE: Seg = { start_s: 0, end_s: 115, start_position_sec: 100, end_position_sec: 215, heartbeat_count: 24, watched_sec: 115, last_position_sec: 215 };

describe("a piece inside another piece's span does not split the segment", () => {
  it("the on-time pieces alone are one segment (the baseline every case below adds a late piece to)", async () => {
    const pieces = onTime("base-u", 24);
    expect(pieces.length).toBeGreaterThanOrEqual(4); // one per 30 s window
    await upsertPieces(sink, pieces);
    await expectEverywhere("base-u", [BASE]);
  });

  it("a contained one-point piece (one heartbeat delivered late) joins it: one more heartbeat, the same range", async () => {
    // Played at T0 + 10 s (playhead 110), arrived in a later window: it sorts between the first on-time piece
    // (0..25 s) and the second (30..55 s). Compared with its neighbours (V006) it started a second segment that the
    // rest of the playback then continued: two segments overlapping in 10..25 s, that range counted twice.
    await upsertPieces(sink, [...onTime("one-u", 24), late("one-u", [[10, 110]])]);
    await expectEverywhere("one-u", [{ ...BASE, heartbeat_count: 25 }]);
  });

  it("a contained multi-point piece joins it; resume stays at the latest heartbeat, not at the late piece", async () => {
    await upsertPieces(sink, [...onTime("multi-u", 24), late("multi-u", [[40, 140], [45, 145], [50, 150]])]);
    await expectEverywhere("multi-u", [{ ...BASE, heartbeat_count: 27 }]);
  });

  it("a late piece that sorts last (inside the last on-time piece) does not pull resume back", async () => {
    await upsertPieces(sink, [...onTime("last-u", 24), late("last-u", [[100, 200]])]);
    await expectEverywhere("last-u", [{ ...BASE, heartbeat_count: 25 }]);
  });

  it("a piece overlapping the end of the span continues it and extends it", async () => {
    await upsertPieces(sink, [...onTime("part-u", 24), late("part-u", [[95, 195], [125, 225], [140, 240]])]);
    await expectEverywhere("part-u", [{ ...BASE, end_s: 140, end_position_sec: 240, heartbeat_count: 27, watched_sec: 140, last_position_sec: 240 }]);
  });

  it("a contained piece continues whatever its playhead: its playhead range merges into the segment's", async () => {
    await upsertPieces(sink, [...onTime("far-u", 24), late("far-u", [[20, 400]])]);
    await expectEverywhere("far-u", [{ ...BASE, end_position_sec: 400, heartbeat_count: 25, watched_sec: 300 }]);
  });
});

describe("after the span: the pairwise rule against the latest heartbeat of all earlier pieces", () => {
  it("a piece starting exactly one gap after the span's end continues it, even with a late piece sorted in between", async () => {
    // The late point at 95 s sorts after the last on-time piece (90..115 s), right before the next piece, which
    // starts at 115 s + gap. Compared with the late point (V006) that is 50 s: the next piece was a new segment.
    const next = late("gap-u", [[115 + GAP_MS / 1000, 245], [150, 250]]);
    await upsertPieces(sink, [...onTime("gap-u", 24), late("gap-u", [[95, 195]]), next]);
    await expectEverywhere("gap-u", [{ ...BASE, end_s: 150, end_position_sec: 250, heartbeat_count: 27, watched_sec: 150, last_position_sec: 250 }]);
  });

  it("one millisecond more than the gap starts a new segment, after the first (no overlap)", async () => {
    const next = late("gap1-u", [[115 + GAP_MS / 1000 + 0.001, 245], [150, 250]]);
    await upsertPieces(sink, [...onTime("gap1-u", 24), late("gap1-u", [[95, 195]]), next]);
    await expectEverywhere("gap1-u", [
      { ...BASE, heartbeat_count: 25 },
      { start_s: 145.001, end_s: 150, start_position_sec: 245, end_position_sec: 250, heartbeat_count: 2, watched_sec: 5, last_position_sec: 250 },
    ]);
  });

  it("a piece starting at the very millisecond of the span's end is judged by the rule (Δt = 0), not merged", async () => {
    await upsertPieces(sink, [...onTime("tie-u", 24), late("tie-u", [[115, 215], [120, 220]])]);
    await expectEverywhere("tie-u", [{ ...BASE, end_s: 120, end_position_sec: 220, heartbeat_count: 26, watched_sec: 120, last_position_sec: 220 }]);
    await db.query("TRUNCATE watch_pieces, watch_segments_closed, watch_viewers_daily, watch_viewers_hourly, watch_rollup_daily, watch_rollup_hourly, watch_maintenance_state, watch_open_keys");
    // A seek of 100 s at that same instant: a new segment that touches the first at 115 s and does not overlap it.
    await upsertPieces(sink, [...onTime("tie-u", 24), late("tie-u", [[115, 315], [120, 320]])]);
    await expectEverywhere("tie-u", [
      BASE,
      { start_s: 115, end_s: 120, start_position_sec: 315, end_position_sec: 320, heartbeat_count: 2, watched_sec: 5, last_position_sec: 320 },
    ]);
  });

  it("ties on the latest heartbeat go to the piece later in (start_ts, piece_no) order (its playhead is the head)", async () => {
    const a = late("tie2-u", [[0, 100], [20, 120]]);
    const b = late("tie2-u", [[10, 110], [20, 118]]);
    await upsertPieces(sink, [a, b, late("tie2-u", [[40, 169]])]);
    await expectEverywhere("tie2-u", [
      { start_s: 0, end_s: 20, start_position_sec: 100, end_position_sec: 120, heartbeat_count: 4, watched_sec: 20, last_position_sec: 118 },
      // 169 - 118 = 51 s in 20 s breaks the rule (max 2 x 20 + 10); from 120 s it would be 49 and continue.
      { start_s: 40, end_s: 40, start_position_sec: 169, end_position_sec: 169, heartbeat_count: 1, watched_sec: 0, last_position_sec: 169 },
    ]);
  });

  it("two viewings after a pause longer than the gap stay two segments, each keeping its own late heartbeat", async () => {
    await upsertPieces(sink, [
      ...onTime("two-u", 24), late("two-u", [[10, 110]]),
      ...onTime("two-u", 12, 500, 300), late("two-u", [[320, 520]]),
    ]);
    await expectEverywhere("two-u", [
      { ...BASE, heartbeat_count: 25 },
      { start_s: 300, end_s: 355, start_position_sec: 500, end_position_sec: 555, heartbeat_count: 13, watched_sec: 55, last_position_sec: 555 },
    ]);
  });
});

describe("watchpipe_maintain: a late piece inside a closed segment amends it in place", () => {
  it("one closed row before and after, the same start_ts, one more heartbeat; rollups exact; a rerun changes nothing", async () => {
    await upsertPieces(sink, onTime("amend-u", 24));
    expect(await maintain()).toMatchObject({ segments_closed: 1, segments_amended: 0 });
    expect(await segs("watch_segments_closed", "amend-u")).toEqual([BASE]);

    await upsertPieces(sink, [late("amend-u", [[10, 110]])]);
    // Before the next run the closed row stands and the open tail shows nothing of it (V006: late pieces appear
    // once amended), so nothing is counted twice in between.
    expect(await segs("watch_segments_current", "amend-u")).toEqual([BASE]);
    expect(await maintain()).toEqual({ segments_closed: 1, segments_amended: 1, late_pieces: 1 });
    expect(await segs("watch_segments_closed", "amend-u")).toEqual([{ ...BASE, heartbeat_count: 25 }]);
    expect(await segs("watch_segments_v2", "amend-u")).toEqual([{ ...BASE, heartbeat_count: 25 }]);
    const rollup = await db.query("SELECT watched_ms::int AS w, viewers::int AS v, segments::int AS s FROM watch_rollup_daily WHERE video_id = $1", [VIDEO]);
    expect(rollup.rows).toEqual([{ w: 115_000, v: 1, s: 1 }]);
    const viewers = await db.query("SELECT segments FROM watch_viewers_daily WHERE user_id = 'amend-u'");
    expect(viewers.rows).toEqual([{ segments: 1 }]);
    expect(await maintain()).toEqual({ segments_closed: 0, segments_amended: 0, late_pieces: 0 });
  });

  it("a late multi-point piece overlapping a closed segment's end amends it (wider), no second row", async () => {
    await upsertPieces(sink, onTime("amend2-u", 24));
    await maintain();
    await upsertPieces(sink, [late("amend2-u", [[95, 195], [125, 225], [140, 240]])]);
    expect(await maintain()).toMatchObject({ segments_closed: 1, segments_amended: 1 });
    expect(await segs("watch_segments_closed", "amend2-u")).toEqual([
      { ...BASE, end_s: 140, end_position_sec: 240, heartbeat_count: 27, watched_sec: 140, last_position_sec: 240 },
    ]);
    const rollup = await db.query("SELECT watched_ms::int AS w, segments::int AS s FROM watch_rollup_daily WHERE video_id = $1", [VIDEO]);
    expect(rollup.rows).toEqual([{ w: 140_000, s: 1 }]);
  });

  it("a late piece inside a segment that is still open joins it in the open tail, then closes with it", async () => {
    const now = Math.floor(Date.now() / 1000) * 1000;
    const recent = (k: number): WatchPiece => ({
      ...late("open-u", [[0, 0]]), start_ts: now - 60_000 + k * 30_000, end_ts: now - 60_000 + k * 30_000 + 25_000,
      first_position_sec: k * 30, last_position_sec: k * 30 + 25, min_position_sec: k * 30, max_position_sec: k * 30 + 25, heartbeat_count: 6,
    });
    await upsertPieces(sink, [recent(0), recent(1)]);
    await maintain(); // ended less than closeDelayMs ago: stays open
    expect(await segs("watch_segments_closed", "open-u")).toEqual([]);
    await upsertPieces(sink, [{ ...recent(0), start_ts: now - 50_000, end_ts: now - 50_000, first_position_sec: 10, last_position_sec: 10, min_position_sec: 10, max_position_sec: 10, heartbeat_count: 1 }]);
    const open = await db.query("SELECT heartbeat_count, watched_sec FROM watch_segments_current WHERE user_id = 'open-u'");
    expect(open.rows).toEqual([{ heartbeat_count: 13, watched_sec: 55 }]);
    expect(await segs("watch_segments_current", "open-u")).toEqual(await segs("watch_segments_v2", "open-u"));
  });
});

describe("random late delivery: the three stitchings equal the rule's pure function (contract/stitching.ts)", () => {
  async function all(from: string): Promise<StitchedSegment[]> {
    const r = await db.query(
      `SELECT user_id, video_id, (extract(epoch FROM start_ts) * 1000)::float8 AS start_ts, (extract(epoch FROM end_ts) * 1000)::float8 AS end_ts,
              start_position_sec, end_position_sec, heartbeat_count, watched_sec, last_position_sec FROM ${from}`);
    return (r.rows as StitchedSegment[]).sort((a, b) =>
      a.user_id !== b.user_id ? (a.user_id < b.user_id ? -1 : 1) : a.video_id !== b.video_id ? (a.video_id < b.video_id ? -1 : 1) : a.start_ts - b.start_ts);
  }
  async function rollupsMatchClosed(): Promise<void> {
    const r = await db.query(
      `SELECT (SELECT coalesce(sum(watched_ms), 0) FROM watch_rollup_daily)::bigint::text AS rollup,
              (SELECT coalesce(sum(round(greatest(watched_sec, 0) * 1000)), 0) FROM watch_segments_closed)::bigint::text AS closed,
              (SELECT coalesce(sum(segments), 0) FROM watch_rollup_daily)::int AS rollup_segments,
              (SELECT count(*) FROM watch_segments_closed)::int AS closed_segments`);
    expect(r.rows[0].rollup).toBe(r.rows[0].closed);
    expect(r.rows[0].rollup_segments).toBe(r.rows[0].closed_segments);
  }

  for (const seed of [1, 2, 3, 4, 5]) {
    it(`seed ${seed}: delivered together (view, open tail, closed table)`, async () => {
      const { onTime, late } = latePlayback(seed, T0, 4, 3, seed % 2 === 1);
      const pieces = [...onTimePieces(onTime), ...late];
      for (let i = 0; i < pieces.length; i += 200) await upsertPieces(sink, pieces.slice(i, i + 200));
      const expected = stitchPieces(pieces);
      expect(await all("watch_segments_v2")).toEqual(expected);
      expect(await all("watch_segments_open")).toEqual(expected);
      await maintain();
      expect(await all("watch_segments_closed")).toEqual(expected);
      expect(await all("watch_segments_current")).toEqual(expected);
      await rollupsMatchClosed();
    });

    it(`seed ${seed}: late pieces after their segments closed amend them in place`, async () => {
      const { onTime, late } = latePlayback(seed, T0, 4, 3, seed % 2 === 1);
      const base = onTimePieces(onTime);
      await upsertPieces(sink, base);
      await maintain();
      const before = await all("watch_segments_closed");
      expect(before).toEqual(stitchPieces(base));
      await upsertPieces(sink, late);
      const run = await maintain();
      const expected = stitchPieces([...base, ...late]);
      expect(await all("watch_segments_closed")).toEqual(expected);
      expect(await all("watch_segments_v2")).toEqual(expected);
      expect(run.late_pieces).toBe(late.length);
      // Without wild playheads late copies never split nor join viewings: exactly as many rows, amended in place.
      if (seed % 2 === 0) {
        expect(expected.map((x) => x.start_position_sec)).toEqual(before.map((x) => x.start_position_sec));
        expect(run.segments_closed).toBe(run.segments_amended);
      }
      await rollupsMatchClosed();
      expect(await maintain()).toEqual({ segments_closed: 0, segments_amended: 0, late_pieces: 0 });
    });
  }
});
