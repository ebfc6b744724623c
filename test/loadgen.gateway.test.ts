/**
 * Gateway mode: each player's heartbeats in its own request with its own RS256 token (sub = its user_id), at most
 * the batch limit per request; against a small local server that checks tokens like the gateway (127.0.0.1 only).
 */
import { createPublicKey, createVerify, generateKeyPairSync } from "node:crypto";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ENVOY_ROUTE_TIMEOUT_SEC, INGEST_PATH } from "../contract/ingestGateway";
import { parseLoadgenArgs } from "../tools/loadgen/config";
import { countGatewayAcks, GatewayLane, gatewayRequestBody, requestsByUser } from "../tools/loadgen/gatewaySender";
import { tokenMinter } from "../tools/loadgen/jwt";
import type { LoadRecord } from "../tools/loadgen/records";

const rec = (user: string, video: string, seq: number): LoadRecord => ({
  key: `${user}|${video}`,
  value: JSON.stringify({ user_id: user, video_id: video, position_sec: seq * 5, event_ts: 1_765_000_000_000 + seq * 5000, sent_at: 1_765_000_000_000 + seq * 5000 + 300 }),
  seq,
  malformed: false,
});
const GATEWAY_FLAGS = ["--mode", "gateway", "--gateway-url", "http://127.0.0.1:8080", "--jwt-key", "/k.pem", "--jwt-kid", "k1", "--jwt-issuer", "https://id.test/", "--jwt-audience", "player"];

describe("gateway requests", () => {
  it("group a batch per user, in batch order, cut at the batch limit", () => {
    const batch = [rec("a", "v1", 1), rec("b", "v1", 2), rec("a", "v2", 3), rec("a", "v1", 4)];
    expect(requestsByUser(batch, 2).map((g) => [g.user, g.records.map((r) => r.seq)])).toEqual([["a", [1, 3]], ["a", [4]], ["b", [2]]]);
  });
  it("carry the heartbeats as JSON values in the Bridge's produce body", () => {
    const body = JSON.parse(gatewayRequestBody([rec("a", "v1", 1)])) as { records: { value: { user_id: string } }[] };
    expect(body.records[0]?.value.user_id).toBe("a");
  });
  it("count as acknowledged only when every record has an offset", () => {
    expect(countGatewayAcks({ offsets: [{ partition: 0, offset: 1 }, { partition: 3, offset: 9 }] }, 2)).toEqual({ acked: 2, error: null });
    expect(countGatewayAcks({ offsets: [{ partition: 0, offset: 1 }] }, 2).acked).toBe(0);
    expect(countGatewayAcks({ error_code: 403 }, 1).error).toMatch(/no offsets, expected 1/);
  });
});

describe("gateway flags", () => {
  it("parse into a target with the default batch limit of 15", () => {
    const r = parseLoadgenArgs(GATEWAY_FLAGS, {});
    expect(r.help ? null : r.config.gateway).toEqual({ url: "http://127.0.0.1:8080", jwtKeyFile: "/k.pem", jwtKid: "k1", jwtIssuer: "https://id.test/", jwtAudience: "player", maxPerRequest: 15 });
    // It waits past the gateway's own route timeout, so every request ends with the gateway's answer.
    expect(r.help ? null : r.config.sendTimeoutMs).toBe((ENVOY_ROUTE_TIMEOUT_SEC + 5) * 1000);
  });
  it("name each missing flag, and refuse malformed records (the gateway refuses their whole request)", () => {
    expect(() => parseLoadgenArgs(GATEWAY_FLAGS.filter((_, i) => i < 8), {})).toThrow(/gateway mode needs --jwt-issuer: the issuer the gateway expects/);
    expect(() => parseLoadgenArgs(["--mode", "gateway"], {})).toThrow(/gateway mode needs --gateway-url \(or LOADGEN_GATEWAY_URL\)/);
    expect(() => parseLoadgenArgs([...GATEWAY_FLAGS, "--malformed-share", "0.1"], {})).toThrow(/--malformed-share 0\.1 needs --mode kafka or bridge/);
  });
});

describe("GatewayLane against a token-checking server", () => {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const keyPem = privateKey.export({ format: "pem", type: "pkcs8" }).toString();
  const seen: { sub: string; users: string[]; n: number }[] = [];
  let server: http.Server;
  let url: string;

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      let raw = "";
      req.on("data", (c: Buffer) => (raw += c.toString()));
      req.on("end", () => {
        const [head, payload, sig] = String(req.headers.authorization ?? "").replace(/^Bearer /, "").split(".");
        const ok = createVerify("RSA-SHA256").update(`${head}.${payload}`).verify(createPublicKey(publicKey.export({ format: "pem", type: "spki" })), Buffer.from(sig ?? "", "base64url"));
        const claims = JSON.parse(Buffer.from(payload ?? "", "base64url").toString() || "{}") as { sub?: string; aud?: string };
        const records = (JSON.parse(raw) as { records: { value: { user_id: string } }[] }).records;
        const users = records.map((r) => r.value.user_id);
        if (req.url !== INGEST_PATH || !ok || claims.aud !== "player") { res.writeHead(401).end("{}"); return; }
        if (users.some((u) => u !== claims.sub) || records.length > 3) { res.writeHead(403).end('{"error_code":403}'); return; }
        seen.push({ sub: claims.sub ?? "", users, n: records.length });
        res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ offsets: records.map((_, i) => ({ partition: 0, offset: i })) }));
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it("sends each player's heartbeats under its own token, at most the limit per request, and counts all acknowledged", async () => {
    const minter = tokenMinter({ keyPem, kid: "k1", issuer: "https://id.test/", audience: "player" });
    const lane = new GatewayLane(url, (u) => minter.tokenFor(u), 3, 5000);
    const batch = [1, 2, 3, 4, 5].map((i) => rec("alice", "v1", i)).concat([rec("bob", "v9", 6)]);
    const r = await lane.send(batch);
    expect(r).toMatchObject({ acked: 6, failed: 0 });
    expect(seen.map((s) => [s.sub, s.n]).sort()).toEqual([["alice", 2], ["alice", 3], ["bob", 1]]);
    expect(seen.every((s) => s.users.every((u) => u === s.sub))).toBe(true);
  });

  it("reports a refused request as failed with the server's status, and the others as acknowledged", async () => {
    const lane = new GatewayLane(url, () => "not.a.token", 3, 5000);
    const r = await lane.send([rec("carol", "v1", 1)]);
    expect(r.acked).toBe(0);
    expect(r.failed).toBe(1);
    expect(r.error?.message).toMatch(/for user carol returned HTTP 401, expected 200/);
  });

  it("re-uses a user's token until a minute before it expires", () => {
    let now = 1_765_000_000_000;
    const minter = tokenMinter({ keyPem, kid: "k1", issuer: "i", audience: "a", ttlSec: 600 }, () => now);
    const first = minter.tokenFor("u");
    now += 500_000;
    expect(minter.tokenFor("u")).toBe(first);
    now += 50_000;
    expect(minter.tokenFor("u")).not.toBe(first);
    expect(() => tokenMinter({ keyPem: "nope", kid: "k", issuer: "i", audience: "a" })).toThrow(/--jwt-key: expected a PEM RSA private key/);
  });
});
