/**
 * What the reference model says a scenario's viewers must end up with, through the model's command-line contract
 * (`npm run --silent sessionize -- <file>`): the heartbeats exactly as they reached Kafka (value, and the record
 * timestamp as `rowtime`), in arrival order; and the diff against the database's watch_segments_v2 rows.
 */
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { Client } from "pg";
import type { WatchSegment } from "../../../contract/topics";
import type { RawRecord } from "../../../tools/conservation/accounting";
import { clientConfig, type Connection } from "../../../tools/report";
import { rowToSegment, SEGMENTS_QUERY, type SegmentRow } from "../../../tools/smoke/db";
import { diffSegments, type SegmentDiff } from "../../../tools/smoke/diff";
import { REPO_ROOT } from "../kafka/paths";

const TSX = join(REPO_ROOT, "node_modules", ".bin", "tsx");

/** A raw value the model takes as a heartbeat (well-formed; malformed ones are the validation's business). */
function wellFormed(o: Record<string, unknown>): boolean {
  return typeof o.user_id === "string" && typeof o.video_id === "string" && typeof o.position_sec === "number" && o.position_sec >= 0
    && typeof o.event_ts === "number" && Number.isSafeInteger(o.event_ts) && o.event_ts >= 0;
}

/** The model's segments for `users`, from the raw records as read back (timestamp = arrival). */
export function modelSegments(raw: readonly RawRecord[], users: ReadonlySet<string>, dir: string, name: string): WatchSegment[] {
  const heartbeats = raw
    .map((r, i) => ({ r, i, o: (() => { try { return JSON.parse(r.value ?? "null") as unknown; } catch { return null; } })() }))
    .filter((x): x is { r: RawRecord; i: number; o: Record<string, unknown> } => x.o !== null && typeof x.o === "object" && users.has(String((x.o as Record<string, unknown>).user_id)) && wellFormed(x.o as Record<string, unknown>))
    .sort((a, b) => a.r.timestamp - b.r.timestamp || a.i - b.i)
    .map((x) => ({ ...x.o, rowtime: x.r.timestamp }));
  const file = join(dir, `${name}-model-input.json`);
  writeFileSync(file, JSON.stringify({ heartbeats }));
  const res = spawnSync(TSX, [join(REPO_ROOT, "tools", "sessionize.ts"), file], { cwd: REPO_ROOT, encoding: "utf8", maxBuffer: 256 * 1024 * 1024 });
  if (res.status !== 0) throw new Error(`sessionize ${file} exited ${res.status}: ${res.stderr.slice(0, 2000)}`);
  return (JSON.parse(res.stdout) as { segments: WatchSegment[] }).segments;
}

/** The database's segments for `users` (watch_segments_v2, stitched from the pieces the sink wrote). */
export async function databaseSegments(db: Connection, users: readonly string[]): Promise<WatchSegment[]> {
  const c = new Client(clientConfig(db));
  await c.connect();
  try {
    return (await c.query<SegmentRow>(SEGMENTS_QUERY, [[...users]])).rows.map(rowToSegment);
  } finally {
    await c.end();
  }
}

export interface SegmentCheck {
  readonly expected: number;
  readonly matched: number;
  readonly missing: number;
  readonly unexpected: number;
  readonly different: number;
  readonly diff: SegmentDiff;
}

export async function checkSegments(raw: readonly RawRecord[], users: readonly string[], db: Connection, dir: string, name: string): Promise<SegmentCheck> {
  const expected = modelSegments(raw, new Set(users), dir, name);
  const diff = diffSegments(expected, await databaseSegments(db, users));
  return { expected: expected.length, matched: diff.matched.length, missing: diff.missing.length, unexpected: diff.unexpected.length, different: diff.different.length, diff };
}
