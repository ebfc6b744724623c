/**
 * Backup -> drop -> restore on real PostgreSQL 15 with the scripts the backup CronJob and the restore Job run
 * (connectors/backup.ts; pg_dump and psql stand in for the YugabyteDB image's ysql_dump and ysqlsh).
 *
 * S3 is the one part that cannot run here: `aws` on the scripts' PATH is a stand-in that copies to a local directory
 * and records its arguments (so the test still checks that every upload asks for SSE-KMS with the stack's key).
 *
 * Proves: the restored database has every table's rows and the report views return exactly what they returned before
 * the drop; the schema Job re-applied afterwards brings back the sink role's access; a damaged backup and a non-empty
 * target are refused with their own exit codes. Prints dump/restore time and bytes per row.
 */
import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client } from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closeDelayMs, maintenanceSql, type MaintenanceParams } from "../../connectors/maintenance";
import { DEFAULT_SESSIONIZATION_PARAMS } from "../../contract/sessionization";
import {
  BACKUP_SUFFIX, CHECKSUM_SUFFIX, RESTORE_EXIT, backupDumpScript, backupUploadScript, restoreDownloadScript, restoreLoadScript,
} from "../../connectors/backup";
import { YSQL_SINK_USER } from "../../components/sink/yugabyteSpecs";
import { fixturePieces } from "./pg/pieceFixtures";
import { PIECE_UPSERT_SQL, pieceParams } from "./pg/pieceUpsert";
import { findPgBin, pgUnavailable, PgServer, quoteIdent, startPostgres } from "./pg/harness";
import { newSinkPassword, runSchemaJob } from "./pg/schemaJob";

const unavailable = pgUnavailable();
const SINK_PASSWORD = newSinkPassword();
const S3_STAND_IN = "[S3 STAND-IN: a local directory, not S3]";
const BUCKET = "watchpipe-test-backups";
const PREFIX = "yugabyte/";
const KMS_KEY = "arn:aws:kms:us-east-1:123456789012:key/test";
/**
 * Bulk pieces on top of the realistic fixtures, so the figures are about rows, not fixed overhead: 32-hex user ids,
 * 20,000 videos, times and positions that vary row to row (repetitive rows would make gzip look far better than it is).
 */
const BULK_PIECES = 100_000;
/** V006's tables the maintenance job fills; their rows must survive a dump and restore like the pieces. */
const MATERIALIZED_TABLES = ["watch_segments_closed", "watch_viewers_daily", "watch_viewers_hourly", "watch_rollup_daily", "watch_rollup_hourly", "watch_maintenance_state", "watch_open_keys"];
/** Retention wide enough to keep the fixtures' November pieces. */
const MAINTENANCE_KEEP_ALL: MaintenanceParams = {
  closeDelayMs: closeDelayMs(DEFAULT_SESSIONIZATION_PARAMS), pieceRetentionDays: 1000, segmentRetentionDays: 1000, partitionsAheadDays: 2,
};

/** The `aws` stand-in: `aws s3 cp [--flags...] SRC DST`, s3://bucket/key <-> $FAKE_S3_ROOT/bucket/key. */
const FAKE_AWS = `#!/usr/bin/env bash
set -euo pipefail
echo "$*" >> "$FAKE_S3_ROOT/calls.log"
[ "$1 $2" = "s3 cp" ] || { echo "aws stand-in: only 's3 cp' is modelled, got: $*" >&2; exit 2; }
shift 2
args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --only-show-errors) shift ;;
    --sse|--sse-kms-key-id) shift 2 ;;
    *) args+=("$1"); shift ;;
  esac
done
map() { case "$1" in s3://*) echo "$FAKE_S3_ROOT/\${1#s3://}" ;; *) echo "$1" ;; esac; }
src="$(map "\${args[0]}")"; dst="$(map "\${args[1]}")"
[ -f "$src" ] || { echo "download failed: $src: Not Found (404)" >&2; exit 1; }
mkdir -p "$(dirname "$dst")"
cp "$src" "$dst"
`;

