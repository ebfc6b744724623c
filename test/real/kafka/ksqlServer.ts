/**
 * ksqlDB and Schema Registry builds (named by KSQL_SERVER_START, SCHEMA_REGISTRY_START, KSQL_MIGRATIONS; e.g.
 * `source /work/engines/env.sh` where they were built from source) started against the real test cluster with the
 * program's own server properties, minus the client TLS/SCRAM keys the plaintext loopback cluster has no use for.
 * The migrations are applied by the Job's own script with real ksql-migrations. For benchmarks and real-engine
 * suites; every process is killed when Node exits.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { closeSync, mkdirSync, openSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ksqldbProperties } from "../../../components/stream/ksqldbSpecs";
import { schemaRegistryProperties } from "../../../components/stream/schemaRegistrySpecs";
import { APPLY_SCRIPT, migrationsConfigMapData, MIGRATIONS_MOUNT_DIR } from "../../../components/stream/ksqlMigrationsSpecs";
import type { MigrationFile } from "../../../ksql/migrations";
import { KSQLDB_JMX_EXPORTER_RULES, KSQLDB_METRICS_CONFIG_KEY } from "../../../components/ops/ksqldbMetrics";
import { JMX_EXPORTER_AGENT, missingTools } from "../../monitoringTools";
import { LOOPBACK, tailLog, waitUntil } from "./jvm";

/** The three launchers of one ksqlDB/Schema Registry build, from the environment. */
export interface ConfluentLaunchers {
  readonly ksqlServerStart: string;
  readonly schemaRegistryStart: string;
  readonly ksqlMigrations: string;
}

/** The launchers, or why they cannot be used (what to set). */
export function confluentLaunchers(env: NodeJS.ProcessEnv = process.env): ConfluentLaunchers | string {
  const k = env.KSQL_SERVER_START;
  const s = env.SCHEMA_REGISTRY_START;
  const m = env.KSQL_MIGRATIONS;
  if (!k || !s || !m) {
    const unset = [["KSQL_SERVER_START", k], ["SCHEMA_REGISTRY_START", s], ["KSQL_MIGRATIONS", m]].filter(([, v]) => !v).map(([n]) => n);
    return `${unset.join(", ")} not set: name the launchers of one ksqlDB/Schema Registry 8.3.1 build (where one was built beside the checkout: source /work/engines/env.sh)`;
  }
  return { ksqlServerStart: k, schemaRegistryStart: s, ksqlMigrations: m };
}

/** Client security keys of the production properties: the loopback cluster is plaintext. */
const CLIENT_SECURITY = /(^|\.)(security\.protocol|sasl\.[a-z.]+|ssl\.[a-z.]+)$/;

export function withoutClientSecurity(props: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(props).filter(([k]) => !CLIENT_SECURITY.test(k)));
}

function propertiesFile(props: Record<string, string>): string {
  return Object.entries(props).map(([k, v]) => `${k}=${v}`).join("\n") + "\n";
}

/** Schema Registry answers within this on an idle machine in ~20 s; allow for a loaded one. */
const SR_READY_MS = 240_000;
/** ksqlDB replays its command topic before /healthcheck answers; minutes on a loaded machine. */
export const KSQL_READY_MS = 420_000;

/** A started server process whose pid is the JVM's (the launchers exec java). */
export interface ServerProcess {
  readonly child: ChildProcess;
  readonly log: string;
  readonly exited: Promise<string>;
  isRunning(): boolean;
}

const live = new Set<ChildProcess>();
let hooked = false;
function killOnExit(): void {
  if (hooked) return;
  hooked = true;
  process.on("exit", () => {
    for (const c of live) c.kill("SIGKILL");
  });
}

