/**
 * Starts the ingest gateway on loopback the way its pod runs it: Envoy (jwt_authn) in front of Apache Camel (route →
 * Kafka), both from .ci/install-ingest-gateway.sh's cache, configured by the pure builders in
 * contract/ingestGateway.ts. Used by test/real/ingestGateway.test.ts and tools/bench-ingest.ts. Every process it
 * starts is stopped by stop() (and killed when the Node process exits).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import type { Kafka } from "kafkajs";
import { RAW_HEARTBEATS_TOPIC } from "../../../contract/topics";
import type { HeartbeatLimits } from "../../../contract/ingestLimits";
import { stringify } from "yaml";
import {
  AUTH_SUB_RECORD_HEADER,
  CAMEL_LIVENESS_PATH,
  CAMEL_READINESS_PATH,
  CAMEL_VERSION,
  camelIngestProperties,
  camelIngestRoutes,
  ENVOY_VERSION,
  envoyGatewayConfig,
  type CamelPropertiesOptions,
  type JwksSource,
  type SmokeProviderOptions,
} from "../../../contract/ingestGateway";

export const INGEST_CACHE = process.env.WATCHPIPE_INGEST_DIR ?? join(homedir(), ".cache", "watchpipe", "ingest");
export const ENVOY_BIN = join(INGEST_CACHE, `envoy-${ENVOY_VERSION}`, "envoy", "_bin", "envoy");
export const CAMEL_LIB = join(INGEST_CACHE, `camel-${CAMEL_VERSION}`, "lib");
/** This helper's port range (ports 19600-19799 are this suite's, so parallel sessions do not collide). */
const PORT_RANGE: readonly [number, number] = [19600, 19799];
/** Camel boots in ~3 s on an idle machine; a loaded 2-core box has taken far longer for JVMs here. */
const START_TIMEOUT_MS = 120_000;

/** Why the gateway cannot run here, or undefined. */
export function missingGateway(): string | undefined {
  const missing = [ENVOY_BIN, join(CAMEL_LIB, `camel-main-${CAMEL_VERSION}.jar`)].filter((p) => !existsSync(p));
  return missing.length ? `missing ${missing.join(", ")}; run .ci/install-ingest-gateway.sh` : undefined;
}

async function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once("error", () => resolve(false));
    s.listen(port, "127.0.0.1", () => s.close(() => resolve(true)));
  });
}

/** `n` free ports from `range` (default this helper's), starting at a random offset. */
export async function gatewayPorts(n: number, range: readonly [number, number] = PORT_RANGE): Promise<number[]> {
  const [lo, hi] = range;
  const out: number[] = [];
  const start = lo + Math.floor(Math.random() * (hi - lo));
  for (let k = 0; k <= hi - lo && out.length < n; k++) {
    const p = lo + ((start - lo + k) % (hi - lo + 1));
    if (await portFree(p)) out.push(p);
  }
  if (out.length < n) throw new Error(`no ${n} free ports in ${lo}-${hi}: stop whatever holds them`);
  return out;
}

async function httpUp(url: string): Promise<boolean> {
  try {
    await fetch(url, { signal: AbortSignal.timeout(2000) });
    return true;
  } catch {
    return false;
  }
}

interface Proc {
  readonly child: ChildProcess;
  readonly log: string;
  readonly exited: Promise<void>;
}

const live = new Set<ChildProcess>();
process.once("exit", () => {
  for (const c of live) c.kill("SIGKILL");
});

function start(cmd: string, args: readonly string[], log: string, env?: Readonly<Record<string, string>>): Proc {
  const fd = openSync(log, "a");
  const child = spawn(cmd, [...args], { stdio: ["ignore", fd, fd], ...(env ? { env: { ...process.env, ...env } } : {}) });
  closeSync(fd);
  live.add(child);
  const exited = new Promise<void>((resolve) => child.once("exit", () => { live.delete(child); resolve(); }));
  return { child, log, exited };
}

async function stopProc(p: Proc, graceMs: number): Promise<void> {
  if (p.child.exitCode !== null || p.child.signalCode !== null) return;
  p.child.kill("SIGTERM");
  const t = setTimeout(() => p.child.kill("SIGKILL"), graceMs);
  await p.exited;
  clearTimeout(t);
}

const tail = (file: string) => (existsSync(file) ? readFileSync(file, "utf8").split("\n").slice(-30).join("\n") : "(no log)");

