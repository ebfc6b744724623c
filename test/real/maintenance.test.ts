/**
 * The materialization job (connectors/schema V006 watchpipe_maintain, called as connectors/maintenance.ts builds it)
 * on a real PostgreSQL 15 with the schema Job's own script: the closed table equals the stitching view
 * (watch_segments_v2, itself proven equal to the reference model by stitching.test.ts) for every ksql/tests vector and
 * generated playback; reruns and overlapping runs change nothing; a run killed mid-way loses nothing; late pieces
 * amend the closed table and the rollups exactly; a segment across UTC midnight; retention drops; the conversion of
 * an existing unpartitioned watch_pieces with rows; the open tail keeps resume live.
 */
import { Client } from "pg";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { YSQL_SINK_USER } from "../../components/sink/yugabyteSpecs";
import { closeDelayMs, maintenanceSql, type MaintenanceParams } from "../../connectors/maintenance";
import { dailyWatchQuery, hourlyReachQuery, resumePositionsQuery } from "../../connectors/reports";
import { DEFAULT_SESSIONIZATION_PARAMS } from "../../contract/sessionization";
import type { WatchPiece } from "../../contract/topics";
import { type PieceRecord, SegmentModel, sinkPieces, stitchRows } from "../../ksql/model/pipeline";
import { stitchPieces } from "../../contract/stitching";
import type { ValidHeartbeat } from "../../ksql/model/validate";
import { loadVectors } from "../../ksql/vectors";
import { prng } from "./pg/fixtures";
import { PgServer } from "./pg/harness";
import { upsertPieces } from "./pg/pieceUpsert";
import { runSchemaJob, type SchemaDatabase, startSchemaDatabase } from "./pg/schemaJob";

const DAY_MS = 86_400_000;
/** Long retention for the equality tests: their pieces are from 2026-01 and must survive the runs. */
const KEEP: MaintenanceParams = {
  closeDelayMs: closeDelayMs(DEFAULT_SESSIONIZATION_PARAMS), pieceRetentionDays: 1000, segmentRetentionDays: 1000, partitionsAheadDays: 2,
};
const SEGMENT_COLUMNS =
  "user_id, video_id, (extract(epoch FROM start_ts) * 1000)::float8 AS start_ts, (extract(epoch FROM end_ts) * 1000)::float8 AS end_ts, " +
  "start_position_sec, end_position_sec, heartbeat_count, watched_sec, last_position_sec";

let pg: PgServer;
let db: Client;
let sink: Client;
let sinkPassword: string;
let env: SchemaDatabase | undefined;

beforeAll(async () => {
  env = await startSchemaDatabase();
  ({ pg, db, sink, sinkPassword } = env);
});

afterAll(async () => {
  await env?.stop();
});

beforeEach(async () => {
  await db.query(`TRUNCATE watch_pieces, watch_segments, watch_segments_closed, watch_viewers_daily, watch_viewers_hourly,
                  watch_rollup_daily, watch_rollup_hourly, watch_maintenance_state, watch_open_keys`);
});

interface Summary {
  segments_closed: number; segments_amended: number; pieces_read: number; late_pieces: number;
  partitions_created: number; partitions_dropped: number;
}

async function maintain(client: Client = db, p: MaintenanceParams = KEEP): Promise<Summary> {
  const r = await client.query(maintenanceSql(p));
  const row = r.rows[0] as Record<string, string | number>;
  return {
    segments_closed: Number(row.segments_closed), segments_amended: Number(row.segments_amended),
    pieces_read: Number(row.pieces_read), late_pieces: Number(row.late_pieces),
    partitions_created: Number(row.partitions_created), partitions_dropped: Number(row.partitions_dropped),
  };
}

async function rows(from: string): Promise<unknown[]> {
  return (await db.query(`SELECT ${SEGMENT_COLUMNS} FROM ${from} ORDER BY user_id, video_id, start_ts`)).rows;
}

