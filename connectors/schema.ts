/**
 * The watch_segments database schema as versioned SQL files, and the shell script the YugabyteDB migration Job
 * runs to apply them with the image's `ysqlsh` (psql-compatible).
 *
 * Files live in `connectors/schema/V<NNN>__<name>.sql`. Every file is idempotent, so the Job simply applies all of
 * them in order on every deploy; a schema change is always a new file, never an edit of a shipped one.
 * Files may use psql meta-commands and variables (V003: `\if`, `\gexec`, `:'sink_password'`): apply them with
 * psql/ysqlsh through {@link migrationJobScript}, not by sending the text through a driver.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

/**
 * The database the schema lives in: the helm installer creates it (`authCredentials.ysql.database`), the sink, the
 * schema Job and the backups use it, and the smoke and report tools default to it. One name for all of them.
 */
export const PIPELINE_DATABASE = "watchpipe";
/** Where the SQL files live in the repo. */
export const SCHEMA_DIR = join(__dirname, "schema");
/** `V001__watch_segments.sql`: three-digit version (sorts as text too), lower-case snake name. */
export const MIGRATION_FILE_PATTERN = /^V(\d{3})__([a-z0-9_]+)\.sql$/;
/** The YugabyteDB image ships `ysqlsh`, psql under another name; tests run the same script with `psql`. */
export const DEFAULT_SQL_CLIENT = "ysqlsh";
/** Where the Job mounts the ConfigMap holding the files. */
export const DEFAULT_MOUNT_DIR = "/migrations";
/**
 * How long the Job waits for YSQL to accept connections before failing: a fresh universe's tservers need a few
 * minutes to elect tablet leaders, and Kubernetes restarts a failed Job pod anyway.
 */
export const DEFAULT_WAIT_FOR_DB_SEC = 300;
/** Pause between connection probes. */
const WAIT_PROBE_INTERVAL_SEC = 5;

/** psql variable V003__sink_role.sql reads the sink role's password from (`PASSWORD :'sink_password'`). */
export const SINK_PASSWORD_VARIABLE = "sink_password";
/** Env var the schema Job fills from the sink password Secret (secretKeyRef) and the script reads it from. */
export const SINK_PASSWORD_ENV = "WATCHPIPE_SINK_PASSWORD";
/**
 * psql variables the shipped files need, each from an env var: `psqlVariable -> ENV_VAR`. The script refuses to
 * start when one is unset or empty, so a missing Secret fails the Job before any file is applied.
 */
export const SCHEMA_VARIABLES: Readonly<Record<string, string>> = { [SINK_PASSWORD_VARIABLE]: SINK_PASSWORD_ENV };
const PSQL_VARIABLE_RE = /^[a-z_][a-z0-9_]*$/;
const ENV_VAR_RE = /^[A-Z_][A-Z0-9_]*$/;

export interface MigrationName {
  readonly version: number;
  readonly name: string;
  readonly file: string;
}

export interface Migration extends MigrationName {
  readonly sql: string;
}

/** Parses `V001__watch_segments.sql`; throws naming the file and the expected pattern. */
export function parseMigrationFile(file: string): MigrationName {
  const m = MIGRATION_FILE_PATTERN.exec(file);
  if (m === null) {
    throw new Error(
      `schema file "${file}" does not match ${MIGRATION_FILE_PATTERN} (expected e.g. V003__add_device.sql); ` +
        "rename it or move it out of connectors/schema/.",
    );
  }
  return { version: Number(m[1]), name: m[2], file };
}

/**
 * Orders file names by version and checks the sequence is 1, 2, 3, … without gaps or duplicates: a gap usually
 * means a file was lost in a merge, and two files with one version would apply in an arbitrary order.
 */
export function orderMigrations(files: readonly string[]): MigrationName[] {
  const parsed = files.map(parseMigrationFile).sort((a, b) => a.version - b.version);
  parsed.forEach((m, i) => {
    const expected = i + 1;
    if (m.version !== expected) {
      const dup = parsed.filter((o) => o.version === m.version).map((o) => o.file);
      throw new Error(
        dup.length > 1
          ? `schema files ${dup.join(", ")} share version ${m.version}; give each a unique next version.`
          : `schema file ${m.file} has version ${m.version}, expected ${expected} (versions must run 1, 2, 3, … ` +
            "without gaps); renumber it or restore the missing file.",
      );
    }
  });
  return parsed;
}

/** Reads and orders every `V*.sql` file in `dir`. */
export function loadMigrations(dir: string = SCHEMA_DIR): Migration[] {
  const files = readdirSync(dir).filter((f) => f.endsWith(".sql"));
  if (files.length === 0) throw new Error(`no schema files (V001__*.sql) found in ${dir}`);
  return orderMigrations(files).map((m) => ({ ...m, sql: readFileSync(join(dir, m.file), "utf8") }));
}

/** ConfigMap `data`: file name -> SQL, the form the migration Job mounts at {@link DEFAULT_MOUNT_DIR}. */
export function migrationConfigMapData(migrations: readonly Migration[]): Record<string, string> {
  return Object.fromEntries(migrations.map((m) => [m.file, m.sql]));
}

