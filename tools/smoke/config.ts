/**
 * `npm run smoke` settings from flags and the environment, by a pure function. Kafka, bridge and gateway settings are
 * the load generator's (same flags, same LOADGEN_* variables, validated by its parser); database settings are libpq's
 * variables (PGHOST, ...) or --pg-* flags; passwords come only from the environment or a file, never a flag.
 */
import { parseArgs } from "node:util";
import { RAW_HEARTBEATS_TOPIC } from "../../contract/topics";
import {
  DEFAULT_GRACE_PERIOD_SEC,
  DEFAULT_MAX_PLAYBACK_RATE,
  DEFAULT_SEEK_TOLERANCE_SEC,
  DEFAULT_SESSION_GAP_SEC,
  DEFAULT_TICK_INTERVAL_SEC,
  paramProblems,
  type SessionizationParams,
  worstCaseCloseDelaySec,
} from "../../contract/sessionization";
import { EXIT_CODES_HELP } from "../exitCodes";
import { DEFAULT_MAX_HEARTBEATS_PER_REQUEST } from "../../contract/ingestGateway";
import { CONNECTION_OPTIONS, ENV as LOADGEN_ENV, parseLoadgenArgs, type LoadgenConfig } from "../loadgen/config";
import { DEFAULT_DATABASE, DEFAULT_PORT, SSL_MODES, type Connection, type SslMode } from "../report";
import { HEARTBEATS_PER_VIEWER, runIdProblem, scenarioFitProblem } from "./scenario";
import { SMOKE_USER_PREFIX } from "../../contract/smokeIssuer";

/**
 * Added to the pipeline's worst-case close delay for the default --timeout-sec: the JDBC sink's poll, batch and
 * commit (about a second), YSQL write latency, and a Connect task restart after a transient error (~30 s).
 */
export const SINK_MARGIN_SEC = 60;
/** How often the table is queried while waiting: cheap point lookups on 4 user ids, often enough to finish promptly. */
export const DEFAULT_POLL_INTERVAL_SEC = 2;
/** A progress line every 5 s, like the load generator. */
export const DEFAULT_PROGRESS_INTERVAL_SEC = 5;
/** Identifies the smoke test's producer in broker logs and quotas. */
export const SMOKE_CLIENT_ID = "watchpipe-smoke";
/** Upper bound on the scenario's heartbeats (4 viewers); sent as one batch. */
const MAX_SCENARIO_HEARTBEATS = 4 * HEARTBEATS_PER_VIEWER;

export interface SmokeConfig {
  /** Null: the tool picks a random one. */
  readonly runId: string | null;
  readonly params: SessionizationParams;
  readonly tickIntervalSec: number;
  readonly timeoutSec: number;
  readonly pollIntervalSec: number;
  readonly progressIntervalSec: number;
  /** The load generator's sender settings (kafkajs lanes, the bridge or the ingest gateway). */
  readonly sender: LoadgenConfig;
  readonly db: Connection;
}

