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

/** Partitions and retention of a topic the program creates and a CREATE … AS SELECT writes into. */
export interface SinkTopicShape {
  readonly partitions: number;
  readonly retentionMs: number;
}

/**
 * The program-made topics the SQL writes into. ksqlDB refuses a CREATE … AS SELECT into an existing topic whose
 * partitions or retention differ from what it would choose (the source topic's, unless the WITH clause names them),
 * so every such statement names the KafkaTopic's own values.
 */
export interface SinkTopics {
  readonly heartbeats: SinkTopicShape;
  readonly rejected: SinkTopicShape;
  readonly segments: SinkTopicShape;
}

/** Topology inputs the SQL needs besides the sessionization parameters. */
export interface MigrationTopology {
  /** Partitions of the `heartbeats` topic; heartbeat_sessions gets the same. */
  readonly heartbeatPartitions: number;
  /** Replicas of topics the SQL creates itself. */
  readonly replicas?: number;
  /** Shapes of heartbeats, heartbeats_rejected and watch_segments as the stack's KafkaTopics declare them. */
  readonly sinkTopics: SinkTopics;
}

function requireShape(name: string, s: SinkTopicShape): void {
  if (!Number.isInteger(s.partitions) || s.partitions < 1 || !Number.isInteger(s.retentionMs) || s.retentionMs < 1) {
    throw new Error(`migration topology: topic ${name} needs whole partitions >= 1 and retentionMs >= 1, got ${JSON.stringify(s)}`);
  }
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
  for (const [name, shape] of Object.entries(t.sinkTopics)) requireShape(name, shape);
  return {
    sessionGapMs: String(secToMs(p.sessionGapSec)),
    seekToleranceMs: String(secToMs(p.seekToleranceSec)),
    maxRatePermille: String(maxRatePermille(p)),
    sessionsPartitions: String(t.heartbeatPartitions),
    replicas: String(t.replicas ?? REPLICATION_FACTOR),
    heartbeatsPartitions: String(t.sinkTopics.heartbeats.partitions),
    heartbeatsRetentionMs: String(t.sinkTopics.heartbeats.retentionMs),
    rejectedPartitions: String(t.sinkTopics.rejected.partitions),
    rejectedRetentionMs: String(t.sinkTopics.rejected.retentionMs),
    segmentsPartitions: String(t.sinkTopics.segments.partitions),
    segmentsRetentionMs: String(t.sinkTopics.segments.retentionMs),
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
