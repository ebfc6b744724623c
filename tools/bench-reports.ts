/**
 * Report-query benchmark (not a test): starts a throwaway PostgreSQL 15 on 127.0.0.1 (test/real/pg/harness.ts),
 * applies connectors/schema, loads N watch segments with a realistic skew (Zipf-like video popularity, heavy and
 * light users, evening-peaked start times, exponential segment lengths), then times every report query the CLI
 * runs: first WITHOUT the two secondary report indexes, then WITH them (re-created by re-applying V002, which
 * also shows the migration is idempotent). Prints median/min timings, rows and the plan's access path.
 *
 *   npm run bench:reports                 # 1,000,000 segments, 7 runs per query
 *   npm run bench:reports -- --segments 200000 --runs 5
 */
import { parseArgs } from "node:util";
import type { Client } from "pg";
import { dailyWatchQuery, hourlyReachQuery, ReportQuery, resumePositionsQuery } from "../connectors/reports";
import { loadMigrations } from "../connectors/schema";
import { startPostgres } from "../test/real/pg/harness";
import { EXIT_CODES_HELP, exitCodeOf, UsageError } from "./exitCodes";

/** The size the assignment asks for: ~ a few days of segments at the design load. */
const DEFAULT_SEGMENTS = 1_000_000;
/** Odd, so the median is a measured value; enough to smooth noise on a shared 2-core machine. */
const DEFAULT_RUNS = 7;
/** Rows per INSERT … SELECT: big enough to be fast, small enough to print progress every second or two. */
const LOAD_CHUNK = 100_000;
/** Distinct users / videos in the synthetic catalogue. */
const USERS = 200_000;
const VIDEOS = 20_000;
/** Segments start within this many UTC days from BENCH_DAY0. */
const DAYS = 30;
const BENCH_DAY0 = "2026-10-23";
/** Server memory for sorts/hashes of count(DISTINCT): a reporting replica would give at least this. */
const BENCH_SETTINGS = { work_mem: "64MB", shared_buffers: "512MB", max_parallel_workers_per_gather: "0" };

/**
 * One chunk of synthetic segments. Skew: video = floor(VIDEOS * r^3) (the top 1% of videos get ~22% of segments),
 * user = floor(USERS * r^2) (heavy viewers), start hour centred on 20:00 UTC, heartbeat count exponential with
 * mean 60 (5-minute segments), playhead anywhere in a 2-hour title.
 */
function loadChunkSql(offset: number, count: number): string {
  return `
INSERT INTO watch_segments (user_id, video_id, start_ts, end_ts, start_position_sec, end_position_sec, heartbeat_count, watched_sec)
SELECT user_id, video_id, start_ts, start_ts + (hb - 1) * interval '5 seconds', sp, sp + (hb - 1) * 5, hb, (hb - 1) * 5
  FROM (
    SELECT 'u' || floor(${USERS} * power(random(), 2))::int AS user_id,
           'v' || floor(${VIDEOS} * power(random(), 3))::int AS video_id,
           '${BENCH_DAY0}T00:00:00Z'::timestamptz
             + floor(random() * ${DAYS}) * interval '1 day'
             + ((44 + round((random() - random()) * 8))::int % 24) * interval '1 hour'
             + random() * interval '1 hour' AS start_ts,
           least(2000, 1 + floor(-ln(1 - random()) * 60))::int AS hb,
           floor(random() * 7200)::float8 AS sp
      FROM generate_series(${offset + 1}, ${offset + count})
  ) g
ON CONFLICT DO NOTHING`;
}

interface Case {
  readonly name: string;
  readonly query: ReportQuery;
  /** The index meant to serve it (named when the WITH phase still scans the table). */
  readonly index: string;
}

