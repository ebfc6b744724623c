/**
 * Faults on real servers, heartbeat to database row: 3 Kafka brokers (KRaft) + a Kafka Connect worker running the
 * watch segments sink (Debezium JDBC, the LOCAL variant) + PostgreSQL 15 with the schema the Job applies, all on
 * 127.0.0.1. ksqlDB is NOT here: test/real/ksqlStandIn.ts runs the reference model in its place (labelled as such).
 *
 * Each scenario sends its own heartbeats (the load generator's producer path: acks=all, idempotent, one request in
 * flight per partition lane) to its own topics, injects one fault while the heartbeats or the segments are moving,
 * heals it, closes the sessions with ticks, and then requires the database to hold exactly the segments the model
 * computes from every heartbeat sent: none missing, none extra, none different. Per scenario it prints heartbeats
 * acknowledged, rows landed, lost, duplicated and the recovery time.
 *   (a) the Connect worker is SIGKILLed while sinking and replaced (same worker id, as a restarted pod);
 *   (b) PostgreSQL stops (fast shutdown) while the sink writes and starts again: the sink recovers without a
 *       human. Debezium JDBC 3.6 fails its task when the database connection drops (flush retries do not cover a
 *       lost connection), so this relies on what the cluster runs: the KafkaConnector's `autoRestart` (Strimzi's
 *       operator restarts FAILED tasks). Here an OPERATOR STAND-IN does the same through the Connect REST API;
 *   (c) one broker is SIGKILLed while Connect sinks and restarted;
 *   (d) one broker is cut off the network without being killed (test/real/kafka/isolation.ts) while heartbeats
 *       are produced, and healed: producer and sink recover.
 * Where a ksqlDB build is named (KSQL_SERVER_START, SCHEMA_REGISTRY_START, KSQL_MIGRATIONS), this suite skips: the
 * same four faults then run with the real ksqlDB in the loop as scenarios (g)-(j) of test/real/endToEnd.test.ts, on
 * the SQL's own topics, each ending in the conservation check and the model's exact segments.
 */
import { Client } from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { HEARTBEAT_INTERVAL_SEC, type Heartbeat, type WatchSegment } from "../../contract/topics";
import { CONFIG_PROVIDER_WORKER_CONFIG, localWatchSegmentsSinkConfig } from "../../connectors/watchSegmentsSink";
import { DEFAULT_SESSIONIZATION_PARAMS } from "../../contract/sessionization";
import { sessionize } from "../../ksql/model";
import { YSQL_SINK_USER } from "../../components/sink/yugabyteSpecs";
import { parseLoadgenArgs } from "../../tools/loadgen/config";
import { createPartitionedKafkaLanes, describeSendError } from "../../tools/loadgen/kafkaSender";
import { heartbeatJson, type LoadRecord } from "../../tools/loadgen/records";
import { rowToSegment, SEGMENTS_QUERY, type SegmentRow } from "../../tools/smoke/db";
import { diffSegments } from "../../tools/smoke/diff";
import { createDurableTopic } from "./kafka/admin";
import { startCluster, type KafkaTestCluster } from "./kafka/cluster";
import { startConnectWorker, type ConnectWorker } from "./kafka/connect";
import { isolationUnavailable } from "./kafka/isolation";
import { waitUntil } from "./kafka/jvm";
import { shouldSkipRealKafka } from "./kafka/paths";
import { auditDelivery, readAllSeqs } from "./kafka/readBack";
import { startKsqlStandIn, STAND_IN_LABEL } from "./ksqlStandIn";
import { startOperatorStandIn } from "./kafka/operatorStandIn";
import { engineLaunchers } from "./e2e/confluent";
import { pgUnavailable, startPostgres, type PgServer } from "./pg/harness";
import { newSinkPassword, runSchemaJob } from "./pg/schemaJob";
import { closingTickTs, sendTicks } from "./ticks";

