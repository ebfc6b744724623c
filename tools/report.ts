/**
 * Prints the watch-segment reports from YugabyteDB (YSQL) or PostgreSQL.
 *
 *   npm run report -- resume --user-id u-123 [--video v-9] [--limit 20]
 *   npm run report -- daily  --from 2026-11-01 --to 2026-11-30 [--video v-9 --video v-10]
 *   npm run report -- hourly --video v-9 --from 2026-11-20 --to 2026-11-21
 *
 * Connection from psql-style flags (--host, --port, --dbname, --username) or the libpq environment (PGHOST, PGPORT, PGDATABASE, PGUSER, PGPASSWORD, PGSSLMODE,
 * PGSSLROOTCERT). The password is read from PGPASSWORD or --password-file only, never from a flag (flags show in
 * `ps`). Run with --help for the full list.
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { Client, ClientConfig } from "pg";
import { dailyWatchQuery, hourlyReachQuery, ReportQuery, resumePositionsQuery } from "../connectors/reports";
import { PIPELINE_DATABASE } from "../connectors/schema";
import { EXIT_CHECK_FAILED, EXIT_CODES_HELP, EXIT_USAGE_OR_CONNECTION } from "./exitCodes";

/** YSQL's port: the tool is for YugabyteDB first (PostgreSQL users pass --port 5432 or PGPORT). */
export const DEFAULT_PORT = 5433;
/** The database every stack puts the schema in (connectors/schema.ts), not YSQL's built-in `yugabyte`. */
export const DEFAULT_DATABASE = PIPELINE_DATABASE;
/** Fail fast on a wrong host instead of hanging on a black-holed address. */
const CONNECT_TIMEOUT_MS = 10_000;
/** A report that runs longer than this is a missing index or a too-wide range; stop rather than load the cluster. */
const STATEMENT_TIMEOUT_MS = 120_000;

export const SSL_MODES = ["disable", "require", "verify-ca", "verify-full"] as const;
export type SslMode = (typeof SSL_MODES)[number];
export const FORMATS = ["table", "csv", "json"] as const;
export type Format = (typeof FORMATS)[number];
const COMMANDS = ["resume", "daily", "hourly"] as const;

export const HELP = `Usage: npm run report -- <report> [options]

Reports (all days and hours are UTC; a segment counts on the day/hour it starts):
  resume  --user-id ID [--video ID] [--limit N]  where each video resumes for a user (latest segment end)
  daily   --from YYYY-MM-DD --to YYYY-MM-DD      watch time, distinct viewers, segments per video per day
          [--video ID ...]                       (royalties; --from/--to inclusive)
  hourly  --video ID --from YYYY-MM-DD --to YYYY-MM-DD
                                                 segments and distinct viewers per hour (advertisers' reach)

Connection (flag, else environment):
  --host HOST            PGHOST            required
  --port PORT            PGPORT            default ${DEFAULT_PORT} (YSQL)
  --dbname NAME          PGDATABASE        default ${DEFAULT_DATABASE}
  --username NAME        PGUSER            required
  --password-file FILE   PGPASSWORD        file holds only the password
  --sslmode MODE         PGSSLMODE         ${SSL_MODES.join(" | ")}; default verify-full when a CA is given, else disable
  --sslrootcert FILE     PGSSLROOTCERT     CA bundle for YugabyteDB's TLS (needed by verify-ca / verify-full)

Output:
  --format FMT           ${FORMATS.join(" | ")} (default table)
  -h, --help             this text

${EXIT_CODES_HELP} A failed query exits 1; no connection exits 2.
`;

export interface Connection {
  readonly host: string;
  readonly port: number;
  readonly database: string;
  readonly user: string;
  /** Where the password comes from; the value itself is read at connect time. */
  readonly password: { readonly from: "env"; readonly value: string } | { readonly from: "file"; readonly path: string } | null;
  readonly sslMode: SslMode;
  readonly sslRootCert?: string;
}

export interface Invocation {
  readonly report: (typeof COMMANDS)[number];
  readonly query: ReportQuery;
  readonly connection: Connection;
  readonly format: Format;
}