function cases(heavyUser: string, typicalUser: string, topVideo: string, midVideo: string): Case[] {
  const day = (n: number): string => new Date(Date.parse(`${BENCH_DAY0}T00:00:00Z`) + n * 86_400_000).toISOString().slice(0, 10);
  return [
    { name: `resume: heavy user ${heavyUser}`, query: resumePositionsQuery({ userId: heavyUser }), index: "watch_segments_pkey" },
    { name: `resume: typical user ${typicalUser}`, query: resumePositionsQuery({ userId: typicalUser }), index: "watch_segments_pkey" },
    { name: "daily: all videos, 1 day", query: dailyWatchQuery({ from: day(10), to: day(10) }), index: "watch_segments_day_video_idx" },
    { name: "daily: all videos, 7 days", query: dailyWatchQuery({ from: day(10), to: day(16) }), index: "watch_segments_day_video_idx" },
    { name: `daily: top video ${topVideo}, 30 days`, query: dailyWatchQuery({ from: day(0), to: day(DAYS - 1), videoIds: [topVideo] }), index: "watch_segments_day_video_idx" },
    { name: `hourly: top video ${topVideo}, 1 day`, query: hourlyReachQuery({ videoId: topVideo, from: day(10), to: day(10) }), index: "watch_segments_video_hour_idx" },
    { name: `hourly: top video ${topVideo}, 7 days`, query: hourlyReachQuery({ videoId: topVideo, from: day(10), to: day(16) }), index: "watch_segments_video_hour_idx" },
    { name: `hourly: mid video ${midVideo}, 7 days`, query: hourlyReachQuery({ videoId: midVideo, from: day(10), to: day(16) }), index: "watch_segments_video_hour_idx" },
  ];
}

interface Timing { readonly medianMs: number; readonly minMs: number; readonly rows: number; readonly access: string }

/** The scan nodes of a plan, e.g. "Index Only Scan using watch_segments_day_video_idx". */
async function accessPath(db: Client, q: ReportQuery): Promise<string> {
  const r = await db.query(`EXPLAIN ${q.text}`, [...q.values]);
  const lines = r.rows.map((x: { "QUERY PLAN": string }) => x["QUERY PLAN"]);
  const scans = lines.map((l) => /((?:Parallel )?(?:Seq|Index Only|Index|Bitmap Heap|Bitmap Index) Scan(?: Backward)?(?: using \w+| on \w+)?)/.exec(l)?.[1])
    .filter((x): x is string => x !== undefined);
  return [...new Set(scans)].join(" + ");
}

async function time(db: Client, q: ReportQuery, runs: number): Promise<Timing> {
  await db.query(q.text, [...q.values]); // warm the cache: we compare access paths, not disk reads
  const ms: number[] = [];
  let rows = 0;
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    const r = await db.query(q.text, [...q.values]);
    ms.push(Number(process.hrtime.bigint() - t0) / 1e6);
    rows = r.rowCount ?? r.rows.length;
  }
  ms.sort((a, b) => a - b);
  return { medianMs: ms[Math.floor(ms.length / 2)], minMs: ms[0], rows, access: await accessPath(db, q) };
}