/** The closed table, the current view (closed + open), the rollups and viewer tables all agree with the stitching view. */
async function expectConsistent(): Promise<void> {
  expect(await rows("watch_segments_current")).toEqual(await rows("watch_segments_v2"));
  const daily = `SELECT video_id, day_utc::text AS day, watched_ms::bigint::text AS w, viewers::int AS v, segments::int AS s`;
  const fromView = await db.query(
    `${daily} FROM (SELECT video_id, (start_ts AT TIME ZONE 'UTC')::date AS day_utc,
                           sum(round(greatest(watched_sec, 0) * 1000)) AS watched_ms, count(DISTINCT user_id) AS viewers, count(*) AS segments
                      FROM watch_segments_closed GROUP BY 1, 2) x ORDER BY 1, 2`);
  expect((await db.query(`${daily} FROM watch_rollup_daily ORDER BY 1, 2`)).rows).toEqual(fromView.rows);
  const hourly = "SELECT video_id, hour_utc::text AS hour, viewers::int AS v, segments::int AS s";
  const hourView = await db.query(
    `${hourly} FROM (SELECT video_id, date_trunc('hour', start_ts AT TIME ZONE 'UTC') AS hour_utc, count(DISTINCT user_id) AS viewers,
                            count(*) AS segments FROM watch_segments_closed GROUP BY 1, 2) x ORDER BY 1, 2`);
  expect((await db.query(`${hourly} FROM watch_rollup_hourly ORDER BY 1, 2`)).rows).toEqual(hourView.rows);
  const viewers = await db.query(
    `SELECT (SELECT count(*) FROM watch_viewers_daily)::int AS d, (SELECT count(*) FROM (SELECT DISTINCT video_id, (start_ts AT TIME ZONE 'UTC')::date, user_id FROM watch_segments_closed) x)::int AS d2,
            (SELECT count(*) FROM watch_viewers_daily WHERE segments <= 0)::int AS zero`);
  expect(viewers.rows[0]).toEqual({ d: viewers.rows[0].d2, d2: viewers.rows[0].d2, zero: 0 });
}

async function sinkAll(pieces: readonly WatchPiece[]): Promise<void> {
  for (let i = 0; i < pieces.length; i += 250) await upsertPieces(sink, pieces.slice(i, i + 250));
}

function modelPieces(hbs: readonly ValidHeartbeat[]): WatchPiece[] {
  const m = new SegmentModel(DEFAULT_SESSIONIZATION_PARAMS);
  const recs: PieceRecord[] = [];
  for (const h of [...hbs].sort((a, b) => a.event_ts - b.event_ts)) recs.push(...m.push(h));
  recs.push(...m.closeAll());
  return sinkPieces(recs);
}

/** Playback of `users` x `videos` from t0: rates, seeks, silences around the gap; some users watch twice. */
function playback(seed: number, t0: number, users = 6, videos = 4, beats = 120): ValidHeartbeat[] {
  const rnd = prng(seed);
  const out: ValidHeartbeat[] = [];
  for (let u = 0; u < users; u++) {
    for (let v = 0; v < videos; v++) {
      if (rnd() < 0.3) continue;
      let t = t0 + Math.floor(rnd() * 600_000);
      let pos = Math.floor(rnd() * 1_000_000);
      const rate = [500, 1000, 1000, 2000][Math.floor(rnd() * 4)];
      for (let k = 0; k < beats; k++) {
        const r = rnd();
        if (r < 0.04) pos = Math.max(0, pos + Math.floor((rnd() - 0.5) * 600_000));
        else if (r < 0.08) t += 20_000 + Math.floor(rnd() * 40_000);
        else pos += Math.round((5000 * rate) / 1000);
        t += 5000;
        out.push({ user_id: `u${u}`, video_id: `v${v}`, position_sec: pos / 1000, event_ts: t, device_id: null });
      }
    }
  }
  return out;
}

describe("closed segments equal the stitching view", () => {
  for (const v of loadVectors()) {
    it(`vector ${v.name}`, async () => {
      // The vectors' clock starts near the epoch; moved whole days into 2026 (within the test's retention). Only
      // differences between times matter to the stitching, and whole days keep every UTC day/hour boundary.
      const raw = v.outputs.filter((o) => o.topic === "watch_segments").map((o) => o.value as WatchPiece);
      const shift = Date.UTC(2026, 0, 10) - Math.floor(Math.min(...raw.map((p) => p.start_ts)) / DAY_MS) * DAY_MS;
      const pieces = raw.map((p) => ({ ...p, start_ts: p.start_ts + shift, end_ts: p.end_ts + shift }));
      await sinkAll(pieces);
      await maintain();
      expect(await rows("watch_segments_closed")).toEqual(await rows("watch_segments_v2"));
      // V007's stitching (contract/stitching.ts): on retry_after_90s_counts_twice, the one vector with a piece inside
      // an earlier one's span, it gives 1 segment where V004's neighbour rule (stitchRows) gave 3.
      expect((await rows("watch_segments_v2")).length).toBe(stitchPieces(pieces).length);
      await expectConsistent();
    });
  }

  for (const seed of [1, 2, 3]) {
    it(`generated playback, seed ${seed}, delivered in three batches with a run after each`, async () => {
      const pieces = modelPieces(playback(seed, Date.UTC(2026, 0, 5, 22, 30)));
      const shuffled = [...pieces].sort(() => prng(seed)() - 0.5);
      const third = Math.ceil(shuffled.length / 3);
      for (let i = 0; i < 3; i++) {
        await sinkAll(shuffled.slice(i * third, (i + 1) * third));
        await maintain();
        await expectConsistent();
      }
      const closed = await rows("watch_segments_closed");
      expect(closed.length).toBeGreaterThan(10);
      expect(closed).toEqual(await rows("watch_segments_v2"));
    });
  }
});

