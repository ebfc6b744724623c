/**
 * A real 3-node Apache Kafka 4.3 cluster (KRaft, combined broker+controller) on 127.0.0.1 for tests and the
 * produce benchmark. Ports are picked at runtime, data lives in a temp dir removed by stop(), and every JVM is
 * killed when the Node process exits. Needs `npm run real:setup` first.
 *
 *   const cluster = await startCluster();
 *   // cluster.bootstrap -> "127.0.0.1:p1,127.0.0.1:p2,127.0.0.1:p3"
 *   await cluster.stopBroker(1, "kill"); await cluster.startBroker(1);
 *   await cluster.stop();
 */
import { randomBytes } from "node:crypto";
import { execFileSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Kafka, logLevel, type Admin } from "kafkajs";
import { brokerProperties, withExtraListener, type ExtraListener, type NodeAddress } from "./brokerConfig";
import { cutOff, heal, isolatedIdentity } from "./isolation";
import {
  FatalWaitError,
  LOG4J2_CONSOLE_CONFIG,
  freePorts,
  portOpen,
  renderProperties,
  runJvmTool,
  startJvm,
  stopJvm,
  tailLog,
  waitUntil,
  type Jvm,
  type JvmSpec,
} from "./jvm";
import { missingKafkaJars } from "./paths";

/** Three nodes: RF 3 with min ISR 2 needs exactly this many to test "one down is fine, two down is not". */
export const DEFAULT_NODE_COUNT = 3;
/** Per-broker heap: 3 x 512 MiB leaves the 24 GiB machine plenty for Connect, PostgreSQL and the tests. */
export const DEFAULT_BROKER_HEAP_MB = 512;
/** JVM start + KRaft election + broker registration normally takes 5-15 s here; allow for a busy machine. */
export const DEFAULT_READY_TIMEOUT_MS = 90_000;
/** Controlled shutdown moves leadership away first; past this we SIGKILL. */
const GRACEFUL_STOP_MS = 30_000;
/** Storage format is a short-lived JVM; on this shared machine at load average ~40 it took over 60 s. */
const FORMAT_TIMEOUT_MS = 180_000;
const KAFKA_MAIN_CLASS = "kafka.Kafka";
/** `kafka-storage.sh format` runs this class. */
const STORAGE_TOOL_CLASS = "kafka.tools.StorageTool";

export interface ClusterOptions {
  readonly nodes?: number;
  readonly heapMb?: number;
  readonly readyTimeoutMs?: number;
  /** Extra/overriding server.properties entries (e.g. for a benchmark). */
  readonly extraConfig?: Readonly<Record<string, string | number | boolean>>;
  /**
   * Index (0-based) of a node that runs as its own OS user so {@link KafkaTestCluster.cutOff} can partition it
   * (test/real/kafka/isolation.ts; needs root and iptables).
   */
  readonly isolatable?: number;
  /** Extra JVM options per node id (e.g. a -javaagent with a per-node port). */
  readonly jvmArgsFor?: (nodeId: number) => readonly string[];
  /**
   * A second listener on every node (its own port), e.g. SASL_SSL for a client-security test; the harness's admin
   * client keeps the PLAINTEXT one. Its addresses are {@link KafkaTestCluster.extraBootstrap}.
   */
  readonly extraListener?: ExtraListener;
  /** More arguments to `kafka-storage format`, e.g. `--add-scram` so SCRAM credentials exist at first start. */
  readonly formatArgs?: readonly string[];
}

export interface NodeInfo extends NodeAddress {
  readonly logFile: string;
  /** The {@link ClusterOptions.extraListener}'s port, when there is one. */
  readonly extraPort?: number;
}

export interface KafkaTestCluster {
  /** Comma-separated bootstrap list for clients. */
  readonly bootstrap: string;
  readonly brokers: readonly string[];
  /** Bootstrap list of the {@link ClusterOptions.extraListener} (its advertised host), when there is one. */
  readonly extraBootstrap?: string;
  readonly nodes: readonly NodeInfo[];
  readonly dataDir: string;
  /** Stops node `index` (0-based): "kill" = SIGKILL (crash), "graceful" = SIGTERM (controlled shutdown). */
  stopBroker(index: number, mode: "kill" | "graceful"): Promise<void>;
  /** Restarts a stopped node (same id, ports and data) and waits until it is registered and unfenced. */
  startBroker(index: number): Promise<void>;
  /** Node ids the controller currently reports as live brokers. */
  liveBrokerIds(): Promise<number[]>;
  /** Waits until every partition of `topic` has `isr` in-sync replicas (after a restart: caught up). */
  waitForIsr(topic: string, isr: number, timeoutMs?: number): Promise<void>;
  /**
   * Cuts the isolatable node off the network (its process keeps running): clients and peers get no answer from it,
   * it reaches no one. Only for the node named by {@link ClusterOptions.isolatable}.
   */
  cutOff(index: number): void;
  /** Heals {@link cutOff}. */
  heal(index: number): void;
  /** Kills every node and deletes the data dir. Safe to call twice. */
  stop(): Promise<void>;
}

