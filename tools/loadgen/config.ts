/**
 * Load generator settings: parsed from flags and environment variables by a pure function, validated with errors
 * that say which option is wrong, what was expected and what to do. Secrets (the SASL password) come only from
 * the environment, never from flags, so they do not land in shell history or `ps`.
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { RAW_HEARTBEATS_TOPIC } from "../../contract/topics";
import { MAX_LATENESS_SEC } from "../../contract/sessionization";
import { DEFAULT_MAX_HEARTBEATS_PER_REQUEST, ENVOY_ROUTE_TIMEOUT_SEC } from "../../contract/ingestGateway";
import type { DeliveryOptions } from "./records";
import { ConnectionError, EXIT_CODES_HELP } from "../exitCodes";

/** Env vars the load generator reads (flags win over env). */
export const ENV = {
  bootstrap: "LOADGEN_BOOTSTRAP_SERVERS",
  bridgeUrl: "LOADGEN_BRIDGE_URL",
  gatewayUrl: "LOADGEN_GATEWAY_URL",
  jwtKeyFile: "LOADGEN_JWT_KEY_FILE",
  caFile: "LOADGEN_CA_FILE",
  saslUsername: "LOADGEN_SASL_USERNAME",
  saslPassword: "LOADGEN_SASL_PASSWORD",
} as const;

/** 10k viewers at one heartbeat per 5 s is 2k/s of natural traffic: a small but realistic audience. */
export const DEFAULT_VIEWERS = 10_000;
/** A catalogue large enough that viewers rarely share a video by accident. */
export const DEFAULT_VIDEOS = 2_000;
/** One minute is long enough to see steady-state rate and latency. */
export const DEFAULT_DURATION_SEC = 60;
/**
 * Records per send call. A lane owns whole partitions (one each, up to --producers lanes), so a batch becomes
 * one or a few large single-partition requests. kafkajs groups a request's records with an O(n^2) array copy
 * (producer/groupMessagesPerPartition.js), so much larger requests cost more CPU per record, not less; 1,000
 * (~150 KB) measured best here against 500 and 2,000.
 */
export const DEFAULT_BATCH_SIZE = 1_000;
/**
 * Lanes (producers, each with one send in flight): one per partition up to this many. 12 keeps ~12k records in
 * flight at batch 1,000, enough to stay CPU-bound rather than waiting on acks (~100 ms p50 here); on a topic
 * with more partitions each lane owns two or more.
 */
export const DEFAULT_PRODUCERS = 12;
/**
 * Worker threads, each running its own kafkajs client and lanes for a share of the partitions. kafkajs spends
 * ~15 us of CPU per record (encoding and its garbage), so one thread tops out near 60k records/s; 100k/s needs
 * two or more threads on a host with the cores for them. 1 = everything on the main thread.
 */
export const DEFAULT_WORKERS = 1;
/** Broker ack timeout for acks=all; a send that cannot reach min ISR fails after this rather than hanging. */
export const DEFAULT_SEND_TIMEOUT_MS = 10_000;
/**
 * kafkajs retries a failed produce this many times (its silent default is 5). With kafkajs's exponential
 * backoff capped at DEFAULT_MAX_RETRY_TIME_MS this rides out a leader failover (~5-15 s) without failing sends.
 */
export const DEFAULT_RETRIES = 10;
/** kafkajs's first backoff. */
export const DEFAULT_INITIAL_RETRY_TIME_MS = 200;
/** Cap on one kafkajs backoff step. */
export const DEFAULT_MAX_RETRY_TIME_MS = 3_000;
/** Progress line every 5 s: the heartbeat interval, and often enough to watch a failover. */
export const DEFAULT_PROGRESS_INTERVAL_SEC = 5;
/** Bridge mode: records per HTTP POST, like a player SDK batching a few seconds of events. */
export const DEFAULT_BRIDGE_BATCH_SIZE = 100;

