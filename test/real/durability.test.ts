/**
 * Durability of the heartbeat ingest path on a real 3-broker KRaft cluster (127.0.0.1), driven by the load
 * generator's own producer code (tools/loadgen): acks=all, idempotent, one send in flight per producer.
 *  (a) one broker killed mid-load: every acknowledged record is read back exactly once, the producer keeps going;
 *  (b) two brokers killed: sends fail with a clear error within the configured bound, nothing acknowledged is
 *      lost, sending resumes after the brokers return;
 *  (c) topics are RF 3 / min ISR 2 and auto.create.topics.enable=false holds;
 *  (d) worker threads (--workers 2): each owns half the partitions; every record is read back exactly once.
 * Records carry a unique `<runId>:<seq>` header, so losses and duplicates are counted exactly.
 */
import { Kafka, logLevel } from "kafkajs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MIN_INSYNC_REPLICAS, REPLICATION_FACTOR } from "../../contract/durability";
import { DEFAULT_SEND_TIMEOUT_MS, parseLoadgenArgs, type LoadgenConfig } from "../../tools/loadgen/config";
import { createPartitionedKafkaLanes, describeSendError, KafkaLane, maxSendFailureMs, REQUEST_TIMEOUT_MARGIN_MS } from "../../tools/loadgen/kafkaSender";
import { toRecords, type LoadRecord } from "../../tools/loadgen/records";
import { runLoad, type RunSummary } from "../../tools/loadgen/run";
import { createSimulation, nextHeartbeats } from "../../tools/loadgen/simulate";
import { runLoadInWorkers, workerRunId } from "../../tools/loadgen/workers";
import { createDurableTopic } from "./kafka/admin";
import { startCluster, type KafkaTestCluster } from "./kafka/cluster";
import { waitUntil } from "./kafka/jvm";
import { shouldSkipRealKafka } from "./kafka/paths";
import { auditDelivery, readAllSeqs } from "./kafka/readBack";

const skip = shouldSkipRealKafka();
/** Six partitions: every broker leads two, so any killed broker takes leaders with it. */
const PARTITIONS = 6;
/** Paced, not max rate: the point is correctness under failure, and the machine is shared. */
const LOAD_RATE = 3_000;
/** Load before the first kill, so the failure hits a producer in steady state. */
const WARMUP_MS = 4_000;
/**
 * Load kept running after a kill before the broker returns. A request already in flight to the killed broker is given
 * up only when kafkajs's request timeout (send timeout + margin) expires; then leadership has moved (the test brokers'
 * session timeout is 4 s) and the retry lands. Waiting that long plus slack shows the producer carrying on with the
 * broker still down, instead of racing the timeout.
 */
const AFTER_KILL_MS = DEFAULT_SEND_TIMEOUT_MS + REQUEST_TIMEOUT_MARGIN_MS + 6_000;
/** (b) uses short timeouts so "fails within the bound" is observable in a test run. */
const B_SEND_TIMEOUT_MS = 3_000;
const B_RETRIES = 3;

function loadConfig(cluster: KafkaTestCluster, topic: string, extra: string[] = []): LoadgenConfig {
  const parsed = parseLoadgenArgs(
    ["--bootstrap", cluster.bootstrap, "--topic", topic, "--rate", String(LOAD_RATE), "--duration", "600",
      "--batch-size", "300", "--producers", "2", "--viewers", "5000", "--progress-interval", "4", ...extra],
    {},
  );
  if (parsed.help) throw new Error("unexpected --help");
  return parsed.config;
}

interface RunningLoad {
  readonly acked: Set<string>;
  readonly ackTimes: number[];
  readonly failures: { at: number; error: Error }[];
  readonly stop: () => Promise<RunSummary>;
}

