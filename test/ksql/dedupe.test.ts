/**
 * V000006 in the model: a heartbeat's identity within its session is (event_ts, playhead); copies delivered again
 * within the horizon (30 s always, up to 60 s sometimes) count once, the first arrival's time is kept, the piece
 * rules run on the player's clock, and clean input gives what V000004 gave.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { DEFAULT_SESSIONIZATION_PARAMS, PIECE_WINDOW_SEC, secToMs } from "../../contract/sessionization";
import type { WatchSegment } from "../../contract/topics";
import { encodePoint } from "../../ksql/model/encoding";
import { segmentsOfPoints, toWatchSegment } from "../../ksql/model/pieces";
import { compareSegments, pairRule, sessionize } from "../../ksql/model/pipeline";
import type { ValidHeartbeat } from "../../ksql/model/validate";

const P = DEFAULT_SESSIONIZATION_PARAMS;
/** A multiple of 30 s: the boundary between two halves of the hopping windows. */
const W0 = 1_700_000_010_000;
const HOUR = 3_600_000;
const HALF_MS = secToMs(PIECE_WINDOW_SEC);

/** A viewer playing from 0 every 5 s, first heartbeat played at `from`; sent at once, `transitMs` to the broker. */
function playback(opts: { from: number; count: number; skewMs?: number; sentAt?: boolean; transitMs?: number; user?: string }): ValidHeartbeat[] {
  const out: ValidHeartbeat[] = [];
  for (let k = 0; k < opts.count; k++) {
    const played = opts.from + k * 5000;
    const ets = played + (opts.skewMs ?? 0);
    out.push({
      user_id: opts.user ?? "u1",
      video_id: "v1",
      position_sec: k * 5,
      event_ts: ets,
      device_id: null,
      sent_at: opts.sentAt === false ? null : ets,
      rowtime: played + (opts.transitMs ?? 200),
    });
  }
  return out;
}

/** The same body delivered again `delayMs` after the original (an HTTP retry). */
const resent = (h: ValidHeartbeat, delayMs: number): ValidHeartbeat => ({ ...h, rowtime: (h.rowtime ?? h.event_ts) + delayMs });

/** Heartbeats in arrival order (a partition), stable. */
const byArrival = (hbs: readonly ValidHeartbeat[]): ValidHeartbeat[] =>
  hbs
    .map((h, i) => ({ h, i }))
    .sort((a, b) => (a.h.rowtime ?? 0) - (b.h.rowtime ?? 0) || a.i - b.i)
    .map((x) => x.h);

const run = (hbs: readonly ValidHeartbeat[]): WatchSegment[] => sessionize(byArrival(hbs), P);
const count = (segs: readonly WatchSegment[]): number => segs.reduce((n, s) => n + s.heartbeat_count, 0);

describe("a heartbeat delivered twice counts once within the horizon", () => {
  const base = playback({ from: W0 + 1000, count: 40 });
  const clean = run(base);
  it("the clean playback is one segment of 40 heartbeats", () => {
    expect(clean).toHaveLength(1);
    expect(clean[0]).toMatchObject({ heartbeat_count: 40, watched_sec: 195 });
  });
  it.each([
    ["+1 s", 1000],
    ["+29 s", 29_000],
    ["+30 s", 30_000],
  ])("a copy %s later changes nothing, wherever the original lies in its window", (_, delay) => {
    for (let i = 0; i < 12; i++) expect(run([...base, resent(base[i]!, delay)]), `copy of heartbeat ${i}`).toEqual(clean);
  });
  it("a copy crossing a window edge (original at w + 29 s, copy at w + 31 s) changes nothing", () => {
    const v = playback({ from: W0 + 3800, count: 13 });
    expect(v[5]!.rowtime).toBe(W0 + 29_000);
    expect(run([...v, resent(v[5]!, 2000)])).toEqual(run(v));
  });
  it("every copy delayed up to 30 s, for any phase of arrival, counts once", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: HALF_MS - 1 }), fc.integer({ min: 1, max: 30_000 }), fc.integer({ min: 0, max: 19 }), (phase, delay, which) => {
        const v = playback({ from: W0 + phase, count: 20 });
        expect(run([...v, resent(v[which]!, delay)])).toEqual(run(v));
      }),
      { numRuns: 200 },
    );
  });
  it("a copy 31-60 s later is recognised only when both fall in one window", () => {
    // Original in the older half [w, w + 30 s) of window w, copy at most w + 60 s: recognised.
    const v = playback({ from: W0 + 100, count: 20, transitMs: 0 });
    expect(run([...v, resent(v[0]!, 59_000)])).toEqual(run(v));
    // Original at w + 29.9 s, copy 31 s later at w + 60.9 s: the windows holding both do not exist; counted twice.
    const late = playback({ from: W0 + 29_900, count: 20, transitMs: 0 });
    expect(count(run([...late, resent(late[0]!, 31_000)]))).toBe(21);
  });
  it("beyond 60 s a copy is a second heartbeat: counted twice, no watched time added", () => {
    for (const delay of [61_000, 90_000, 300_000]) {
      const segs = run([...base, resent(base[3]!, delay)]);
      expect(count(segs), `delay ${delay}`).toBe(41);
      expect(Math.max(...segs.map((s) => s.end_position_sec)) - Math.min(...segs.map((s) => s.start_position_sec))).toBe(195);
    }
  });
  it("the first arrival's time is kept: the copy's later played_at appears nowhere", () => {
    const segs = run([...base, resent(base[39]!, 20_000)]);
    expect(segs).toEqual(clean);
    expect(segs[0]!.end_ts).toBe(base[39]!.rowtime);
  });
  it("without sent_at (played_at = arrival) a copy still counts once", () => {
    const v = playback({ from: W0 + 1000, count: 20, sentAt: false });
    expect(run([...v, resent(v[7]!, 1500), resent(v[2]!, 25_000)])).toEqual(run(v));
  });
});

