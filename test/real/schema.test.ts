/**
 * The watch_segments schema on a real PostgreSQL 15 (YSQL's dialect): it applies (twice) with the migration Job's
 * own script; the JDBC sink's role (V003) logs in with the password the Job passed, may run the sink's upsert and
 * nothing else; the upsert, run as that role, converges under duplicates and out-of-order replays; the report views
 * return what an independent TypeScript computation says, the report queries can use their indexes, and the
 * constraints reject bad rows.
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { Client } from "pg";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { closeDelayMs, DEFAULT_PIECE_RETENTION_DAYS, DEFAULT_SEGMENT_RETENTION_DAYS, maintenanceSql } from "../../connectors/maintenance";
import { DEFAULT_SESSIONIZATION_PARAMS } from "../../contract/sessionization";
import { dailyWatchQuery, hourlyReachQuery, resumePositionsQuery } from "../../connectors/reports";
import { YSQL_SINK_USER } from "../../components/sink/yugabyteSpecs";
import type { WatchSegment } from "../../contract/topics";
import {
  allVersions, expectedDaily, expectedHourly, expectedResume, fixtureSegments, FIXTURE_DAY0_MS, prng, segmentKey,
} from "./pg/fixtures";
import { PgServer, startPostgres } from "./pg/harness";
import { newSinkPassword, runSchemaJob, type JobRun } from "./pg/schemaJob";
import { SEGMENT_COLUMNS, SINK_UPSERT_SQL, segmentParams, upsertBatch } from "./pg/sinkUpsert";

const REPO_ROOT = join(__dirname, "..", "..");
/**
 * Every statement goes to the server log, so the test proves V003 itself keeps the sink password out of it (a YSQL
 * operator may well turn statement logging on while debugging).
 */
const LOG_EVERY_STATEMENT = { log_statement: "all" } as const;
let pg: PgServer;
/** The superuser (what the schema Job and the test's own checks use). */
let db: Client;
/** Logged in as the sink role, like the Debezium JDBC sink. */
let sink: Client;
/** 32 alphanumerics, the shape components/sink/yugabyte.ts generates. */
let sinkPassword = newSinkPassword();
/** Every sink password the Job was given and everything it printed: none of the former may appear in the latter. */
const passwordsUsed: string[] = [sinkPassword];
const jobOutputs: string[] = [];

function runJob(opts: Parameters<typeof runSchemaJob>[1] = { sinkPassword }): JobRun {
  const run = runSchemaJob(pg, opts);
  jobOutputs.push(run.stdout, run.stderr);
  return run;
}

async function connectAs(user: string, password: string): Promise<Client> {
  const c = new Client({ ...pg.clientConfig(), user, password });
  await c.connect();
  return c;
}

interface DbSegment extends WatchSegment { updated_at: Date }

async function allRows(): Promise<DbSegment[]> {
  const r = await db.query(
    `SELECT user_id, video_id, (extract(epoch FROM start_ts) * 1000)::float8 AS start_ts,
            (extract(epoch FROM end_ts) * 1000)::float8 AS end_ts, start_position_sec, end_position_sec,
            heartbeat_count, watched_sec, updated_at
       FROM watch_segments ORDER BY user_id, video_id, start_ts`,
  );
  return r.rows as DbSegment[];
}

const strip = ({ updated_at: _u, ...s }: DbSegment): WatchSegment => s;
const sortSegs = (xs: readonly WatchSegment[]): WatchSegment[] => [...xs].sort((a, b) => (segmentKey(a) < segmentKey(b) ? -1 : 1));

function shuffled<T>(xs: readonly T[], rnd: () => number): T[] {
  const a = [...xs];
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

function chunks<T>(xs: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += size) out.push(xs.slice(i, i + size));
  return out;
}

beforeAll(async () => {
  pg = await startPostgres({ settings: LOG_EVERY_STATEMENT });
  const first = runJob();
  expect(first.stderr, "first schema apply").not.toMatch(/ERROR/);
  expect(first.status, `first apply failed:\n${first.stdout}\n${first.stderr}`).toBe(0);
  db = await pg.connect();
  sink = await connectAs(YSQL_SINK_USER, sinkPassword);
});

afterAll(async () => {
  await sink?.end();
  await db?.end();
  pg?.stop();
});

