/**
 * Schema Registry and ksqlDB servers from a build named by the environment (the launchers
 * KSQL_SERVER_START / SCHEMA_REGISTRY_START / KSQL_MIGRATIONS, as /work/engines/env.sh exports them), run with the
 * program's own server properties minus the client TLS/SCRAM keys the plaintext loopback cluster has no use for,
 * and the migrations applied by the migrations Job's own script. Shared by the engine-gated suites.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { closeSync, mkdirSync, openSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ksqldbProperties } from "../../../components/stream/ksqldbSpecs";
import { schemaRegistryProperties } from "../../../components/stream/schemaRegistrySpecs";
import { APPLY_SCRIPT, MIGRATIONS_BACKOFF_LIMIT, migrationsConfigMapData, MIGRATIONS_MOUNT_DIR } from "../../../components/stream/ksqlMigrationsSpecs";
import { DEFAULT_SESSIONIZATION_PARAMS } from "../../../contract/sessionization";
import { migrationDefines, migrationFiles } from "../../../ksql/migrations";
import { tailLog, waitUntil } from "../kafka/jvm";
import type { ProgramTopics } from "../kafka/programTopics";

export interface Launchers {
  readonly ksqlServerStart: string;
  readonly schemaRegistryStart: string;
  readonly ksqlMigrations: string;
}

/** The launchers named in the environment, or why the engine-gated suites skip. */
export function engineLaunchers(env: NodeJS.ProcessEnv = process.env): Launchers | string {
  const [k, s, m] = [env.KSQL_SERVER_START, env.SCHEMA_REGISTRY_START, env.KSQL_MIGRATIONS];
  if (!k || !s || !m) {
    const missing = [["KSQL_SERVER_START", k], ["SCHEMA_REGISTRY_START", s], ["KSQL_MIGRATIONS", m]].filter(([, v]) => !v).map(([n]) => n);
    return `set ${missing.join(", ")} to launchers of one ksqlDB/Schema Registry build (none in CI: no Confluent repository; where one is built, source its env.sh, e.g. /work/engines/env.sh)`;
  }
  return { ksqlServerStart: k, schemaRegistryStart: s, ksqlMigrations: m };
}

/** Client security keys of the production properties: the loopback cluster is plaintext. */
const CLIENT_SECURITY = /(^|\.)(security\.protocol|sasl\.[a-z.]+|ssl\.[a-z.]+)$/;

export function withoutClientSecurity(props: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(props).filter(([k]) => !CLIENT_SECURITY.test(k)));
}

export function propertiesFile(props: Record<string, string>): string {
  return Object.entries(props).map(([k, v]) => `${k}=${v}`).join("\n") + "\n";
}

/** A server process started from a launcher; its own process group, so a signal reaches the JVM it execs. */
export class ServerProcess {
  private child: ChildProcess | null = null;
  private exited: Promise<void> = Promise.resolve();

  constructor(
    readonly name: string,
    private readonly command: string,
    private readonly args: readonly string[],
    private readonly env: Readonly<Record<string, string>>,
    readonly logFile: string,
  ) {}

  get running(): boolean {
    return this.child !== null;
  }

  start(): void {
    if (this.child !== null) throw new Error(`${this.name} is already running (pid ${this.child.pid})`);
    const fd = openSync(this.logFile, "a");
    const child = spawn(this.command, [...this.args], { stdio: ["ignore", fd, fd], env: { ...process.env, ...this.env }, detached: true });
    closeSync(fd);
    this.child = child;
    this.exited = new Promise((resolve) => child.once("exit", () => {
      if (this.child === child) this.child = null;
      resolve();
    }));
  }

  /** Sends `signal` to the server's process group and waits until it exits; returns how long that took (ms). */
  async stop(signal: "SIGTERM" | "SIGKILL", timeoutMs = 180_000): Promise<number> {
    const child = this.child;
    if (child === null || child.pid === undefined) return 0;
    const started = Date.now();
    process.kill(-child.pid, signal);
    const timer = setTimeout(() => {
      if (child.pid !== undefined) process.kill(-child.pid, "SIGKILL");
    }, timeoutMs);
    await this.exited;
    clearTimeout(timer);
    return Date.now() - started;
  }
}

export interface SchemaRegistry {
  readonly url: string;
  readonly process: ServerProcess;
}

export async function startSchemaRegistry(l: Launchers, dir: string, bootstrap: string, port: number, env: Record<string, string> = {}): Promise<SchemaRegistry> {
  const props = join(dir, "schema-registry.properties");
  const url = `http://127.0.0.1:${port}`;
  writeFileSync(props, propertiesFile({
    ...withoutClientSecurity(schemaRegistryProperties("kafka")),
    listeners: url,
    "host.name": "127.0.0.1",
    "kafkastore.bootstrap.servers": bootstrap,
  }));
  const proc = new ServerProcess("schema-registry", l.schemaRegistryStart, [props], env, join(dir, "schema-registry.log"));
  proc.start();
  await waitUntil(`Schema Registry answers ${url}/subjects (log ${proc.logFile})`, 180_000, async () => (await fetch(`${url}/subjects`).catch(() => undefined))?.ok === true);
  return { url, process: proc };
}

