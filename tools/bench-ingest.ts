/**
 * `npm run bench:ingest`: heartbeats per CPU-second of the ingest gateway (Envoy jwt_authn + Apache Camel, one Envoy
 * worker thread), unbatched and batched, on a local 3-broker cluster it starts itself (127.0.0.1). Every request
 * carries a real RS256 token (one per simulated player) that Envoy verifies; Camel checks each heartbeat against it
 * and writes with acks=all + idempotence. CPU is read from /proc for the two gateway processes only (the load
 * generator shares the machine, so wall-clock rates understate a dedicated pod). Prints every run, the medians, the
 * batched/unbatched ratio (the baseline is the unbatched run of the same session), the load average, and the cores a
 * 100,000 heartbeats/s deployment needs at 50 % CPU. Needs `npm run real:setup` and .ci/install-ingest-gateway.sh.
 * Flags: --runs N --seconds S --warmup S --lanes N --batches 1,6,15
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import * as os from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { INGEST_PATH } from "../contract/ingestGateway";
import { RAW_HEARTBEATS_TOPIC } from "../contract/topics";
import type { HeartbeatLimits } from "../contract/ingestLimits";
import { missingGateway, startGateway, type Gateway } from "../test/real/ingest/gateway";
import { TEST_AUDIENCE, TEST_ISSUER, testIdp } from "../test/real/ingest/tokens";
import { createTopicsReady } from "../test/real/kafka/admin";
import { startCluster } from "../test/real/kafka/cluster";
import { missingKafkaJars } from "../test/real/kafka/paths";
import { median } from "./loadgen/stats";

/**
 * Every request here comes from one address and a few tokens: budgets that never bind, so the run measures the
 * counting and charging (the filters still run on every request), not a stream of 429s.
 */
const UNBINDING_LIMITS: HeartbeatLimits = {
  windowSec: 1,
  perToken: { heartbeatsPerWindow: 1_000_000_000, burst: 1_000_000_000 },
  perIp: { heartbeatsPerWindow: 1_000_000_000, burst: 1_000_000_000 },
};
import { EXIT_CODES_HELP, exitCodeOf, UsageError } from "./exitCodes";

const HELP = `Usage: npm run bench:ingest -- [--runs N] [--seconds S] [--warmup S] [--lanes N] [--batches 1,6,15]

Starts a 3-broker Kafka cluster and the ingest gateway (Envoy jwt_authn + Apache Camel, one Envoy worker) on 127.0.0.1
(npm run real:setup and .ci/install-ingest-gateway.sh first), then for each batch size (heartbeats per request) drives
--lanes concurrent players' requests with real RS256 tokens for --seconds after --warmup s (default 20), --runs times in rotating
order. Prints each run, the median heartbeats per CPU-second of the gateway's two processes (and the Envoy share), the
ratio to the first batch size, the cores 100,000 heartbeats/s need at 50 % CPU, and the load average.

${EXIT_CODES_HELP}`;

const DEFAULT_RUNS = 3;
/** Long enough for a steady rate, short enough that 3 runs × 3 batch sizes finish in minutes. */
const DEFAULT_SECONDS = 15;
/** Unmeasured traffic before each run: the JVM's JIT compiles the route's hot path in the first tens of seconds. */
const DEFAULT_WARMUP_SECONDS = 20;
/** Concurrent requests in flight: enough to keep one Envoy worker and Camel busy on this machine. */
const DEFAULT_LANES = 32;
const PLAYERS = 500;
/** Design peak (README, contract/loadPlan.ts) and the CPU headroom issue 24 asks the Deployment to keep. */
const TARGET_HEARTBEATS_PER_SEC = 100_000;
const TARGET_CPU_UTILISATION = 0.5;
const CLK_TCK = 100;

/** The JVM's JIT compiler threads (`C1 CompilerThre…`, `C2 CompilerThre…`): warm-up work, not per-request work. */
const JIT_THREAD = /^C\d CompilerThre/;

