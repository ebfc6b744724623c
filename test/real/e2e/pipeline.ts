/**
 * The whole pipeline on real servers for the end-to-end suite: 3 Kafka brokers with every topic made exactly as the
 * program's KafkaTopic specs make them for the `local` stack (test/real/kafka/programTopics.ts), Schema Registry and
 * ksqlDB from the build the environment names, the migrations applied by the migrations Job's own script, PostgreSQL
 * 15 with connectors/schema applied by the schema Job's script, and Kafka Connect running the DEPLOYED variant of
 * the watch segments sink (Avro through Schema Registry, as the KafkaConnector spec says).
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { CONFIG_PROVIDER_WORKER_CONFIG, watchSegmentsSinkSpec } from "../../../connectors/watchSegmentsSink";
import { YSQL_SINK_USER } from "../../../components/sink/yugabyteSpecs";
import { KSQL_PROCESSING_LOG_TOPIC } from "../../../contract/acls";
import { SCHEMAS_TOPIC } from "../../../contract/topics";
import type { Connection } from "../../../tools/report";
import { createTopicsReady } from "../kafka/admin";
import { startCluster, type KafkaTestCluster } from "../kafka/cluster";
import { startConnectWorker, type ConnectWorker } from "../kafka/connect";
import { CONNECT_PLUGINS_DIR } from "../kafka/paths";
import { programTopics, type ProgramTopics } from "../kafka/programTopics";
import { startPostgres, type PgServer } from "../pg/harness";
import { newSinkPassword, runSchemaJob } from "../pg/schemaJob";
import { applyMigrations, KsqlServer, startSchemaRegistry, type Launchers, type SchemaRegistry } from "./confluent";

export const STACK = "local";
export const SINK_CONNECTOR = "watch-segments-sink";
/** ksqlDB's heap here: 3 brokers, Connect, PostgreSQL and two ksqlDB servers share the machine. */
const KSQL_HEAP_OPTS = "-Xmx1g";
const SCHEMA_REGISTRY_HEAP_OPTS = "-Xmx256m";
/** Jars of the build's ksqlDB lib folder that Confluent's AvroConverter needs in a Connect plugin folder. */
const AVRO_CONVERTER_JARS = /^(avro-\d|common-config-|common-utils-|kafka-avro-|kafka-connect-avro-|kafka-schema-(converter|registry-client|serializer|types)-|guava-\d|failureaccess-|commons-compress-|commons-lang3-|commons-io-|logredactor|re2j-|minimal-json-|swagger-annotations-|httpclient5-\d|httpcore5|snakeyaml-|jackson-(core|databind|annotations|datatype-jdk8|dataformat-csv)-)/;

export interface Pipeline {
  readonly dir: string;
  readonly cluster: KafkaTestCluster;
  readonly topics: ProgramTopics;
  readonly pg: PgServer;
  readonly db: Connection;
  readonly sr: SchemaRegistry;
  /** ksqlDB servers: [0] runs from the start; more are added with {@link addKsqlServer}. */
  readonly ksql: KsqlServer[];
  /** The Connect worker running now ({@link replaceConnect} swaps it). */
  readonly connect: ConnectWorker;
  readonly migrationsOutput: string;
  addKsqlServer(): Promise<KsqlServer>;
  /**
   * A new Connect worker on the old one's REST port (the same worker id, as a restarted pod), after the old one was
   * killed or stopped; it reads the sink connector from the config topic and waits until its tasks run.
   */
  replaceConnect(): Promise<ConnectWorker>;
  stop(): Promise<void>;
}