/** The loadgen's own production path: lanes that own partitions, records routed to their partition's lane. */
async function startLoad(cfg: LoadgenConfig, runId: string): Promise<RunningLoad> {
  const { lanes, laneOf } = await createPartitionedKafkaLanes(cfg, runId);
  const abort = new AbortController();
  const acked = new Set<string>();
  const ackTimes: number[] = [];
  const failures: { at: number; error: Error }[] = [];
  const done = runLoad(cfg, lanes, {
    signal: abort.signal,
    laneOf,
    log: (l) => console.log(`  [${runId}] ${l}`),
    onAcked: (records: readonly LoadRecord[]) => {
      for (const r of records) acked.add(`${runId}:${r.seq}`);
      ackTimes.push(Date.now());
    },
    onFailed: (_records, error) => failures.push({ at: Date.now(), error }),
  });
  return {
    acked,
    ackTimes,
    failures,
    stop: async () => {
      abort.abort();
      const summary = await done;
      await Promise.all(lanes.map((l) => l.close().catch(() => undefined)));
      return summary;
    },
  };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe.skipIf(skip)("heartbeat ingest durability (kafkajs loadgen producer, real 3-broker KRaft cluster)", () => {
  let cluster: KafkaTestCluster;
  let kafka: Kafka;

  beforeAll(async () => {
    cluster = await startCluster();
    kafka = new Kafka({ clientId: "durability-test", brokers: [...cluster.brokers], logLevel: logLevel.NOTHING });
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it("(c) creates topics RF 3 with min ISR 2, and refuses to auto-create a missing topic", async () => {
    await createDurableTopic(cluster.brokers, "durability_c", PARTITIONS);
    const admin = kafka.admin();
    await admin.connect();
    try {
      const md = await admin.fetchTopicMetadata({ topics: ["durability_c"] });
      for (const p of md.topics[0]!.partitions) expect(p.replicas, `partition ${p.partitionId} replicas`).toHaveLength(REPLICATION_FACTOR);
      const cfgs = await admin.describeConfigs({ includeSynonyms: false, resources: [{ type: 2 /* TOPIC */, name: "durability_c" }] });
      const minIsr = cfgs.resources[0]!.configEntries.find((e) => e.configName === "min.insync.replicas");
      expect(minIsr?.configValue).toBe(String(MIN_INSYNC_REPLICAS));
      const brokerCfg = await admin.describeConfigs({ includeSynonyms: false, resources: [{ type: 4 /* BROKER */, name: "1" }] });
      const autoCreate = brokerCfg.resources[0]!.configEntries.find((e) => e.configName === "auto.create.topics.enable");
      expect(autoCreate?.configValue).toBe("false");

      // Produce to a topic that does not exist, with the loadgen's producer: it must fail, and no topic appears.
      const cfg = loadConfig(cluster, "durability_missing_topic", ["--retries", "2", "--send-timeout-ms", "2000"]);
      const lane = new KafkaLane(new Kafka({ brokers: [...cluster.brokers], logLevel: logLevel.NOTHING, retry: { retries: 2 } }), cfg, "c");
      const sim = createSimulation({ viewers: 10, videos: 10, seed: 1, startTs: Date.now() });
      const res = await lane.send(toRecords(nextHeartbeats(sim, 10), 0, 0, Math.random));
      await lane.close();
      console.log(`  produce to a missing topic: ${res.error ? describeSendError(res.error) : "(no error)"}`);
      expect(res.acked).toBe(0);
      expect(res.failed).toBe(10);
      expect(await admin.listTopics()).not.toContain("durability_missing_topic");
    } finally {
      await admin.disconnect();
    }
  });

  it("(a) one broker killed mid-load: the producer keeps going and every acknowledged record is read back exactly once", async () => {
    const topic = "durability_a";
    await createDurableTopic(cluster.brokers, topic, PARTITIONS);
    const load = await startLoad(loadConfig(cluster, topic), "a");
    await sleep(WARMUP_MS);
    const killedAt = Date.now();
    await cluster.stopBroker(1, "kill");
    console.log(`  killed node 2 (kill -9) with ${load.acked.size} records acknowledged`);
    await sleep(AFTER_KILL_MS);
    const ackedBeforeRestart = load.acked.size;
    await cluster.startBroker(1);
    await sleep(2_000);
    const summary = await load.stop();

    const read = await readAllSeqs(cluster.brokers, topic);
    const audit = auditDelivery(load.acked, read);
    const acksAfterKill = load.ackTimes.filter((t) => t > killedAt + 1_000).length;
    console.log(
      `  (a) acked ${summary.acked}, failed ${summary.failed}, acked batches after the kill ${acksAfterKill}; ` +
        `read ${read.total}: lost ${audit.lost.length}, duplicated ${audit.duplicated.length}, unacked-but-present ${audit.unackedPresent}`,
    );
    expect(read.withoutSeq).toBe(0);
    expect(audit.lost.length, `lost (first 20): ${audit.lost.slice(0, 20).join(",")}`).toBe(0);
    expect(audit.duplicated.length, `duplicated (first 20): ${audit.duplicated.slice(0, 20).join(",")}`).toBe(0);
    expect(summary.failed, `failed sends: ${load.failures.map((f) => describeSendError(f.error)).join("; ")}`).toBe(0);
    expect(acksAfterKill).toBeGreaterThan(10);
    expect(ackedBeforeRestart).toBeGreaterThan(LOAD_RATE * (WARMUP_MS / 1000));
    await cluster.waitForIsr(topic, REPLICATION_FACTOR);
  });

  it("(b) two brokers killed: sends fail clearly within the bound, nothing acknowledged is lost, sending resumes after they return", async () => {
    const topic = "durability_b";
    await createDurableTopic(cluster.brokers, topic, PARTITIONS);
    const cfg = loadConfig(cluster, topic, ["--send-timeout-ms", String(B_SEND_TIMEOUT_MS), "--retries", String(B_RETRIES)]);
    const bound = maxSendFailureMs(cfg);
    const load = await startLoad(cfg, "b");
    await sleep(WARMUP_MS);
    const killedAt = Date.now();
    await Promise.all([cluster.stopBroker(1, "kill"), cluster.stopBroker(2, "kill")]);
    console.log(`  killed nodes 2 and 3 with ${load.acked.size} acknowledged; failure bound ${bound} ms`);
    await waitUntil("a failed send after killing two brokers", bound + 5_000, async () => load.failures.length > 0);
    const firstFailure = load.failures[0]!;
    const failedAfterMs = firstFailure.at - killedAt;
    console.log(`  first failure ${failedAfterMs} ms after the kill: ${describeSendError(firstFailure.error)}`);
    expect(failedAfterMs).toBeLessThanOrEqual(bound);
    expect(firstFailure.error.name).toMatch(/^KafkaJS/);

    await sleep(3_000);
    const restartedAt = Date.now();
    await Promise.all([cluster.startBroker(1), cluster.startBroker(2)]);
    await waitUntil("acknowledged sends after the brokers returned", 90_000, async () =>
      load.ackTimes.some((t) => t > restartedAt + 500),
    );
    const resumedAfterMs = load.ackTimes.find((t) => t > restartedAt)! - restartedAt;
    await sleep(3_000);
    const summary = await load.stop();

    const read = await readAllSeqs(cluster.brokers, topic);
    const audit = auditDelivery(load.acked, read);
    console.log(
      `  (b) acked ${summary.acked}, failed ${summary.failed}, resumed ${resumedAfterMs} ms after restart began; ` +
        `read ${read.total}: lost ${audit.lost.length}, duplicated ${audit.duplicated.length}, unacked-but-present ${audit.unackedPresent}`,
    );
    expect(summary.failed).toBeGreaterThan(0);
    expect(read.withoutSeq).toBe(0);
    expect(audit.lost.length, `lost (first 20): ${audit.lost.slice(0, 20).join(",")}`).toBe(0);
    expect(audit.duplicated.length, `duplicated (first 20): ${audit.duplicated.slice(0, 20).join(",")}`).toBe(0);
  });

  it("(d) worker threads split the partitions: every record of a max-rate run is acknowledged and read back exactly once", async () => {
    const topic = "durability_d";
    await createDurableTopic(cluster.brokers, topic, PARTITIONS);
    const records = 60_000;
    const parsed = parseLoadgenArgs(
      ["--bootstrap", cluster.bootstrap, "--topic", topic, "--rate", "0", "--count", String(records), "--workers", "2", "--progress-interval", "4"],
      {},
    );
    if (parsed.help) throw new Error("unexpected --help");
    const summary = await runLoadInWorkers(parsed.config, "d", { log: (l) => console.log(`  [d] ${l}`) });
    const read = await readAllSeqs(cluster.brokers, topic);
    const perWorker = [0, 1].map((w) => [...read.counts.keys()].filter((id) => id.startsWith(`${workerRunId("d", w)}:`)).length);
    const duplicated = [...read.counts.values()].filter((n) => n > 1).length;
    console.log(`  (d) acked ${summary.acked}, failed ${summary.failed}; read ${read.total} (per worker ${perWorker.join(" + ")}), duplicated ${duplicated}`);
    expect(summary).toMatchObject({ generated: records, acked: records, failed: 0 });
    expect(read.withoutSeq).toBe(0);
    expect(read.total).toBe(records);
    expect(read.counts.size).toBe(records);
    expect(duplicated).toBe(0);
    // Both threads carried load (each owns three of the six partitions).
    expect(perWorker.every((n) => n > records / 4)).toBe(true);
  });
});
