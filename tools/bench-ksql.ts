/**
 * `npm run bench:ksql`: ksqlDB's CPU per heartbeat on the real engine (a script that prints, never a test). For each
 * SQL variant (main's V000001-V000003 "old", and every migration in ksql/migrations "new" when a V000004+ exists) it
 * starts on 127.0.0.1 a fresh 3-broker cluster (test/real/kafka), Schema Registry and ksqlDB from the build named by
 * KSQL_SERVER_START / SCHEMA_REGISTRY_START / KSQL_MIGRATIONS (`source /work/engines/env.sh`), makes the topics as the
 * stack's KafkaTopic specs make them, applies the variant's migrations with the Job's own script, pauses every query,
 * pre-loads a backlog of realistic heartbeats (viewers at a 5 s cadence, keyed by user_id|video_id, one tick per
 * partition at the end so every window closes), then resumes the validation queries alone until heartbeats_raw is
 * consumed (lag 0) and then the rest until every downstream topic is. ksqlDB's JVM CPU (user + system, from
 * /proc/<pid>/stat) over each phase gives heartbeats/s per core of CPU for validation alone and for the whole chain,
 * and per query from the stream threads' own CPU (`jcmd Thread.print` maps thread names to /proc task ids). Prints
 * progress and rate, the load average, Kafka Streams' dropped-records count (through the JMX exporter agent with the
 * program's rules, when the agent is installed) and the new/old ratio.
 *
 * `--stop-runs N` then measures, on the last variant, how long ksqlDB takes to stop on SIGTERM while it works through
 * a fresh backlog, and to be healthy again, N times.
 *
 * The backlog's record timestamps are the simulated arrival times (heartbeats_raw is made with CreateTime for this
 * bench only; the program's topic is LogAppendTime, which would stamp the whole backlog with the seconds the pre-load
 * took and put a session's whole backlog into one 30 s arrival window, unlike any backlog production sees).
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { Kafka, logLevel, type Admin, type Producer } from "kafkajs";
import { KSQL_PROCESSING_LOG_TOPIC } from "../contract/acls";
import { KSQL_SERVICE_ID } from "../contract/clients";
import { DEFAULT_SESSIONIZATION_PARAMS, SQL_GRACE_PERIOD_SEC, PIECE_WINDOW_SEC } from "../contract/sessionization";
import {
  HEARTBEAT_INTERVAL_SEC, HEARTBEAT_SESSIONS_TOPIC, HEARTBEATS_TOPIC, LATE_HEARTBEATS_TOPIC, RAW_HEARTBEATS_TOPIC, SCHEMAS_TOPIC, WATCH_SEGMENTS_TOPIC,
} from "../contract/topics";
import { migrationDefines, migrationFiles, type MigrationFile } from "../ksql/migrations";
import { tickKeysForPartitions } from "../ksql/ticks";
import { createTopicsReady } from "../test/real/kafka/admin";
import { startCluster, type KafkaTestCluster } from "../test/real/kafka/cluster";
import { cpuSecondsOf, portOpen, waitUntil } from "../test/real/kafka/jvm";
import { missingKafkaJars } from "../test/real/kafka/paths";
import { programTopics } from "../test/real/kafka/programTopics";
import {
  applyMigrations, confluentLaunchers, jmxAgentOption, ksqlStatement, startKsql, startSchemaRegistry, stopServer, writeKsqlProperties,
  ksqlAgentMissing, type ConfluentLaunchers, type KsqlServerOptions, type ServerProcess,
} from "../test/real/kafka/ksqlServer";
import { createSimulation, nextHeartbeats, type Simulation } from "./loadgen/simulate";
import { EXIT_CODES_HELP, exitCodeOf, UsageError } from "./exitCodes";

const HELP = `Usage: npm run bench:ksql -- [--heartbeats N] [--viewers N] [--sql old,new] [--new-sql <migrations dir>] [--threads N]
                             [--stop-runs N] [--stack local] [--metrics-dump <file prefix>] [--port-base N]

Needs ksqlDB, Schema Registry and ksql-migrations builds named by KSQL_SERVER_START, SCHEMA_REGISTRY_START and
KSQL_MIGRATIONS (source /work/engines/env.sh) and npm run real:setup. For each SQL variant (old: V000001-V000003;
new: every migration, when a V000004+ exists) starts 3 brokers, Schema Registry and ksqlDB on 127.0.0.1, applies the
migrations with the Job's own script, pre-loads N heartbeats with every query paused, then resumes validation alone
and then the rest, and prints heartbeats/s per core of ksqlDB CPU for each phase, per query, the new/old ratio and
the load average. --stop-runs N then times ksqlDB's SIGTERM stop under load N times (on the last variant).
--new-sql takes the new variant's migrations from another directory (another branch's ksql/migrations);
--metrics-dump writes what the JMX exporter agent served after each variant to <prefix>-<variant>.prom.
--port-base N puts Schema Registry, ksqlDB and the exporter agent on N, N+1, N+2 (default 19410), so two runs or a
bench beside the end-to-end suite can share a machine.

${EXIT_CODES_HELP}`;

/** ~3-5 min of processing per variant on this shared 2-core machine (load average 40-75: 120,000 took 3.7-4.2 min). */
const DEFAULT_HEARTBEATS = 120_000;
/** 2,000 viewers: 400 heartbeats/s of real time, so the default backlog is 5 min of an audience. */
const DEFAULT_VIEWERS = 2_000;
/** Stream threads per query: the cores of this machine (prod: capacity.consumerParallelism over the replicas). */
const DEFAULT_THREADS = 2;
/** ksqlDB heap here (prod: 40 % of the pod's memory); the window store lives off-heap in RocksDB. */
const KSQL_HEAP_MB = 2048;
/** The stack whose KafkaTopic specs make the topics: local is what the issue's runs used (12 partitions). */
const DEFAULT_STACK = "local";
/** Network delay between a player's heartbeat and its arrival at the broker: 100 ms to 2 s. */
const MIN_ARRIVAL_DELAY_MS = 100;
const MAX_ARRIVAL_DELAY_MS = 2_000;
/** Records per produce request while pre-loading. */
const PRELOAD_BATCH = 2_000;
/** Schema Registry, ksqlDB and the exporter agent listen on this port and the next two (--port-base; the brokers take free ports of their own). */
const DEFAULT_PORT_BASE = 19410;
/** How often progress is polled and printed. */
const POLL_MS = 2_000;
const PRINT_EVERY_MS = 10_000;
/** A phase that consumes nothing for this long has stalled: stop and say so. */
const STALL_MS = 240_000;
/** Polls in a row without any committed offset or end offset moving before a drained phase counts as done. */
const QUIET_POLLS = 3;
/** Cluster start bound on a shared machine. */
const CLUSTER_READY_MS = 300_000;
/** How long ksqlDB works on the fresh backlog before a SIGTERM in --stop-runs. */
const LOAD_BEFORE_STOP_MS = 20_000;
/** Idle sample after the backlog: ksqlDB's own overhead with nothing to do. */
const IDLE_SAMPLE_MS = 30_000;
/** A SIGTERM stop still running after this is SIGKILLed (and reported as such): 5 minutes. */
const STOP_CAP_MS = 300_000;
/** Heartbeats each --stop-runs round adds (the queries work through them while the stop comes). */
const STOP_RUN_HEARTBEATS = 150_000;

