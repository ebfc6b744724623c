import { describe, expect, it } from "vitest";
import {
  conserve,
  defaultRunOf,
  formatRuns,
  formatViewers,
  NO_RUN,
  rawIdentity,
  reasonPrefix,
  UNATTRIBUTED,
  undecodableCount,
  undecodableFromServerLog,
  type PieceTotals,
  type RawRecord,
  type RejectRecord,
} from "../tools/conservation/accounting";

const T0 = 1_765_000_000_000;

function hb(user: string, video: string, eventTs: number, extra: Record<string, unknown> = {}): RawRecord {
  return { value: JSON.stringify({ user_id: user, video_id: video, position_sec: 1, event_ts: eventTs, ...extra }), timestamp: eventTs + 100 };
}

function beats(user: string, video: string, n: number): RawRecord[] {
  return Array.from({ length: n }, (_, i) => hb(user, video, T0 + i * 5_000));
}

function piece(user: string, video: string, heartbeats: number, lastWrittenMs = T0 + 200_000, pieces = 1): PieceTotals {
  return { user_id: user, video_id: video, heartbeats, pieces, lastWrittenMs };
}

const reject = (user: string | null, video: string | null, eventTs: number | null, reason: string): RejectRecord => ({ user_id: user, video_id: video, event_ts: eventTs, reason });

