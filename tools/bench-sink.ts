/**
 * `npm run bench:sink`: the JDBC sink's real upsert rate (a script that prints, never a test). On 127.0.0.1 it starts
 * what test/real/sink.test.ts runs: 3 Kafka brokers and a Kafka Connect worker with the Debezium JDBC sink
 * (test/real/kafka), and PostgreSQL 15 (test/real/pg) with the schema Job's own files applied by its own script. It
 * pre-loads N pieces into `watch_segments` in the sink's record format, then for 1, 2 and 4 tasks (each `--runs`
 * times, in rotated order, after one unmeasured warm-up load) empties `watch_pieces`, creates the connector with the program's own sink settings
 * (connectors/watchSegmentsSink.ts: batch size, upsert, transforms, the sink role) and times the rows landing.
 * Prints every run, the median rows/s in total and per task, each against the one-task median of the same run and
 * against the load plan's figure, the CPU time per row of the Connect worker and of PostgreSQL (read from /proc:
 * unlike the rates, it does not shrink when other work shares the cores), and the load average during the runs. Needs `npm run real:setup`.
 *
 * What it is not: YugabyteDB. PostgreSQL stands in for YSQL here; the load plan divides the figure by a named factor.
 * The table is whatever the schema files in connectors/schema create (unpartitioned V004 + the V005 triggers today).
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import { dirname, join } from "node:path";
import { parseArgs } from "node:util";
import { Kafka, logLevel } from "kafkajs";
import type { Client } from "pg";
import { MIN_INSYNC_REPLICAS, REPLICATION_FACTOR } from "../contract/durability";
import { SINK_ROWS_PER_TASK_ON_POSTGRES } from "../contract/loadPlan";
import { DEFAULT_SESSIONIZATION_PARAMS, maxRatePermille, PIECE_WINDOW_SEC, secToMs } from "../contract/sessionization";
import { WATCH_SEGMENTS_TOPIC, type WatchPiece } from "../contract/topics";
import {
  CONFIG_PROVIDER_WORKER_CONFIG, connectJsonEnvelope, DEFAULT_BATCH_SIZE, localWatchSegmentsSinkConfig,
} from "../connectors/watchSegmentsSink";
import { createTopicsReady } from "../test/real/kafka/admin";
import { startCluster, type KafkaTestCluster } from "../test/real/kafka/cluster";
import { startConnectWorker, type ConnectWorker } from "../test/real/kafka/connect";
import { cpuSecondsOf } from "../test/real/kafka/jvm";
import { missingKafkaJars } from "../test/real/kafka/paths";
import { startPostgres, type PgServer } from "../test/real/pg/harness";
import { newSinkPassword, runSchemaJob } from "../test/real/pg/schemaJob";
import {
  closeDelayMs, DEFAULT_PARTITIONS_AHEAD_DAYS, DEFAULT_PIECE_RETENTION_DAYS, DEFAULT_SEGMENT_RETENTION_DAYS, maintenanceSql,
} from "../connectors/maintenance";
import { EXIT_CODES_HELP, exitCodeOf, UsageError } from "./exitCodes";

const HELP = `Usage: npm run bench:sink -- [--pieces N] [--runs N] [--tasks 1,2,4] [--partitions N]

Starts 3 Kafka brokers, a Kafka Connect worker with the Debezium JDBC sink and PostgreSQL (15) on 127.0.0.1 (npm run
real:setup first), pre-loads N pieces into ${WATCH_SEGMENTS_TOPIC}, then times the sink connector (the program's own
settings, batches of ${DEFAULT_BATCH_SIZE}, upserts as the sink role, the schema's triggers on) loading them into an emptied
watch_pieces with each task count, --runs times each in rotated order. Prints rows/s per run, the medians in total
and per task, and the load average during the runs.

${EXIT_CODES_HELP}`;

/** 200,000 pieces: ~20-60 s per run at the rates seen here, long enough that connector start-up is not in the figure. */
const DEFAULT_PIECES = 200_000;
/** Three runs per task count: a median that ignores one noisy run on a shared machine. */
const DEFAULT_RUNS = 3;
/** 1, 2 and 4 tasks: one per core and beyond it, to see where the 2-core machine stops scaling. */
const DEFAULT_TASKS = [1, 2, 4];
/** Partitions of the topic: the most tasks asked for must each own some (a task without a partition idles). */
const DEFAULT_PARTITIONS = 4;
/** Pieces per produce request while pre-loading (each ~1 KB with its embedded JSON schema). */
const PRELOAD_BATCH = 1000;
/** How often the landed row count is polled; the figure is rows between the first and the last poll. */
const POLL_MS = 250;
/** A run that lands nothing new for this long has stalled (a failed task): stop and say so. */
const STALL_MS = 120_000;
/** Load-average sample interval during the runs. */
const LOAD_SAMPLE_MS = 2_000;
/** Cluster start bound on a shared machine (the produce bench measured > 90 s at load average ~40). */
const CLUSTER_READY_MS = 300_000;
/** Realistic sessions: 10 to 120 min of continuous playback, one piece per 30 s window. */
const MIN_SESSION_WINDOWS = 20;
const MAX_SESSION_WINDOWS = 240;
/** Today (UTC midnight): the pieces land in the day partitions a partitioned table has for today and tomorrow. */
const DAY0_MS = Math.floor(Date.now() / 86_400_000) * 86_400_000;
/** The sink's least-privilege role (connectors/schema/V003 creates it; components/sink/yugabyteSpecs.ts names it). */
const SINK_ROLE = "watchpipe_sink";

