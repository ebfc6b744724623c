/**
 * The session tick source: its records hit every `heartbeats` partition, and its script (sh + real curl, run once
 * per test with ONCE=1) posts them to a loopback stand-in for the Kafka Bridge, retries, and reports failures.
 */
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SessionTicker } from "../components/stream/sessionTicker";
import {
  BRIDGE_BINARY_CONTENT_TYPE,
  NOW_TOKEN,
  sessionTickerDeploymentSpec,
  TICK_MAX_ATTEMPTS,
  TICKER_ALIVE_FILE,
  tickerConfigMapData,
  tickerEnv,
  tickerScript,
  tickRecordsTemplate,
  worstCaseIterationSec,
} from "../components/stream/sessionTickerSpecs";
import { CURL_IMAGE } from "../components/stream/streamingSpecs";
import { RAW_HEARTBEATS_TOPIC } from "../contract/topics";
import { TICK_USER_ID } from "../contract/sessionization";
import { partitionForKey } from "../ksql/ticks";
import { containersOf, describeWithCurl, runComponents, stackAppConfig, STACKS } from "./ksqldb.mocks";

interface BridgeRecord {
  key: string;
  value: { user_id: string; video_id: string; position_sec: number; event_ts: number };
}

/** The binary embedded format's record: key and value base64 of their bytes. */
interface BinaryRecord {
  key: string;
  value: string;
}

const decode = (r: BinaryRecord): BridgeRecord => ({
  key: Buffer.from(r.key, "base64").toString("utf8"),
  value: JSON.parse(Buffer.from(r.value, "base64").toString("utf8")) as BridgeRecord["value"],
});

/** The template's lines as records, the token replaced. */
function templateRecords(text: string, now: string): BridgeRecord[] {
  return text
    .trim()
    .split("\n")
    .map((line) => {
      const at = line.indexOf(" ");
      return { key: Buffer.from(line.slice(0, at), "base64").toString("utf8"), value: JSON.parse(line.slice(at + 1).replaceAll(NOW_TOKEN, now)) as BridgeRecord["value"] };
    });
}

describe("tick records", () => {
  it.each([1, 3, 12, 60])("with %i partitions: one record per partition, each keyed onto its own partition", (n) => {
    const records = templateRecords(tickRecordsTemplate(n), "1700000000000");
    expect(records).toHaveLength(n);
    const partitions = records.map((r) => partitionForKey(`${r.value.user_id}|${r.value.video_id}`, n));
    expect(new Set(partitions).size).toBe(n);
    for (const r of records) {
      // V000004 rejects a record whose key is not exactly user_id|video_id; the partitioner hashes those bytes.
      expect(r.key).toBe(`${r.value.user_id}|${r.value.video_id}`);
      expect(r.value.user_id).toBe(TICK_USER_ID);
      expect(r.value.event_ts).toBe(1_700_000_000_000);
      expect(r.value.position_sec).toBe(0);
    }
  });

  it("bounds one loop iteration so the liveness probe only fires on a stuck loop", () => {
    expect(worstCaseIterationSec(10)).toBe(3 * 5 + 2 * 2 + 10);
  });
});

describe.each(STACKS)("session ticker on the %s stack", (stack) => {
  it("runs one non-root pinned curl pod with the stack's tick interval, config in a hash-named ConfigMap", async () => {
    const c = stackAppConfig(stack);
    const run = await runComponents((provider) => {
      new SessionTicker("session-ticker", {
        namespace: c.kafka.namespace,
        bridgeUrl: "http://events-bridge-bridge-service.kafka.svc:8080",
        heartbeatPartitions: 6,
        tickIntervalSec: c.sessionization.tickIntervalSec,
        provider,
        dependsOn: [],
      });
    });
    const deployment = run.one("kubernetes:apps/v1:Deployment");
    const [container] = containersOf(deployment);
    const pod = deployment.inputs.spec.template.spec;
    expect(deployment.inputs.spec.replicas).toBe(1);
    expect(container.image).toBe(CURL_IMAGE);
    expect(pod.securityContext.runAsNonRoot).toBe(true);
    expect(pod.securityContext.runAsUser).toBeGreaterThan(0);
    expect(container.securityContext.readOnlyRootFilesystem).toBe(true);
    expect(pod.enableServiceLinks).toBe(false);
    expect(container.env).toContainEqual({ name: "INTERVAL_SEC", value: String(c.sessionization.tickIntervalSec) });
    expect(container.livenessProbe.exec.command.join(" ")).toContain("/tmp/ticker-alive");
    const cm = run.one("kubernetes:core/v1:ConfigMap");
    expect(cm.inputs.metadata.name).toMatch(/^session-ticker-[0-9a-f]{10}$/);
    expect(pod.volumes.find((v: { configMap?: { name: string } }) => v.configMap)?.configMap.name).toBe(cm.inputs.metadata.name);
  });
});