interface Run { status: number | null; stdout: string; stderr: string; ms: number }

describe.skipIf(unavailable !== null && process.env.CI !== "true")(`YugabyteDB backup and restore round trip on real PostgreSQL 15, ${S3_STAND_IN}${unavailable === null ? "" : ` [${unavailable}]`}`, () => {
  let pg: PgServer;
  let work: string;
  let binDir: string;
  const dirs = { backup: "", restore: "", s3: "" };
  let before: Snapshot;
  let dumpName = "";
  const figures: Record<string, number | string> = {};

  type Snapshot = Record<string, unknown>;

  function run(script: string, env: Record<string, string>): Run {
    const path = join(work, `script-${Date.now()}-${Math.random().toString(36).slice(2)}.sh`);
    writeFileSync(path, script, { mode: 0o755 });
    const t0 = Date.now();
    const r = spawnSync("bash", [path], {
      encoding: "utf8",
      env: {
        PATH: `${binDir}:${process.env.PATH ?? "/usr/bin:/bin"}`, PGHOST: pg.host, PGPORT: String(pg.port), PGUSER: pg.user,
        PGPASSWORD: pg.password, PGDATABASE: pg.database, RESTORE_MAINTENANCE_DB: "postgres", FAKE_S3_ROOT: dirs.s3, BACKUP_BUCKET: BUCKET, BACKUP_PREFIX: PREFIX,
        ...env,
      },
    });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr, ms: Date.now() - t0 };
  }
  const clients = () => ({ dump: join(findPgBin(), "pg_dump"), sql: join(findPgBin(), "psql") });

  /** Every table's row count and every report view's full result, in a stable order. */
  async function snapshot(): Promise<Snapshot> {
    const db = await pg.connect();
    try {
      const out: Snapshot = {};
      for (const t of ["schema_migrations", "watch_segments", "watch_pieces", "watch_pieces_rejected", ...MATERIALIZED_TABLES]) {
        out[`count:${t}`] = (await db.query(`SELECT count(*)::int AS n FROM ${t}`)).rows[0].n;
      }
      out.pieces = (await db.query("SELECT * FROM watch_pieces ORDER BY user_id, video_id, start_ts, piece_no")).rows;
      for (const v of ["watch_segments_v2", "watch_resume_positions", "video_daily_watch", "video_hourly_reach", ...MATERIALIZED_TABLES]) {
        out[v] = (await db.query(`SELECT * FROM ${v} ORDER BY 1, 2, 3`)).rows;
      }
      // Which day partition each piece and closed segment lives in: the restore must rebuild the partitioning.
      for (const t of ["watch_pieces", "watch_segments_closed"]) {
        out[`partitions:${t}`] = (await db.query(`SELECT tableoid::regclass::text AS part, count(*)::int AS n FROM ${t} GROUP BY 1 ORDER BY 1`)).rows;
      }
      out.rejected = (await db.query("SELECT piece_digest, violated_rule, piece, times_seen FROM watch_pieces_rejected ORDER BY 1")).rows;
      return out;
    } finally {
      await db.end();
    }
  }

  /** The disaster: the pipeline database is gone (`recreate`: an empty one stands in its place). */
  async function dropDatabase(recreate: boolean): Promise<void> {
    const admin = await pg.connect("postgres");
    try {
      await admin.query(`DROP DATABASE ${quoteIdent(pg.database)} WITH (FORCE)`);
      if (recreate) await admin.query(`CREATE DATABASE ${quoteIdent(pg.database)}`);
    } finally {
      await admin.end();
    }
  }

  beforeAll(async () => {
    expect(unavailable, "CI must run PostgreSQL 15").toBeNull();
    work = mkdtempSync(join(tmpdir(), "watchpipe-backup-"));
    binDir = join(work, "bin");
    for (const d of ["backup", "restore", "s3"] as const) mkdirSync((dirs[d] = join(work, d)));
    mkdirSync(binDir);
    writeFileSync(join(binDir, "aws"), FAKE_AWS);
    chmodSync(join(binDir, "aws"), 0o755);
    pg = await startPostgres();
    const job = runSchemaJob(pg, { sinkPassword: SINK_PASSWORD });
    expect(job.status, `schema Job failed:\n${job.stdout}\n${job.stderr}`).toBe(0);

    // What the sink writes: realistic pieces (through its role and upsert), a refused one, and bulk rows.
    const sink = new Client({ ...pg.clientConfig(), user: YSQL_SINK_USER, password: SINK_PASSWORD });
    await sink.connect();
    try {
      for (const p of fixturePieces(5, 12, 4)) await sink.query(PIECE_UPSERT_SQL, pieceParams(p));
      await sink.query(PIECE_UPSERT_SQL, pieceParams({ ...fixturePieces(6, 1, 1)[0]!, user_id: "refused", heartbeat_count: 0 }));
    } finally {
      await sink.end();
    }
    const db = await pg.connect();
    try {
      await db.query(
        `INSERT INTO watch_pieces (user_id, video_id, start_ts, piece_no, end_ts, first_position_sec, last_position_sec,
                                   min_position_sec, max_position_sec, heartbeat_count, session_gap_ms, seek_tolerance_ms, max_rate_permille)
         SELECT 'bulk-' || md5((i % 50000)::text), 'video-' || ((i * 7919) % 20000), t, 1,
                t + d * interval '1 s', p, p + d, p, p + d, 1 + d / 5, 60000, 10000, 2000
           FROM (SELECT i, timestamptz '2026-11-20 00:00Z' + i * interval '863 ms' AS t, 5 + (i * 131) % 1800 AS d,
                        (i * 17) % 5400 AS p
                   FROM generate_series(0, $1 - 1) AS i) AS g`, [BULK_PIECES]);
      // The maintenance job (V006) closes them: the closed table, viewer tables, rollups and its watermark are backed up too.
      const run = await db.query(maintenanceSql(MAINTENANCE_KEEP_ALL));
      expect(Number(run.rows[0].segments_closed)).toBeGreaterThan(1000);
    } finally {
      await db.end();
    }
    before = await snapshot();
  });

  afterAll(() => {
    if (Object.keys(figures).length > 0) console.log(`backup round trip on real PostgreSQL 15 ${S3_STAND_IN}:`, figures);
    pg?.stop();
    if (work !== undefined) rmSync(work, { recursive: true, force: true });
  });

  it("backs up: a gzip dump and its checksum, uploaded with SSE-KMS under the prefix, checksum last", () => {
    const dump = run(backupDumpScript(clients()), { BACKUP_DIR: dirs.backup });
    expect(dump.status, dump.stderr).toBe(0);
    const files = readdirSync(dirs.backup).sort();
    expect(files).toHaveLength(2);
    dumpName = files.find((f) => f.endsWith(BACKUP_SUFFIX))!;
    expect(files).toEqual([dumpName, `${dumpName}${CHECKSUM_SUFFIX}`]);
    const upload = run(backupUploadScript(), { BACKUP_DIR: dirs.backup, BACKUP_KMS_KEY_ARN: KMS_KEY });
    expect(upload.status, upload.stderr).toBe(0);
    const calls = readFileSync(join(dirs.s3, "calls.log"), "utf8").trim().split("\n");
    expect(calls).toEqual([dumpName, `${dumpName}${CHECKSUM_SUFFIX}`].map((f) =>
      `s3 cp --only-show-errors --sse aws:kms --sse-kms-key-id ${KMS_KEY} ${join(dirs.backup, f)} s3://${BUCKET}/${PREFIX}${f}`));
    const rows = (before["count:watch_pieces"] as number) + (before["count:watch_pieces_rejected"] as number);
    const bytes = statSync(join(dirs.backup, dumpName)).size;
    Object.assign(figures, { pieceRows: before["count:watch_pieces"] as number, dumpMs: dump.ms, dumpBytesGzip: bytes, gzipBytesPerRow: Number((bytes / rows).toFixed(1)) });
  });

  it("drop the database, restore: it is re-created and every table's rows are back, checked by the script itself", async () => {
    await dropDatabase(false);
    expect((await snapshot().catch((e: Error) => e.message))).toMatch(/database "[^"]+" does not exist/);
    const download = run(restoreDownloadScript(), { RESTORE_DIR: dirs.restore, RESTORE_OBJECT: dumpName });
    expect(download.status, download.stderr).toBe(0);
    const restore = run(restoreLoadScript(clients()), { RESTORE_DIR: dirs.restore, RESTORE_OBJECT: dumpName });
    expect(restore.status, `${restore.stdout}\n${restore.stderr}`).toBe(RESTORE_EXIT.ok);
    expect(restore.stdout).toContain(`restore: created database ${pg.database}`);
    // pg_dump writes a partitioned table's rows per partition; the script counts each one.
    const restored = [...restore.stdout.matchAll(/^ {2}watch_pieces_(?:p\d{8}|default): (\d+) rows$/gm)].reduce((n, m) => n + Number(m[1]), 0);
    expect(restored).toBe(before["count:watch_pieces"] as number);
    expect(restore.stdout).toContain("  watch_pieces_rejected: 1 rows");
    figures.restoreMs = restore.ms;
  });

  it("the report views return exactly what they returned before the drop", async () => {
    expect(await snapshot()).toEqual(before);
  });

  it("re-applying the schema Job after the restore gives the sink its access back, and the guards work", async () => {
    const job = runSchemaJob(pg, { sinkPassword: SINK_PASSWORD });
    expect(job.status, `${job.stdout}\n${job.stderr}`).toBe(0);
    const sink = new Client({ ...pg.clientConfig(), user: YSQL_SINK_USER, password: SINK_PASSWORD });
    await sink.connect();
    try {
      const p = { ...fixturePieces(8, 1, 1)[0]!, user_id: "after-restore" };
      await sink.query(PIECE_UPSERT_SQL, pieceParams(p));
      await sink.query(PIECE_UPSERT_SQL, pieceParams({ ...p, user_id: "after-restore-refused", piece_no: 0 }));
    } finally {
      await sink.end();
    }
    const after = await snapshot();
    expect(after["count:watch_pieces"]).toBe((before["count:watch_pieces"] as number) + 1);
    expect(after["count:watch_pieces_rejected"]).toBe(2);
  });

  it("refuses to restore over a database that has the pipeline's tables", () => {
    const r = run(restoreLoadScript(clients()), { RESTORE_DIR: dirs.restore, RESTORE_OBJECT: dumpName });
    expect(r.status).toBe(RESTORE_EXIT.notEmpty);
    expect(r.stderr).toMatch(/already has \d+ tables; restore only into an empty database/);
  });

  it("refuses a damaged backup before touching the database, and names a missing one", async () => {
    await dropDatabase(true);
    const damaged = join(dirs.restore, dumpName);
    const bytes = readFileSync(damaged);
    bytes[Math.floor(bytes.length / 2)] ^= 0xff;
    writeFileSync(damaged, bytes);
    const r = run(restoreLoadScript(clients()), { RESTORE_DIR: dirs.restore, RESTORE_OBJECT: dumpName });
    expect(r.status).toBe(RESTORE_EXIT.badChecksum);
    expect(r.stderr).toMatch(/does not match its checksum/);
    const db = await pg.connect();
    try {
      expect((await db.query("SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = 'public'")).rows[0].n).toBe(0);
    } finally {
      await db.end();
    }
    const missing = run(restoreDownloadScript(), { RESTORE_DIR: dirs.restore, RESTORE_OBJECT: "watchpipe-19990101T000000Z.sql.gz" });
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/cannot download s3:\/\/watchpipe-test-backups\/yugabyte\/watchpipe-19990101T000000Z\.sql\.gz; list the backups with/);
  });
});
