/**
 * The session ticker as the program renders it (issue 24), on a real 3-broker Kafka 4.3.1 cluster with a SASL_SSL
 * listener (SCRAM-SHA-512, a test CA, host-name checking on) and ACLs enforced: its script, records and producer
 * properties come from tickerConfigMapData (only the CA path differs), its environment from tickerEnv, its user has
 * exactly clientAcls().sessionTicker, and `kafka-console-producer.sh` is a two-line stand-in for the image's launcher
 * that runs the same class (org.apache.kafka.tools.ConsoleProducer) from the harness's Kafka 4.3.1 jars with the
 * pod's heap and GC options. Checked: one record per partition per tick on the partition ksql/ticks.ts chose, key
 * bytes exactly user_id|video_id, written by an idempotent producer (producer id in every batch) with no duplicates;
 * a user without the ACL lands nothing; a broker crashed and restarted mid-run loses at most that interval's ticks
 * and the same producer process carries on; a killed producer ends the script (exit 1) within about one interval.
 * The tick interval is a parameter (TICKER_TEST_INTERVAL_SEC, default 2 s).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { Kafka, logLevel, type Admin } from "kafkajs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { clientAcls } from "../../components/kafka/kafkaAcls";
import {
  renderTickerProperties,
  TICKER_HEAP_OPTS,
  TICKER_JAAS_ENV,
  TICKER_JVM_OPTS,
  TICKER_RESOURCES,
  tickerConfigMapData,
  tickerEnv,
  tickerProducerProperties,
} from "../../components/stream/sessionTickerSpecs";
import { KAFKA_CA_FILE } from "../../components/stream/streamingSpecs";
import { KAFKA_USERS } from "../../contract/clients";
import { MIN_INSYNC_REPLICAS, REPLICATION_FACTOR } from "../../contract/durability";
import { TICK_USER_ID } from "../../contract/sessionization";
import { RAW_HEARTBEATS_TOPIC } from "../../contract/topics";
import { partitionForKey } from "../../ksql/ticks";
import { ACLS_ENFORCED, grantAcls } from "./kafka/acls";
import { scramTlsListener, scramUserArgs } from "./kafka/brokerConfig";
import { createTopicsReady } from "./kafka/admin";
import { startCluster, type KafkaTestCluster } from "./kafka/cluster";
import { kafkaClasspath, missingKafkaJars } from "./kafka/paths";
import { makeBrokerTls, missingOpenssl, type TlsMaterial } from "./kafka/tls";

const missing = missingKafkaJars() ?? missingOpenssl() ?? null;
if (missing) console.warn(`[skipped] session ticker on real brokers: ${missing}`);
if (missing && process.env.CI === "true") {
  describe("session ticker on real brokers: prerequisites", () => it("are installed (npm run real:setup, openssl)", () => { throw new Error(`session ticker on real brokers: ${missing}`); }));
}
const suite = missing ? describe.skip : describe;

const BROKER_HOST = "localhost";
const LISTENER = "SASL_SSL";
const PARTITIONS = 6;
const INTERVAL_SEC = Number(process.env.TICKER_TEST_INTERVAL_SEC ?? "2");
const USER = KAFKA_USERS.sessionTicker;
/** A SCRAM user with no ACLs at all: the negative control for "the ticker's ACLs are what lets it write". */
const NO_ACL_USER = "ticker-without-acls";
const CLUSTER_READY_MS = 300_000;

const strimziPassword = () => randomBytes(48).toString("base64").replace(/[^A-Za-z0-9]/g, "").slice(0, 32);
const strimziJaas = (user: string, password: string) => `org.apache.kafka.common.security.scram.ScramLoginModule required username="${user}" password="${password}";`;

interface Landed {
  readonly partition: number;
  readonly offset: number;
  readonly key: Buffer;
  readonly value: { user_id: string; video_id: string; position_sec: number; event_ts: number };
  /** Broker append time (the topic uses LogAppendTime). */
  readonly appendedAt: number;
  readonly producerId: string;
}

interface TickerRun {
  readonly child: ChildProcess;
  readonly done: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  readonly log: () => string;
  readonly pid: () => number;
}