/** The build's ksqlDB lib folder, read from its launcher (`engine-run-class <lib> ...` or `-cp <dir>/*`). */
export function ksqlLibDir(launcher: string): string {
  const text = readFileSync(launcher, "utf8");
  const lib = /engine-run-class"?\s+(\S+)/.exec(text)?.[1];
  if (lib !== undefined) return join(dirname(dirname(launcher)), "lib", lib);
  const cp = /-cp\s+['"]?([^'"\s]+)\/\*/.exec(text)?.[1];
  if (cp !== undefined) return cp;
  throw new Error(`cannot find the ksqlDB lib folder in ${launcher}; set KSQL_LIB_DIR to the folder of its jars`);
}

/** A Connect plugin folder with Confluent's AvroConverter (links to the build's jars; nothing copied, nothing kept). */
function avroConverterPlugin(dir: string, l: Launchers): string {
  const lib = process.env.KSQL_LIB_DIR ?? ksqlLibDir(l.ksqlServerStart);
  const plugin = join(dir, "connect-plugins", "avro-converter");
  mkdirSync(plugin, { recursive: true });
  const jars = readdirSync(lib).filter((f) => f.endsWith(".jar") && AVRO_CONVERTER_JARS.test(f));
  if (!jars.some((f) => f.startsWith("kafka-connect-avro-converter-"))) throw new Error(`no kafka-connect-avro-converter jar in ${lib}`);
  for (const f of jars) symlinkSync(join(lib, f), join(plugin, f));
  return dirname(plugin);
}

export interface PipelineOptions {
  /** A broker index to start as its own OS user, so the fault suite can cut it off the network (kafka/isolation.ts). */
  readonly isolatable?: number;
}

export async function startPipeline(l: Launchers, ports: { sr: number; ksql: readonly number[] }, log: (line: string) => void, options: PipelineOptions = {}): Promise<Pipeline> {
  const dir = mkdtempSync(join(tmpdir(), "watchpipe-e2e-"));
  const started = Date.now();
  const stage = (what: string): void => log(`${what} after ${((Date.now() - started) / 1000).toFixed(0)} s`);
  const stops: (() => Promise<void> | void)[] = [];
  const stop = async (): Promise<void> => {
    for (const s of stops.reverse()) await Promise.resolve(s()).catch((err: unknown) => log(`stop: ${(err as Error).message}`));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const sinkPassword = newSinkPassword();
    const pg = await startPostgres();
    stops.push(() => pg.stop());
    const job = runSchemaJob(pg, { sinkPassword });
    if (job.status !== 0) throw new Error(`the schema Job's script failed (${job.status}): ${job.stderr.slice(-2000)}`);
    stage("PostgreSQL up, schema applied");

    // Brokers registering took over 180 s here with four suites sharing the 2 cores (load average 45).
    const cluster = await startCluster({ readyTimeoutMs: 600_000, ...(options.isolatable === undefined ? {} : { isolatable: options.isolatable }) });
    stops.push(() => cluster.stop());
    const topics = programTopics(STACK);
    await createTopicsReady(cluster.brokers, [
      ...topics.topics,
      { topic: SCHEMAS_TOPIC, numPartitions: 1, replicationFactor: 3, configEntries: [{ name: "cleanup.policy", value: "compact" }] },
      { topic: KSQL_PROCESSING_LOG_TOPIC, numPartitions: 3, replicationFactor: 3, configEntries: [] },
    ]);
    stage(`Kafka up, topics made as the ${STACK} stack's KafkaTopics (${topics.topics.map((t) => `${t.topic}:${t.numPartitions}`).join(", ")})`);

    const sr = await startSchemaRegistry(l, dir, cluster.bootstrap, ports.sr, { SCHEMA_REGISTRY_HEAP_OPTS });
    stops.push(async () => void (await sr.process.stop("SIGTERM", 30_000)));
    stage("Schema Registry up");

    const ksql: KsqlServer[] = [];
    const addKsqlServer = async (): Promise<KsqlServer> => {
      const i = ksql.length;
      const port = ports.ksql[i];
      if (port === undefined) throw new Error(`no port for ksqlDB server ${i + 1}`);
      const server = new KsqlServer(l, { name: `ksqldb-${i}`, dir, bootstrap: cluster.bootstrap, schemaRegistryUrl: sr.url, port, replicas: ports.ksql.length, env: { KSQL_HEAP_OPTS } });
      ksql.push(server);
      stops.push(async () => void (await server.process.stop("SIGKILL")));
      const ms = await server.start();
      stage(`ksqlDB server ${server.process.name} healthy (${(ms / 1000).toFixed(0)} s to start)`);
      return server;
    };
    await addKsqlServer();
    const migrationsOutput = applyMigrations(l, dir, ksql[0]!.url, topics);
    stage(`migrations applied by the Job's script: ${migrationsOutput.split("\n").filter((x) => /MIGRATED/.test(x)).length} MIGRATED lines`);

    const pwFile = join(dir, "db.properties");
    writeFileSync(pwFile, `password=${sinkPassword}\n`, { mode: 0o600 });
    // The Debezium JDBC sink (real:setup) and Confluent's AvroConverter, as the cluster's Connect image has both.
    const workerConfig = { ...CONFIG_PROVIDER_WORKER_CONFIG.file, "plugin.path": `${CONNECT_PLUGINS_DIR},${avroConverterPlugin(dir, l)}` };
    let connect = await startConnectWorker({ bootstrap: cluster.bootstrap, extraConfig: workerConfig });
    stops.push(() => connect.stop());
    const db: Connection = { host: pg.host, port: pg.port, database: pg.database, user: pg.user, password: { from: "env", value: pg.password }, sslMode: "disable" };
    // The deployed connector: Avro through Schema Registry, password from a file as the Secret is mounted.
    const spec = watchSegmentsSinkSpec({
      db: { host: pg.host, port: pg.port, database: pg.database, user: YSQL_SINK_USER },
      password: { kind: "file", path: pwFile, key: "password" },
      schemaRegistryUrl: sr.url,
    });
    await connect.createConnector(SINK_CONNECTOR, { "connector.class": spec.class, "tasks.max": String(spec.tasksMax), ...spec.config });
    await connect.waitForConnectorRunning(SINK_CONNECTOR, { minTasks: spec.tasksMax, timeoutMs: 180_000 });
    stage(`Kafka Connect up, ${SINK_CONNECTOR} RUNNING with ${spec.tasksMax} tasks (Avro)`);
    const replaceConnect = async (): Promise<ConnectWorker> => {
      const restPort = connect.restPort;
      await connect.stop();
      connect = await startConnectWorker({ bootstrap: cluster.bootstrap, extraConfig: workerConfig, restPort });
      await connect.waitForConnectorRunning(SINK_CONNECTOR, { minTasks: spec.tasksMax, timeoutMs: 180_000 });
      return connect;
    };
    return {
      dir, cluster, topics, pg, db, sr, ksql, migrationsOutput, addKsqlServer, replaceConnect, stop,
      get connect() {
        return connect;
      },
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
