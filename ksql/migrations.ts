/**
 * The sessionization migrations as data: the ksqlDB component mounts `migrationFiles()` as a ConfigMap and runs
 * `ksql-migrations apply --all` with `--define` for each of `migrationDefines(...)`.
 */
import { readdirSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { REPLICATION_FACTOR } from "../contract/durability";
import { type SessionizationParams, SQL_GRACE_PERIOD_SEC, maxRatePermille, secToMs } from "../contract/sessionization";

/** Where the migration files live (ksql-migrations' `migrations/` directory). */
export const MIGRATIONS_DIR = path.join(__dirname, "migrations");

/** ksql-migrations file names: V<6 digits>__<description>.sql. */
const MIGRATION_FILE = /^V(\d{6})__([A-Za-z0-9_]+)\.sql$/;

export interface MigrationFile {
  readonly name: string;
  readonly version: number;
  readonly content: string;
}

/** Every migration file in version order; throws on a stray or duplicate-version file. */
export function migrationFiles(dir: string = MIGRATIONS_DIR): MigrationFile[] {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith(".sql"))
    .map((name) => {
      const m = MIGRATION_FILE.exec(name);
      if (m === null) throw new Error(`${dir}/${name}: expected a ksql-migrations name like V000003__describe_change.sql`);
      return { name, version: Number(m[1]), content: readFileSync(path.join(dir, name), "utf8") };
    })
    .sort((a, b) => a.version - b.version);
  files.forEach((f, i) => {
    if (f.version !== i + 1) throw new Error(`${dir}: migration versions must be 1..${files.length} without gaps; ${f.name} is number ${i + 1}`);
  });
  return files;
}

/** Topology inputs the SQL needs besides the sessionization parameters. */
export interface MigrationTopology {
  /** Partitions of the `heartbeats` topic; heartbeat_sessions gets the same. */
  readonly heartbeatPartitions: number;
  /** Replicas of topics the SQL creates itself. */
  readonly replicas?: number;
}

/**
 * The `--define name=value` variables the migrations reference, as integers (ms; the rate in thousandths). The
 * window's size, RETENTION and GRACE PERIOD are literals in V000002 (ksqlDB takes no variables there), so a grace
 * period other than the SQL's is refused here rather than silently ignored.
 */
export function migrationDefines(p: SessionizationParams, t: MigrationTopology): Record<string, string> {
  if (secToMs(p.gracePeriodSec) !== secToMs(SQL_GRACE_PERIOD_SEC)) {
    throw new Error(
      `sessionization.gracePeriodSec: expected ${SQL_GRACE_PERIOD_SEC} (the GRACE PERIOD literal in ksql/migrations/V000002), ` +
        `got ${p.gracePeriodSec}; ksqlDB takes no variables in a WINDOW clause, so another grace needs a new migration`,
    );
  }
  return {
    sessionGapMs: String(secToMs(p.sessionGapSec)),
    seekToleranceMs: String(secToMs(p.seekToleranceSec)),
    maxRatePermille: String(maxRatePermille(p)),
    sessionsPartitions: String(t.heartbeatPartitions),
    replicas: String(t.replicas ?? REPLICATION_FACTOR),
  };
}

/** `--define` arguments for ksql-migrations apply. */
export function defineArgs(defines: Record<string, string>): string[] {
  return Object.entries(defines).flatMap(([k, v]) => ["--define", `${k}=${v}`]);
}

/**
 * ksqlDB variable substitution (`${name}`, case-insensitive) done here, for tools that cannot define variables
 * (ksql-test-runner). Throws when a reference has no value, like ksqlDB does.
 */
export function substitute(sql: string, defines: Record<string, string>): string {
  const lower = new Map(Object.entries(defines).map(([k, v]) => [k.toLowerCase(), v]));
  return sql.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, name: string) => {
    const v = lower.get(name.toLowerCase());
    if (v === undefined) throw new Error(`substitute: variable \${${name}} has no value; defined: ${[...lower.keys()].join(", ")}`);
    return v;
  });
}

/** All migrations with variables substituted, as one statements file (what ksql/tests run). */
export function renderStatements(p: SessionizationParams, t: MigrationTopology, dir?: string): string {
  const defines = migrationDefines(p, t);
  return migrationFiles(dir)
    .map((f) => `-- ${f.name}\n${substitute(f.content, defines)}`)
    .join("\n");
}
