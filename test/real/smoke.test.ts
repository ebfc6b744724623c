/**
 * `npm run smoke` end to end on real servers on 127.0.0.1: 3 Kafka brokers + a Kafka Connect worker running the LOCAL
 * variant of the watch segments sink (JSON with schema) + PostgreSQL 15 with connectors/schema applied.
 *
 * Where a ksqlDB build is named (KSQL_SERVER_START, SCHEMA_REGISTRY_START, KSQL_MIGRATIONS: test/real/e2e/confluent.ts)
 * the smoke runs on the REAL engine instead: the whole pipeline of the end-to-end suite (topics as the local stack makes
 * them, Schema Registry, ksqlDB with the migrations Job's script, the deployed Avro sink) with the session ticker
 * running, and the same expectations. Otherwise, as in CI:
 *
 * ksqlDB is NOT here: test/real/ksqlStandIn.ts runs the reference model in its place (validation, re-keying onto
 * 3 partitions, session windows with the EMIT FINAL close rule, segment split). Sessions close the way they do in
 * the stack: this test plays the session ticker and writes one `__tick__` heartbeat per partition to
 * heartbeats_raw. To avoid waiting gap + grace (90 s) of wall time, the ticks carry an event time (and a matching
 * Kafka record timestamp, so validation's future-skew rule accepts them) gap + grace + 5 s in the future.
 *
 * Two smoke runs go at once (both must send before the ticks, which push stream time past every session): one with
 * the stack's parameters must exit 0; one told a 60 s seek tolerance and a 120 s gap (instead of 10 s and 30 s) expects the
 * pause and 50 s rewind of user 3 to stay one segment, which the pipeline splits, so it must exit 1 with a readable diff.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Client } from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RAW_HEARTBEATS_TOPIC, WATCH_SEGMENTS_TOPIC } from "../../contract/topics";
import { CONFIG_PROVIDER_WORKER_CONFIG, localWatchSegmentsSinkConfig } from "../../connectors/watchSegmentsSink";
import { DEFAULT_SESSIONIZATION_PARAMS } from "../../contract/sessionization";
import { smokeHeartbeats } from "../../tools/smoke/scenario";
import { createDurableTopic } from "./kafka/admin";
import { startCluster, type KafkaTestCluster } from "./kafka/cluster";
import { startConnectWorker, type ConnectWorker } from "./kafka/connect";
import { REPO_ROOT, shouldSkipRealKafka } from "./kafka/paths";
import { startKsqlStandIn, STAND_IN_LABEL, type KsqlStandIn } from "./ksqlStandIn";
import { YSQL_SINK_USER } from "../../components/sink/yugabyteSpecs";
import { pgUnavailable, startPostgres, type PgServer } from "./pg/harness";
import { newSinkPassword, runSchemaJob } from "./pg/schemaJob";
import { closingTickTs, sendTicks } from "./ticks";
import { SEGMENTS_VIEW } from "../../connectors/reports";
import { engineLaunchers } from "./e2e/confluent";
import { startTicker } from "./e2e/driver";
import { SINK_CONNECTOR, startPipeline, type Pipeline } from "./e2e/pipeline";

const skip = shouldSkipRealKafka(pgUnavailable());
/** Where a ksqlDB build is named, the smoke runs on it instead of the stand-in (test/real/e2e/confluent.ts). */
const engine = engineLaunchers();
if (!skip && typeof engine !== "string") console.log("smoke: a ksqlDB build is named (KSQL_SERVER_START ...): the smoke runs on the real engine, not the stand-in");
const CONNECTOR = "watch-segments-sink";
/** The sink role's password, set by the schema Job (V003) as in the cluster. */
const SINK_PASSWORD = newSinkPassword();
/** Partitions of heartbeats_raw, watch_segments and the stand-in's virtual `heartbeats`: several, so routing matters. */
const PARTITIONS = 3;
/** Ticks this far past gap + grace: every smoke session (ending "now") is then strictly past its close time. */
const TICK_LEAD_SEC = 5;
/** Time for both smoke runs to send and the stand-in to read everything (tsx start-up + one acks=all batch). */
const SEND_TIMEOUT_MS = 60_000;
/** The matching run's bound: ticks, the stand-in and the sink need seconds; generous for a busy 2-core machine. */
const GOOD_TIMEOUT_SEC = 90;
/** The mismatching run waits this long before printing its diff: long enough for every segment to have landed. */
const BAD_TIMEOUT_SEC = 40;
const TSX = join(REPO_ROOT, "node_modules", ".bin", "tsx");

