/**
 * `npm run loadgen -- --help`: realistic heartbeat load against Kafka (librdkafka or kafkajs) or the Strimzi Kafka Bridge.
 * Command-line convention (exit codes, --help, refused connections) in tools/cli.ts; `--json` prints the final
 * summary as one JSON object on stdout for CI.
 */
import { randomUUID } from "node:crypto";
import { runTool } from "../cli";
import { UsageError } from "../exitCodes";
import { BridgeLane, probeBridge, probeHttp } from "./bridgeSender";
import { GatewayLane } from "./gatewaySender";
import { gatewayTokens } from "./jwt";
import { HELP, parseLoadgenArgs, readCaFile, withConnectionHint, type LoadgenConfig } from "./config";
import { createPartitionedKafkaLanes, maxSendFailureMs } from "./kafkaSender";
import { createPartitionedRdkafkaLanes, loadLibrdkafka, resolveClient } from "./rdkafkaSender";
import { formatSummary, runLoad, summaryJson, type Lane, type RunSummary } from "./run";
import { runLoadInWorkers } from "./workers";

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  // --json is the output format, not a load setting: taken off here so the load parser (shared with smoke) stays as is.
  const json = argv.includes("--json");
  let parsed: ReturnType<typeof parseLoadgenArgs>;
  try {
    parsed = parseLoadgenArgs(argv.filter((a) => a !== "--json"), process.env);
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message.replace(/^Unknown option '([^']+)'.*/s, "unknown flag $1; see --help") : String(err));
  }
  if (parsed.help) {
    console.log(HELP);
    return 0;
  }
  // In --json mode stdout carries the summary alone: every progress line goes to stderr.
  const log = json ? (line: string) => process.stderr.write(`${line}\n`) : (line: string) => console.log(line);
  let cfg = parsed.config;
  if (cfg.mode === "kafka") {
    const { client, notice } = resolveClient(cfg.client, cfg.client === "kafkajs" ? { ok: false } : loadLibrdkafka());
    if (notice !== null) log(notice);
    if (client === "librdkafka" && cfg.workers > 1) {
      log(`loadgen: --workers ${cfg.workers} applies to kafkajs; librdkafka encodes in its own native threads, so this run uses one JavaScript thread`);
    }
    cfg = { ...cfg, client, workers: client === "librdkafka" ? 1 : cfg.workers };
  }
  const runId = randomUUID().slice(0, 8);
  const target = cfg.mode === "kafka" ? cfg.bootstrap.join(",") : cfg.mode === "gateway" ? cfg.gateway!.url : cfg.bridgeUrl!;
  log(
    `loadgen run ${runId}: ${cfg.mode === "kafka" ? `kafka (${cfg.client})` : cfg.mode} -> ${target} topic ${cfg.topic}, ${cfg.viewers} viewers, ` +
      `rate ${cfg.rate === 0 ? "max" : `${cfg.rate}/s`}, ${cfg.count !== null ? `${cfg.count} records` : `${cfg.durationSec} s`}, ` +
      `up to ${cfg.producers} lanes x batch ${cfg.batchSize}` +
      (cfg.workers > 1 ? ` in ${cfg.workers} worker threads` : "") +
      `, malformed share ${cfg.malformedShare}` +
      (cfg.mode === "kafka" ? `, acks=all idempotent, a send fails within ~${Math.ceil(maxSendFailureMs(cfg) / 1000)} s if the cluster cannot take it` : ""),
  );
  const abort = new AbortController();
  process.once("SIGINT", () => {
    log("SIGINT: finishing in-flight sends, then stopping");
    abort.abort();
  });
  const summary = await runConfigured(cfg, runId, abort.signal, log);
  const code = summary.failed === 0 ? 0 : 1;
  if (json) process.stdout.write(`${JSON.stringify(summaryJson(summary, { runId, mode: cfg.mode, client: cfg.mode === "kafka" ? cfg.client : null, target, topic: cfg.topic, exitCode: code }))}\n`);
  else console.log(formatSummary(summary));
  return code;
}

async function runConfigured(cfg: LoadgenConfig, runId: string, signal: AbortSignal, log: (line: string) => void): Promise<RunSummary> {
  if (cfg.mode === "kafka" && cfg.workers > 1) return runLoadInWorkers(cfg, runId, { signal, log });
  let lanes: Lane[];
  let laneOf: ((key: string) => number) | undefined;
  if (cfg.mode === "kafka") {
    // librdkafka reads the CA itself, later and with a terser error: check it here, naming the flag.
    if (cfg.caFile !== null) {
      try {
        readCaFile(cfg.caFile);
      } catch (err) {
        throw new UsageError((err as Error).message);
      }
    }
    const partitioned = await withConnectionHint<{ lanes: Lane[]; laneOf: (key: string) => number }>(cfg, () =>
      cfg.client === "librdkafka" ? createPartitionedRdkafkaLanes(cfg, runId) : createPartitionedKafkaLanes(cfg, runId));
    lanes = partitioned.lanes;
    laneOf = partitioned.laneOf;
  } else if (cfg.mode === "gateway") {
    const gw = cfg.gateway!;
    await probeHttp(gw.url, { what: "the ingest gateway", flag: "--gateway-url", path: "/", hint: "the gateway Service, a port-forward to it, or the ALB" });
    const tokenFor = gatewayTokens(gw);
    lanes = Array.from({ length: cfg.producers }, () => new GatewayLane(gw.url, tokenFor, gw.maxPerRequest, cfg.sendTimeoutMs));
  } else {
    await probeBridge(cfg.bridgeUrl!);
    lanes = Array.from({ length: cfg.producers }, () => new BridgeLane(cfg.bridgeUrl!, cfg.topic, runId, cfg.sendTimeoutMs));
  }
  try {
    return await runLoad(cfg, lanes, { signal, log, ...(laneOf === undefined ? {} : { laneOf }) });
  } finally {
    await Promise.all(lanes.map((l) => l.close().catch(() => undefined)));
  }
}

runTool("loadgen", main);
