/**
 * Applies the schema exactly as the YugabyteDB schema Job does: the generated script from connectors/schema.ts, with
 * the Debian `psql` standing in for `ysqlsh` (same CLI), the superuser's libpq environment, and the sink role's
 * password in the env var the Job fills from the sink Secret.
 */
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadMigrations, migrationJobScript, SCHEMA_DIR, SINK_PASSWORD_ENV } from "../../../connectors/schema";
import { Client } from "pg";
import { YSQL_SINK_USER } from "../../../components/sink/yugabyteSpecs";
import { findPgBin, type PgServer, startPostgres } from "./harness";

/** Tests wait briefly: the server is already up when the script runs. */
const TEST_WAIT_FOR_DB_SEC = 10;

export interface JobRun {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface JobEnv {
  /** The sink role's password (WATCHPIPE_SINK_PASSWORD); omit to run the script without it. */
  readonly sinkPassword?: string;
  /** Extra or overriding environment (e.g. an unreachable PGPORT). */
  readonly env?: Readonly<Record<string, string>>;
  readonly waitForDbSec?: number;
  /** Apply only the first N files (a database as an older release left it); default every file. */
  readonly upToVersion?: number;
}

/** A fresh 32-character alphanumeric sink password, like the RandomPassword the program generates. */
export function newSinkPassword(): string {
  return randomBytes(48).toString("base64").replace(/[^A-Za-z0-9]/g, "").slice(0, 32);
}

/** Runs the Job's script against `server` as its superuser and returns what the Job pod would log. */
export function runSchemaJob(server: PgServer, opts: JobEnv = {}): JobRun {
  const files = loadMigrations().filter((m) => opts.upToVersion === undefined || m.version <= opts.upToVersion).map((m) => m.file);
  const script = migrationJobScript({
    files, mountDir: SCHEMA_DIR, client: join(findPgBin(), "psql"), waitForDbSec: opts.waitForDbSec ?? TEST_WAIT_FOR_DB_SEC,
  });
  const dir = mkdtempSync(join(tmpdir(), "watchpipe-job-"));
  try {
    const path = join(dir, "migrate.sh");
    writeFileSync(path, script, { mode: 0o755 });
    const res = spawnSync("bash", [path], {
      encoding: "utf8",
      env: {
        PATH: process.env.PATH ?? "/usr/bin:/bin", PGHOST: server.host, PGPORT: String(server.port),
        PGUSER: server.user, PGPASSWORD: server.password, PGDATABASE: server.database,
        ...(opts.sinkPassword === undefined ? {} : { [SINK_PASSWORD_ENV]: opts.sinkPassword }),
        ...opts.env,
      },
    });
    return { status: res.status, stdout: res.stdout, stderr: res.stderr };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A PostgreSQL 15 with the schema applied twice (as every deploy does), a superuser client and the sink's client. */
export interface SchemaDatabase {
  readonly pg: PgServer;
  readonly db: Client;
  readonly sink: Client;
  readonly sinkPassword: string;
  stop(): Promise<void>;
}

/**
 * Starts it; each apply must exit 0 with no ERROR on stderr, else it stops the server and throws, naming the apply and
 * showing the Job's output. No vitest here: the benchmarks in tools/ import this module outside a test runner.
 */
export async function startSchemaDatabase(): Promise<SchemaDatabase> {
  const sinkPassword = newSinkPassword();
  const pg = await startPostgres();
  for (let i = 0; i < 2; i++) {
    const run = runSchemaJob(pg, { sinkPassword });
    if (run.status !== 0 || /ERROR/.test(run.stderr)) {
      pg.stop();
      throw new Error(`schema apply ${i + 1} of 2 failed (exit ${run.status}; the Job's output follows):\n${run.stdout}\n${run.stderr}`);
    }
  }
  const db = await pg.connect();
  const sink = new Client({ ...pg.clientConfig(), user: YSQL_SINK_USER, password: sinkPassword });
  await sink.connect();
  return {
    pg, db, sink, sinkPassword,
    async stop() {
      await sink.end();
      await db.end();
      pg.stop();
    },
  };
}
