/**
 * Report benchmark at history scale (not a test; issue 23): starts a throwaway PostgreSQL 15 on 127.0.0.1
 * (test/real/pg/harness.ts), applies connectors/schema with the schema Job's own script, then grows the history day
 * by day through the real path: one day of pieces inserted into watch_pieces (partitioned, both V004/V005 triggers
 * on), then the maintenance job (connectors/maintenance.ts, V006 watchpipe_maintain) closes that day. At each
 * checkpoint size (default 1 M, 5 M, 20 M pieces) it times every report the CLI runs (connectors/reports.ts) plus a
 * segment count of one video's day from the closed table, and prints medians, the job's time per day and per
 * million pieces, bytes per piece and per closed segment including indexes, the load average, and the ratio of each
 * report's median at the largest size to the smallest.
 *
 * Sessions are realistic: 10-120 minutes (uniform), one piece per viewer per 30 s window (6 heartbeats), start times
 * peaked in the evening UTC, video popularity skewed (video = floor(VIDEOS * r^3): the top 1 % get ~22 % of views),
 * heavy and light users (user = floor(USERS * r^2)). Every day has the same number of pieces, so the history grows
 * x20 while each day's work stays the same.
 *
 *   npm run bench:reports                                   # 1 M, 5 M, 20 M pieces; 1 M pieces a day; 5 runs each
 *   npm run bench:reports -- --sizes 0.2,1 --pieces-per-day 200000 --runs 3
 */
import { loadavg } from "node:os";
import { parseArgs } from "node:util";
import type { Client } from "pg";
import { closeDelayMs, DEFAULT_PARTITIONS_AHEAD_DAYS, maintenanceSql, type MaintenanceParams } from "../connectors/maintenance";
import { dailyWatchQuery, hourlyReachQuery, type ReportQuery, resumePositionsQuery } from "../connectors/reports";
import { DEFAULT_SESSIONIZATION_PARAMS } from "../contract/sessionization";
import { startPostgres } from "../test/real/pg/harness";
import { newSinkPassword, runSchemaJob } from "../test/real/pg/schemaJob";
import { EXIT_CODES_HELP, exitCodeOf, UsageError } from "./exitCodes";

/** The sizes, in millions of pieces. */
const DEFAULT_SIZES = [1, 5, 20];
/** One day's pieces: large enough that a day is a real batch for the job, small enough for 20 days here. */
const DEFAULT_PIECES_PER_DAY = 1_000_000;
/** Odd, so the median is a measured value. */
const DEFAULT_RUNS = 5;
/** Distinct users / videos in the synthetic catalogue. */
const USERS = 200_000;
const VIDEOS = 20_000;
/** Session length bounds in 30 s windows (10 and 120 minutes). */
const MIN_WINDOWS = 20;
const MAX_WINDOWS = 240;
/** Mean windows per session (uniform 20..240): sessions per day = pieces per day / this. */
const MEAN_WINDOWS = (MIN_WINDOWS + MAX_WINDOWS) / 2;
/** Sessions inserted per statement: bounds one INSERT's memory and prints progress. */
const SESSION_CHUNK = 2_000;
/** Day 0 of the synthetic history; days run forward from it, all well before now (so the job closes them). */
const BENCH_DAY0_MS = Date.UTC(2026, 5, 1);
const DAY_MS = 86_400_000;
/** A reporting server's memory for sorts; parallel query off so medians reflect one core, as on a busy tserver. */
const BENCH_SETTINGS = { work_mem: "64MB", shared_buffers: "512MB", max_parallel_workers_per_gather: "0", max_wal_size: "4GB" };
/** Retention wide enough that nothing of the synthetic history is dropped while measuring. */
const BENCH_RETENTION_DAYS = 999;

const dayText = (d: number): string => new Date(BENCH_DAY0_MS + d * DAY_MS).toISOString().slice(0, 10);

