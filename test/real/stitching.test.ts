/**
 * The database half of sessionization v2 on a real PostgreSQL 15: pieces upserted into watch_pieces (as the sink
 * role, in any order, duplicated) and stitched by the watch_segments_v2 view (connectors/schema V004) give exactly
 * the segments the reference model gives (ksql/model/pipeline.ts stitchRows / sessionize), for every ksql/tests
 * vector and for generated playback (rates 0.5x-2x, seeks, pauses, silences, interleaved users, late arrivals).
 */
import { Client } from "pg";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { WatchSegment } from "../../contract/topics";
import { YSQL_SINK_USER } from "../../components/sink/yugabyteSpecs";
import { closeDelayMs, maintenanceSql } from "../../connectors/maintenance";
import { DEFAULT_SESSIONIZATION_PARAMS, type SessionizationParams } from "../../contract/sessionization";
import { type PieceRecord, SegmentModel, sinkPieces, stitchRows, type WatchPiece } from "../../ksql/model/pipeline";
import type { ValidHeartbeat } from "../../ksql/model/validate";
import { loadVectors } from "../../ksql/vectors";
import { stitchPieces } from "../../contract/stitching";
import { prng } from "./pg/fixtures";
import { PgServer, startPostgres } from "./pg/harness";
import { upsertPieces } from "./pg/pieceUpsert";
import { newSinkPassword, runSchemaJob } from "./pg/schemaJob";

let pg: PgServer;
let db: Client;
let sink: Client;
const sinkPassword = newSinkPassword();

beforeAll(async () => {
  pg = await startPostgres();
  const run = runSchemaJob(pg, { sinkPassword });
  expect(run.status, `schema apply failed:\n${run.stdout}\n${run.stderr}`).toBe(0);
  expect(run.stderr).not.toMatch(/ERROR/);
  // Applied twice, as every deploy does: V002 re-creates its views first, V004 replaces them again.
  const again = runSchemaJob(pg, { sinkPassword });
  expect(again.status, `second apply failed:\n${again.stdout}\n${again.stderr}`).toBe(0);
  db = await pg.connect();
  sink = new Client({ ...pg.clientConfig(), user: YSQL_SINK_USER, password: sinkPassword });
  await sink.connect();
});

afterAll(async () => {
  await sink?.end();
  await db?.end();
  pg?.stop();
});

beforeEach(async () => {
  await db.query("TRUNCATE watch_pieces, watch_segments");
});

async function viewRows(): Promise<WatchSegment[]> {
  const r = await db.query(
    `SELECT user_id, video_id, start_position_sec, end_position_sec,
            (extract(epoch FROM start_ts) * 1000)::float8 AS start_ts, (extract(epoch FROM end_ts) * 1000)::float8 AS end_ts,
            heartbeat_count, watched_sec
       FROM watch_segments_v2`,
  );
  return (r.rows as WatchSegment[]).sort((a, b) =>
    a.user_id !== b.user_id ? (a.user_id < b.user_id ? -1 : 1) : a.video_id !== b.video_id ? (a.video_id < b.video_id ? -1 : 1) : a.start_ts - b.start_ts,
  );
}

/** Upserts pieces as the sink would: shuffled, every piece at least once, some twice, in batches. */
async function sinkAll(pieces: readonly WatchPiece[], seed: number): Promise<void> {
  const rnd = prng(seed);
  const sent = [...pieces, ...pieces.filter(() => rnd() < 0.2)];
  for (let i = sent.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [sent[i], sent[j]] = [sent[j], sent[i]];
  }
  for (let i = 0; i < sent.length; i += 250) await upsertPieces(sink, sent.slice(i, i + 250));
}

function modelPieces(hbs: readonly ValidHeartbeat[], params: SessionizationParams): WatchPiece[] {
  const m = new SegmentModel(params);
  const recs: PieceRecord[] = [];
  for (const h of hbs) recs.push(...m.push(h));
  recs.push(...m.closeAll());
  return sinkPieces(recs);
}

/** Generated viewing on one partition: several users and videos, rates, seeks, pauses, silences; mild disorder. */
function generated(seed: number): ValidHeartbeat[] {
  const rnd = prng(seed);
  const T0 = 1_767_225_600_000; // 2026-01-01T00:00:00Z
  const out: ValidHeartbeat[] = [];
  for (let v = 0; v < 8; v++) {
    let t = T0 + Math.floor(rnd() * 120_000);
    let pos = Math.floor(rnd() * 1_000_000);
    const rate = [500, 1000, 1000, 1500, 2000][Math.floor(rnd() * 5)];
    for (let k = 0; k < 150; k++) {
      const r = rnd();
      if (r < 0.05) pos = Math.max(0, pos + Math.floor((rnd() - 0.5) * 600_000)); // seek
      else if (r < 0.1) t += 20_000 + Math.floor(rnd() * 40_000); // silence around the gap
      else if (r > 0.9) t += 0; // paused: same playhead
      else pos += Math.round((5000 * rate) / 1000);
      t += 4000 + Math.floor(rnd() * 2000);
      out.push({ user_id: `u${v % 3}`, video_id: `v${v}`, position_sec: pos / 1000, event_ts: t, device_id: null });
    }
  }
  // Arrival order: event time plus up to 40 s of delay (within the 60 s grace).
  return out.map((h) => ({ h, at: h.event_ts + Math.floor(rnd() * 40_000) })).sort((a, b) => a.at - b.at).map((x) => x.h);
}

