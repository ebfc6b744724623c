/**
 * `npm run loadgen -- --help`: realistic heartbeat load against Kafka (librdkafka or kafkajs) or the Strimzi Kafka Bridge.
 */
import { randomUUID } from "node:crypto";
import { BridgeLane } from "./bridgeSender";
import { HELP, parseLoadgenArgs, readCaFile, withConnectionHint, type LoadgenConfig } from "./config";
import { createPartitionedKafkaLanes, maxSendFailureMs } from "./kafkaSender";
import { createPartitionedRdkafkaLanes, loadLibrdkafka, resolveClient } from "./rdkafkaSender";
import { formatSummary, runLoad, type Lane, type RunSummary } from "./run";
import { runLoadInWorkers } from "./workers";

async function main(): Promise<number> {
  const parsed = parseLoadgenArgs(process.argv.slice(2), process.env);
  if (parsed.help) {
    console.log(HELP);
    return 0;
  }
  let cfg = parsed.config;
  if (cfg.mode === "kafka") {
    const { client, notice } = resolveClient(cfg.client, cfg.client === "kafkajs" ? { ok: false } : loadLibrdkafka());
    if (notice !== null) console.log(notice);
    if (client === "librdkafka" && cfg.workers > 1) {
      console.log(`loadgen: --workers ${cfg.workers} applies to kafkajs; librdkafka encodes in its own native threads, so this run uses one JavaScript thread`);
    }
    cfg = { ...cfg, client, workers: client === "librdkafka" ? 1 : cfg.workers };
  }
  const runId = randomUUID().slice(0, 8);
  const target = cfg.mode === "kafka" ? cfg.bootstrap.join(",") : cfg.bridgeUrl!;
  console.log(
    `loadgen run ${runId}: ${cfg.mode === "kafka" ? `kafka (${cfg.client})` : cfg.mode} -> ${target} topic ${cfg.topic}, ${cfg.viewers} viewers, ` +
      `rate ${cfg.rate === 0 ? "max" : `${cfg.rate}/s`}, ${cfg.count !== null ? `${cfg.count} records` : `${cfg.durationSec} s`}, ` +
      `up to ${cfg.producers} lanes x batch ${cfg.batchSize}` +
      (cfg.workers > 1 ? ` in ${cfg.workers} worker threads` : "") +
      `, malformed share ${cfg.malformedShare}` +
      (cfg.mode === "kafka" ? `, acks=all idempotent, a send fails within ~${Math.ceil(maxSendFailureMs(cfg) / 1000)} s if the cluster cannot take it` : ""),
  );
  const abort = new AbortController();
  process.once("SIGINT", () => {
    console.log("SIGINT: finishing in-flight sends, then stopping");
    abort.abort();
  });
  const summary = await runConfigured(cfg, runId, abort.signal);
  console.log(formatSummary(summary));
  return summary.failed === 0 ? 0 : 1;
}

async function runConfigured(cfg: LoadgenConfig, runId: string, signal: AbortSignal): Promise<RunSummary> {
  if (cfg.mode === "kafka" && cfg.workers > 1) return runLoadInWorkers(cfg, runId, { signal });
  let lanes: Lane[];
  let laneOf: ((key: string) => number) | undefined;
  if (cfg.mode === "kafka") {
    // librdkafka reads the CA itself, later and with a terser error: check it here, naming the flag.
    if (cfg.caFile !== null) readCaFile(cfg.caFile);
    const partitioned = await withConnectionHint<{ lanes: Lane[]; laneOf: (key: string) => number }>(cfg, () =>
      cfg.client === "librdkafka" ? createPartitionedRdkafkaLanes(cfg, runId) : createPartitionedKafkaLanes(cfg, runId));
    lanes = partitioned.lanes;
    laneOf = partitioned.laneOf;
  } else {
    lanes = Array.from({ length: cfg.producers }, () => new BridgeLane(cfg.bridgeUrl!, cfg.topic, runId, cfg.sendTimeoutMs));
  }
  try {
    return await runLoad(cfg, lanes, { signal, ...(laneOf === undefined ? {} : { laneOf }) });
  } finally {
    await Promise.all(lanes.map((l) => l.close().catch(() => undefined)));
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`loadgen: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(2);
  },
);