/** One chunk of sessions of day `day`: every session's pieces, 30 s apart, 25 s long, 6 heartbeats each. */
function loadSessionsSql(day: number, sessions: number): string {
  const p = DEFAULT_SESSIONIZATION_PARAMS;
  return `
INSERT INTO watch_pieces (user_id, video_id, start_ts, piece_no, end_ts, first_position_sec, last_position_sec,
                          min_position_sec, max_position_sec, heartbeat_count, session_gap_ms, seek_tolerance_ms, max_rate_permille)
SELECT s.user_id, s.video_id, s.t0 + k * interval '30 seconds', 1, s.t0 + k * interval '30 seconds' + interval '25 seconds',
       s.pos + k * 30, s.pos + k * 30 + 25, s.pos + k * 30, s.pos + k * 30 + 25, 6,
       ${p.sessionGapSec * 1000}, ${p.seekToleranceSec * 1000}, ${Math.round((p.maxPlaybackRate ?? 2) * 1000)}
  FROM (SELECT 'u' || floor(${USERS} * power(random(), 2))::int AS user_id,
               'v' || floor(${VIDEOS} * power(random(), 3))::int AS video_id,
               timestamptz '${dayText(day)} 00:00:00+00'
                 + ((44 + round((random() - random()) * 8))::int % 24) * interval '1 hour'
                 + floor(random() * 120) * interval '30 seconds' AS t0,
               ${MIN_WINDOWS} + floor(random() * ${MAX_WINDOWS - MIN_WINDOWS + 1})::int AS windows,
               floor(random() * 7200)::int AS pos
          FROM generate_series(1, ${sessions})) s,
       generate_series(0, s.windows - 1) k
ON CONFLICT DO NOTHING`;
}

interface Case { readonly name: string; readonly query: ReportQuery }

function cases(day: string, topVideo: string, midVideo: string, heavyUser: string, typicalUser: string): Case[] {
  return [
    { name: "daily royalties, all videos, 1 day", query: dailyWatchQuery({ from: day, to: day }) },
    { name: "one video's day (top video)", query: dailyWatchQuery({ from: day, to: day, videoIds: [topVideo] }) },
    { name: "one video's hours (top video, 1 day)", query: hourlyReachQuery({ videoId: topVideo, from: day, to: day }) },
    { name: "one video's hours (mid video, 1 day)", query: hourlyReachQuery({ videoId: midVideo, from: day, to: day }) },
    {
      name: "one day's segments, all videos",
      query: { text: "SELECT sum(segments)::bigint AS segments FROM watch_daily_report($1::date, $1::date, NULL)", values: [day] },
    },
    {
      name: "one video's day of segments (closed)",
      query: {
        text: "SELECT count(*) AS segments, count(DISTINCT user_id) AS viewers FROM watch_segments_closed " +
          "WHERE video_id = $1 AND start_ts >= $2::date::timestamp AT TIME ZONE 'UTC' AND start_ts < ($2::date + 1)::timestamp AT TIME ZONE 'UTC'",
        values: [topVideo, day],
      },
    },
    { name: "resume, heavy user", query: resumePositionsQuery({ userId: heavyUser }) },
    { name: "resume, light user", query: resumePositionsQuery({ userId: typicalUser }) },
  ];
}

async function medianMs(db: Client, q: ReportQuery, runs: number): Promise<{ ms: number; rows: number }> {
  await db.query(q.text, [...q.values]); // warm: we compare growth with history, not cold reads
  const ms: number[] = [];
  let rows = 0;
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    const r = await db.query(q.text, [...q.values]);
    ms.push(Number(process.hrtime.bigint() - t0) / 1e6);
    rows = r.rowCount ?? r.rows.length;
  }
  ms.sort((a, b) => a - b);
  return { ms: ms[Math.floor(ms.length / 2)], rows };
}

const load = (): string => loadavg().map((x) => x.toFixed(1)).join(" ");
const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const n = (x: number): string => Math.round(x).toLocaleString("en-US");

