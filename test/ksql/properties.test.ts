import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { WatchSegment } from "../../contract/topics";
import { DEFAULT_MAX_PLAYBACK_RATE, PIECE_WINDOW_SEC, type SessionizationParams, WINDOW_RETENTION_SEC, secToMs } from "../../contract/sessionization";
import { compareSegments, pairRule, type PieceRecord, SegmentModel, sessionize, sinkPieces, stitchRows } from "../../ksql/model/pipeline";
import { encodePoint } from "../../ksql/model/encoding";
import { segmentsOfPoints, toWatchSegment } from "../../ksql/model/pieces";
import type { ValidHeartbeat } from "../../ksql/model/validate";

const P: SessionizationParams = { sessionGapSec: 30, gracePeriodSec: 60, seekToleranceSec: 10, maxPlaybackRate: DEFAULT_MAX_PLAYBACK_RATE };
const T0 = 1_700_000_000_000;
/** Reorderings the properties allow stay within this lateness: anything ts >= streamTime - grace - gap is accepted. */
const SAFE_LATENESS_MS = secToMs(P.gracePeriodSec);

/** One viewer's playback: steps of ~5 s with occasional seeks, pauses and silences, in event-time order. */
const viewing = fc.record({
  user: fc.constantFrom("u1", "u2", "u3", "u4"),
  video: fc.constantFrom("v1", "v2"),
  start: fc.integer({ min: 0, max: 120_000 }),
  steps: fc.array(
    fc.oneof(
      { weight: 6, arbitrary: fc.record({ kind: fc.constant("play" as const), dt: fc.integer({ min: 4000, max: 6000 }) }) },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant("seek" as const), jump: fc.integer({ min: -300_000, max: 300_000 }) }) },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant("pause" as const), dt: fc.integer({ min: 1000, max: 60_000 }) }) },
      { weight: 2, arbitrary: fc.record({ kind: fc.constant("rate" as const), dt: fc.integer({ min: 4000, max: 6000 }), permille: fc.integer({ min: 500, max: 2000 }) }) },
    ),
    { minLength: 1, maxLength: 25 },
  ),
});

type ViewingSpec = typeof viewing extends fc.Arbitrary<infer T> ? T : never;

function expand(v: ViewingSpec): ValidHeartbeat[] {
  let t = T0 + v.start;
  let pos = 0;
  const out: ValidHeartbeat[] = [{ user_id: v.user, video_id: v.video, position_sec: pos / 1000, event_ts: t, device_id: null }];
  for (const s of v.steps) {
    if (s.kind === "play") {
      t += s.dt;
      pos += s.dt;
    } else if (s.kind === "rate") {
      t += s.dt;
      pos += Math.round((s.dt * s.permille) / 1000);
    } else if (s.kind === "seek") {
      t += 5000;
      pos = Math.max(0, pos + s.jump);
    } else {
      t += s.dt;
    }
    out.push({ user_id: v.user, video_id: v.video, position_sec: pos / 1000, event_ts: t, device_id: null });
  }
  return out;
}

/** Heartbeats of several viewings merged in event-time order (an in-order partition). */
const inOrder = fc.array(viewing, { minLength: 1, maxLength: 6 }).map((vs) => vs.flatMap(expand).sort((a, b) => a.event_ts - b.event_ts));

/** Delays each record's arrival by up to SAFE_LATENESS_MS of event time: a shuffle within the grace window. */
function shuffleWithinGrace(hbs: readonly ValidHeartbeat[], delays: readonly number[]): ValidHeartbeat[] {
  return hbs
    .map((h, i) => ({ h, arrival: h.event_ts + (delays[i % delays.length] % (SAFE_LATENESS_MS + 1)), i }))
    .sort((a, b) => a.arrival - b.arrival || a.i - b.i)
    .map((x) => x.h);
}

function noneLate(hbs: readonly ValidHeartbeat[]): boolean {
  let st = -Infinity;
  for (const h of hbs) {
    if (h.event_ts < st - SAFE_LATENESS_MS) return false;
    st = Math.max(st, h.event_ts);
  }
  return true;
}

const RUNS = { numRuns: 150 };