describe("schema migrations", () => {
  it("apply a second time without error (idempotent) and record every version once", async () => {
    const second = runJob();
    expect(second.status, `second apply failed:\n${second.stdout}\n${second.stderr}`).toBe(0);
    expect(second.stderr).not.toMatch(/ERROR/);
    const expected = [
      { version: 1, name: "watch_segments" },
      { version: 2, name: "report_views" },
      { version: 3, name: "sink_role" },
      { version: 4, name: "watch_pieces_stitching" },
      { version: 5, name: "watch_pieces_rejects" },
      { version: 6, name: "closed_segments_partitioned" },
      { version: 7, name: "stitch_overlapping_pieces" },
    ];
    expect(second.stdout).toContain(`schema up to date (${expected.length} files)`);
    const versions = await db.query("SELECT version, name FROM schema_migrations ORDER BY version");
    expect(versions.rows).toEqual(expected);
    const roles = await db.query("SELECT count(*)::int AS n FROM pg_roles WHERE rolname = $1", [YSQL_SINK_USER]);
    expect(roles.rows[0].n).toBe(1);
    const objs = await db.query(
      `SELECT relname, relkind::text FROM pg_class WHERE relnamespace = 'public'::regnamespace
          AND relname IN ('watch_segments', 'watch_segments_pkey', 'watch_segments_day_video_idx',
                          'watch_segments_video_hour_idx', 'watch_resume_positions', 'video_daily_watch',
                          'video_hourly_reach') ORDER BY relname`,
    );
    expect(objs.rows.map((r: { relname: string; relkind: string }) => `${r.relname}:${r.relkind}`)).toEqual([
      "video_daily_watch:v", "video_hourly_reach:v", "watch_resume_positions:v", "watch_segments:r",
      "watch_segments_day_video_idx:i", "watch_segments_pkey:i", "watch_segments_video_hour_idx:i",
    ]);
  });

  it("the Job script fails loudly (exit 1, names the database) when the database is unreachable", () => {
    const res = runJob({
      sinkPassword, waitForDbSec: 5,
      env: { PGHOST: "127.0.0.1", PGPORT: "1", PGUSER: "x", PGDATABASE: "y", PGCONNECT_TIMEOUT: "2" },
    });
    expect(res.status).toBe(1);
    expect(res.stderr).toContain("database 127.0.0.1:1/y not reachable as x after 5s");
  });

  it("the Job refuses to start without the sink password, and V003 refuses a short one (the role keeps its password)", async () => {
    const missing = runJob({});
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain("WATCHPIPE_SINK_PASSWORD must be set and non-empty");
    expect(missing.stdout).not.toContain("applying");
    const short = runJob({ sinkPassword: "tooShort123" });
    expect(short.status).toBe(1);
    expect(short.stderr).toContain("V003: sink_password must be at least 16 characters");
    expect(short.stderr).toContain("schema file V003__sink_role.sql failed");
    const again = await connectAs(YSQL_SINK_USER, sinkPassword);
    await again.end();
  });
});

