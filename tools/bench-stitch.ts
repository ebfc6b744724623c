/**
 * Stitching cost, V007 (head of all earlier pieces) against V004/V006 (previous piece), in one run on one database
 * (not a test; issue 21). Starts a throwaway PostgreSQL 15 on 127.0.0.1 (test/real/pg/harness.ts), applies
 * connectors/schema with the schema Job's own script, loads a day of sessions (one 6-heartbeat piece per viewer per
 * 30 s window, 10-120 minutes each) plus late one-point pieces inside them, and creates the baseline from the
 * shipped files themselves: V004's watch_segments_v2 as bench_v004_segments and V006's watchpipe_maintain as
 * bench_v006_maintain. Then, alternating baseline and V007 so load drifts hit both, it times:
 *   - the all-history view (count, watched time and heartbeats of every segment);
 *   - one heavy user's segments through the view (the WHERE pushed below the window functions);
 *   - the maintenance job's first run over the whole day, inside a transaction rolled back after each run;
 * and prints medians, V007 / baseline ratios, the segment counts both give (the baseline splits at late pieces) and
 * the load average.
 *
 *   npm run bench:stitch                                    # 500,000 pieces, 1 % late, 5 runs
 *   npm run bench:stitch -- --pieces 200000 --late-percent 5 --runs 3
 */
import { readFileSync } from "node:fs";
import { loadavg } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import type { Client } from "pg";
import { closeDelayMs, maintenanceSql, type MaintenanceParams } from "../connectors/maintenance";
import { SCHEMA_DIR } from "../connectors/schema";
import { DEFAULT_SESSIONIZATION_PARAMS, maxRatePermille, secToMs } from "../contract/sessionization";
import { startPostgres } from "../test/real/pg/harness";
import { newSinkPassword, runSchemaJob } from "../test/real/pg/schemaJob";
import { EXIT_CODES_HELP, exitCodeOf, UsageError } from "./exitCodes";

const DEFAULT_PIECES = 500_000;
const DEFAULT_LATE_PERCENT = 1;
/** Odd, so the median is a measured value. */
const DEFAULT_RUNS = 5;
const USERS = 50_000;
const VIDEOS = 5_000;
/** Session length bounds in 30 s windows (10 and 120 minutes). */
const MIN_WINDOWS = 20;
const MAX_WINDOWS = 240;
/** The loaded day: well before now, so the job closes all of it. */
const BENCH_DAY = "2026-06-01";
/** As bench-reports: sorts in memory, one core per query. */
const BENCH_SETTINGS = { work_mem: "64MB", shared_buffers: "512MB", max_parallel_workers_per_gather: "0", max_wal_size: "4GB" };
const SESSION_CHUNK = 2_000;

const load = (): string => loadavg().map((x) => x.toFixed(1)).join(" ");
const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const n = (x: number): string => Math.round(x).toLocaleString("en-US");

/** The text of one statement of a shipped schema file, from `start` through the first match of `end`. */
function shippedStatement(file: string, start: string, end: RegExp): string {
  const sql = readFileSync(join(SCHEMA_DIR, file), "utf8");
  const from = sql.indexOf(start);
  if (from < 0) throw new Error(`${file} no longer contains "${start}": update tools/bench-stitch.ts's baseline`);
  const rest = sql.slice(from);
  const m = end.exec(rest);
  if (m === null) throw new Error(`${file}: no end (${end}) after "${start}"`);
  return rest.slice(0, m.index + m[0].length);
}

function sessionsSql(sessions: number): string {
  const p = DEFAULT_SESSIONIZATION_PARAMS;
  return `
INSERT INTO watch_pieces (user_id, video_id, start_ts, piece_no, end_ts, first_position_sec, last_position_sec,
                          min_position_sec, max_position_sec, heartbeat_count, session_gap_ms, seek_tolerance_ms, max_rate_permille)
SELECT s.user_id, s.video_id, s.t0 + k * interval '30 seconds', 1, s.t0 + k * interval '30 seconds' + interval '25 seconds',
       s.pos + k * 30, s.pos + k * 30 + 25, s.pos + k * 30, s.pos + k * 30 + 25, 6,
       ${secToMs(p.sessionGapSec)}, ${secToMs(p.seekToleranceSec)}, ${maxRatePermille(p)}
  FROM (SELECT 'u' || floor(${USERS} * power(random(), 2))::int AS user_id,
               'v' || floor(${VIDEOS} * power(random(), 3))::int AS video_id,
               timestamptz '${BENCH_DAY} 00:00:00+00' + floor(random() * 2700) * interval '30 seconds' AS t0,
               ${MIN_WINDOWS} + floor(random() * ${MAX_WINDOWS - MIN_WINDOWS + 1})::int AS windows,
               floor(random() * 7200)::int AS pos
          FROM generate_series(1, ${sessions})) s,
       generate_series(0, s.windows - 1) k
ON CONFLICT DO NOTHING`;
}