/** Kafka cluster ids are 16 random bytes, URL-safe base64 without padding (what `kafka-storage random-uuid` prints). */
function newClusterId(): string {
  // An id starting with "-" reads as a flag to kafka-storage (1 in 64 ids); Kafka's own Uuid.randomUuid skips those.
  for (;;) {
    const id = randomBytes(16).toString("base64url");
    if (!id.startsWith("-")) return id;
  }
}

export async function startCluster(options: ClusterOptions = {}): Promise<KafkaTestCluster> {
  const missing = missingKafkaJars();
  if (missing !== null) throw new Error(missing);
  const count = options.nodes ?? DEFAULT_NODE_COUNT;
  const heapMb = options.heapMb ?? DEFAULT_BROKER_HEAP_MB;
  const readyTimeoutMs = options.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS;
  const dataDir = mkdtempSync(path.join(os.tmpdir(), "watchpipe-kafka-"));
  const log4jConfig = path.join(dataDir, "log4j2.properties");
  writeFileSync(log4jConfig, LOG4J2_CONSOLE_CONFIG);

  const extra = options.extraListener;
  const perNode = extra ? 3 : 2;
  const ports = await freePorts(count * perNode);
  const nodes: NodeInfo[] = Array.from({ length: count }, (_, i) => ({
    id: i + 1,
    brokerPort: ports[perNode * i]!,
    controllerPort: ports[perNode * i + 1]!,
    logFile: path.join(dataDir, `node-${i + 1}.log`),
    ...(extra ? { extraPort: ports[perNode * i + 2]! } : {}),
  }));
  const brokers = nodes.map((n) => `127.0.0.1:${n.brokerPort}`);
  const clusterId = newClusterId();
  if (options.isolatable !== undefined && !(Number.isInteger(options.isolatable) && options.isolatable >= 0 && options.isolatable < count)) {
    throw new Error(`isolatable must be a node index in 0..${count - 1}, got ${options.isolatable}`);
  }
  const isolated = options.isolatable === undefined ? undefined : isolatedIdentity();
  const specs: JvmSpec[] = nodes.map((n, i) => {
    const nodeDir = path.join(dataDir, `node-${n.id}`);
    mkdirSync(nodeDir, { recursive: true });
    const propsFile = path.join(nodeDir, "server.properties");
    const base = brokerProperties(n, nodes, path.join(nodeDir, "data"));
    const withListener = extra && n.extraPort !== undefined ? withExtraListener(base, extra, n.extraPort) : base;
    writeFileSync(propsFile, renderProperties({ ...withListener, ...options.extraConfig }));
    const runAs = i === options.isolatable ? isolated : undefined;
    return { mainClass: KAFKA_MAIN_CLASS, args: [propsFile], heapMb, logFile: n.logFile, log4jConfig, extraJvmArgs: options.jvmArgsFor?.(n.id) ?? [], ...(runAs ? { runAs } : {}) };
  });

  const jvms: (Jvm | null)[] = nodes.map(() => null);
  let admin: Admin | null = null;
  let stopped = false;

  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    if (isolated !== undefined) heal(isolated.uid);
    if (admin !== null) await admin.disconnect().catch(() => undefined);
    await Promise.all(jvms.map((j) => (j === null ? undefined : stopJvm(j, "kill", 0))));
    rmSync(dataDir, { recursive: true, force: true });
  };

  try {
    // Format every node's log dir with the same cluster id (static quorum: voters come from the properties).
    await Promise.all(
      nodes.map((n, i) =>
        runJvmTool(
          {
            mainClass: STORAGE_TOOL_CLASS,
            args: ["format", "-t", clusterId, "-c", specs[i]!.args[0]!, ...(options.formatArgs ?? [])],
            heapMb: 256,
            logFile: path.join(dataDir, `format-${n.id}.log`),
            log4jConfig,
          },
          FORMAT_TIMEOUT_MS,
        ),
      ),
    );
    if (isolated !== undefined) {
      // The node formats as us and then runs as the isolated user: hand it its directory and log.
      const owned = [path.join(dataDir, `node-${nodes[options.isolatable!]!.id}`), nodes[options.isolatable!]!.logFile];
      execFileSync("chown", ["-R", `${isolated.uid}:${isolated.gid}`, ...owned.filter((f) => existsSync(f))]);
      // mkdtemp made the cluster dir 0700; the node must reach its dir and the shared log4j config.
      chmodSync(dataDir, 0o755);
    }
    nodes.forEach((_, i) => {
      jvms[i] = startJvm(specs[i]!);
    });
    admin = new Kafka({ clientId: "harness-admin", brokers, logLevel: logLevel.NOTHING }).admin();
    const adminRef = admin;

    const assertAlive = (i: number): void => {
      const j = jvms[i];
      if (j !== null && !j.isRunning()) {
        throw new FatalWaitError(`Kafka node ${nodes[i]!.id} exited during startup. Log tail:\n${tailLog(nodes[i]!.logFile)}`);
      }
    };
    const liveBrokerIds = async (): Promise<number[]> => {
      // describeCluster lists registered, unfenced brokers.
      const desc = await adminRef.describeCluster();
      return desc.brokers.map((b) => b.nodeId).sort((a, b) => a - b);
    };
    const waitForBrokers = async (expected: readonly number[]): Promise<void> => {
      await waitUntil(`brokers ${expected.join(",")} registered (bootstrap ${brokers.join(",")})`, readyTimeoutMs, async () => {
        nodes.forEach((n, i) => {
          if (expected.includes(n.id)) assertAlive(i);
        });
        const open = await Promise.all(nodes.filter((n) => expected.includes(n.id)).map((n) => portOpen(n.brokerPort)));
        if (!open.every(Boolean)) return false;
        await adminRef.connect();
        const ids = await liveBrokerIds();
        return expected.every((id) => ids.includes(id));
      });
    };
    const started = Date.now();
    await waitForBrokers(nodes.map((n) => n.id));
    console.log(`Kafka cluster up in ${((Date.now() - started) / 1000).toFixed(1)} s: ${brokers.join(",")} (data ${dataDir})`);

    const checkIndex = (index: number): void => {
      if (!Number.isInteger(index) || index < 0 || index >= count) {
        throw new Error(`broker index must be an integer in 0..${count - 1}, got ${index}`);
      }
    };

    return {
      bootstrap: brokers.join(","),
      brokers,
      ...(extra ? { extraBootstrap: nodes.map((n) => `${extra.advertisedHost}:${n.extraPort}`).join(",") } : {}),
      nodes,
      dataDir,
      liveBrokerIds,
      async stopBroker(index, mode) {
        checkIndex(index);
        const j = jvms[index];
        if (j === null || !j.isRunning()) throw new Error(`broker index ${index} (node ${nodes[index]!.id}) is not running`);
        await stopJvm(j, mode, GRACEFUL_STOP_MS);
      },
      async startBroker(index) {
        checkIndex(index);
        const j = jvms[index];
        if (j !== null && j.isRunning()) throw new Error(`broker index ${index} (node ${nodes[index]!.id}) is already running`);
        jvms[index] = startJvm(specs[index]!);
        await waitForBrokers([nodes[index]!.id]);
      },
      cutOff(index) {
        if (index !== options.isolatable || isolated === undefined) throw new Error(`node index ${index} is not isolatable (start the cluster with isolatable: ${index})`);
        cutOff(isolated.uid);
      },
      heal(index) {
        if (index !== options.isolatable || isolated === undefined) throw new Error(`node index ${index} is not isolatable`);
        heal(isolated.uid);
      },
      async waitForIsr(topic, isr, timeoutMs = readyTimeoutMs) {
        await waitUntil(`every partition of ${topic} to have ${isr} in-sync replicas`, timeoutMs, async () => {
          const md = await adminRef.fetchTopicMetadata({ topics: [topic] });
          const parts = md.topics[0]?.partitions ?? [];
          return parts.length > 0 && parts.every((p) => p.isr.length >= isr && p.leader >= 0);
        });
      },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
