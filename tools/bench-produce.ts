/**
 * `npm run bench:produce`: on a local 3-broker KRaft cluster it starts itself (127.0.0.1), measures the load
 * generator with each client (librdkafka and kafkajs) against Kafka's own kafka-producer-perf-test
 * (ProducerPerformance from the same jars), with equal record size (a realistic heartbeat JSON), acks=all,
 * idempotence and comparable batching. Prints each run, the three medians and their ratios, and the load average
 * sampled during the measured runs. Needs `npm run real:setup`. Flags: --runs N --records N --producers N
 * --batch-size N --partitions N --workers N (kafkajs side). Each loadgen side runs exactly what `npm run loadgen`
 * runs (partition-owning lanes; kafkajs in worker threads when --workers > 1). Without the librdkafka package the
 * bench says so and measures the other two.
 */
import { spawn } from "node:child_process";
import * as os from "node:os";
import { parseArgs } from "node:util";
import { PRODUCER_DURABILITY_CONFIG } from "../contract/durability";
import { createDurableTopic } from "../test/real/kafka/admin";
import { startCluster } from "../test/real/kafka/cluster";
import { kafkaClasspath } from "../test/real/kafka/paths";
import { parseLoadgenArgs, type LoadgenConfig } from "./loadgen/config";
import { createPartitionedKafkaLanes } from "./loadgen/kafkaSender";
import { createPartitionedRdkafkaLanes, LIBRDKAFKA_PACKAGE, loadLibrdkafka } from "./loadgen/rdkafkaSender";
import { toRecords } from "./loadgen/records";
import { runLoad, type RunSummary } from "./loadgen/run";
import { createSimulation, nextHeartbeats } from "./loadgen/simulate";
import { median } from "./loadgen/stats";
import { runLoadInWorkers } from "./loadgen/workers";
import { EXIT_CODES_HELP, exitCodeOf, UsageError } from "./exitCodes";

const HELP = `Usage: npm run bench:produce -- [--runs N] [--records N] [--workers N] [--producers N] [--batch-size N] [--partitions N]

Starts a 3-broker Kafka cluster on 127.0.0.1 (npm run real:setup first), then in one run measures the load generator
with librdkafka, with kafkajs (--workers threads, default 2), and Kafka's own kafka-producer-perf-test, with equal
record size, acks=all, idempotence and comparable batching, after an unmeasured warm-up of each, rotating which goes
first. Prints every run, the three medians (records/s, MB/s), their ratios and the load average during the runs.

${EXIT_CODES_HELP}`;

/** Three runs each: enough for a median that ignores one noisy run on a shared 2-core machine. */
const DEFAULT_RUNS = 3;
/** ~5-10 s per run at the rates seen here: long enough for steady state, short enough for the whole bench. */
const DEFAULT_RECORDS = 300_000;
/** Records each client sends once, unmeasured, before the runs: ~2-5 s, enough to get fresh brokers past JIT warm-up. */
const WARMUP_RECORDS = 150_000;
/** Twelve partitions: four leaders per broker, several requests in flight per producer lane. */
const DEFAULT_PARTITIONS = 12;
/** Java producer batching comparable to the loadgen's large per-partition sends. */
const PERF_TEST_BATCH_BYTES = 262_144;
/** A few ms of linger lets the Java client fill batches, as the loadgen does by building large batches. */
const PERF_TEST_LINGER_MS = 5;
/** Bench brokers get a bit more heap: ~1 M records/run through three brokers. */
const BENCH_BROKER_HEAP_MB = 768;
/**
 * Two loadgen worker threads: kafkajs needs ~15 us of CPU per record, so one thread cannot keep up with the Java
 * client; back to back on one cluster two measured 57-72k/s vs 38-56k/s for one on this 2-core machine.
 */
const DEFAULT_BENCH_WORKERS = 2;
/** Cluster start bound: the machine is shared, and at load average ~40 three brokers took longer than the default 90 s. */
const BENCH_CLUSTER_READY_MS = 300_000;
/** Load-average sample interval during the measured runs. */
const LOAD_SAMPLE_MS = 2_000;

interface Measured {
  readonly recordsPerSec: number;
  readonly mbPerSec: number;
}

/** Mean JSON size of simulated heartbeats: the perf-test record size, so both sides move the same bytes. */
function heartbeatRecordSize(): number {
  const hbs = nextHeartbeats(createSimulation({ viewers: 10_000, videos: 2_000, seed: 1, startTs: Date.now() }), 10_000);
  const records = toRecords(hbs, 0, 0, Math.random);
  return Math.round(records.reduce((n, r) => n + Buffer.byteLength(r.value), 0) / records.length);
}