export type Mode = "kafka" | "bridge" | "gateway";
/** Gateway mode's per-request timeout: past Envoy's route timeout, by which the gateway has answered 200 or 503. */
export const GATEWAY_SEND_TIMEOUT_MS = (ENVOY_ROUTE_TIMEOUT_SEC + 5) * 1000;
/** Kafka client library: librdkafka (the optional @confluentinc/kafka-javascript; falls back to kafkajs when absent) or kafkajs. */
export type KafkaClientName = "librdkafka" | "kafkajs";
export const KAFKA_CLIENTS: readonly KafkaClientName[] = ["librdkafka", "kafkajs"];
/** librdkafka encodes and batches in native threads: about twice kafkajs's rate per JavaScript thread (bench:produce). */
export const DEFAULT_CLIENT: KafkaClientName = "librdkafka";
export type Compression = "none" | "gzip";

export interface GatewayTarget {
  readonly url: string;
  /** Path of the PEM private key whose public half the gateway's JWKS publishes. */
  readonly jwtKeyFile: string;
  readonly jwtKid: string;
  readonly jwtIssuer: string;
  readonly jwtAudience: string;
  /** Heartbeats per request: the gateway's ingest.gateway.maxHeartbeatsPerRequest or less. */
  readonly maxPerRequest: number;
}

export interface LoadgenConfig {
  readonly mode: Mode;
  readonly client: KafkaClientName;
  readonly bootstrap: readonly string[];
  readonly bridgeUrl: string | null;
  /** Gateway mode: the ingest gateway's base URL and how to mint each player's token. */
  readonly gateway: GatewayTarget | null;
  readonly topic: string;
  readonly viewers: number;
  readonly videos: number;
  readonly seed: number;
  /** Records per second; 0 = as fast as the cluster acknowledges. */
  readonly rate: number;
  /** Stop after this many seconds (null = no time limit). */
  readonly durationSec: number | null;
  /** Stop after this many records (null = no count limit). */
  readonly count: number | null;
  readonly malformedShare: number;
  /** Simulated players' clock error and late delivery (tools/loadgen/records.ts DeliveryOptions). */
  readonly delivery: DeliveryOptions;
  readonly batchSize: number;
  readonly producers: number;
  readonly workers: number;
  readonly compression: Compression;
  readonly tls: boolean;
  readonly caFile: string | null;
  readonly saslUsername: string | null;
  readonly saslPassword: string | null;
  readonly sendTimeoutMs: number;
  readonly retries: number;
  readonly initialRetryTimeMs: number;
  readonly maxRetryTimeMs: number;
  readonly progressIntervalSec: number;
  readonly clientId: string;
}