describe("watch_segments_v2 stitches pieces exactly like the reference model", () => {
  for (const v of loadVectors()) {
    it(`vector ${v.name}`, async () => {
      const pieces = v.outputs.filter((o) => o.topic === "watch_segments").map((o) => o.value as WatchPiece);
      await sinkAll(pieces, 7);
      // V007's rule (contract/stitching.ts); it equals the model's neighbour rule (stitchRows) on every vector without
      // overlapping pieces (test/stitching.test.ts). retry_after_90s_counts_twice has one: a copy beyond V000006's horizon.
      const expected = stitchPieces(pieces).map(({ last_position_sec: _, ...s }) => s);
      expect(await viewRows()).toEqual(expected);
      if (v.name !== "retry_after_90s_counts_twice") expect(expected).toEqual(stitchRows(pieces));
    });
  }

  for (const seed of [1, 2, 3, 4, 5]) {
    it(`generated playback, seed ${seed}`, async () => {
      const pieces = modelPieces(generated(seed), DEFAULT_SESSIONIZATION_PARAMS);
      await sinkAll(pieces, seed);
      const expected = stitchRows(pieces);
      expect(expected.length).toBeGreaterThan(8);
      expect(await viewRows()).toEqual(expected);
    });
  }

  it("stitches with each piece's own rule: 5x playback is one segment under maxPlaybackRate 4, one per heartbeat under 2", async () => {
    const hbs: ValidHeartbeat[] = [];
    for (let k = 0; k <= 60; k++) hbs.push({ user_id: "u", video_id: "v", position_sec: k * 25, event_ts: 1_767_225_600_000 + k * 5000, device_id: null });
    const fast = modelPieces(hbs, { ...DEFAULT_SESSIONIZATION_PARAMS, maxPlaybackRate: 4 });
    await sinkAll(fast, 1);
    expect(await viewRows()).toEqual(stitchRows(fast));
    expect(await viewRows()).toHaveLength(1);
    await db.query("TRUNCATE watch_pieces");
    const strict = modelPieces(hbs, DEFAULT_SESSIONIZATION_PARAMS);
    await sinkAll(strict, 2);
    expect(await viewRows()).toEqual(stitchRows(strict));
    expect(await viewRows()).toHaveLength(61);
  });

  it("the report views count v2 segments and v1 rows together", async () => {
    const hbs: ValidHeartbeat[] = [];
    for (let k = 0; k <= 24; k++) hbs.push({ user_id: "u1", video_id: "v1", position_sec: k * 5, event_ts: Date.UTC(2026, 0, 2, 10) + k * 5000, device_id: null });
    await sinkAll(modelPieces(hbs, DEFAULT_SESSIONIZATION_PARAMS), 3);
    await db.query(
      `INSERT INTO watch_segments (user_id, video_id, start_ts, end_ts, start_position_sec, end_position_sec, heartbeat_count, watched_sec)
       VALUES ('u2', 'v1', $1, $2, 0, 30, 7, 30)`,
      [new Date(Date.UTC(2026, 0, 2, 11)), new Date(Date.UTC(2026, 0, 2, 11, 0, 30))],
    );
    // The reports read what the maintenance job (V006) materialized; its first run takes in the v1 rows too.
    await db.query(maintenanceSql({ closeDelayMs: closeDelayMs(DEFAULT_SESSIONIZATION_PARAMS), pieceRetentionDays: 1000, segmentRetentionDays: 1000, partitionsAheadDays: 2 }));
    const daily = await db.query("SELECT watched_sec, viewers::int, segments::int FROM video_daily_watch WHERE video_id = 'v1' AND day_utc = '2026-01-02'");
    expect(daily.rows).toEqual([{ watched_sec: 150, viewers: 2, segments: 2 }]);
    const resume = await db.query("SELECT resume_position_sec FROM watch_resume_positions WHERE user_id = 'u1' AND video_id = 'v1'");
    expect(resume.rows).toEqual([{ resume_position_sec: 120 }]);
  });

  it("the sink role may write watch_pieces (upsert) but not delete from it", async () => {
    await expect(sink.query("DELETE FROM watch_pieces")).rejects.toThrow(/permission denied/);
  });
});