/** With an engine named, these faults run on it in endToEnd.test.ts (g)-(j) instead of on the stand-in. */
const onEngine = typeof engineLaunchers() !== "string";
if (onEngine) console.warn("[skipped] faults on the ksqlDB stand-in: a ksqlDB build is named, so these faults run on the real engine in test/real/endToEnd.test.ts (g)-(j)");
const skip = onEngine || shouldSkipRealKafka(pgUnavailable());
/** Why (d) cannot run here; under CI=true a missing capability fails instead of skipping. */
const isolationMissing = isolationUnavailable();
const SINK_PASSWORD = newSinkPassword();
const PARTITIONS = 3;
/** The node (d) cuts off; it runs as its own OS user. (c) kills another one. */
const ISOLATED_NODE = 2;
const KILLED_NODE = 1;
/** 400 viewers x 12 heartbeats, a seek every 3: 4,800 heartbeats and 1,600 segments per scenario. */
const VIEWERS = 400;
const HEARTBEATS_PER_VIEWER = 12;
const SEEK_EVERY = 3;
const SEEK_JUMP_SEC = 600;
/** Paced sends (~1,000 heartbeats/s): the fault lands in the middle of the load, and the machine is shared. */
const SEND_BATCH = 100;
const SEND_PAUSE_MS = 100;
/** A small sink batch spreads 1,600 upserts over seconds, so a fault hits the sink mid-write. */
const SINK_BATCH = 20;
/** How long each fault lasts before it is healed. */
const FAULT_MS = 10_000;
/** Sink-phase faults start once this share of the expected rows has landed. */
const SINK_FAULT_AT = 0.15;
/** Bounds on a busy 2-core machine: everything sent, and everything landed after the heal. */
const SEND_TIMEOUT_MS = 180_000;
const LAND_TIMEOUT_MS = 240_000;
const TICK_LEAD_SEC = 5;
/** Strimzi reconciles connectors every couple of minutes; the stand-in checks more often to keep the test short. */
const OPERATOR_POLL_MS = 2_000;
/** Broker start and restart bound: three JVMs and Connect share two cores with everything else. */
const CLUSTER_READY_TIMEOUT_MS = 180_000;

interface Fault {
  readonly name: string;
  /** Whether the sink must ride through the fault alone (no task restart by the operator stand-in). */
  readonly taskMaySurvive: boolean;
  /** When the fault hits: while heartbeats are produced, or while the sink writes segments. */
  readonly during: "produce" | "sink";
  inject(): Promise<void>;
  heal(): Promise<void>;
}

interface Figures {
  readonly scenario: string;
  readonly heartbeats: number;
  readonly acknowledged: number;
  /** Acknowledged heartbeats missing from the raw topic / present twice (a re-send after a reported failure). */
  readonly ingestLost: number;
  readonly ingestDuplicated: number;
  readonly resent: number;
  readonly expectedRows: number;
  readonly rowsLanded: number;
  /** Expected rows missing or with other content. */
  readonly lost: number;
  /** Rows that are not expected (a second row for one segment would be one). */
  readonly duplicated: number;
  /** Heal to the last expected row landing. */
  readonly recoveryMs: number;
  /** FAILED sink tasks the operator stand-in restarted (Strimzi's KafkaConnector autoRestart in the cluster). */
  readonly taskRestarts: number;
  /** Produce-phase faults: fault start to the first acknowledgement after it. */
  readonly producerStallMs?: number;
}

