/**
 * The schema files, their loader and the migration Job script, and the report query builders (pure; the real
 * database behaviour is covered by test/real/schema.test.ts).
 */
import { describe, expect, it } from "vitest";
import { dailyWatchQuery, hourlyReachQuery, MAX_REPORT_DAYS, parseUtcDate, resumePositionsQuery } from "../connectors/reports";
import { loadMigrations, migrationConfigMapData, migrationJobScript, orderMigrations, parseMigrationFile, shellQuote } from "../connectors/schema";

describe("schema files", () => {
  const migrations = loadMigrations();

  it("are V001, V002, … in order with no gaps", () => {
    expect(migrations.map((m) => m.file)).toEqual(["V001__watch_segments.sql", "V002__report_views.sql", "V003__sink_role.sql", "V004__watch_pieces_stitching.sql", "V005__watch_pieces_rejects.sql", "V006__closed_segments_partitioned.sql", "V007__stitch_overlapping_pieces.sql"]);
  });

  it("are idempotent by construction: every CREATE is IF NOT EXISTS / OR REPLACE and every trigger is dropped first", () => {
    for (const m of migrations) {
      const sql = m.sql.replace(/--.*$/gm, "")
        // In GRANT/REVOKE, CREATE is a privilege, not a statement.
        .replace(/\b(GRANT|REVOKE)\s+CREATE\b/gi, "$1 <privilege>")
        // A role has no IF NOT EXISTS: CREATE ROLE is idempotent only when a NOT EXISTS guard generates it for \gexec.
        .replace(/SELECT\s+'CREATE ROLE (\w+) LOGIN'\s+WHERE NOT EXISTS \(SELECT FROM pg_catalog\.pg_roles WHERE rolname = '\1'\)\s+\\gexec/g, "<guarded role $1>");
      // A temporary table (a function's scratch space, ON COMMIT DROP) is no schema object and gone at commit.
      for (const stmt of sql.match(/CREATE\s+(?!OR REPLACE|TABLE IF NOT EXISTS|INDEX IF NOT EXISTS|TRIGGER|TEMP TABLE)\S+(\s+\S+)?/gi) ?? []) {
        throw new Error(`${m.file}: "${stmt}" is not idempotent; use IF NOT EXISTS or OR REPLACE`);
      }
      for (const [, name] of sql.matchAll(/CREATE\s+TRIGGER\s+(\w+)/gi)) {
        expect(sql, `${m.file} drops trigger ${name} before creating it`).toMatch(new RegExp(`DROP TRIGGER IF EXISTS ${name}\\b`));
      }
      expect(sql, `${m.file} records its version`).toMatch(
        new RegExp(`INSERT INTO schema_migrations \\(version, name\\) VALUES \\(${m.version}, '${m.name}'\\) ON CONFLICT \\(version\\) DO NOTHING`));
    }
  });

  it("watch_segments keeps the plain primary key (user_id, video_id, start_ts): YSQL hash-shards user_id", () => {
    expect(migrations[0].sql).toMatch(/PRIMARY KEY \(user_id, video_id, start_ts\)/);
  });

  it("a ConfigMap carries each file under its own name", () => {
    const data = migrationConfigMapData(migrations);
    expect(Object.keys(data)).toEqual(migrations.map((m) => m.file));
    expect(data["V001__watch_segments.sql"]).toContain("CREATE TABLE IF NOT EXISTS watch_segments");
  });
});

/**
 * The three places that stitch pieces into segments (the all-history view, the open tail, the maintenance job's
 * re-stitch) must not drift apart (issue 21): their latest definitions carry one and the same stitching text, which
 * compares each piece with the head of all earlier pieces (V007), never with the previous piece alone.
 */