describe("conservation of heartbeats: sent = counted + rejected + undecodable, per viewer and per run", () => {
  it("a viewer whose every heartbeat is counted balances; the run shows no loss and the delay from its last heartbeat to its last piece", () => {
    const c = conserve({ raw: beats("e2e-a-ok-u1", "v1", 10), rejects: [], undecodable: [], pieces: [piece("e2e-a-ok-u1", "v1", 10, T0 + 45_000 + 100 + 95_000)] });
    expect(c.balanced).toBe(true);
    expect(c.viewers).toEqual([expect.objectContaining({ viewer: "e2e-a-ok-u1|v1", run: "e2e-a-ok", sent: 10, counted: 10, lost: 0, doubleCounted: 0 })]);
    expect(c.runs[0]).toMatchObject({ run: "e2e-a-ok", viewers: 1, sent: 10, counted: 10, lost: 0, doubleCounted: 0, delayP50Ms: 95_000, delayMaxMs: 95_000 });
  });

  it("heartbeats counted nowhere are lost, per viewer, and the run says how many viewers lost some", () => {
    const c = conserve({
      raw: [...beats("r-u1", "v1", 10), ...beats("r-u2", "v1", 6)],
      rejects: [],
      undecodable: [],
      pieces: [piece("r-u1", "v1", 7)],
    });
    expect(c.balanced).toBe(false);
    expect(c.viewers.map((v) => [v.viewer, v.lost, v.doubleCounted])).toEqual([["r-u1|v1", 3, 0], ["r-u2|v1", 6, 0]]);
    expect(c.total).toMatchObject({ sent: 16, counted: 7, lost: 9, viewersLosing: 2, doubleCounted: 0 });
    expect(formatViewers(c, false, 10)).toContain("r-u2|v1");
  });

  it("a duplicated send (same user, video and event_ts) counts once: it is sent once, counted once, and shows as resent", () => {
    const raw = beats("r-u1", "v1", 4);
    const c = conserve({ raw: [...raw, raw[1]!, { ...raw[2]!, timestamp: raw[2]!.timestamp + 2_000 }], rejects: [], undecodable: [], pieces: [piece("r-u1", "v1", 4)] });
    expect(c.viewers[0]).toMatchObject({ sent: 4, resent: 2, counted: 4, lost: 0, doubleCounted: 0 });
    expect(c.balanced).toBe(true);
  });

  it("counting a heartbeat more often than it was sent is double counting, never hidden by another viewer's loss", () => {
    const c = conserve({ raw: [...beats("r-u1", "v1", 4), ...beats("r-u2", "v1", 4)], rejects: [], undecodable: [], pieces: [piece("r-u1", "v1", 6), piece("r-u2", "v1", 2)] });
    expect(c.total).toMatchObject({ sent: 8, counted: 8, lost: 2, doubleCounted: 2, viewersLosing: 1, viewersDoubleCounted: 1 });
    expect(c.balanced).toBe(false);
  });

  it("rejects count by reason prefix, once per heartbeat, for the viewer they name", () => {
    const raw = [hb("r-u1", "v1", T0), hb("r-u1", "v1", T0 + 5_000), hb("r-u1", "v1", T0 + 10_000), hb("r-u1", "v1", T0 + 15_000)];
    const c = conserve({
      raw,
      rejects: [
        reject("r-u1", "v1", T0, "late: played more than 1 h before it was sent"),
        reject("r-u1", "v1", T0, "late: played more than 1 h before it was sent"),
        reject("r-u1", "v1", T0 + 5_000, "sent_at: expected epoch ms >= event_ts"),
      ],
      undecodable: [],
      pieces: [piece("r-u1", "v1", 2)],
    });
    expect(c.viewers[0]).toMatchObject({ sent: 4, counted: 2, rejected: { late: 1, sent_at: 1 }, lost: 0, doubleCounted: 0 });
    expect(c.runs[0]!.rejected).toEqual({ late: 1, sent_at: 1 });
  });

  it("records that name no viewer (not JSON, no user_id) balance in the unattributed bucket against rejects and the processing log", () => {
    const c = conserve({
      raw: [
        { value: '{"user_id":"r-u1","video_id":', timestamp: T0 },
        { value: JSON.stringify({ video_id: "v1", position_sec: 1, event_ts: T0 }), timestamp: T0 },
        { value: null, timestamp: T0 },
        ...beats("r-u1", "v1", 2),
      ],
      rejects: [reject(null, "v1", T0, "user_id: expected a string")],
      // Two queries read heartbeats_raw: each logs both undecodable records once.
      undecodable: [1, 2].flatMap(() => [{ logger: "processing.CSAS_HEARTBEATS_7.KsqlTopic.Source.deserializer" }, { logger: "processing.CSAS_HEARTBEATS_REJECTED_9.KsqlTopic.Source.deserializer" }]),
      pieces: [piece("r-u1", "v1", 2)],
    });
    const u = c.viewers.find((v) => v.viewer === UNATTRIBUTED)!;
    expect(u).toMatchObject({ run: UNATTRIBUTED, sent: 3, rejected: { user_id: 1 }, undecodable: 2, lost: 0, doubleCounted: 0 });
    expect(c.balanced).toBe(true);
    expect(c.total).toMatchObject({ viewers: 1, sent: 5, counted: 2, undecodable: 2 });
  });

  it("ticks are not heartbeats: neither sent nor rejected", () => {
    const c = conserve({ raw: [hb("__tick__", "p0-0", T0), ...beats("r-u1", "v1", 1)], rejects: [reject("__tick__", "p1-0", T0, "key: x")], undecodable: [], pieces: [piece("r-u1", "v1", 1)] });
    expect(c.viewers.map((v) => v.viewer)).toEqual(["r-u1|v1"]);
    expect(c.balanced).toBe(true);
  });

  it("pieces of a viewer that sent nothing are double counted", () => {
    const c = conserve({ raw: [], rejects: [], undecodable: [], pieces: [piece("r-u9", "v1", 3)] });
    expect(c.total).toMatchObject({ sent: 0, counted: 3, doubleCounted: 3 });
  });

  it("the run table has a row per run and a total row; the per-viewer table lists only viewers out of balance unless asked", () => {
    const c = conserve({ raw: [...beats("x-a-u1", "v1", 3), ...beats("x-b-u1", "v1", 3)], rejects: [], undecodable: [], pieces: [piece("x-a-u1", "v1", 3), piece("x-b-u1", "v1", 2)] });
    const runs = formatRuns(c).split("\n");
    expect(runs[0]).toMatch(/^run\s+viewers\s+sent\s+resent\s+counted\s+rejected \(by reason\)\s+undecodable\s+lost\s+double-counted\s+delay p50 s\s+delay max s$/);
    expect(runs.slice(1).map((l) => l.split(/\s{2,}/).slice(0, 8))).toEqual([
      ["x-a", "1", "3", "0", "3", "0", "0", "0"],
      ["x-b", "1", "3", "0", "2", "0", "0", "1"],
      ["(all)", "2", "6", "0", "5", "0", "0", "1"],
    ]);
    expect(formatViewers(c, false, 10).split("\n")).toHaveLength(2);
    expect(formatViewers(c, true, 10).split("\n")).toHaveLength(3);
    expect(formatViewers(conserve({ raw: [], rejects: [], undecodable: [], pieces: [] }), false, 10)).toMatch(/every viewer balances/);
  });
});