const fmt = (ms: number): string => (ms >= 100 ? ms.toFixed(0) : ms.toFixed(2)).padStart(8);

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { segments: { type: "string" }, runs: { type: "string" }, help: { type: "boolean", short: "h" } } });
  if (values.help === true) {
    process.stdout.write(`Usage: npm run bench:reports -- [--segments N (default ${DEFAULT_SEGMENTS})] [--runs N (default ${DEFAULT_RUNS})]\n\n${EXIT_CODES_HELP}\n`);
    return;
  }
  const total = Number(values.segments ?? DEFAULT_SEGMENTS);
  const runs = Number(values.runs ?? DEFAULT_RUNS);
  if (!Number.isInteger(total) || total < 1000) throw new UsageError(`--segments must be an integer >= 1000, got ${values.segments}`);
  if (!Number.isInteger(runs) || runs < 1) throw new UsageError(`--runs must be a positive integer, got ${values.runs}`);

  const pg = await startPostgres({ database: "bench", settings: BENCH_SETTINGS });
  const db = await pg.connect();
  try {
    console.log(`PostgreSQL ${(await db.query("SHOW server_version")).rows[0].server_version} on 127.0.0.1:${pg.port} (${Object.entries(BENCH_SETTINGS).map(([k, v]) => `${k}=${v}`).join(", ")})`);
    // The table, views and indexes (V001, V002); V003 (the sink role) is psql-only and not needed here.
    const migrations = loadMigrations().filter((m) => m.version <= 2);
    for (const m of migrations) await db.query(m.sql);
    // Load without the secondary indexes (as a bulk backfill would), keep the primary key (it is the upsert key).
    await db.query("DROP INDEX watch_segments_day_video_idx; DROP INDEX watch_segments_video_hour_idx");

    const loadStart = Date.now();
    for (let off = 0; off < total; off += LOAD_CHUNK) {
      const n = Math.min(LOAD_CHUNK, total - off);
      await db.query(loadChunkSql(off, n));
      const secs = (Date.now() - loadStart) / 1000;
      process.stdout.write(`\rloading segments: ${(off + n).toLocaleString("en-US")}/${total.toLocaleString("en-US")} (${Math.round((off + n) / secs).toLocaleString("en-US")} rows/s)   `);
    }
    const loaded = Number((await db.query("SELECT count(*) AS n FROM watch_segments")).rows[0].n);
    const loadSecs = (Date.now() - loadStart) / 1000;
    console.log(`\nloaded ${loaded.toLocaleString("en-US")} segments (${total - loaded} random key collisions skipped) in ${loadSecs.toFixed(1)} s with the PK + upsert-guard trigger`);
    // VACUUM sets the visibility map (autovacuum does this in production) so index-only scans are possible.
    await db.query("VACUUM (ANALYZE) watch_segments");

    const top = (await db.query("SELECT video_id, count(*)::int AS n FROM watch_segments GROUP BY video_id ORDER BY n DESC LIMIT 1")).rows[0] as { video_id: string; n: number };
    const heavy = (await db.query("SELECT user_id, count(*)::int AS n FROM watch_segments GROUP BY user_id ORDER BY n DESC LIMIT 1")).rows[0] as { user_id: string; n: number };
    // The user at the median of per-user segment counts: what a typical profile page asks for.
    const typical = (await db.query(`SELECT user_id, n FROM (SELECT user_id, count(*)::int AS n, row_number() OVER (ORDER BY count(*), user_id) AS rn,
                                            count(*) OVER () AS users FROM watch_segments GROUP BY user_id) u WHERE rn = (users + 1) / 2`)).rows[0] as { user_id: string; n: number };
    const s = (await db.query(`SELECT count(DISTINCT video_id)::int AS videos, count(DISTINCT user_id)::int AS users,
                                      pg_size_pretty(pg_total_relation_size('watch_segments')) AS size FROM watch_segments`)).rows[0] as { videos: number; users: number; size: string };
    console.log(`skew: ${s.users} users, ${s.videos} videos; top video ${top.video_id} has ${top.n} segments (${(100 * top.n / loaded).toFixed(1)}%); heaviest user ${heavy.user_id} has ${heavy.n}, median user ${typical.user_id} ${typical.n}; table+PK ${s.size}`);

    const list = cases(heavy.user_id, typical.user_id, top.video_id, "v2000");
    const without = new Map<string, Timing>();
    console.log(`\nphase 1: WITHOUT secondary indexes (${runs} runs each)`);
    for (const c of list) {
      const t = await time(db, c.query, runs);
      without.set(c.name, t);
      console.log(`  ${c.name.padEnd(36)} median ${fmt(t.medianMs)} ms  min ${fmt(t.minMs)} ms  ${String(t.rows).padStart(6)} rows  ${t.access}`);
    }

    const idxStart = Date.now();
    const v002 = migrations.find((m) => m.version === 2);
    if (v002 === undefined) throw new Error("connectors/schema has no V002 (report views and indexes); cannot build the indexes");
    await db.query(v002.sql);
    await db.query("VACUUM (ANALYZE) watch_segments");
    const sizes = await db.query(`SELECT relname, pg_size_pretty(pg_relation_size(oid)) AS size FROM pg_class
                                   WHERE relname IN ('watch_segments_day_video_idx', 'watch_segments_video_hour_idx') ORDER BY relname`);
    console.log(`\nre-applied V002: built ${sizes.rows.map((r: { relname: string; size: string }) => `${r.relname} (${r.size})`).join(", ")} in ${((Date.now() - idxStart) / 1000).toFixed(1)} s`);

    console.log(`\nphase 2: WITH the report indexes (${runs} runs each)`);
    console.log(`  ${"query".padEnd(36)} ${"median ms".padStart(9)} ${"min ms".padStart(8)} ${"rows".padStart(6)} ${"without".padStart(9)} ${"speed-up".padStart(8)}  access path`);
    for (const c of list) {
      const t = await time(db, c.query, runs);
      const w = without.get(c.name);
      const speedup = w === undefined ? "" : `${(w.medianMs / t.medianMs).toFixed(1)}x`;
      const flag = t.access.includes("Seq Scan") ? `   (no index used; expected e.g. ${c.index})` : "";
      console.log(`  ${c.name.padEnd(36)} ${fmt(t.medianMs)}  ${fmt(t.minMs)} ${String(t.rows).padStart(6)} ${fmt(w?.medianMs ?? Number.NaN)}  ${speedup.padStart(8)}  ${t.access}${flag}`);
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
