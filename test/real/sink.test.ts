/**
 * The watch pieces sink (sessionization v2) end to end on real services: 3 Kafka brokers + a Kafka Connect worker with the Debezium
 * JDBC plugin (test/real/kafka) and PostgreSQL 15 (test/real/pg) with our schema, running the local variant of
 * connectors/watchSegmentsSink.ts (JSON with schema instead of Avro; everything else as deployed).
 *
 * The schema is applied by the schema Job's own script, and the connector logs in as the sink's least-privilege role
 * (connectors/schema/V003), never as the superuser, with the password reaching it only through a config provider.
 *
 * Proves: upsert on the value key converges under duplicates and replays, with nothing beyond that role's grants, and
 * the database's stitching view (V004) over what landed equals the reference model's segments; a
 * tombstone does not stop the task; a poison record lands in the DLQ with error context headers while later good
 * records still land; rows the database refuses are diverted (V005) without stopping the task; records from an aborted transaction are never loaded (read_committed).
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Kafka, logLevel, Producer } from "kafkajs";
import type { Client } from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MIN_INSYNC_REPLICAS, REPLICATION_FACTOR } from "../../contract/durability";
import { WATCH_SEGMENTS_DLQ_TOPIC, WATCH_SEGMENTS_TOPIC, type WatchPiece, type WatchSegment } from "../../contract/topics";
import { stitchRows } from "../../ksql/model/pipeline";
import { YSQL_SINK_USER } from "../../components/sink/yugabyteSpecs";
import { CONFIG_PROVIDER_WORKER_CONFIG, connectJsonEnvelope, localWatchSegmentsSinkConfig } from "../../connectors/watchSegmentsSink";
import { createTopicsReady } from "./kafka/admin";
import { startCluster, type KafkaTestCluster } from "./kafka/cluster";
import { startConnectWorker, type ConnectWorker } from "./kafka/connect";
import { waitUntil } from "./kafka/jvm";
import { shouldSkipRealKafka } from "./kafka/paths";
import { fixturePieces, pieceKey } from "./pg/pieceFixtures";
import { PgServer, startPostgres } from "./pg/harness";
import { newSinkPassword, runSchemaJob } from "./pg/schemaJob";

const skip = shouldSkipRealKafka();
const CONNECTOR = "watch-segments-sink";
/** Several partitions so ordering across partitions is not something the test silently relies on. */
const SOURCE_PARTITIONS = 3;
/** How long to wait for records to reach the table: Connect polls, batches and commits every second or so. */
const LAND_TIMEOUT_MS = 90_000;
/** The sink role's password, as the sink Secret would hold it (32 alphanumerics). */
const SINK_PASSWORD = newSinkPassword();


const envelope = connectJsonEnvelope;
const keyOf = (s: WatchPiece): string => `${s.user_id}|${s.video_id}`;