describe("the job's safety", () => {
  it("a rerun changes nothing and writes nothing", async () => {
    await sinkAll(modelPieces(playback(11, Date.UTC(2026, 0, 7, 10))));
    const first = await maintain();
    expect(first.segments_closed).toBeGreaterThan(5);
    const before = await rows("watch_segments_closed");
    const again = await maintain();
    expect(again).toMatchObject({ segments_closed: 0, segments_amended: 0, late_pieces: 0 });
    expect(await rows("watch_segments_closed")).toEqual(before);
    await expectConsistent();
  });

  it("two overlapping runs take turns: together they close every segment once", async () => {
    await sinkAll(modelPieces(playback(12, Date.UTC(2026, 0, 8, 10))));
    const other = await pg.connect();
    try {
      const [a, b] = await Promise.all([maintain(db), maintain(other)]);
      const total = Number((await db.query("SELECT count(*) FROM watch_segments_closed")).rows[0].count);
      expect(a.segments_closed + b.segments_closed).toBe(total);
      expect(Math.min(a.segments_closed, b.segments_closed)).toBe(0);
    } finally {
      await other.end();
    }
    await expectConsistent();
  });

  it("a run killed mid-way (terminated while it waits for a rollup lock) leaves nothing; the next run closes everything", async () => {
    await maintain(); // partitions exist, so the killed run's first lock on the rollup is its write
    await sinkAll(modelPieces(playback(13, Date.UTC(2026, 0, 9, 10))));
    const job = await pg.connect();
    const blocker = await pg.connect();
    try {
      await blocker.query("BEGIN");
      await blocker.query("LOCK TABLE watch_rollup_hourly IN ACCESS EXCLUSIVE MODE");
      const running = maintain(job).then(() => "finished", (err: Error) => err.message);
      let pid: number | undefined;
      // Up to 2 minutes: on the shared 2-core machine the job's first steps alone can take several seconds.
      for (let i = 0; i < 1200 && pid === undefined; i++) {
        // Polled from another session: pg_stat_activity is a snapshot fixed for the rest of a transaction.
        const r = await db.query(
          "SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%watchpipe_maintain%' AND pid <> pg_backend_pid()");
        pid = r.rows[0]?.pid as number | undefined;
        if (pid === undefined) await new Promise((res) => setTimeout(res, 100));
      }
      if (pid === undefined) {
        await blocker.query("COMMIT");
        throw new Error(`the job never waited for the locked rollup; it ended with: ${await running}`);
      }
      // Mid-run: the closed segments are already inserted in the job's transaction, the rollups not yet.
      await db.query("SELECT pg_terminate_backend($1)", [pid]);
      expect(await running).toMatch(/terminat/);
      await blocker.query("COMMIT");
    } finally {
      await job.end().catch(() => undefined);
      await blocker.end();
    }
    expect(Number((await db.query("SELECT count(*) FROM watch_segments_closed")).rows[0].count)).toBe(0);
    const redo = await maintain();
    expect(redo.segments_closed).toBeGreaterThan(5);
    expect(await rows("watch_segments_closed")).toEqual(await rows("watch_segments_v2"));
    await expectConsistent();
  });

  it("the sink role can neither run the job nor read or write the closed table", async () => {
    await expect(sink.query(maintenanceSql(KEEP))).rejects.toThrow(/permission denied/);
    await expect(sink.query("SELECT count(*) FROM watch_segments_closed")).rejects.toThrow(/permission denied/);
    await expect(sink.query("DELETE FROM watch_rollup_daily")).rejects.toThrow(/permission denied/);
  });

  it("refuses bad parameters with the field named", async () => {
    await expect(db.query("SELECT * FROM watchpipe_maintain(1000, 5, 2, 3)")).rejects.toThrow(/segment_retention_days must be >= piece_retention_days \(5\), got 2/);
  });
});