interface ChildResult {
  readonly code: number | null;
  readonly output: string;
}

/** Runs `npm run smoke`'s entry point as a child process (real exit code), echoing its output with a prefix. */
function runSmokeCli(name: string, args: readonly string[], env: NodeJS.ProcessEnv): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(TSX, [join(REPO_ROOT, "tools", "smoke.ts"), ...args], { cwd: REPO_ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    const onData = (chunk: Buffer): void => {
      const text = chunk.toString("utf8");
      output += text;
      for (const line of text.split("\n")) if (line.trim() !== "") console.log(`  [${name}] ${line}`);
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.once("error", reject);
    child.once("close", (code) => resolve({ code, output }));
  });
}

/** What both smoke runs print, whatever computes the segments: the good run matches, the bad one shows its diff. */
function expectSmokeResults(g: ChildResult, b: ChildResult, badId: string): void {
  expect(g.code, g.output).toBe(0);
  expect(g.output).toMatch(/sent 44 heartbeats in \d+ ms \(all acknowledged\)/);
  expect(g.output).toMatch(/OK: 7\/7 segments after \d+ s: every expected segment is in watch_segments, nothing else/);

  expect(b.code, b.output).toBe(1);
  expect(b.output).toContain(`MISMATCH: watch_segments for run ${badId}`);
  expect(b.output).toContain("5 of 6 expected segments match");
  expect(b.output).toContain("missing (expected, not in watch_segments): 0");
  expect(b.output).toContain("unexpected (in watch_segments, not expected): 1");
  expect(b.output).toMatch(new RegExp(`\\+ smoke-${badId}-u3 smoke-${badId}-vB start_ts .*: 4 heartbeats, playhead 5 -> 20 s`));
  expect(b.output).toContain("different (same user, video and start_ts): 1");
  expect(b.output).toMatch(new RegExp(`~ smoke-${badId}-u3 smoke-${badId}-vB start_ts `));
  expect(b.output).toContain("      start_position_sec: expected 5, got 40");
  expect(b.output).toContain("      heartbeat_count: expected 8, got 4");
}

/** The segments view holds what the pipeline made of both runs: 7 segments each (the pipeline ran with the defaults). */
async function expectSegmentCounts(db: Client, goodId: string, badId: string): Promise<void> {
  const counts = await db.query<{ run: string; n: number }>(
    `SELECT split_part(user_id, '-u', 1) AS run, count(*)::int AS n FROM ${SEGMENTS_VIEW} GROUP BY 1 ORDER BY 1`,
  );
  expect(counts.rows).toEqual([
    { run: `smoke-${badId}`, n: 7 },
    { run: `smoke-${goodId}`, n: 7 },
  ]);
}