describe("conservation helpers", () => {
  it.each([
    ["e2e-a-slow3m-u000042", "e2e-a-slow3m"],
    ["u000042", NO_RUN],
    ["-u1", NO_RUN],
  ])("the run of user %s is %s", (user, run) => expect(defaultRunOf(user)).toBe(run));

  it.each([
    ["late: played more than 1 h before it was sent", "late"],
    ["key: expected user_id|video_id", "key"],
    ["no colon", "no colon"],
    [":", "(no reason)"],
  ])("reason %s groups under %s", (reason, prefix) => expect(reasonPrefix(reason)).toBe(prefix));

  it("a raw value's identity is (user, video, event_ts) only when all three are there", () => {
    expect(rawIdentity(JSON.stringify({ user_id: "u", video_id: "v", event_ts: 5 }))).toEqual({ viewer: "u|v", key: "u|v\u00005", tick: false });
    expect(rawIdentity(JSON.stringify({ user_id: "u", video_id: "v" }))).toEqual({ viewer: "u|v", key: null, tick: false });
    expect(rawIdentity("[1]")).toEqual({ viewer: UNATTRIBUTED, key: null, tick: false });
    expect(rawIdentity(JSON.stringify({ user_id: 7, video_id: "v", event_ts: 5 }))).toEqual({ viewer: UNATTRIBUTED, key: null, tick: false });
  });

  it("undecodable records are the largest count logged by one query", () => {
    expect(undecodableCount([])).toBe(0);
    expect(undecodableCount([{ logger: "processing.Q1.x" }, { logger: "processing.Q1.y" }, { logger: "processing.Q2.x" }])).toBe(2);
  });
});

describe("conservation of selected runs", () => {
  it("keepRun limits the viewers, runs and total to the runs it accepts", () => {
    const c = conserve({ raw: [...beats("x-a-u1", "v1", 3), ...beats("y-b-u1", "v1", 3)], rejects: [], undecodable: [], pieces: [piece("x-a-u1", "v1", 3)], keepRun: (r) => r.startsWith("x-") });
    expect(c.runs.map((r) => r.run)).toEqual(["x-a"]);
    expect(c.total).toMatchObject({ sent: 3, counted: 3, lost: 0 });
    expect(c.balanced).toBe(true);
  });
});

describe("undecodable records from a ksqlDB server's own log", () => {
  it("reads processing-log entries about the raw topic that the server logged to its console", () => {
    const log = [
      '[2026-12-07T13:26:07,508] ERROR {"type":0,"deserializationError":{"target":"value","errorMessage":"Failed to deserialize value from topic: heartbeats_raw. Unexpected end-of-input","recordB64":null,"cause":["x"],"topic":"heartbeats_raw"},"recordProcessingError":null,"productionError":null,"serializationError":null,"kafkaStreamsThreadError":null} (processing.CSAS_HEARTBEATS_7.KsqlTopic.Source.deserializer)',
      "[2026-12-07T13:26:07,555] WARN stream-thread [x] task [0_11] Skipping record due to deserialization error. topic=[heartbeats_raw] (org.apache.kafka.streams.processor.internals.RecordDeserializer)",
      '[2026-12-07T13:26:08,000] ERROR {"type":0,"deserializationError":{"target":"value","errorMessage":"x","recordB64":null,"cause":[],"topic":"other"},"recordProcessingError":null} (processing.CSAS_X_1.KsqlTopic.Source.deserializer)',
      '[2026-12-07T13:26:09,000] ERROR {"type":1,"deserializationError":null,"recordProcessingError":{"errorMessage":"x"}} (processing.CSAS_HEARTBEATS_7.Project)',
    ].join("\n");
    expect(undecodableFromServerLog(log, "heartbeats_raw")).toEqual([{ logger: "processing.CSAS_HEARTBEATS_7.KsqlTopic.Source.deserializer" }]);
  });
});