describe("late pieces, midnight, retention, the open tail", () => {
  /** One user's 10 minutes of continuous playback from t0, as pieces (30 s windows). */
  const tenMinutes = (t0: number, user = "late-u"): WatchPiece[] =>
    modelPieces(Array.from({ length: 120 }, (_, k) => ({ user_id: user, video_id: "late-v", position_sec: k * 5, event_ts: t0 + k * 5000, device_id: null })));

  it("a late piece bridging two closed segments amends them into one, rollups exact", async () => {
    const all = tenMinutes(Date.now() - 3 * 3_600_000);
    const missing = all[Math.floor(all.length / 2)];
    await sinkAll(all.filter((p) => p !== missing));
    await sinkAll(tenMinutes(Date.now() - 3 * 3_600_000, "other-u"));
    await maintain();
    const before = await db.query("SELECT viewers::int, segments::int FROM watch_rollup_daily WHERE video_id = 'late-v'");
    expect(Number((await db.query("SELECT count(*) FROM watch_segments_closed WHERE user_id = 'late-u'")).rows[0].count)).toBe(2);
    expect(before.rows.reduce((n, r: { segments: number }) => n + r.segments, 0)).toBe(3);

    await sinkAll([missing]);
    const run = await maintain();
    expect(run).toMatchObject({ late_pieces: 1, segments_amended: 2, segments_closed: 1 });
    const closed = (await db.query("SELECT heartbeat_count FROM watch_segments_closed WHERE user_id = 'late-u'")).rows;
    expect(closed).toEqual([{ heartbeat_count: 120 }]);
    expect(stitchRows(all)).toHaveLength(1);
    await expectConsistent();
    expect((await maintain()).segments_amended).toBe(0);
  });

  it("a segment across UTC midnight: pieces in both days' partitions, the segment and its rollup on the day it starts", async () => {
    const midnight = Math.floor(Date.now() / DAY_MS) * DAY_MS - DAY_MS;
    const pieces = tenMinutes(midnight - 300_000, "night-u");
    await sinkAll(pieces);
    await maintain(db, { ...KEEP, pieceRetentionDays: 3, segmentRetentionDays: 3 });
    const day = (ms: number): string => new Date(ms).toISOString().slice(0, 10);
    const parts = await db.query(
      "SELECT tableoid::regclass::text AS part, count(*)::int AS n FROM watch_pieces GROUP BY 1 ORDER BY 1");
    expect(parts.rows).toEqual([
      { part: `watch_pieces_p${day(midnight - DAY_MS).replace(/-/g, "")}`, n: expect.any(Number) },
      { part: `watch_pieces_p${day(midnight).replace(/-/g, "")}`, n: expect.any(Number) },
    ]);
    const seg = await db.query("SELECT tableoid::regclass::text AS part FROM watch_segments_closed");
    expect(seg.rows).toEqual([{ part: `watch_segments_closed_p${day(midnight - DAY_MS).replace(/-/g, "")}` }]);
    const rollup = await db.query("SELECT day_utc::text AS day, segments::int FROM watch_rollup_daily");
    expect(rollup.rows).toEqual([{ day: day(midnight - DAY_MS), segments: 1 }]);
    await expectConsistent();
  });

  it("retention drops piece partitions past pieceRetentionDays and segment partitions past segmentRetentionDays", async () => {
    const old = Math.floor(Date.now() / DAY_MS) * DAY_MS - 10 * DAY_MS + 3_600_000;
    await sinkAll(tenMinutes(old, "old-u"));
    await maintain(); // closes it while its pieces are kept
    const oldDay = new Date(old).toISOString().slice(0, 10).replace(/-/g, "");
    const exists = async (t: string): Promise<boolean> => (await db.query("SELECT to_regclass($1) IS NOT NULL AS e", [t])).rows[0].e as boolean;
    expect(await exists(`watch_pieces_p${oldDay}`)).toBe(true);
    const dropPieces = await maintain(db, { ...KEEP, pieceRetentionDays: 2, segmentRetentionDays: 30 });
    expect(dropPieces.partitions_dropped).toBeGreaterThanOrEqual(1);
    expect(await exists(`watch_pieces_p${oldDay}`)).toBe(false);
    expect(await exists(`watch_segments_closed_p${oldDay}`)).toBe(true);
    expect(Number((await db.query("SELECT count(*) FROM watch_segments_closed WHERE user_id = 'old-u'")).rows[0].count)).toBe(1);
    await maintain(db, { ...KEEP, pieceRetentionDays: 2, segmentRetentionDays: 5 });
    for (const t of ["watch_segments_closed", "watch_viewers_daily", "watch_viewers_hourly", "watch_rollup_daily", "watch_rollup_hourly"]) {
      expect(await exists(`${t}_p${oldDay}`), t).toBe(false);
    }
  });

  it("a session growing across runs stays open (re-stitched from its open start), then closes once, equal to the view", async () => {
    const t0 = Date.now() - 30 * 60_000;
    const pieces = modelPieces(Array.from({ length: 300 }, (_, k) => ({ user_id: "grow-u", video_id: "grow-v", position_sec: k * 5, event_ts: t0 + k * 5000, device_id: null })));
    const upTo = (min: number): WatchPiece[] => pieces.filter((p) => p.end_ts < t0 + min * 60_000 && p.end_ts >= t0 + (min - 10) * 60_000);
    const open = { ...KEEP, closeDelayMs: 25 * 60_000 };
    await sinkAll(upTo(10));
    expect((await maintain(db, open)).segments_closed).toBe(0);
    await sinkAll(upTo(20));
    const second = await maintain(db, open);
    expect(second.segments_closed).toBe(0);
    expect(second.pieces_read).toBe(upTo(10).length + upTo(20).length);
    expect((await db.query("SELECT from_ts FROM watch_open_keys")).rows).toEqual([{ from_ts: new Date(pieces[0].start_ts) }]);
    await sinkAll(upTo(30));
    const last = await maintain(db, { ...KEEP, closeDelayMs: 60_000 });
    expect(last).toMatchObject({ segments_closed: 1, segments_amended: 0 });
    expect((await db.query("SELECT count(*)::int AS n FROM watch_open_keys")).rows[0].n).toBe(0);
    expect(await rows("watch_segments_closed")).toEqual(await rows("watch_segments_v2"));
    await expectConsistent();
  });

  it("open segments stay visible: resume and today's reports include the session still playing, once, before and after runs", async () => {
    const t0 = Date.now() - 20 * 60_000;
    const hbs = Array.from({ length: 200 }, (_, k) => ({ user_id: "live-u", video_id: "live-v", position_sec: k * 5, event_ts: t0 + k * 5000, device_id: null }));
    // Pieces of the first 15 minutes: the session is still open (its last piece is newer than the close delay).
    const early = modelPieces(hbs.slice(0, 180)).filter((p) => p.end_ts < t0 + 15 * 60_000);
    await sinkAll(early);
    const today = new Date().toISOString().slice(0, 10);
    const check = async (): Promise<void> => {
      const rq = resumePositionsQuery({ userId: "live-u" });
      const resume = (await db.query(rq.text, [...rq.values])).rows;
      expect(resume).toHaveLength(1);
      expect(resume[0].resume_position_sec).toBe(Math.max(...early.map((p) => p.last_position_sec)));
      const q = dailyWatchQuery({ from: today, to: today, videoIds: ["live-v"] });
      const daily = (await db.query(q.text, [...q.values])).rows;
      const h = hourlyReachQuery({ videoId: "live-v", from: today, to: today });
      const hourly = (await db.query(h.text, [...h.values])).rows;
      expect(daily.map((r: { viewers: string; segments: string }) => [Number(r.viewers), Number(r.segments)])).toEqual([[1, 1]]);
      expect(hourly.reduce((n, r: { segments: string }) => n + Number(r.segments), 0)).toBe(1);
    };
    await check();
    await maintain();
    expect(Number((await db.query("SELECT count(*) FROM watch_segments_closed")).rows[0].count)).toBe(0);
    expect((await db.query("SELECT count(*)::int AS n FROM watch_open_keys")).rows[0].n).toBe(1);
    await check();
    await expectConsistent();
  });
});

