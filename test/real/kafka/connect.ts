/**
 * A real Kafka Connect distributed worker (Apache Kafka 4.3 jars) on 127.0.0.1, with the Debezium JDBC sink on
 * its plugin.path, for connector tests. Needs `npm run real:setup` and a running cluster (see cluster.ts).
 *
 *   const cluster = await startCluster();
 *   const connect = await startConnectWorker({ bootstrap: cluster.bootstrap });
 *   await connect.createConnector("segments-sink", { "connector.class": DEBEZIUM_JDBC_SINK_CLASS, ... });
 *   await connect.waitForConnectorRunning("segments-sink");
 *   await connect.stop(); await cluster.stop();
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import {
  CONSUMER_ISOLATION_LEVEL,
  PRODUCER_DURABILITY_CONFIG,
  REPLICATION_FACTOR,
} from "../../../contract/durability";
import { FatalWaitError, LOG4J2_CONSOLE_CONFIG, freePorts, renderProperties, startJvm, stopJvm, tailLog, waitUntil, type Jvm } from "./jvm";
import { CONNECT_PLUGINS_DIR, missingKafkaJars } from "./paths";

/** Connect + Debezium JDBC (Hibernate) needs more than a broker; still small next to 24 GiB. */
export const DEFAULT_CONNECT_HEAP_MB = 768;
/** JVM start, plugin scan (Debezium's plugin has ~50 jars), group join: 15-40 s here. */
export const DEFAULT_CONNECT_READY_TIMEOUT_MS = 120_000;
/** A connector's tasks usually start within seconds; a sink's first DB connection can take a few more. */
export const DEFAULT_CONNECTOR_RUNNING_TIMEOUT_MS = 60_000;
/** Lets the worker leave its group cleanly (so a next worker in the same test run does not wait for it). */
const CONNECT_GRACEFUL_STOP_MS = 20_000;
const CONNECT_MAIN_CLASS = "org.apache.kafka.connect.cli.ConnectDistributed";
/** Default group id; tests that run two workers at once pass their own. */
export const DEFAULT_CONNECT_GROUP_ID = "watchpipe-connect-test";

export interface ConnectWorkerOptions {
  /** Kafka bootstrap list, e.g. cluster.bootstrap. */
  readonly bootstrap: string;
  readonly groupId?: string;
  readonly heapMb?: number;
  readonly readyTimeoutMs?: number;
  /** Extra/overriding worker properties (converters, client overrides, ...). */
  readonly extraConfig?: Readonly<Record<string, string | number | boolean>>;
  /**
   * REST port (default: a free one). The worker id is `127.0.0.1:<port>`: a replacement worker started on a killed
   * worker's port rejoins as the same member, as a restarted Connect pod does, and gets its tasks back at once
   * instead of after scheduled.rebalance.max.delay.ms.
   */
  readonly restPort?: number;
  /** Extra JVM options (e.g. the JMX exporter -javaagent). */
  readonly extraJvmArgs?: readonly string[];
}

export type ConnectState = "RUNNING" | "PAUSED" | "FAILED" | "UNASSIGNED" | "RESTARTING" | "STOPPED";

/** GET /connectors/{name}/status */
export interface ConnectorStatus {
  readonly name: string;
  readonly connector: { readonly state: ConnectState; readonly worker_id: string; readonly trace?: string };
  readonly tasks: readonly { readonly id: number; readonly state: ConnectState; readonly worker_id: string; readonly trace?: string }[];
  readonly type?: string;
}

/** One entry of GET /connector-plugins */
export interface ConnectorPlugin {
  readonly class: string;
  readonly type: string;
  readonly version: string;
}

export interface ConnectWorker {
  /** e.g. http://127.0.0.1:41234 */
  readonly restUrl: string;
  readonly restPort: number;
  readonly logFile: string;
  listPlugins(): Promise<ConnectorPlugin[]>;
  /** Creates or updates (PUT /connectors/{name}/config) and returns the accepted config. */
  createConnector(name: string, config: Readonly<Record<string, string>>): Promise<Record<string, string>>;
  deleteConnector(name: string): Promise<void>;
  listConnectors(): Promise<string[]>;
  connectorStatus(name: string): Promise<ConnectorStatus>;
  /** POST /connectors/{name}/restart?includeTasks=true&onlyFailed=true: what Strimzi's autoRestart does. */
  restartFailed(name: string): Promise<void>;
  /** Waits until the connector and `minTasks` tasks are RUNNING; throws early, with the trace, if any FAILED. */
  waitForConnectorRunning(name: string, options?: { timeoutMs?: number; minTasks?: number }): Promise<ConnectorStatus>;
  /** Graceful stop, then deletes the worker's temp dir. Safe to call twice. */
  stop(): Promise<void>;
  /**
   * SIGKILL, as a crashed pod: no graceful leave, no offset commit. The group forgets it after its session timeout.
   * A new worker with the same group id takes over its connectors from the config topic.
   */
  kill(): Promise<void>;
}