async function runLoadgen(cfg: LoadgenConfig, recordSize: number): Promise<Measured> {
  const log = (l: string): void => console.log(`    ${l}`);
  const runId = `bench${Date.now()}`;
  let s: RunSummary;
  if (cfg.client === "kafkajs" && cfg.workers > 1) s = await runLoadInWorkers(cfg, runId, { log });
  else {
    const { lanes, laneOf } = cfg.client === "librdkafka" ? await createPartitionedRdkafkaLanes(cfg, runId) : await createPartitionedKafkaLanes(cfg, runId);
    try {
      s = await runLoad(cfg, lanes, { log, laneOf });
    } finally {
      await Promise.all(lanes.map((l) => l.close()));
    }
  }
  if (s.failed > 0) throw new Error(`loadgen run had ${s.failed} failed records; a benchmark with failures is not comparable`);
  const rps = (s.acked * 1000) / s.elapsedMs;
  return { recordsPerSec: rps, mbPerSec: (rps * recordSize) / 1e6 };
}

/** Splits a stream into whole lines (perf-test's stdout arrives in arbitrary chunks). */
function lineSplitter(onLine: (line: string) => void): (chunk: Buffer) => void {
  let pending = "";
  return (chunk) => {
    pending += chunk.toString();
    const lines = pending.split("\n");
    pending = lines.pop() ?? "";
    for (const l of lines) if (l.trim() !== "") onLine(l.trim());
  };
}

function loadAverage(): string {
  return os.loadavg().map((x) => x.toFixed(2)).join(" ");
}

/** Parses ProducerPerformance's final line: "N records sent, X records/sec (Y MB/sec), ...". */
export function parsePerfTestSummary(output: string): Measured {
  const m = /(\d+) records sent, ([\d.]+) records\/sec \(([\d.]+) MB\/sec\)/.exec(output.split("\n").filter((l) => l.includes("records sent")).pop() ?? "");
  if (m === null) throw new Error(`could not find "N records sent, X records/sec (Y MB/sec)" in perf-test output:\n${output.slice(-2000)}`);
  return { recordsPerSec: Number(m[2]), mbPerSec: Number(m[3]) };
}

function runPerfTest(bootstrap: string, topic: string, records: number, recordSize: number): Promise<Measured> {
  const props = [
    `bootstrap.servers=${bootstrap}`,
    `acks=${PRODUCER_DURABILITY_CONFIG.acks}`,
    `enable.idempotence=${PRODUCER_DURABILITY_CONFIG["enable.idempotence"]}`,
    `max.in.flight.requests.per.connection=${PRODUCER_DURABILITY_CONFIG["max.in.flight.requests.per.connection"]}`,
    `batch.size=${PERF_TEST_BATCH_BYTES}`,
    `linger.ms=${PERF_TEST_LINGER_MS}`,
    "compression.type=none",
  ];
  const args = ["-Xmx512m", "-cp", kafkaClasspath(), "org.apache.kafka.tools.ProducerPerformance", "--topic", topic,
    "--num-records", String(records), "--record-size", String(recordSize), "--throughput", "-1", "--producer-props", ...props];
  return new Promise((resolve, reject) => {
    const child = spawn("java", args, { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    const printLine = lineSplitter((line) => console.log(`    perf-test: ${line}`));
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString();
      printLine(d);
    });
    child.stderr.on("data", (d: Buffer) => (out += d.toString()));
    child.once("exit", (code) => {
      if (code !== 0) reject(new Error(`kafka-producer-perf-test exited with ${code}, expected 0:\n${out.slice(-2000)}`));
      else {
        try {
          resolve(parsePerfTestSummary(out));
        } catch (e) {
          reject(e);
        }
      }
    });
  });
}

/** Samples the 1-minute load average while the measured runs go on: other work on the machine skews every side. */
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

type Side = "librdkafka" | "kafkajs" | "perf-test";