describe("any clock skew still counts as a correct clock, copies included", () => {
  const correct = run(playback({ from: W0 + 1000, count: 40 }));
  it.each([-2 * HOUR, -3 * 60_000, 20 * 60_000, 2 * HOUR])("skew %i ms, with sent_at and retries", (skewMs) => {
    const v = playback({ from: W0 + 1000, count: 40, skewMs });
    expect(run([...v, resent(v[4]!, 2000), resent(v[20]!, 28_000)])).toEqual(correct);
  });
  it.each([-2 * HOUR, 2 * HOUR])("skew %i ms, without sent_at: identical to a correct clock without sent_at", (skewMs) => {
    const v = playback({ from: W0 + 1000, count: 40, skewMs, sentAt: false });
    expect(run([...v, resent(v[9]!, 3000)])).toEqual(run(playback({ from: W0 + 1000, count: 40, sentAt: false })));
  });
});

describe("the player's clock gives order and distance; our clock gives the times", () => {
  it("a burst without sent_at keeps its true length, ending at its arrival", () => {
    const v = playback({ from: W0 + 1000, count: 13, sentAt: false }).map((h) => ({ ...h, rowtime: W0 + 181_000 }));
    expect(run(v)).toEqual([
      { user_id: "u1", video_id: "v1", start_position_sec: 0, end_position_sec: 60, start_ts: W0 + 121_000, end_ts: W0 + 181_000, heartbeat_count: 13, watched_sec: 60 },
    ]);
  });
  it("arrival jitter of 0-3 s without sent_at does not split a playback; start <= end in every segment", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 3000 }), { minLength: 60, maxLength: 60 }), (jitter) => {
        const v = playback({ from: W0 + 1000, count: 60, sentAt: false }).map((h, k) => ({ ...h, rowtime: h.event_ts + jitter[k]! }));
        const segs = run(v);
        expect(segs).toHaveLength(1);
        expect(segs[0]).toMatchObject({ heartbeat_count: 60, watched_sec: 295 });
        expect(segs[0]!.end_ts).toBeGreaterThanOrEqual(segs[0]!.start_ts);
      }),
      { numRuns: 100 },
    );
  });
});

describe("clean, on-time, correct-clock input: the same segments as V000004", () => {
  /** V000004's result for such input: the whole sequence of (played_at, playhead) points cut at once, per key. */
  function v4Reference(hbs: readonly ValidHeartbeat[]): WatchSegment[] {
    const byKey = new Map<string, string[]>();
    for (const h of hbs) {
      const k = `${h.user_id}|${h.video_id}`;
      byKey.set(k, [...(byKey.get(k) ?? []), encodePoint({ ts: h.rowtime ?? h.event_ts, posMs: Math.round(h.position_sec * 1000) })]);
    }
    const out: WatchSegment[] = [];
    for (const [k, pts] of byKey) {
      const [u, v] = k.split("|");
      for (const s of segmentsOfPoints(pts, pairRule(P))) out.push(toWatchSegment(u!, v!, s));
    }
    return out.sort(compareSegments);
  }
  const viewing = fc.record({
    user: fc.constantFrom("u1", "u2", "u3"),
    start: fc.integer({ min: 0, max: 200_000 }),
    transit: fc.integer({ min: 0, max: 2000 }),
    steps: fc.array(
      fc.oneof(
        fc.record({ kind: fc.constant("play" as const), dt: fc.integer({ min: 4000, max: 6000 }) }),
        fc.record({ kind: fc.constant("seek" as const), jump: fc.integer({ min: -200_000, max: 200_000 }) }),
        fc.record({ kind: fc.constant("pause" as const), dt: fc.integer({ min: 1000, max: 60_000 }) }),
      ),
      { minLength: 1, maxLength: 40 },
    ),
  });
  it("watched ranges, counts and times equal the whole-sequence cut on played_at", () => {
    fc.assert(
      fc.property(fc.uniqueArray(viewing, { selector: (v) => v.user, minLength: 1, maxLength: 3 }), (viewings) => {
        const hbs: ValidHeartbeat[] = [];
        for (const v of viewings) {
          let t = W0 + v.start;
          let pos = 0;
          const push = (): void => {
            hbs.push({ user_id: v.user, video_id: "v1", position_sec: pos / 1000, event_ts: t, device_id: null, sent_at: t, rowtime: t + v.transit });
          };
          push();
          for (const s of v.steps) {
            if (s.kind === "play") {
              t += s.dt;
              pos += s.dt;
            } else if (s.kind === "seek") {
              t += 5000;
              pos = Math.max(0, pos + s.jump);
            } else t += s.dt;
            push();
          }
        }
        const segs = run(hbs);
        const ref = v4Reference(hbs);
        const ranges = (list: readonly WatchSegment[]) => list.map((s) => [s.user_id, s.start_position_sec, s.end_position_sec, s.watched_sec]);
        expect(ranges(segs)).toEqual(ranges(ref));
        expect(segs).toEqual(ref);
      }),
      { numRuns: 150 },
    );
  });
});