describe("the sink role (V003): the JDBC sink's login, with only what its upsert needs", () => {
  it("logs in with the password the Job passed as a psql variable, and with no other; stored as SCRAM", async () => {
    expect((await sink.query("SELECT current_user AS u")).rows[0].u).toBe(YSQL_SINK_USER);
    await expect(connectAs(YSQL_SINK_USER, `${sinkPassword}x`)).rejects.toThrow(`password authentication failed for user "${YSQL_SINK_USER}"`);
    await expect(connectAs(YSQL_SINK_USER, pg.password)).rejects.toThrow(/password authentication failed/);
    const stored = await db.query("SELECT rolpassword FROM pg_authid WHERE rolname = $1", [YSQL_SINK_USER]);
    expect(stored.rows[0].rolpassword).toMatch(/^SCRAM-SHA-256\$/);
  });

  it("holds exactly CONNECT, USAGE on public and SELECT/INSERT/UPDATE on watch_segments (v1) and watch_pieces (v2, V004), no role attributes or memberships", async () => {
    const grants = async (sql: string): Promise<string[]> =>
      (await db.query(sql, [YSQL_SINK_USER])).rows.map((r: { what: string }) => r.what).sort();
    expect(await grants(
      `SELECT c.relname || ':' || a.privilege_type AS what FROM pg_class c, aclexplode(c.relacl) a
        WHERE a.grantee = $1::regrole`,
    )).toEqual(["watch_pieces:INSERT", "watch_pieces:SELECT", "watch_pieces:UPDATE", "watch_segments:INSERT", "watch_segments:SELECT", "watch_segments:UPDATE"]);
    expect(await grants(
      `SELECT d.datname || ':' || a.privilege_type AS what FROM pg_database d, aclexplode(d.datacl) a
        WHERE a.grantee = $1::regrole`,
    )).toEqual([`${pg.database}:CONNECT`]);
    expect(await grants(
      `SELECT n.nspname || ':' || a.privilege_type AS what FROM pg_namespace n, aclexplode(n.nspacl) a
        WHERE a.grantee = $1::regrole`,
    )).toEqual(["public:USAGE"]);
    const attrs = await db.query(
      `SELECT rolcanlogin, rolsuper, rolcreaterole, rolcreatedb, rolreplication, rolbypassrls, rolinherit,
              (SELECT count(*)::int FROM pg_auth_members m WHERE m.member = r.oid) AS memberships
         FROM pg_roles r WHERE rolname = $1`, [YSQL_SINK_USER]);
    expect(attrs.rows[0]).toEqual({
      rolcanlogin: true, rolsuper: false, rolcreaterole: false, rolcreatedb: false, rolreplication: false,
      rolbypassrls: false, rolinherit: false, memberships: 0,
    });
    // Nothing reaches it through PUBLIC that creates objects either.
    const pub = await db.query(
      `SELECT has_schema_privilege($1, 'public', 'CREATE') AS create_in_public,
              has_database_privilege($1, current_database(), 'TEMPORARY') AS temp_tables`, [YSQL_SINK_USER]);
    expect(pub.rows[0]).toEqual({ create_in_public: false, temp_tables: false });
  });

  it("runs the JDBC sink's upsert: inserts, grows a segment, and the trigger skips a stale replay", async () => {
    await db.query("TRUNCATE watch_segments");
    const [final] = fixtureSegments(8, 1, 1).filter((s) => s.heartbeat_count >= 3);
    const v = allVersions(final);
    await upsertBatch(sink, [v[0], v[1]]);
    await upsertBatch(sink, [v[2], v[0]]);
    expect((await allRows()).map(strip)).toEqual([v[2]]);
  });

  const refused: Array<[string, string, RegExp]> = [
    ["DELETE", "DELETE FROM watch_segments", /permission denied for table watch_segments/],
    ["TRUNCATE", "TRUNCATE watch_segments", /permission denied for table watch_segments/],
    ["DROP TABLE", "DROP TABLE watch_segments", /must be owner of table watch_segments/],
    ["ALTER TABLE", "ALTER TABLE watch_segments ADD COLUMN device text", /must be owner of table watch_segments/],
    ["DROP TRIGGER", "DROP TRIGGER watch_segments_upsert_guard ON watch_segments", /must be owner of (table|relation) watch_segments/],
    ["CREATE INDEX", "CREATE INDEX watch_segments_x ON watch_segments (end_ts)", /must be owner of table watch_segments/],
    ["CREATE TABLE", "CREATE TABLE sink_scratch (x int)", /permission denied for schema public/],
    ["CREATE TEMP TABLE", "CREATE TEMP TABLE sink_scratch (x int)", /permission denied to create temporary tables in database/],
    ["CREATE FUNCTION", "CREATE FUNCTION public.sink_fn() RETURNS int LANGUAGE sql AS 'SELECT 1'", /permission denied for schema public/],
    ["CREATE SCHEMA", "CREATE SCHEMA sink_own", /permission denied for database/],
    ["CREATE ROLE", "CREATE ROLE sink_friend", /permission denied to create role/],
    ["ALTER ROLE … SUPERUSER", `ALTER ROLE ${YSQL_SINK_USER} SUPERUSER`, /must be superuser|permission denied/],
    ["reading schema_migrations", "SELECT * FROM schema_migrations", /permission denied for table schema_migrations/],
    ["reading a report view", "SELECT * FROM video_daily_watch", /permission denied for view video_daily_watch/],
  ];
  for (const [what, sql, error] of refused) {
    it(`refuses ${what}`, async () => {
      await expect(sink.query(sql)).rejects.toThrow(error);
    });
  }

  it("after all that the table, its row and its trigger are untouched", async () => {
    expect((await allRows()).length).toBe(1);
    const trig = await db.query("SELECT count(*)::int AS n FROM pg_trigger WHERE tgname = 'watch_segments_upsert_guard'");
    expect(trig.rows[0].n).toBe(1);
  });

  it("re-running the Job undoes hand-made grants and sets the Secret's new password (rotation)", async () => {
    await db.query(`GRANT DELETE, TRUNCATE ON watch_segments TO ${YSQL_SINK_USER}`);
    await db.query(`GRANT CREATE ON SCHEMA public TO ${YSQL_SINK_USER}`);
    await db.query(`ALTER ROLE ${YSQL_SINK_USER} CREATEDB`);
    const old = sinkPassword;
    sinkPassword = newSinkPassword();
    passwordsUsed.push(sinkPassword);
    const rerun = runJob({ sinkPassword });
    expect(rerun.status, `${rerun.stdout}\n${rerun.stderr}`).toBe(0);
    await sink.end();
    sink = await connectAs(YSQL_SINK_USER, sinkPassword);
    await expect(connectAs(YSQL_SINK_USER, old)).rejects.toThrow(/password authentication failed/);
    await expect(sink.query("DELETE FROM watch_segments")).rejects.toThrow(/permission denied for table watch_segments/);
    await expect(sink.query("CREATE TABLE sink_scratch (x int)")).rejects.toThrow(/permission denied for schema public/);
    const attrs = await db.query("SELECT rolcreatedb FROM pg_roles WHERE rolname = $1", [YSQL_SINK_USER]);
    expect(attrs.rows[0].rolcreatedb).toBe(false);
  });

  it("the password never appears in the Job's output or the server log (with every statement logged)", () => {
    const log = readFileSync(pg.logFile, "utf8");
    // Guards the check below: statement logging is on, so a leak would have been written.
    expect(log).toContain("CREATE TABLE IF NOT EXISTS watch_segments");
    expect(jobOutputs.length).toBeGreaterThanOrEqual(10);
    for (const pw of passwordsUsed) {
      expect(log.includes(pw), "password in the server log").toBe(false);
      expect(jobOutputs.some((o) => o.includes(pw)), "password in the Job's output").toBe(false);
    }
  });
});