/** Deterministic load for one scenario: event times in the past, in time order, so no heartbeat is late. */
function faultHeartbeats(prefix: string, endTs: number): Heartbeat[] {
  const interval = HEARTBEAT_INTERVAL_SEC * 1000;
  const start = endTs - HEARTBEATS_PER_VIEWER * interval;
  const out: Heartbeat[] = [];
  for (let v = 0; v < VIEWERS; v++) {
    const offset = Math.floor((v * interval) / VIEWERS);
    for (let k = 0; k < HEARTBEATS_PER_VIEWER; k++) {
      out.push({
        user_id: `${prefix}-u${v}`,
        video_id: `${prefix}-v${v % 5}`,
        position_sec: 100 * (v % 10) + HEARTBEAT_INTERVAL_SEC * k + SEEK_JUMP_SEC * Math.floor(k / SEEK_EVERY),
        event_ts: start + k * interval + offset,
        device_id: `${prefix}-d${v}`,
      });
    }
  }
  return out.sort((a, b) => a.event_ts - b.event_ts);
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe.skipIf(skip)(`faults on real Kafka (3 brokers) + Connect JDBC sink + PostgreSQL 15, ${STAND_IN_LABEL}`, () => {
  let pg: PgServer;
  let cluster: KafkaTestCluster;
  let worker: ConnectWorker;
  let secretDir: string;
  let pwFile: string;
  const figures: Figures[] = [];

  const newWorker = (restPort?: number): Promise<ConnectWorker> =>
    startConnectWorker({ bootstrap: cluster.bootstrap, extraConfig: { ...CONFIG_PROVIDER_WORKER_CONFIG.file }, ...(restPort === undefined ? {} : { restPort }) });

  beforeAll(async () => {
    pg = await startPostgres();
    const job = runSchemaJob(pg, { sinkPassword: SINK_PASSWORD });
    expect(job.status, job.stderr).toBe(0);
    cluster = await startCluster({ readyTimeoutMs: CLUSTER_READY_TIMEOUT_MS, ...(isolationMissing === null ? { isolatable: ISOLATED_NODE } : {}) });
    secretDir = mkdtempSync(join(tmpdir(), "watchpipe-faults-secret-"));
    pwFile = join(secretDir, "db.properties");
    writeFileSync(pwFile, `password=${SINK_PASSWORD}\n`, { mode: 0o600 });
    worker = await newWorker();
  });

  afterAll(async () => {
    if (figures.length > 0) {
      console.log("fault figures (heartbeats -> segments rows; ksqlDB replaced by the reference model):");
      console.table(figures);
    }
    await worker?.stop();
    await cluster?.stop();
    pg?.stop();
    if (secretDir !== undefined) rmSync(secretDir, { recursive: true, force: true });
  });

  /** Rows of these users, read on a fresh connection each time (the database may be down in between). */
  async function rowsOf(users: readonly string[]): Promise<WatchSegment[] | null> {
    const c = new Client(pg.clientConfig());
    try {
      await c.connect();
      return (await c.query<SegmentRow>(SEGMENTS_QUERY, [[...users]])).rows.map(rowToSegment);
    } catch {
      return null;
    } finally {
      await c.end().catch(() => undefined);
    }
  }

  async function runScenario(fault: Fault): Promise<Figures> {
    const prefix = `f${fault.name}${Date.now().toString(36)}`;
    const rawTopic = `heartbeats_raw_${fault.name}`;
    const segmentsTopic = `watch_segments_${fault.name}`;
    const connector = `sink-${fault.name}`;
    await createDurableTopic(cluster.brokers, rawTopic, PARTITIONS);
    await createDurableTopic(cluster.brokers, segmentsTopic, PARTITIONS);
    const standIn = await startKsqlStandIn({ brokers: cluster.brokers, heartbeatPartitions: PARTITIONS, rawTopic, segmentsTopic, logSegments: false, arrival: "event_ts" });
    await worker.createConnector(connector, localWatchSegmentsSinkConfig({
      db: { host: pg.host, port: pg.port, database: pg.database, user: YSQL_SINK_USER },
      password: { kind: "file", path: pwFile, key: "password" },
      topic: segmentsTopic,
      tasksMax: 1,
      batchSize: SINK_BATCH,
    }));
    await worker.waitForConnectorRunning(connector);

    const heartbeats = faultHeartbeats(prefix, Date.now() - 5_000);
    const users = [...new Set(heartbeats.map((h) => h.user_id))];
    const expected = sessionize(heartbeats.map((h) => ({ ...h, device_id: h.device_id ?? null })), DEFAULT_SESSIONIZATION_PARAMS);

    // Produce every heartbeat; a batch whose send finally fails is sent again (a duplicate heartbeat changes no
    // segment: the SQL de-duplicates points), so "acknowledged" ends at all of them or the test fails.
    const parsed = parseLoadgenArgs(["--bootstrap", cluster.bootstrap, "--topic", rawTopic, "--count", "1", "--producers", String(PARTITIONS), "--client-id", `faults-${fault.name}`], {});
    if (parsed.help) throw new Error("internal: loadgen parser returned help");
    const runId = `faults-${fault.name}`;
    const { lanes, laneOf } = await createPartitionedKafkaLanes(parsed.config, runId);
    const acked = new Set<string>();
    let resent = 0;
    let faultStartedAt = 0;
    let firstAckAfterFault = 0;
    let healedAt = 0;
    const records: LoadRecord[] = heartbeats.map((h, seq) => ({ key: `${h.user_id}|${h.video_id}`, value: heartbeatJson(h), seq, malformed: false }));
    const injectAt = Math.floor(records.length * 0.3);
    const produce = async (): Promise<void> => {
      const deadline = Date.now() + SEND_TIMEOUT_MS;
      for (let i = 0; i < records.length; i += SEND_BATCH) {
        if (fault.during === "produce" && i >= injectAt && faultStartedAt === 0) {
          faultStartedAt = Date.now();
          await fault.inject();
          setTimeout(() => void fault.heal().then(() => { healedAt = Date.now(); }), FAULT_MS);
        }
        const byLane = new Map<number, LoadRecord[]>();
        for (const r of records.slice(i, i + SEND_BATCH)) {
          const l = laneOf(r.key);
          byLane.set(l, [...(byLane.get(l) ?? []), r]);
        }
        await Promise.all([...byLane].map(async ([l, batch]) => {
          let pending = batch;
          for (let attempt = 0; pending.length > 0; attempt++) {
            if (Date.now() > deadline) throw new Error(`${runId}: ${pending.length} heartbeats still unacknowledged after ${SEND_TIMEOUT_MS / 1000} s`);
            if (attempt > 0) resent += pending.length;
            const res = await lanes[l]!.send(pending);
            for (const r of res.ackedRecords) acked.add(`${runId}:${r.seq}`);
            if (res.acked > 0 && faultStartedAt > 0 && firstAckAfterFault === 0) firstAckAfterFault = Date.now();
            const ackedSeqs = new Set(res.ackedRecords.map((r) => r.seq));
            pending = pending.filter((r) => !ackedSeqs.has(r.seq));
            if (res.error !== undefined) console.log(`  [${runId}] ${pending.length} heartbeats to resend: ${describeSendError(res.error)}`);
          }
        }));
        await sleep(SEND_PAUSE_MS);
      }
    };
    try {
      await produce();
      if (fault.during === "produce") await waitUntil(`${fault.name}: fault healed`, FAULT_MS + 30_000, async () => healedAt > 0);
    } finally {
      await Promise.all(lanes.map((l) => l.close().catch(() => undefined)));
    }

    // Close every session (after the stand-in has read every heartbeat: a tick first would make them late).
    await standIn.waitForValid(prefix, heartbeats.length, SEND_TIMEOUT_MS);
    await sendTicks(cluster.brokers, rawTopic, PARTITIONS, closingTickTs(TICK_LEAD_SEC));

    if (fault.during === "sink") {
      await waitUntil(`${fault.name}: ${Math.ceil(SINK_FAULT_AT * 100)} % of ${expected.length} rows landed before the fault`, LAND_TIMEOUT_MS, async () => ((await rowsOf(users))?.length ?? 0) >= SINK_FAULT_AT * expected.length);
      faultStartedAt = Date.now();
      await fault.inject();
      const duringFault = (await rowsOf(users))?.length ?? -1;
      await sleep(FAULT_MS);
      await fault.heal();
      healedAt = Date.now();
      console.log(`  [${runId}] ${duringFault < 0 ? "database down" : `${duringFault} of ${expected.length} rows`} when the fault hit; healed after ${FAULT_MS / 1000} s`);
    }

    // The operator stand-in: what Strimzi does for a KafkaConnector with autoRestart.enabled (restart FAILED tasks).
    const operator = startOperatorStandIn({ worker: () => worker, connector, log: (line) => console.log(`  [${runId}] ${line}`), pollMs: OPERATOR_POLL_MS });

    let actual: WatchSegment[] = [];
    await waitUntil(`${fault.name}: all ${expected.length} expected rows in watch_segments`, LAND_TIMEOUT_MS, async () => {
      actual = (await rowsOf(users)) ?? [];
      return actual.length >= expected.length;
    }).catch((err: unknown) => console.log(`  [${runId}] ${(err as Error).message}`));
    // A settle pass: anything still arriving (a replayed batch) must not change the result.
    await sleep(3_000);
    actual = (await rowsOf(users)) ?? actual;
    const landedAt = Date.now();
    await operator.stop();
    const taskRestarts = operator.restarts;

    const diff = diffSegments(expected, actual);
    const readBack = await readAllSeqs(cluster.brokers, rawTopic);
    const audit = auditDelivery(acked, readBack);
    const status = await worker.connectorStatus(connector);
    await worker.deleteConnector(connector);
    await standIn.stop();
    expect(standIn.errors, "the stand-in wrote every segment").toEqual([]);
    expect(status.tasks.map((t) => t.state), `sink task state after ${fault.name}`).toEqual(["RUNNING"]);

    return {
      scenario: fault.name,
      heartbeats: heartbeats.length,
      acknowledged: acked.size,
      ingestLost: audit.lost.length,
      ingestDuplicated: audit.duplicated.length,
      resent,
      expectedRows: expected.length,
      rowsLanded: actual.length,
      lost: diff.missing.length + diff.different.length,
      duplicated: diff.unexpected.length,
      recoveryMs: landedAt - healedAt - 3_000,
      taskRestarts,
      ...(fault.during === "produce" ? { producerStallMs: firstAckAfterFault - faultStartedAt } : {}),
    };
  }

  async function runAndCheck(fault: Fault): Promise<void> {
    const f = await runScenario(fault);
    figures.push(f);
    console.log(`${f.scenario}: ${JSON.stringify(f)}`);
    expect(f.acknowledged, "every heartbeat acknowledged").toBe(f.heartbeats);
    expect(f.ingestLost, "acknowledged heartbeats missing from Kafka").toBe(0);
    // Only a batch re-sent after a reported failure can appear twice.
    expect(f.ingestDuplicated).toBeLessThanOrEqual(f.resent);
    expect({ lost: f.lost, duplicated: f.duplicated, rowsLanded: f.rowsLanded }).toEqual({ lost: 0, duplicated: 0, rowsLanded: f.expectedRows });
    if (fault.taskMaySurvive) expect(f.taskRestarts, "the sink task rode through the fault without a restart").toBe(0);
  }

  it("(a) the Connect worker is killed while sinking and replaced: every segment lands exactly once", async () => {
    await runAndCheck({
      name: "connect",
      taskMaySurvive: true,
      during: "sink",
      inject: async () => {
        await worker.kill();
        await worker.stop();
      },
      heal: async () => {
        // Same REST port: the same worker id rejoins, as a restarted pod does.
        worker = await newWorker(worker.restPort);
        await worker.waitForConnectorRunning("sink-connect");
      },
    });
  });

  it("(b) PostgreSQL stops while the sink writes and starts again: the sink recovers by itself", async () => {
    await runAndCheck({
      name: "postgres",
      taskMaySurvive: false,
      during: "sink",
      inject: async () => pg.shutdown(),
      heal: async () => pg.restart(),
    });
  });

  it("(c) one broker is killed while Connect sinks and restarted: nothing lost or duplicated", async () => {
    await runAndCheck({
      name: "broker",
      taskMaySurvive: true,
      during: "sink",
      inject: () => cluster.stopBroker(KILLED_NODE, "kill"),
      heal: () => cluster.startBroker(KILLED_NODE),
    });
  });

  it.skipIf(isolationMissing !== null && process.env.CI !== "true")(`(d) one broker is cut off the network (not killed) while heartbeats are produced, and healed${isolationMissing === null ? "" : ` [${isolationMissing}]`}`, async () => {
    expect(isolationMissing, "CI must be able to partition a broker").toBeNull();
    await runAndCheck({
      name: "partition",
      taskMaySurvive: true,
      during: "produce",
      inject: async () => cluster.cutOff(ISOLATED_NODE),
      heal: async () => cluster.heal(ISOLATED_NODE),
    });
  });
});