const fmt = (n: number) => Math.round(n).toLocaleString("en-US");
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const load1 = () => os.loadavg()[0]!.toFixed(2);

function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Samples the 1-minute load average: other work on the machine shares the two cores. */
class LoadSampler {
  private readonly samples: number[] = [];
  private readonly timer = setInterval(() => this.samples.push(os.loadavg()[0]!), 2_000);
  stop(): string {
    clearInterval(this.timer);
    if (this.samples.length === 0) return "n/a";
    const mean = this.samples.reduce((a, b) => a + b, 0) / this.samples.length;
    return `mean ${mean.toFixed(1)}, min ${Math.min(...this.samples).toFixed(1)}, max ${Math.max(...this.samples).toFixed(1)} (1-min load average, ${os.cpus().length} cores)`;
  }
}

/** Deterministic network delay per heartbeat (its arrival = event time + delay). */
function arrivalDelay(i: number): number {
  const x = Math.imul(i ^ 0x5bd1e995, 0x27d4eb2d) >>> 0;
  return MIN_ARRIVAL_DELAY_MS + (x % (MAX_ARRIVAL_DELAY_MS - MIN_ARRIVAL_DELAY_MS));
}

export interface BacklogRecord {
  readonly key: string;
  readonly value: string;
  /** The record timestamp: the simulated arrival time. */
  readonly timestamp: number;
}

/**
 * The next `count` heartbeats of the simulated audience as raw records: keyed by the session key user_id|video_id,
 * `sent_at` = the player's send time (= event time: on-time players send at once), arrival 0.1-2 s later.
 */
export function backlogRecords(sim: Simulation, count: number, firstIndex: number): BacklogRecord[] {
  const records = nextHeartbeats(sim, count).map((hb, i) => ({
    key: `${hb.user_id}|${hb.video_id}`,
    value: JSON.stringify({ ...hb, sent_at: hb.event_ts }),
    timestamp: hb.event_ts + arrivalDelay(firstIndex + i),
  }));
  // In arrival order, as the brokers would have appended them: the simulation visits viewers round-robin, so a
  // viewer back from a pause comes out up to 2 min ahead of the others, which (seen on 8.3.1, 2026-12-07) pushed
  // stream time past the grace and made the window query drop 93 % of a 120,000-heartbeat backlog, either SQL.
  return records.sort((a, b) => a.timestamp - b.timestamp);
}

/** One tick per partition at `ts` (ksql/ticks.ts keys), so every window before it closes (EMIT FINAL). */
export function tickRecords(partitions: number, ts: number): (BacklogRecord & { partition: number })[] {
  return tickKeysForPartitions(partitions).map((t) => ({
    key: t.key,
    partition: t.partition,
    value: JSON.stringify({ user_id: t.user_id, video_id: t.video_id, position_sec: 0, event_ts: ts, sent_at: ts }),
    timestamp: ts,
  }));
}

interface Variant {
  readonly name: "old" | "new";
  readonly files: MigrationFile[];
}

interface QueryInfo {
  readonly id: string;
  readonly group: string;
  readonly sourceTopics: string[];
}

