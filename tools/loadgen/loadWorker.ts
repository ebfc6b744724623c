/**
 * Entry of one load generator worker thread (started by workers.ts): runs the ordinary runLoad with lanes for
 * the partitions this worker owns and the viewers that hash to them, and reports to the main thread.
 */
import { parentPort, workerData } from "node:worker_threads";
import { createPartitionedKafkaLanes } from "./kafkaSender";
import { runLoad, type RunSummary } from "./run";
import type { FromWorker, ToWorker, WorkerInput } from "./workers";

async function main(): Promise<void> {
  const port = parentPort;
  if (port === null) throw new Error("loadWorker.ts must run as a worker thread (started by runLoadInWorkers), not as a script");
  const post = (m: FromWorker): void => port.postMessage(m);
  const { cfg, plan, runId } = workerData as WorkerInput;
  const abort = new AbortController();
  port.on("message", (m: ToWorker) => {
    if (m.type === "stop") abort.abort();
  });
  try {
    const { lanes, laneOf } = await createPartitionedKafkaLanes(cfg, runId, plan.partitions);
    let summary: RunSummary;
    try {
      summary = await runLoad(cfg, lanes, {
        laneOf,
        viewerIndexes: plan.viewerIndexes,
        signal: abort.signal,
        log: (line) => post({ type: "log", line }),
        onResult: (res) => post({ type: "result", acked: res.acked, failed: res.failed, latencyMs: res.latencyMs }),
      });
    } finally {
      await Promise.all(lanes.map((l) => l.close().catch(() => undefined)));
    }
    // Only after the producers are closed: the main thread ends this thread when it has the summary.
    post({ type: "done", summary: { ...summary, errors: [...summary.errors] } });
  } catch (err) {
    post({ type: "error", message: err instanceof Error ? err.message : String(err) });
  }
}

void main();
