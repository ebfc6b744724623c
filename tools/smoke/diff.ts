/**
 * Comparing the segments the smoke test expects with the rows found in watch_segments, and printing the result.
 * Pure. Rows are matched on user_id, video_id and start_ts within a tolerance ({@link transitToleranceMs}); every other field
 * is compared (end_ts within the same tolerance). Since V000004 a segment's times are played_at on the broker's
 * clock: event_ts plus the transit from the smoke host to the broker (it sends sent_at), which the model cannot know.
 */
import type { WatchSegment } from "../../contract/topics";
import { compareSegments } from "../../ksql/model";

/**
 * Largest difference accepted between two second-valued doubles. Both sides compute ms / 1000 in IEEE doubles and
 * the value travels as a double (Avro, JSON, float8), so they are normally bit-identical; this only absorbs a
 * database that prints float8 with fewer digits. A real error is at least 1 ms (0.001).
 */
export const SECONDS_EPSILON = 1e-9;

/**
 * How far a row's start_ts / end_ts may be from the model's: the transit from the sender to the broker (plus the
 * two hosts' clock difference), well under half the 5 s heartbeat interval so no two expected segments of one
 * viewer can be confused.
 */
export const TRANSIT_TOLERANCE_MS = 2_000;

/**
 * The tolerance for one run: {@link TRANSIT_TOLERANCE_MS} plus the time its send took to be acknowledged. Each record
 * is stamped on arrival, before its acknowledgement, so its transit is at most that; through the ingest gateway (Envoy,
 * then Camel's acks=all write) on a busy cluster it has measured 2.5–3.5 s. Capped below half the distance between the
 * closest two expected starts of one viewer and video, so no two expected segments can be confused.
 */
export function transitToleranceMs(expected: readonly WatchSegment[], sendLatencyMs: number): number {
  let closest = Number.POSITIVE_INFINITY;
  for (const a of expected) {
    for (const b of expected) {
      if (a !== b && a.user_id === b.user_id && a.video_id === b.video_id) closest = Math.min(closest, Math.abs(a.start_ts - b.start_ts));
    }
  }
  const cap = Number.isFinite(closest) ? Math.floor((closest - 1) / 2) : Number.POSITIVE_INFINITY;
  return Math.max(TRANSIT_TOLERANCE_MS, Math.min(TRANSIT_TOLERANCE_MS + Math.max(0, sendLatencyMs), cap));
}

/** The compared fields besides the key, in print order. */
export const VALUE_FIELDS = ["end_ts", "start_position_sec", "end_position_sec", "heartbeat_count", "watched_sec"] as const;
type ValueField = (typeof VALUE_FIELDS)[number];
const SECONDS_FIELDS: ReadonlySet<ValueField> = new Set(["start_position_sec", "end_position_sec", "watched_sec"]);

export interface FieldDifference {
  readonly field: ValueField;
  readonly expected: number;
  readonly actual: number;
}

export interface DifferentRow {
  readonly expected: WatchSegment;
  readonly actual: WatchSegment;
  readonly fields: readonly FieldDifference[];
}

export interface SegmentDiff {
  readonly matched: readonly WatchSegment[];
  /** Expected, but no row with that key. */
  readonly missing: readonly WatchSegment[];
  /** A row whose key was not expected. */
  readonly unexpected: readonly WatchSegment[];
  /** Same key, some field differs. */
  readonly different: readonly DifferentRow[];
}

export const segmentKey = (s: WatchSegment): string => JSON.stringify([s.user_id, s.video_id, s.start_ts]);

function sameValue(field: ValueField, a: number, b: number, toleranceMs: number): boolean {
  if (field === "end_ts") return Math.abs(a - b) <= toleranceMs;
  return SECONDS_FIELDS.has(field) ? Math.abs(a - b) <= SECONDS_EPSILON : a === b;
}

/** The row of the same user and video whose start_ts is nearest the expected one, within the tolerance. */
function nearestRow(e: WatchSegment, rows: readonly WatchSegment[], taken: ReadonlySet<WatchSegment>, toleranceMs: number): WatchSegment | undefined {
  let best: WatchSegment | undefined;
  for (const a of rows) {
    if (taken.has(a) || a.user_id !== e.user_id || a.video_id !== e.video_id) continue;
    const d = Math.abs(a.start_ts - e.start_ts);
    if (d <= toleranceMs && (best === undefined || d < Math.abs(best.start_ts - e.start_ts))) best = a;
  }
  return best;
}