/** Deterministic pseudo-random numbers (mulberry32), so every run of the bench loads the same pieces. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * N pieces as ksqlDB writes them: viewers watching one video each for 10-120 min from a random point of the day, a
 * piece per 30 s window of 6 heartbeats, ids shaped like the load generator's (u000123 / v01234).
 */
export function benchPieces(n: number, seed = 23): WatchPiece[] {
  const rnd = prng(seed);
  const p = DEFAULT_SESSIONIZATION_PARAMS;
  const windowMs = PIECE_WINDOW_SEC * 1000;
  const out: WatchPiece[] = [];
  for (let viewer = 0; out.length < n; viewer++) {
    const user = `u${String(viewer).padStart(6, "0")}`;
    const video = `v${String(Math.floor(rnd() * 20_000)).padStart(5, "0")}`;
    const windows = MIN_SESSION_WINDOWS + Math.floor(rnd() * (MAX_SESSION_WINDOWS - MIN_SESSION_WINDOWS + 1));
    const startWindow = Math.floor((rnd() * 86_400_000) / windowMs);
    let pos = Math.floor(rnd() * 1800);
    for (let w = 0; w < windows && out.length < n; w++) {
      const start = DAY0_MS + (startWindow + w) * windowMs + Math.floor(rnd() * 5) * 1000;
      const end = start + 25_000;
      out.push({
        user_id: user, video_id: video, start_ts: start, end_ts: end,
        first_position_sec: pos, last_position_sec: pos + 25, min_position_sec: pos, max_position_sec: pos + 25,
        heartbeat_count: 6, piece_no: 1,
        session_gap_ms: secToMs(p.sessionGapSec), seek_tolerance_ms: secToMs(p.seekToleranceSec), max_rate_permille: maxRatePermille(p),
      });
      pos += 30;
    }
  }
  return out;
}

