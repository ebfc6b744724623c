/**
 * ksqlDB and Schema Registry on real servers, where a build of them is at hand: both start against the real 3-node
 * test cluster with the program's own server properties (minus the TLS/SCRAM client settings the plaintext loopback
 * cluster has no use for), the JMX exporter agent passed the way the pods pass it (KSQL_OPTS, SCHEMA_REGISTRY_OPTS)
 * with our exporter rules, and a real Prometheus scraping both. The migrations Job's own script applies the SQL with
 * real ksql-migrations (stack defaults), then heartbeats go in. Checked: every catalogued `ksqldb` and `schema-registry` metric
 * name exists, every persistent query is RUNNING, and the validation in force rejects what V000003 says it does.
 *
 * CI has no build of either (no Confluent repository; they build from source only where the sources can be fetched),
 * so this suite runs only when both launchers are named and says so when skipped:
 *   KSQL_SERVER_START=<cmd taking a server.properties>  SCHEMA_REGISTRY_START=<cmd taking a properties file>
 *   KSQL_MIGRATIONS=<ksql-migrations>
 * Both must honour KSQL_OPTS / SCHEMA_REGISTRY_OPTS as the Confluent start scripts do. docs/real-engines.md records
 * the runs.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Kafka, logLevel } from "kafkajs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { ksqldbProperties } from "../../components/stream/ksqldbSpecs";
import { schemaRegistryProperties } from "../../components/stream/schemaRegistrySpecs";
import { KSQLDB_JMX_EXPORTER_RULES, KSQLDB_METRICS_CONFIG_KEY } from "../../components/ops/ksqldbMetrics";
import { SCHEMA_REGISTRY_JMX_EXPORTER_RULES, SCHEMA_REGISTRY_METRICS_CONFIG_KEY } from "../../components/ops/schemaRegistryMetrics";
import { METRICS } from "../../components/ops/metrics";
import { DEFAULT_SESSIONIZATION_PARAMS } from "../../contract/sessionization";
import { RAW_HEARTBEATS_TOPIC, SCHEMAS_TOPIC } from "../../contract/topics";
import { KSQL_PROCESSING_LOG_TOPIC } from "../../contract/acls";
import { KSQL_SERVICE_ID } from "../../contract/clients";
import { migrationDefines, migrationFiles } from "../../ksql/migrations";
import { APPLY_SCRIPT, migrationsConfigMapData, MIGRATIONS_MOUNT_DIR } from "../../components/stream/ksqlMigrationsSpecs";
import { JMX_EXPORTER_AGENT, missingTools, PROMETHEUS } from "../monitoringTools";
import { createTopicsReady } from "./kafka/admin";
import { startCluster, type KafkaTestCluster } from "./kafka/cluster";
import { freePorts, tailLog, waitUntil } from "./kafka/jvm";
import { missingKafkaJars } from "./kafka/paths";
import { programTopics } from "./kafka/programTopics";

const KSQL_START = process.env.KSQL_SERVER_START;
const SR_START = process.env.SCHEMA_REGISTRY_START;
const MIGRATIONS_TOOL = process.env.KSQL_MIGRATIONS;
const missing = !KSQL_START || !SR_START || !MIGRATIONS_TOOL
  ? "set KSQL_SERVER_START, SCHEMA_REGISTRY_START and KSQL_MIGRATIONS to launchers of one ksqlDB/Schema Registry build (none in CI: no Confluent repository)"
  : missingTools([PROMETHEUS, JMX_EXPORTER_AGENT]) ?? missingKafkaJars() ?? undefined;
if (missing) console.warn(`[skipped] ksqlDB and Schema Registry on real servers: ${missing}`);
const suite = missing ? describe.skip : describe;

/**
 * Pipeline topics the migrations expect to exist, made exactly as the local stack's KafkaTopic specs make them
 * (partitions, retention, configs): ksqlDB checks a CREATE … AS SELECT into an existing topic against them.
 */
const STACK = "local";
const PIPELINE = programTopics(STACK);
/** Client security keys of the production properties: the loopback cluster is plaintext. */
const CLIENT_SECURITY = /(^|\.)(security\.protocol|sasl\.[a-z.]+|ssl\.[a-z.]+)$/;

function withoutClientSecurity(props: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(props).filter(([k]) => !CLIENT_SECURITY.test(k)));
}

function propertiesFile(props: Record<string, string>): string {
  return Object.entries(props).map(([k, v]) => `${k}=${v}`).join("\n") + "\n";
}

