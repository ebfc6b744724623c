import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { HEARTBEAT_INTERVAL_SEC, type Heartbeat } from "../contract/topics";
import { asDelivered, heartbeatJson, MALFORMED_KINDS, malformedValue, ON_TIME, toRecords } from "../tools/loadgen/records";
import { createSimulation, mulberry32, nextHeartbeats } from "../tools/loadgen/simulate";

const START = Date.UTC(2026, 10, 22, 12, 0, 0);

function byUser(hbs: readonly Heartbeat[]): Map<string, Heartbeat[]> {
  const m = new Map<string, Heartbeat[]>();
  for (const hb of hbs) m.set(hb.user_id, [...(m.get(hb.user_id) ?? []), hb]);
  return m;
}

describe("viewer simulation", () => {
  it("is deterministic for a seed and differs across seeds", () => {
    const a = nextHeartbeats(createSimulation({ viewers: 50, videos: 20, seed: 7, startTs: START }), 500);
    const b = nextHeartbeats(createSimulation({ viewers: 50, videos: 20, seed: 7, startTs: START }), 500);
    const c = nextHeartbeats(createSimulation({ viewers: 50, videos: 20, seed: 8, startTs: START }), 500);
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
  });

  it("emits heartbeats with the Heartbeat shape: ids, non-negative playhead, event time from the start", () => {
    const hbs = nextHeartbeats(createSimulation({ viewers: 100, videos: 10, seed: 1, startTs: START }), 2_000);
    for (const hb of hbs) {
      expect(Object.keys(hb).sort()).toEqual(["device_id", "event_ts", "position_sec", "user_id", "video_id"]);
      expect(hb.user_id).toMatch(/^u\d{6}$/);
      expect(hb.video_id).toMatch(/^v\d{5}$/);
      expect(hb.position_sec).toBeGreaterThanOrEqual(0);
      expect(hb.event_ts).toBeGreaterThanOrEqual(START);
    }
  });

  it("gives each viewer strictly increasing event time in steps of whole heartbeat intervals", () => {
    const hbs = nextHeartbeats(createSimulation({ viewers: 20, videos: 5, seed: 3, startTs: START }), 20 * 300);
    for (const [user, list] of byUser(hbs)) {
      for (let i = 1; i < list.length; i++) {
        const gap = list[i]!.event_ts - list[i - 1]!.event_ts;
        expect(gap, `${user} heartbeat ${i}`).toBeGreaterThan(0);
        expect(gap % (HEARTBEAT_INTERVAL_SEC * 1000), `${user} heartbeat ${i}`).toBe(0);
      }
    }
  });

  it("produces continuous playback most of the time, plus seeks, pauses, device switches and next videos", () => {
    const hbs = nextHeartbeats(createSimulation({ viewers: 200, videos: 50, seed: 11, startTs: START }), 200 * 400);
    let continuous = 0;
    let seeks = 0;
    let pauses = 0;
    let deviceSwitches = 0;
    let videoChanges = 0;
    for (const list of byUser(hbs).values()) {
      for (let i = 1; i < list.length; i++) {
        const [prev, cur] = [list[i - 1]!, list[i]!];
        const gapIntervals = (cur.event_ts - prev.event_ts) / (HEARTBEAT_INTERVAL_SEC * 1000);
        if (cur.video_id !== prev.video_id) videoChanges++;
        else if (gapIntervals > 1) pauses++;
        else if (cur.position_sec - prev.position_sec === HEARTBEAT_INTERVAL_SEC) continuous++;
        else seeks++;
        if (cur.device_id !== prev.device_id) deviceSwitches++;
      }
    }
    const total = continuous + seeks + pauses + videoChanges;
    expect(continuous / total).toBeGreaterThan(0.9);
    expect(seeks).toBeGreaterThan(0);
    expect(pauses).toBeGreaterThan(0);
    expect(deviceSwitches).toBeGreaterThan(0);
    expect(videoChanges).toBeGreaterThan(0);
  });

  it("resumes a pause at the playhead where it paused", () => {
    const hbs = nextHeartbeats(createSimulation({ viewers: 50, videos: 50, seed: 5, startTs: START }), 50 * 400);
    let checked = 0;
    for (const list of byUser(hbs).values()) {
      for (let i = 1; i < list.length; i++) {
        const [prev, cur] = [list[i - 1]!, list[i]!];
        if (cur.video_id === prev.video_id && cur.event_ts - prev.event_ts > HEARTBEAT_INTERVAL_SEC * 1000) {
          expect(cur.position_sec).toBe(prev.position_sec);
          checked++;
        }
      }
    }
    expect(checked).toBeGreaterThan(0);
  });

  it("simulates only the given viewers (a worker's share), with the full audience's ids", () => {
    const only = [3, 7, 42];
    const hbs = nextHeartbeats(createSimulation({ viewers: 100, videos: 10, seed: 1, startTs: START, viewerIndexes: only }), 300);
    expect(new Set(hbs.map((h) => h.user_id))).toEqual(new Set(["u000003", "u000007", "u000042"]));
    expect(hbs.filter((h) => h.user_id === "u000042")).toHaveLength(100);
    expect(() => createSimulation({ viewers: 10, videos: 1, seed: 1, startTs: START, viewerIndexes: [10] })).toThrow(/viewerIndexes must be integers in 0..9, got 10/);
    expect(() => createSimulation({ viewers: 10, videos: 1, seed: 1, startTs: START, viewerIndexes: [] })).toThrow(/at least one viewer/);
  });

  it("rejects a simulation without viewers", () => {
    expect(() => createSimulation({ viewers: 0, videos: 1, seed: 1, startTs: START })).toThrow(/viewers must be an integer >= 1, got 0/);
  });
});