export interface KsqlServerOptions {
  readonly name: string;
  readonly dir: string;
  readonly bootstrap: string;
  readonly schemaRegistryUrl: string;
  readonly port: number;
  /** Servers in the ksqlDB cluster (sets standby replicas as the StatefulSet's replicas do). */
  readonly replicas: number;
  readonly env?: Record<string, string>;
}

/** One ksqlDB server of the cluster (`ksql.service.id` from the program): its own port and state dir, kept across restarts. */
export class KsqlServer {
  readonly url: string;
  readonly process: ServerProcess;

  constructor(l: Launchers, o: KsqlServerOptions) {
    this.url = `http://127.0.0.1:${o.port}`;
    const props = join(o.dir, `${o.name}.properties`);
    writeFileSync(props, propertiesFile({
      ...withoutClientSecurity(ksqldbProperties({ namespace: "kafka", replicas: o.replicas, storageGiB: 1, storageClassName: "gp3", resources: { cpu: "1", memory: "2Gi" }, streamThreads: 1, schemaRegistryUrl: o.schemaRegistryUrl })),
      listeners: this.url,
      "ksql.advertised.listener": this.url,
      "bootstrap.servers": o.bootstrap,
      "ksql.streams.state.dir": join(o.dir, `${o.name}-state`),
    }));
    this.process = new ServerProcess(o.name, l.ksqlServerStart, [props], o.env ?? {}, join(o.dir, `${o.name}.log`));
  }

  async healthy(): Promise<boolean> {
    return (await fetch(`${this.url}/healthcheck`).catch(() => undefined))?.ok === true;
  }

  /** Starts the server and waits until /healthcheck answers; returns how long that took (ms). */
  async start(timeoutMs = 300_000): Promise<number> {
    const started = Date.now();
    this.process.start();
    await waitUntil(`${this.process.name} answers ${this.url}/healthcheck (log ${this.process.logFile})`, timeoutMs, async () => {
      if (!this.process.running) throw new Error(`${this.process.name} exited: ${tailLog(this.process.logFile).slice(-1500)}`);
      return this.healthy();
    });
    return Date.now() - started;
  }

  /** POST /ksql. */
  async statement(ksql: string): Promise<unknown> {
    const res = await fetch(`${this.url}/ksql`, {
      method: "POST",
      headers: { "content-type": "application/vnd.ksql.v1+json" },
      body: JSON.stringify({ ksql, streamsProperties: {} }),
    });
    const body: unknown = await res.json();
    if (!res.ok) throw new Error(`ksqlDB ${this.url} ${res.status}: ${JSON.stringify(body).slice(0, 2000)}`);
    return body;
  }

  /** `<query id> <state>` of every persistent query. */
  async queryStates(): Promise<string[]> {
    const body = (await this.statement("SHOW QUERIES;")) as { queries: { id: string; state: string }[] }[];
    return body[0]!.queries.map((q) => `${q.id} ${q.state}`);
  }
}

/**
 * The migrations exactly as the Job applies them: its ConfigMap (properties, apply script, the .sql files) laid out
 * as the pod mounts it, only the mount path moved into `dir`, and its script run with real ksql-migrations on PATH
 * (info, initialize-metadata, apply --all with the stack's --define values). Returns the script's output.
 */
export function applyMigrations(l: Launchers, dir: string, ksqlUrl: string, pipeline: ProgramTopics): string {
  const mount = join(dir, "ksql-migrations");
  mkdirSync(join(mount, "migrations"), { recursive: true });
  const data = migrationsConfigMapData({
    ksqldbUrl: ksqlUrl,
    files: migrationFiles(),
    defines: migrationDefines(DEFAULT_SESSIONIZATION_PARAMS, { heartbeatPartitions: pipeline.heartbeatPartitions, sinkTopics: pipeline.sinkTopics }),
  });
  for (const [name, text] of Object.entries(data)) {
    writeFileSync(join(mount, name.endsWith(".sql") ? `migrations/${name}` : name), text.split(MIGRATIONS_MOUNT_DIR).join(mount));
  }
  const bin = join(dir, "bin");
  mkdirSync(bin, { recursive: true });
  symlinkSync(l.ksqlMigrations, join(bin, "ksql-migrations"));
  // The Job retries its pod MIGRATIONS_BACKOFF_LIMIT times (every step is guarded, so a retry is safe); so does this.
  // Seen here at load average 60: "Could not write the statement ... into the command topic" on the first attempt.
  let out = "";
  for (let attempt = 0; attempt <= MIGRATIONS_BACKOFF_LIMIT; attempt++) {
    const applied = spawnSync("bash", [join(mount, APPLY_SCRIPT)], { env: { ...process.env, PATH: `${bin}:${process.env.PATH ?? ""}` }, encoding: "utf8", timeout: 600_000 });
    out += `--- attempt ${attempt + 1}\n${applied.stdout}\n${applied.stderr}`;
    writeFileSync(join(dir, "migrations.log"), out);
    if (applied.status === 0) return applied.stdout;
  }
  throw new Error(`the migrations Job's script failed ${MIGRATIONS_BACKOFF_LIMIT + 1} times: ${out.slice(-3000)}`);
}
