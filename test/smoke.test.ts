/**
 * The smoke tool's pure parts: the scripted scenario and its expectation, the diff, the flags, and the run loop
 * driven by a fake sender, a fake table and a fake clock. No network.
 */
import { createVerify, generateKeyPairSync, type KeyObject } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { INGEST_PATH } from "../contract/ingestGateway";
import type { WatchSegment } from "../contract/topics";
import { DEFAULT_SESSIONIZATION_PARAMS, worstCaseCloseDelaySec } from "../contract/sessionization";
import { expectedKey, rejection } from "../ksql/model";
import { CONNECTION_OPTIONS, GATEWAY_SEND_TIMEOUT_MS } from "../tools/loadgen/config";
import { GatewayLane, tokenRefusalHint } from "../tools/loadgen/gatewaySender";
import { gatewayTokens } from "../tools/loadgen/jwt";
import type { SendResult } from "../tools/loadgen/kafkaSender";
import type { LoadRecord } from "../tools/loadgen/records";
import type { Lane } from "../tools/loadgen/run";
import { parseSmokeArgs, SINK_MARGIN_SEC, type SmokeConfig } from "../tools/smoke/config";
import { rowToSegment, SEGMENTS_QUERY } from "../tools/smoke/db";
import { diffSegments, formatDiff, isMatch, progressLine, TRANSIT_TOLERANCE_MS, transitToleranceMs } from "../tools/smoke/diff";
import { runSmoke, scenarioRecords, smokeResultJson, type SmokeDeps } from "../tools/smoke/run";
import { runIdProblem, SCENARIO_SPAN_SEC, scenarioFitProblem, smokeScenario } from "../tools/smoke/scenario";

const END = Date.UTC(2026, 10, 22, 12, 0, 0);
const START = END - SCENARIO_SPAN_SEC * 1000;
const P = DEFAULT_SESSIONIZATION_PARAMS;
const seg = (user: string, video: string, startOffSec: number, endOffSec: number, startPos: number, endPos: number, count: number): WatchSegment => ({
  user_id: `smoke-r1-${user}`,
  video_id: `smoke-r1-${video}`,
  start_position_sec: startPos,
  end_position_sec: endPos,
  start_ts: START + startOffSec * 1000,
  end_ts: START + endOffSec * 1000,
  heartbeat_count: count,
  watched_sec: (Math.round(endPos * 1000) - Math.round(startPos * 1000)) / 1000,
});

describe("smoke scenario", () => {
  const s = smokeScenario("r1", END, P);

  it("covers continuous playback, a seek, a silent pause then a rewind, and two videos: 7 segments with the defaults", () => {
    expect(s.expected).toEqual([
      seg("u1", "vA", 0, 55, 120.1, 175.1, 12), // continuous
      seg("u2", "vA", 0, 20, 10, 30, 5), // before the seek forward
      seg("u2", "vA", 25, 55, 600, 630, 7), // after it
      seg("u3", "vB", 0, 15, 40, 55, 4), // before the 20 s silent pause
      seg("u3", "vB", 40, 55, 5, 20, 4), // after it, rewound
      seg("u4", "vA", 0, 25, 300, 325, 6), // first video
      seg("u4", "vB", 30, 55, 0, 25, 6), // second video
    ]);
  });

  it("the expectation follows the parameters: a 60 s tolerance keeps the 50 s rewind in one segment", () => {
    const wide = smokeScenario("r1", END, { ...P, seekToleranceSec: 60 });
    expect(wide.expected).toHaveLength(6);
    expect(wide.expected.find((x) => x.user_id === "smoke-r1-u3")).toMatchObject({ heartbeat_count: 8, start_position_sec: 5, end_position_sec: 55 });
  });

  it("sends 44 heartbeats, interleaved across users in event-time order, ending at the given time", () => {
    expect(s.heartbeats).toHaveLength(44);
    expect(s.heartbeats[0]!.event_ts).toBe(START);
    expect(s.heartbeats[s.heartbeats.length - 1]!.event_ts).toBe(END);
    for (let i = 1; i < s.heartbeats.length; i++) expect(s.heartbeats[i]!.event_ts).toBeGreaterThanOrEqual(s.heartbeats[i - 1]!.event_ts);
    expect(s.heartbeats.slice(0, 4).map((h) => h.user_id)).toEqual(["smoke-r1-u1", "smoke-r1-u2", "smoke-r1-u3", "smoke-r1-u4"]);
    expect(s.userIds).toEqual(["smoke-r1-u1", "smoke-r1-u2", "smoke-r1-u3", "smoke-r1-u4"]);
  });

  it("every heartbeat passes V000001's validation when sent at its end time, and every id carries the run id", () => {
    for (const h of s.heartbeats) {
      expect(rejection({ ...h, device_id: h.device_id ?? null }, expectedKey(h.user_id, h.video_id))).toBeNull();
      expect(h.user_id.startsWith("smoke-r1-")).toBe(true);
      expect(h.video_id.startsWith("smoke-r1-")).toBe(true);
    }
  });

  it("records are JSON heartbeats keyed by the session key user_id|video_id, each with the time it is sent", () => {
    const recs = scenarioRecords(s, END + 7);
    expect(recs).toHaveLength(44);
    const h = s.heartbeats[0]!;
    expect(recs[0]).toEqual({ key: `${h.user_id}|${h.video_id}`, value: JSON.stringify({ ...h, sent_at: END + 7 }), seq: 0, malformed: false });
    expect(new Set(recs.map((r) => r.seq)).size).toBe(44);
  });

  it("rejects run ids that are not short lower-case tokens, and parameters too tight for its 55 s span", () => {
    expect(runIdProblem("abc-123")).toBeNull();
    expect(runIdProblem("ABC")).toMatch(/--run-id must match/);
    expect(runIdProblem("a|b")).toMatch(/--run-id must match/);
    expect(runIdProblem("x".repeat(33))).toMatch(/at most 32/);
    expect(() => smokeScenario("Bad Id", END, P)).toThrow(/--run-id/);
    expect(scenarioFitProblem(P)).toBeNull();
    expect(scenarioFitProblem({ ...P, sessionGapSec: 20, gracePeriodSec: 30 })).toMatch(/gap 20 s \+ grace 30 s = 50 s .*must be >= 70 s/);
  });
});