export class UsageError extends Error {}

function oneOf<T extends string>(option: string, value: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(value)) {
    throw new UsageError(`${option} must be one of ${allowed.join(", ")}, got "${value}"`);
  }
  return value as T;
}

function required(option: string, value: string | undefined, env?: string): string {
  if (value === undefined || value === "") {
    throw new UsageError(`${option} is required${env === undefined ? "" : ` (or set ${env})`}`);
  }
  return value;
}

/** Parses argv (without node and script) and the environment; throws UsageError naming what is wrong. */
export function parseCli(argv: readonly string[], env: NodeJS.ProcessEnv): Invocation | "help" {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    strict: true,
    options: {
      help: { type: "boolean", short: "h" },
      host: { type: "string" }, port: { type: "string" }, dbname: { type: "string" }, username: { type: "string" },
      "user-id": { type: "string" },
      "password-file": { type: "string" }, sslmode: { type: "string" }, sslrootcert: { type: "string" },
      format: { type: "string" },
      from: { type: "string" }, to: { type: "string" }, video: { type: "string", multiple: true },
      limit: { type: "string" },
    },
  });
  if (values.help === true) return "help";
  if (positionals.length !== 1) {
    throw new UsageError(`expected exactly one report (${COMMANDS.join(", ")}), got ${positionals.length === 0 ? "none" : positionals.join(" ")}`);
  }
  const report = oneOf("report", positionals[0], COMMANDS);
  const videos = values.video ?? [];

  let query: ReportQuery;
  if (report === "resume") {
    if (videos.length > 1) throw new UsageError(`resume takes at most one --video, got ${videos.length}`);
    const limit = values.limit === undefined ? undefined : Number(values.limit);
    if (values.limit !== undefined && !Number.isInteger(limit)) throw new UsageError(`--limit must be a positive integer, got "${values.limit}"`);
    query = resumePositionsQuery({ userId: required("--user-id", values["user-id"]), videoId: videos[0], limit });
  } else if (report === "daily") {
    query = dailyWatchQuery({ from: required("--from", values.from), to: required("--to", values.to), videoIds: videos });
  } else {
    if (videos.length !== 1) throw new UsageError(`hourly takes exactly one --video, got ${videos.length}`);
    query = hourlyReachQuery({ videoId: videos[0], from: required("--from", values.from), to: required("--to", values.to) });
  }

  const portText = values.port ?? env.PGPORT ?? String(DEFAULT_PORT);
  const port = Number(portText);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new UsageError(`--port/PGPORT must be 1..65535, got "${portText}"`);
  const sslRootCert = values.sslrootcert ?? env.PGSSLROOTCERT;
  const sslModeText = values.sslmode ?? env.PGSSLMODE ?? (sslRootCert !== undefined ? "verify-full" : "disable");
  const sslMode = oneOf("--sslmode/PGSSLMODE", sslModeText, SSL_MODES);
  if ((sslMode === "verify-ca" || sslMode === "verify-full") && sslRootCert === undefined) {
    throw new UsageError(`--sslmode ${sslMode} needs the CA: pass --sslrootcert FILE or set PGSSLROOTCERT`);
  }
  const passwordFile = values["password-file"];
  const connection: Connection = {
    host: required("--host", values.host ?? env.PGHOST, "PGHOST"),
    port,
    database: values.dbname ?? env.PGDATABASE ?? DEFAULT_DATABASE,
    user: required("--username", values.username ?? env.PGUSER, "PGUSER"),
    password: passwordFile !== undefined ? { from: "file", path: passwordFile }
      : env.PGPASSWORD !== undefined ? { from: "env", value: env.PGPASSWORD } : null,
    sslMode,
    sslRootCert,
  };
  return { report, query, connection, format: oneOf("--format", values.format ?? "table", FORMATS) };
}

