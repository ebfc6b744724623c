/**
 * The whole SQL pipeline for one partition: raw JSON records -> validation (V000001) -> session windows -> segments
 * (V000002), and the JDBC sink's upsert on (user_id, video_id, start_ts) at the end.
 */
import type { WatchSegment } from "../../contract/topics";
import { type SessionizationParams, SESSION_KEY_SEPARATOR, secToMs } from "../../contract/sessionization";
import { segmentsOfPoints, toWatchSegment } from "./segments";
import { type EmittedSession, isTickKey, PartitionSessionizer } from "./sessionizer";
import { asValid, decodeRaw, reasonText, rejection, type ValidHeartbeat } from "./validate";

/** A watch_segments record: the segment, its session window, and the record timestamp (= session window end). */
export interface SegmentRecord {
  readonly timestamp: number;
  readonly windowStart: number;
  readonly segment: WatchSegment;
}

/** Segments of one final session, in the order EXPLODE emits them (by start). Tick sessions yield none. */
export function segmentsOfSession(s: EmittedSession, toleranceMs: number): SegmentRecord[] {
  if (isTickKey(s.key)) return [];
  const sep = s.key.indexOf(SESSION_KEY_SEPARATOR);
  const user = s.key.slice(0, sep);
  const video = s.key.slice(sep + 1);
  return segmentsOfPoints(s.items, toleranceMs).map((seg) => ({ timestamp: s.end, windowStart: s.start, segment: toWatchSegment(user, video, seg) }));
}

/** Streaming model of the valid-heartbeat part: feed heartbeats in arrival order, collect segment records. */
export class SegmentModel {
  private readonly sessions: PartitionSessionizer;
  private readonly toleranceMs: number;

  constructor(params: SessionizationParams, collectListLimit?: number) {
    this.sessions = new PartitionSessionizer({
      gapMs: secToMs(params.sessionGapSec),
      graceMs: secToMs(params.gracePeriodSec),
      collectListLimit,
    });
    this.toleranceMs = secToMs(params.seekToleranceSec);
  }

  /** One valid heartbeat; returns the watch_segments records it caused (possibly none). */
  push(hb: ValidHeartbeat): SegmentRecord[] {
    return this.sessions.process(hb).flatMap((s) => segmentsOfSession(s, this.toleranceMs));
  }

  /** End of input: closes every open session. */
  closeAll(): SegmentRecord[] {
    return this.sessions.closeAll().flatMap((s) => segmentsOfSession(s, this.toleranceMs));
  }

  get droppedLate(): number {
    return this.sessions.droppedLate;
  }

  get storedSessions(): number {
    return this.sessions.storedSessions;
  }
}

/** A raw record on heartbeats_raw: JSON value plus the Kafka record timestamp. */
export interface RawRecord {
  readonly value: unknown;
  readonly timestamp: number;
}

export interface RejectedRecord {
  readonly timestamp: number;
  readonly value: {
    readonly user_id: string | null;
    readonly video_id: string | null;
    readonly position_sec: number | null;
    readonly event_ts: number | null;
    readonly device_id: string | null;
    readonly reason: string;
  };
}

export type RawOutcome =
  | { readonly kind: "undecodable"; readonly error: string }
  | { readonly kind: "rejected"; readonly record: RejectedRecord }
  | { readonly kind: "valid"; readonly heartbeat: ValidHeartbeat; readonly segments: SegmentRecord[] };

/** Raw-level model (V000001 + V000002) for one partition. */
export class RawPipelineModel {
  private readonly model: SegmentModel;
  constructor(params: SessionizationParams, collectListLimit?: number) {
    this.model = new SegmentModel(params, collectListLimit);
  }

  push(rec: RawRecord): RawOutcome {
    const decoded = decodeRaw(rec.value);
    if (!decoded.ok) return { kind: "undecodable", error: decoded.error };
    const r = rejection(decoded.row, rec.timestamp);
    if (r !== null) {
      return { kind: "rejected", record: { timestamp: rec.timestamp, value: { ...decoded.row, reason: reasonText(r) } } };
    }
    const heartbeat = asValid(decoded.row);
    return { kind: "valid", heartbeat, segments: this.model.push(heartbeat) };
  }

  closeAll(): SegmentRecord[] {
    return this.model.closeAll();
  }
}

/** The sink table after upserting records in order on (user_id, video_id, start_ts); sorted by that key. */
export function sinkRows(records: readonly SegmentRecord[]): WatchSegment[] {
  const rows = new Map<string, WatchSegment>();
  for (const { segment: s } of records) rows.set(JSON.stringify([s.user_id, s.video_id, s.start_ts]), s);
  return [...rows.values()].sort(compareSegments);
}

/** Output order: user_id, video_id (UTF-16 code unit order), then start_ts. */
export function compareSegments(a: WatchSegment, b: WatchSegment): number {
  if (a.user_id !== b.user_id) return a.user_id < b.user_id ? -1 : 1;
  if (a.video_id !== b.video_id) return a.video_id < b.video_id ? -1 : 1;
  return a.start_ts - b.start_ts;
}

/** Convenience: valid heartbeats of one partition in arrival order -> final sink rows after closing everything. */
export function sessionize(heartbeats: readonly ValidHeartbeat[], params: SessionizationParams, collectListLimit?: number): WatchSegment[] {
  const m = new SegmentModel(params, collectListLimit);
  const recs: SegmentRecord[] = [];
  for (const hb of heartbeats) recs.push(...m.push(hb));
  recs.push(...m.closeAll());
  return sinkRows(recs);
}
