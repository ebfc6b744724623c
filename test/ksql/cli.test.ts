import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { InputError, parseSessionizeInput } from "../../ksql/model/input";
import { sessionize } from "../../ksql/model/pipeline";

const dir = mkdtempSync(path.join(tmpdir(), "sessionize-"));
const T0 = 1_700_000_000_000;

function run(content: string, args?: string[]): { code: number | null; stdout: string; stderr: string } {
  const file = path.join(dir, `in-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(file, content);
  const r = spawnSync(process.execPath, [require.resolve("tsx/cli"), path.join(__dirname, "../../tools/sessionize.ts"), ...(args ?? [file])], {
    encoding: "utf8",
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const hb = (u: string, v: string, t: number, p: number): object => ({ user_id: u, video_id: v, position_sec: p, event_ts: T0 + t });

describe("tools/sessionize.ts", () => {
  it("prints exactly {segments} sorted by user_id, video_id, start_ts, closing open sessions at end of input", () => {
    const r = run(JSON.stringify({ heartbeats: [hb("u2", "v1", 0, 0), hb("u1", "v1", 0, 50), hb("u1", "v1", 5000, 55), hb("u2", "v1", 5000, 5)] }));
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(Object.keys(out)).toEqual(["segments", "rejected"]);
    expect(out.rejected).toEqual([]);
    expect(out.segments.map((s: { user_id: string; heartbeat_count: number }) => [s.user_id, s.heartbeat_count])).toEqual([["u1", 2], ["u2", 2]]);
    expect(out.segments[0]).toEqual({
      user_id: "u1", video_id: "v1", start_position_sec: 50, end_position_sec: 55,
      start_ts: T0, end_ts: T0 + 5000, heartbeat_count: 2, watched_sec: 5,
    });
  });

  it("takes config overrides: a 3 s tolerance splits a 14 s step in 5 s (2x + 4 s) that the default 10 s keeps", () => {
    const hbs = [hb("u", "v", 0, 0), hb("u", "v", 5000, 14)];
    const defaults = parseSessionizeInput(JSON.stringify({ heartbeats: hbs }));
    const tight = parseSessionizeInput(JSON.stringify({ config: { seekToleranceSec: 3 }, heartbeats: hbs }));
    expect(sessionize(defaults.heartbeats, defaults.params)).toHaveLength(1);
    expect(sessionize(tight.heartbeats, tight.params)).toHaveLength(2);
  });

  it.each([
    ["not json", "heartbeats"],
    [JSON.stringify({ heartbeats: [hb("u", "v", 0, 1), { user_id: "u", video_id: "v", position_sec: -4, event_ts: 1 }] }), "heartbeats[1].position_sec: expected a number >= 0, got -4"],
    [JSON.stringify({ heartbeats: [{ video_id: "v", position_sec: 1, event_ts: 1 }] }), "heartbeats[0].user_id: expected a string, got nothing (field missing)"],
    [JSON.stringify({ heartbeats: [{ user_id: "u", video_id: "v", position_sec: "3", event_ts: 1 }] }), "heartbeats[0].position_sec: expected a number >= 0, got \"3\""],
    [JSON.stringify({ heartbeats: [{ user_id: "u", video_id: "v", position_sec: 3, event_ts: 1.5 }] }), "heartbeats[0].event_ts: expected an integer (epoch ms), got 1.5"],
    [JSON.stringify({ heartbeats: [{ user_id: "a|b", video_id: "v", position_sec: 3, event_ts: 1 }] }), "heartbeats[0].user_id: expected no '|' character"],
    [JSON.stringify({ config: { sessionGapSec: -1 }, heartbeats: [] }), "config.sessionGapSec: expected a number of seconds >= 0.001, got -1"],
    [JSON.stringify({ config: { gracePeriodSec: "60" }, heartbeats: [] }), "config.gracePeriodSec"],
    [JSON.stringify({ heartbeats: {} }), "heartbeats: expected an array"],
  ])("rejects bad input naming the problem (%#)", (content, message) => {
    expect(() => parseSessionizeInput(content)).toThrow(InputError);
    expect(() => parseSessionizeInput(content)).toThrow(message);
  });

  it("exits 2 with the message on stderr and nothing on stdout for invalid input", () => {
    const r = run(JSON.stringify({ heartbeats: [hb("u", "v", 0, 1), { user_id: "u", video_id: "v", position_sec: -4, event_ts: 1 }] }));
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain("heartbeats[1].position_sec: expected a number >= 0, got -4");
  });

  it("--help prints usage and exits 0; a missing file exits 2", () => {
    const h = run("", ["--help"]);
    expect(h.code).toBe(0);
    expect(h.stdout).toContain("usage: npm run --silent sessionize");
    const m = run("", [path.join(dir, "does-not-exist.json")]);
    expect(m.code).toBe(2);
    expect(m.stderr).toContain("cannot read");
  });
});

describe("parseSessionizeInput", () => {
  it("applies defaults, keeps device_id, warns on unknown config keys", () => {
    const r = parseSessionizeInput(JSON.stringify({ config: { sessionGapSec: 45, foo: 1 }, heartbeats: [{ ...hb("u", "v", 0, 0), device_id: "tv" }] }));
    expect(r.params).toEqual({ sessionGapSec: 45, gracePeriodSec: 60, seekToleranceSec: 10, maxPlaybackRate: 2 });
    expect(r.heartbeats[0].device_id).toBe("tv");
    expect(r.warnings[0]).toContain("config.foo");
  });
  it("takes event_ts far ahead of rowtime (a fast clock) as valid: no rule compares the two any more", () => {
    const r = parseSessionizeInput(JSON.stringify({ heartbeats: [{ ...hb("u", "v", 3_600_000, 0), rowtime: T0 }] }));
    expect(r.heartbeats).toHaveLength(1);
    expect(r.rejected).toEqual([]);
  });
  it.each([
    [{ rowtime: -1 }, "heartbeats[0].rowtime: expected an integer >= 0"],
    [{ rowtime: 1.5 }, "heartbeats[0].rowtime: expected an integer >= 0"],
    [{ sent_at: "1" }, "heartbeats[0].sent_at: expected an integer"],
    [{ sent_at: 2.5 }, "heartbeats[0].sent_at: expected an integer"],
    [{ key: 7 }, "heartbeats[0].key: expected a string"],
  ])("refuses a mistyped %o naming the field", (extra, message) => {
    expect(() => parseSessionizeInput(JSON.stringify({ heartbeats: [{ ...hb("u", "v", 0, 0), ...extra }] }))).toThrow(message);
  });
  it("sorts heartbeats by rowtime, keeping input order for equal rowtimes (one partition consumes in arrival order)", () => {
    const r = parseSessionizeInput(
      JSON.stringify({ heartbeats: [{ ...hb("u", "v", 0, 10), rowtime: T0 + 9 }, { ...hb("u", "v", 0, 1), rowtime: T0 + 5 }, { ...hb("u", "v", 0, 2), rowtime: T0 + 5 }] }),
    );
    expect(r.heartbeats.map((h) => h.position_sec)).toEqual([1, 2, 10]);
  });
});