/** Pure: the worker's properties. Internal topics RF 3 and durable producers, as the Strimzi KafkaConnect declares. */
export function connectWorkerProperties(args: {
  bootstrap: string;
  groupId: string;
  restPort: number;
  pluginPath: string;
}): Record<string, string | number | boolean> {
  const producer = Object.fromEntries(Object.entries(PRODUCER_DURABILITY_CONFIG).map(([k, v]) => [`producer.${k}`, v]));
  return {
    "bootstrap.servers": args.bootstrap,
    "group.id": args.groupId,
    "config.storage.topic": `${args.groupId}-configs`,
    "offset.storage.topic": `${args.groupId}-offsets`,
    "status.storage.topic": `${args.groupId}-status`,
    "config.storage.replication.factor": REPLICATION_FACTOR,
    "offset.storage.replication.factor": REPLICATION_FACTOR,
    "status.storage.replication.factor": REPLICATION_FACTOR,
    // Defaults are 25 / 5 partitions; 5 / 1 keep topic creation quick on a 2-core machine.
    "offset.storage.partitions": 5,
    "status.storage.partitions": 1,
    "key.converter": "org.apache.kafka.connect.json.JsonConverter",
    "value.converter": "org.apache.kafka.connect.json.JsonConverter",
    listeners: `http://127.0.0.1:${args.restPort}`,
    "rest.advertised.host.name": "127.0.0.1",
    "rest.advertised.port": args.restPort,
    "plugin.path": args.pluginPath,
    // Tests want committed offsets soon after records are written (default 60 s).
    "offset.flush.interval.ms": 1000,
    ...producer,
    // Sinks read topics written by ksqlDB with exactly_once_v2: skip aborted transactions.
    "consumer.isolation.level": CONSUMER_ISOLATION_LEVEL,
    // Let each connector set its own client overrides (e.g. a DLQ producer) like Strimzi's default does.
    "connector.client.config.override.policy": "All",
  };
}