describe("converting an existing unpartitioned watch_pieces", () => {
  it("keeps every row and the triggers, and the job then closes them; the conversion's time is printed", async () => {
    const name = await pg.createDatabase("convert");
    const env = { PGDATABASE: name };
    const v5 = runSchemaJob(pg, { sinkPassword, upToVersion: 5, env });
    expect(v5.status, v5.stderr).toBe(0);
    const c = await pg.connect(name);
    const s = new Client({ ...pg.clientConfig(name), user: YSQL_SINK_USER, password: sinkPassword });
    await s.connect();
    try {
      const pieces = modelPieces(playback(21, Date.UTC(2026, 10, 30, 23, 50)));
      for (let i = 0; i < pieces.length; i += 250) await upsertPieces(s, pieces.slice(i, i + 250));
      // Bulk rows as well, so the rewrite's cost is measurable: 200,000 one-piece sessions over 10 days.
      await c.query(`INSERT INTO watch_pieces (user_id, video_id, start_ts, piece_no, end_ts, first_position_sec, last_position_sec,
                       min_position_sec, max_position_sec, heartbeat_count, session_gap_ms, seek_tolerance_ms, max_rate_permille)
                     SELECT 'bulk' || g, 'v' || (g % 50), timestamptz '2026-11-20 00:00:00+00' + g * interval '4 seconds', 1,
                            timestamptz '2026-11-20 00:00:25+00' + g * interval '4 seconds', 0, 25, 0, 25, 6, 30000, 10000, 2000
                       FROM generate_series(1, 200000) g`);
      const before = await c.query(`SELECT count(*)::int AS n FROM watch_pieces`);
      const v2Before = (await c.query(`SELECT ${SEGMENT_COLUMNS} FROM watch_segments_v2 WHERE user_id NOT LIKE 'bulk%' ORDER BY 1, 2, 3`)).rows;
      const started = Date.now();
      const v6 = runSchemaJob(pg, { sinkPassword, env });
      const ms = Date.now() - started;
      expect(v6.status, v6.stderr).toBe(0);
      process.stdout.write(`conversion of ${before.rows[0].n} pieces (whole schema Job run): ${ms} ms\n`);
      expect((await c.query("SELECT relkind::text FROM pg_class WHERE oid = 'watch_pieces'::regclass")).rows[0].relkind).toBe("p");
      expect((await c.query("SELECT count(*)::int AS n FROM watch_pieces")).rows[0].n).toBe(before.rows[0].n);
      expect((await c.query("SELECT count(*)::int AS n FROM watch_pieces_default")).rows[0].n).toBe(0);
      expect((await c.query(`SELECT ${SEGMENT_COLUMNS} FROM watch_segments_v2 WHERE user_id NOT LIKE 'bulk%' ORDER BY 1, 2, 3`)).rows).toEqual(v2Before);
      // V005's diversion and V004's guard work on the partitioned table, for the sink role.
      await upsertPieces(s, [{ ...pieces[0], piece_no: 0 }]);
      expect((await c.query("SELECT violated_rule FROM watch_pieces_rejected")).rows).toEqual([{ violated_rule: "watch_pieces_piece_no_chk" }]);
      const stamp = (await c.query("SELECT updated_at FROM watch_pieces WHERE user_id = $1 AND piece_no = $2 AND start_ts = $3",
        [pieces[0].user_id, pieces[0].piece_no, new Date(pieces[0].start_ts)])).rows[0].updated_at as Date;
      await upsertPieces(s, [pieces[0]]);
      const after = (await c.query("SELECT updated_at FROM watch_pieces WHERE user_id = $1 AND piece_no = $2 AND start_ts = $3",
        [pieces[0].user_id, pieces[0].piece_no, new Date(pieces[0].start_ts)])).rows[0].updated_at as Date;
      expect(after).toEqual(stamp);
      // Applying again (every deploy: V004/V005 first, on the partitioned table) converges.
      const again = runSchemaJob(pg, { sinkPassword, env });
      expect(again.status, again.stderr).toBe(0);
      expect(again.stderr).not.toMatch(/ERROR/);
      const run = await c.query(maintenanceSql(KEEP));
      expect(Number(run.rows[0].segments_closed)).toBeGreaterThan(200_000);
      const diff = await c.query(`SELECT count(*)::int AS n FROM ((SELECT ${SEGMENT_COLUMNS} FROM watch_segments_closed EXCEPT ALL SELECT ${SEGMENT_COLUMNS} FROM watch_segments_v2)
                                  UNION ALL (SELECT ${SEGMENT_COLUMNS} FROM watch_segments_v2 EXCEPT ALL SELECT ${SEGMENT_COLUMNS} FROM watch_segments_closed)) d`);
      expect(diff.rows[0].n).toBe(0);
    } finally {
      await s.end();
      await c.end();
    }
  });
});
