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
 * window's size, advance, RETENTION and GRACE PERIOD are literals in V000002, V000004 and V000006 (ksqlDB takes no
 * variables there), so a grace period other than the SQL's is refused here rather than silently ignored.
 */
export function migrationDefines(p: SessionizationParams, t: MigrationTopology): Record<string, string> {
  if (secToMs(p.gracePeriodSec) !== secToMs(SQL_GRACE_PERIOD_SEC)) {
    throw new Error(
      `sessionization.gracePeriodSec: expected ${SQL_GRACE_PERIOD_SEC} (the GRACE PERIOD literal in ksql/migrations/V000006), ` +
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

/** A statement in force after every migration ran: its text (no comments, no trailing `;`) and the file it is from. */
export interface EffectiveStatement {
  readonly file: string;
  readonly sql: string;
}

const SESSION_PROPERTY = /^(SET|UNSET)\s/i;
const DROP_SOURCE = /^DROP\s+(?:STREAM|TABLE)\s+(?:IF\s+EXISTS\s+)?(\w+)/i;
const CREATE_SOURCE = /^CREATE\s+(OR\s+REPLACE\s+)?(?:STREAM|TABLE)\s+(IF\s+NOT\s+EXISTS\s+)?(\w+)/i;

/** Statements of one migration file: comment lines removed, split at a `;` that ends a line. */
export function splitStatements(sql: string): string[] {
  const code = sql
    .split("\n")
    .filter((l) => !l.trim().startsWith("--"))
    .join("\n");
  return code
    .split(/;[ \t]*(?:\n|$)/)
    .map((st) => st.trim())
    .filter((st) => st.length > 0);
}

/**
 * The statements in force once every migration ran, in the order they must run on an empty engine: a DROP removes
 * the source it names (and is itself a no-op there), CREATE OR REPLACE takes the place of the statement it replaces,
 * CREATE IF NOT EXISTS of an existing name does nothing, and SET/UNSET only choose where a new query starts reading
 * on a live cluster. This is the topology the last migration leaves running — what ksql-test-runner must execute: it
 * cannot run the chain itself (it keeps building the queries a later DROP terminated, and does not take SET).
 * Throws on a statement it does not know, so a new kind of statement gets a decision here.
 */
export function effectiveStatements(files: readonly MigrationFile[]): EffectiveStatement[] {
  const live: (EffectiveStatement & { readonly name: string })[] = [];
  for (const f of files) {
    for (const sql of splitStatements(f.content)) {
      if (SESSION_PROPERTY.test(sql)) continue;
      const drop = DROP_SOURCE.exec(sql);
      if (drop !== null) {
        const at = live.findIndex((s) => s.name === drop[1].toLowerCase());
        if (at >= 0) live.splice(at, 1);
        else if (!/IF\s+EXISTS/i.test(sql)) throw new Error(`${f.name}: ${sql.split("\n")[0]}: drops ${drop[1]}, which no earlier migration created`);
        continue;
      }
      const create = CREATE_SOURCE.exec(sql);
      if (create === null) throw new Error(`${f.name}: statement not understood by effectiveStatements: ${sql.split("\n")[0]}`);
      const name = create[3].toLowerCase();
      const at = live.findIndex((s) => s.name === name);
      if (at < 0) live.push({ file: f.name, sql, name });
      else if (create[1] !== undefined) live[at] = { file: f.name, sql, name };
      else if (create[2] === undefined) throw new Error(`${f.name}: creates ${name} again without IF NOT EXISTS or OR REPLACE`);
    }
  }
  return live.map(({ file, sql }) => ({ file, sql }));
}

/**
 * The migrations in force with variables substituted, as one statements file (what ksql/tests run on ksqlDB's
 * ksql-test-runner): {@link effectiveStatements}, each preceded by the file it comes from.
 */
export function renderStatements(p: SessionizationParams, t: MigrationTopology, dir?: string): string {
  const defines = migrationDefines(p, t);
  return effectiveStatements(migrationFiles(dir))
    .map((st) => `-- ${st.file}\n${substitute(st.sql, defines)};\n`)
    .join("\n");
}