function parseSizes(s: string | undefined): number[] {
  if (s === undefined) return DEFAULT_SIZES;
  const sizes = s.split(",").map(Number);
  if (sizes.some((x) => !Number.isFinite(x) || x <= 0) || sizes.some((x, i) => i > 0 && x <= sizes[i - 1])) {
    throw new UsageError(`--sizes must be increasing positive numbers of millions of pieces, e.g. 1,5,20; got "${s}"`);
  }
  return sizes;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { sizes: { type: "string" }, "pieces-per-day": { type: "string" }, runs: { type: "string" }, help: { type: "boolean", short: "h" } },
  });
  if (values.help === true) {
    process.stdout.write(
      `Usage: npm run bench:reports -- [--sizes M1,M2,... (millions of pieces, default ${DEFAULT_SIZES.join(",")})] ` +
        `[--pieces-per-day N (default ${DEFAULT_PIECES_PER_DAY})] [--runs N (default ${DEFAULT_RUNS})]\n\n${EXIT_CODES_HELP}\n`,
    );
    return;
  }
  const sizes = parseSizes(values.sizes).map((m) => Math.round(m * 1_000_000));
  const perDay = Number(values["pieces-per-day"] ?? DEFAULT_PIECES_PER_DAY);
  const runs = Number(values.runs ?? DEFAULT_RUNS);
  if (!Number.isInteger(perDay) || perDay < 10_000) throw new UsageError(`--pieces-per-day must be an integer >= 10000, got ${values["pieces-per-day"]}`);
  if (!Number.isInteger(runs) || runs < 1) throw new UsageError(`--runs must be a positive integer, got ${values.runs}`);

  const pg = await startPostgres({ database: "bench", settings: BENCH_SETTINGS });
  const db = await pg.connect();
  try {
    const job = runSchemaJob(pg, { sinkPassword: newSinkPassword() });
    if (job.status !== 0) throw new Error(`schema Job script failed (exit ${job.status}):\n${job.stderr}`);
    const params: MaintenanceParams = {
      closeDelayMs: closeDelayMs(DEFAULT_SESSIONIZATION_PARAMS), pieceRetentionDays: BENCH_RETENTION_DAYS,
      segmentRetentionDays: BENCH_RETENTION_DAYS, partitionsAheadDays: DEFAULT_PARTITIONS_AHEAD_DAYS,
    };
    console.log(`PostgreSQL ${(await db.query("SHOW server_version")).rows[0].server_version}, schema V001-V006 by the Job script; ` +
      `${n(perDay)} pieces a day, sessions ${MIN_WINDOWS / 2}-${MAX_WINDOWS / 2} min, ${USERS} users, ${VIDEOS} videos; ` +
      `sizes ${sizes.map(n).join(", ")}; ${runs} runs per report; load average ${load()}`);
    // Partitions for the whole synthetic history exist before loading, as the job's partitions-ahead would make them.
    const days = Math.max(1, Math.round(sizes[sizes.length - 1] / perDay));
    await db.query("SELECT watch_ensure_day_partition(t, $1::date + d) FROM generate_series(0, $2) d, " +
      "unnest(ARRAY['watch_pieces', 'watch_segments_closed', 'watch_viewers_daily', 'watch_viewers_hourly', 'watch_rollup_daily', 'watch_rollup_hourly']::regclass[]) t",
    [dayText(0), days]);

    const jobMsPerDay: number[] = [];
    const jobUsPerPiece: number[] = [];
    const results = new Map<string, number[]>();
    let pieces = 0;
    let day = 0;
    for (const target of sizes) {
      // Whole days only: every day carries the same load, so the job's time per day is comparable across sizes.
      while (day < Math.max(1, Math.round(target / perDay))) {
        const sessions = Math.max(1, Math.round(perDay / MEAN_WINDOWS));
        const t0 = Date.now();
        for (let done = 0; done < sessions; done += SESSION_CHUNK) await db.query(loadSessionsSql(day, Math.min(SESSION_CHUNK, sessions - done)));
        const dayPieces = Number((await db.query(
          "SELECT count(*) AS n FROM watch_pieces WHERE start_ts >= $1::date::timestamp AT TIME ZONE 'UTC' AND start_ts < ($1::date + 1)::timestamp AT TIME ZONE 'UTC'",
          [dayText(day)])).rows[0].n);
        const loadSec = (Date.now() - t0) / 1000;
        const j0 = process.hrtime.bigint();
        const r = (await db.query(maintenanceSql(params))).rows[0] as Record<string, string>;
        const jobMs = Number(process.hrtime.bigint() - j0) / 1e6;
        jobMsPerDay.push(jobMs);
        jobUsPerPiece.push((jobMs * 1000) / dayPieces);
        pieces += dayPieces;
        console.log(`day ${dayText(day)}: ${n(dayPieces)} pieces inserted in ${loadSec.toFixed(1)} s (${n(dayPieces / loadSec)}/s with both triggers); ` +
          `job ${(jobMs / 1000).toFixed(1)} s: ${r.segments_closed} segments closed from ${r.pieces_read} pieces read ` +
          `(${((jobMs * 1000) / dayPieces).toFixed(1)} µs/piece); total ${n(pieces)} pieces; load ${load()}`);
        day++;
      }
      await db.query("VACUUM (ANALYZE)");
      const mid = dayText(Math.floor(day / 2));
      const top = (await db.query("SELECT video_id FROM watch_rollup_daily WHERE day_utc = $1 ORDER BY segments DESC LIMIT 1", [mid])).rows[0].video_id as string;
      const heavy = (await db.query(
        "SELECT user_id FROM watch_viewers_daily WHERE day_utc = $1 GROUP BY user_id ORDER BY sum(segments) DESC LIMIT 1", [mid])).rows[0].user_id as string;
      const bytes = (await db.query(`
        SELECT (SELECT sum(pg_total_relation_size(c.oid)) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'watch_pieces'::regclass)::float8 AS piece_bytes,
               (SELECT count(*) FROM watch_pieces)::float8 AS pieces,
               (SELECT sum(pg_total_relation_size(c.oid)) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'watch_segments_closed'::regclass)::float8 AS seg_bytes,
               (SELECT sum(pg_total_relation_size(c.oid)) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
                 WHERE i.inhparent IN ('watch_viewers_daily'::regclass, 'watch_viewers_hourly'::regclass, 'watch_rollup_daily'::regclass, 'watch_rollup_hourly'::regclass))::float8 AS rollup_bytes,
               (SELECT count(*) FROM watch_segments_closed)::float8 AS segments`)).rows[0] as Record<string, number>;
      console.log(`\n== ${n(pieces)} pieces, ${day} days, ${n(bytes.segments)} closed segments (${(bytes.pieces / bytes.segments).toFixed(1)} pieces each); load average ${load()}`);
      console.log(`   bytes per piece incl. indexes ${(bytes.piece_bytes / bytes.pieces).toFixed(0)}; per closed segment incl. indexes ${(bytes.seg_bytes / bytes.segments).toFixed(0)}; ` +
        `viewer tables + rollups per closed segment ${(bytes.rollup_bytes / bytes.segments).toFixed(0)}`);
      console.log(`   job: median ${(median(jobMsPerDay) / 1000).toFixed(1)} s per day of pieces, ${(median(jobUsPerPiece)).toFixed(1)} s per million pieces (median over ${jobMsPerDay.length} days)`);
      // A light user (u150000: user ids are skewed towards 0) and a mid-popularity video next to the heaviest.
      for (const c of cases(mid, top, "v2000", heavy, "u150000")) {
        const t = await medianMs(db, c.query, runs);
        const list = results.get(c.name) ?? [];
        list.push(t.ms);
        results.set(c.name, list);
        console.log(`   ${c.name.padEnd(40)} median ${t.ms.toFixed(1).padStart(8)} ms  ${String(t.rows).padStart(6)} rows`);
      }
    }
    if (sizes.length > 1) {
      console.log(`\nlargest / smallest history (${n(sizes[sizes.length - 1])} / ${n(sizes[0])} pieces), report medians; load average ${load()}:`);
      for (const [name, ms] of results) {
        console.log(`   ${name.padEnd(40)} ${ms[0].toFixed(1).padStart(8)} ms -> ${ms[ms.length - 1].toFixed(1).padStart(8)} ms  ratio ${(ms[ms.length - 1] / ms[0]).toFixed(2)}`);
      }
    }
  } finally {
    await db.end();
    pg.stop();
  }
}

// Ctrl-C: exit through process.exit so the harness's exit hook stops and deletes the server. `on`, not `once`: a
// second SIGINT (tsx relays one too) must not kill the process halfway through that cleanup.
process.on("SIGINT", () => process.exit(130));

main().catch((err: unknown) => {
  process.stderr.write(`bench-reports: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(exitCodeOf(err));
});