interface PhaseResult {
  readonly seconds: number;
  readonly cpuSeconds: number;
  readonly threadCpu: Map<string, number>;
}

interface VariantResult {
  readonly variant: Variant["name"];
  readonly heartbeats: number;
  readonly validate: PhaseResult;
  readonly rest: PhaseResult;
  readonly dropped: Map<string, number> | undefined;
  readonly load: string;
  /** CPU ksqlDB burns with every query running and nothing to process (polls, commits, metrics), in cores. */
  readonly idleCores: number;
}

/** CPU seconds per persistent query, from its named threads (stream threads and their producers' network threads). */
function threadCpuByQuery(pid: number): Map<string, number> {
  const out = new Map<string, number>();
  let dump: string;
  try {
    dump = execFileSync("jcmd", [String(pid), "Thread.print"], { encoding: "utf8", timeout: 60_000, maxBuffer: 64 * 1024 * 1024 });
  } catch {
    return out;
  }
  for (const m of dump.matchAll(/^"([^"]+)".*?nid=(0x[0-9a-f]+|\d+)/gm)) {
    const q = /query_((?:CSAS|CTAS|INSERTQUERY)_[A-Za-z0-9_]+?_\d+)/.exec(m[1]!);
    const tid = m[2]!.startsWith("0x") ? parseInt(m[2]!, 16) : Number(m[2]);
    const key = q ? q[1]! : "other (server, RocksDB, GC, JIT)";
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, "utf8");
      const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      out.set(key, (out.get(key) ?? 0) + (Number(f[11]) + Number(f[12])) / 100);
    } catch {
      // a thread that ended between the dump and the read
    }
  }
  return out;
}

function diffMaps(after: Map<string, number>, before: Map<string, number>): Map<string, number> {
  return new Map([...after].map(([k, v]) => [k, v - (before.get(k) ?? 0)]));
}

/** The persistent queries, their consumer groups and source topics (EXPLAIN + LIST STREAMS/TABLES). */
async function queryGraph(url: string, serviceId: string): Promise<QueryInfo[]> {
  const shown = (await ksqlStatement(url, "SHOW QUERIES;")) as { queries: { id: string }[] }[];
  const streams = (await ksqlStatement(url, "LIST STREAMS;")) as { streams: { name: string; topic: string }[] }[];
  const tables = (await ksqlStatement(url, "LIST TABLES;")) as { tables: { name: string; topic: string }[] }[];
  const topicOf = new Map([...streams[0]!.streams, ...tables[0]!.tables].map((s) => [s.name.toUpperCase(), s.topic]));
  const out: QueryInfo[] = [];
  for (const q of shown[0]!.queries) {
    const ex = (await ksqlStatement(url, `EXPLAIN ${q.id};`)) as { queryDescription: { sources: string[] } }[];
    const sourceTopics = ex[0]!.queryDescription.sources.map((s) => topicOf.get(s.toUpperCase()) ?? s);
    out.push({ id: q.id, group: `_confluent-ksql-${serviceId}query_${q.id}`, sourceTopics });
  }
  return out;
}

/** Committed offsets of each group on its source topics against their end offsets. */
async function lags(admin: Admin, queries: readonly QueryInfo[]): Promise<{ perQuery: Map<string, { lag: number; committed: number; partitions: number }>; endSum: number }> {
  const topics = [...new Set(queries.flatMap((q) => q.sourceTopics))];
  const ends = new Map<string, Map<number, number>>();
  let endSum = 0;
  for (const t of topics) {
    const o = await admin.fetchTopicOffsets(t);
    ends.set(t, new Map(o.map((p) => [p.partition, Number(p.high)])));
    endSum += o.reduce((s, p) => s + Number(p.high), 0);
  }
  const perQuery = new Map<string, { lag: number; committed: number; partitions: number }>();
  for (const q of queries) {
    const got = await admin.fetchOffsets({ groupId: q.group, topics: q.sourceTopics });
    let lag = 0;
    let committed = 0;
    let partitions = 0;
    for (const t of got) {
      for (const p of t.partitions) {
        const end = ends.get(t.topic)?.get(p.partition) ?? 0;
        const c = Number(p.offset);
        partitions++;
        committed += Math.max(c, 0);
        lag += c < 0 ? end : Math.max(end - c, 0);
      }
    }
    perQuery.set(q.id, { lag, committed, partitions });
  }
  return { perQuery, endSum };
}

/**
 * Resumes `resume` (already-running queries keep going) and waits until every query of `watch` has consumed its
 * sources: lag 0, or at most one record per partition (a transaction marker at the end of a transactional topic that
 * a read_committed consumer is not always seen to commit past) with nothing moving for {@link QUIET_POLLS} polls.
 * Times the phase from the resume to the last poll at which anything moved.
 */