describeWithCurl("the tick script against a loopback stand-in for the Kafka Bridge", () => {
  const PARTITIONS = 6;
  let server: Server;
  let dir: string;
  let bridgeUrl: string;
  const replies: { status: number; body: string }[] = [];
  const received: { url: string; headers: IncomingHttpHeaders; body: string }[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = "";
      req.on("data", (chunk: Buffer) => (body += chunk.toString("utf8")));
      req.on("end", () => {
        received.push({ url: req.url ?? "", headers: req.headers, body });
        const reply = replies.shift() ?? { status: 200, body: JSON.stringify({ offsets: [{ partition: 0, offset: 1 }] }) };
        res.writeHead(reply.status, { "content-type": "application/vnd.kafka.v2+json" }).end(reply.body);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    bridgeUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    dir = mkdtempSync(join(tmpdir(), "session-ticker-"));
    const data = tickerConfigMapData({ bridgeUrl, heartbeatPartitions: PARTITIONS, tickIntervalSec: 1 });
    for (const [name, text] of Object.entries(data)) writeFileSync(join(dir, name), text);
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  function tickOnce(): Promise<{ code: number; out: string }> {
    const env = {
      ...tickerEnv({ bridgeUrl, heartbeatPartitions: PARTITIONS, tickIntervalSec: 1 }),
      RECORDS_FILE: join(dir, "records.json"),
      ALIVE_FILE: join(dir, "alive"),
      RETRY_DELAY_SEC: "0",
      TMPDIR: dir,
      ONCE: "1",
      PATH: "/usr/bin:/bin",
    };
    return new Promise((resolve) => {
      execFile("sh", [join(dir, "tick.sh")], { env, timeout: 30_000 }, (error, stdout, stderr) => {
        resolve({ code: error ? (typeof error.code === "number" ? error.code : 1) : 0, out: stdout + stderr });
      });
    });
  }

  it("posts one binary-embedded record per partition to heartbeats_raw, keyed user_id|video_id, with the current event time", async () => {
    received.length = 0;
    const before = Date.now();
    const r = await tickOnce();
    expect(r.code, r.out).toBe(0);
    expect(received).toHaveLength(1);
    const [req] = received;
    expect(req.url).toBe(`/topics/${RAW_HEARTBEATS_TOPIC}`);
    expect(req.headers["content-type"]).toBe(BRIDGE_BINARY_CONTENT_TYPE);
    const records = (JSON.parse(req.body) as { records: BinaryRecord[] }).records.map(decode);
    expect(records).toHaveLength(PARTITIONS);
    expect(new Set(records.map((rec) => partitionForKey(rec.key, PARTITIONS))).size).toBe(PARTITIONS);
    for (const rec of records) {
      expect(rec.key).toBe(`${rec.value.user_id}|${rec.value.video_id}`);
      expect(rec.value.event_ts).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000);
      expect(rec.value.event_ts).toBeLessThanOrEqual(Date.now());
    }
    expect(r.out).toMatch(new RegExp(`tick 1 sent ${PARTITIONS} records at event_ts \\d{13}`));
  });

  it("retries a failed POST and a reply with a per-record error_code, then succeeds", async () => {
    received.length = 0;
    replies.push({ status: 503, body: "broker unavailable" }, { status: 200, body: '{"offsets":[{"partition":0,"error_code":500,"message":"x"}]}' });
    const r = await tickOnce();
    expect(r.code, r.out).toBe(0);
    expect(received).toHaveLength(3);
    expect(r.out).toMatch(/attempt 1\/3 failed: HTTP 503 broker unavailable/);
    expect(r.out).toMatch(/attempt 2\/3 failed: HTTP 200 .*error_code/);
  });

  it("gives up after the bounded attempts, logs it and keeps the loop alive", async () => {
    received.length = 0;
    for (let i = 0; i < TICK_MAX_ATTEMPTS; i++) replies.push({ status: 500, body: "down" });
    const r = await tickOnce();
    expect(r.code).toBe(1);
    expect(received).toHaveLength(TICK_MAX_ATTEMPTS);
    expect(r.out).toContain(`tick 1 skipped after ${TICK_MAX_ATTEMPTS} attempts`);
  });

  it("the liveness command passes while the loop touches its file and fails once the file is stale", async () => {
    const data = sessionTickerDeploymentSpec({ bridgeUrl, heartbeatPartitions: PARTITIONS, tickIntervalSec: 10 }, "cm") as {
      template: { spec: { containers: { livenessProbe: { exec: { command: string[] } } }[] } };
    };
    const [cmd, ...args] = data.template.spec.containers[0].livenessProbe.exec.command;
    const probe = () => new Promise<number>((resolve) => execFile(cmd, args, (error) => resolve(error ? 1 : 0)));
    const existed = existsSync(TICKER_ALIVE_FILE);
    try {
      writeFileSync(TICKER_ALIVE_FILE, "");
      expect(await probe()).toBe(0);
      const stale = new Date(Date.now() - 2 * worstCaseIterationSec(10) * 1000 - 5000);
      utimesSync(TICKER_ALIVE_FILE, stale, stale);
      expect(await probe()).toBe(1);
    } finally {
      if (!existed) rmSync(TICKER_ALIVE_FILE, { force: true });
    }
  });

  it("reports an unreachable Bridge as HTTP 000 with curl's error", async () => {
    const env = { ...tickerEnv({ bridgeUrl: "http://127.0.0.1:9", heartbeatPartitions: PARTITIONS, tickIntervalSec: 1 }) };
    const script = join(dir, "tick-unreachable.sh");
    writeFileSync(script, tickerScript());
    const r = await new Promise<{ code: number; out: string }>((resolve) => {
      execFile("sh", [script], { env: { ...env, RECORDS_FILE: join(dir, "records.json"), ALIVE_FILE: join(dir, "alive"), RETRY_DELAY_SEC: "0", MAX_ATTEMPTS: "1", TMPDIR: dir, ONCE: "1", PATH: "/usr/bin:/bin" }, timeout: 30_000 }, (error, stdout, stderr) =>
        resolve({ code: error ? 1 : 0, out: stdout + stderr }),
      );
    });
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/HTTP 000 .*curl: \(7\)/);
  });
});