export const HELP = `Usage: npm run loadgen -- [options]

Produces realistic video heartbeats (JSON with the player's sent_at, key = user_id|video_id) to Kafka with librdkafka or kafkajs (acks=all,
idempotent), or POSTs them to the Strimzi Kafka Bridge. Prints progress, rate and latency percentiles every few seconds and
acknowledged / failed counts on exit.
${EXIT_CODES_HELP} Here: 0 every record acknowledged, 1 a record failed, 2 usage error or Kafka / the bridge could
not be reached.

Target
  --mode kafka|bridge|gateway kafka (default): a Kafka producer; bridge: HTTP POST /topics/<topic>; gateway: HTTP POST
                             to the ingest gateway as players do (token per user)
  --client librdkafka|kafkajs
                             kafka mode's client (default ${DEFAULT_CLIENT}: @confluentinc/kafka-javascript, an
                             optional native package; without it the run says so and uses kafkajs)
  --bootstrap host:port,...  Kafka bootstrap servers        (env ${ENV.bootstrap})
  --bridge-url URL           Kafka Bridge base URL          (env ${ENV.bridgeUrl})
  --gateway-url URL          ingest gateway base URL (mode gateway; env ${ENV.gatewayUrl}): each player POSTs its own
                             heartbeats with its own RS256 token, minted from --jwt-key FILE (env ${ENV.jwtKeyFile}),
                             --jwt-kid, --jwt-issuer, --jwt-audience; --max-per-request N (default ${DEFAULT_MAX_HEARTBEATS_PER_REQUEST})
  --topic NAME               default ${RAW_HEARTBEATS_TOPIC}
Security (kafka mode)
  --tls                      TLS to the brokers (implied by --ca-file)
  --ca-file PATH             PEM CA bundle for the brokers' certificates (env ${ENV.caFile})
  --sasl-username NAME       SCRAM-SHA-512 user (env ${ENV.saslUsername}); password only from env ${ENV.saslPassword}
Load shape
  --viewers N                simulated viewers (default ${DEFAULT_VIEWERS})
  --videos N                 catalogue size (default ${DEFAULT_VIDEOS})
  --rate N                   records/s; 0 = max rate (default 0)
  --duration SEC             stop after SEC seconds (default ${DEFAULT_DURATION_SEC} unless --count is given)
  --count N                  stop after N records
  --malformed-share F        share (0..1) of deliberately malformed records (default 0)
  --skewed-share F           share (0..1) of viewers whose clock is off by --clock-skew-sec (default 0)
  --clock-skew-sec S         their clock error, seconds, may be negative (default 0): event_ts and sent_at carry it
  --late-share F             share (0..1) of viewers delivering every heartbeat --late-sec after playing it
                             (offline queue, retries; default 0)
  --late-sec S               how late, seconds >= 0 (default 0); over ${MAX_LATENESS_SEC} s the pipeline rejects them (late:)
  --seed N                   simulation seed (default 1)
Producer
  --batch-size N             records per send call (default ${DEFAULT_BATCH_SIZE}; bridge ${DEFAULT_BRIDGE_BATCH_SIZE})
  --producers N              producer lanes, each owning partitions and one send in flight; one per partition
                             up to N (default ${DEFAULT_PRODUCERS})
  --workers N                kafkajs: worker threads sharing the partitions, each with its own client (default
                             ${DEFAULT_WORKERS}); librdkafka needs none (it encodes in native threads) and uses one
  --compression none|gzip    (default none; kafkajs ships only gzip without extra codecs)
  --send-timeout-ms N        broker ack timeout per request (default ${DEFAULT_SEND_TIMEOUT_MS})
  --retries N                kafkajs retries per send (default ${DEFAULT_RETRIES}); for librdkafka they set the same
                             failure bound (its message timeout), within which it retries as needed
  --progress-interval SEC    (default ${DEFAULT_PROGRESS_INTERVAL_SEC})
  --client-id ID             (default watchpipe-loadgen)
  --json                     print the final summary as one JSON object on stdout (progress goes to stderr), for CI
  --help
`;

function num(name: string, raw: string | undefined, fallback: number, check: (n: number) => boolean, expected: string): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (raw.trim() === "" || !Number.isFinite(n) || !check(n)) {
    throw new Error(`--${name} must be ${expected}, got "${raw}". See --help.`);
  }
  return n;
}
const isInt = (min: number) => (n: number) => Number.isInteger(n) && n >= min;

/**
 * How to reach Kafka, the bridge or the ingest gateway (and, for the gateway, how to sign each player's token): the
 * flags every tool that sends heartbeats accepts (loadgen, smoke). The smoke passes each of them through to
 * {@link parseLoadgenArgs}, so a flag added here works in both.
 */
export const CONNECTION_OPTIONS = {
  mode: { type: "string" },
  bootstrap: { type: "string" },
  "bridge-url": { type: "string" },
  "gateway-url": { type: "string" },
  "jwt-key": { type: "string" },
  "jwt-kid": { type: "string" },
  "jwt-issuer": { type: "string" },
  "jwt-audience": { type: "string" },
  "max-per-request": { type: "string" },
  topic: { type: "string" },
  tls: { type: "boolean" },
  "ca-file": { type: "string" },
  "sasl-username": { type: "string" },
  "send-timeout-ms": { type: "string" },
  retries: { type: "string" },
} as const;

