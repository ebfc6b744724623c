/**
 * `npm run smoke -- --help`: the post-deploy end-to-end check. Sends a scripted, uniquely tagged set of heartbeats
 * and waits until watch_segments holds exactly the segments the reference model says they must become.
 * Exit codes (tools/exitCodes.ts): 0 match, 1 mismatch or timeout, 2 usage error or an unreachable service.
 */
import { randomBytes } from "node:crypto";
import { BridgeLane } from "./loadgen/bridgeSender";
import { connectionHint, readCaFile } from "./loadgen/config";
import { GatewayLane, tokenRefusalHint } from "./loadgen/gatewaySender";
import { gatewayTokens } from "./loadgen/jwt";
import { createKafkaLanes } from "./loadgen/kafkaSender";
import { runTool } from "./cli";
import { EXIT_USAGE_OR_CONNECTION } from "./exitCodes";
import type { Lane } from "./loadgen/run";
import { HELP, parseSmokeArgs, type SmokeConfig } from "./smoke/config";
import { connectSegmentReader } from "./smoke/db";
import { runSmoke, smokeResultJson } from "./smoke/run";
import { smokeScenario } from "./smoke/scenario";

/** 4 random bytes: 8 hex characters, unique enough per deploy check and short enough to read in a diff. */
const RUN_ID_BYTES = 4;

/** `--json`: the result as one JSON object on stdout for CI; the progress log goes to stderr. */
let json = false;

function log(line: string): void {
  const text = `[smoke ${new Date().toISOString()}] ${line}\n`;
  (json ? process.stderr : process.stdout).write(text);
}

async function main(args: readonly string[]): Promise<number> {
  // --json is the output format, not a smoke setting: taken off before the (pure, shared) argument parser.
  json = args.includes("--json");
  const argv = args.filter((a) => a !== "--json");
  let cfg: SmokeConfig;
  try {
    const parsed = parseSmokeArgs(argv, process.env);
    if (parsed.help) {
      process.stdout.write(HELP);
      return 0;
    }
    cfg = parsed.config;
  } catch (err) {
    process.stderr.write(`smoke: ${(err as Error).message}\n`);
    return EXIT_USAGE_OR_CONNECTION;
  }
  // Input files are read before anything connects: a wrong path is a usage error naming its flag.
  let tokenFor: ((user: string) => string) | null = null;
  try {
    if (cfg.sender.mode === "kafka" && cfg.sender.caFile !== null) readCaFile(cfg.sender.caFile);
    if (cfg.sender.gateway !== null) tokenFor = gatewayTokens(cfg.sender.gateway);
  } catch (err) {
    process.stderr.write(`smoke: ${(err as Error).message}\n`);
    return EXIT_USAGE_OR_CONNECTION;
  }
  const runId = cfg.runId ?? randomBytes(RUN_ID_BYTES).toString("hex");
  const scenario = smokeScenario(runId, Date.now(), cfg.params);
  const s = cfg.sender;
  const gw = s.gateway;
  const target =
    s.mode === "kafka"
      ? `kafka ${s.bootstrap.join(",")}${s.tls ? " (TLS)" : ""}${s.saslUsername !== null ? ` as ${s.saslUsername}` : ""}`
      : gw !== null && tokenFor !== null
        ? `gateway ${gw.url}`
        : `bridge ${s.bridgeUrl ?? ""}`;
  const tokens = gw === null ? "" : ` (each user under its own token: kid ${gw.jwtKid}, issuer ${gw.jwtIssuer}, audience ${gw.jwtAudience}; up to ${gw.maxPerRequest} per request)`;
  const p = cfg.params;
  log(
    `run ${runId}: ${scenario.heartbeats.length} heartbeats for ${scenario.userIds.join(", ")} -> ${target}${tokens}, topic ${s.topic}; ` +
      `expecting ${scenario.expected.length} segments (model: gap ${p.sessionGapSec} s, grace ${p.gracePeriodSec} s, tolerance ${p.seekToleranceSec} s) ` +
      `in ${cfg.db.user}@${cfg.db.host}:${cfg.db.port}/${cfg.db.database} (sslmode=${cfg.db.sslMode})`,
  );

  const started = Date.now();
  const report = (code: number, reason: string | null): number => {
    if (json) {
      process.stdout.write(`${JSON.stringify(smokeResultJson({ runId, code, reason, elapsedMs: Date.now() - started, expectedSegments: scenario.expected.length, heartbeats: scenario.heartbeats.length, target, database: `${cfg.db.host}:${cfg.db.port}/${cfg.db.database}` }))}\n`);
    }
    return code;
  };
  let reader: Awaited<ReturnType<typeof connectSegmentReader>>;
  try {
    reader = await connectSegmentReader(cfg.db);
  } catch (err) {
    log(`ERROR: cannot connect to ${cfg.db.host}:${cfg.db.port}/${cfg.db.database}: ${(err as Error).message}. Check --pg-host/--pg-port (YSQL: 5433), the password and TLS (--pg-sslmode, --pg-sslrootcert).`);
    return report(EXIT_USAGE_OR_CONNECTION, "database");
  }
  const lane: Lane =
    s.mode === "kafka"
      ? createKafkaLanes(s, runId)[0]!
      : gw !== null && tokenFor !== null
        ? new GatewayLane(gw.url, tokenFor, gw.maxPerRequest, s.sendTimeoutMs)
        : new BridgeLane(s.bridgeUrl!, s.topic, runId, s.sendTimeoutMs);
  try {
    const outcome = await runSmoke(scenario, cfg, {
      lane,
      fetchRows: reader.fetchRows,
      now: Date.now,
      sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
      log,
      sendHint:
        s.mode === "kafka"
          ? connectionHint(s)
          : gw !== null
            ? `check --gateway-url ${gw.url} answers (the gateway Service, a port-forward to it, or the ALB).`
            : `check --bridge-url ${s.bridgeUrl ?? ""} answers (the bridge Service, or a port-forward to it).`,
      ...(gw === null ? {} : { tokenHint: tokenRefusalHint(gw) }),
    });
    return report(outcome.code, outcome.code === 0 ? null : outcome.reason);
  } finally {
    await lane.close().catch(() => undefined);
    await reader.close().catch(() => undefined);
  }
}

runTool("smoke", () => main(process.argv.slice(2)));