describe("smoke diff", () => {
  const expected = smokeScenario("r1", END, P).expected;

  it("an identical table matches; tiny float noise in seconds and the transit in times are tolerated, not in counts", () => {
    expect(isMatch(diffSegments(expected, [...expected].reverse()))).toBe(true);
    const noisy = expected.map((e) => ({ ...e, watched_sec: e.watched_sec + 1e-12 }));
    expect(isMatch(diffSegments(expected, noisy))).toBe(true);
    const inTransit = expected.map((e) => ({ ...e, start_ts: e.start_ts + 350, end_ts: e.end_ts + 350 }));
    expect(isMatch(diffSegments(expected, inTransit))).toBe(true);
    const tooLate = expected.map((e, i) => (i === 0 ? { ...e, end_ts: e.end_ts + TRANSIT_TOLERANCE_MS + 1 } : e));
    expect(isMatch(diffSegments(expected, tooLate))).toBe(false);
    const oneMore = expected.map((e, i) => (i === 0 ? { ...e, heartbeat_count: e.heartbeat_count + 1 } : e));
    expect(isMatch(diffSegments(expected, oneMore))).toBe(false);
  });

  it("a slow send widens the time tolerance by its acknowledgement time (the transit cannot be longer), never past half the closest two starts", () => {
    // Measured through the real gateway on a loaded machine: 44 heartbeats acknowledged after 3,748 ms, rows 2.5-3.5 s late.
    const viaGateway = expected.map((e, i) => ({ ...e, start_ts: e.start_ts + 2_500 + 150 * i, end_ts: e.end_ts + 2_500 + 150 * i }));
    expect(isMatch(diffSegments(expected, viaGateway))).toBe(false);
    expect(transitToleranceMs(expected, 3_748)).toBe(5_748);
    expect(isMatch(diffSegments(expected, viaGateway, transitToleranceMs(expected, 3_748)))).toBe(true);
    expect(transitToleranceMs(expected, 3)).toBe(2_003);
    expect(transitToleranceMs(expected, -5)).toBe(TRANSIT_TOLERANCE_MS);
    // The scenario's closest two starts of one viewer and video are 25 s apart (user 2, video A): the cap is 12.5 s.
    expect(transitToleranceMs(expected, 60_000)).toBe(12_499);
    expect(transitToleranceMs(expected.slice(0, 1), 60_000)).toBe(62_000);
    const late = expected.map((e) => ({ ...e, start_ts: e.start_ts + 12_600, end_ts: e.end_ts + 12_600 }));
    expect(diffSegments(expected, late, transitToleranceMs(expected, 60_000)).matched).toHaveLength(0);
  });

  it("classifies missing, unexpected and different rows and prints each field that differs", () => {
    const [a, b, c, ...rest] = expected;
    const changed = { ...b!, heartbeat_count: 9, end_position_sec: 99 };
    const stray = { ...c!, start_ts: c!.start_ts + 5000 };
    const d = diffSegments(expected, [changed, stray, ...rest]);
    expect(d.matched).toHaveLength(4);
    expect(d.missing).toEqual([a, c]);
    expect(d.unexpected).toEqual([stray]);
    expect(d.different).toEqual([
      {
        expected: b,
        actual: changed,
        fields: [
          { field: "end_position_sec", expected: 30, actual: 99 },
          { field: "heartbeat_count", expected: 5, actual: 9 },
        ],
      },
    ]);
    const text = formatDiff(d);
    expect(text).toContain("4 of 7 expected segments match");
    expect(text).toContain("missing (expected, not in watch_segments): 2");
    expect(text).toContain(`  - smoke-r1-u1 smoke-r1-vA start_ts ${new Date(a!.start_ts).toISOString()} (${a!.start_ts}): 12 heartbeats, playhead 120.1 -> 175.1 s`);
    expect(text).toContain("unexpected (in watch_segments, not expected): 1");
    expect(text).toContain("different (same user, video and start_ts): 1");
    expect(text).toContain("      heartbeat_count: expected 5, got 9");
    expect(text).toContain("      end_position_sec: expected 30, got 99");
  });

  it("progress reads like '3/7 segments after 45 s'", () => {
    const d = diffSegments(expected, expected.slice(0, 3));
    expect(progressLine(d, 7, 45_200)).toBe("3/7 segments after 45 s");
    const wrong = diffSegments(expected, [{ ...expected[0]!, heartbeat_count: 1 }]);
    expect(progressLine(wrong, 7, 10_000)).toBe("0/7 segments after 10 s (1 different)");
  });
});