export type ParseResult = { readonly help: true } | { readonly help: false; readonly config: LoadgenConfig };

/** Pure: argv (without node/script) + env -> config. Throws with a message naming the bad option. */
export function parseLoadgenArgs(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): ParseResult {
  const { values } = parseArgs({
    args: [...argv],
    strict: true,
    allowPositionals: false,
    options: {
      help: { type: "boolean" },
      ...CONNECTION_OPTIONS,
      client: { type: "string" },
      viewers: { type: "string" },
      videos: { type: "string" },
      rate: { type: "string" },
      duration: { type: "string" },
      count: { type: "string" },
      "malformed-share": { type: "string" },
      "skewed-share": { type: "string" },
      "clock-skew-sec": { type: "string" },
      "late-share": { type: "string" },
      "late-sec": { type: "string" },
      seed: { type: "string" },
      "batch-size": { type: "string" },
      producers: { type: "string" },
      workers: { type: "string" },
      compression: { type: "string" },
      "progress-interval": { type: "string" },
      "client-id": { type: "string" },
    },
  });
  if (values.help === true) return { help: true };

  const mode = (values.mode ?? "kafka") as Mode;
  if (mode !== "kafka" && mode !== "bridge" && mode !== "gateway") throw new Error(`--mode must be "kafka", "bridge" or "gateway", got "${values.mode}".`);
  const client = (values.client ?? DEFAULT_CLIENT) as KafkaClientName;
  if (!KAFKA_CLIENTS.includes(client)) throw new Error(`--client must be "librdkafka" or "kafkajs", got "${values.client}".`);
  const bootstrapRaw = values.bootstrap ?? env[ENV.bootstrap] ?? "";
  const bootstrap = bootstrapRaw.split(",").map((s) => s.trim()).filter((s) => s.length > 0);
  for (const b of bootstrap) {
    if (!/^[^:\s]+:\d{1,5}$/.test(b)) throw new Error(`--bootstrap entries must be host:port, got "${b}".`);
  }
  const bridgeUrl = values["bridge-url"] ?? env[ENV.bridgeUrl] ?? null;
  if (mode === "kafka" && bootstrap.length === 0) {
    throw new Error(`kafka mode needs bootstrap servers: pass --bootstrap host:port,... or set ${ENV.bootstrap}.`);
  }
  if (mode === "bridge") {
    if (bridgeUrl === null) throw new Error(`bridge mode needs the bridge URL: pass --bridge-url or set ${ENV.bridgeUrl}.`);
    if (!/^https?:\/\/[^\s]+$/.test(bridgeUrl)) throw new Error(`--bridge-url must be an http(s) URL, got "${bridgeUrl}".`);
  }
  const gateway = mode === "gateway" ? gatewayTarget(values, env) : null;
  const saslUsername = values["sasl-username"] ?? env[ENV.saslUsername] ?? null;
  const saslPassword = env[ENV.saslPassword] ?? null;
  if ((saslUsername === null) !== (saslPassword === null)) {
    throw new Error(
      `SCRAM needs both a username and a password: got ${saslUsername === null ? "no" : "a"} username ` +
        `(--sasl-username / ${ENV.saslUsername}) and ${saslPassword === null ? "no" : "a"} password (${ENV.saslPassword}).`,
    );
  }
  const caFile = values["ca-file"] ?? env[ENV.caFile] ?? null;
  const compression = (values.compression ?? "none") as Compression;
  if (compression !== "none" && compression !== "gzip") {
    throw new Error(`--compression must be "none" or "gzip", got "${values.compression}" (other codecs need packages kafkajs does not ship).`);
  }
  const count = values.count === undefined ? null : num("count", values.count, 0, isInt(1), "an integer >= 1");
  const durationSec =
    values.duration === undefined
      ? count === null
        ? DEFAULT_DURATION_SEC
        : null
      : num("duration", values.duration, 0, (n) => n > 0, "a number of seconds > 0");

  const workers = num("workers", values.workers, DEFAULT_WORKERS, isInt(1), "an integer >= 1");
  if (workers > 1 && mode !== "kafka") throw new Error(`--workers ${workers} needs --mode kafka: bridge mode sends HTTP from one thread.`);

  const malformedShare = num("malformed-share", values["malformed-share"], 0, (n) => n >= 0 && n <= 1, "a share between 0 and 1");
  if (mode === "gateway" && malformedShare > 0) {
    throw new Error(`--malformed-share ${malformedShare} needs --mode kafka or bridge: the gateway refuses a malformed heartbeat's whole request before Kafka, so the SQL's rejects cannot be exercised through it.`);
  }
  const config: LoadgenConfig = {
    mode,
    client,
    bootstrap,
    bridgeUrl,
    gateway,
    topic: values.topic ?? RAW_HEARTBEATS_TOPIC,
    viewers: num("viewers", values.viewers, DEFAULT_VIEWERS, isInt(1), "an integer >= 1"),
    videos: num("videos", values.videos, DEFAULT_VIDEOS, isInt(1), "an integer >= 1"),
    seed: num("seed", values.seed, 1, isInt(0), "an integer >= 0"),
    rate: num("rate", values.rate, 0, (n) => n >= 0, "records/s >= 0 (0 = max)"),
    durationSec,
    count,
    malformedShare,
    delivery: {
      skewedShare: num("skewed-share", values["skewed-share"], 0, (n) => n >= 0 && n <= 1, "a share between 0 and 1"),
      clockSkewMs: Math.round(1000 * num("clock-skew-sec", values["clock-skew-sec"], 0, Number.isFinite, "a number of seconds")),
      lateShare: num("late-share", values["late-share"], 0, (n) => n >= 0 && n <= 1, "a share between 0 and 1"),
      lateMs: Math.round(1000 * num("late-sec", values["late-sec"], 0, (n) => n >= 0, "a number of seconds >= 0")),
    },
    batchSize: num(
      "batch-size",
      values["batch-size"],
      mode === "kafka" ? DEFAULT_BATCH_SIZE : DEFAULT_BRIDGE_BATCH_SIZE,
      isInt(1),
      "an integer >= 1",
    ),
    producers: num("producers", values.producers, DEFAULT_PRODUCERS, isInt(1), "an integer >= 1"),
    workers,
    compression,
    tls: values.tls === true || caFile !== null,
    caFile,
    saslUsername,
    saslPassword,
    // The gateway always answers within its route timeout (200 or 503); a client that gives up sooner cannot tell
    // whether its heartbeats were written, so gateway mode waits past it by default.
    sendTimeoutMs: num("send-timeout-ms", values["send-timeout-ms"], mode === "gateway" ? GATEWAY_SEND_TIMEOUT_MS : DEFAULT_SEND_TIMEOUT_MS, isInt(100), "an integer >= 100 (ms)"),
    retries: num("retries", values.retries, DEFAULT_RETRIES, isInt(0), "an integer >= 0"),
    initialRetryTimeMs: DEFAULT_INITIAL_RETRY_TIME_MS,
    maxRetryTimeMs: DEFAULT_MAX_RETRY_TIME_MS,
    progressIntervalSec: num("progress-interval", values["progress-interval"], DEFAULT_PROGRESS_INTERVAL_SEC, (n) => n > 0, "seconds > 0"),
    clientId: values["client-id"] ?? "watchpipe-loadgen",
  };
  return { help: false, config };
}