describe("one stitching definition", () => {
  const migrations = loadMigrations();
  const STITCHERS = [
    { object: "watch_segments_v2", create: /CREATE OR REPLACE VIEW watch_segments_v2 AS\b/, end: /;\s*$/m },
    { object: "watch_segments_open", create: /CREATE OR REPLACE VIEW watch_segments_open AS\b/, end: /;\s*$/m },
    { object: "watchpipe_maintain", create: /CREATE OR REPLACE FUNCTION watchpipe_maintain\(/, end: /^\$\$;$/m },
  ] as const;
  /** The text of the last definition of an object across the files, and the file it is in. */
  function lastDefinition(create: RegExp, end: RegExp): { file: string; text: string } {
    const m = [...migrations].reverse().find((f) => create.test(f.sql));
    if (m === undefined) throw new Error(`no schema file defines ${create}`);
    const from = m.sql.slice(m.sql.search(create));
    const stop = from.search(end);
    return { file: m.file, text: stop < 0 ? from : from.slice(0, stop) };
  }
  /** The stitching CTEs (timed, ordered, numbered, stitched), whitespace-normalized. */
  const stitchBlock = (sql: string): string[] =>
    [...sql.replace(/--.*$/gm, "").replace(/\s+/g, " ").matchAll(/\), timed AS \(.*?GROUP BY n\.user_id, n\.video_id, n\.segment_no \)/g)].map((x) => x[0]);
  const defs = STITCHERS.map((s) => ({ ...s, ...lastDefinition(s.create, s.end) }));

  it.each(defs.map((d) => [d.object, d] as const))("%s stitches with exactly one copy of the shared text", (_, d) => {
    expect(stitchBlock(d.text), `${d.file}: ${d.object}`).toHaveLength(1);
    expect(d.text, `${d.file}: ${d.object} compares with the previous piece only`).not.toMatch(/\blag\(/i);
  });

  it("the shared text is the same in all three and uses the head of all earlier pieces", () => {
    const blocks = defs.map((d) => stitchBlock(d.text)[0]);
    expect(new Set(blocks).size, defs.map((d) => `${d.object} (${d.file})`).join(", ")).toBe(1);
    expect(blocks[0]).toContain("max(watch_piece_head(tm.end_ms, tm.start_ms, tm.piece_no, tm.last_pos_ms)) OVER (PARTITION BY tm.user_id, tm.video_id ORDER BY tm.start_ts, tm.piece_no ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)");
    expect(blocks[0]).toContain("watch_piece_continues(o.head, o.start_ms, o.first_pos_ms, o.session_gap_ms, o.seek_tolerance_ms, o.max_rate_permille)");
  });

  it("the rule's two functions are defined once, in the file that introduced them, and each file's header says why", () => {
    for (const fn of ["watch_piece_head", "watch_piece_continues"]) {
      expect(migrations.filter((m) => m.sql.includes(`CREATE OR REPLACE FUNCTION ${fn}(`)).map((m) => m.file)).toEqual(["V007__stitch_overlapping_pieces.sql"]);
    }
    const v7 = migrations.find((m) => m.version === 7);
    expect(v7?.sql.split("\n")[0]).toMatch(/^-- V007 \(issue 21/);
    expect(v7?.sql).toMatch(/-- Relies on: V004/);
  });
});

describe("migration file ordering", () => {
  it("sorts by version, not by directory order", () => {
    expect(orderMigrations(["V002__b.sql", "V001__a.sql"]).map((m) => m.version)).toEqual([1, 2]);
  });
  it.each([
    [["V001__a.sql", "V003__c.sql"], /V003__c\.sql has version 3, expected 2/],
    [["V001__a.sql", "V001__b.sql"], /share version 1/],
    [["V002__b.sql"], /version 2, expected 1/],
  ])("rejects %j", (files, error) => {
    expect(() => orderMigrations(files)).toThrow(error);
  });
  it.each(["V1__a.sql", "v001__a.sql", "V001_a.sql", "V001__A.sql", "V001__a.SQL"])("rejects the file name %s", (f) => {
    expect(() => parseMigrationFile(f)).toThrow(/does not match .*\(expected e\.g\. V003__add_device\.sql\)/);
  });
});

describe("migration Job script", () => {
  const script = migrationJobScript({ files: ["V001__watch_segments.sql", "V002__report_views.sql"] });

  it("stops on the first SQL error and applies files in order from the mount", () => {
    expect(script).toContain("set -euo pipefail");
    expect(script).toContain("ON_ERROR_STOP=1");
    const a = script.indexOf("-f '/migrations/V001__watch_segments.sql'");
    const b = script.indexOf("-f '/migrations/V002__report_views.sql'");
    expect(a).toBeGreaterThan(0);
    expect(b).toBeGreaterThan(a);
  });

  it("uses ysqlsh and takes every connection setting from the libpq environment (no host baked in)", () => {
    expect(script).toContain("SQL=('ysqlsh' -X -q -v ON_ERROR_STOP=1)");
    expect(script).toMatch(/PGHOST:\?/);
    expect(script).not.toMatch(/\s-h\s|--host|yb-tserver|svc\.cluster/);
  });

  it("waits a bounded time for the database", () => {
    expect(script).toContain("deadline=$(( $(date +%s) + 300 ))");
    expect(() => migrationJobScript({ files: ["V001__a.sql"], waitForDbSec: 1 })).toThrow(/waitForDbSec must be an integer >= 5, got 1/);
  });

  it("refuses an empty or gapped file list", () => {
    expect(() => migrationJobScript({ files: [] })).toThrow(/files is empty/);
    expect(() => migrationJobScript({ files: ["V002__x.sql"] })).toThrow(/expected 1/);
  });

  it("requires the sink password env var and sets it as a psql variable inside the session, never as an argument", () => {
    expect(script).toContain(': "${WATCHPIPE_SINK_PASSWORD:?WATCHPIPE_SINK_PASSWORD must be set and non-empty');
    expect(script).toContain("APPLY=(\"${SQL[@]}\" -c '\\set sink_password `printenv WATCHPIPE_SINK_PASSWORD`')");
    expect(script).not.toMatch(/-v\s+sink_password|\$WATCHPIPE_SINK_PASSWORD|\$\{WATCHPIPE_SINK_PASSWORD\}/);
    expect(() => migrationJobScript({ files: ["V001__a.sql"], variables: { "bad-name": "X" } })).toThrow(/must be a lower-case psql variable/);
    expect(() => migrationJobScript({ files: ["V001__a.sql"], variables: { ok: "$(reboot)" } })).toThrow(/read from an upper-case env var/);
  });

  it("quotes paths for the shell", () => {
    expect(shellQuote("it's")).toBe(`'it'\\''s'`);
  });
});

describe("report queries", () => {
  it("resume positions: one user, optional video, bounded rows", () => {
    expect(resumePositionsQuery({ userId: "u1" })).toEqual({
      text: "SELECT video_id, resume_position_sec, last_watched_at FROM watch_resume_positions WHERE user_id = $1 ORDER BY last_watched_at DESC, video_id LIMIT $2",
      values: ["u1", 50],
    });
    expect(resumePositionsQuery({ userId: "u1", videoId: "v9", limit: 5 }).values).toEqual(["u1", "v9", 5]);
    expect(() => resumePositionsQuery({ userId: "" })).toThrow(/user id must be 1\.\.256 characters/);
    expect(() => resumePositionsQuery({ userId: "u", limit: 0 })).toThrow(/limit must be a positive integer, got 0/);
  });

  it("daily watch: inclusive UTC date range on day_utc (sargable against the day index), optional videos", () => {
    const q = dailyWatchQuery({ from: "2026-11-01", to: "2026-11-30", videoIds: ["a", "b"] });
    expect(q.text).toContain("FROM watch_daily_report($1::date, $2::date, $3::text[])");
    expect(q.values).toEqual(["2026-11-01", "2026-11-30", ["a", "b"]]);
    expect(dailyWatchQuery({ from: "2026-11-01", to: "2026-11-01" }).values).toHaveLength(2);
  });

  it.each([
    [{ from: "2026-11-02", to: "2026-11-01" }, /--from \(2026-11-02\) must not be after --to \(2026-11-01\)/],
    [{ from: "2026-02-30", to: "2026-03-01" }, /--from must be a UTC calendar date YYYY-MM-DD, got "2026-02-30"/],
    [{ from: "2025-01-01", to: "2026-12-31" }, new RegExp(`spans 730 days; at most ${MAX_REPORT_DAYS}`)],
  ])("daily watch rejects %j", (p, error) => {
    expect(() => dailyWatchQuery(p)).toThrow(error);
  });

  it("hourly reach: one video, hours of an inclusive UTC date range", () => {
    const q = hourlyReachQuery({ videoId: "v", from: "2026-11-20", to: "2026-11-21" });
    expect(q.text).toContain("FROM watch_hourly_report($1, $2::date, $3::date)");
    expect(q.values).toEqual(["v", "2026-11-20", "2026-11-21"]);
    expect(() => hourlyReachQuery({ videoId: "v", from: "2026-01-01", to: "2026-03-01" })).toThrow(/at most 744/);
  });

  it("parses dates strictly", () => {
    expect(parseUtcDate("--from", "2026-11-20").toISOString()).toBe("2026-11-20T00:00:00.000Z");
    expect(() => parseUtcDate("--to", "20-11-2026")).toThrow(/--to must be a UTC calendar date/);
  });
});
