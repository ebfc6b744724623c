/**
 * V000004 in the model and the CLI: windows on arrival time (rowtime), played_at corrected with sent_at, the `late:`,
 * `sent_at:` and `key:` rejects. Each case compares against the same playback delivered by a correct, on-time player.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { parseSessionizeInput } from "../../ksql/model/input";
import { sessionize } from "../../ksql/model/pipeline";
import { MAX_LATENESS_SEC } from "../../contract/sessionization";
import type { WatchSegment } from "../../contract/topics";

const T0 = 1_700_000_000_000;
const MIN = 60_000;
const HOUR = 60 * MIN;
/** Transit from the player to the broker. */
const TRANSIT_MS = 180;

interface In {
  user_id: string;
  video_id: string;
  position_sec: number;
  event_ts: number;
  rowtime?: number;
  sent_at?: number | null;
  key?: string | null;
}

/**
 * A viewer playing from position 0 every 5 s for `durationSec`, true play time T0 + i·5 s. `skewMs` is the player
 * clock's error (event_ts and sent_at carry it); `deliver(playedAt)` gives the true send time.
 */
function playback(opts: { user?: string; durationSec: number; skewMs?: number; sentAt?: boolean; deliver?: (played: number) => number; startSec?: number }): In[] {
  const out: In[] = [];
  const skew = opts.skewMs ?? 0;
  for (let s = opts.startSec ?? 0; s <= (opts.startSec ?? 0) + opts.durationSec; s += 5) {
    const played = T0 + s * 1000;
    const sent = opts.deliver?.(played) ?? played;
    const hb: In = { user_id: opts.user ?? "u1", video_id: "v1", position_sec: s, event_ts: played + skew, rowtime: sent + TRANSIT_MS };
    if (opts.sentAt !== false) hb.sent_at = sent + skew;
    out.push(hb);
  }
  return out;
}

function run(heartbeats: readonly In[]): { segments: WatchSegment[]; rejected: { index: number; reason: string }[] } {
  const input = parseSessionizeInput(JSON.stringify({ heartbeats }));
  return { segments: sessionize(input.heartbeats, input.params), rejected: [...input.rejected] };
}

const correct = run(playback({ durationSec: 600 }));

describe("device clocks: any skew counts the same as a correct clock", () => {
  it("a correct, on-time player gives one segment of 600 s at its true times plus transit", () => {
    expect(correct.rejected).toEqual([]);
    expect(correct.segments).toEqual([
      { user_id: "u1", video_id: "v1", start_position_sec: 0, end_position_sec: 600, start_ts: T0 + TRANSIT_MS, end_ts: T0 + 600_000 + TRANSIT_MS, heartbeat_count: 121, watched_sec: 600 },
    ]);
  });
  it.each([
    ["-2 h", -2 * HOUR],
    ["-3 min (slow)", -3 * MIN],
    ["+20 min (fast)", 20 * MIN],
    ["+2 h", 2 * HOUR],
    ["+3 days", 3 * 24 * HOUR],
  ])("clock %s, with sent_at: segments identical to the correct clock's", (_, skewMs) => {
    expect(run(playback({ durationSec: 600, skewMs }))).toEqual(correct);
  });
  it.each([-2 * HOUR, 2 * HOUR])("clock %i ms off, without sent_at: identical too (played_at = arrival)", (skewMs) => {
    expect(run(playback({ durationSec: 600, skewMs, sentAt: false }))).toEqual(run(playback({ durationSec: 600, sentAt: false })));
  });
  it("a skewed player beside correct ones on the same partition changes nothing for either", () => {
    const both = [...playback({ durationSec: 600 }), ...playback({ user: "u2", durationSec: 600, skewMs: -3 * MIN })].sort((a, b) => (a.rowtime ?? 0) - (b.rowtime ?? 0));
    const r = run(both);
    expect(r.segments).toHaveLength(2);
    expect(r.segments[0]).toEqual(correct.segments[0]);
    expect({ ...r.segments[1], user_id: "u1" }).toEqual(correct.segments[0]);
  });
});