describe("sink upsert as the sink role (INSERT … ON CONFLICT (user_id, video_id, start_ts) DO UPDATE)", () => {
  beforeEach(async () => {
    await db.query("TRUNCATE watch_segments");
  });

  it("duplicates, replays and out-of-order batches leave exactly one row per segment, equal to its latest version", async () => {
    const finals = fixtureSegments(7, 6, 3);
    const rnd = prng(99);
    // Every version of every segment, each delivered twice, in a random order, in batches of 50.
    const deliveries = shuffled([...finals.flatMap(allVersions), ...finals.flatMap(allVersions)], rnd);
    for (const batch of chunks(deliveries, 50)) await upsertBatch(sink, batch);
    // Then a consumer rewind replays an early slice of the stream again, stale versions included.
    for (const batch of chunks(deliveries.slice(0, deliveries.length / 3), 50)) await upsertBatch(sink, batch);

    const rows = await allRows();
    expect(rows.length).toBe(finals.length);
    expect(rows.map(strip)).toEqual(sortSegs(finals));
  });

  it("converges for arbitrary delivery orders and batch sizes (property, 25 runs)", async () => {
    const finals = fixtureSegments(3, 3, 2);
    const versions = finals.flatMap(allVersions);
    await fc.assert(
      fc.asyncProperty(
        // A permutation of all versions (so the final one arrives at some point), then arbitrary replays.
        fc.shuffledSubarray([...versions.keys()], { minLength: versions.length, maxLength: versions.length }),
        fc.array(fc.integer({ min: 0, max: versions.length - 1 }), { maxLength: versions.length }),
        fc.integer({ min: 1, max: 64 }),
        async (order, replays, batchSize) => {
          await db.query("TRUNCATE watch_segments");
          const stream = [...order, ...replays].map((i) => versions[i]);
          for (const batch of chunks(stream, batchSize)) await upsertBatch(sink, batch);
          const rows = await allRows();
          expect(rows.map(strip)).toEqual(sortSegs(finals));
        },
      ),
      { numRuns: 25, seed: 1234 },
    );
  });

  it("updated_at is stamped on insert, moves on a real change, and stays put on an identical or stale replay", async () => {
    const [final] = fixtureSegments(5, 1, 1).filter((s) => s.heartbeat_count >= 3);
    const v = allVersions(final);
    await upsertBatch(sink, [v[1]]);
    const [r1] = await allRows();
    await upsertBatch(sink, [v[1]]); // identical replay
    const [r2] = await allRows();
    expect(r2.updated_at.getTime()).toBe(r1.updated_at.getTime());
    await upsertBatch(sink, [v[0]]); // stale version
    const [r3] = await allRows();
    expect(strip(r3)).toEqual(v[1]);
    expect(r3.updated_at.getTime()).toBe(r1.updated_at.getTime());
    await new Promise((r) => setTimeout(r, 20));
    await upsertBatch(sink, [v[2]]); // the segment grew
    const [r4] = await allRows();
    expect(strip(r4)).toEqual(v[2]);
    expect(r4.updated_at.getTime()).toBeGreaterThan(r1.updated_at.getTime());
  });
});