export const HELP = `Usage: npm run smoke -- [options]

Post-deploy end-to-end check. Sends a small scripted set of heartbeats (user ids smoke-<run id>-u1..u4: continuous
playback, a seek, a pause longer than the seek tolerance, two videos, interleaved users; event times ending now),
computes the watch segments they must become with the reference model (ksql/model.ts) and the stack's
sessionization parameters, and waits until exactly those rows are in watch_segments (YugabyteDB/PostgreSQL).
Prints progress while waiting and a field-by-field diff on failure.
${EXIT_CODES_HELP} Here: 0 all segments match; 1 mismatch or timeout (the diff and where to look
next are printed); 2 usage error, an unreachable database, Kafka, bridge or gateway, a token the gateway refuses
(401/403), or a run id already in the table.

Sending (the load generator's settings and environment)
  --mode kafka|bridge|gateway
                             kafka (default): kafkajs, acks=all, idempotent; bridge: HTTP POST to the Kafka Bridge;
                             gateway: HTTP POST to the ingest gateway as players do, each smoke user under its own token
  --bootstrap host:port,...  Kafka bootstrap servers                   (env ${LOADGEN_ENV.bootstrap})
  --tls                      TLS to the brokers (implied by --ca-file)
  --ca-file PATH             PEM CA bundle for the brokers              (env ${LOADGEN_ENV.caFile})
  --sasl-username NAME       SCRAM-SHA-512 user (env ${LOADGEN_ENV.saslUsername}); password only from env ${LOADGEN_ENV.saslPassword}
  --bridge-url URL           Kafka Bridge base URL; implies --mode bridge (env ${LOADGEN_ENV.bridgeUrl})
  --gateway-url URL          ingest gateway base URL (its Service, a port-forward, or the ALB); implies --mode gateway
                             (env ${LOADGEN_ENV.gatewayUrl}). Users smoke-<run id>-u1..u4 each POST their own heartbeats
                             under a token whose sub is their user_id (the gateway refuses any other user, 403),
                             minted from:
  --jwt-key FILE             PEM private key the gateway trusts (env ${LOADGEN_ENV.jwtKeyFile}): the stack's deploy smoke
                             issuer (P-256, ES256: pulumi stack output --show-secrets ingestSmokeKeyPem; it may write
                             ${SMOKE_USER_PREFIX}* users only), or a load-test identity provider's RSA key (RS256) whose public
                             half the players' JWKS (ingest.jwt.jwksUrl) lists. Otherwise every request is refused 401.
  --jwt-kid K                that key's kid (ingestSmokeKid)
  --jwt-issuer I             the smoke issuer (ingestSmokeIssuer), or ingest.jwt.issuer
  --jwt-audience A           the smoke audience (ingestSmokeAudience), or one of ingest.jwt.audience
  --max-per-request N        heartbeats per request, at most ingest.gateway.maxHeartbeatsPerRequest (default ${DEFAULT_MAX_HEARTBEATS_PER_REQUEST})
  --topic NAME               default ${RAW_HEARTBEATS_TOPIC} (kafka and bridge; the gateway always writes ${RAW_HEARTBEATS_TOPIC})
  --send-timeout-ms N, --retries N    as in npm run loadgen

Database (flag, else libpq environment)
  --pg-host HOST             PGHOST            required
  --pg-port PORT             PGPORT            default ${DEFAULT_PORT} (YSQL)
  --pg-database NAME         PGDATABASE        default ${DEFAULT_DATABASE}
  --pg-user NAME             PGUSER            required
  --pg-password-file FILE    PGPASSWORD        file holds only the password
  --pg-sslmode MODE          PGSSLMODE         ${SSL_MODES.join(" | ")}; default verify-full with a CA, else disable
  --pg-sslrootcert FILE      PGSSLROOTCERT     YugabyteDB's CA (needed by verify-ca / verify-full)

Sessionization (must equal the stack's watchpipe:sessionization config; defaults are contract/sessionization.ts's)
  --session-gap-sec N        default ${DEFAULT_SESSION_GAP_SEC}
  --grace-period-sec N       default ${DEFAULT_GRACE_PERIOD_SEC}
  --seek-tolerance-sec N     default ${DEFAULT_SEEK_TOLERANCE_SEC}
  --tick-interval-sec N      default ${DEFAULT_TICK_INTERVAL_SEC}

Waiting
  --timeout-sec N            default: worst-case close delay (contract/sessionization.ts) + ${SINK_MARGIN_SEC} s sink margin
                             (${Math.ceil(worstCaseCloseDelaySec({ sessionGapSec: DEFAULT_SESSION_GAP_SEC, gracePeriodSec: DEFAULT_GRACE_PERIOD_SEC, seekToleranceSec: DEFAULT_SEEK_TOLERANCE_SEC }) + SINK_MARGIN_SEC)} s with the defaults)
  --poll-interval-sec N      default ${DEFAULT_POLL_INTERVAL_SEC}
  --progress-interval-sec N  default ${DEFAULT_PROGRESS_INTERVAL_SEC}
  --run-id ID                default: random; ids become smoke-<ID>-u1 ... (rows stay in the table)
  --json                     print the result as one JSON object on stdout (the log goes to stderr), for CI
  -h, --help
`;

function num(option: string, raw: string | undefined, fallback: number, ok: (n: number) => boolean, expected: string): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (raw.trim() === "" || !Number.isFinite(n) || !ok(n)) throw new Error(`${option} must be ${expected}, got "${raw}". See --help.`);
  return n;
}

function required(option: string, value: string | undefined, env: string): string {
  if (value === undefined || value === "") throw new Error(`${option} is required (or set ${env}). See --help.`);
  return value;
}

/** Pure: database connection from --pg-* flags, else the libpq variables. */
export function parseDbConnection(values: Readonly<Partial<Record<`pg-${string}`, string>>>, env: Readonly<Record<string, string | undefined>>): Connection {
  const portText = values["pg-port"] ?? env.PGPORT ?? String(DEFAULT_PORT);
  const port = num("--pg-port/PGPORT", portText, DEFAULT_PORT, (n) => Number.isInteger(n) && n >= 1 && n <= 65535, "an integer 1..65535");
  const sslRootCert = values["pg-sslrootcert"] ?? env.PGSSLROOTCERT;
  const sslModeText = values["pg-sslmode"] ?? env.PGSSLMODE ?? (sslRootCert !== undefined ? "verify-full" : "disable");
  if (!(SSL_MODES as readonly string[]).includes(sslModeText)) {
    throw new Error(`--pg-sslmode/PGSSLMODE must be one of ${SSL_MODES.join(", ")}, got "${sslModeText}".`);
  }
  const sslMode = sslModeText as SslMode;
  if ((sslMode === "verify-ca" || sslMode === "verify-full") && sslRootCert === undefined) {
    throw new Error(`--pg-sslmode ${sslMode} needs YugabyteDB's CA: pass --pg-sslrootcert FILE or set PGSSLROOTCERT.`);
  }
  const passwordFile = values["pg-password-file"];
  return {
    host: required("--pg-host", values["pg-host"] ?? env.PGHOST, "PGHOST"),
    port,
    database: values["pg-database"] ?? env.PGDATABASE ?? DEFAULT_DATABASE,
    user: required("--pg-user", values["pg-user"] ?? env.PGUSER, "PGUSER"),
    password:
      passwordFile !== undefined ? { from: "file", path: passwordFile } : env.PGPASSWORD !== undefined ? { from: "env", value: env.PGPASSWORD } : null,
    sslMode,
    ...(sslRootCert === undefined ? {} : { sslRootCert }),
  };
}