describe("late delivery counts up to 1 h after play", () => {
  it("an offline burst delivered 3 min late counts as one segment with its true times", () => {
    // Played 0..120 s while offline; everything queued is sent at once at 180 s, then playback continues on time.
    const deliver = (played: number) => (played <= T0 + 120_000 ? T0 + 180_000 : played);
    const r = run(playback({ durationSec: 600, deliver }));
    expect(r.rejected).toEqual([]);
    expect(r.segments).toEqual(correct.segments);
  });
  it("a burst alone (nothing on time after it) counts the same as on time", () => {
    const r = run(playback({ durationSec: 120, deliver: () => T0 + 300_000 }));
    expect(r.segments).toEqual(run(playback({ durationSec: 120 })).segments);
  });
  it("every heartbeat 90 s late (mobile retries) counts the same as on time", () => {
    expect(run(playback({ durationSec: 600, deliver: (p) => p + 90_000 }))).toEqual(correct);
  });
  it("59 min late counts; 61 min late is rejected with reason late:", () => {
    const at59 = run(playback({ durationSec: 60, deliver: (p) => p + 59 * MIN }));
    expect(at59.rejected).toEqual([]);
    expect(at59.segments).toEqual(run(playback({ durationSec: 60 })).segments);
    const at61 = run(playback({ durationSec: 60, deliver: (p) => p + 61 * MIN }));
    expect(at61.segments).toEqual([]);
    expect(at61.rejected).toHaveLength(13);
    expect(at61.rejected[0]).toMatchObject({ index: 0, reason: `late: expected sent at most ${MAX_LATENESS_SEC} s after it was played` });
  });
  it("exactly 1 h late still counts (the rule is sent_at > event_ts + 1 h)", () => {
    const r = run(playback({ durationSec: 10, deliver: (p) => p + HOUR }));
    expect(r.rejected).toEqual([]);
    expect(r.segments).toHaveLength(1);
  });
});

describe("duplicates and rejects", () => {
  it("exact duplicates (the same record twice) change nothing", () => {
    const hbs = playback({ durationSec: 600 });
    expect(run([...hbs, ...hbs])).toEqual(correct);
  });
  it("a heartbeat delivered again later (a retry) adds no watched time", () => {
    const hbs = playback({ durationSec: 600 });
    const retry = { ...hbs[40]!, rowtime: (hbs[40]!.rowtime ?? 0) + 2_000, sent_at: (hbs[40]!.sent_at ?? 0) + 2_000 };
    const r = run([...hbs, retry]);
    expect(r.segments.reduce((n, s) => n + s.watched_sec, 0)).toBe(600);
  });
  it("rejects sent_at before event_ts, a negative or too large sent_at, and a wrong or missing key; counts the rest", () => {
    const base = playback({ durationSec: 20 });
    const bad: In[] = [
      { ...base[0]!, sent_at: base[0]!.event_ts - 1 },
      { ...base[1]!, sent_at: -1 },
      { ...base[2]!, sent_at: 10_000_000_000_000 },
      { ...base[3]!, key: "u1|other" },
      { ...base[4]!, key: null },
    ];
    const r = run(bad);
    expect(r.rejected.map((x) => x.reason)).toEqual([
      "sent_at: expected epoch ms >= event_ts (sent after it was played)",
      "sent_at: expected epoch ms >= 0",
      "sent_at: expected epoch ms <= 9999999999999",
      "key: expected the record key to be user_id|video_id",
      "key: expected a record key (user_id|video_id)",
    ]);
    expect(r.segments).toEqual([]);
  });
  it("without a key in the input, the key is user_id|video_id (every producer we ship sets it)", () => {
    const r = run([{ user_id: "u", video_id: "v", position_sec: 1, event_ts: T0 }]);
    expect(r.rejected).toEqual([]);
    expect(r.segments).toHaveLength(1);
  });
});

describe("the CLI prints segments and rejects", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "sessionize-arrival-"));
  it("a late heartbeat is listed in rejected with its index and reason; the rest are segments", () => {
    const hbs = [...playback({ durationSec: 10 }), { user_id: "u1", video_id: "v1", position_sec: 99, event_ts: T0, sent_at: T0 + 2 * HOUR, rowtime: T0 + 2 * HOUR }];
    const file = path.join(dir, "late.json");
    writeFileSync(file, JSON.stringify({ heartbeats: hbs }));
    const r = spawnSync(process.execPath, [require.resolve("tsx/cli"), path.join(__dirname, "../../tools/sessionize.ts"), file], { encoding: "utf8" });
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.segments).toHaveLength(1);
    expect(out.segments[0]).toMatchObject({ heartbeat_count: 3, watched_sec: 10 });
    expect(out.rejected).toEqual([
      { index: 3, user_id: "u1", video_id: "v1", position_sec: 99, event_ts: T0, device_id: null, sent_at: T0 + 2 * HOUR, rowtime: T0 + 2 * HOUR, key: "u1|v1", reason: "late: expected sent at most 3600 s after it was played" },
    ]);
  });
});