async function drainPhase(label: string, url: string, admin: Admin, pid: number, resume: readonly string[], watch: readonly QueryInfo[], total: number): Promise<PhaseResult> {
  const threads0 = threadCpuByQuery(pid);
  const cpu0 = cpuSecondsOf(pid);
  const t0 = performance.now();
  for (const id of resume) await ksqlStatement(url, `RESUME ${id};`);
  let last = { t: t0, cpu: cpu0, sig: "" };
  let quiet = 0;
  let printed = t0;
  let prevConsumed = 0;
  let prevT = t0;
  for (;;) {
    await sleep(POLL_MS);
    const { perQuery, endSum } = await lags(admin, watch);
    const t = performance.now();
    const cpu = cpuSecondsOf(pid);
    const vals = [...perQuery.values()];
    const sig = `${endSum}:${vals.map((v) => v.committed).join(",")}`;
    const drained = vals.every((v) => v.lag === 0) || vals.every((v) => v.lag <= v.partitions);
    if (sig !== last.sig) {
      last = { t, cpu, sig };
      quiet = 0;
    } else quiet++;
    // Progress: heartbeats_raw consumed by the slowest validation query, or the total lag downstream.
    const rawCommitted = Math.min(...watch.filter((q) => q.sourceTopics.includes(RAW_HEARTBEATS_TOPIC)).map((q) => perQuery.get(q.id)!.committed));
    if (t - printed >= PRINT_EVERY_MS) {
      const totalLag = vals.reduce((s, v) => s + v.lag, 0);
      const consumed = Number.isFinite(rawCommitted) ? rawCommitted : 0;
      const rate = ((consumed - prevConsumed) * 1000) / (t - prevT);
      console.log(`  [${label}] ${((t - t0) / 1000).toFixed(0)} s: ${Number.isFinite(rawCommitted) ? `${fmt(consumed)} of ${fmt(total)} raw records consumed (${fmt(rate)}/s), ` : ""}lag ${fmt(totalLag)} over ${watch.length} queries; ksqlDB CPU ${(cpu - cpu0).toFixed(0)} s (${(((cpu - cpu0) / ((t - t0) / 1000)) * 100).toFixed(0)} % of a core); load ${load1()}`);
      printed = t;
      prevConsumed = consumed;
      prevT = t;
    }
    if (drained && quiet >= QUIET_POLLS) break;
    if (t - last.t > STALL_MS) throw new Error(`${label}: nothing moved for ${STALL_MS / 1000} s; lags ${JSON.stringify(Object.fromEntries(perQuery))}`);
  }
  const threads = diffMaps(threadCpuByQuery(pid), threads0);
  return { seconds: (last.t - t0) / 1000, cpuSeconds: last.cpu - cpu0, threadCpu: threads };
}

/** Sum of end offsets per topic. */
async function endOffsets(admin: Admin, topics: readonly string[]): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const t of topics) out.set(t, (await admin.fetchTopicOffsets(t)).reduce((s, p) => s + Number(p.high), 0));
  return out;
}

/** ksqlDB's CPU over {@link IDLE_SAMPLE_MS} with every query running and nothing to process, in cores. */
async function idleCpu(pid: number): Promise<number> {
  const c0 = cpuSecondsOf(pid);
  const t0 = performance.now();
  await sleep(IDLE_SAMPLE_MS);
  return (cpuSecondsOf(pid) - c0) / ((performance.now() - t0) / 1000);
}

/**
 * The proposed late-reject copy (for V000004): one query copies the `late:` rejects to heartbeats_late, so its
 * producer's per-topic sent count is the late metric. Applied here when the variant's SQL lacks it.
 */
export function lateCopyStatement(partitions: number, replicas: number): string {
  return `CREATE STREAM IF NOT EXISTS heartbeats_late WITH (KAFKA_TOPIC = '${LATE_HEARTBEATS_TOPIC}', KEY_FORMAT = 'KAFKA', VALUE_FORMAT = 'JSON', PARTITIONS = ${partitions}, REPLICAS = ${replicas}) AS SELECT * FROM heartbeats_rejected WHERE \`reason\` LIKE 'late:%' EMIT CHANGES;`;
}

/**
 * Proves the metric names the alerts use on this live server: a heartbeat played 3 h before it was sent (the new
 * SQL rejects it `late:`, the copy query sends it to heartbeats_late; the old SQL takes it as valid and its window
 * query drops it as late), then what the exporter agent serves for the new names. Writes the whole scrape when asked.
 */
async function metricsProbe(e: Env, variant: string, dumpPrefix: string | undefined): Promise<void> {
  const streams = (await ksqlStatement(e.url, "LIST STREAMS;")) as { streams: { name: string }[] }[];
  if (!streams[0]!.streams.some((x) => x.name.toUpperCase() === "HEARTBEATS_LATE")) {
    await ksqlStatement(e.url, lateCopyStatement(3, 3));
    console.log("  metrics probe: heartbeats_late copy query created (the variant's SQL has none)");
    await waitQueriesRunning(e.url);
  }
  const now = Date.now();
  const played = now - 3 * 3_600_000;
  await e.producer.send({ topic: RAW_HEARTBEATS_TOPIC, acks: -1, messages: [{ key: "u-late|v-late", value: JSON.stringify({ user_id: "u-late", video_id: "v-late", position_sec: 10, event_ts: played, sent_at: now }), timestamp: String(now) }] });
  const names = ["ksqldb_streams_dropped_records_total", "ksqldb_query_records_produced_total"];
  let text = "";
  await waitUntil("the late probe counted (heartbeats_late sent or a record dropped)", 120_000, async () => {
    text = await (await fetch(e.agentUrl!)).text();
    return /ksqldb_query_records_produced_total\{[^}]*topic="heartbeats_late"[^}]*\}\s+[1-9]/.test(text) || /ksqldb_streams_dropped_records_total\{[^}]*\}\s+[1-9]/.test(text);
  }).catch((err: unknown) => console.log(`  metrics probe: ${(err as Error).message}`));
  for (const n of names) {
    const lines = text.split("\n").filter((l) => l.startsWith(`${n}{`));
    const nonzero = lines.filter((l) => !/\s0\.0$|\s0$/.test(l));
    console.log(`  metric ${n}: ${lines.length} series on the live server${nonzero.length ? `; non-zero: ${nonzero.slice(0, 4).join(" | ")}` : ""}`);
  }
  if (dumpPrefix) {
    writeFileSync(`${dumpPrefix}-${variant}.prom`, text);
    console.log(`  exporter scrape written to ${dumpPrefix}-${variant}.prom`);
  }
}