describe.skipIf(skip)("watch pieces JDBC sink on a real Connect worker (3 brokers, PostgreSQL 15, 127.0.0.1)", () => {
  let pg: PgServer;
  let db: Client;
  let cluster: KafkaTestCluster;
  let worker: ConnectWorker;
  let kafka: Kafka;
  let producer: Producer;
  let secretDir: string;

  async function rows(): Promise<WatchPiece[]> {
    const r = await db.query(
      `SELECT user_id, video_id, (extract(epoch FROM start_ts) * 1000)::float8 AS start_ts,
              (extract(epoch FROM end_ts) * 1000)::float8 AS end_ts, first_position_sec, last_position_sec,
              min_position_sec, max_position_sec, heartbeat_count, piece_no, session_gap_ms, seek_tolerance_ms,
              max_rate_permille
         FROM watch_pieces`,
    );
    return (r.rows as WatchPiece[]).sort((a, b) => (pieceKey(a) < pieceKey(b) ? -1 : 1));
  }

  async function segments(): Promise<WatchSegment[]> {
    const r = await db.query(
      `SELECT user_id, video_id, start_position_sec, end_position_sec, (extract(epoch FROM start_ts) * 1000)::float8 AS start_ts,
              (extract(epoch FROM end_ts) * 1000)::float8 AS end_ts, heartbeat_count, watched_sec
         FROM watch_segments_v2 ORDER BY user_id, video_id, start_ts`,
    );
    return r.rows as WatchSegment[];
  }

  async function send(messages: Array<{ key: string; value: string | null }>): Promise<void> {
    await producer.send({ topic: WATCH_SEGMENTS_TOPIC, acks: -1, messages });
  }

  async function expectTaskRunning(): Promise<void> {
    const st = await worker.connectorStatus(CONNECTOR);
    expect(st.connector.state).toBe("RUNNING");
    expect(st.tasks.map((t) => `${t.id}:${t.state}${t.trace === undefined ? "" : ` ${t.trace.slice(0, 500)}`}`)).toEqual(["0:RUNNING"]);
  }

  /** Waits until a piece with this key is in the table with exactly these values. */
  async function waitForRow(s: WatchPiece): Promise<void> {
    await waitUntil(`piece ${pieceKey(s)} in watch_pieces`, LAND_TIMEOUT_MS, async () => {
      const r = await db.query(
        "SELECT heartbeat_count FROM watch_pieces WHERE user_id = $1 AND video_id = $2 AND start_ts = $3 AND piece_no = $4",
        [s.user_id, s.video_id, new Date(s.start_ts), s.piece_no],
      );
      return r.rows.length === 1 && r.rows[0].heartbeat_count === s.heartbeat_count;
    });
  }

  beforeAll(async () => {
    pg = await startPostgres();
    // The schema Job's script (psql for ysqlsh): V003 creates the sink role with SINK_PASSWORD.
    const job = runSchemaJob(pg, { sinkPassword: SINK_PASSWORD });
    expect(job.status, `schema Job failed:\n${job.stdout}\n${job.stderr}`).toBe(0);
    db = await pg.connect();

    cluster = await startCluster();
    kafka = new Kafka({ clientId: "sink-test", brokers: [...cluster.brokers], logLevel: logLevel.NOTHING });
    await createTopicsReady(cluster.brokers, [{
      topic: WATCH_SEGMENTS_TOPIC, numPartitions: SOURCE_PARTITIONS, replicationFactor: REPLICATION_FACTOR,
      configEntries: [{ name: "min.insync.replicas", value: String(MIN_INSYNC_REPLICAS) }],
    }]);
    producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, retry: { retries: 10 } });
    await producer.connect();

    // The sink role's password reaches the connector only through FileConfigProvider, as the Secret does in the cluster.
    secretDir = mkdtempSync(join(tmpdir(), "watchpipe-sink-secret-"));
    const pwFile = join(secretDir, "db.properties");
    writeFileSync(pwFile, `password=${SINK_PASSWORD}\n`, { mode: 0o600 });

    worker = await startConnectWorker({ bootstrap: cluster.bootstrap, extraConfig: { ...CONFIG_PROVIDER_WORKER_CONFIG.file } });
    const config = localWatchSegmentsSinkConfig({
      db: { host: pg.host, port: pg.port, database: pg.database, user: YSQL_SINK_USER },
      password: { kind: "file", path: pwFile, key: "password" },
      tasksMax: 1,
    });
    expect(config["connection.username"]).toBe(YSQL_SINK_USER);
    expect(config["connection.password"]).not.toContain(SINK_PASSWORD);
    await worker.createConnector(CONNECTOR, config);
    await worker.waitForConnectorRunning(CONNECTOR);
  });

  afterAll(async () => {
    await producer?.disconnect().catch(() => undefined);
    await worker?.stop();
    await cluster?.stop();
    await db?.end().catch(() => undefined);
    pg?.stop();
    if (secretDir !== undefined) rmSync(secretDir, { recursive: true, force: true });
  });

  it("upserts: every piece, duplicated and replayed, leaves one row per piece, and the view stitches the model's segments", async () => {
    const finals = fixturePieces(11, 4, 3);
    // Per key in order (as ksqlDB emits one key's pieces to one partition), each piece twice; then a replay of the
    // first half of the stream (a producer retry / upstream reprocessing).
    const stream = finals.flatMap((v) => [v, v]);
    const replay = stream.slice(0, Math.floor(stream.length / 2));
    for (const batch of [stream, replay]) {
      for (let i = 0; i < batch.length; i += 200) {
        await send(batch.slice(i, i + 200).map((s) => ({ key: keyOf(s), value: envelope(s) })));
      }
    }
    const sorted = [...finals].sort((a, b) => (pieceKey(a) < pieceKey(b) ? -1 : 1));
    await waitUntil(`${finals.length} pieces in watch_pieces`, LAND_TIMEOUT_MS, async () => {
      const got = await rows();
      return got.length === finals.length && JSON.stringify(got) === JSON.stringify(sorted);
    }).catch(async (err: unknown) => {
      const got = await rows();
      throw new Error(`${String(err)}; table has ${got.length} rows, expected ${finals.length}; first: ${JSON.stringify(got[0])}`);
    });
    expect(await rows()).toEqual(sorted);
    expect(await segments()).toEqual(stitchRows(finals));
    await expectTaskRunning();
    // The rows were written by the sink role: its sessions are the only non-superuser ones on the database.
    const sessions = await db.query(
      "SELECT DISTINCT usename FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid() AND backend_type = 'client backend'",
      [pg.database],
    );
    expect(sessions.rows.map((r: { usename: string }) => r.usename)).toEqual([YSQL_SINK_USER]);
  });

  it("a tombstone does not stop the task and later records still land", async () => {
    const [s] = fixturePieces(21, 1, 1);
    await send([{ key: keyOf(s), value: null }]);
    const after = { ...s, user_id: "after-tombstone" };
    await send([{ key: keyOf(after), value: envelope(after) }]);
    await waitForRow(after);
    await expectTaskRunning();
  });

  it("a poison record goes to watch_segments_dlq (RF 3) with error context headers; later good records land", async () => {
    const poison = "{this is not json";
    await send([{ key: "poison-key", value: poison }]);
    const good = { ...fixturePieces(31, 1, 1)[0], user_id: "after-poison" };
    await send([{ key: keyOf(good), value: envelope(good) }]);
    await waitForRow(good);
    await expectTaskRunning();

    const consumer = kafka.consumer({ groupId: `dlq-reader-${Date.now()}` });
    const seen: Array<{ value: string; headers: Record<string, string> }> = [];
    await consumer.connect();
    try {
      await waitUntil(`DLQ topic ${WATCH_SEGMENTS_DLQ_TOPIC} exists`, LAND_TIMEOUT_MS, async () => {
        const admin = kafka.admin();
        await admin.connect();
        try {
          return (await admin.listTopics()).includes(WATCH_SEGMENTS_DLQ_TOPIC);
        } finally {
          await admin.disconnect();
        }
      });
      await consumer.subscribe({ topic: WATCH_SEGMENTS_DLQ_TOPIC, fromBeginning: true });
      await consumer.run({
        eachMessage: async ({ message }) => {
          const headers = Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)]));
          seen.push({ value: message.value?.toString() ?? "", headers });
        },
      });
      await waitUntil("the poison record in the DLQ", LAND_TIMEOUT_MS, async () => seen.some((m) => m.value === poison));
    } finally {
      await consumer.disconnect();
    }
    const dead = seen.find((m) => m.value === poison);
    expect(dead?.headers).toMatchObject({
      "__connect.errors.topic": WATCH_SEGMENTS_TOPIC,
      "__connect.errors.stage": "VALUE_CONVERTER",
      "__connect.errors.connector.name": CONNECTOR,
    });
    expect(dead?.headers["__connect.errors.exception.class.name"]).toMatch(/DataException/);
    expect(seen.filter((m) => m.value !== poison)).toEqual([]); // good records never reach the DLQ

    const admin = kafka.admin();
    await admin.connect();
    try {
      const md = await admin.fetchTopicMetadata({ topics: [WATCH_SEGMENTS_DLQ_TOPIC] });
      for (const p of md.topics[0].partitions) expect(p.replicas).toHaveLength(REPLICATION_FACTOR);
    } finally {
      await admin.disconnect();
    }
  });

  it("rows the DATABASE refuses are diverted to watch_pieces_rejected (V005): the task stays RUNNING, later rows land", async () => {
    // Debezium JDBC 3.6 does not route write errors to the Kafka DLQ (errors.tolerance covers conversion and
    // transforms only): without V005's guard the first of these rows would fail the task, and fail it again on every
    // restart. One row per CHECK rule of watch_pieces; NOT NULL breaks cannot get this far (the record schema makes
    // every field required, so the converter dead-letters them to the Kafka DLQ).
    const [base] = fixturePieces(51, 1, 1);
    const bad: Array<[string, WatchPiece]> = [
      ["watch_pieces_user_id_chk", { ...base, user_id: "u".repeat(257) }],
      ["watch_pieces_video_id_chk", { ...base, user_id: "db-refuses-video", video_id: "" }],
      ["watch_pieces_piece_no_chk", { ...base, user_id: "db-refuses-piece-no", piece_no: 0 }],
      ["watch_pieces_time_order_chk", { ...base, user_id: "db-refuses-time", end_ts: base.start_ts - 1 }],
      ["watch_pieces_range_chk", { ...base, user_id: "db-refuses-range", min_position_sec: -1 }],
      ["watch_pieces_heartbeat_count_chk", { ...base, user_id: "db-refuses-count", heartbeat_count: 0 }],
      ["watch_pieces_rule_chk", { ...base, user_id: "db-refuses-rule", session_gap_ms: 0 }],
    ];
    const good = { ...base, user_id: "after-db-refusals" };
    // Same key: one partition, so the good row is behind every refused one.
    await send([...bad.map(([, p]) => ({ key: "refused", value: envelope(p) })), { key: "refused", value: envelope(good) }]);
    await waitForRow(good);
    await expectTaskRunning();
    const r = await db.query<{ violated_rule: string; user_id: string }>(
      "SELECT violated_rule, piece->>'user_id' AS user_id FROM watch_pieces_rejected ORDER BY violated_rule");
    expect(r.rows).toEqual(bad.map(([rule, p]) => ({ violated_rule: rule, user_id: p.user_id })).sort((a, b) => (a.violated_rule < b.violated_rule ? -1 : 1)));
    const landed = await db.query("SELECT count(*)::int AS n FROM watch_pieces WHERE user_id = ANY($1)", [bad.map(([, p]) => p.user_id)]);
    expect(landed.rows[0].n).toBe(0);
  });

  it("reads committed records only: a segment from an aborted transaction never lands", async () => {
    const txProducer = kafka.producer({ transactionalId: `sink-test-${Date.now()}`, idempotent: true, maxInFlightRequests: 1, retry: { retries: 10 } });
    await txProducer.connect();
    const [base] = fixturePieces(41, 1, 1);
    const aborted = { ...base, user_id: "aborted-tx" };
    const committed = { ...base, user_id: "committed-tx" };
    try {
      const t1 = await txProducer.transaction();
      await t1.send({ topic: WATCH_SEGMENTS_TOPIC, messages: [{ key: "k", value: envelope(aborted) }] });
      await t1.abort();
      const t2 = await txProducer.transaction();
      // Same key -> same partition, after the aborted record: once `committed` lands, `aborted` was skipped.
      await t2.send({ topic: WATCH_SEGMENTS_TOPIC, messages: [{ key: "k", value: envelope(committed) }] });
      await t2.commit();
    } finally {
      await txProducer.disconnect();
    }
    await waitForRow(committed);
    const r = await db.query("SELECT count(*)::int AS n FROM watch_pieces WHERE user_id = 'aborted-tx'");
    expect(r.rows[0].n).toBe(0);
    await expectTaskRunning();
  });
});
