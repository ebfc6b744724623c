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
 *
 * A third run goes at the same time through the REAL ingest gateway (Envoy jwt_authn + Apache Camel, from
 * .ci/install-ingest-gateway.sh's cache; test/real/ingest/gateway.ts) with `--mode gateway`: each smoke user posts its
 * own heartbeats under its own token from a throwaway identity provider whose JWKS the gateway reads; it must exit 0
 * with every segment matched, and its records on heartbeats_raw carry the verified subject. Then a run whose key the
 * gateway does not trust must exit 2 naming the 401 and write nothing. Skipped with the reason where the gateway is not
 * installed; under CI=true (which installs it) a missing gateway fails.
 */
import { spawn } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { Kafka, logLevel } from "kafkajs";
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
import { missingGateway, readRawHeartbeats, startGateway, type Gateway } from "./ingest/gateway";
import { TEST_AUDIENCE, TEST_ISSUER, testIdp, type TestIdp } from "./ingest/tokens";
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
/** Why the ingest gateway cannot run here (Envoy or Camel not installed), or undefined. */
const gatewayMissing = missingGateway();
/** Outside CI a missing gateway skips its cases; CI installs it (.ci/install-ingest-gateway.sh), so there they fail. */
const skipGateway = gatewayMissing !== undefined && process.env.CI !== "true";
if (!skip && skipGateway) console.warn(`[skipped] smoke through the ingest gateway: ${gatewayMissing}`);
/** This suite's gateway ports, apart from the gateway suites' 19600-19799. */
const GATEWAY_PORTS: readonly [number, number] = [23000, 23199];

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

/** The segments view holds what the pipeline made of every run: 7 segments each (the pipeline ran with the defaults). */
async function expectSegmentCounts(db: Client, runIds: readonly string[]): Promise<void> {
  const counts = await db.query<{ run: string; n: number }>(
    `SELECT split_part(user_id, '-u', 1) AS run, count(*)::int AS n FROM ${SEGMENTS_VIEW} GROUP BY 1 ORDER BY 1`,
  );
  expect(counts.rows).toEqual(runIds.map((id) => `smoke-${id}`).sort().map((run) => ({ run, n: 7 })));
}

describe.skipIf(skip || typeof engine !== "string")("smoke end to end on real Kafka (3 brokers) + Connect JDBC sink + PostgreSQL 15, with the REFERENCE MODEL STANDING IN FOR ksqlDB (not ksqlDB)", () => {
  let pg: PgServer;
  let db: Client;
  let cluster: KafkaTestCluster;
  let worker: ConnectWorker;
  let standIn: KsqlStandIn;
  let secretDir: string;
  /** The ingest gateway and the identity provider whose JWKS it reads (undefined where the gateway is not installed). */
  let gw: Gateway | undefined;
  let idp: TestIdp;
  let trustedKey: string;
  let untrustedKey: string;

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
    // A load-test identity provider: the smoke signs with its key, the gateway reads its JWKS. And a key it does not list.
    idp = testIdp(join(secretDir, "jwks.json"));
    trustedKey = join(secretDir, "loadtest-key.pem");
    writeFileSync(trustedKey, idp.privateKeyPem, { mode: 0o600 });
    untrustedKey = join(secretDir, "untrusted-key.pem");
    writeFileSync(untrustedKey, generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ format: "pem", type: "pkcs8" }), { mode: 0o600 });
    // Camel's JVM starts while Connect's does: the gateway adds little to the suite's start-up.
    const gatewayUp =
      gatewayMissing === undefined
        ? startGateway({ bootstrapServers: cluster.bootstrap, issuer: TEST_ISSUER, audiences: [TEST_AUDIENCE], jwks: { kind: "file", path: idp.jwksFile }, portRange: GATEWAY_PORTS }).then((g) => {
            gw = g;
          })
        : Promise.resolve();

    const pwFile = join(secretDir, "db.properties");
    writeFileSync(pwFile, `password=${SINK_PASSWORD}\n`, { mode: 0o600 });
    try {
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
    } finally {
      await gatewayUp;
    }
    console.log(`smoke e2e: services up in ${((Date.now() - started) / 1000).toFixed(1)} s${gw === undefined ? " (no ingest gateway)" : `, ingest gateway at ${gw.url}`}`);
  }, 600_000);

  afterAll(async () => {
    await gw?.stop();
    await standIn?.stop();
    await worker?.stop();
    await cluster?.stop();
    await db?.end().catch(() => undefined);
    pg?.stop();
    if (secretDir !== undefined) rmSync(secretDir, { recursive: true, force: true });
  }, 120_000);

  /** Only loopback settings; nothing from the caller's environment can point the children elsewhere. */
  const childEnv = (): NodeJS.ProcessEnv => ({
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    LOADGEN_BOOTSTRAP_SERVERS: cluster.bootstrap,
    PGHOST: pg.host,
    PGPORT: String(pg.port),
    PGDATABASE: pg.database,
    PGUSER: pg.user,
    PGPASSWORD: pg.password,
    PGSSLMODE: "disable",
  });
  const gatewayArgs = (key: string): string[] => ["--mode", "gateway", "--gateway-url", gw!.url, "--jwt-key", key, "--jwt-kid", idp.kid, "--jwt-issuer", TEST_ISSUER, "--jwt-audience", TEST_AUDIENCE];

  interface Runs {
    readonly goodId: string;
    readonly badId: string;
    readonly good: ChildResult;
    readonly bad: ChildResult;
    /** Through the gateway, where it runs. */
    readonly gateway?: { readonly id: string; readonly result: ChildResult };
  }
  let runs: Promise<Runs> | undefined;
  /**
   * Every run that must reach the pipeline goes at once, once: the ticks push stream time past all their sessions, so
   * a run sent after them would be late. The cases below each check their own run.
   */
  const pipelineRuns = (): Promise<Runs> =>
    (runs ??= (async () => {
      const tag = Date.now().toString(36);
      const goodId = `ok-${tag}`;
      const badId = `bad-${tag}`;
      const gwId = `gw-${tag}`;
      const env = childEnv();
      const started = Date.now();
      const good = runSmokeCli("smoke ok", ["--run-id", goodId, "--timeout-sec", String(GOOD_TIMEOUT_SEC), "--poll-interval-sec", "1"], env);
      const bad = runSmokeCli("smoke wrong-tolerance", ["--run-id", badId, "--session-gap-sec", "120", "--seek-tolerance-sec", "60", "--timeout-sec", String(BAD_TIMEOUT_SEC), "--poll-interval-sec", "1"], env);
      const viaGateway = gw === undefined ? undefined : runSmokeCli("smoke gateway", [...gatewayArgs(trustedKey), "--run-id", gwId, "--timeout-sec", String(GOOD_TIMEOUT_SEC), "--poll-interval-sec", "1"], env);

      // Play the session ticker once every run's heartbeats are in the model (a tick first would make them late).
      const perRun = smokeHeartbeats("x", 0).length;
      await standIn.waitForValid("smoke-", (viaGateway === undefined ? 2 : 3) * perRun, SEND_TIMEOUT_MS);
      const { sessionGapSec, gracePeriodSec } = DEFAULT_SESSIONIZATION_PARAMS;
      await sendTicks(cluster.brokers, RAW_HEARTBEATS_TOPIC, PARTITIONS, closingTickTs(TICK_LEAD_SEC));
      console.log(`smoke e2e: ${PARTITIONS} ticks at event time +${sessionGapSec + gracePeriodSec + TICK_LEAD_SEC} s sent after ${((Date.now() - started) / 1000).toFixed(1)} s`);

      const [g, b, v] = await Promise.all([good, bad, viaGateway]);
      console.log(`smoke e2e: ${v === undefined ? "both" : "all three"} runs done after ${((Date.now() - started) / 1000).toFixed(1)} s; stand-in ${JSON.stringify(standIn.stats())}`);
      return { goodId, badId, good: g, bad: b, ...(v === undefined ? {} : { gateway: { id: gwId, result: v } }) };
    })());

  it(`${STAND_IN_LABEL} the smoke run with the stack's parameters exits 0; one expecting a 60 s seek tolerance (with a 120 s gap) exits 1 with a field-by-field diff`, async () => {
    const r = await pipelineRuns();
    expectSmokeResults(r.good, r.bad, r.badId);

    await expectSegmentCounts(db, [r.goodId, r.badId, ...(r.gateway === undefined ? [] : [r.gateway.id])]);
    expect(standIn.errors).toEqual([]);
    const perRun = smokeHeartbeats("x", 0).length;
    expect(standIn.stats()).toMatchObject({ droppedLate: 0, rejected: 0, undecodable: 0, valid: (r.gateway === undefined ? 2 : 3) * perRun + PARTITIONS });
    const st = await worker.connectorStatus(CONNECTOR);
    expect(st.tasks.map((t) => t.state)).toEqual(["RUNNING"]);
  });

  it.skipIf(skipGateway)(`${STAND_IN_LABEL} --mode gateway through the real ingest gateway (Envoy + Camel): each user under its own token, to heartbeats_raw, the stand-in, Connect and PostgreSQL: exit 0, all 7 segments`, async () => {
    if (gw === undefined) throw new Error(`ingest gateway: ${gatewayMissing ?? "not started"}`);
    const r = await pipelineRuns();
    const v = r.gateway!;
    expect(v.result.code, v.result.output).toBe(0);
    expect(v.result.output).toContain(`-> gateway ${gw.url} (each user under its own token: kid ${idp.kid}, issuer ${TEST_ISSUER}, audience ${TEST_AUDIENCE}; up to 15 per request)`);
    expect(v.result.output).toMatch(/sent 44 heartbeats in \d+ ms \(all acknowledged\)/);
    expect(v.result.output).toMatch(/OK: 7\/7 segments after \d+ s: every expected segment is in watch_segments, nothing else/);

    // They went through the gateway: keyed by the session key, each carrying the subject Envoy verified, which is its user.
    const perRun = smokeHeartbeats("x", 0).length;
    const all = await readRawHeartbeats(new Kafka({ clientId: "smoke-readback", brokers: [...cluster.brokers], logLevel: logLevel.NOTHING }), `smoke-readback-${Date.now()}`, 3 * perRun + PARTITIONS);
    const mine = all.filter((x) => x.value.user_id?.startsWith(`smoke-${v.id}-`));
    expect(mine).toHaveLength(perRun);
    for (const x of mine) {
      expect(x.sub).toBe(x.value.user_id);
      expect(x.key).toBe(`${x.value.user_id}|${x.value.video_id}`);
    }
    // The Kafka runs' records never passed the gateway: no subject on them.
    expect(all.filter((x) => x.value.user_id?.startsWith(`smoke-${r.goodId}-`)).every((x) => x.sub === undefined)).toBe(true);
  });

  it.skipIf(skipGateway)("--mode gateway with a key the gateway's JWKS does not list: every request refused 401, exit 2 naming the 401 and the flags to fix, nothing written", async () => {
    if (gw === undefined) throw new Error(`ingest gateway: ${gatewayMissing ?? "not started"}`);
    const admin = new Kafka({ clientId: "smoke-untrusted", brokers: [...cluster.brokers], logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    try {
      const size = async () => (await admin.fetchTopicOffsets(RAW_HEARTBEATS_TOPIC)).reduce((n, o) => n + Number(o.high), 0);
      const before = await size();
      const id = `untrusted-${Date.now().toString(36)}`;
      const r = await runSmokeCli("smoke untrusted key", [...gatewayArgs(untrustedKey), "--run-id", id, "--timeout-sec", "30", "--json"], childEnv());
      expect(r.code, r.output).toBe(2);
      expect(r.output).toMatch(/ERROR: 0 of 44 heartbeats acknowledged: the gateway refused the smoke's token \(HTTP 401\): GatewayRefusal: POST http:\/\/127\.0\.0\.1:\d+\/topics\/heartbeats_raw for user smoke-untrusted-\w+-u\d returned HTTP 401, expected 200: Jwt verification fails/);
      expect(r.output).toContain(`must list the public half of --jwt-key ${untrustedKey} under kid "${idp.kid}"`);
      expect(r.output).toContain('"result":"unauthorized"');
      expect(await size()).toBe(before);
    } finally {
      await admin.disconnect();
    }
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
    await expectSegmentCounts(db, [goodId, badId]);
    const st = await p.connect.connectorStatus(SINK_CONNECTOR);
    expect(st.tasks.every((t) => t.state === "RUNNING")).toBe(true);
  }, 900_000);
});