/** Pure: the order of the sides in run `i` (1-based): rotated each run, so each side goes first, second and last. */
function sideOrder(sides: readonly Side[], i: number): Side[] {
  const k = (i - 1) % sides.length;
  return [...sides.slice(k), ...sides.slice(0, k)];
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      help: { type: "boolean", short: "h" },
      runs: { type: "string" },
      records: { type: "string" },
      producers: { type: "string" },
      "batch-size": { type: "string" },
      partitions: { type: "string" },
      workers: { type: "string" },
    },
  });
  if (values.help) {
    console.log(HELP);
    return;
  }
  const runs = Number(values.runs ?? DEFAULT_RUNS);
  const records = Number(values.records ?? DEFAULT_RECORDS);
  const partitions = Number(values.partitions ?? DEFAULT_PARTITIONS);
  for (const [name, v] of [["runs", runs], ["records", records], ["partitions", partitions]] as const) {
    if (!Number.isInteger(v) || v < 1) throw new UsageError(`--${name} must be an integer >= 1, got ${v}`);
  }
  const rdkafka = loadLibrdkafka();
  const sides: Side[] = rdkafka.ok ? ["librdkafka", "kafkajs", "perf-test"] : ["kafkajs", "perf-test"];
  if (!rdkafka.ok) console.log(`bench-produce: ${LIBRDKAFKA_PACKAGE} is not available (${rdkafka.reason}); measuring kafkajs and perf-test only`);
  else console.log(`librdkafka ${rdkafka.version} (${LIBRDKAFKA_PACKAGE})`);
  const recordSize = heartbeatRecordSize();
  console.log(`load average before the bench (1/5/15 min, ${os.cpus().length} cores): ${loadAverage()}`);
  const cluster = await startCluster({ heapMb: BENCH_BROKER_HEAP_MB, readyTimeoutMs: BENCH_CLUSTER_READY_MS });
  try {
    const commonArgs = ["--bootstrap", cluster.bootstrap, "--rate", "0", "--progress-interval", "5"];
    if (values.producers !== undefined) commonArgs.push("--producers", values.producers);
    if (values["batch-size"] !== undefined) commonArgs.push("--batch-size", values["batch-size"]);
    const loadgenConfig = (client: "librdkafka" | "kafkajs", topic: string, count: number): LoadgenConfig => {
      const clientArgs = client === "kafkajs" ? ["--client", "kafkajs", "--workers", values.workers ?? String(DEFAULT_BENCH_WORKERS)] : ["--client", "librdkafka"];
      const parsed = parseLoadgenArgs([...commonArgs, ...clientArgs, "--topic", topic, "--count", String(count)], {});
      if (parsed.help) throw new Error("unexpected --help");
      return parsed.config;
    };
    const measure = async (side: Side, topic: string, count: number, label: string): Promise<Measured> => {
      if (side === "perf-test") {
        console.log(`${label}: kafka-producer-perf-test (${count} records of ${recordSize} B, batch.size ${PERF_TEST_BATCH_BYTES}, linger ${PERF_TEST_LINGER_MS} ms)`);
        return runPerfTest(cluster.bootstrap, topic, count, recordSize);
      }
      const cfg = loadgenConfig(side, topic, count);
      const threads = side === "kafkajs" ? `${cfg.workers} worker thread(s)` : "1 thread";
      console.log(`${label}: loadgen --client ${side} (${threads}, up to ${cfg.producers} lanes x batch ${cfg.batchSize}, ${count} records of ~${recordSize} B)`);
      return runLoadgen(cfg, recordSize);
    };
    // Unmeasured warm-up of the fresh brokers (JIT, page cache, first segments) by every side, so no side's first
    // measured run pays for it. Without it the loadgen, going first, ran its first seconds at ~15k/s.
    console.log(`warm-up (not measured): ${WARMUP_RECORDS} records from each side`);
    for (const side of sides) {
      const topic = `bench_warmup_${side.replace("-", "")}`;
      await createDurableTopic(cluster.brokers, topic, partitions);
      await measure(side, topic, WARMUP_RECORDS, "warm-up");
    }

    const results = new Map<Side, Measured[]>(sides.map((s) => [s, []]));
    const sampler = new LoadSampler();
    for (let i = 1; i <= runs; i++) {
      // Rotate who goes first, so whatever the previous run leaves behind (log flushes, GC) hits every side.
      for (const side of sideOrder(sides, i)) {
        const topic = `bench_${side.replace("-", "")}_${i}`;
        await createDurableTopic(cluster.brokers, topic, partitions);
        results.get(side)!.push(await measure(side, topic, records, `run ${i}/${runs}`));
      }
      console.log(`run ${i}: ` + sides.map((s) => `${s} ${results.get(s)![i - 1]!.recordsPerSec.toFixed(0)} rec/s`).join(" | ") + ` | load ${loadAverage()}`);
    }
    const loadDuring = sampler.stop();
    const med = (s: Side): number => median(results.get(s)!.map((m) => m.recordsPerSec));
    const medMb = (s: Side): number => median(results.get(s)!.map((m) => m.mbPerSec));
    console.log("");
    console.log(`record size ${recordSize} B, ${partitions} partitions, RF 3, min ISR 2, acks=all, idempotent, no compression, ${runs} runs`);
    for (const s of sides) console.log(`${s.padEnd(10)} median ${med(s).toFixed(0).padStart(7)} records/s, ${medMb(s).toFixed(2)} MB/s  (runs: ${results.get(s)!.map((m) => m.recordsPerSec.toFixed(0)).join(", ")})`);
    const pt = med("perf-test");
    if (rdkafka.ok) {
      console.log(`ratio librdkafka / perf-test: ${(med("librdkafka") / pt).toFixed(2)} (goal >= 0.80; librdkafka goal >= 100000 records/s)`);
      console.log(`ratio kafkajs / perf-test:    ${(med("kafkajs") / pt).toFixed(2)}`);
      console.log(`ratio librdkafka / kafkajs:   ${(med("librdkafka") / med("kafkajs")).toFixed(2)}`);
    } else {
      console.log(`ratio kafkajs / perf-test: ${(med("kafkajs") / pt).toFixed(2)}`);
    }
    console.log(`load average during the measured runs: ${loadDuring}`);
    console.log(`load average after the bench: ${loadAverage()} (other work on the machine skews every side; compare the ratios)`);
  } finally {
    await cluster.stop();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(`bench-produce: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(exitCodeOf(err));
  },
);