/** Sum of Kafka Streams' dropped-records counters by query, through the exporter agent's endpoint. */
async function droppedRecords(agentUrl: string | undefined): Promise<Map<string, number> | undefined> {
  if (!agentUrl) return undefined;
  const text = await (await fetch(agentUrl)).text();
  const out = new Map<string, number>();
  for (const m of text.matchAll(/^ksqldb_streams_dropped_records_total\{([^}]*)\}\s+([0-9.eE+-]+)/gm)) {
    const q = /query_id="([^"]+)"/.exec(m[1]!)?.[1] ?? "?";
    out.set(q, (out.get(q) ?? 0) + Number(m[2]));
  }
  return out;
}

interface Env {
  readonly cluster: KafkaTestCluster;
  readonly admin: Admin;
  readonly producer: Producer;
  readonly sr: ServerProcess;
  ksql: ServerProcess;
  readonly url: string;
  readonly props: string;
  readonly opts: KsqlServerOptions;
  readonly agentUrl: string | undefined;
  readonly dir: string;
  readonly partitions: number;
}

/** Produces records with their timestamps, keyed, acks=all, with progress. */
async function produce(producer: Producer, records: readonly BacklogRecord[], label: string): Promise<void> {
  const t0 = performance.now();
  let printed = t0;
  for (let i = 0; i < records.length; i += PRELOAD_BATCH) {
    const batch = records.slice(i, i + PRELOAD_BATCH);
    await producer.send({
      topic: RAW_HEARTBEATS_TOPIC,
      acks: -1,
      messages: batch.map((r) => ({ key: r.key, value: r.value, timestamp: String(r.timestamp), ...("partition" in r ? { partition: (r as { partition: number }).partition } : {}) })),
    });
    if (performance.now() - printed > PRINT_EVERY_MS) {
      printed = performance.now();
      const done = i + batch.length;
      console.log(`  ${label}: ${fmt(done)} of ${fmt(records.length)} produced (${fmt((done * 1000) / (printed - t0))}/s)`);
    }
  }
}

async function startEnv(l: ConfluentLaunchers, variant: Variant, stack: string, threads: number, agent: boolean, portBase: number): Promise<Env> {
  const dir = mkdtempSync(join(os.tmpdir(), `watchpipe-bench-ksql-${variant.name}-`));
  const topics = programTopics(stack);
  const cluster = await startCluster({ readyTimeoutMs: CLUSTER_READY_MS });
  const servers: ServerProcess[] = [];
  try {
    await createTopicsReady(cluster.brokers, [
      ...topics.topics.map((t) => (t.topic === RAW_HEARTBEATS_TOPIC
        ? { ...t, configEntries: [...t.configEntries.filter((c) => c.name !== "message.timestamp.type"), { name: "message.timestamp.type", value: "CreateTime" }] }
        : t)),
      { topic: SCHEMAS_TOPIC, numPartitions: 1, replicationFactor: 3, configEntries: [{ name: "cleanup.policy", value: "compact" }] },
      { topic: KSQL_PROCESSING_LOG_TOPIC, numPartitions: 3, replicationFactor: 3, configEntries: [] },
    ]);
    const partitions = topics.topics.find((t) => t.topic === RAW_HEARTBEATS_TOPIC)!.numPartitions;
    const ports = [portBase, portBase + 1, portBase + 2] as const;
    const [srPort, ksqlPort, agentPort] = ports;
    for (const p of ports) if (await portOpen(p)) throw new Error(`port ${p} on 127.0.0.1 is taken (another bench:ksql, or a server it left behind?): free it and rerun`);
    const sr = await startSchemaRegistry(l, cluster.bootstrap, srPort, dir);
    servers.push(sr.proc);
    const jvmOpts = agent ? jmxAgentOption(dir, agentPort) : undefined;
    const opts: KsqlServerOptions = { bootstrap: cluster.bootstrap, schemaRegistryUrl: sr.url, port: ksqlPort, dir, streamThreads: threads, heapMb: KSQL_HEAP_MB, ...(jvmOpts ? { jvmOpts } : {}) };
    const props = writeKsqlProperties(opts);
    const k = await startKsql(l, props, opts);
    servers.push(k.proc);
    console.log(`  ksqlDB healthy in ${(k.readyMs / 1000).toFixed(0)} s (pid ${k.proc.child.pid}, ${threads} stream threads per query, heap ${KSQL_HEAP_MB} MiB); Schema Registry ${sr.url}`);
    const defines = migrationDefines(DEFAULT_SESSIONIZATION_PARAMS, { heartbeatPartitions: topics.heartbeatPartitions, sinkTopics: topics.sinkTopics });
    const t0 = performance.now();
    const out = applyMigrations(l, k.url, variant.files, defines, dir);
    const migrated = out.split("\n").filter((x) => /MIGRATED/.test(x)).length;
    console.log(`  migrations ${variant.files.map((f) => f.name.slice(0, 7)).join(", ")} applied by the Job's script in ${((performance.now() - t0) / 1000).toFixed(0)} s (${migrated} lines MIGRATED in its info)`);
    const kafka = new Kafka({ clientId: "bench-ksql", brokers: [...cluster.brokers], logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, retry: { retries: 10 } });
    await producer.connect();
    return { cluster, admin, producer, sr: sr.proc, ksql: k.proc, url: k.url, props, opts, agentUrl: agent ? `http://127.0.0.1:${agentPort}/metrics` : undefined, dir, partitions };
  } catch (err) {
    for (const p of servers.reverse()) await stopServer(p, 5_000);
    await cluster.stop().catch(() => undefined);
    throw err;
  }
}