describe("smoke flags", () => {
  const KAFKA = { LOADGEN_BOOTSTRAP_SERVERS: "b1:9093,b2:9093", PGHOST: "yb.example", PGUSER: "smoke" };
  const parse = (argv: string[], env: Record<string, string> = KAFKA): SmokeConfig => {
    const r = parseSmokeArgs(argv, env);
    if (r.help) throw new Error("unexpected help");
    return r.config;
  };

  it("defaults: contract/sessionization.ts parameters, timeout = worst-case close delay + sink margin, YSQL port and database", () => {
    const c = parse([]);
    expect(c.params).toEqual(P);
    expect(c.timeoutSec).toBe(Math.ceil(worstCaseCloseDelaySec(P) + SINK_MARGIN_SEC));
    expect(c.timeoutSec).toBe(201);
    expect(c.db).toEqual({ host: "yb.example", port: 5433, database: "watchpipe", user: "smoke", password: null, sslMode: "disable" });
    expect(c.sender).toMatchObject({ mode: "kafka", bootstrap: ["b1:9093", "b2:9093"], topic: "heartbeats_raw", producers: 1, tls: false, clientId: "watchpipe-smoke" });
    expect(c.runId).toBeNull();
  });

  it("TLS + SCRAM for Kafka as the load generator takes them; TLS with a CA for the database", () => {
    const c = parse(["--ca-file", "/ca.pem", "--sasl-username", "loadgen", "--pg-sslrootcert", "/yb-ca.pem", "--pg-port", "15433"], {
      ...KAFKA,
      LOADGEN_SASL_PASSWORD: "pw",
      PGPASSWORD: "dbpw",
      PGDATABASE: "watch",
    });
    expect(c.sender).toMatchObject({ tls: true, caFile: "/ca.pem", saslUsername: "loadgen", saslPassword: "pw" });
    expect(c.db).toMatchObject({ port: 15433, database: "watch", sslMode: "verify-full", sslRootCert: "/yb-ca.pem", password: { from: "env", value: "dbpw" } });
  });

  it("a longer gap or tick interval lengthens the default timeout; --timeout-sec overrides it", () => {
    expect(parse(["--session-gap-sec", "60", "--tick-interval-sec", "20"]).timeoutSec).toBe(Math.ceil(worstCaseCloseDelaySec({ ...P, sessionGapSec: 60 }, 20) + SINK_MARGIN_SEC));
    expect(parse(["--timeout-sec", "30"]).timeoutSec).toBe(30);
  });

  it("--bridge-url switches to the bridge", () => {
    expect(parse(["--bridge-url", "https://bridge.example"], { PGHOST: "h", PGUSER: "u" }).sender).toMatchObject({ mode: "bridge", bridgeUrl: "https://bridge.example" });
  });

  const GATEWAY = ["--mode", "gateway", "--gateway-url", "https://gw.example", "--jwt-key", "/keys/loadtest.pem", "--jwt-kid", "lt-1", "--jwt-issuer", "https://loadtest-idp.example/", "--jwt-audience", "watchpipe-player"];
  const DB = { PGHOST: "h", PGUSER: "u" };

  it("--mode gateway takes the load generator's gateway flags and waits past the gateway's route timeout", () => {
    const c = parse([...GATEWAY, "--max-per-request", "6"], DB);
    expect(c.sender).toMatchObject({
      mode: "gateway",
      gateway: { url: "https://gw.example", jwtKeyFile: "/keys/loadtest.pem", jwtKid: "lt-1", jwtIssuer: "https://loadtest-idp.example/", jwtAudience: "watchpipe-player", maxPerRequest: 6 },
      sendTimeoutMs: GATEWAY_SEND_TIMEOUT_MS,
      bridgeUrl: null,
      clientId: "watchpipe-smoke",
    });
    // The batch limit defaults to the gateway's (15): each smoke user's heartbeats (at most 12) go in one request.
    expect(parse(GATEWAY, DB).sender.gateway?.maxPerRequest).toBe(15);
  });

  it("--gateway-url implies --mode gateway; the URL and key file may come from LOADGEN_GATEWAY_URL and LOADGEN_JWT_KEY_FILE", () => {
    expect(parse(GATEWAY.slice(2), DB).sender.mode).toBe("gateway");
    const fromEnv = parse(["--mode", "gateway", ...GATEWAY.slice(6)], { ...DB, LOADGEN_GATEWAY_URL: "http://127.0.0.1:18081", LOADGEN_JWT_KEY_FILE: "/env/key.pem" });
    expect(fromEnv.sender.gateway).toMatchObject({ url: "http://127.0.0.1:18081", jwtKeyFile: "/env/key.pem", jwtKid: "lt-1" });
  });

  it("accepts every connection flag the load generator shares (CONNECTION_OPTIONS), so the two cannot drift apart", () => {
    for (const [flag, spec] of Object.entries(CONNECTION_OPTIONS)) {
      let message = "";
      try {
        parseSmokeArgs([...GATEWAY, ...(spec.type === "boolean" ? [`--${flag}`] : [`--${flag}`, "1"])], DB);
      } catch (err) {
        message = (err as Error).message; // a value the load generator refuses is fine here; an unknown flag is not
      }
      expect(message, `--${flag}`).not.toMatch(/Unknown option/);
    }
    // ... and reaches the load generator's parser with its value.
    expect(parse([...GATEWAY, "--send-timeout-ms", "700", "--retries", "3", "--topic", "hb_test", "--sasl-username", "lg"], { ...DB, LOADGEN_SASL_PASSWORD: "pw" }).sender).toMatchObject({
      sendTimeoutMs: 700,
      retries: 3,
      topic: "hb_test",
      saslUsername: "lg",
    });
  });

  it("usage errors name the option and the fix", () => {
    const bad = (argv: string[], env: Record<string, string>, msg: RegExp) => expect(() => parseSmokeArgs(argv, env)).toThrow(msg);
    bad([], { PGHOST: "h", PGUSER: "u" }, /needs bootstrap servers: pass --bootstrap .* or set LOADGEN_BOOTSTRAP_SERVERS/);
    bad([], { LOADGEN_BOOTSTRAP_SERVERS: "b:1", PGUSER: "u" }, /--pg-host is required \(or set PGHOST\)/);
    bad(["--pg-sslmode", "verify-ca"], KAFKA, /needs YugabyteDB's CA: pass --pg-sslrootcert/);
    bad(["--pg-sslmode", "allow"], KAFKA, /--pg-sslmode\/PGSSLMODE must be one of disable, require, verify-ca, verify-full, got "allow"/);
    bad(["--sasl-username", "x"], KAFKA, /SCRAM needs both a username and a password/);
    bad(["--run-id", "Nope!"], KAFKA, /--run-id must match/);
    bad(["--grace-period-sec", "10"], KAFKA, /would be dropped as late/);
    bad(["--timeout-sec", "0"], KAFKA, /--timeout-sec must be seconds > 0, got "0"/);
    bad(["--seek-tolerance-sec", "x"], KAFKA, /--seek-tolerance-sec must be seconds >= 0, got "x"/);
    bad(["--nope"], KAFKA, /Unknown option '--nope'/);
    bad(GATEWAY.filter((a, i) => a !== "--jwt-kid" && GATEWAY[i - 1] !== "--jwt-kid"), DB, /gateway mode needs --jwt-kid: the `kid` of that key in the JWKS/);
    bad(["--mode", "gateway"], DB, /gateway mode needs --gateway-url \(or LOADGEN_GATEWAY_URL\)/);
    bad(["--gateway-url", "gw.example:8080", ...GATEWAY.slice(4)], DB, /--gateway-url must be an http\(s\) URL, got "gw.example:8080"/);
    bad([...GATEWAY, "--max-per-request", "0"], DB, /--max-per-request must be an integer >= 1/);
    expect(parseSmokeArgs(["--help"], {})).toEqual({ help: true });
  });
});

describe("smoke database rows", () => {
  it("looks rows up by user id (point lookups on YSQL's hash key), converts timestamptz to epoch ms", () => {
    expect(SEGMENTS_QUERY).toContain("WHERE user_id = ANY($1::text[])");
    expect(
      rowToSegment({
        user_id: "u", video_id: "v", start_ts: new Date(1_000), end_ts: new Date(6_000),
        start_position_sec: 1.5, end_position_sec: 6.5, heartbeat_count: 2, watched_sec: 5,
      }),
    ).toEqual({ user_id: "u", video_id: "v", start_ts: 1_000, end_ts: 6_000, start_position_sec: 1.5, end_position_sec: 6.5, heartbeat_count: 2, watched_sec: 5 });
  });
});

// ---- the run loop with fakes --------------------------------------------------------------------------------------

class FakeLane implements Lane {
  readonly sent: LoadRecord[][] = [];
  constructor(private readonly result: (records: readonly LoadRecord[]) => SendResult = (r) => ({ acked: r.length, failed: 0, ackedRecords: r, latencyMs: 3 })) {}
  async send(records: readonly LoadRecord[]): Promise<SendResult> {
    this.sent.push([...records]);
    return this.result(records);
  }
  async close(): Promise<void> {}
}

/** A fake clock advanced by sleep(), and a table that reveals `rows` one more per query after `delayQueries`. */
function harness(rows: readonly WatchSegment[], opts: { delayQueries?: number; failQueries?: ReadonlySet<number>; lane?: FakeLane; allAtOnce?: boolean } = {}) {
  let clock = 0;
  let queries = 0;
  const lines: string[] = [];
  const lane = opts.lane ?? new FakeLane();
  const deps: SmokeDeps = {
    lane,
    fetchRows: async () => {
      const q = queries++;
      if (opts.failQueries?.has(q) === true) throw new Error(`connection reset (query ${q})`);
      if (q === 0) return [];
      if (opts.allAtOnce === true) return [...rows];
      return rows.slice(0, Math.max(0, q - (opts.delayQueries ?? 0)));
    },
    now: () => clock,
    sleep: async (ms) => {
      clock += ms;
    },
    log: (l) => lines.push(l),
  };
  return { deps, lines, lane, queries: () => queries };
}

describe("runSmoke", () => {
  const s = smokeScenario("r1", END, P);
  const timing = { timeoutSec: 60, pollIntervalSec: 2, progressIntervalSec: 5 };

  it("sends the scenario once and exits 0 as soon as exactly the expected rows are there, with progress lines", async () => {
    const h = harness(s.expected, { delayQueries: 5 });
    const out = await runSmoke(s, timing, h.deps);
    expect(out.code).toBe(0);
    expect(h.lane.sent).toHaveLength(1);
    expect(h.lane.sent[0]).toHaveLength(44);
    expect(h.lines[0]).toBe("sent 44 heartbeats in 3 ms (all acknowledged); waiting up to 60 s for 7 segments, their times within 2.0 s of the model's (the transit, at most the send's 3 ms, + 2 s)");
    // Queries every 2 s; rows appear one per query from the 6th poll on; progress at most every 5 s.
    expect(h.lines.slice(1)).toEqual([
      "0/7 segments after 6 s",
      "2/7 segments after 12 s",
      "5/7 segments after 18 s",
      "OK: 7/7 segments after 22 s: every expected segment is in watch_segments, nothing else",
    ]);
  });

  it("exits 1 at the timeout with a readable diff when the table differs", async () => {
    const wrong = s.expected.map((e, i) => (i === 3 ? { ...e, heartbeat_count: 8, end_ts: e.end_ts + 40_000 } : e)).filter((_, i) => i !== 4);
    const h = harness(wrong);
    const out = await runSmoke(s, timing, h.deps);
    expect(out).toMatchObject({ code: 1, reason: "mismatch" });
    expect(out.elapsedMs).toBeGreaterThanOrEqual(60_000);
    const text = h.lines.join("\n");
    expect(text).toContain("MISMATCH: watch_segments for run r1 after 60 s (timeout 60 s)");
    expect(text).toContain("5 of 7 expected segments match");
    expect(text).toContain("heartbeat_count: expected 4, got 8");
    expect(text).toMatch(/- smoke-r1-u3 smoke-r1-vB start_ts .*: 4 heartbeats, playhead 5 -> 20 s/);
  });

  it("an extra row for the run is a mismatch too (exactly the expected rows, nothing else)", async () => {
    const extra = { ...s.expected[0]!, video_id: "smoke-r1-vZ" };
    const h = harness([...s.expected, extra], { allAtOnce: true });
    const out = await runSmoke(s, { ...timing, timeoutSec: 20 }, h.deps);
    expect(out.code).toBe(1);
    expect(h.lines.join("\n")).toContain("unexpected (in watch_segments, not expected): 1");
  });

  it("rides out a failing query while waiting", async () => {
    const h = harness(s.expected, { failQueries: new Set([3, 4]) });
    const out = await runSmoke(s, timing, h.deps);
    expect(out.code).toBe(0);
    expect(h.lines).toContain("2/7 segments after 6 s (last query failed: connection reset (query 4))");
  });

  it("fails before sending when the database cannot be queried or already has rows for the run id", async () => {
    const down = harness(s.expected, { failQueries: new Set([0]) });
    expect(await runSmoke(s, timing, down.deps)).toMatchObject({ code: 2, reason: "database" });
    expect(down.lane.sent).toHaveLength(0);
    expect(down.lines[0]).toMatch(/cannot query watch_segments: connection reset .*--pg-\*/);

    const dirty = harness([]);
    dirty.deps = { ...dirty.deps, fetchRows: async () => [s.expected[0]!] };
    expect(await runSmoke(s, timing, dirty.deps)).toMatchObject({ code: 2, reason: "database" });
    expect(dirty.lane.sent).toHaveLength(0);
  });

  it("a mismatch says which stage to look at next", async () => {
    const none = harness([]);
    expect(await runSmoke(s, { ...timing, timeoutSec: 10 }, none.deps)).toMatchObject({ code: 1, reason: "mismatch" });
    expect(none.lines).toContain("next: nothing of run r1 reached watch_segments. Follow the heartbeats downstream:");
    expect(none.lines).toContain("  1. topic heartbeats_rejected: did validation reject them (each reject carries its reason)?");
    expect(none.lines).toContain("  4. the JDBC sink connector: kubectl get kafkaconnector -A (READY, task state) and topic watch_segments_dlq.");

    const some = harness(s.expected.slice(0, 5), { allAtOnce: true });
    await runSmoke(s, { ...timing, timeoutSec: 10 }, some.deps);
    expect(some.lines).toContain(
      "next: 2 segments are missing while others arrived: sessions close when stream time passes end + grace; check the session ticker runs, then the connector's lag and topic watch_segments_dlq.",
    );

    const wrong = harness(s.expected.map((e) => ({ ...e, heartbeat_count: e.heartbeat_count + 1 })), { allAtOnce: true });
    await runSmoke(s, { ...timing, timeoutSec: 10 }, wrong.deps);
    expect(wrong.lines.join("\n")).toContain("next: rows arrived with other values or keys: the model parameters printed at the start must equal the deployed watchpipe:sessionization settings");
  });

  it("exits 2 (connection error) with the sender's hint when the brokers never answer", async () => {
    const lane = new FakeLane((r) => ({ acked: 0, failed: r.length, ackedRecords: [], latencyMs: 9, error: new Error("Broker not connected") }));
    const h = harness(s.expected, { lane });
    const out = await runSmoke(s, timing, { ...h.deps, sendHint: "No answer from b1:9093: check the port" });
    expect(out).toMatchObject({ code: 2, reason: "send" });
    expect(h.lines[0]).toBe("ERROR: 0 of 44 heartbeats acknowledged: Error: Broker not connected. No answer from b1:9093: check the port");
  });

  it("exits 1 without waiting when not every heartbeat was acknowledged", async () => {
    const lane = new FakeLane((r) => ({ acked: 10, failed: r.length - 10, ackedRecords: r.slice(0, 10), latencyMs: 9, error: new Error("NOT_ENOUGH_REPLICAS") }));
    const h = harness(s.expected, { lane });
    const out = await runSmoke(s, timing, h.deps);
    expect(out).toMatchObject({ code: 1, reason: "send" });
    expect(h.lines[0]).toMatch(/10 of 44 heartbeats acknowledged: Error: NOT_ENOUGH_REPLICAS/);
    expect(h.queries()).toBe(1);
  });
});

// ---- gateway mode: the real lane and token minter against a token-checking server on 127.0.0.1 ---------------------

describe("runSmoke through the ingest gateway (a loopback server that checks tokens as the gateway does)", () => {
  const trusted = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const untrusted = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const s = smokeScenario("gw1", END, P);
  const timing = { timeoutSec: 60, pollIntervalSec: 2, progressIntervalSec: 5 };
  const requests: { sub: string; users: string[] }[] = [];
  let answer: ((sub: string, users: string[]) => { status: number; body: string }) | null = null;
  let server: http.Server;
  let url: string;
  let dir: string;

  const verifies = (token: string, key: KeyObject): boolean => {
    const [head, payload, sig] = token.split(".");
    return createVerify("RSA-SHA256").update(`${head}.${payload}`).verify(key, Buffer.from(sig ?? "", "base64url"));
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "watchpipe-smoke-gw-"));
    writeFileSync(join(dir, "trusted.pem"), trusted.privateKey.export({ format: "pem", type: "pkcs8" }));
    writeFileSync(join(dir, "untrusted.pem"), untrusted.privateKey.export({ format: "pem", type: "pkcs8" }));
    writeFileSync(join(dir, "public.pem"), trusted.publicKey.export({ format: "pem", type: "spki" }));
    // Like Envoy then Camel: 401 unless the trusted key signed it for this issuer and audience; 403 for another user's heartbeat.
    server = http.createServer((req, res) => {
      let raw = "";
      req.on("data", (c: Buffer) => (raw += c.toString()));
      req.on("end", () => {
        const token = String(req.headers.authorization ?? "").replace(/^Bearer /, "");
        const claims = JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString() || "{}") as { sub?: string; iss?: string; aud?: string };
        if (req.url !== INGEST_PATH || !verifies(token, trusted.publicKey) || claims.iss !== "https://idp.test/" || claims.aud !== "watchpipe-player") {
          res.writeHead(401).end("Jwt verification fails");
          return;
        }
        const users = (JSON.parse(raw) as { records: { value: { user_id: string } }[] }).records.map((r) => r.value.user_id);
        requests.push({ sub: claims.sub ?? "", users });
        if (users.some((u) => u !== claims.sub)) {
          res.writeHead(403).end('{"error_code":403,"message":"records[0].value.user_id: expected the token subject"}');
          return;
        }
        const a = answer?.(claims.sub ?? "", users) ?? { status: 200, body: JSON.stringify({ offsets: users.map((_, i) => ({ partition: 0, offset: i })) }) };
        res.writeHead(a.status, { "content-type": "application/json" }).end(a.body);
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise<void>((r) => server.close(() => r()));
    rmSync(dir, { recursive: true, force: true });
  });

  const target = (key: string) => ({ url, jwtKeyFile: join(dir, key), jwtKid: "lt-1", jwtIssuer: "https://idp.test/", jwtAudience: "watchpipe-player" });
  const gatewayDeps = (key: string, rows: readonly WatchSegment[] = s.expected) => {
    const h = harness(rows, { allAtOnce: true });
    const gw = target(key);
    const lane = new GatewayLane(url, gatewayTokens(gw), 15, 5000);
    return { h, deps: { ...h.deps, lane, sendHint: `check --gateway-url ${url} answers`, tokenHint: tokenRefusalHint(gw) } };
  };

  it("each of the 4 users posts all its heartbeats in one request under a token whose subject is that user; all acknowledged, exit 0", async () => {
    requests.length = 0;
    const { h, deps } = gatewayDeps("trusted.pem");
    const out = await runSmoke(s, timing, deps);
    expect(out.code, h.lines.join("\n")).toBe(0);
    // One request per user (at most 12 heartbeats each, under the gateway's 15), every heartbeat its token's subject's.
    expect(requests.map((r) => r.sub).sort()).toEqual(s.userIds);
    for (const r of requests) expect(r.users).toEqual(s.heartbeats.filter((x) => x.user_id === r.sub).map((x) => x.user_id));
    expect(requests.reduce((n, r) => n + r.users.length, 0)).toBe(44);
    expect(h.lines[0]).toMatch(/^sent 44 heartbeats in \d+ ms \(all acknowledged\)/);
  });

  it("a key the gateway does not trust: 401 on every request, exit 2 (reason token) naming the status, the answer and the flags to fix", async () => {
    requests.length = 0;
    const { h, deps } = gatewayDeps("untrusted.pem");
    const out = await runSmoke(s, timing, deps);
    expect(out).toMatchObject({ code: 2, reason: "token" });
    expect(requests).toEqual([]);
    expect(h.lines).toHaveLength(1);
    expect(h.lines[0]).toMatch(/^ERROR: 0 of 44 heartbeats acknowledged: the gateway refused the smoke's token \(HTTP 401\): GatewayRefusal: POST http:\/\/127\.0\.0\.1:\d+\/topics\/heartbeats_raw for user smoke-gw1-u\d returned HTTP 401, expected 200: Jwt verification fails\./);
    expect(h.lines[0]).toContain(`its JWKS (ingest.jwt.jwksUrl) must list the public half of --jwt-key ${join(dir, "untrusted.pem")} under kid "lt-1"`);
    expect(h.queries()).toBe(1); // nothing waited for
    expect(smokeResultJson({ runId: "gw1", code: out.code, reason: "token", elapsedMs: 0, expectedSegments: 7, heartbeats: 44, target: `gateway ${url}`, database: "h:5433/watchpipe" }).result).toBe("unauthorized");
  });

  it("a 403 (the gateway reads another subject claim) is the token's fault too: exit 2; a 503 (Kafka unavailable) is the pipeline's: exit 1", async () => {
    answer = () => ({ status: 403, body: '{"error_code":403,"message":"token: no subject claim"}' });
    const forbidden = gatewayDeps("trusted.pem");
    expect(await runSmoke(s, timing, forbidden.deps)).toMatchObject({ code: 2, reason: "token" });
    expect(forbidden.h.lines[0]).toMatch(/HTTP 403\): .*token: no subject claim.*ingest\.gateway\.subjectClaim/);

    answer = () => ({ status: 503, body: '{"error_code":503,"message":"kafka: write failed, retry the request"}' });
    const down = gatewayDeps("trusted.pem");
    expect(await runSmoke(s, timing, down.deps)).toMatchObject({ code: 1, reason: "send" });
    expect(down.h.lines[0]).toMatch(/0 of 44 heartbeats acknowledged: .*returned HTTP 503, expected 200: .*kafka: write failed/);
    answer = null;
  });

  it("a gateway that does not answer is exit 2 with the --gateway-url hint", async () => {
    const closed = http.createServer();
    await new Promise<void>((r) => closed.listen(0, "127.0.0.1", () => r()));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const h = harness(s.expected);
    const lane = new GatewayLane(`http://127.0.0.1:${port}`, gatewayTokens(target("trusted.pem")), 15, 5000);
    const out = await runSmoke(s, timing, { ...h.deps, lane, sendHint: `check --gateway-url http://127.0.0.1:${port} answers` });
    expect(out).toMatchObject({ code: 2, reason: "send" });
    expect(h.lines[0]).toMatch(new RegExp(`fetch failed.*ECONNREFUSED 127\\.0\\.0\\.1:${port}.*check --gateway-url http://127\\.0\\.0\\.1:${port} answers`));
  });

  it("the key file is read before anything is sent: a missing file or a public key is a usage error naming --jwt-key", () => {
    expect(() => gatewayTokens(target("nope.pem"))).toThrow(/--jwt-key .*nope\.pem: cannot read it \(ENOENT.*\); pass the PEM private key of the load-test identity provider/);
    expect(() => gatewayTokens(target("public.pem"))).toThrow(/--jwt-key: expected a PEM RSA private key .*\(file .*public\.pem\)/);
    expect(() => gatewayTokens(target("nope.pem"))).toThrow(expect.objectContaining({ name: "UsageError" }));
  });
});
