import { describe, expect, it } from "vitest";
import { scheduleScenario, sendTime, sentHeartbeatJson, usersOf, type ScenarioPlayers } from "./real/e2e/players";

const T0 = 1_765_000_000_000;
const MIN = 60_000;

function scenario(populations: ScenarioPlayers["populations"], durationMs = 4 * MIN): ScenarioPlayers {
  return { scenario: "e2e-t", startMs: T0, durationMs, populations, seed: 7, videos: 50 };
}

type Sent = { user_id: string; video_id: string; event_ts: number; sent_at: number };
const parse = (v: string): Sent => JSON.parse(v) as Sent;

describe("end-to-end players: device clocks and delivery", () => {
  it("a skewed clock shifts event_ts and sent_at by the skew; the record is sent at true time, keyed user_id|video_id", () => {
    const sends = scheduleScenario(scenario([{ name: "slow", viewers: 3, skewMs: -3 * MIN, delivery: { kind: "live" } }]));
    expect(sends.length).toBeGreaterThan(3 * 40);
    for (const s of sends) {
      const hb = parse(s.value);
      expect(s.key).toBe(`${hb.user_id}|${hb.video_id}`);
      expect(hb.user_id).toMatch(/^e2e-t-slow-u\d{6}$/);
      expect(hb.sent_at).toBe(s.atMs - 3 * MIN);
      expect(hb.event_ts).toBe(hb.sent_at);
      expect(s.atMs).toBeGreaterThanOrEqual(T0);
      expect(s.atMs).toBeLessThan(T0 + 4 * MIN);
    }
    expect(sends.map((s) => s.atMs)).toEqual([...sends.map((s) => s.atMs)].sort((a, b) => a - b));
  });

  it("offline players send what they played in the window at once when it ends; delayed players send everything late", () => {
    expect(sendTime({ kind: "offline", fromMs: 0, toMs: 3 * MIN }, T0 + MIN, T0)).toBe(T0 + 3 * MIN);
    expect(sendTime({ kind: "offline", fromMs: 0, toMs: 3 * MIN }, T0 + 3 * MIN, T0)).toBe(T0 + 3 * MIN);
    expect(sendTime({ kind: "delayed", delayMs: 90_000 }, T0 + MIN, T0)).toBe(T0 + MIN + 90_000);
    const burst = scheduleScenario(scenario([{ name: "burst", viewers: 2, skewMs: 0, delivery: { kind: "offline", fromMs: 0, toMs: 3 * MIN } }]));
    const atBurst = burst.filter((s) => s.atMs === T0 + 3 * MIN);
    expect(atBurst.length).toBeGreaterThan(2 * 30);
    for (const s of atBurst) expect(parse(s.value).sent_at - parse(s.value).event_ts).toBeGreaterThanOrEqual(0);
    const late = scheduleScenario(scenario([{ name: "late", viewers: 2, skewMs: 0, delivery: { kind: "delayed", delayMs: 90_000 } }]));
    for (const s of late) expect(s.atMs - parse(s.value).event_ts).toBe(90_000);
  });

  it("resends repeat the same body 1-3 s later; malformed records keep their viewer's key", () => {
    const sends = scheduleScenario(scenario([{ name: "r", viewers: 4, skewMs: 0, delivery: { kind: "live" }, resendShare: 0.5 }]));
    const byValue = new Map<string, number[]>();
    for (const s of sends) byValue.set(s.value, [...(byValue.get(s.value) ?? []), s.atMs]);
    const twice = [...byValue.values()].filter((a) => a.length === 2);
    expect(twice.length).toBeGreaterThan(20);
    for (const [a, b] of twice) expect(b! - a!).toBeGreaterThanOrEqual(1_000);
    const bad = scheduleScenario(scenario([{ name: "bad", viewers: 4, skewMs: 0, delivery: { kind: "live" }, malformedShare: 1 }]));
    expect(bad.every((s) => s.key.startsWith("e2e-t-bad-u"))).toBe(true);
    expect(bad.filter((s) => { try { return parse(s.value).user_id !== undefined && parse(s.value).event_ts !== undefined; } catch { return false; } }).length).toBeLessThan(bad.length);
  });

  it("the JSON is the contract's heartbeat plus sent_at, and the users are named by scenario and population", () => {
    expect(sentHeartbeatJson({ user_id: "u", video_id: "v", position_sec: 5, event_ts: 10, device_id: "d", sent_at: 12 })).toBe('{"user_id":"u","video_id":"v","position_sec":5,"event_ts":10,"device_id":"d","sent_at":12}');
    expect(usersOf(scenario([{ name: "x", viewers: 2, skewMs: 0, delivery: { kind: "live" } }]))).toEqual(["e2e-t-x-u000000", "e2e-t-x-u000001"]);
  });
});
