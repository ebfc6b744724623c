/**
 * A piece the database refuses never fails the sink (connectors/schema/V005) — on real PostgreSQL 15 with the schema
 * applied by the schema Job's own script, writing as the sink's role with the sink's own upsert statement.
 *
 * The walk: every NOT NULL column and every CHECK constraint pg_catalog lists for watch_pieces must have a case
 * below (a new rule fails the first test until it gets one). For each case the test first proves the row really
 * breaks that rule (inserted with the diverting trigger disabled, the server refuses it naming the rule), then
 * upserts it as the sink: no error, no row in watch_pieces, one row in watch_pieces_rejected naming the rule.
 * Then the rejects check CronJob's script (connectors/rejectsCheck.ts, psql for ysqlsh) as the sink role: fails
 * while refused pieces are unacknowledged, passes once an operator acknowledges them, and says when it cannot ask.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Client, DatabaseError } from "pg";
import { Client as PgClient } from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { WatchPiece } from "../../contract/topics";
import { YSQL_SINK_USER } from "../../components/sink/yugabyteSpecs";
import { fixturePieces } from "./pg/pieceFixtures";
import { PIECE_COLUMNS, PIECE_UPSERT_SQL } from "./pg/pieceUpsert";
import { ACKNOWLEDGE_SQL, REJECTS_CHECK_EXIT, rejectsCheckScript } from "../../connectors/rejectsCheck";
import { findPgBin, pgUnavailable, PgServer, startPostgres } from "./pg/harness";
import { newSinkPassword, runSchemaJob } from "./pg/schemaJob";

const unavailable = pgUnavailable();
const SINK_PASSWORD = newSinkPassword();
const GUARD = "watch_pieces_reject_guard";

/** A row as the sink binds it: every column it writes, any value (null included). */
type Row = Record<(typeof PIECE_COLUMNS)[number], unknown>;

/** How each rule is broken, starting from a valid piece. */
const BREAKS: Readonly<Record<string, (p: Row) => Row>> = {
  user_id_not_null: (p) => ({ ...p, user_id: null }),
  video_id_not_null: (p) => ({ ...p, video_id: null }),
  start_ts_not_null: (p) => ({ ...p, start_ts: null }),
  piece_no_not_null: (p) => ({ ...p, piece_no: null }),
  end_ts_not_null: (p) => ({ ...p, end_ts: null }),
  first_position_sec_not_null: (p) => ({ ...p, first_position_sec: null }),
  last_position_sec_not_null: (p) => ({ ...p, last_position_sec: null }),
  min_position_sec_not_null: (p) => ({ ...p, min_position_sec: null }),
  max_position_sec_not_null: (p) => ({ ...p, max_position_sec: null }),
  heartbeat_count_not_null: (p) => ({ ...p, heartbeat_count: null }),
  session_gap_ms_not_null: (p) => ({ ...p, session_gap_ms: null }),
  seek_tolerance_ms_not_null: (p) => ({ ...p, seek_tolerance_ms: null }),
  max_rate_permille_not_null: (p) => ({ ...p, max_rate_permille: null }),
  watch_pieces_user_id_chk: (p) => ({ ...p, user_id: "u".repeat(257) }),
  watch_pieces_video_id_chk: (p) => ({ ...p, video_id: "" }),
  watch_pieces_piece_no_chk: (p) => ({ ...p, piece_no: 0 }),
  watch_pieces_time_order_chk: (p) => ({ ...p, end_ts: new Date((p.start_ts as Date).getTime() - 1) }),
  watch_pieces_range_chk: (p) => ({ ...p, min_position_sec: -1 }),
  watch_pieces_heartbeat_count_chk: (p) => ({ ...p, heartbeat_count: 0 }),
  watch_pieces_rule_chk: (p) => ({ ...p, session_gap_ms: 0 }),
};
/** Further ways to break the range rule: every conjunct of watch_pieces_range_chk, and the float edge cases. */
const RANGE_BREAKS: ReadonlyArray<[string, (p: Row) => Row]> = [
  ["max_position_sec = Infinity", (p) => ({ ...p, max_position_sec: Infinity })],
  ["max_position_sec = NaN", (p) => ({ ...p, max_position_sec: NaN })],
  ["first below min", (p) => ({ ...p, first_position_sec: (p.min_position_sec as number) - 1 })],
  ["first above max", (p) => ({ ...p, first_position_sec: (p.max_position_sec as number) + 1 })],
  ["last below min", (p) => ({ ...p, last_position_sec: (p.min_position_sec as number) - 1 })],
  ["last above max", (p) => ({ ...p, last_position_sec: (p.max_position_sec as number) + 1 })],
];
/** Rules the sink cannot break: the column is not written by the sink and a trigger fills it. */
const STAMPED: Readonly<Record<string, string>> = {
  updated_at_not_null: "watch_pieces_upsert_guard stamps updated_at on every write (V004)",
};