/** Gateway mode's flags, each required with a message naming it. */
function gatewayTarget(values: Readonly<Record<string, string | boolean | undefined>>, env: Readonly<Record<string, string | undefined>>): GatewayTarget {
  const str = (flag: string, envName?: string): string => {
    const v = values[flag] ?? (envName ? env[envName] : undefined);
    if (typeof v !== "string" || v.length === 0) throw new Error(`gateway mode needs --${flag}${envName ? ` (or ${envName})` : ""}: ${GATEWAY_FLAG_HELP[flag] ?? ""}`);
    return v;
  };
  const url = str("gateway-url", ENV.gatewayUrl);
  if (!/^https?:\/\/[^\s]+$/.test(url)) throw new Error(`--gateway-url must be an http(s) URL, got "${url}".`);
  return {
    url,
    jwtKeyFile: str("jwt-key", ENV.jwtKeyFile),
    jwtKid: str("jwt-kid"),
    jwtIssuer: str("jwt-issuer"),
    jwtAudience: str("jwt-audience"),
    maxPerRequest: num("max-per-request", values["max-per-request"] as string | undefined, DEFAULT_MAX_HEARTBEATS_PER_REQUEST, isInt(1), "an integer >= 1 (the gateway's ingest.gateway.maxHeartbeatsPerRequest or less)"),
  };
}