suite("ksqlDB and Schema Registry on real servers (JMX exporter agent + Prometheus)", () => {
  const dir = mkdtempSync(join(tmpdir(), "watchpipe-confluent-"));
  const logs = { ksql: join(dir, "ksqldb.log"), sr: join(dir, "schema-registry.log"), prom: join(dir, "prometheus.log"), migrations: join(dir, "migrations.log") };
  let cluster: KafkaTestCluster | undefined;
  const procs: ChildProcess[] = [];
  let ksqlUrl = "";
  let promUrl = "";

  function start(cmd: string, args: string[], env: Record<string, string>, log: string): void {
    const fd = openSync(log, "a");
    procs.push(spawn(cmd, args, { stdio: ["ignore", fd, fd], env: { ...process.env, ...env }, detached: false }));
    closeSync(fd);
  }

  async function ksql(statement: string): Promise<unknown> {
    const res = await fetch(`${ksqlUrl}/ksql`, {
      method: "POST",
      headers: { "content-type": "application/vnd.ksql.v1+json" },
      body: JSON.stringify({ ksql: statement, streamsProperties: {} }),
    });
    const body: unknown = await res.json();
    if (!res.ok) throw new Error(`ksqlDB ${res.status}: ${JSON.stringify(body).slice(0, 2000)}`);
    return body;
  }

  /** Rows of a push query from the earliest offset (it ends at LIMIT), within 60 s. */
  async function pushQuery(sql: string): Promise<unknown[][]> {
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), 60_000);
    try {
      const res = await fetch(`${ksqlUrl}/query`, {
        method: "POST",
        signal: abort.signal,
        headers: { "content-type": "application/vnd.ksql.v1+json" },
        body: JSON.stringify({ ksql: sql, streamsProperties: { "ksql.streams.auto.offset.reset": "earliest" } }),
      });
      // The answer is a header object, then one JSON array per row, one per line.
      const text = await res.text();
      const rows = text.split("\n").filter((l) => l.trim().startsWith("[")).map((l) => JSON.parse(l.trim().replace(/,$/, "")) as unknown[]);
      if (rows.length === 0) throw new Error(`no rows in ${text.slice(0, 800)}`);
      return rows;
    } catch (e) {
      throw new Error(`${sql} gave no ${(e as Error).name === "AbortError" ? "complete answer in 60 s" : `answer: ${(e as Error).message}`}; ksqlDB log: ${tailLog(logs.ksql).slice(-1000)}`);
    } finally {
      clearTimeout(timer);
    }
  }

  beforeAll(async () => {
    const [srPort, ksqlPort, srAgent, ksqlAgent, promPort] = (await freePorts(5)) as [number, number, number, number, number];
    cluster = await startCluster();
    await createTopicsReady(cluster.brokers, [
      ...PIPELINE.topics,
      { topic: SCHEMAS_TOPIC, numPartitions: 1, replicationFactor: 3, configEntries: [{ name: "cleanup.policy", value: "compact" }] },
      { topic: KSQL_PROCESSING_LOG_TOPIC, numPartitions: 3, replicationFactor: 3, configEntries: [] },
    ]);

    const agent = (port: number, rules: string) => `-javaagent:${JMX_EXPORTER_AGENT}=127.0.0.1:${port}:${rules}`;
    const srRules = join(dir, SCHEMA_REGISTRY_METRICS_CONFIG_KEY);
    const ksqlRules = join(dir, KSQLDB_METRICS_CONFIG_KEY);
    writeFileSync(srRules, SCHEMA_REGISTRY_JMX_EXPORTER_RULES);
    writeFileSync(ksqlRules, KSQLDB_JMX_EXPORTER_RULES);

    const srProps = join(dir, "schema-registry.properties");
    writeFileSync(srProps, propertiesFile({
      ...withoutClientSecurity(schemaRegistryProperties("kafka")),
      listeners: `http://127.0.0.1:${srPort}`,
      "host.name": "127.0.0.1",
      "kafkastore.bootstrap.servers": cluster.bootstrap,
    }));
    start(SR_START!, [srProps], { SCHEMA_REGISTRY_OPTS: agent(srAgent, srRules) }, logs.sr);
    const srUrl = `http://127.0.0.1:${srPort}`;
    await waitUntil("Schema Registry answers /subjects", 180_000, async () => (await fetch(`${srUrl}/subjects`).catch(() => undefined))?.ok === true);

    const ksqlProps = join(dir, "ksqldb.properties");
    ksqlUrl = `http://127.0.0.1:${ksqlPort}`;
    writeFileSync(ksqlProps, propertiesFile({
      ...withoutClientSecurity(ksqldbProperties({ namespace: "kafka", replicas: 1, storageGiB: 1, storageClassName: "gp3", resources: { cpu: "1", memory: "2Gi" }, streamThreads: 1, schemaRegistryUrl: srUrl })),
      listeners: ksqlUrl,
      "ksql.advertised.listener": ksqlUrl,
      "bootstrap.servers": cluster.bootstrap,
      "ksql.streams.state.dir": join(dir, "ksql-state"),
    }));
    start(KSQL_START!, [ksqlProps], { KSQL_OPTS: agent(ksqlAgent, ksqlRules) }, logs.ksql);
    await waitUntil("ksqlDB answers /healthcheck", 300_000, async () => (await fetch(`${ksqlUrl}/healthcheck`).catch(() => undefined))?.ok === true);

    // The migrations exactly as the Job applies them: its ConfigMap (properties, apply script, the .sql files) laid
    // out as the pod mounts it, only the mount path moved into this folder, and its script run with real
    // ksql-migrations on PATH (info, initialize-metadata, apply --all with the stack's --define values).
    const mount = join(dir, "ksql-migrations");
    mkdirSync(join(mount, "migrations"), { recursive: true });
    const data = migrationsConfigMapData({
      ksqldbUrl: ksqlUrl,
      files: migrationFiles(),
      defines: migrationDefines(DEFAULT_SESSIONIZATION_PARAMS, { heartbeatPartitions: PIPELINE.heartbeatPartitions, sinkTopics: PIPELINE.sinkTopics }),
    });
    for (const [name, text] of Object.entries(data)) {
      writeFileSync(join(mount, name.endsWith(".sql") ? `migrations/${name}` : name), text.split(MIGRATIONS_MOUNT_DIR).join(mount));
    }
    const bin = join(dir, "bin");
    mkdirSync(bin);
    symlinkSync(MIGRATIONS_TOOL!, join(bin, "ksql-migrations"));
    const applied = spawnSync("bash", [join(mount, APPLY_SCRIPT)], { env: { ...process.env, PATH: `${bin}:${process.env.PATH ?? ""}` }, encoding: "utf8", timeout: 600_000 });
    writeFileSync(logs.migrations, `${applied.stdout}\n${applied.stderr}`);
    if (applied.status !== 0) throw new Error(`the migrations Job's script failed (${applied.status}): ${tailLog(logs.migrations).slice(-3000)}`);
    console.log(`[confluent] migrations applied by ksql-migrations:\n${applied.stdout.split("\n").filter((l) => /MIGRATED|ksql-migrations:|Version/.test(l)).join("\n")}`);

    const config = {
      global: { scrape_interval: "5s", evaluation_interval: "5s" },
      scrape_configs: [
        { job_name: "ksqldb", static_configs: [{ targets: [`127.0.0.1:${ksqlAgent}`], labels: { namespace: "kafka", pod: "ksqldb-0", watchpipe_component: "ksqldb" } }] },
        { job_name: "schema-registry", static_configs: [{ targets: [`127.0.0.1:${srAgent}`], labels: { namespace: "kafka", pod: "schema-registry-0", watchpipe_component: "schema-registry" } }] },
      ],
    };
    writeFileSync(join(dir, "prometheus.yml"), stringify(config));
    promUrl = `http://127.0.0.1:${promPort}`;
    start(PROMETHEUS, [`--config.file=${join(dir, "prometheus.yml")}`, `--storage.tsdb.path=${join(dir, "tsdb")}`, `--web.listen-address=127.0.0.1:${promPort}`], {}, logs.prom);
    await waitUntil("Prometheus ready", 60_000, async () => (await fetch(`${promUrl}/-/ready`).catch(() => undefined))?.ok === true);
  }, 900_000);

  afterAll(async () => {
    for (const p of procs.reverse()) p.kill("SIGTERM");
    await new Promise((r) => setTimeout(r, 3_000));
    for (const p of procs) if (p.exitCode === null) p.kill("SIGKILL");
    await cluster?.stop();
    rmSync(dir, { recursive: true, force: true });
  }, 120_000);

  it("every persistent query of the migrations is RUNNING on the real server", async () => {
    let states: string[] = [];
    await waitUntil("all queries RUNNING", 180_000, async () => {
      const body = (await ksql("SHOW QUERIES;")) as { queries: { id: string; state: string }[] }[];
      states = body[0]!.queries.map((q) => `${q.id} ${q.state}`);
      return states.length > 0 && states.every((s) => s.endsWith(" RUNNING"));
    }).catch(() => undefined);
    expect(states.length, `ksqlDB log: ${tailLog(logs.ksql).slice(-1500)}`).toBeGreaterThan(0);
    expect(states.filter((s) => !s.endsWith(" RUNNING"))).toEqual([]);
    console.log(`[confluent] queries: ${states.join(", ")}`);
  }, 240_000);

  it("the validation in force rejects ids with a NUL character into heartbeats_rejected, and passes the rest", async () => {
    const kafka = new Kafka({ clientId: "confluent-metrics-nul", brokers: [...cluster!.brokers], logLevel: logLevel.NOTHING });
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, retry: { retries: 10 } });
    await producer.connect();
    const now = Date.now();
    const beat = (user_id: string, video_id: string) => ({ value: JSON.stringify({ user_id, video_id, position_sec: 1, event_ts: now }), timestamp: String(now) });
    await producer.send({ topic: RAW_HEARTBEATS_TOPIC, acks: -1, messages: [beat("u-ok", "v-ok"), beat("u\u0000x", "v1"), beat("u1", "v\u0000")] });
    await producer.disconnect();

    // Read back through ksqlDB itself: its producers compress with zstd, which kafkajs cannot decompress.
    const rejected = (await pushQuery("SELECT `reason` FROM heartbeats_rejected EMIT CHANGES LIMIT 2;")).map((r) => String(r[0])).sort();
    expect(rejected).toEqual(["user_id: expected no NUL (U+0000) character", "video_id: expected no NUL (U+0000) character"]);
    const valid = await pushQuery("SELECT user_id, video_id FROM heartbeats EMIT CHANGES LIMIT 1;");
    expect(valid).toEqual([["u-ok", "v-ok"]]);
  }, 180_000);

  it("every catalogued ksqlDB and Schema Registry metric name exists in the real Prometheus", async () => {
    const expected = Object.entries(METRICS).filter(([, m]) => m.source === "ksqldb" || m.source === "schema-registry").map(([n]) => n).sort();
    let absent = expected;
    await waitUntil("every ksqlDB/Schema Registry name scraped", 120_000, async () => {
      const body = (await (await fetch(`${promUrl}/api/v1/label/__name__/values`)).json()) as { data: string[] };
      absent = expected.filter((n) => !body.data.includes(n));
      return absent.length === 0;
    }).catch(() => undefined);
    expect(absent, `missing; Prometheus log: ${tailLog(logs.prom).slice(-500)}`).toEqual([]);
    const q = async (expr: string) => ((await (await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent(expr)}`)).json()) as { data: { result: { metric: Record<string, string>; value: [number, string] }[] } }).data.result;
    const running = await q('sum(ksqldb_queries{state="RUNNING"})');
    const leader = await q("sum(schema_registry_leader)");
    console.log(`[confluent] ${expected.length} names proven: ${expected.join(", ")}; RUNNING queries ${running[0]?.value[1]}, SR leaders ${leader[0]?.value[1]}`);
    // The labels the rules extract are clean values, whatever order ksqlDB's MBean names list their keys in.
    const restarts = await q("ksqldb_query_restart_total");
    expect(restarts.length).toBeGreaterThan(0);
    // (The transient push queries of the NUL test have series too.)
    for (const r of restarts) expect(r.metric, JSON.stringify(r.metric)).toMatchObject({ query_id: expect.stringMatching(/^(C[ST]AS|transient)_[A-Za-z0-9_]+$/) });
    expect(restarts.map((r) => r.metric.query_id)).toContainEqual(expect.stringMatching(/^CSAS_HEARTBEATS_\d+$/));
    const states = (await q("ksqldb_queries")).map((r) => r.metric);
    expect(states.map((m) => m.state).sort()).toEqual(["CREATED", "ERROR", "NOT_RUNNING", "PENDING_ERROR", "PENDING_SHUTDOWN", "REBALANCING", "RUNNING"]);
    expect(states.every((m) => m.service_id === KSQL_SERVICE_ID)).toBe(true);
    expect(Number(leader[0]?.value[1])).toBe(1);
    expect(Number(running[0]?.value[1])).toBeGreaterThan(0);
  }, 180_000);
});
