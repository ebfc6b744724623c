/**
 * The smoke tool's pure parts: the scripted scenario and its expectation, the diff, the flags, and the run loop
 * driven by a fake sender, a fake table and a fake clock. No network.
 */
import { describe, expect, it } from "vitest";
import type { WatchSegment } from "../contract/topics";
import { DEFAULT_SESSIONIZATION_PARAMS, worstCaseCloseDelaySec } from "../contract/sessionization";
import { expectedKey, rejection } from "../ksql/model";
import type { SendResult } from "../tools/loadgen/kafkaSender";
import type { LoadRecord } from "../tools/loadgen/records";
import type { Lane } from "../tools/loadgen/run";
import { parseSmokeArgs, SINK_MARGIN_SEC, type SmokeConfig } from "../tools/smoke/config";
import { rowToSegment, SEGMENTS_QUERY } from "../tools/smoke/db";
import { diffSegments, formatDiff, isMatch, progressLine } from "../tools/smoke/diff";
import { runSmoke, scenarioRecords, type SmokeDeps } from "../tools/smoke/run";
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

  it("records are JSON heartbeats keyed by user_id, like the bridge writes them", () => {
    const recs = scenarioRecords(s);
    expect(recs).toHaveLength(44);
    expect(recs[0]).toEqual({ key: "smoke-r1-u1", value: JSON.stringify(s.heartbeats[0]), seq: 0, malformed: false });
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

  it("an identical table matches; tiny float noise in seconds is tolerated, not in counts or times", () => {
    expect(isMatch(diffSegments(expected, [...expected].reverse()))).toBe(true);
    const noisy = expected.map((e) => ({ ...e, watched_sec: e.watched_sec + 1e-12 }));
    expect(isMatch(diffSegments(expected, noisy))).toBe(true);
    const offByOneMs = expected.map((e, i) => (i === 0 ? { ...e, end_ts: e.end_ts + 1 } : e));
    expect(isMatch(diffSegments(expected, offByOneMs))).toBe(false);
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
    expect(h.lines[0]).toMatch(/^sent 44 heartbeats in 3 ms \(all acknowledged\); waiting up to 60 s for 7 segments$/);
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