describe.skipIf(skip || typeof engine !== "string")("smoke end to end on real Kafka (3 brokers) + Connect JDBC sink + PostgreSQL 15, with the REFERENCE MODEL STANDING IN FOR ksqlDB (not ksqlDB)", () => {
  let pg: PgServer;
  let db: Client;
  let cluster: KafkaTestCluster;
  let worker: ConnectWorker;
  let standIn: KsqlStandIn;
  let secretDir: string;

  beforeAll(async () => {
    const started = Date.now();
    pg = await startPostgres();
    db = await pg.connect();
    // The schema Job's script (psql for ysqlsh), as deployed: V003 creates the sink role the connector logs in as.
    const job = runSchemaJob(pg, { sinkPassword: SINK_PASSWORD });
    expect(job.status, job.stderr).toBe(0);

    cluster = await startCluster();
    await createDurableTopic(cluster.brokers, RAW_HEARTBEATS_TOPIC, PARTITIONS);
    await createDurableTopic(cluster.brokers, WATCH_SEGMENTS_TOPIC, PARTITIONS);

    secretDir = mkdtempSync(join(tmpdir(), "watchpipe-smoke-secret-"));
    const pwFile = join(secretDir, "db.properties");
    writeFileSync(pwFile, `password=${SINK_PASSWORD}\n`, { mode: 0o600 });
    worker = await startConnectWorker({ bootstrap: cluster.bootstrap, extraConfig: { ...CONFIG_PROVIDER_WORKER_CONFIG.file } });
    await worker.createConnector(
      CONNECTOR,
      localWatchSegmentsSinkConfig({
        db: { host: pg.host, port: pg.port, database: pg.database, user: YSQL_SINK_USER },
        password: { kind: "file", path: pwFile, key: "password" },
        tasksMax: 1,
      }),
    );
    await worker.waitForConnectorRunning(CONNECTOR);

    standIn = await startKsqlStandIn({ brokers: cluster.brokers, heartbeatPartitions: PARTITIONS });
    console.log(`smoke e2e: services up in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  });

  afterAll(async () => {
    await standIn?.stop();
    await worker?.stop();
    await cluster?.stop();
    await db?.end().catch(() => undefined);
    pg?.stop();
    if (secretDir !== undefined) rmSync(secretDir, { recursive: true, force: true });
  });

  it(`${STAND_IN_LABEL} the smoke run with the stack's parameters exits 0; one expecting a 60 s seek tolerance (with a 120 s gap) exits 1 with a field-by-field diff`, async () => {
    const tag = Date.now().toString(36);
    const goodId = `ok-${tag}`;
    const badId = `bad-${tag}`;
    // Only loopback settings; nothing from the caller's environment can point the children elsewhere.
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      LOADGEN_BOOTSTRAP_SERVERS: cluster.bootstrap,
      PGHOST: pg.host,
      PGPORT: String(pg.port),
      PGDATABASE: pg.database,
      PGUSER: pg.user,
      PGPASSWORD: pg.password,
      PGSSLMODE: "disable",
    };
    const started = Date.now();
    const good = runSmokeCli("smoke ok", ["--run-id", goodId, "--timeout-sec", String(GOOD_TIMEOUT_SEC), "--poll-interval-sec", "1"], env);
    const bad = runSmokeCli("smoke wrong-tolerance", ["--run-id", badId, "--session-gap-sec", "120", "--seek-tolerance-sec", "60", "--timeout-sec", String(BAD_TIMEOUT_SEC), "--poll-interval-sec", "1"], env);

    // Play the session ticker once both runs' heartbeats are in the model (a tick first would make them late).
    const perRun = smokeHeartbeats("x", 0).length;
    await standIn.waitForValid("smoke-", 2 * perRun, SEND_TIMEOUT_MS);
    const { sessionGapSec, gracePeriodSec } = DEFAULT_SESSIONIZATION_PARAMS;
    await sendTicks(cluster.brokers, RAW_HEARTBEATS_TOPIC, PARTITIONS, closingTickTs(TICK_LEAD_SEC));
    console.log(`smoke e2e: ${PARTITIONS} ticks at event time +${sessionGapSec + gracePeriodSec + TICK_LEAD_SEC} s sent after ${((Date.now() - started) / 1000).toFixed(1)} s`);

    const [g, b] = await Promise.all([good, bad]);
    console.log(`smoke e2e: both runs done after ${((Date.now() - started) / 1000).toFixed(1)} s; stand-in ${JSON.stringify(standIn.stats())}`);

    expectSmokeResults(g, b, badId);

    await expectSegmentCounts(db, goodId, badId);
    expect(standIn.errors).toEqual([]);
    expect(standIn.stats()).toMatchObject({ droppedLate: 0, rejected: 0, undecodable: 0, valid: 2 * perRun + PARTITIONS });
    const st = await worker.connectorStatus(CONNECTOR);
    expect(st.tasks.map((t) => t.state)).toEqual(["RUNNING"]);
  });
});