function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Samples the 1-minute load average while the runs go on: other work on the machine slows every figure. */
class LoadSampler {
  private readonly samples: number[] = [];
  private readonly timer = setInterval(() => this.samples.push(os.loadavg()[0]!), LOAD_SAMPLE_MS);
  stop(): string {
    clearInterval(this.timer);
    if (this.samples.length === 0) return "n/a";
    const mean = this.samples.reduce((a, b) => a + b, 0) / this.samples.length;
    return `mean ${mean.toFixed(2)}, min ${Math.min(...this.samples).toFixed(2)}, max ${Math.max(...this.samples).toFixed(2)} (${this.samples.length} samples of the 1-min load average, ${os.cpus().length} cores)`;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const fmt = (n: number) => Math.round(n).toLocaleString("en-US");

interface RunResult {
  readonly tasks: number;
  readonly rowsPerSec: number;
  readonly seconds: number;
  readonly rowsTimed: number;
  /** CPU time per row landed (user + system), of the Connect worker JVM and of PostgreSQL's processes. */
  readonly connectCpuUsPerRow: number;
  readonly pgCpuUsPerRow: number;
}

/** The pid of this bench's Connect worker: the JVM whose command line names the worker's own properties file. */
function connectPid(worker: ConnectWorker): number {
  const props = join(dirname(worker.logFile), "connect-distributed.properties");
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0").includes(props)) return Number(entry);
    } catch {
      // a process that ended while the list was read
    }
  }
  throw new Error(`no process runs the Connect worker with ${props}; its log is ${worker.logFile}`);
}

/** CPU seconds of every process of the PostgreSQL server (backends and background workers), as it lists them. */
async function pgCpuSeconds(db: Client): Promise<Map<number, number>> {
  const r = await db.query<{ pid: number }>("SELECT pid FROM pg_stat_activity");
  return new Map(r.rows.map((row) => [row.pid, cpuSecondsOf(row.pid)]));
}