const GATEWAY_FLAG_HELP: Readonly<Record<string, string>> = {
  "gateway-url": "the ingest gateway's base URL (its Service, a port-forward, or the ALB).",
  "jwt-key": "the PEM private key of a load-test identity provider the gateway trusts (its JWKS lists the public half).",
  "jwt-kid": "the `kid` of that key in the JWKS.",
  "jwt-issuer": "the issuer the gateway expects (ingest.jwt.issuer).",
  "jwt-audience": "an audience the gateway accepts (ingest.jwt.audience).",
};

/**
 * The CA bundle named by --ca-file, read with an error that names the flag (and its env var) instead of a bare
 * `ENOENT … /nonexistent.pem`. Callers that read the file pass this as their reader.
 */
export function readCaFile(path: string, read: (p: string) => string = (p) => readFileSync(p, "utf8")): string {
  try {
    return read(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    throw new Error(
      `--ca-file ${path} (env ${ENV.caFile}): cannot read the CA bundle (${code}). Pass the PEM of the cluster CA, e.g. ` +
        "kubectl get secret <cluster>-cluster-ca-cert -o jsonpath='{.data.ca\\.crt}' | base64 -d > ca.pem",
    );
  }
}

/**
 * What to check when the brokers do not answer ("Broker not connected", "Connection timeout"): the bootstrap
 * address, the listener's port and whether it speaks TLS, and SCRAM. Appended to such errors.
 */
export function connectionHint(cfg: Pick<LoadgenConfig, "bootstrap" | "tls" | "saslUsername">): string {
  const tls = cfg.tls ? "TLS is on: the port must be a TLS listener (Strimzi: 9093) and --ca-file its CA" : "TLS is off: a TLS listener (Strimzi: 9093) never answers plaintext; add --tls/--ca-file, or use the plain listener (9092)";
  const sasl = cfg.saslUsername === null ? "no SCRAM user is set (a scram-sha-512 listener needs --sasl-username and LOADGEN_SASL_PASSWORD)" : `SCRAM as ${cfg.saslUsername}`;
  return `No answer from ${cfg.bootstrap.join(",")}: check the host and port are reachable from here (port-forward? NetworkPolicy?); ${tls}; ${sasl}.`;
}

/**
 * Runs the step that first talks to Kafka (metadata, producer connect); a failure comes back with what it was and
 * {@link connectionHint}, instead of a bare "Broker not connected".
 */
export async function withConnectionHint<T>(cfg: Pick<LoadgenConfig, "bootstrap" | "tls" | "saslUsername">, connect: () => Promise<T>): Promise<T> {
  try {
    return await connect();
  } catch (err) {
    throw new ConnectionError(cfg.bootstrap.join(","), `cannot reach Kafka at ${cfg.bootstrap.join(",")} (${err instanceof Error ? err.message : String(err)}). ${connectionHint(cfg)}`, { cause: err });
  }
}