describe("sessionization model properties", () => {
  it("shuffling arrival within the grace window never changes the output", () => {
    fc.assert(
      fc.property(inOrder, fc.array(fc.nat(), { minLength: 1, maxLength: 50 }), (hbs, delays) => {
        const shuffled = shuffleWithinGrace(hbs, delays);
        expect(noneLate(shuffled)).toBe(true);
        expect(sessionize(shuffled, P)).toEqual(sessionize(hbs, P));
      }),
      RUNS,
    );
  });

  it("duplicating any heartbeat (anywhere later in the input) never changes the output", () => {
    fc.assert(
      fc.property(inOrder, fc.array(fc.tuple(fc.nat(), fc.nat()), { minLength: 1, maxLength: 10 }), (hbs, dups) => {
        const withDups = [...hbs];
        for (const [which, where] of dups) {
          const original = hbs[which % hbs.length]!;
          // After the original's current place: earlier copies shift it right, so its index in hbs is not enough (a
          // copy of a late record landing before an earlier one would jump stream time and drop that one as late).
          const from = withDups.indexOf(original) + 1;
          withDups.splice(from + (where % (withDups.length - from + 1)), 0, { ...original, device_id: "dup" });
        }
        expect(sessionize(withDups, P)).toEqual(sessionize(hbs, P));
      }),
      RUNS,
    );
  });

  it("splitting users across partitions never changes the output", () => {
    fc.assert(
      fc.property(inOrder, fc.array(fc.nat(), { minLength: 1, maxLength: 50 }), fc.integer({ min: 2, max: 4 }), (hbs, delays, n) => {
        const shuffled = shuffleWithinGrace(hbs, delays);
        const partition = (h: ValidHeartbeat): number => (h.user_id.charCodeAt(1) + h.video_id.charCodeAt(1)) % n;
        const split: WatchSegment[] = [];
        for (let p = 0; p < n; p++) split.push(...sessionize(shuffled.filter((h) => partition(h) === p), P));
        expect(split.sort(compareSegments)).toEqual(sessionize(shuffled, P));
      }),
      RUNS,
    );
  });

  it("invariants: segments of one user+video are disjoint in event time, every heartbeat is in exactly one, drift within tolerance", () => {
    fc.assert(
      fc.property(inOrder, (hbs) => {
        const segs = sessionize(hbs, P);
        const distinct = new Set(hbs.map((h) => `${h.user_id}|${h.video_id}|${h.event_ts}|${Math.round(h.position_sec * 1000)}`));
        expect(segs.reduce((n, s) => n + s.heartbeat_count, 0)).toBe(distinct.size);
        const byKey = new Map<string, WatchSegment[]>();
        for (const s of segs) byKey.set(`${s.user_id}|${s.video_id}`, [...(byKey.get(`${s.user_id}|${s.video_id}`) ?? []), s]);
        for (const list of byKey.values()) {
          for (let i = 1; i < list.length; i++) expect(list[i].start_ts).toBeGreaterThanOrEqual(list[i - 1].end_ts);
        }
        for (const s of segs) {
          expect(s.end_ts).toBeGreaterThanOrEqual(s.start_ts);
          expect(s.watched_sec).toBe((Math.round(s.end_position_sec * 1000) - Math.round(s.start_position_sec * 1000)) / 1000);
          expect(s.watched_sec).toBeGreaterThanOrEqual(0);
        }
      }),
      RUNS,
    );
  });

  it("stitching the 30 s windows' pieces gives exactly what cutting each key's whole point sequence at once gives", () => {
    fc.assert(
      fc.property(inOrder, (hbs) => {
        const byKey = new Map<string, string[]>();
        for (const h of hbs) {
          const k = `${h.user_id}|${h.video_id}`;
          byKey.set(k, [...(byKey.get(k) ?? []), encodePoint({ ts: h.event_ts, posMs: Math.round(h.position_sec * 1000) })]);
        }
        const direct: WatchSegment[] = [];
        for (const [k, pts] of byKey) {
          const [u, v] = k.split("|");
          for (const seg of segmentsOfPoints(pts, pairRule(P))) direct.push(toWatchSegment(u, v, seg));
        }
        expect(sessionize(hbs, P)).toEqual(direct.sort(compareSegments));
      }),
      RUNS,
    );
  });

  it("playback at any rate from 0.5x to 2x, heartbeats every 4-6 s, is one segment covering the range played", () => {
    fc.assert(
      fc.property(fc.integer({ min: 500, max: 2000 }), fc.array(fc.integer({ min: 4000, max: 6000 }), { minLength: 1, maxLength: 400 }), (permille, dts) => {
        let t = T0;
        let pos = 0;
        const hbs: ValidHeartbeat[] = [{ user_id: "u", video_id: "v", position_sec: 0, event_ts: t, device_id: null }];
        for (const dt of dts) {
          t += dt;
          pos += Math.round((dt * permille) / 1000);
          hbs.push({ user_id: "u", video_id: "v", position_sec: pos / 1000, event_ts: t, device_id: null });
        }
        const segs = sessionize(hbs, P);
        expect(segs).toHaveLength(1);
        expect(segs[0]).toMatchObject({ start_position_sec: 0, end_position_sec: pos / 1000, heartbeat_count: hbs.length, start_ts: T0, end_ts: t });
      }),
      RUNS,
    );
  });
});

describe("long sessions and bounded state", () => {
  it("a 24-hour live stream with 5 s heartbeats is one segment; the model never holds more than two open windows", () => {
    const m = new SegmentModel(P);
    const recs: PieceRecord[] = [];
    let maxOpen = 0;
    for (let k = 0; k <= (24 * 3600) / 5; k++) {
      recs.push(...m.push({ user_id: "u", video_id: "live", position_sec: k * 5, event_ts: T0 + k * 5000, device_id: null }));
      maxOpen = Math.max(maxOpen, m.openWindows);
    }
    recs.push(...m.closeAll());
    expect(maxOpen).toBeLessThanOrEqual(Math.ceil((secToMs(P.gracePeriodSec) + secToMs(PIECE_WINDOW_SEC)) / secToMs(PIECE_WINDOW_SEC)) + 1);
    expect(stitchRows(sinkPieces(recs))).toEqual([
      { user_id: "u", video_id: "live", start_position_sec: 0, end_position_sec: 86_400, start_ts: T0, end_ts: T0 + 86_400_000, heartbeat_count: 17_281, watched_sec: 86_400 },
    ]);
    expect(m.lostWindows).toBe(0);
  });

  it("a stream-time jump beyond RETENTION - window - grace hides the windows not yet emitted; a shorter one does not", () => {
    const run = (jumpMs: number): number => {
      const m = new SegmentModel(P);
      for (let k = 0; k < 12; k++) m.push({ user_id: "u", video_id: "v", position_sec: k * 5, event_ts: T0 + k * 5000, device_id: null });
      m.push({ user_id: "__tick__", video_id: "p0-0", position_sec: 0, event_ts: T0 + 55_000 + jumpMs, device_id: null });
      return m.lostWindows;
    };
    expect(run(secToMs(WINDOW_RETENTION_SEC) - 200_000)).toBe(0);
    expect(run(secToMs(WINDOW_RETENTION_SEC) + 60_000)).toBeGreaterThan(0);
  });
});