describe("records", () => {
  const hb: Heartbeat = { user_id: "u000001", video_id: "v00001", position_sec: 42, event_ts: START, device_id: "u000001-d0" };

  it("keys by the session key user_id|video_id and writes the heartbeat, sent at its event time, as its JSON value", () => {
    const [r] = toRecords([hb], 10, 0, Math.random);
    const sent = { ...hb, sent_at: hb.event_ts };
    expect(r).toEqual({ key: "u000001|v00001", value: JSON.stringify(sent), seq: 10, malformed: false });
    expect(JSON.parse(r!.value)).toEqual(sent);
  });

  it("simulates skewed clocks and late delivery per viewer: skew moves event_ts and sent_at, lateness only event_ts", () => {
    const hbs = nextHeartbeats(createSimulation({ viewers: 1_000, videos: 10, seed: 3, startTs: START }), 1_000);
    const delivery = { skewedShare: 0.25, clockSkewMs: -180_000, lateShare: 0.1, lateMs: 90_000 };
    const out = hbs.map((h) => asDelivered(h, delivery));
    const skewed = out.filter((h, i) => h.sent_at === hbs[i]!.event_ts - 180_000);
    const late = out.filter((h) => h.sent_at! - h.event_ts === 90_000);
    expect(skewed.length / out.length).toBeGreaterThan(0.2);
    expect(skewed.length / out.length).toBeLessThan(0.3);
    expect(late.length / out.length).toBeGreaterThan(0.07);
    expect(late.length / out.length).toBeLessThan(0.13);
    expect(out.every((h) => [0, 90_000].includes(h.sent_at! - h.event_ts))).toBe(true);
    // The same viewers every time: a player's clock does not change between its heartbeats.
    expect(hbs.map((h) => asDelivered(h, delivery))).toEqual(out);
    expect(asDelivered(hb, ON_TIME)).toEqual({ ...hb, sent_at: hb.event_ts });
  });

  it("writes exactly the bytes JSON.stringify would, for simulated heartbeats and for any ids", () => {
    for (const h of nextHeartbeats(createSimulation({ viewers: 300, videos: 50, seed: 4, startTs: START }), 3_000)) {
      expect(heartbeatJson(h)).toBe(JSON.stringify(h));
    }
    fc.assert(
      fc.property(
        fc.record(
          { user_id: fc.string(), video_id: fc.string(), position_sec: fc.double(), event_ts: fc.integer(), device_id: fc.string(), sent_at: fc.integer() },
          { requiredKeys: ["user_id", "video_id", "position_sec", "event_ts"] },
        ),
        (h) => {
          expect(heartbeatJson(h)).toBe(JSON.stringify(h));
        },
      ),
      { numRuns: 2_000 },
    );
  });

  it("injects roughly the requested share of malformed records, each of them invalid", () => {
    const hbs = nextHeartbeats(createSimulation({ viewers: 100, videos: 10, seed: 2, startTs: START }), 20_000);
    const records = toRecords(hbs, 0, 0.1, mulberry32(9));
    const bad = records.filter((r) => r.malformed);
    expect(bad.length / records.length).toBeGreaterThan(0.08);
    expect(bad.length / records.length).toBeLessThan(0.12);
    expect(records.map((r) => r.seq)).toEqual(records.map((_, i) => i));
    for (const r of bad) expect(r.value).not.toBe(JSON.stringify(hbs[r.seq]));
  });

  it.each(MALFORMED_KINDS)("malformed kind %s fails the heartbeat contract", (kind) => {
    const v = malformedValue(hb, kind);
    let parsed: Record<string, unknown> | null = null;
    try {
      parsed = JSON.parse(v) as Record<string, unknown>;
    } catch {
      parsed = null;
    }
    const valid =
      parsed !== null &&
      typeof parsed.user_id === "string" &&
      typeof parsed.video_id === "string" &&
      typeof parsed.position_sec === "number" &&
      parsed.position_sec >= 0 &&
      typeof parsed.event_ts === "number";
    expect(valid).toBe(false);
  });
});
