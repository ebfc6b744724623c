/**
 * Worker threads for the load generator: one process, several kafkajs clients. kafkajs encodes every record
 * in JavaScript (~15 us of CPU per record here, most of it its own encoding and garbage), so one thread tops
 * out near 60k records/s; threads are how one loadgen process reaches 100k/s on a host with the cores.
 *
 * Each worker simulates a fixed share of the viewers (those whose user_id hashes to its planned partitions) and
 * runs the ordinary runLoad with partition-owning lanes for every partition (createPartitionedKafkaLanes): records
 * are keyed by the session key user_id|video_id, so a viewer's records move partition when it moves video. Two
 * workers may write one partition, each with its own producers; a viewer stays on one worker, so its records keep
 * their order, and every safety property of a lane (idempotent, acks=all, one send in flight, single-partition
 * requests, producer replaced after a failure) holds unchanged inside each worker.
 */
import * as path from "node:path";
import { Worker } from "node:worker_threads";
import { Kafka } from "kafkajs";
import type { LoadgenConfig } from "./config";
import { fetchTopicPartitioning, kafkaClientConfig } from "./kafkaSender";
import type { RunSummary } from "./run";
import { userId } from "./simulate";
import { ProgressMeter } from "./stats";

/** What one worker does: its partitions, its viewers, and its share of the rate and count. */
export interface WorkerPlan {
  readonly index: number;
  readonly partitions: readonly number[];
  readonly viewerIndexes: readonly number[];
  /** Records/s for this worker; 0 = max rate. */
  readonly rate: number;
  readonly count: number | null;
}

export interface PlanInput {
  readonly workers: number;
  readonly partitions: number;
  readonly viewers: number;
  readonly rate: number;
  readonly count: number | null;
  readonly partitionOf: (key: string) => number;
}

/**
 * Pure: partitions round-robin over min(workers, partitions) workers; each viewer goes with its partition;
 * rate and count split in proportion to viewers (count exactly, largest remainder). Workers left without
 * viewers or without records are dropped.
 */