describe("report views (UTC days and hours) on fixture data", () => {
  const segs = fixtureSegments();

  beforeAll(async () => {
    await db.query("TRUNCATE watch_segments");
    for (const batch of chunks(segs, 100)) await upsertBatch(sink, batch);
    // The reports read what the maintenance job materialized (V006); its first run takes in the v1 table's rows.
    await db.query(maintenanceSql({
      closeDelayMs: closeDelayMs(DEFAULT_SESSIONIZATION_PARAMS), pieceRetentionDays: DEFAULT_PIECE_RETENTION_DAYS,
      segmentRetentionDays: DEFAULT_SEGMENT_RETENTION_DAYS, partitionsAheadDays: 2,
    }));
  });

  // The session time zone must not change any report: run every check under two far-apart zones.
  for (const tz of ["UTC", "Pacific/Kiritimati"]) {
    it(`watch_resume_positions: end of each user's latest segment per video (session TimeZone ${tz})`, async () => {
      await db.query(`SET TimeZone = '${tz}'`);
      const r = await db.query(
        `SELECT user_id, video_id, resume_position_sec, (extract(epoch FROM last_watched_at) * 1000)::float8 AS last_watched_at_ms
           FROM watch_resume_positions ORDER BY user_id || video_id`,
      );
      expect(r.rows).toEqual(expectedResume(segs));
    });

    it(`video_daily_watch: watch time, distinct viewers and segments per video per UTC day (session TimeZone ${tz})`, async () => {
      await db.query(`SET TimeZone = '${tz}'`);
      const r = await db.query(
        "SELECT day_utc::text AS day_utc, video_id, watched_sec, viewers::int AS viewers, segments::int AS segments FROM video_daily_watch",
      );
      const key = (x: { day_utc: string; video_id: string }): string => `${x.day_utc}/${x.video_id}`;
      const sort = <T extends { day_utc: string; video_id: string }>(xs: T[]): T[] => xs.sort((a, b) => (key(a) < key(b) ? -1 : 1));
      expect(sort(r.rows)).toEqual(sort(expectedDaily(segs)));
    });

    it(`video_hourly_reach: segments and distinct viewers per video per UTC hour (session TimeZone ${tz})`, async () => {
      await db.query(`SET TimeZone = '${tz}'`);
      const r = await db.query(
        `SELECT video_id, to_char(hour_utc, 'YYYY-MM-DD"T"HH24:00"Z"') AS hour_utc, segments::int AS segments, viewers::int AS viewers
           FROM video_hourly_reach`,
      );
      const key = (x: { hour_utc: string; video_id: string }): string => `${x.video_id}/${x.hour_utc}`;
      const sort = <T extends { hour_utc: string; video_id: string }>(xs: T[]): T[] => xs.sort((a, b) => (key(a) < key(b) ? -1 : 1));
      expect(sort(r.rows)).toEqual(sort(expectedHourly(segs)));
    });
  }

  it("the midnight-crossing segment counts on the UTC day and hour it starts in", async () => {
    const day0 = new Date(FIXTURE_DAY0_MS).toISOString().slice(0, 10);
    const r = await db.query(dailyWatchQuery({ from: day0, to: day0, videoIds: ["video-0"] }).text,
      [...dailyWatchQuery({ from: day0, to: day0, videoIds: ["video-0"] }).values]);
    const expected = expectedDaily(segs).find((d) => d.day_utc === day0 && d.video_id === "video-0");
    expect(expected).toBeDefined();
    expect(r.rows.length).toBe(1);
    expect(Number(r.rows[0].viewers)).toBe(expected?.viewers);
    expect(r.rows[0].watched_sec).toBe(expected?.watched_sec);
    const h = hourlyReachQuery({ videoId: "video-0", from: day0, to: day0 });
    const hr = await db.query(h.text, [...h.values]);
    expect(hr.rows.at(-1)).toMatchObject({ hour_utc: `${day0}T23:00Z` });
  });

  it("the report CLI's queries return the same numbers as the views", async () => {
    await db.query("SET TimeZone = 'UTC'");
    const q = resumePositionsQuery({ userId: "user-midnight" });
    const r = await db.query(q.text, [...q.values]);
    expect(r.rows.map((x: { video_id: string; resume_position_sec: number }) => [x.video_id, x.resume_position_sec]))
      .toEqual([["video-0", 120.5], ["video-1", 5]]);
    const days = [0, 1, 2].map((d) => new Date(FIXTURE_DAY0_MS + d * 86_400_000).toISOString().slice(0, 10));
    const dq = dailyWatchQuery({ from: days[0], to: days[2] });
    const dr = await db.query(dq.text, [...dq.values]);
    expect(dr.rows.length).toBe(expectedDaily(segs).length);
    const total = dr.rows.reduce((t: number, x: { watched_sec: number }) => t + x.watched_sec, 0);
    expect(total).toBe(segs.reduce((t, s) => t + Math.max(0, s.watched_sec), 0));
  });

  it("tools/report.ts prints the views' numbers from a real server (env connection, JSON output) and names a failed login", () => {
    const cli = (args: string[], password: string): { status: number | null; stdout: string; stderr: string } =>
      spawnSync(join(REPO_ROOT, "node_modules", ".bin", "tsx"), [join(REPO_ROOT, "tools", "report.ts"), ...args], {
        encoding: "utf8",
        env: { PATH: process.env.PATH ?? "/usr/bin:/bin", PGHOST: pg.host, PGPORT: String(pg.port), PGUSER: pg.user, PGPASSWORD: password, PGDATABASE: pg.database },
      });
    const day1 = new Date(FIXTURE_DAY0_MS + 86_400_000).toISOString().slice(0, 10);
    const ok = cli(["daily", "--from", day1, "--to", day1, "--format", "json"], pg.password);
    expect(ok.status, ok.stderr).toBe(0);
    const printed = ok.stdout.trim().split("\n").map((l) => JSON.parse(l) as { video_id: string; watched_sec: number; viewers: string });
    const expected = expectedDaily(segs).filter((d) => d.day_utc === day1);
    expect(printed.length).toBe(expected.length);
    for (const e of expected) {
      expect(printed.find((p) => p.video_id === e.video_id)).toMatchObject({ watched_sec: e.watched_sec, viewers: String(e.viewers) });
    }
    expect(ok.stderr).toMatch(new RegExp(`${expected.length} rows in \\d+ ms from postgres@127\\.0\\.0\\.1:${pg.port}/`));
    const resume = cli(["resume", "--user-id", "user-midnight"], pg.password);
    expect(resume.status, resume.stderr).toBe(0);
    expect(resume.stdout).toMatch(/video-0\s+120\.5\s/);
    const bad = cli(["resume", "--user-id", "u"], "wrong-password");
    // A refused login is a connection error: exit 2 (tools/exitCodes.ts).
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain(`cannot connect to postgres@127.0.0.1:${pg.port}/${pg.database} (sslmode=disable)`);
    expect(bad.stderr).toMatch(/password authentication failed/);
  });

  it("each report reads its key or only the asked days' partitions (planner with seq scans disabled)", async () => {
    await db.query("SET enable_seqscan = off");
    try {
      // Resume: the closed table's primary key in each day partition. Daily and hourly (closed days): what
      // watch_daily_report / watch_hourly_report run, one rollup partition per day asked for.
      const cases: Array<[RegExp, { text: string; values: readonly unknown[] }]> = [
        [/(Bitmap )?Index (Only )?Scan (on|using) watch_segments_closed_p20261120_pkey/, resumePositionsQuery({ userId: "user-1" })],
        [/watch_rollup_daily_p20261121/, { text: "SELECT * FROM watch_rollup_daily r WHERE r.day_utc BETWEEN $1::date AND $2::date", values: ["2026-11-20", "2026-11-21"] }],
        [/Index Scan using watch_rollup_hourly_p20261120_pkey/, { text: "SELECT * FROM watch_rollup_hourly r WHERE r.video_id = $1 AND r.hour_utc >= $2::date AND r.hour_utc < $3::date + 1", values: ["video-2", "2026-11-20", "2026-11-20"] }],
      ];
      for (const [access, q] of cases) {
        const plan = await db.query(`EXPLAIN ${q.text}`, [...q.values]);
        const text = plan.rows.map((r: { "QUERY PLAN": string }) => r["QUERY PLAN"]).join("\n");
        expect(text, `plan for ${access}`).toMatch(access);
        if (q.text.includes("watch_rollup")) expect(text, `plan for ${access}`).not.toMatch(/watch_rollup_\w*p202611(19|22)/);
      }
    } finally {
      await db.query("RESET enable_seqscan");
    }
  });
});