/** Ports of the real-engine variant's Schema Registry and ksqlDB (the end-to-end suite uses 19201/19210-19211). */
const ENGINE_PORTS = { sr: 19221, ksql: [19222] } as const;
/** On the real engine a window closes 30 s + grace after its last record arrives, then the sink writes it. */
const ENGINE_GOOD_TIMEOUT_SEC = 300;
const ENGINE_BAD_TIMEOUT_SEC = 240;

describe.skipIf(skip || typeof engine === "string")("smoke end to end on the REAL ksqlDB: 3 brokers + Schema Registry + ksqlDB (migrations by the Job's script) + Connect (deployed Avro sink) + PostgreSQL 15", () => {
  let p: Pipeline;
  let db: Client;

  beforeAll(async () => {
    if (typeof engine === "string") throw new Error(engine);
    p = await startPipeline(engine, ENGINE_PORTS, (line) => console.log(`smoke (real ksqlDB): ${line}`));
    db = await p.pg.connect();
  }, 1_200_000);

  afterAll(async () => {
    await db?.end().catch(() => undefined);
    await p?.stop();
  }, 300_000);

  it("the smoke run with the stack's parameters exits 0; one expecting a 60 s seek tolerance (with a 120 s gap) exits 1 with a field-by-field diff", async () => {
    const tag = Date.now().toString(36);
    const goodId = `ok-${tag}`;
    const badId = `bad-${tag}`;
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      LOADGEN_BOOTSTRAP_SERVERS: p.cluster.bootstrap,
      PGHOST: p.pg.host,
      PGPORT: String(p.pg.port),
      PGDATABASE: p.pg.database,
      PGUSER: p.pg.user,
      PGPASSWORD: p.pg.password,
      PGSSLMODE: "disable",
    };
    const started = Date.now();
    const good = runSmokeCli("smoke ok", ["--run-id", goodId, "--timeout-sec", String(ENGINE_GOOD_TIMEOUT_SEC), "--poll-interval-sec", "2"], env);
    const bad = runSmokeCli("smoke wrong-tolerance", ["--run-id", badId, "--session-gap-sec", "120", "--seek-tolerance-sec", "60", "--timeout-sec", String(ENGINE_BAD_TIMEOUT_SEC), "--poll-interval-sec", "2"], env);
    // The session ticker as the stack runs it; first one closing tick as the stand-in variant sends (its record
    // timestamp counts where the topic keeps the producer's; on a LogAppendTime topic the broker's stamp does).
    await new Promise((r) => setTimeout(r, SEND_TIMEOUT_MS / 2));
    await sendTicks(p.cluster.brokers, RAW_HEARTBEATS_TOPIC, p.topics.heartbeatPartitions, closingTickTs(TICK_LEAD_SEC));
    const ticker = startTicker(p.cluster.brokers, p.topics.heartbeatPartitions, (line) => console.log(`smoke (real ksqlDB): ${line}`));
    const [g, b] = await Promise.all([good, bad]).finally(() => ticker.stop());
    console.log(`smoke (real ksqlDB): both runs done after ${((Date.now() - started) / 1000).toFixed(1)} s`);
    expectSmokeResults(g, b, badId);
    await expectSegmentCounts(db, goodId, badId);
    const st = await p.connect.connectorStatus(SINK_CONNECTOR);
    expect(st.tasks.every((t) => t.state === "RUNNING")).toBe(true);
  }, 900_000);
});
