/**
 * Entry of one load generator worker thread (started by workers.ts): runs the ordinary runLoad for the viewers
 * planned to it, with lanes for every partition (a viewer's records are keyed by session, user_id|video_id, so a
 * viewer moving to another video moves partition), and reports to the main thread.
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
    // Every partition: this worker's viewers write wherever their session key lands. Other workers write the same
    // partitions with their own producers, which Kafka allows; each viewer stays on one worker, so its order holds.
    const { lanes, laneOf } = await createPartitionedKafkaLanes(cfg, runId);
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