/** node-postgres config for a connection, reading the password and CA files. */
export function clientConfig(c: Connection, readFile: (p: string) => string = (p) => readFileSync(p, "utf8")): ClientConfig {
  const read = (what: string, path: string): string => {
    try {
      return readFile(path);
    } catch (err) {
      throw new UsageError(`cannot read ${what} ${path}: ${(err as Error).message}`);
    }
  };
  const password = c.password === null ? undefined : c.password.from === "env" ? c.password.value : read("--password-file", c.password.path).trim();
  const ca = c.sslRootCert === undefined ? undefined : read("--sslrootcert", c.sslRootCert);
  const ssl: ClientConfig["ssl"] =
    c.sslMode === "disable" ? false
      : c.sslMode === "require" ? { rejectUnauthorized: false, ca }
        // verify-ca: the chain must be valid, the host name need not match (pods reached by IP, port-forwards).
        : c.sslMode === "verify-ca" ? { rejectUnauthorized: true, ca, checkServerIdentity: () => undefined }
          : { rejectUnauthorized: true, ca };
  return {
    host: c.host, port: c.port, database: c.database, user: c.user, password, ssl,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS, statement_timeout: STATEMENT_TIMEOUT_MS,
    application_name: "watchpipe-report",
  };
}

type Row = Record<string, unknown>;

function cell(v: unknown): string {
  if (v === null || v === undefined) return "";
  if (v instanceof Date) return v.toISOString();
  if (typeof v === "number") return Number.isInteger(v) ? String(v) : v.toFixed(1);
  return String(v);
}

/** Renders rows as an aligned text table, CSV or JSON lines. Pure. */
export function render(rows: readonly Row[], columns: readonly string[], format: Format): string {
  if (format === "json") return rows.map((r) => JSON.stringify(r)).join("\n") + (rows.length > 0 ? "\n" : "");
  if (format === "csv") {
    const esc = (s: string): string => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
    return [columns.join(","), ...rows.map((r) => columns.map((c) => esc(cell(r[c]))).join(","))].join("\n") + "\n";
  }
  const cells = rows.map((r) => columns.map((c) => cell(r[c])));
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((r) => r[i].length)));
  const line = (xs: readonly string[]): string => xs.map((x, i) => x.padEnd(widths[i])).join("  ").trimEnd();
  return [line(columns), line(widths.map((w) => "-".repeat(w))), ...cells.map(line)].join("\n") + "\n";
}

async function main(): Promise<number> {
  let inv: Invocation | "help";
  try {
    inv = parseCli(process.argv.slice(2), process.env);
  } catch (err) {
    process.stderr.write(`report: ${(err as Error).message}\n\n${HELP}`);
    return EXIT_USAGE_OR_CONNECTION;
  }
  if (inv === "help") {
    process.stdout.write(HELP);
    return 0;
  }
  const c = inv.connection;
  const target = `${c.user}@${c.host}:${c.port}/${c.database} (sslmode=${c.sslMode})`;
  const client = new Client(clientConfig(c));
  try {
    await client.connect();
  } catch (err) {
    process.stderr.write(
      `report: cannot connect to ${target}: ${(err as Error).message}\n` +
        "Check --host/--port (YSQL listens on 5433), the password (PGPASSWORD or --password-file) and TLS " +
        "(--sslmode, --sslrootcert).\n",
    );
    return EXIT_USAGE_OR_CONNECTION;
  }
  try {
    const started = Date.now();
    const res = await client.query(inv.query.text, [...inv.query.values]);
    process.stdout.write(render(res.rows as Row[], res.fields.map((f) => f.name), inv.format));
    process.stderr.write(`${res.rowCount ?? res.rows.length} rows in ${Date.now() - started} ms from ${target}\n`);
    return 0;
  } catch (err) {
    const e = err as Error & { code?: string };
    const hint = e.code === "42P01" ? " (the report views are missing: apply connectors/schema with the migration Job)" : "";
    process.stderr.write(`report: ${inv.report} query failed on ${target}: ${e.message}${hint}\n`);
    return EXIT_CHECK_FAILED;
  } finally {
    await client.end();
  }
}

if (require.main === module) {
  main().then((code) => process.exit(code), (err: unknown) => {
    process.stderr.write(`report: ${String(err)}\n`);
    process.exit(1);
  });
}
