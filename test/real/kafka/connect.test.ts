/**
 * The Connect harness works end to end: a distributed worker joins the local 3-broker cluster, its internal
 * topics are RF 3, the Debezium JDBC sink plugin is installed, and a connector created through the helpers runs
 * and moves records (FileStreamSink: needs no database, so this suite checks the harness, not a sink).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Kafka, logLevel } from "kafkajs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPLICATION_FACTOR } from "../../../contract/durability";
import { createTopicsReady } from "./admin";
import { startCluster, type KafkaTestCluster } from "./cluster";
import { DEFAULT_CONNECT_GROUP_ID, startConnectWorker, type ConnectWorker } from "./connect";
import { waitUntil } from "./jvm";
import { shouldSkipRealKafka } from "./paths";
import { DEBEZIUM_JDBC_SINK_CLASS } from "./plugins";

const skip = shouldSkipRealKafka();
const TOPIC = "connect_harness_check";

describe.skipIf(skip)("Kafka Connect worker harness (real worker, 3 brokers on 127.0.0.1)", () => {
  let cluster: KafkaTestCluster;
  let worker: ConnectWorker;
  let outDir: string;

  beforeAll(async () => {
    cluster = await startCluster();
    worker = await startConnectWorker({ bootstrap: cluster.bootstrap });
    outDir = mkdtempSync(path.join(os.tmpdir(), "watchpipe-connect-out-"));
  });
  afterAll(async () => {
    await worker?.stop();
    await cluster?.stop();
    if (outDir) rmSync(outDir, { recursive: true, force: true });
  });

  it("lists the Debezium JDBC sink connector plugin", async () => {
    const classes = (await worker.listPlugins()).map((p) => p.class);
    expect(classes).toContain(DEBEZIUM_JDBC_SINK_CLASS);
  });

  it("creates its internal topics with replication factor 3", async () => {
    const admin = new Kafka({ brokers: [...cluster.brokers], logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    try {
      const names = ["configs", "offsets", "status"].map((s) => `${DEFAULT_CONNECT_GROUP_ID}-${s}`);
      const md = await admin.fetchTopicMetadata({ topics: names });
      for (const t of md.topics) {
        for (const p of t.partitions) expect(p.replicas, `${t.name}[${p.partitionId}] replicas`).toHaveLength(REPLICATION_FACTOR);
      }
    } finally {
      await admin.disconnect();
    }
  });

  it("runs a connector created through the helpers and deletes it", async () => {
    const kafka = new Kafka({ brokers: [...cluster.brokers], logLevel: logLevel.NOTHING });
    await createTopicsReady(cluster.brokers, [{ topic: TOPIC, numPartitions: 1, replicationFactor: REPLICATION_FACTOR }]);
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, retry: { retries: 10 } });
    await producer.connect();
    await producer.send({ topic: TOPIC, acks: -1, messages: ["a", "b", "c"].map((v) => ({ value: JSON.stringify({ v }) })) });
    await producer.disconnect();

    const file = path.join(outDir, "sink.txt");
    await worker.createConnector("file-sink", {
      "connector.class": "org.apache.kafka.connect.file.FileStreamSinkConnector",
      topics: TOPIC,
      file,
      "tasks.max": "1",
      "value.converter": "org.apache.kafka.connect.json.JsonConverter",
      "value.converter.schemas.enable": "false",
    });
    const status = await worker.waitForConnectorRunning("file-sink");
    expect(status.tasks[0]?.state).toBe("RUNNING");
    await waitUntil(`3 lines in ${file}`, 30_000, async () => existsSync(file) && readFileSync(file, "utf8").trim().split("\n").length === 3);
    expect(readFileSync(file, "utf8")).toContain("v=a");

    await worker.deleteConnector("file-sink");
    expect(await worker.listConnectors()).not.toContain("file-sink");
  });
});