async function stopEnv(e: Env): Promise<void> {
  await e.producer.disconnect().catch(() => undefined);
  await e.admin.disconnect().catch(() => undefined);
  await stopServer(e.ksql, 5_000);
  await stopServer(e.sr, 5_000);
  await e.cluster.stop().catch(() => undefined);
  rmSync(e.dir, { recursive: true, force: true });
}

async function waitQueriesRunning(url: string): Promise<string[]> {
  let states: string[] = [];
  await waitUntil("every persistent query RUNNING", KSQL_QUERY_RUNNING_MS, async () => {
    const body = (await ksqlStatement(url, "SHOW QUERIES;")) as { queries: { id: string; state: string }[] }[];
    states = body[0]!.queries.map((q) => `${q.id} ${q.state}`);
    return states.length > 0 && states.every((s) => s.endsWith(" RUNNING") || s.endsWith(" PAUSED"));
  });
  return states;
}
const KSQL_QUERY_RUNNING_MS = 300_000;

async function runVariant(l: ConfluentLaunchers, variant: Variant, o: { stack: string; heartbeats: number; viewers: number; threads: number; agent: boolean; stopRuns: number; metricsDump: string | undefined; portBase: number }): Promise<{ result: VariantResult; stops: { stopMs: number; killed: boolean; readyMs: number }[] }> {
  console.log(`\n== ${variant.name} SQL (${variant.files.map((f) => f.name).join(", ")}) ==`);
  const e = await startEnv(l, variant, o.stack, o.threads, o.agent, o.portBase);
  try {
    console.log(`  queries: ${(await waitQueriesRunning(e.url)).join(", ")}`);
    await ksqlStatement(e.url, "PAUSE ALL;");
    const queries = await queryGraph(e.url, KSQL_SERVICE_ID);
    const validate = queries.filter((q) => q.sourceTopics.includes(RAW_HEARTBEATS_TOPIC));
    if (validate.length === 0) throw new Error(`no query reads ${RAW_HEARTBEATS_TOPIC}: ${JSON.stringify(queries)}`);

    // The backlog: the last `heartbeats / (viewers / 5 s)` seconds of an audience, ending a few minutes ago.
    const spanMs = (o.heartbeats / o.viewers) * HEARTBEAT_INTERVAL_SEC * 1000;
    const startTs = Date.now() - spanMs - 10 * 60_000;
    const sim = createSimulation({ viewers: o.viewers, videos: 20_000, seed: 21, startTs });
    const t0 = performance.now();
    const records = backlogRecords(sim, o.heartbeats, 0);
    const lastTs = Math.max(...records.map((r) => r.timestamp));
    // Past the last window's close (window + grace): EMIT FINAL emits every window of the backlog.
    const ticks = tickRecords(e.partitions, lastTs + (PIECE_WINDOW_SEC + SQL_GRACE_PERIOD_SEC + 30) * 1000);
    await produce(e.producer, records, "pre-load");
    await produce(e.producer, ticks, "ticks");
    console.log(`  pre-loaded ${fmt(o.heartbeats)} heartbeats (${o.viewers} viewers, ${(spanMs / 60_000).toFixed(1)} min of event time, keyed user_id|video_id) + ${ticks.length} ticks in ${((performance.now() - t0) / 1000).toFixed(0)} s; every query paused`);

    const load = new LoadSampler();
    const total = o.heartbeats + ticks.length;
    console.log(`  phase 1: validation alone (${validate.map((q) => q.id).join(", ")})`);
    const v = await drainPhase("validate", e.url, e.admin, e.ksql.child.pid!, validate.map((q) => q.id), validate, total);
    console.log(`  phase 2: the rest of the chain (${queries.filter((q) => !validate.includes(q)).map((q) => q.id).join(", ")})`);
    const r = await drainPhase("chain", e.url, e.admin, e.ksql.child.pid!, ["ALL"], queries, total);
    const loadLine = load.stop();
    const dropped = await droppedRecords(e.agentUrl).catch(() => undefined);
    const outputs = await endOffsets(e.admin, [HEARTBEATS_TOPIC, HEARTBEAT_SESSIONS_TOPIC, WATCH_SEGMENTS_TOPIC]);
    console.log(`  end offsets (records + transaction markers): ${[...outputs].map(([t, n]) => `${t} ${fmt(n)}`).join(", ")}`);
    if ((outputs.get(WATCH_SEGMENTS_TOPIC) ?? 0) === 0) throw new Error(`nothing reached ${WATCH_SEGMENTS_TOPIC}: the chain did not process the backlog (a query that started at the end of its input?); ksqlDB log ${e.ksql.log}`);
    const idle = await idleCpu(e.ksql.child.pid!);
    const result: VariantResult = { variant: variant.name, heartbeats: total, validate: v, rest: r, dropped, load: loadLine, idleCores: idle };
    printVariant(result);
    if (e.agentUrl) await metricsProbe(e, variant.name, o.metricsDump);

    const stops: { stopMs: number; killed: boolean; readyMs: number }[] = [];
    for (let i = 1; i <= o.stopRuns; i++) stops.push(await stopRun(e, sim, i, validate));
    return { result, stops };
  } finally {
    await stopEnv(e);
  }
}