export interface MigrationScriptOptions {
  /** The file names to apply, in order (from {@link loadMigrations}). */
  readonly files: readonly string[];
  /** Directory the files are mounted in. Default {@link DEFAULT_MOUNT_DIR}. */
  readonly mountDir?: string;
  /** psql-compatible client. Default {@link DEFAULT_SQL_CLIENT}. */
  readonly client?: string;
  /** Seconds to wait for the database before giving up. Default {@link DEFAULT_WAIT_FOR_DB_SEC}. */
  readonly waitForDbSec?: number;
  /** psql variable -> env var it is read from, set in the session of every file. Default {@link SCHEMA_VARIABLES}. */
  readonly variables?: Readonly<Record<string, string>>;
}

/** Single-quotes a string for POSIX sh. */
export function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * The bash script the migration Job runs. Connection settings come from the standard libpq environment the Job
 * sets (PGHOST, PGPORT, PGDATABASE, PGUSER, PGPASSWORD from a Secret, PGSSLMODE/PGSSLROOTCERT for TLS): no host is
 * baked in. It waits for the database, then applies every file in order with ON_ERROR_STOP so the first failing
 * statement fails the Job (and names the file), and finally prints the recorded versions.
 *
 * Variables (the sink password) reach psql through its own `\set NAME` with a backquoted `printenv ENV`, run inside
 * the session before each file: the value never appears on a command line (`ps` on the node would show it), in the
 * script, or in its output.
 * `printenv` rather than psql 15's `\getenv` so an older, psql-11-based ysqlsh runs the same script.
 */
export function migrationJobScript(opts: MigrationScriptOptions): string {
  if (opts.files.length === 0) throw new Error("migrationJobScript: files is empty; expected at least V001__*.sql");
  orderMigrations(opts.files); // same validation as the loader; throws on gaps/duplicates
  const dir = opts.mountDir ?? DEFAULT_MOUNT_DIR;
  const client = opts.client ?? DEFAULT_SQL_CLIENT;
  const waitSec = opts.waitForDbSec ?? DEFAULT_WAIT_FOR_DB_SEC;
  if (!Number.isInteger(waitSec) || waitSec < WAIT_PROBE_INTERVAL_SEC) {
    throw new Error(`waitForDbSec must be an integer >= ${WAIT_PROBE_INTERVAL_SEC}, got ${waitSec}`);
  }
  const variables = Object.entries(opts.variables ?? SCHEMA_VARIABLES);
  for (const [name, env] of variables) {
    if (!PSQL_VARIABLE_RE.test(name) || !ENV_VAR_RE.test(env)) {
      throw new Error(
        `migrationJobScript: variable ${JSON.stringify(name)} from env ${JSON.stringify(env)} must be a lower-case psql ` +
          `variable (${PSQL_VARIABLE_RE}) read from an upper-case env var (${ENV_VAR_RE}); rename it.`,
      );
    }
  }
  const q = shellQuote;
  const setVariables = variables.flatMap(([name, env]) => ["-c", q(`\\set ${name} \`printenv ${env}\``)]);
  const lines = [
    "#!/usr/bin/env bash",
    "# Applies the watch_segments schema. Generated by connectors/schema.ts; edit that, not this.",
    "set -euo pipefail",
    `: "\${PGHOST:?PGHOST must be set (the YSQL service host)}"`,
    `: "\${PGUSER:?PGUSER must be set}"`,
    `: "\${PGDATABASE:?PGDATABASE must be set}"`,
    ...variables.map(([name, env]) =>
      `: "\${${env}:?${env} must be set and non-empty (psql variable ${name}; the schema Job takes it from a Secret)}"`),
    `SQL=(${q(client)} -X -q -v ON_ERROR_STOP=1)`,
    // The variables are set inside the psql session of each file (see above), never passed as -v arguments.
    `APPLY=("\${SQL[@]}"${setVariables.map((a) => ` ${a}`).join("")})`,
    `deadline=$(( $(date +%s) + ${waitSec} ))`,
    `until "\${SQL[@]}" -c 'SELECT 1' >/dev/null 2>&1; do`,
    `  if [ "$(date +%s)" -ge "$deadline" ]; then`,
    `    echo "database $PGHOST:\${PGPORT:-5433}/$PGDATABASE not reachable as $PGUSER after ${waitSec}s; check the YSQL service, the password Secret and TLS settings" >&2`,
    "    \"${SQL[@]}\" -c 'SELECT 1' >&2 || true",
    "    exit 1",
    "  fi",
    `  echo "waiting for $PGHOST:\${PGPORT:-5433} ..."`,
    `  sleep ${WAIT_PROBE_INTERVAL_SEC}`,
    "done",
    ...opts.files.flatMap((f) => [
      `echo "applying ${f}"`,
      `"\${APPLY[@]}" -f ${q(`${dir}/${f}`)} || { echo "schema file ${f} failed; the statement above is the one to fix" >&2; exit 1; }`,
    ]),
    `"\${SQL[@]}" -At -c 'SELECT version, name FROM schema_migrations ORDER BY version'`,
    `echo "schema up to date (${opts.files.length} files)"`,
  ];
  return lines.join("\n") + "\n";
}