/** One timed load: rows landed between the first poll that sees rows and the poll that sees all of them. */
async function timedLoad(db: Client, worker: ConnectWorker, name: string, config: Record<string, string>, tasks: number, pieces: number): Promise<RunResult> {
  await db.query("TRUNCATE watch_pieces");
  const jvm = connectPid(worker);
  const connectCpu0 = cpuSecondsOf(jvm);
  const pgCpu0 = await pgCpuSeconds(db);
  await worker.createConnector(name, config);
  await worker.waitForConnectorRunning(name, { minTasks: tasks, timeoutMs: CLUSTER_READY_MS });
  const count = async () => Number((await db.query<{ n: string }>("SELECT count(*) AS n FROM watch_pieces")).rows[0]!.n);
  let first: { t: number; n: number } | undefined;
  let last = { t: performance.now(), n: 0 };
  for (;;) {
    const n = await count();
    const t = performance.now();
    if (n > last.n) last = { t, n };
    if (first === undefined && n > 0) first = { t, n };
    if (n >= pieces) break;
    if (t - last.t > STALL_MS) {
      const st = await worker.connectorStatus(name);
      throw new Error(`sink stalled at ${n} of ${pieces} rows for ${STALL_MS / 1000} s with ${tasks} task(s); tasks: ${st.tasks.map((x) => `${x.id}:${x.state}${x.trace ? ` ${x.trace.slice(0, 300)}` : ""}`).join("; ")}`);
    }
    await sleep(POLL_MS);
  }
  // CPU before the connector goes: its database sessions end with it, and their CPU time with them.
  const connectCpu = cpuSecondsOf(jvm) - connectCpu0;
  let pgCpu = 0;
  for (const [pid, sec] of await pgCpuSeconds(db)) pgCpu += sec - (pgCpu0.get(pid) ?? 0);
  await worker.deleteConnector(name);
  const seconds = (last.t - first!.t) / 1000;
  const rowsTimed = pieces - first!.n;
  return { tasks, seconds, rowsTimed, rowsPerSec: rowsTimed / seconds, connectCpuUsPerRow: (connectCpu * 1e6) / pieces, pgCpuUsPerRow: (pgCpu * 1e6) / pieces };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      help: { type: "boolean", short: "h" },
      pieces: { type: "string" }, runs: { type: "string" }, tasks: { type: "string" }, partitions: { type: "string" },
    },
  });
  if (values.help) {
    console.log(HELP);
    return;
  }
  const int = (flag: string, v: string | undefined, dflt: number, min: number): number => {
    if (v === undefined) return dflt;
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new UsageError(`--${flag}: expected an integer >= ${min}; got ${JSON.stringify(v)}.`);
    return n;
  };
  const pieces = int("pieces", values.pieces, DEFAULT_PIECES, 1000);
  const runs = int("runs", values.runs, DEFAULT_RUNS, 1);
  const taskCounts = values.tasks === undefined ? DEFAULT_TASKS : values.tasks.split(",").map((t) => int("tasks", t, 1, 1));
  const partitions = int("partitions", values.partitions, Math.max(DEFAULT_PARTITIONS, ...taskCounts), Math.max(...taskCounts));
  const missing = missingKafkaJars();
  if (missing !== null) throw new UsageError(`${missing} (run npm run real:setup)`);

  let pg: PgServer | undefined;
  let db: Client | undefined;
  let cluster: KafkaTestCluster | undefined;
  let worker: ConnectWorker | undefined;
  const secretDir = mkdtempSync(join(os.tmpdir(), "watchpipe-bench-sink-"));
  try {
    console.log(`bench:sink: ${fmt(pieces)} pieces, tasks ${taskCounts.join("/")}, ${runs} run(s) each, ${partitions} partitions, batch ${DEFAULT_BATCH_SIZE}; load average now ${os.loadavg().map((x) => x.toFixed(2)).join(" ")}`);
    pg = await startPostgres();
    const password = newSinkPassword();
    const job = runSchemaJob(pg, { sinkPassword: password });
    if (job.status !== 0) throw new Error(`schema Job failed:\n${job.stdout}\n${job.stderr}`);
    db = await pg.connect();
    const tables = await db.query<{ relname: string; relkind: string }>("SELECT relname, relkind FROM pg_class WHERE relname = 'watch_pieces'");
    const partitioned = tables.rows[0]?.relkind === "p";
    console.log(`PostgreSQL 15 on ${pg.host}:${pg.port}; schema files applied by the schema Job's script; watch_pieces is ${partitioned ? "PARTITIONED" : "a plain (unpartitioned) table"}`);
    if (partitioned) {
      // The maintenance CronJob's own statement creates the day partitions ahead, as it does in the cluster.
      await db.query(maintenanceSql({
        closeDelayMs: closeDelayMs(DEFAULT_SESSIONIZATION_PARAMS), pieceRetentionDays: DEFAULT_PIECE_RETENTION_DAYS,
        segmentRetentionDays: DEFAULT_SEGMENT_RETENTION_DAYS, partitionsAheadDays: DEFAULT_PARTITIONS_AHEAD_DAYS,
      }));
      const parts = await db.query<{ n: string }>("SELECT count(*) AS n FROM pg_inherits WHERE inhparent = 'watch_pieces'::regclass");
      console.log(`  the maintenance statement ran once: watch_pieces has ${parts.rows[0]!.n} partitions`);
    }

    cluster = await startCluster({ readyTimeoutMs: CLUSTER_READY_MS });
    const kafka = new Kafka({ clientId: "bench-sink", brokers: [...cluster.brokers], logLevel: logLevel.NOTHING });
    // Every partition led and fully in sync before the pre-load: kafkajs' own leader wait asks one broker and gives up.
    await createTopicsReady(cluster.brokers, [
      { topic: WATCH_SEGMENTS_TOPIC, numPartitions: partitions, replicationFactor: REPLICATION_FACTOR, configEntries: [{ name: "min.insync.replicas", value: String(MIN_INSYNC_REPLICAS) }] },
    ]);

    const data = benchPieces(pieces);
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, retry: { retries: 10 } });
    await producer.connect();
    const t0 = performance.now();
    let bytes = 0;
    for (let i = 0; i < data.length; i += PRELOAD_BATCH) {
      const messages = data.slice(i, i + PRELOAD_BATCH).map((p) => {
        const value = connectJsonEnvelope(p);
        bytes += value.length;
        return { key: `${p.user_id}|${p.video_id}`, value };
      });
      await producer.send({ topic: WATCH_SEGMENTS_TOPIC, acks: -1, messages });
    }
    await producer.disconnect();
    console.log(`pre-loaded ${fmt(pieces)} pieces (${(bytes / pieces).toFixed(0)} B each as JSON with schema) in ${((performance.now() - t0) / 1000).toFixed(1)} s, keyed by user|video`);

    const pwFile = join(secretDir, "db.properties");
    writeFileSync(pwFile, `password=${password}\n`, { mode: 0o600 });
    worker = await startConnectWorker({ bootstrap: cluster.bootstrap, extraConfig: { ...CONFIG_PROVIDER_WORKER_CONFIG.file }, readyTimeoutMs: CLUSTER_READY_MS });

    // One unmeasured load with the most tasks first: the worker's JIT and PostgreSQL's caches warm up on it, so
    // the first measured run is not the slowest for that reason alone.
    const warmTasks = Math.max(...taskCounts);
    const warm = await timedLoad(db, worker, "bench-sink-warmup", localWatchSegmentsSinkConfig({
      db: { host: pg.host, port: pg.port, database: pg.database, user: SINK_ROLE },
      password: { kind: "file", path: pwFile, key: "password" },
      tasksMax: warmTasks,
    }), warmTasks, pieces);
    console.log(`  warm-up (not counted), ${warmTasks} task(s): ${fmt(warm.rowsPerSec)} rows/s`);

    const results: RunResult[] = [];
    const load = new LoadSampler();
    for (let run = 1; run <= runs; run++) {
      // Rotate the order so no task count always runs first (cold caches) or last (a fuller WAL).
      const k = (run - 1) % taskCounts.length;
      for (const tasks of [...taskCounts.slice(k), ...taskCounts.slice(0, k)]) {
        const config = localWatchSegmentsSinkConfig({
          db: { host: pg.host, port: pg.port, database: pg.database, user: SINK_ROLE },
          password: { kind: "file", path: pwFile, key: "password" },
          tasksMax: tasks,
        });
        const r = await timedLoad(db, worker, `bench-sink-${run}-${tasks}`, config, tasks, pieces);
        results.push(r);
        console.log(`  run ${run}, ${tasks} task(s): ${fmt(r.rowsTimed)} rows in ${r.seconds.toFixed(1)} s = ${fmt(r.rowsPerSec)} rows/s (${fmt(r.rowsPerSec / tasks)} per task); CPU per row: Connect ${r.connectCpuUsPerRow.toFixed(0)} µs, PostgreSQL ${r.pgCpuUsPerRow.toFixed(0)} µs; load average ${os.loadavg()[0]!.toFixed(2)}`);
      }
    }
    const loadLine = load.stop();

    console.log(`\nMedians over ${runs} run(s) (baseline: 1 task in the same run; the load plan counts ${fmt(SINK_ROWS_PER_TASK_ON_POSTGRES)} rows/s per task on PostgreSQL, from CPU per row, before its YSQL factor):`);
    const base = median(results.filter((r) => r.tasks === Math.min(...taskCounts)).map((r) => r.rowsPerSec));
    for (const tasks of taskCounts) {
      const m = median(results.filter((r) => r.tasks === tasks).map((r) => r.rowsPerSec));
      const mine = results.filter((r) => r.tasks === tasks);
      const cpuC = median(mine.map((r) => r.connectCpuUsPerRow));
      const cpuP = median(mine.map((r) => r.pgCpuUsPerRow));
      console.log(`  ${String(tasks).padStart(2)} task(s): ${fmt(m).padStart(7)} rows/s total, ${fmt(m / tasks).padStart(7)} per task, ${(m / base).toFixed(2)}× the ${Math.min(...taskCounts)}-task total; CPU per row: Connect ${cpuC.toFixed(0)} µs, PostgreSQL ${cpuP.toFixed(0)} µs → ${fmt(1e6 / (cpuC + cpuP))} rows/s per core of both`);
    }
    console.log("  (CPU per row does not depend on how loaded the machine is; the wall-clock rates do. A task thread and its database session work in turn, so one task on an idle core each tops out near 1e6 / (Connect + PostgreSQL µs) rows/s.)");
    console.log(`load average during the runs: ${loadLine}`);
  } finally {
    await worker?.stop().catch(() => undefined);
    await cluster?.stop().catch(() => undefined);
    await db?.end().catch(() => undefined);
    pg?.stop();
    rmSync(secretDir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(`bench:sink failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = exitCodeOf(err);
});