/** One SIGTERM under load: a fresh backlog, ksqlDB at work on it, SIGTERM, then a restart until healthy. */
async function stopRun(e: Env, sim: Simulation, run: number, validate: readonly QueryInfo[]): Promise<{ stopMs: number; killed: boolean; readyMs: number }> {
  const records = backlogRecords(sim, STOP_RUN_HEARTBEATS, run * 10_000_000);
  await produce(e.producer, records, `stop run ${run} backlog`);
  const before = (await lags(e.admin, validate)).perQuery;
  await sleep(LOAD_BEFORE_STOP_MS);
  const after = (await lags(e.admin, validate)).perQuery;
  const working = [...after].some(([id, x]) => x.committed > (before.get(id)?.committed ?? 0));
  const cpu = cpuSecondsOf(e.ksql.child.pid!);
  const stop = await stopServer(e.ksql, STOP_CAP_MS);
  console.log(`  stop run ${run}: SIGTERM after ${LOAD_BEFORE_STOP_MS / 1000} s on a ${fmt(STOP_RUN_HEARTBEATS)}-heartbeat backlog (${working ? "consuming" : "NOT seen consuming"}; ${cpu.toFixed(0)} CPU s so far): stopped in ${(stop.ms / 1000).toFixed(1)} s${stop.killed ? ` — still running at ${STOP_CAP_MS / 1000} s, SIGKILLed` : ""}; load ${load1()}`);
  const k = await startKsql(confluentLaunchers() as ConfluentLaunchers, e.props, e.opts);
  e.ksql = k.proc;
  await waitQueriesRunning(e.url);
  console.log(`    restarted: healthy in ${(k.readyMs / 1000).toFixed(0)} s`);
  return { stopMs: stop.ms, killed: stop.killed, readyMs: k.readyMs };
}

function printVariant(r: VariantResult): void {
  const perCoreValidate = r.heartbeats / r.validate.cpuSeconds;
  const chainCpu = r.validate.cpuSeconds + r.rest.cpuSeconds;
  console.log(`  ${r.variant}: ${fmt(r.heartbeats)} records; validation ${r.validate.seconds.toFixed(0)} s wall, ${r.validate.cpuSeconds.toFixed(1)} CPU s → ${fmt(perCoreValidate)} heartbeats/s per core; the rest ${r.rest.seconds.toFixed(0)} s wall, ${r.rest.cpuSeconds.toFixed(1)} CPU s; whole chain ${chainCpu.toFixed(1)} CPU s → ${fmt(r.heartbeats / chainCpu)} heartbeats/s per core`);
  const threads = new Map<string, number>();
  for (const m of [r.validate.threadCpu, r.rest.threadCpu]) for (const [k, v] of m) threads.set(k, (threads.get(k) ?? 0) + v);
  const sorted = [...threads].sort((a, b) => b[1] - a[1]);
  if (sorted.length > 0) {
    console.log(`  CPU by thread owner over both phases (stream threads + their producers; the rest is server, RocksDB, GC, JIT):`);
    for (const [k, v] of sorted) console.log(`    ${k.padEnd(40)} ${v.toFixed(1).padStart(7)} CPU s  (${((v / chainCpu) * 100).toFixed(0)} %)  → ${fmt(r.heartbeats / v)} heartbeats per CPU s`);
  }
  const netCpu = chainCpu - r.idleCores * (r.validate.seconds + r.rest.seconds);
  console.log(`  idle (every query running, nothing to process): ${(r.idleCores * 100).toFixed(0)} % of a core; net of it the whole chain is ${fmt(r.heartbeats / netCpu)} heartbeats/s per core (an upper side: a busy server polls and commits too)`);
  if (r.dropped) console.log(`  Kafka Streams dropped records (ksqldb_streams_dropped_records_total): ${[...r.dropped].filter(([, n]) => n > 0).map(([q, n]) => `${q} ${fmt(n)}`).join(", ") || "none"}`);
  else console.log("  dropped records: not read (no JMX exporter agent: run .ci/install-monitoring-tools.sh)");
  console.log(`  load average during the phases: ${r.load}`);
}

