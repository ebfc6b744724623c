/**
 * Deterministic watch-segment fixtures and the report results they must produce, computed here in plain
 * TypeScript (not SQL) so the database views are checked against an independent implementation.
 */
import { HEARTBEAT_INTERVAL_SEC, WatchSegment } from "../../../contract/topics";
import { mulberry32 } from "../../../tools/loadgen/simulate";

/** Seeded PRNG (the load generator's mulberry32): fixtures are identical on every run and machine. */
export const prng = mulberry32;

const INTERVAL_MS = HEARTBEAT_INTERVAL_SEC * 1000;

/** The k-th version (1-based heartbeat count) of a segment that grows by one heartbeat every interval. */
export function segmentVersion(final: WatchSegment, k: number): WatchSegment {
  const step = (final.end_position_sec - final.start_position_sec) / Math.max(1, final.heartbeat_count - 1);
  const endPos = k === final.heartbeat_count ? final.end_position_sec : final.start_position_sec + step * (k - 1);
  return {
    ...final,
    heartbeat_count: k,
    end_ts: k === final.heartbeat_count ? final.end_ts : final.start_ts + (k - 1) * INTERVAL_MS,
    end_position_sec: endPos,
    watched_sec: endPos - final.start_position_sec,
  };
}

/** Every version of a segment, oldest first; the last one equals `final`. */
export function allVersions(final: WatchSegment): WatchSegment[] {
  return Array.from({ length: final.heartbeat_count }, (_, i) => segmentVersion(final, i + 1));
}

/** 2026-11-20T00:00:00Z: fixtures span three UTC days from here. */
export const FIXTURE_DAY0_MS = Date.UTC(2026, 10, 20);

/**
 * Segments for `users` users over `videos` videos across three UTC days. Positions are multiples of 0.25 s so
 * sums are exact in binary floating point. Includes segments that start seconds before UTC midnight and end after
 * it (they count on the day they start) and users re-watching a video the same day (one viewer, two segments).
 */
export function fixtureSegments(seed = 42, users = 12, videos = 5): WatchSegment[] {
  const rnd = prng(seed);
  const out: WatchSegment[] = [];
  for (let u = 0; u < users; u++) {
    for (let v = 0; v < videos; v++) {
      if (rnd() < 0.3) continue; // not every user watches every video
      let t = FIXTURE_DAY0_MS + Math.floor(rnd() * 20) * 3_600_000 + Math.floor(rnd() * 3600) * 1000;
      let pos = Math.floor(rnd() * 40) * 0.25;
      const segments = 1 + Math.floor(rnd() * 4);
      for (let s = 0; s < segments; s++) {
        const count = 1 + Math.floor(rnd() * 30);
        const endPos = pos + (count - 1) * HEARTBEAT_INTERVAL_SEC + Math.floor(rnd() * 4) * 0.25;
        out.push(seg(`user-${u}`, `video-${v}`, t, t + (count - 1) * INTERVAL_MS, pos, endPos, count));
        pos = endPos + Math.floor(rnd() * 8) * 0.25; // a small seek forward between segments
        t += (count - 1) * INTERVAL_MS + (10 + Math.floor(rnd() * 30_000)) * 1000; // gaps up to ~8 h
      }
    }
  }
  // Crosses UTC midnight day0 -> day1: counts on day0 (and in hour 23).
  out.push(seg("user-midnight", "video-0", FIXTURE_DAY0_MS + 86_400_000 - 1_500, FIXTURE_DAY0_MS + 86_400_000 + 8_500, 100, 110, 3));
  // Starts exactly at UTC midnight day1 -> day1, hour 00.
  out.push(seg("user-midnight", "video-1", FIXTURE_DAY0_MS + 86_400_000, FIXTURE_DAY0_MS + 86_400_000 + 5_000, 0, 5, 2));
  // The same user watches video-0 again on day1 after the midnight segment.
  out.push(seg("user-midnight", "video-0", FIXTURE_DAY0_MS + 86_400_000 + 600_000, FIXTURE_DAY0_MS + 86_400_000 + 610_000, 110, 120.5, 3));
  // A small step back within the seek tolerance: a legal segment with end < start and negative watched_sec, which
  // the daily view counts as 0 s watched.
  out.push(seg("user-drift", "video-2", FIXTURE_DAY0_MS + 30_000_000, FIXTURE_DAY0_MS + 30_005_000, 100, 95.5, 2));
  return out;
}

function seg(user: string, video: string, start: number, end: number, sp: number, ep: number, count: number): WatchSegment {
  return {
    user_id: user, video_id: video, start_ts: start, end_ts: end, start_position_sec: sp, end_position_sec: ep,
    heartbeat_count: count, watched_sec: ep - sp,
  };
}

export const segmentKey = (s: Pick<WatchSegment, "user_id" | "video_id" | "start_ts">): string =>
  `${s.user_id}\u0000${s.video_id}\u0000${s.start_ts}`;

export interface ResumeRow { user_id: string; video_id: string; resume_position_sec: number; last_watched_at_ms: number }
export interface DailyRow { day_utc: string; video_id: string; watched_sec: number; viewers: number; segments: number }
export interface HourlyRow { video_id: string; hour_utc: string; segments: number; viewers: number }

/** Latest segment (by start) per user and video -> its end position. */
export function expectedResume(segs: readonly WatchSegment[]): ResumeRow[] {
  const best = new Map<string, WatchSegment>();
  for (const s of segs) {
    const k = `${s.user_id}\u0000${s.video_id}`;
    const cur = best.get(k);
    if (cur === undefined || s.start_ts > cur.start_ts) best.set(k, s);
  }
  return [...best.values()]
    .map((s) => ({ user_id: s.user_id, video_id: s.video_id, resume_position_sec: s.end_position_sec, last_watched_at_ms: s.end_ts }))
    .sort((a, b) => (a.user_id + a.video_id < b.user_id + b.video_id ? -1 : 1));
}

const utcDay = (ms: number): string => new Date(ms).toISOString().slice(0, 10);
const utcHour = (ms: number): string => `${new Date(ms).toISOString().slice(0, 13)}:00Z`;

function groupBy<R>(segs: readonly WatchSegment[], keyOf: (s: WatchSegment) => [string, string], make: (a: string, b: string, g: WatchSegment[]) => R): R[] {
  const groups = new Map<string, { a: string; b: string; g: WatchSegment[] }>();
  for (const s of segs) {
    const [a, b] = keyOf(s);
    const k = `${a}\u0000${b}`;
    const e = groups.get(k) ?? { a, b, g: [] };
    e.g.push(s);
    groups.set(k, e);
  }
  return [...groups.values()].map(({ a, b, g }) => make(a, b, g));
}

/** Per UTC start day and video: watched seconds (negative counts as 0), distinct users, segments. */
export function expectedDaily(segs: readonly WatchSegment[]): DailyRow[] {
  return groupBy(segs, (s) => [utcDay(s.start_ts), s.video_id], (day, video, g) => ({
    day_utc: day, video_id: video, watched_sec: g.reduce((t, s) => t + Math.max(0, s.watched_sec), 0),
    viewers: new Set(g.map((s) => s.user_id)).size, segments: g.length,
  }));
}

/** Per video and UTC start hour: segments and distinct users. */
export function expectedHourly(segs: readonly WatchSegment[]): HourlyRow[] {
  return groupBy(segs, (s) => [s.video_id, utcHour(s.start_ts)], (video, hour, g) => ({
    video_id: video, hour_utc: hour, segments: g.length, viewers: new Set(g.map((s) => s.user_id)).size,
  }));
}