suite("session ticker → heartbeats_raw over SASL_SSL + SCRAM as its own KafkaUser, on 3 real brokers", () => {
  let dir: string;
  let tls: TlsMaterial;
  let cluster: KafkaTestCluster;
  let admin: Admin;
  const password = strimziPassword();
  const noAclPassword = strimziPassword();
  const running = new Set<ChildProcess>();

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "watchpipe-ticker-"));
    tls = makeBrokerTls(dir, BROKER_HOST);
    cluster = await startCluster({
      readyTimeoutMs: CLUSTER_READY_MS,
      extraListener: scramTlsListener(LISTENER, BROKER_HOST, tls.brokerKeystoreFile),
      formatArgs: scramUserArgs([{ name: USER, password }, { name: NO_ACL_USER, password: noAclPassword }]),
      extraConfig: ACLS_ENFORCED,
    });
    await createTopicsReady(cluster.brokers, [{
      topic: RAW_HEARTBEATS_TOPIC,
      numPartitions: PARTITIONS,
      replicationFactor: REPLICATION_FACTOR,
      configEntries: [
        { name: "min.insync.replicas", value: String(MIN_INSYNC_REPLICAS) },
        // The broker's clock on every record: how long a tick took to land, around a broker restart too.
        { name: "message.timestamp.type", value: "LogAppendTime" },
      ],
    }]);
    await grantAcls(cluster.brokers, USER, clientAcls().sessionTicker);
    admin = new Kafka({ clientId: "ticker-admin", brokers: [...cluster.brokers], logLevel: logLevel.NOTHING }).admin();
    await admin.connect();

    // The ConfigMap's files; only the truststore path differs from the pod's.
    const data = tickerConfigMapData({ namespace: "kafka", heartbeatPartitions: PARTITIONS, tickIntervalSec: INTERVAL_SEC });
    const props = renderTickerProperties(tickerProducerProperties(tls.caFile));
    expect(props.replace(tls.caFile, KAFKA_CA_FILE)).toBe(data["producer.properties"]);
    for (const [name, text] of Object.entries(data)) writeFileSync(join(dir, name), name === "producer.properties" ? props : text);
    // The image's launcher runs ConsoleProducer with KAFKA_HEAP_OPTS and KAFKA_JVM_PERFORMANCE_OPTS; tools log WARN to stderr.
    writeFileSync(join(dir, "log4j2.properties"), [
      "appender.err.type = Console", "appender.err.name = STDERR", "appender.err.target = SYSTEM_ERR",
      "appender.err.layout.type = PatternLayout", "appender.err.layout.pattern = [%d] %p %m (%c)%n",
      "rootLogger.level = WARN", "rootLogger.appenderRef.err.ref = STDERR", "",
    ].join("\n"));
    writeFileSync(join(dir, "kafka-console-producer.sh"), `#!/bin/sh
exec java $KAFKA_HEAP_OPTS $KAFKA_JVM_PERFORMANCE_OPTS -Dlog4j2.configurationFile=${join(dir, "log4j2.properties")} -cp "${kafkaClasspath()}" org.apache.kafka.tools.ConsoleProducer "$@"
`);
    chmodSync(join(dir, "kafka-console-producer.sh"), 0o755);
  }, 600_000);

  afterAll(async () => {
    for (const child of running) killGroup(child);
    await admin?.disconnect();
    await cluster?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 120_000);

  function killGroup(child: ChildProcess): void {
    if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
      try {
        process.kill(-child.pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
  }

  /** Runs tick.sh with the pod's environment (tickerEnv), pointed at the SASL_SSL listener and the files above. */
  function startTicker(name: string, opts: { ticks: number; user?: string; password?: string }): TickerRun {
    const env: Record<string, string> = {
      ...tickerEnv({ namespace: "kafka", heartbeatPartitions: PARTITIONS, tickIntervalSec: INTERVAL_SEC }),
      BOOTSTRAP_SERVERS: cluster.extraBootstrap!,
      RECORDS_FILE: join(dir, "records.tsv"),
      PROPERTIES_FILE: join(dir, "producer.properties"),
      PRODUCER_BIN: join(dir, "kafka-console-producer.sh"),
      ALIVE_FILE: join(dir, `${name}.alive`),
      PID_FILE: join(dir, `${name}.pid`),
      LOG_DIR: dir,
      TICKS: String(opts.ticks),
      [TICKER_JAAS_ENV]: strimziJaas(opts.user ?? USER, opts.password ?? password),
      PATH: process.env.PATH ?? "/usr/bin:/bin",
    };
    expect(env.KAFKA_HEAP_OPTS).toBe(TICKER_HEAP_OPTS);
    expect(env.KAFKA_JVM_PERFORMANCE_OPTS).toBe(TICKER_JVM_OPTS);
    const child = spawn("sh", [join(dir, "tick.sh")], { env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
    running.add(child);
    let out = "";
    child.stdout!.on("data", (b: Buffer) => (out += b.toString("utf8")));
    child.stderr!.on("data", (b: Buffer) => (out += b.toString("utf8")));
    const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on("exit", (code, signal) => {
      running.delete(child);
      resolve({ code, signal });
    }));
    return { child, done, log: () => out, pid: () => Number(readFileSync(env.PID_FILE!, "utf8").trim()) };
  }

  /** Every record of heartbeats_raw (read as the harness's super user on the PLAINTEXT listener). */
  async function readAll(): Promise<Landed[]> {
    const offsets = await admin.fetchTopicOffsets(RAW_HEARTBEATS_TOPIC);
    const expected = offsets.reduce((n, o) => n + Number(o.high), 0);
    const kafka = new Kafka({ clientId: "ticker-readback", brokers: [...cluster.brokers], logLevel: logLevel.NOTHING });
    const consumer = kafka.consumer({ groupId: `ticker-readback-${Date.now()}-${Math.random()}` });
    const got: Landed[] = [];
    await consumer.connect();
    try {
      await consumer.subscribe({ topic: RAW_HEARTBEATS_TOPIC, fromBeginning: true });
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`read back timed out: ${got.length} of ${expected} records`)), 120_000);
        if (expected === 0) {
          clearTimeout(timer);
          resolve();
          return;
        }
        void consumer.run({
          eachMessage: async ({ partition, message }) => {
            // kafkajs keeps the record batch's header on each record (not in its types): the producer id is there.
            const batch = (message as unknown as { batchContext: { producerId: string } }).batchContext;
            got.push({
              partition,
              offset: Number(message.offset),
              key: message.key ?? Buffer.alloc(0),
              value: JSON.parse(message.value?.toString("utf8") ?? "null") as Landed["value"],
              appendedAt: Number(message.timestamp),
              producerId: batch.producerId,
            });
            if (got.length >= expected) {
              clearTimeout(timer);
              resolve();
            }
          },
        });
      });
    } finally {
      await consumer.disconnect();
    }
    return got;
  }

  /** The records of one run: ticks handed to the producer at or after `since` (ms) and not after `until`. */
  const ofRun = (all: Landed[], since: number, until: number) => all.filter((r) => r.value.event_ts >= Math.floor(since / 1000) * 1000 && r.value.event_ts <= until);

  /** Records grouped by tick (event_ts), each tick's partitions sorted. */
  function byTick(records: Landed[]): Map<number, number[]> {
    const ticks = new Map<number, number[]>();
    for (const r of records) ticks.set(r.value.event_ts, [...(ticks.get(r.value.event_ts) ?? []), r.partition].sort((a, b) => a - b));
    return new Map([...ticks.entries()].sort((a, b) => a[0] - b[0]));
  }

  function expectWellFormed(records: Landed[]): void {
    for (const r of records) {
      const key = `${r.value.user_id}|${r.value.video_id}`;
      // Exactly the UTF-8 bytes of user_id|video_id (no JSON quotes, no separator), on murmur2's partition.
      expect(r.key.equals(Buffer.from(key, "utf8")), `key bytes of ${key}`).toBe(true);
      expect(r.partition).toBe(partitionForKey(key, PARTITIONS));
      expect(r.value.user_id).toBe(TICK_USER_ID);
      expect(r.value.position_sec).toBe(0);
      // An idempotent producer stamps its producer id on every batch; a plain one writes -1.
      expect(Number(r.producerId), `producer id of the batch at ${r.partition}/${r.offset}`).toBeGreaterThanOrEqual(0);
    }
    // No duplicates: one record per (tick, partition).
    const seen = new Set(records.map((r) => `${r.value.event_ts}/${r.partition}`));
    expect(seen.size, "duplicate (tick, partition) records").toBe(records.length);
  }

  it(`writes one record per partition per tick (3 ticks, ${INTERVAL_SEC} s apart), keyed and placed as ksql/ticks.ts chose, idempotent, as a user with only the ticker's ACLs`, async () => {
    const since = Date.now();
    const run = startTicker("three", { ticks: 3 });
    const exit = await run.done;
    const until = Date.now();
    expect(exit, run.log()).toEqual({ code: 0, signal: null });
    const records = ofRun(await readAll(), since, until);
    expectWellFormed(records);
    const ticks = byTick(records);
    expect([...ticks.values()]).toEqual([0, 1, 2].map(() => [0, 1, 2, 3, 4, 5]));
    expect(new Set(records.map((r) => r.producerId)).size, "one producer for the whole run").toBe(1);
    const delays = records.map((r) => r.appendedAt - r.value.event_ts);
    console.log(`ticker: 3 ticks x ${PARTITIONS} partitions in ${((until - since) / 1000).toFixed(1)} s (producer start included); tick -> append ${Math.min(...delays)}..${Math.max(...delays)} ms (event_ts has 1 s resolution)`);
  }, 300_000);

  it("a user without the ticker's ACLs lands nothing, and the producer says why", async () => {
    const before = (await admin.fetchTopicOffsets(RAW_HEARTBEATS_TOPIC)).reduce((n, o) => n + Number(o.high), 0);
    const run = startTicker("noacl", { ticks: 1, user: NO_ACL_USER, password: noAclPassword });
    await run.done;
    const after = (await admin.fetchTopicOffsets(RAW_HEARTBEATS_TOPIC)).reduce((n, o) => n + Number(o.high), 0);
    expect(after - before, run.log()).toBe(0);
    const why = /.*(not authorized|TopicAuthorizationException|ClusterAuthorizationException).*/i.exec(run.log());
    expect(why, run.log()).not.toBeNull();
    console.log(`ticker without ACLs: 0 records; producer log: ${why![0].slice(0, 240)}`);
  }, 300_000);

  it("a broker crashed and restarted mid-run costs at most that interval's ticks; the same producer carries on", async () => {
    const TICKS = 10;
    const since = Date.now();
    const run = startTicker("restart", { ticks: TICKS });
    // Let the producer start and deliver a few ticks, then crash the leader of partition 0 and bring it back.
    const md = await admin.fetchTopicMetadata({ topics: [RAW_HEARTBEATS_TOPIC] });
    const leader = md.topics[0]!.partitions.find((p) => p.partitionId === 0)!.leader;
    const index = cluster.nodes.findIndex((n) => n.id === leader);
    const waitForTicks = async (n: number) => {
      for (let i = 0; i < 600 && (run.log().match(/tick \d+: /g)?.length ?? 0) < n; i++) await new Promise((r) => setTimeout(r, 100));
    };
    await waitForTicks(3);
    const pidBefore = run.pid();
    const killedAt = Date.now();
    await cluster.stopBroker(index, "kill");
    await new Promise((r) => setTimeout(r, 2 * INTERVAL_SEC * 1000));
    await cluster.startBroker(index);
    const backAt = Date.now();
    const exit = await run.done;
    const until = Date.now();
    expect(exit, run.log()).toEqual({ code: 0, signal: null });
    expect(run.pid(), "the producer JVM was never replaced").toBe(pidBefore);
    await cluster.waitForIsr(RAW_HEARTBEATS_TOPIC, REPLICATION_FACTOR);

    const records = ofRun(await readAll(), since, until);
    expectWellFormed(records);
    const ticks = byTick(records);
    const handed = [...run.log().matchAll(/tick \d+: \d+ records to the producer at event_ts (\d{13})/g)].map((m) => Number(m[1]));
    expect(handed).toHaveLength(TICKS);
    const lost = handed.filter((ts) => (ticks.get(ts) ?? []).length !== PARTITIONS);
    // Partial ticks may only be ticks handed over while the broker was down (one interval's worth or so).
    for (const ts of lost) expect(ts, `tick ${ts} incomplete outside the outage`).toBeGreaterThanOrEqual(Math.floor(killedAt / 1000) * 1000 - INTERVAL_SEC * 1000);
    expect(lost.length).toBeLessThanOrEqual(Math.ceil((backAt - killedAt) / 1000 / INTERVAL_SEC) + 1);
    const missingRecords = handed.length * PARTITIONS - records.length;
    const delays = records.map((r) => r.appendedAt - r.value.event_ts);
    console.log(`ticker across a crash of broker ${leader} (down ${((backAt - killedAt) / 1000).toFixed(1)} s incl. restart): ${records.length} of ${handed.length * PARTITIONS} records landed (${missingRecords} missing, ${lost.length} incomplete ticks), 0 duplicates, same producer pid; tick -> append max ${Math.max(...delays)} ms`);
  }, 600_000);

  it("a dead producer ends the script (exit 1, named) within about one interval, so the pod restarts", async () => {
    const run = startTicker("dies", { ticks: 0 });
    for (let i = 0; i < 600 && !/tick 2: /.test(run.log()); i++) await new Promise((r) => setTimeout(r, 100));
    const pid = run.pid();
    // The producer JVM's memory with the pod's heap and GC options (the pod's limit is TICKER_RESOURCES.limits.memory).
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? "NaN");
    console.log(`ticker: producer JVM (${TICKER_HEAP_OPTS} ${TICKER_JVM_OPTS}) RSS ${(kib("VmRSS") / 1024).toFixed(0)} MiB, peak ${(kib("VmHWM") / 1024).toFixed(0)} MiB; pod limit ${TICKER_RESOURCES.limits.memory}`);
    expect(kib("VmHWM") * 1024).toBeLessThan(parseInt(TICKER_RESOURCES.limits.memory, 10) * 1024 * 1024);
    const t0 = Date.now();
    process.kill(pid, "SIGKILL");
    const exit = await run.done;
    const ms = Date.now() - t0;
    expect(exit.code, run.log()).toBe(1);
    expect(run.log()).toContain("the producer exited (status 137); exiting so the pod restarts it");
    expect(ms).toBeLessThan((INTERVAL_SEC + 5) * 1000);
    console.log(`ticker: producer killed -> script exited 1 after ${ms} ms (interval ${INTERVAL_SEC} s)`);
  }, 300_000);
});