async function waitFor(what: string, p: Proc, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (p.child.exitCode !== null) throw new Error(`${what} exited with ${p.child.exitCode} before it was ready; its log:\n${tail(p.log)}`);
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${what} not ready after ${START_TIMEOUT_MS / 1000} s; its log:\n${tail(p.log)}`);
}

export interface GatewayOptions {
  readonly bootstrapServers: string;
  readonly issuer: string;
  readonly audiences: readonly string[];
  readonly jwks: JwksSource;
  readonly subjectClaim?: string;
  readonly maxHeartbeats?: number;
  /** Heartbeat budgets (default the product's defaults); the benchmark lifts them out of its way. */
  readonly limits?: HeartbeatLimits;
  /** 1: take the client's address from X-Forwarded-For, as behind the ALB (default 0: the peer's). */
  readonly trustedProxyHops?: number;
  /** Envoy worker threads (default 1: the benchmark measures per core). */
  readonly envoyConcurrency?: number;
  readonly camelHeapMb?: number;
  /** Camel's Kafka client over TLS + SCRAM, as on the cluster (passed to camelIngestProperties unchanged). */
  readonly kafkaSecurity?: CamelPropertiesOptions["kafkaSecurity"];
  /** Extra environment for Camel (e.g. the variable `kafkaSecurity.jaasConfigEnv` names, as the pod's Secret sets it). */
  readonly camelEnv?: Readonly<Record<string, string>>;
  /**
   * Wait until Camel is ready, i.e. its Kafka producer reached a broker (default). False: wait for liveness only,
   * for a gateway that is meant to fail against Kafka (a wrong password).
   */
  readonly awaitKafkaReady?: boolean;
  /** The deploy smoke issuer beside the players' provider (Envoy's second provider, Camel's smoke-prefix scope). */
  readonly smoke?: SmokeProviderOptions;
  /** Ports to pick from (default 19600-19799), so parallel suites keep apart. */
  readonly portRange?: readonly [number, number];
}

export interface Gateway {
  /** Envoy's listener, what players call: `http://127.0.0.1:p`. */
  readonly url: string;
  /** Camel's own HTTP port (loopback; tests use it only to show it is not the way in). */
  readonly camelUrl: string;
  readonly envoyAdminUrl: string;
  readonly camelManagementUrl: string;
  readonly pids: { readonly envoy: number; readonly camel: number };
  /** Camel's stdout+stderr (slf4j-simple logs there); deleted by stop() unless WATCHPIPE_KEEP_INGEST_LOGS is set. */
  readonly camelLog: string;
  stop(): Promise<void>;
}