function variants(which: readonly string[], newSqlDir: string | undefined): { list: Variant[]; note?: string } {
  const all = migrationFiles();
  const candidate = newSqlDir === undefined ? all : migrationFiles(newSqlDir);
  const list: Variant[] = [];
  let note: string | undefined;
  if (which.includes("old")) list.push({ name: "old", files: all.filter((f) => f.version <= 3) });
  if (which.includes("new")) {
    // V000004 replaces every query of V000001-V000003 (it drops them first), so the new variant applies it alone on a
    // fresh server: the same queries, without the cutover (its DROPs are the migration suites' business).
    if (candidate.some((f) => f.version >= 4)) list.push({ name: "new", files: candidate.filter((f) => f.version >= 4) });
    else note = `no V000004+ in ${newSqlDir ?? "ksql/migrations"}: the new SQL is not there (yet), so only the old SQL runs`;
  }
  return { list, ...(note ? { note } : {}) };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      help: { type: "boolean", short: "h" },
      heartbeats: { type: "string" }, viewers: { type: "string" }, sql: { type: "string" }, threads: { type: "string" },
      "stop-runs": { type: "string" }, stack: { type: "string" }, "new-sql": { type: "string" }, "metrics-dump": { type: "string" },
      "port-base": { type: "string" },
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
  const heartbeats = int("heartbeats", values.heartbeats, DEFAULT_HEARTBEATS, 1000);
  const viewers = int("viewers", values.viewers, DEFAULT_VIEWERS, 1);
  const threads = int("threads", values.threads, DEFAULT_THREADS, 1);
  const stopRuns = int("stop-runs", values["stop-runs"], 0, 0);
  const portBase = int("port-base", values["port-base"], DEFAULT_PORT_BASE, 1024);
  if (portBase + 2 > 65535) throw new UsageError(`--port-base: expected at most 65533 (it takes N, N+1 and N+2); got ${portBase}.`);
  const which = (values.sql ?? "old,new").split(",");
  const bad = which.filter((w) => w !== "old" && w !== "new");
  if (bad.length > 0) throw new UsageError(`--sql: expected old, new or old,new; got ${JSON.stringify(values.sql)}.`);
  const launchers = confluentLaunchers();
  if (typeof launchers === "string") throw new UsageError(`bench:ksql needs a ksqlDB build: ${launchers}.`);
  const missing = missingKafkaJars();
  if (missing !== null) throw new UsageError(`${missing} (run npm run real:setup)`);
  const agentMissing = ksqlAgentMissing();
  const agent = agentMissing === undefined;
  if (agentMissing) console.log(`bench:ksql: no JMX exporter agent (${agentMissing}): dropped records will not be read`);
  const { list, note } = variants(which, values["new-sql"]);
  if (note) console.log(`bench:ksql: ${note}`);
  if (list.length === 0) throw new UsageError("bench:ksql: nothing to run (see above).");

  console.log(`bench:ksql: ${fmt(heartbeats)} heartbeats from ${fmt(viewers)} viewers per variant (${list.map((x) => x.name).join(", ")}), stack ${values.stack ?? DEFAULT_STACK}'s topics, ${threads} stream threads per query; load average now ${os.loadavg().map((x) => x.toFixed(2)).join(" ")}; ${os.cpus().length} cores`);
  const results: VariantResult[] = [];
  const stops: { stopMs: number; killed: boolean; readyMs: number }[] = [];
  for (const [i, v] of list.entries()) {
    const r = await runVariant(launchers, v, { stack: values.stack ?? DEFAULT_STACK, heartbeats, viewers, threads, agent, stopRuns: i === list.length - 1 ? stopRuns : 0, metricsDump: values["metrics-dump"], portBase });
    results.push(r.result);
    stops.push(...r.stops);
  }

  console.log("\nSummary (heartbeats/s per core of ksqlDB JVM CPU; CPU time does not shrink when other work shares the cores, wall clock does):");
  for (const r of results) {
    const chain = r.validate.cpuSeconds + r.rest.cpuSeconds;
    console.log(`  ${r.variant}: validation alone ${fmt(r.heartbeats / r.validate.cpuSeconds)}, whole chain ${fmt(r.heartbeats / chain)} (load ${r.load})`);
  }
  const old = results.find((r) => r.variant === "old");
  const neu = results.find((r) => r.variant === "new");
  if (old && neu) {
    const c = (r: VariantResult) => r.heartbeats / (r.validate.cpuSeconds + r.rest.cpuSeconds);
    console.log(`  new / old, whole chain: ${(c(neu) / c(old)).toFixed(2)}×; validation alone: ${((neu.heartbeats / neu.validate.cpuSeconds) / (old.heartbeats / old.validate.cpuSeconds)).toFixed(2)}×`);
  }
  if (stops.length > 0) {
    console.log(`  SIGTERM stop under load: ${stops.map((s) => `${(s.stopMs / 1000).toFixed(1)} s${s.killed ? " (killed)" : ""}`).join(", ")}; max ${(Math.max(...stops.map((s) => s.stopMs)) / 1000).toFixed(1)} s, median ${(median(stops.map((s) => s.stopMs)) / 1000).toFixed(1)} s; healthy again after ${stops.map((s) => (s.readyMs / 1000).toFixed(0)).join(", ")} s`);
  }
}

main().catch((err: unknown) => {
  console.error(`bench:ksql failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = exitCodeOf(err);
});