async function rest<T>(baseUrl: string, method: string, p: string, body?: unknown): Promise<{ status: number; json: T | null; text: string }> {
  const res = await fetch(`${baseUrl}${p}`, {
    method,
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let json: T | null = null;
  try {
    json = text.length > 0 ? (JSON.parse(text) as T) : null;
  } catch {
    json = null;
  }
  return { status: res.status, json, text };
}

function expectStatus(what: string, got: number, expected: readonly number[], text: string): void {
  if (!expected.includes(got)) {
    throw new Error(`Connect REST ${what} returned HTTP ${got}, expected ${expected.join(" or ")}: ${text.slice(0, 2000)}`);
  }
}

export async function startConnectWorker(options: ConnectWorkerOptions): Promise<ConnectWorker> {
  const missing = missingKafkaJars();
  if (missing !== null) throw new Error(missing);
  const groupId = options.groupId ?? DEFAULT_CONNECT_GROUP_ID;
  const readyTimeoutMs = options.readyTimeoutMs ?? DEFAULT_CONNECT_READY_TIMEOUT_MS;
  const dir = mkdtempSync(path.join(os.tmpdir(), "watchpipe-connect-"));
  mkdirSync(dir, { recursive: true });
  const restPort = options.restPort ?? (await freePorts(1))[0];
  const restUrl = `http://127.0.0.1:${restPort!}`;
  const propsFile = path.join(dir, "connect-distributed.properties");
  const log4jConfig = path.join(dir, "log4j2.properties");
  const logFile = path.join(dir, "connect.log");
  writeFileSync(log4jConfig, LOG4J2_CONSOLE_CONFIG);
  writeFileSync(
    propsFile,
    renderProperties({
      ...connectWorkerProperties({ bootstrap: options.bootstrap, groupId, restPort: restPort!, pluginPath: CONNECT_PLUGINS_DIR }),
      ...options.extraConfig,
    }),
  );

  let jvm: Jvm | null = startJvm({
    mainClass: CONNECT_MAIN_CLASS,
    args: [propsFile],
    heapMb: options.heapMb ?? DEFAULT_CONNECT_HEAP_MB,
    logFile,
    log4jConfig,
    extraJvmArgs: options.extraJvmArgs ?? [],
  });
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    if (jvm !== null) await stopJvm(jvm, "graceful", CONNECT_GRACEFUL_STOP_MS);
    jvm = null;
    rmSync(dir, { recursive: true, force: true });
  };

  const kill = async (): Promise<void> => {
    if (jvm !== null) await stopJvm(jvm, "kill", 0);
  };

  const worker: ConnectWorker = {
    restUrl,
    restPort: restPort!,
    logFile,
    kill,
    async listPlugins() {
      const r = await rest<ConnectorPlugin[]>(restUrl, "GET", "/connector-plugins");
      expectStatus("GET /connector-plugins", r.status, [200], r.text);
      return r.json ?? [];
    },
    async createConnector(name, config) {
      const r = await rest<Record<string, string>>(restUrl, "PUT", `/connectors/${encodeURIComponent(name)}/config`, config);
      expectStatus(`PUT /connectors/${name}/config`, r.status, [200, 201], r.text);
      return r.json ?? {};
    },
    async deleteConnector(name) {
      const r = await rest<unknown>(restUrl, "DELETE", `/connectors/${encodeURIComponent(name)}`);
      expectStatus(`DELETE /connectors/${name}`, r.status, [204], r.text);
    },
    async listConnectors() {
      const r = await rest<string[]>(restUrl, "GET", "/connectors");
      expectStatus("GET /connectors", r.status, [200], r.text);
      return r.json ?? [];
    },
    async connectorStatus(name) {
      const r = await rest<ConnectorStatus>(restUrl, "GET", `/connectors/${encodeURIComponent(name)}/status`);
      expectStatus(`GET /connectors/${name}/status`, r.status, [200], r.text);
      if (r.json === null) throw new Error(`GET /connectors/${name}/status returned no JSON: ${r.text}`);
      return r.json;
    },
    async restartFailed(name) {
      const r = await rest<unknown>(restUrl, "POST", `/connectors/${encodeURIComponent(name)}/restart?includeTasks=true&onlyFailed=true`);
      expectStatus(`POST /connectors/${name}/restart`, r.status, [200, 202, 204], r.text);
    },
    async waitForConnectorRunning(name, opts = {}) {
      const minTasks = opts.minTasks ?? 1;
      let last: ConnectorStatus | null = null;
      await waitUntil(`connector ${name} RUNNING with >= ${minTasks} RUNNING task(s) at ${restUrl}`, opts.timeoutMs ?? DEFAULT_CONNECTOR_RUNNING_TIMEOUT_MS, async () => {
        const r = await rest<ConnectorStatus>(restUrl, "GET", `/connectors/${encodeURIComponent(name)}/status`);
        if (r.status !== 200 || r.json === null) return false;
        last = r.json;
        const failed = [r.json.connector, ...r.json.tasks].find((s) => s.state === "FAILED");
        if (failed !== undefined) {
          // Not retriable by waiting: fail now with the Java stack trace the worker reported.
          throw new FatalWaitError(`connector ${name} FAILED: ${failed.trace ?? "(no trace)"}`);
        }
        return r.json.connector.state === "RUNNING" && r.json.tasks.filter((t) => t.state === "RUNNING").length >= minTasks;
      }).catch((err: unknown) => {
        throw new Error(`${err instanceof Error ? err.message : String(err)}; last status: ${JSON.stringify(last)}`);
      });
      return last!;
    },
    stop,
  };

  try {
    const started = Date.now();
    await waitUntil(`Kafka Connect REST at ${restUrl} (log ${logFile})`, readyTimeoutMs, async () => {
      if (jvm !== null && !jvm.isRunning()) {
        throw new FatalWaitError(`Connect worker exited during startup (status ${await jvm.exited}).`);
      }
      // GET /connectors answers 200 only once the worker has joined its group and read the config topic.
      const r = await rest<unknown>(restUrl, "GET", "/connectors");
      return r.status === 200;
    });
    console.log(`Kafka Connect worker up in ${((Date.now() - started) / 1000).toFixed(1)} s at ${restUrl}`);
    return worker;
  } catch (err) {
    const tail = tailLog(logFile);
    await stop();
    throw new Error(`${err instanceof Error ? err.message : String(err)}\nConnect log tail:\n${tail}`);
  }
}