export function startServer(cmd: string, args: readonly string[], env: Record<string, string>, log: string): ServerProcess {
  killOnExit();
  const fd = openSync(log, "a");
  const child = spawn(cmd, [...args], { stdio: ["ignore", fd, fd], env: { ...process.env, ...env } });
  closeSync(fd);
  live.add(child);
  let running = true;
  const exited = new Promise<string>((resolve) => {
    child.once("exit", (code, signal) => {
      running = false;
      live.delete(child);
      resolve(signal ?? String(code));
    });
  });
  return { child, log, exited, isRunning: () => running };
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves with the ms until the process was gone and whether it was killed. */
export async function stopServer(p: ServerProcess, graceMs: number): Promise<{ ms: number; killed: boolean }> {
  if (!p.isRunning()) return { ms: 0, killed: false };
  const t0 = performance.now();
  let killed = false;
  p.child.kill("SIGTERM");
  const timer = setTimeout(() => {
    killed = true;
    p.child.kill("SIGKILL");
  }, graceMs);
  await p.exited;
  clearTimeout(timer);
  return { ms: performance.now() - t0, killed };
}

export async function startSchemaRegistry(l: ConfluentLaunchers, bootstrap: string, port: number, dir: string): Promise<{ url: string; proc: ServerProcess }> {
  const props = join(dir, "schema-registry.properties");
  writeFileSync(props, propertiesFile({
    ...withoutClientSecurity(schemaRegistryProperties("kafka")),
    listeners: `http://${LOOPBACK}:${port}`,
    "host.name": LOOPBACK,
    "kafkastore.bootstrap.servers": bootstrap,
  }));
  const proc = startServer(l.schemaRegistryStart, [props], { SCHEMA_REGISTRY_HEAP_OPTS: "-Xmx512m" }, join(dir, "schema-registry.log"));
  const url = `http://${LOOPBACK}:${port}`;
  await waitUntil(`Schema Registry answers ${url}/subjects (log ${proc.log})`, SR_READY_MS, async () => {
    if (!proc.isRunning()) throw new Error(`Schema Registry exited: ${tailLog(proc.log)}`);
    return (await fetch(`${url}/subjects`).catch(() => undefined))?.ok === true;
  }).catch(async (err: unknown) => {
    await stopServer(proc, 5_000);
    throw err;
  });
  return { url, proc };
}

export interface KsqlServerOptions {
  readonly bootstrap: string;
  readonly schemaRegistryUrl: string;
  readonly port: number;
  readonly dir: string;
  /** Kafka Streams threads per query. */
  readonly streamThreads: number;
  readonly heapMb: number;
  /** Extra JVM options (KSQL_OPTS), e.g. the JMX exporter agent. */
  readonly jvmOpts?: string;
  /** Properties over the program's (e.g. a service id per run). */
  readonly extra?: Record<string, string>;
}

/** The server's properties file (written once; a restart reuses it, state dir included). */
export function writeKsqlProperties(o: KsqlServerOptions): string {
  const url = `http://${LOOPBACK}:${o.port}`;
  const file = join(o.dir, "ksqldb.properties");
  writeFileSync(file, propertiesFile({
    ...withoutClientSecurity(ksqldbProperties({
      namespace: "kafka", replicas: 1, storageGiB: 1, storageClassName: "gp3", resources: { cpu: "1", memory: "2Gi" },
      streamThreads: o.streamThreads, schemaRegistryUrl: o.schemaRegistryUrl,
    })),
    listeners: url,
    "ksql.advertised.listener": url,
    "bootstrap.servers": o.bootstrap,
    "ksql.streams.state.dir": join(o.dir, "ksql-state"),
    ...o.extra,
  }));
  return file;
}

/** Starts ksqlDB on the properties file and waits until /healthcheck says healthy; returns the ms that took. */
export async function startKsql(l: ConfluentLaunchers, propsFile: string, o: KsqlServerOptions): Promise<{ proc: ServerProcess; readyMs: number; url: string }> {
  const url = `http://${LOOPBACK}:${o.port}`;
  const t0 = performance.now();
  const proc = startServer(l.ksqlServerStart, [propsFile], { KSQL_HEAP_OPTS: `-Xmx${o.heapMb}m -Xms${o.heapMb}m`, ...(o.jvmOpts ? { KSQL_OPTS: o.jvmOpts } : {}) }, join(o.dir, "ksqldb.log"));
  await waitUntil(`ksqlDB healthy at ${url}/healthcheck (log ${proc.log})`, KSQL_READY_MS, async () => {
    if (!proc.isRunning()) throw new Error(`ksqlDB exited: ${tailLog(proc.log)}`);
    const res = await fetch(`${url}/healthcheck`).catch(() => undefined);
    return res?.ok === true && (await res.text()).includes('"isHealthy":true');
  }).catch(async (err: unknown) => {
    await stopServer(proc, 5_000);
    throw err;
  });
  return { proc, readyMs: performance.now() - t0, url };
}

/** One statement (or several) through the REST API; throws with ksqlDB's answer when refused. */
export async function ksqlStatement(url: string, statement: string): Promise<unknown> {
  const res = await fetch(`${url}/ksql`, {
    method: "POST",
    headers: { "content-type": "application/vnd.ksql.v1+json" },
    body: JSON.stringify({ ksql: statement, streamsProperties: {} }),
  });
  const body: unknown = await res.json();
  if (!res.ok) throw new Error(`ksqlDB refused ${JSON.stringify(statement.slice(0, 200))} (${res.status}): ${JSON.stringify(body).slice(0, 2000)}`);
  return body;
}

/**
 * The migrations exactly as the Job applies them: its ConfigMap (properties, apply script, the .sql files) laid out
 * as the pod mounts it, only the mount path moved into `dir`, and its script run with real ksql-migrations on PATH.
 * Returns the script's output.
 */
export function applyMigrations(l: ConfluentLaunchers, url: string, files: readonly MigrationFile[], defines: Record<string, string>, dir: string): string {
  const mount = join(dir, "ksql-migrations");
  mkdirSync(join(mount, "migrations"), { recursive: true });
  const data = migrationsConfigMapData({ ksqldbUrl: url, files, defines });
  for (const [name, text] of Object.entries(data)) {
    writeFileSync(join(mount, name.endsWith(".sql") ? `migrations/${name}` : name), text.split(MIGRATIONS_MOUNT_DIR).join(mount));
  }
  const bin = join(dir, "bin");
  mkdirSync(bin, { recursive: true });
  symlinkSync(l.ksqlMigrations, join(bin, "ksql-migrations"));
  const applied = spawnSync("bash", [join(mount, APPLY_SCRIPT)], { env: { ...process.env, PATH: `${bin}:${process.env.PATH ?? ""}` }, encoding: "utf8", timeout: 900_000 });
  const out = `${applied.stdout}\n${applied.stderr}`;
  writeFileSync(join(dir, "migrations.log"), out);
  if (applied.status !== 0) throw new Error(`the migrations Job's script failed (exit ${String(applied.status)}): ${out.slice(-3000)}`);
  return out;
}

/** Why the JMX exporter agent cannot be attached, or undefined when it can. */
export function ksqlAgentMissing(): string | undefined {
  return missingTools([JMX_EXPORTER_AGENT]);
}

/**
 * KSQL_OPTS for the JMX exporter agent with the program's ksqlDB rules (written into `dir`), serving on
 * 127.0.0.1:`port`/metrics, the way the pods pass it.
 */
export function jmxAgentOption(dir: string, port: number): string {
  const rules = join(dir, KSQLDB_METRICS_CONFIG_KEY);
  writeFileSync(rules, KSQLDB_JMX_EXPORTER_RULES);
  return `-javaagent:${JMX_EXPORTER_AGENT}=${LOOPBACK}:${port}:${rules}`;
}
