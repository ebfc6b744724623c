/** Bridge mode against a tiny local HTTP server that answers like the Strimzi Kafka Bridge (127.0.0.1 only). */
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BRIDGE_BINARY_CONTENT_TYPE, BridgeLane, bridgeRequestBody, countBridgeAcks } from "../tools/loadgen/bridgeSender";
import { parseLoadgenArgs } from "../tools/loadgen/config";
import { SEQ_HEADER, toRecords } from "../tools/loadgen/records";
import { runLoad } from "../tools/loadgen/run";
import { createSimulation, nextHeartbeats } from "../tools/loadgen/simulate";

interface Seen {
  readonly method: string;
  readonly url: string;
  readonly contentType: string | undefined;
  readonly body: { records: { key: string; value: string; headers: { key: string; value: string }[] }[] };
}

describe("bridge mode (POST /topics/<topic>, application/vnd.kafka.binary.v2+json)", () => {
  const seen: Seen[] = [];
  /** When set, the fake bridge rejects records whose key equals this (per-record error, HTTP 200). */
  let rejectKey: string | null = null;
  let failStatus: number | null = null;
  let server: http.Server;
  let baseUrl: string;

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      let raw = "";
      req.on("data", (c: Buffer) => (raw += c.toString()));
      req.on("end", () => {
        const body = JSON.parse(raw) as Seen["body"];
        seen.push({ method: req.method ?? "", url: req.url ?? "", contentType: req.headers["content-type"], body });
        if (failStatus !== null) {
          res.writeHead(failStatus, { "content-type": "application/vnd.kafka.v2+json" });
          res.end(JSON.stringify({ error_code: failStatus, message: "fake bridge failure" }));
          return;
        }
        const offsets = body.records.map((r, i) =>
          Buffer.from(r.key, "base64").toString("utf8") === rejectKey ? { error_code: 404, message: "This server does not host this topic-partition." } : { partition: 0, offset: i },
        );
        res.writeHead(200, { "content-type": "application/vnd.kafka.v2+json" });
        res.end(JSON.stringify({ offsets }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  const records = toRecords(nextHeartbeats(createSimulation({ viewers: 5, videos: 3, seed: 1, startTs: 1_000 }), 5), 0, 0, Math.random);

  it("POSTs the heartbeats' JSON bytes keyed by the session key user_id|video_id, all base64 (binary format)", async () => {
    seen.length = 0;
    const lane = new BridgeLane(`${baseUrl}/`, "heartbeats_raw", "run1", 5_000);
    const res = await lane.send(records);
    expect(res).toMatchObject({ acked: 5, failed: 0 });
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ method: "POST", url: "/topics/heartbeats_raw", contentType: BRIDGE_BINARY_CONTENT_TYPE });
    const first = seen[0]!.body.records[0]!;
    // The key's bytes are exactly user_id|video_id: what ksqlDB (V000004) checks and the partitioner hashes.
    expect(Buffer.from(first.key, "base64").toString("utf8")).toBe(records[0]!.key);
    expect(records[0]!.key).toMatch(/^u\d+\|v\d+$/);
    expect(Buffer.from(first.value, "base64").toString("utf8")).toBe(records[0]!.value);
    expect(first.headers).toEqual([{ key: SEQ_HEADER, value: Buffer.from("run1:0").toString("base64") }]);
  });

  it("counts per-record errors in a 200 answer as failed and names the error", async () => {
    rejectKey = records[2]!.key;
    const res = await new BridgeLane(baseUrl, "heartbeats_raw", "run1", 5_000).send(records);
    rejectKey = null;
    expect(res.acked).toBe(4);
    expect(res.failed).toBe(1);
    expect(res.ackedRecords).not.toContain(records[2]);
    expect(res.error?.message).toMatch(/accepted 4 of 5 records.*error_code 404/);
  });

  it("reports an HTTP error status with the status and the bridge's message", async () => {
    failStatus = 422;
    const res = await new BridgeLane(baseUrl, "heartbeats_raw", "run1", 5_000).send(records);
    failStatus = null;
    expect(res).toMatchObject({ acked: 0, failed: 5 });
    expect(res.error?.message).toMatch(/returned HTTP 422, expected 200.*fake bridge failure/);
  });

  it("sends a malformed non-JSON value as its bytes, so the bridge accepts it and ksqlDB logs it as undecodable", () => {
    const body = bridgeRequestBody([{ key: "u1|v1", value: '{"user_id":', seq: 1, malformed: true }], "r");
    expect(Buffer.from(body.records[0]!.value, "base64").toString("utf8")).toBe('{"user_id":');
  });

  it("checks that the answer has one offset per record", () => {
    expect(countBridgeAcks({ offsets: [{ partition: 0, offset: 1 }] }, 2).error).toMatch(/1 offsets, expected 2/);
  });

  it("drives a whole loadgen run in bridge mode to exact counts", async () => {
    seen.length = 0;
    const parsed = parseLoadgenArgs(["--mode", "bridge", "--bridge-url", baseUrl, "--count", "250", "--batch-size", "50", "--producers", "2", "--malformed-share", "0.2"], {});
    if (parsed.help) throw new Error("unexpected help");
    const cfg = parsed.config;
    const lanes = [0, 1].map(() => new BridgeLane(baseUrl, cfg.topic, "run2", 5_000));
    const summary = await runLoad(cfg, lanes, { log: () => undefined });
    expect(summary).toMatchObject({ generated: 250, acked: 250, failed: 0 });
    expect(summary.malformedAcked).toBeGreaterThan(0);
    expect(seen.reduce((n, s) => n + s.body.records.length, 0)).toBe(250);
  });
});