export function planWorkers(input: PlanInput): WorkerPlan[] {
  const w = Math.max(1, Math.min(input.workers, input.partitions));
  const partitions: number[][] = Array.from({ length: w }, () => []);
  for (let p = 0; p < input.partitions; p++) partitions[p % w]!.push(p);
  const viewers: number[][] = Array.from({ length: w }, () => []);
  for (let i = 0; i < input.viewers; i++) viewers[input.partitionOf(userId(i)) % w]!.push(i);

  let counts: (number | null)[] = viewers.map(() => null);
  if (input.count !== null) {
    const total = input.count;
    const exact = viewers.map((v) => (total * v.length) / input.viewers);
    const floors = exact.map(Math.floor);
    let left = total - floors.reduce((a, b) => a + b, 0);
    const byRemainder = exact.map((x, i) => [x - Math.floor(x), i] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
    for (const [, i] of byRemainder) {
      if (left === 0) break;
      floors[i]!++;
      left--;
    }
    counts = floors;
  }
  return viewers
    .map((v, index) => ({
      index,
      partitions: partitions[index]!,
      viewerIndexes: v,
      rate: (input.rate * v.length) / input.viewers,
      count: counts[index]!,
    }))
    .filter((plan) => plan.viewerIndexes.length > 0 && plan.count !== 0);
}

/** main thread -> worker */
export type ToWorker = { readonly type: "stop" };
/** worker -> main thread */
export type FromWorker =
  | { readonly type: "result"; readonly acked: number; readonly failed: number; readonly latencyMs: number }
  | { readonly type: "log"; readonly line: string }
  | { readonly type: "done"; readonly summary: Omit<RunSummary, "errors"> & { readonly errors: [string, number][] } }
  | { readonly type: "error"; readonly message: string };

export interface WorkerInput {
  readonly cfg: LoadgenConfig;
  readonly plan: WorkerPlan;
  readonly runId: string;
}

/**
 * A worker's own progress timer effectively never fires (the main thread prints one aggregate line for all):
 * the longest delay a Node timer takes (2^31-1 ms, ~24 days); anything longer fires at once.
 */
export const WORKER_PROGRESS_OFF_SEC = Math.floor((2 ** 31 - 1) / 1000);

/** Pure: the config a worker runs with (its share of rate, count and lanes; its own progress off). */
export function workerConfig(cfg: LoadgenConfig, plan: WorkerPlan, workers: number): LoadgenConfig {
  return {
    ...cfg,
    rate: plan.rate,
    count: plan.count,
    // --producers caps the lanes of the whole process, not of each thread.
    producers: Math.max(1, Math.ceil(cfg.producers / workers)),
    workers: 1,
    progressIntervalSec: WORKER_PROGRESS_OFF_SEC,
  };
}

/** Pure: sequence headers stay unique across workers: `<runId>-w<index>:<seq>`. */
export function workerRunId(runId: string, index: number): string {
  return `${runId}-w${index}`;
}

/** Pure: one summary for the whole run from the workers' summaries. */
export function mergeSummaries(parts: readonly RunSummary[]): RunSummary {
  const errors = new Map<string, number>();
  for (const p of parts) for (const [msg, n] of p.errors) errors.set(msg, (errors.get(msg) ?? 0) + n);
  const sum = (f: (s: RunSummary) => number): number => parts.reduce((n, s) => n + f(s), 0);
  return {
    generated: sum((s) => s.generated),
    acked: sum((s) => s.acked),
    failed: sum((s) => s.failed),
    malformedAcked: sum((s) => s.malformedAcked),
    elapsedMs: Math.max(0, ...parts.map((s) => s.elapsedMs)),
    errors,
  };
}

/**
 * The worker's entry: tsx's CommonJS hook, then the TypeScript worker module. (A .ts path given straight to
 * `new Worker` fails: Node picks the loader before tsx's hooks apply in the new thread.)
 */
function workerBootstrap(): string {
  // An explicit file path: `require.resolve("./loadWorker")` is relative to the caller under vitest.
  const workerModule = path.join(__dirname, "loadWorker.ts");
  return `require(${JSON.stringify(require.resolve("tsx/cjs"))}); require(${JSON.stringify(workerModule)});`;
}

export interface WorkerRunHooks {
  readonly log?: (line: string) => void;
  readonly signal?: AbortSignal;
}

/** Runs the load in `cfg.workers` threads and prints one aggregate progress line per interval. */
export async function runLoadInWorkers(cfg: LoadgenConfig, runId: string, hooks: WorkerRunHooks = {}): Promise<RunSummary> {
  const log = hooks.log ?? ((l: string) => console.log(l));
  const partitioning = await fetchTopicPartitioning(new Kafka(kafkaClientConfig(cfg)), cfg.topic);
  const plans = planWorkers({ workers: cfg.workers, partitions: partitioning.partitions, viewers: cfg.viewers, rate: cfg.rate, count: cfg.count, partitionOf: partitioning.partitionOf });
  log(`${plans.length} worker threads: ` + plans.map((p) => `w${p.index} partitions ${p.partitions.join(",")} (${p.viewerIndexes.length} viewers)`).join("; "));

  const meter = new ProgressMeter(log, cfg.progressIntervalSec);

  const workers = plans.map((plan) => {
    const input: WorkerInput = { cfg: workerConfig(cfg, plan, plans.length), plan, runId: workerRunId(runId, plan.index) };
    return { plan, worker: new Worker(workerBootstrap(), { eval: true, workerData: input }) };
  });
  const stopAll = (): void => {
    for (const { worker } of workers) worker.postMessage({ type: "stop" } satisfies ToWorker);
  };
  hooks.signal?.addEventListener("abort", stopAll, { once: true });

  try {
    const outcomes = await Promise.allSettled(
      workers.map(
        ({ plan, worker }) =>
          new Promise<RunSummary>((resolve, rejectRun) => {
            let summary: RunSummary | null = null;
            // One broken worker ends the run: stop the others rather than report a partial run as whole.
            const reject = (err: Error): void => {
              stopAll();
              rejectRun(err);
            };
            worker.on("message", (m: FromWorker) => {
              if (m.type === "result") {
                meter.record(m.acked, m.failed, m.latencyMs);
              } else if (m.type === "log") log(`[w${plan.index}] ${m.line}`);
              else if (m.type === "done") {
                summary = { ...m.summary, errors: new Map(m.summary.errors) };
                void worker.terminate();
              } else reject(new Error(`worker w${plan.index} failed: ${m.message}`));
            });
            worker.once("error", (err) => reject(new Error(`worker w${plan.index} crashed: ${err.message}`)));
            worker.once("exit", (code) => {
              if (summary !== null) resolve(summary);
              else reject(new Error(`worker w${plan.index} exited with code ${code} before reporting its summary`));
            });
          }),
      ),
    );
    const crashed = outcomes.filter((o): o is PromiseRejectedResult => o.status === "rejected");
    if (crashed.length > 0) {
      throw new Error(crashed.map((o) => (o.reason instanceof Error ? o.reason.message : String(o.reason))).join("; "));
    }
    return mergeSummaries(outcomes.map((o) => (o as PromiseFulfilledResult<RunSummary>).value));
  } finally {
    meter.stop();
    hooks.signal?.removeEventListener("abort", stopAll);
  }
}