/** Field-by-field comparison of two rows with the same key. */
export function fieldDifferences(expected: WatchSegment, actual: WatchSegment, toleranceMs: number = TRANSIT_TOLERANCE_MS): FieldDifference[] {
  return VALUE_FIELDS.filter((f) => !sameValue(f, expected[f], actual[f], toleranceMs)).map((field) => ({ field, expected: expected[field], actual: actual[field] }));
}

/** Times (start_ts, end_ts) are compared within `toleranceMs` (default {@link TRANSIT_TOLERANCE_MS}; a run passes {@link transitToleranceMs}). */
export function diffSegments(expected: readonly WatchSegment[], actual: readonly WatchSegment[], toleranceMs: number = TRANSIT_TOLERANCE_MS): SegmentDiff {
  const taken = new Set<WatchSegment>();
  const matched: WatchSegment[] = [];
  const missing: WatchSegment[] = [];
  const different: DifferentRow[] = [];
  for (const e of [...expected].sort(compareSegments)) {
    const a = nearestRow(e, actual, taken, toleranceMs);
    if (a === undefined) missing.push(e);
    else {
      taken.add(a);
      const fields = fieldDifferences(e, a, toleranceMs);
      if (fields.length === 0) matched.push(e);
      else different.push({ expected: e, actual: a, fields });
    }
  }
  const unexpected = [...actual].filter((a) => !taken.has(a)).sort(compareSegments);
  return { matched, missing, unexpected, different };
}

export const isMatch = (d: SegmentDiff): boolean => d.missing.length === 0 && d.unexpected.length === 0 && d.different.length === 0;

const iso = (ms: number): string => new Date(ms).toISOString();

function describeField(f: ValueField, v: number): string {
  return f === "end_ts" ? `${iso(v)} (${v})` : String(v);
}

/** One line naming a segment by its key and summarising its values. */
export function describeSegment(s: WatchSegment): string {
  return (
    `${s.user_id} ${s.video_id} start_ts ${iso(s.start_ts)} (${s.start_ts}): ${s.heartbeat_count} heartbeats, ` +
    `playhead ${s.start_position_sec} -> ${s.end_position_sec} s, watched ${s.watched_sec} s, end_ts ${iso(s.end_ts)}`
  );
}

/** The progress line printed while waiting. */
export function progressLine(d: SegmentDiff, expectedCount: number, elapsedMs: number): string {
  const extra = [
    d.different.length > 0 ? `${d.different.length} different` : "",
    d.unexpected.length > 0 ? `${d.unexpected.length} unexpected` : "",
  ].filter((s) => s !== "");
  return `${d.matched.length}/${expectedCount} segments after ${Math.round(elapsedMs / 1000)} s${extra.length > 0 ? ` (${extra.join(", ")})` : ""}`;
}

/** The readable report: counts, then every missing, unexpected and different row (different ones field by field). */
export function formatDiff(d: SegmentDiff): string {
  const total = d.matched.length + d.missing.length + d.different.length;
  const lines = [`${d.matched.length} of ${total} expected segments match`];
  lines.push(`missing (expected, not in watch_segments): ${d.missing.length}`);
  for (const s of d.missing) lines.push(`  - ${describeSegment(s)}`);
  lines.push(`unexpected (in watch_segments, not expected): ${d.unexpected.length}`);
  for (const s of d.unexpected) lines.push(`  + ${describeSegment(s)}`);
  lines.push(`different (same user, video and start_ts): ${d.different.length}`);
  for (const r of d.different) {
    lines.push(`  ~ ${r.expected.user_id} ${r.expected.video_id} start_ts ${iso(r.expected.start_ts)} (${r.expected.start_ts})`);
    for (const f of r.fields) lines.push(`      ${f.field}: expected ${describeField(f.field, f.expected)}, got ${describeField(f.field, f.actual)}`);
  }
  return lines.join("\n");
}