const asRow = (p: WatchPiece): Row =>
  Object.fromEntries(PIECE_COLUMNS.map((c) => [c, c === "start_ts" || c === "end_ts" ? new Date(p[c]) : p[c]])) as Row;
const params = (r: Row): unknown[] => PIECE_COLUMNS.map((c) => r[c]);

describe.skipIf(unavailable !== null && process.env.CI !== "true")(`rows the database refuses are diverted, never fail the sink (real PostgreSQL 15)${unavailable === null ? "" : ` [${unavailable}]`}`, () => {
  let pg: PgServer;
  let db: Client;
  let sink: Client;
  let seq = 0;

  /** A valid piece with a user nobody else uses. */
  const fresh = (): Row => ({ ...asRow(fixturePieces(7, 1, 1)[0]!), user_id: `rejects-${++seq}` });
  const rejectedRows = async (): Promise<Array<{ violated_rule: string; times_seen: number; piece: Record<string, unknown> }>> =>
    (await db.query("SELECT violated_rule, times_seen, piece FROM watch_pieces_rejected ORDER BY first_seen_at, violated_rule")).rows;
  const piecesOf = async (user: unknown): Promise<number> =>
    (await db.query("SELECT count(*)::int AS n FROM watch_pieces WHERE user_id IS NOT DISTINCT FROM $1", [user])).rows[0].n;

  beforeAll(async () => {
    expect(unavailable, "CI must run PostgreSQL 15").toBeNull();
    pg = await startPostgres();
    const job = runSchemaJob(pg, { sinkPassword: SINK_PASSWORD });
    expect(job.status, `schema Job failed:\n${job.stdout}\n${job.stderr}`).toBe(0);
    db = await pg.connect();
    sink = new PgClient({ ...pg.clientConfig(), user: YSQL_SINK_USER, password: SINK_PASSWORD });
    await sink.connect();
  });

  afterAll(async () => {
    await sink?.end().catch(() => undefined);
    await db?.end().catch(() => undefined);
    pg?.stop();
  });

  it("every NOT NULL and CHECK rule pg_catalog lists for watch_pieces has a case here", async () => {
    const r = await db.query<{ rule: string }>(
      `SELECT a.attname || '_not_null' AS rule FROM pg_attribute a
        WHERE a.attrelid = 'watch_pieces'::regclass AND a.attnum > 0 AND NOT a.attisdropped AND a.attnotnull
       UNION ALL
       SELECT c.conname FROM pg_constraint c WHERE c.conrelid = 'watch_pieces'::regclass AND c.contype = 'c'
        ORDER BY 1`);
    expect(r.rows.map((x) => x.rule)).toEqual([...Object.keys(BREAKS), ...Object.keys(STAMPED)].sort());
    // Nothing else can refuse a row by itself: the only other constraint is the primary key (upserts resolve it),
    // and no other trigger raises (V004's guard returns NULL or the row).
    const others = await db.query("SELECT contype FROM pg_constraint WHERE conrelid = 'watch_pieces'::regclass AND contype <> 'c'");
    expect(others.rows.map((x: { contype: string }) => x.contype)).toEqual(["p"]);
    const triggers = await db.query("SELECT tgname FROM pg_trigger WHERE tgrelid = 'watch_pieces'::regclass AND NOT tgisinternal ORDER BY tgname");
    expect(triggers.rows.map((x: { tgname: string }) => x.tgname)).toEqual([GUARD, "watch_pieces_upsert_guard"]);
  });

  /** Proves `row` breaks `rule`: with the guard off, the server refuses it and names the rule. */
  async function expectRefusedWithoutGuard(row: Row, rule: string): Promise<void> {
    await db.query("BEGIN");
    try {
      await db.query(`ALTER TABLE watch_pieces DISABLE TRIGGER ${GUARD}`);
      const err = await db.query(PIECE_UPSERT_SQL, params(row)).then(() => null, (e: DatabaseError) => e);
      expect(err, `${rule}: the row must be refused without the guard`).not.toBeNull();
      const named = err!.code === "23502" ? `${err!.column}_not_null` : err!.constraint;
      expect({ code: err!.code, rule: named }).toEqual({ code: err!.code === "23502" ? "23502" : "23514", rule });
    } finally {
      await db.query("ROLLBACK");
    }
  }

  for (const [rule, breakIt] of Object.entries(BREAKS)) {
    it(`${rule}: refused by the table, diverted by the guard when the sink writes it`, async () => {
      const row = breakIt(fresh());
      await expectRefusedWithoutGuard(row, rule);
      const before = (await rejectedRows()).length;
      await sink.query(PIECE_UPSERT_SQL, params(row));
      expect(await piecesOf(row.user_id)).toBe(0);
      const rejected = await rejectedRows();
      expect(rejected.length).toBe(before + 1);
      expect(rejected.at(-1)).toMatchObject({ violated_rule: rule, times_seen: 1 });
    });
  }

  for (const [what, breakIt] of RANGE_BREAKS) {
    it(`watch_pieces_range_chk (${what}): refused by the table, diverted by the guard`, async () => {
      const row = breakIt(fresh());
      await expectRefusedWithoutGuard(row, "watch_pieces_range_chk");
      await sink.query(PIECE_UPSERT_SQL, params(row));
      expect(await piecesOf(row.user_id)).toBe(0);
      expect((await rejectedRows()).at(-1)?.violated_rule).toBe("watch_pieces_range_chk");
    });
  }

  it("updated_at_not_null cannot be broken through the sink: the upsert guard stamps it", async () => {
    const row = fresh();
    await sink.query(
      `INSERT INTO watch_pieces (${PIECE_COLUMNS.join(", ")}, updated_at) VALUES (${PIECE_COLUMNS.map((_, i) => `$${i + 1}`).join(", ")}, NULL)`,
      params(row));
    const r = await db.query("SELECT updated_at FROM watch_pieces WHERE user_id = $1", [row.user_id]);
    expect(r.rows).toHaveLength(1);
    expect(r.rows[0].updated_at).toBeInstanceOf(Date);
  });

  it("a refused row inside a batch: the transaction commits, the good rows before and after it land", async () => {
    const [a, bad, b] = [fresh(), BREAKS.watch_pieces_heartbeat_count_chk!(fresh()), fresh()];
    await sink.query("BEGIN");
    for (const r of [a, bad, b]) await sink.query(PIECE_UPSERT_SQL, params(r));
    await sink.query("COMMIT");
    expect([await piecesOf(a.user_id), await piecesOf(bad.user_id), await piecesOf(b.user_id)]).toEqual([1, 0, 1]);
  });

  it("a replayed refused row is counted, not stored twice", async () => {
    const bad = BREAKS.watch_pieces_piece_no_chk!(fresh());
    for (let i = 0; i < 3; i++) await sink.query(PIECE_UPSERT_SQL, params(bad));
    const r = await db.query("SELECT times_seen FROM watch_pieces_rejected WHERE piece->>'user_id' = $1", [bad.user_id]);
    expect(r.rows).toEqual([{ times_seen: 3 }]);
  });

  it("an upsert that would turn a stored piece bad is diverted and the stored piece stays", async () => {
    const good = fresh();
    await sink.query(PIECE_UPSERT_SQL, params(good));
    await sink.query(PIECE_UPSERT_SQL, params({ ...good, heartbeat_count: 0 }));
    const r = await db.query("SELECT heartbeat_count FROM watch_pieces WHERE user_id = $1", [good.user_id]);
    expect(r.rows).toEqual([{ heartbeat_count: good.heartbeat_count }]);
    expect((await rejectedRows()).at(-1)).toMatchObject({ violated_rule: "watch_pieces_heartbeat_count_chk" });
  });

  it("the dead-letter row holds the piece as sent and an error naming the rule; the sink role cannot read or change it", async () => {
    const bad = BREAKS.watch_pieces_video_id_chk!(fresh());
    await sink.query(PIECE_UPSERT_SQL, params(bad));
    const r = await db.query("SELECT error, piece FROM watch_pieces_rejected WHERE piece->>'user_id' = $1", [bad.user_id]);
    expect(r.rows).toHaveLength(1);
    expect(r.rows[0].error).toMatch(/INSERT on watch_pieces refused by watch_pieces_video_id_chk/);
    expect(r.rows[0].piece).toMatchObject({ user_id: bad.user_id, video_id: "", piece_no: bad.piece_no, heartbeat_count: bad.heartbeat_count });
    for (const sql of ["SELECT * FROM watch_pieces_rejected", "DELETE FROM watch_pieces_rejected", "INSERT INTO watch_pieces_rejected (piece_digest, violated_rule, error, piece) VALUES ('x', 'x', 'x', '{}')"]) {
      await expect(sink.query(sql), sql).rejects.toThrow(/permission denied for table watch_pieces_rejected/);
    }
    await expect(sink.query(`DROP TRIGGER ${GUARD} ON watch_pieces`)).rejects.toThrow(/must be owner/);
  });

  it("re-applying the schema keeps the guard and the dead-letter rows", async () => {
    const n = (await rejectedRows()).length;
    const again = runSchemaJob(pg, { sinkPassword: SINK_PASSWORD });
    expect(again.status, `${again.stdout}\n${again.stderr}`).toBe(0);
    expect((await rejectedRows()).length).toBe(n);
    const bad = BREAKS.watch_pieces_rule_chk!(fresh());
    await sink.query(PIECE_UPSERT_SQL, params(bad));
    expect((await rejectedRows()).length).toBe(n + 1);
  });

  /** The CronJob's script, as its pod runs it: libpq env, the sink role's password. */
  function runCheck(password = SINK_PASSWORD): { status: number | null; stdout: string; stderr: string } {
    const dir = mkdtempSync(join(tmpdir(), "watchpipe-rejects-check-"));
    try {
      const path = join(dir, "check.sh");
      writeFileSync(path, rejectsCheckScript({ client: join(findPgBin(), "psql") }), { mode: 0o755 });
      const r = spawnSync("bash", [path], {
        encoding: "utf8",
        env: { PATH: process.env.PATH ?? "/usr/bin:/bin", PGHOST: pg.host, PGPORT: String(pg.port), PGDATABASE: pg.database, PGUSER: YSQL_SINK_USER, PGPASSWORD: password },
      });
      return { status: r.status, stdout: r.stdout, stderr: r.stderr };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  it("the rejects check fails while refused pieces wait, lists them per rule, and passes once they are acknowledged", async () => {
    const pending = runCheck();
    expect(pending.status, pending.stderr).toBe(REJECTS_CHECK_EXIT.pending);
    expect(pending.stdout).toMatch(/refused pieces that nobody has acknowledged/);
    expect(pending.stdout).toMatch(/^  watch_pieces_range_chk 7 /m); // the rule, and the 7 range breaks above
    await db.query(ACKNOWLEDGE_SQL);
    const clear = runCheck();
    expect({ status: clear.status, stdout: clear.stdout.trim() }).toEqual({ status: REJECTS_CHECK_EXIT.none, stdout: "rejects check: no refused pieces pending" });
    await sink.query(PIECE_UPSERT_SQL, params(BREAKS.watch_pieces_piece_no_chk!(fresh())));
    const again = runCheck();
    expect(again.status).toBe(REJECTS_CHECK_EXIT.pending);
    expect(again.stdout).toMatch(/^  watch_pieces_piece_no_chk 1 /m);
    expect(again.stdout).not.toMatch(/watch_pieces_range_chk/);
  });

  it("the rejects check exits 2 and says what to check when it cannot log in", () => {
    const r = runCheck("not-the-password");
    expect(r.status).toBe(REJECTS_CHECK_EXIT.unreachable);
    expect(r.stderr).toMatch(/could not read watch_pieces_rejects_pending\(\) .* as watchpipe_sink: .*password authentication failed/s);
    expect(r.stderr).toMatch(/check the YSQL service, the sink password Secret/);
  });
});