describe("constraints reject bad rows", () => {
  const good: WatchSegment = {
    user_id: "u", video_id: "v", start_ts: FIXTURE_DAY0_MS, end_ts: FIXTURE_DAY0_MS + 10_000,
    start_position_sec: 10, end_position_sec: 20, heartbeat_count: 3, watched_sec: 10,
  };
  const bad: Array<[string, Partial<Record<keyof WatchSegment, unknown>>, RegExp]> = [
    ["null user_id", { user_id: null }, /null value in column "user_id"/],
    ["null video_id", { video_id: null }, /null value in column "video_id"/],
    ["null start_ts", { start_ts: null }, /null value in column "start_ts"/],
    ["empty user_id", { user_id: "" }, /watch_segments_user_id_chk/],
    ["empty video_id", { video_id: "" }, /watch_segments_video_id_chk/],
    ["over-long video_id", { video_id: "x".repeat(257) }, /watch_segments_video_id_chk/],
    ["end before start", { end_ts: FIXTURE_DAY0_MS - 1 }, /watch_segments_time_order_chk/],
    ["negative start position", { start_position_sec: -1 }, /watch_segments_start_position_chk/],
    ["NaN start position", { start_position_sec: Number.NaN }, /watch_segments_start_position_chk/],
    ["NaN watched_sec", { watched_sec: Number.NaN }, /watch_segments_watched_sec_chk/],
    ["negative end position", { end_position_sec: -1 }, /watch_segments_end_position_chk/],
    ["infinite end position", { end_position_sec: Number.POSITIVE_INFINITY }, /watch_segments_end_position_chk/],
    ["zero heartbeats", { heartbeat_count: 0 }, /watch_segments_heartbeat_count_chk/],
    ["infinite watched_sec", { watched_sec: Number.NEGATIVE_INFINITY }, /watch_segments_watched_sec_chk/],
    ["null watched_sec", { watched_sec: null }, /null value in column "watched_sec"/],
  ];

  beforeAll(async () => {
    await db.query("TRUNCATE watch_segments");
  });

  it("a good row is accepted", async () => {
    await sink.query(SINK_UPSERT_SQL, segmentParams(good));
    expect((await allRows()).map(strip)).toEqual([good]);
  });

  it("a small step back inside a segment (end position < start, negative watched_sec) is accepted: the sessionizer emits it", async () => {
    const drift = { ...good, start_ts: good.start_ts + 500_000, end_ts: good.start_ts + 505_000, end_position_sec: 5.5, heartbeat_count: 2, watched_sec: -4.5 };
    await sink.query(SINK_UPSERT_SQL, segmentParams(drift));
    expect((await allRows()).map(strip)).toContainEqual(drift);
  });

  for (const [what, patch, error] of bad) {
    it(`rejects ${what}`, async () => {
      const row = { ...good, start_ts: good.start_ts + 1_000_000, end_ts: good.end_ts + 1_000_000, ...patch };
      // segmentParams would turn a null timestamp into 1970; send SQL NULL for every field the case nulls.
      const params = segmentParams(row as WatchSegment).map((p, i) => (patch[SEGMENT_COLUMNS[i]] === null ? null : p));
      await expect(sink.query(SINK_UPSERT_SQL, params)).rejects.toThrow(error);
    });
  }

  it("none of the bad rows got in", async () => {
    expect((await db.query("SELECT count(*)::int AS n FROM watch_segments")).rows[0].n).toBe(2);
  });
});