function statCpu(path: string): number {
  const stat = readFileSync(path, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
}

/** CPU seconds (user + system) a process has used so far: all threads, and all but the JIT compiler's. */
function cpuSeconds(pid: number): { all: number; noJit: number } {
  let jit = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      if (JIT_THREAD.test(readFileSync(`/proc/${pid}/task/${tid}/comm`, "utf8"))) jit += statCpu(`/proc/${pid}/task/${tid}/stat`);
    } catch {
      // a thread that ended between the listing and the read
    }
  }
  const all = statCpu(`/proc/${pid}/stat`);
  return { all, noJit: all - jit };
}

interface Run {
  readonly batch: number;
  readonly heartbeats: number;
  readonly seconds: number;
  readonly envoyCpu: number;
  readonly camelCpu: number;
  /** Camel's CPU without its JIT compiler threads (a warmed-up pod's per-request cost). */
  readonly camelCpuNoJit: number;
  readonly errors: number;
}

const perSec = (r: Run) => r.heartbeats / r.seconds;
const perCpu = (r: Run) => r.heartbeats / (r.envoyCpu + r.camelCpu);
const perCpuNoJit = (r: Run) => r.heartbeats / (r.envoyCpu + r.camelCpuNoJit);

async function drive(gw: Gateway, tokens: readonly string[], batch: number, seconds: number, lanes: number): Promise<{ heartbeats: number; errors: number }> {
  const until = Date.now() + seconds * 1000;
  let heartbeats = 0;
  let errors = 0;
  let seq = 0;
  const lane = async (l: number) => {
    let n = 0;
    while (Date.now() < until) {
      const player = (l + n * lanes) % tokens.length;
      n++;
      const user = `p${player}`;
      const records = Array.from({ length: batch }, () => {
        const s = seq++;
        return { value: { user_id: user, video_id: `v${player % 97}`, position_sec: s % 7200, event_ts: 1_764_990_000_000 + s, sent_at: 1_764_990_000_500 + s, device_id: `d-${player}` } };
      });
      const res = await fetch(`${gw.url}${INGEST_PATH}`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${tokens[player]!}` },
        body: JSON.stringify({ records }),
      });
      await res.arrayBuffer();
      if (res.status === 200) heartbeats += batch;
      else errors++;
    }
  };
  await Promise.all(Array.from({ length: lanes }, (_, l) => lane(l)));
  return { heartbeats, errors };
}

async function measure(gw: Gateway, tokens: readonly string[], batch: number, seconds: number, lanes: number, warmup: number): Promise<Run> {
  await drive(gw, tokens, batch, warmup, lanes);
  const e0 = cpuSeconds(gw.pids.envoy);
  const c0 = cpuSeconds(gw.pids.camel);
  const t0 = Date.now();
  const { heartbeats, errors } = await drive(gw, tokens, batch, seconds, lanes);
  const e1 = cpuSeconds(gw.pids.envoy);
  const c1 = cpuSeconds(gw.pids.camel);
  return { batch, heartbeats, seconds: (Date.now() - t0) / 1000, envoyCpu: e1.all - e0.all, camelCpu: c1.all - c0.all, camelCpuNoJit: c1.noJit - c0.noJit, errors };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { help: { type: "boolean", short: "h" }, runs: { type: "string" }, seconds: { type: "string" }, warmup: { type: "string" }, lanes: { type: "string" }, batches: { type: "string" } },
  });
  if (values.help) {
    console.log(HELP);
    return;
  }
  const int = (flag: string, v: string | undefined, dflt: number): number => {
    if (v === undefined) return dflt;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new UsageError(`--${flag}: expected an integer >= 1; got ${JSON.stringify(v)}.`);
    return n;
  };
  const runs = int("runs", values.runs, DEFAULT_RUNS);
  const seconds = int("seconds", values.seconds, DEFAULT_SECONDS);
  const lanes = int("lanes", values.lanes, DEFAULT_LANES);
  const warmup = int("warmup", values.warmup, DEFAULT_WARMUP_SECONDS);
  const batches = (values.batches ?? "1,6,15").split(",").map((b) => int("batches", b, 1));
  const missing = missingGateway() ?? missingKafkaJars();
  if (missing) throw new UsageError(`bench:ingest cannot run: ${missing}`);

  const dir = mkdtempSync(join(os.tmpdir(), "watchpipe-bench-ingest-"));
  const idp = testIdp(join(dir, "jwks.json"));
  const tokens = Array.from({ length: PLAYERS }, (_, i) => idp.token({ sub: `p${i}`, exp: Math.floor(Date.now() / 1000) + 7200 }));
  console.log(`bench:ingest: starting 3 brokers (load average ${os.loadavg().map((x) => x.toFixed(2)).join(" ")})`);
  const cluster = await startCluster({ readyTimeoutMs: 300_000 });
  const loads: number[] = [];
  let gw: Gateway | undefined;
  try {
    await createTopicsReady(cluster.brokers, [{ topic: RAW_HEARTBEATS_TOPIC, numPartitions: 12, replicationFactor: 3, configEntries: [{ name: "min.insync.replicas", value: "2" }, { name: "message.timestamp.type", value: "LogAppendTime" }] }]);
    gw = await startGateway({ bootstrapServers: cluster.bootstrap, issuer: TEST_ISSUER, audiences: [TEST_AUDIENCE], jwks: { kind: "file", path: idp.jwksFile }, envoyConcurrency: 1, camelHeapMb: 512, limits: UNBINDING_LIMITS });
    const results = new Map<number, Run[]>(batches.map((b) => [b, []]));
    for (let r = 0; r < runs; r++) {
      // Rotate the order so no batch size always runs on the warmest (or most loaded) slot.
      for (const b of batches.map((_, i) => batches[(i + r) % batches.length]!)) {
        const m = await measure(gw, tokens, b, seconds, lanes, warmup);
        loads.push(os.loadavg()[0]!);
        results.get(b)!.push(m);
        console.log(`run ${r + 1} batch ${String(b).padStart(2)}: ${perSec(m).toFixed(0).padStart(6)} heartbeats/s wall, CPU envoy ${m.envoyCpu.toFixed(1)} s + camel ${m.camelCpu.toFixed(1)} s over ${m.seconds.toFixed(1)} s → ${perCpu(m).toFixed(0)} heartbeats per CPU-second, ${perCpuNoJit(m).toFixed(0)} without Camel's JIT threads (${(m.camelCpu - m.camelCpuNoJit).toFixed(1)} s) (${m.errors} errors, load ${os.loadavg()[0]!.toFixed(1)})`);
      }
    }
    console.log("\nmedians (heartbeats per CPU-second of Envoy + Camel; the Envoy / Camel split of that CPU):");
    const base = median(results.get(batches[0]!)!.map(perCpu));
    const baseWarm = median(results.get(batches[0]!)!.map(perCpuNoJit));
    for (const b of batches) {
      const rs = results.get(b)!;
      const cpu = median(rs.map(perCpu));
      const warm = median(rs.map(perCpuNoJit));
      const envoyShare = median(rs.map((m) => m.envoyCpu / (m.envoyCpu + m.camelCpu)));
      const cores = TARGET_HEARTBEATS_PER_SEC / (warm * TARGET_CPU_UTILISATION);
      console.log(`batch ${String(b).padStart(2)}: ${cpu.toFixed(0).padStart(6)} /CPU-s (×${(cpu / base).toFixed(2)} vs batch ${batches[0]}), ${warm.toFixed(0)} /CPU-s without JIT (×${(warm / baseWarm).toFixed(2)}), ${median(rs.map(perSec)).toFixed(0)} /s wall, Envoy ${(envoyShare * 100).toFixed(0)} % of the CPU; 100,000 heartbeats/s at 50 % CPU needs ${cores.toFixed(1)} cores (without-JIT figure)`);
    }
    console.log(`load average during the runs: median ${median(loads).toFixed(1)}, max ${Math.max(...loads).toFixed(1)} (${os.cpus().length} cores)`);
  } finally {
    await gw?.stop();
    await cluster.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(`bench:ingest failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = exitCodeOf(err);
});