export type SmokeParse = { readonly help: true } | { readonly help: false; readonly config: SmokeConfig };

/** Pure: argv (without node/script) + env -> config. Throws an Error naming the bad option (the tool exits 2). */
export function parseSmokeArgs(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): SmokeParse {
  const { values } = parseArgs({
    args: [...argv],
    strict: true,
    allowPositionals: false,
    options: {
      help: { type: "boolean", short: "h" },
      ...CONNECTION_OPTIONS,
      "pg-host": { type: "string" },
      "pg-port": { type: "string" },
      "pg-database": { type: "string" },
      "pg-user": { type: "string" },
      "pg-password-file": { type: "string" },
      "pg-sslmode": { type: "string" },
      "pg-sslrootcert": { type: "string" },
      "session-gap-sec": { type: "string" },
      "grace-period-sec": { type: "string" },
      "seek-tolerance-sec": { type: "string" },
      "tick-interval-sec": { type: "string" },
      "timeout-sec": { type: "string" },
      "poll-interval-sec": { type: "string" },
      "progress-interval-sec": { type: "string" },
      "run-id": { type: "string" },
    },
  });
  if (values.help === true) return { help: true };

  const runId = values["run-id"] ?? null;
  if (runId !== null) {
    const problem = runIdProblem(runId);
    if (problem !== null) throw new Error(problem);
  }
  const params: SessionizationParams = {
    sessionGapSec: num("--session-gap-sec", values["session-gap-sec"], DEFAULT_SESSION_GAP_SEC, (n) => n > 0, "seconds > 0"),
    gracePeriodSec: num("--grace-period-sec", values["grace-period-sec"], DEFAULT_GRACE_PERIOD_SEC, (n) => n >= 0, "seconds >= 0"),
    seekToleranceSec: num("--seek-tolerance-sec", values["seek-tolerance-sec"], DEFAULT_SEEK_TOLERANCE_SEC, (n) => n >= 0, "seconds >= 0"),
    maxPlaybackRate: DEFAULT_MAX_PLAYBACK_RATE,
  };
  const problems = paramProblems(params, "sessionization");
  if (problems.length > 0) throw new Error(problems.join("; "));
  const fit = scenarioFitProblem(params);
  if (fit !== null) throw new Error(fit);
  const tickIntervalSec = num("--tick-interval-sec", values["tick-interval-sec"], DEFAULT_TICK_INTERVAL_SEC, (n) => n > 0, "seconds > 0");
  const defaultTimeout = Math.ceil(worstCaseCloseDelaySec(params, tickIntervalSec) + SINK_MARGIN_SEC);

  // The sender: every connection flag goes through to the load generator's parser, which validates the Kafka, bridge
  // and gateway settings and the SCRAM pairing (one list of flags: CONNECTION_OPTIONS).
  const mode = values.mode ?? (values["gateway-url"] !== undefined ? "gateway" : values["bridge-url"] !== undefined ? "bridge" : "kafka");
  const pass = (flag: string, v: string | boolean | undefined): string[] => (v === undefined || v === false ? [] : v === true ? [`--${flag}`] : [`--${flag}`, v]);
  const connectionFlags = Object.keys(CONNECTION_OPTIONS) as (keyof typeof CONNECTION_OPTIONS)[];
  const loadgenArgv = [
    ...connectionFlags.flatMap((flag) => pass(flag, flag === "mode" ? mode : values[flag])),
    "--count", String(MAX_SCENARIO_HEARTBEATS),
    "--batch-size", String(MAX_SCENARIO_HEARTBEATS),
    "--producers", "1",
    "--client-id", SMOKE_CLIENT_ID,
  ];
  const sender = parseLoadgenArgs(loadgenArgv, env);
  if (sender.help) throw new Error("internal: the load generator parser returned help for smoke's arguments");

  return {
    help: false,
    config: {
      runId,
      params,
      tickIntervalSec,
      timeoutSec: num("--timeout-sec", values["timeout-sec"], defaultTimeout, (n) => n > 0, "seconds > 0"),
      pollIntervalSec: num("--poll-interval-sec", values["poll-interval-sec"], DEFAULT_POLL_INTERVAL_SEC, (n) => n > 0, "seconds > 0"),
      progressIntervalSec: num("--progress-interval-sec", values["progress-interval-sec"], DEFAULT_PROGRESS_INTERVAL_SEC, (n) => n > 0, "seconds > 0"),
      sender: sender.config,
      db: parseDbConnection(values, env),
    },
  };
}