export async function startGateway(o: GatewayOptions): Promise<Gateway> {
  const why = missingGateway();
  if (why) throw new Error(`ingest gateway: ${why}`);
  const dir = mkdtempSync(join(tmpdir(), "watchpipe-ingest-"));
  const [listen, admin, camelHttp, camelMgmt] = await gatewayPorts(4, o.portRange) as [number, number, number, number];
  const routes = join(dir, "ingest-routes.yaml");
  writeFileSync(routes, stringify(camelIngestRoutes({
    ...(o.maxHeartbeats === undefined ? {} : { maxHeartbeats: o.maxHeartbeats }),
    ...(o.smoke === undefined ? {} : { smokeScope: { playersIssuer: o.issuer } }),
  })));
  const props = camelIngestProperties({
    routesFile: routes, bootstrapServers: o.bootstrapServers, httpPort: camelHttp, managementPort: camelMgmt,
    ...(o.kafkaSecurity === undefined ? {} : { kafkaSecurity: o.kafkaSecurity }),
  });
  writeFileSync(join(dir, "application.properties"), Object.entries(props).map(([k, v]) => `${k}=${v}`).join("\n") + "\n");
  const envoyConfig = join(dir, "envoy.yaml");
  writeFileSync(envoyConfig, stringify(envoyGatewayConfig({
    listenAddress: "127.0.0.1", listenPort: listen, adminAddress: "127.0.0.1", adminPort: admin, upstreamPort: camelHttp,
    issuer: o.issuer, audiences: o.audiences, jwks: o.jwks, ...(o.subjectClaim === undefined ? {} : { subjectClaim: o.subjectClaim }),
    ...(o.limits === undefined ? {} : { limits: o.limits }), ...(o.trustedProxyHops === undefined ? {} : { trustedProxyHops: o.trustedProxyHops }),
    ...(o.smoke === undefined ? {} : { smoke: o.smoke }),
  })));
  const heap = o.camelHeapMb ?? 256;
  const camel = start("java", [`-Xmx${heap}m`, `-Xms${Math.floor(heap / 2)}m`, "-XX:+UseG1GC", "-cp", `${CAMEL_LIB}/*:${dir}`, "org.apache.camel.main.Main"], join(dir, "camel.log"), o.camelEnv);
  const envoy = start(ENVOY_BIN, ["-c", envoyConfig, "--concurrency", String(o.envoyConcurrency ?? 1), "-l", "warning", "--base-id", String(listen)], join(dir, "envoy.log"));
  const gw: Gateway = {
    url: `http://127.0.0.1:${listen}`,
    camelUrl: `http://127.0.0.1:${camelHttp}`,
    envoyAdminUrl: `http://127.0.0.1:${admin}`,
    camelManagementUrl: `http://127.0.0.1:${camelMgmt}`,
    pids: { envoy: envoy.child.pid ?? -1, camel: camel.child.pid ?? -1 },
    camelLog: camel.log,
    async stop() {
      await Promise.all([stopProc(envoy, 5_000), stopProc(camel, 20_000)]);
      if (process.env.WATCHPIPE_KEEP_INGEST_LOGS) console.log(`ingest gateway logs kept in ${dir}`);
      else rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    await waitFor("Envoy", envoy, () => httpUp(`${gw.envoyAdminUrl}/ready`));
    const up = (path: string) => async () => {
      try {
        return (await fetch(`${gw.camelManagementUrl}${path}`, { signal: AbortSignal.timeout(2000) })).status === 200;
      } catch {
        return false;
      }
    };
    await waitFor("Camel (liveness)", camel, up(CAMEL_LIVENESS_PATH));
    if (o.awaitKafkaReady !== false) await waitFor("Camel (readiness: its Kafka producer reaches a broker)", camel, up(CAMEL_READINESS_PATH));
  } catch (err) {
    await gw.stop();
    throw err;
  }
  return gw;
}

/** Envoy's counters as a map (`/stats` text). */
export async function envoyStats(gw: Gateway): Promise<Map<string, number>> {
  const text = await (await fetch(`${gw.envoyAdminUrl}/stats`)).text();
  return new Map(text.split("\n").filter((l) => l.includes(": ")).map((l) => {
    const [k, v] = l.split(": ") as [string, string];
    return [k, Number(v)];
  }));
}

/** Camel's Prometheus text, reduced to `name{labels}` → value. */
export async function camelMetrics(gw: Gateway): Promise<Map<string, number>> {
  const text = await (await fetch(`${gw.camelManagementUrl}/observe/metrics`)).text();
  return new Map(text.split("\n").filter((l) => l && !l.startsWith("#")).map((l) => {
    const at = l.lastIndexOf(" ");
    return [l.slice(0, at), Number(l.slice(at + 1))];
  }));
}

/** A heartbeat as the gateway's suites post it (seq: the suite's own counter, carried in the value). */
export interface PostedHeartbeat { user_id: string; video_id: string; position_sec: number; event_ts: number; sent_at?: number; seq?: number }

/** One record of heartbeats_raw as the suites check it: where it landed, its key, value, verified subject and stamp. */
export interface RawRecord { partition: number; key: string; value: PostedHeartbeat; sub: string | undefined; timestamp: number }

/**
 * Every record on heartbeats_raw, read from the start by a fresh consumer group of `kafka` (plaintext or SASL_SSL, as
 * the caller built it) until `expected` are in or a minute passed.
 */
export async function readRawHeartbeats(kafka: Kafka, groupId: string, expected: number): Promise<RawRecord[]> {
  const consumer = kafka.consumer({ groupId });
  const out: RawRecord[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic: RAW_HEARTBEATS_TOPIC, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ partition, message }) => {
        out.push({
          partition,
          key: message.key?.toString() ?? "",
          value: JSON.parse(message.value?.toString() ?? "null") as PostedHeartbeat,
          sub: message.headers?.[AUTH_SUB_RECORD_HEADER]?.toString(),
          timestamp: Number(message.timestamp),
        });
      },
    });
    const deadline = Date.now() + 60_000;
    while (out.length < expected && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
  } finally {
    await consumer.disconnect();
  }
  return out;
}

/**
 * heartbeats_raw as the program creates it, for a suite's own cluster: RF 3, the given min ISR (2 in production; the
 * TLS suite's single secure broker may need 1 to accept writes), LogAppendTime so the broker stamps arrival time.
 */
export function rawHeartbeatsTopic(numPartitions: number, minInsyncReplicas = 2) {
  return {
    topic: RAW_HEARTBEATS_TOPIC,
    numPartitions,
    replicationFactor: 3,
    configEntries: [{ name: "min.insync.replicas", value: String(minInsyncReplicas) }, { name: "message.timestamp.type", value: "LogAppendTime" }],
  };
}