/** One late heartbeat inside `percent` % of the pieces: 10 s after the piece's start, at its playhead then. */
function latePiecesSql(percent: number): string {
  return `
INSERT INTO watch_pieces (user_id, video_id, start_ts, piece_no, end_ts, first_position_sec, last_position_sec,
                          min_position_sec, max_position_sec, heartbeat_count, session_gap_ms, seek_tolerance_ms, max_rate_permille)
SELECT p.user_id, p.video_id, p.start_ts + interval '10 seconds', 2, p.start_ts + interval '10 seconds',
       p.first_position_sec + 10, p.first_position_sec + 10, p.first_position_sec + 10, p.first_position_sec + 10, 1,
       p.session_gap_ms, p.seek_tolerance_ms, p.max_rate_permille
  FROM watch_pieces p WHERE p.piece_no = 1 AND random() < ${percent / 100}
ON CONFLICT DO NOTHING`;
}

async function timed(db: Client, sql: string, values: unknown[] = []): Promise<{ ms: number; row: Record<string, unknown> }> {
  const t0 = process.hrtime.bigint();
  const r = await db.query(sql, values);
  return { ms: Number(process.hrtime.bigint() - t0) / 1e6, row: (r.rows[0] ?? {}) as Record<string, unknown> };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { pieces: { type: "string" }, "late-percent": { type: "string" }, runs: { type: "string" }, help: { type: "boolean", short: "h" } },
  });
  if (values.help === true) {
    process.stdout.write(`Usage: npm run bench:stitch -- [--pieces N (default ${DEFAULT_PIECES})] ` +
      `[--late-percent P (default ${DEFAULT_LATE_PERCENT})] [--runs N (default ${DEFAULT_RUNS})]\n\n${EXIT_CODES_HELP}\n`);
    return;
  }
  const pieces = Number(values.pieces ?? DEFAULT_PIECES);
  const latePercent = Number(values["late-percent"] ?? DEFAULT_LATE_PERCENT);
  const runs = Number(values.runs ?? DEFAULT_RUNS);
  if (!Number.isInteger(pieces) || pieces < 10_000) throw new UsageError(`--pieces must be an integer >= 10000, got ${values.pieces}`);
  if (!(latePercent >= 0 && latePercent <= 50)) throw new UsageError(`--late-percent must be between 0 and 50, got ${values["late-percent"]}`);
  if (!Number.isInteger(runs) || runs < 1) throw new UsageError(`--runs must be a positive integer, got ${values.runs}`);

  const pg = await startPostgres({ database: "bench", settings: BENCH_SETTINGS });
  const db = await pg.connect();
  try {
    const job = runSchemaJob(pg, { sinkPassword: newSinkPassword() });
    if (job.status !== 0) throw new Error(`schema Job script failed (exit ${job.status}):\n${job.stderr}`);
    await db.query(shippedStatement("V004__watch_pieces_stitching.sql", "CREATE OR REPLACE VIEW watch_segments_v2 AS", /;\s*$/m)
      .replace("VIEW watch_segments_v2 AS", "VIEW bench_v004_segments AS"));
    await db.query(shippedStatement("V006__closed_segments_partitioned.sql", "CREATE OR REPLACE FUNCTION watchpipe_maintain(", /^\$\$;$/m)
      .replace("FUNCTION watchpipe_maintain(", "FUNCTION bench_v006_maintain("));
    await db.query("SELECT watch_ensure_day_partition(t, $1::date + d) FROM generate_series(-1, 1) d, " +
      "unnest(ARRAY['watch_pieces', 'watch_segments_closed', 'watch_viewers_daily', 'watch_viewers_hourly', 'watch_rollup_daily', 'watch_rollup_hourly']::regclass[]) t",
    [BENCH_DAY]);

    const t0 = Date.now();
    const sessions = Math.max(1, Math.round(pieces / ((MIN_WINDOWS + MAX_WINDOWS) / 2)));
    for (let done = 0; done < sessions; done += SESSION_CHUNK) {
      await db.query(sessionsSql(Math.min(SESSION_CHUNK, sessions - done)));
      process.stdout.write(`\rloading sessions ${n(Math.min(done + SESSION_CHUNK, sessions))}/${n(sessions)} (${((Date.now() - t0) / 1000).toFixed(0)} s)`);
    }
    await db.query(latePiecesSql(latePercent));
    await db.query("VACUUM (ANALYZE)");
    const counts = (await db.query("SELECT count(*) FILTER (WHERE piece_no = 1)::int AS on_time, count(*) FILTER (WHERE piece_no = 2)::int AS late FROM watch_pieces")).rows[0];
    const heavy = (await db.query("SELECT user_id FROM watch_pieces GROUP BY user_id ORDER BY count(*) DESC LIMIT 1")).rows[0].user_id as string;
    console.log(`\nPostgreSQL ${(await db.query("SHOW server_version")).rows[0].server_version}; ${n(counts.on_time)} on-time pieces ` +
      `(${n(sessions)} sessions) + ${n(counts.late)} late one-point pieces inside them, loaded in ${((Date.now() - t0) / 1000).toFixed(0)} s; ` +
      `${runs} runs each, alternating; load average ${load()}`);

    const params: MaintenanceParams = {
      closeDelayMs: closeDelayMs(DEFAULT_SESSIONIZATION_PARAMS), pieceRetentionDays: 999, segmentRetentionDays: 999, partitionsAheadDays: 2,
    };
    const newJob = maintenanceSql(params);
    const oldJob = newJob.replace("watchpipe_maintain(", "bench_v006_maintain(");
    const cases: ReadonlyArray<{ name: string; old: [string, unknown[]]; v7: [string, unknown[]]; tx?: boolean }> = [
      {
        name: "all-history view: every segment",
        old: ["SELECT count(*)::int AS segments, sum(watched_sec)::float8 AS watched FROM bench_v004_segments", []],
        v7: ["SELECT count(*)::int AS segments, sum(watched_sec)::float8 AS watched FROM watch_segments_v2", []],
      },
      {
        name: "one heavy user's segments (view)",
        old: ["SELECT count(*)::int AS segments, sum(watched_sec)::float8 AS watched FROM bench_v004_segments WHERE user_id = $1", [heavy]],
        v7: ["SELECT count(*)::int AS segments, sum(watched_sec)::float8 AS watched FROM watch_segments_v2 WHERE user_id = $1", [heavy]],
      },
      { name: "maintenance job, first run (rolled back)", old: [oldJob, []], v7: [newJob, []], tx: true },
    ];
    const lines: string[] = [];
    for (const c of cases) {
      const ms: { old: number[]; v7: number[] } = { old: [], v7: [] };
      const rows: { old?: Record<string, unknown>; v7?: Record<string, unknown> } = {};
      for (let i = 0; i < runs; i++) {
        for (const which of i % 2 === 0 ? (["old", "v7"] as const) : (["v7", "old"] as const)) {
          if (c.tx === true) await db.query("BEGIN");
          const r = await timed(db, c[which][0], c[which][1]);
          if (c.tx === true) await db.query("ROLLBACK");
          ms[which].push(r.ms);
          rows[which] = r.row;
        }
        process.stdout.write(`\r${c.name}: run ${i + 1}/${runs}   `);
      }
      const show = (r: Record<string, unknown> | undefined): string =>
        c.tx === true ? `${String(r?.segments_closed)} segments closed` : `${String(r?.segments)} segments, ${Number(r?.watched).toFixed(0)} s watched`;
      lines.push(`${c.name.padEnd(42)} V004/V006 ${median(ms.old).toFixed(1).padStart(9)} ms (${show(rows.old)}); ` +
        `V007 ${median(ms.v7).toFixed(1).padStart(9)} ms (${show(rows.v7)}); ratio ${(median(ms.v7) / median(ms.old)).toFixed(2)}`);
    }
    console.log(`\n${lines.join("\n")}\nload average ${load()}`);
  } finally {
    await db.end();
    pg.stop();
  }
}

// Ctrl-C: exit through process.exit so the harness's exit hook stops and deletes the server.
process.on("SIGINT", () => process.exit(130));

main().catch((err: unknown) => {
  process.stderr.write(`bench-stitch: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(exitCodeOf(err));
});
