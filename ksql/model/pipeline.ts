/**
 * The whole pipeline for one partition, as V000004-V000006 run it: raw keyed JSON records -> validation and
 * played_at (V000004) -> 60 s windows hopping by 30 s on arrival time, each owning its newer half, copies of a
 * heartbeat counted once (V000006) -> pieces (the records on `watch_segments`) -> the JDBC sink's upsert into
 * watch_pieces -> the database's stitching into watch segments (connectors/schema V004).
 */
import { piecesByKey, stitchPieces } from "../../contract/stitching";
import type { WatchPiece, WatchSegment } from "../../contract/topics";
import {
  type SessionizationParams,
  COLLECT_SET_LIMIT,
  PIECE_WINDOW_SEC,
  SESSION_KEY_SEPARATOR,
  WINDOW_RETENTION_SEC,
  maxRatePermille,
  secToMs,
} from "../../contract/sessionization";
import { comparePieces, continuesPair, type PairRule, type Piece, piecesOfOwnedPoints, type StitchedSegment, toWatchSegment } from "./pieces";
import { type EmittedWindow, isTickKey, PartitionWindower } from "./windows";
import { asValid, decodeRaw, reasonText, rejection, type ValidHeartbeat } from "./validate";

/** A record of `watch_segments` (Avro `watchpipe.WatchPiece`): one piece, named as V000002 writes it. */
export type { WatchPiece };

/** A watch_segments record: the piece, its window, and the record timestamp (latest heartbeat of the window). */
export interface PieceRecord {
  readonly timestamp: number;
  readonly window: { readonly start: number; readonly end: number };
  readonly piece: WatchPiece;
}

/** Engine settings the model takes besides the stack parameters (defaults: what V000006 and the server use). */
export interface EngineOptions {
  /** The hop (advance) and the half a window owns; windows are twice this long. */
  readonly windowSec?: number;
  readonly retentionSec?: number;
  readonly collectSetLimit?: number;
  /** Close-check throttle; 0 (default) checks on every record. */
  readonly emitIntervalMs?: number;
}

export function pairRule(p: SessionizationParams): PairRule {
  return { gapMs: secToMs(p.sessionGapSec), toleranceMs: secToMs(p.seekToleranceSec), maxRatePermille: maxRatePermille(p) };
}

function splitKey(key: string): [string, string] {
  const sep = key.indexOf(SESSION_KEY_SEPARATOR);
  return [key.slice(0, sep), key.slice(sep + 1)];
}

/** Pieces of one final window, in the order EXPLODE emits them. Tick windows yield none. */
export function piecesOfEmitted(w: EmittedWindow, r: PairRule): PieceRecord[] {
  if (isTickKey(w.key)) return [];
  const [user, video] = splitKey(w.key);
  return piecesOfOwnedPoints(w.items, w.ownedFrom, r).map((p) => ({
    timestamp: w.timestamp,
    window: { start: w.start, end: w.end },
    piece: {
      user_id: user,
      video_id: video,
      start_ts: p.first.ts,
      end_ts: p.last.ts,
      first_position_sec: p.first.posMs / 1000,
      last_position_sec: p.last.posMs / 1000,
      min_position_sec: p.minPosMs / 1000,
      max_position_sec: p.maxPosMs / 1000,
      heartbeat_count: p.count,
      piece_no: p.pieceNo,
      session_gap_ms: r.gapMs,
      seek_tolerance_ms: r.toleranceMs,
      max_rate_permille: r.maxRatePermille,
    },
  }));
}

/** Streaming model of the valid-heartbeat part: feed heartbeats in arrival order, collect piece records. */
export class SegmentModel {
  private readonly windows: PartitionWindower;
  private readonly rule: PairRule;

  constructor(params: SessionizationParams, engine: EngineOptions = {}) {
    const hop = secToMs(engine.windowSec ?? PIECE_WINDOW_SEC);
    this.windows = new PartitionWindower({
      windowMs: 2 * hop,
      advanceMs: hop,
      graceMs: secToMs(params.gracePeriodSec),
      retentionMs: secToMs(engine.retentionSec ?? WINDOW_RETENTION_SEC),
      collectSetLimit: engine.collectSetLimit ?? COLLECT_SET_LIMIT,
      emitIntervalMs: engine.emitIntervalMs ?? 0,
    });
    this.rule = pairRule(params);
  }

  /** One valid heartbeat; returns the watch_segments records it caused (possibly none). */
  push(hb: ValidHeartbeat, wallClockMs = 0): PieceRecord[] {
    return this.windows.process(hb, wallClockMs).flatMap((w) => piecesOfEmitted(w, this.rule));
  }

  /** End of input: emits every window still held. */
  closeAll(): PieceRecord[] {
    return this.windows.closeAll().flatMap((w) => piecesOfEmitted(w, this.rule));
  }

  get droppedLate(): number {
    return this.windows.droppedLate;
  }

  get lostWindows(): number {
    return this.windows.lostWindows;
  }

  get openWindows(): number {
    return this.windows.openWindows;
  }
}

/**
 * A raw record on heartbeats_raw: its key (the producer's session key, UTF-8; null: none), JSON value and record
 * timestamp (the broker's LogAppendTime: the arrival time).
 */
export interface RawRecord {
  readonly key: string | null;
  readonly value: unknown;
  readonly timestamp: number;
}

/** A heartbeats_rejected record: the raw key and timestamp, the decoded columns and the first rule broken. */
export interface RejectedRecord {
  readonly key: string | null;
  readonly timestamp: number;
  readonly value: {
    readonly user_id: string | null;
    readonly video_id: string | null;
    readonly position_sec: number | null;
    readonly event_ts: number | null;
    readonly device_id: string | null;
    readonly sent_at: number | null;
    readonly reason: string;
  };
}

export type RawOutcome =
  | { readonly kind: "undecodable"; readonly error: string }
  | { readonly kind: "rejected"; readonly record: RejectedRecord }
  | { readonly kind: "valid"; readonly heartbeat: ValidHeartbeat; readonly pieces: PieceRecord[] };

/** Raw-level model (V000004 validation, V000006 windows and pieces) for one partition. */
export class RawPipelineModel {
  private readonly model: SegmentModel;
  constructor(params: SessionizationParams, engine?: EngineOptions) {
    this.model = new SegmentModel(params, engine);
  }

  push(rec: RawRecord): RawOutcome {
    const decoded = decodeRaw(rec.value);
    if (!decoded.ok) return { kind: "undecodable", error: decoded.error };
    const r = rejection(decoded.row, rec.key);
    if (r !== null) {
      const row = decoded.row;
      const value = { ...row, sent_at: row.sent_at ?? null, reason: reasonText(r) };
      return { kind: "rejected", record: { key: rec.key, timestamp: rec.timestamp, value } };
    }
    const heartbeat = asValid(decoded.row, rec.timestamp);
    return { kind: "valid", heartbeat, pieces: this.model.push(heartbeat) };
  }

  closeAll(): PieceRecord[] {
    return this.model.closeAll();
  }
}

/** The watch_pieces table after upserting records in order on (user_id, video_id, start_ts, piece_no). */
export function sinkPieces(records: readonly PieceRecord[]): WatchPiece[] {
  const rows = new Map<string, WatchPiece>();
  for (const { piece: p } of records) rows.set(JSON.stringify([p.user_id, p.video_id, p.start_ts, p.piece_no]), p);
  return [...rows.values()];
}

function asPiece(p: WatchPiece): Piece {
  return {
    first: { ts: p.start_ts, posMs: Math.round(p.first_position_sec * 1000) },
    last: { ts: p.end_ts, posMs: Math.round(p.last_position_sec * 1000) },
    minPosMs: Math.round(p.min_position_sec * 1000),
    maxPosMs: Math.round(p.max_position_sec * 1000),
    count: p.heartbeat_count,
    pieceNo: p.piece_no,
  };
}

/**
 * What V004's watch_segments_v2 view returned for a set of piece rows (kept as the reference V007 is compared with):
 * per user and video, pieces ordered by (start_ts, piece_no), a new segment wherever the pairwise rule (with the later
 * piece's parameters) fails between the previous piece's last heartbeat and this piece's first. Sorted by user_id,
 * video_id, start_ts. The database stitches with V007 since (contract/stitching.ts): it differs only where a piece
 * lies inside an earlier one's span.
 */
export function stitchRows(pieces: readonly WatchPiece[]): WatchSegment[] {
  const out: WatchSegment[] = [];
  for (const list of piecesByKey(pieces).values()) {
    const ordered = list.map((p) => ({ row: p, piece: asPiece(p) })).sort((x, y) => comparePieces(x.piece, y.piece));
    let cur: StitchedSegment | undefined;
    for (const { row, piece } of ordered) {
      const rule: PairRule = { gapMs: row.session_gap_ms, toleranceMs: row.seek_tolerance_ms, maxRatePermille: row.max_rate_permille };
      if (cur !== undefined && continuesPair(cur.last, piece.first, rule)) {
        cur = {
          first: cur.first,
          last: piece.last,
          minPosMs: Math.min(cur.minPosMs, piece.minPosMs),
          maxPosMs: Math.max(cur.maxPosMs, piece.maxPosMs),
          count: cur.count + piece.count,
        };
      } else {
        if (cur !== undefined) out.push(toWatchSegment(row.user_id, row.video_id, cur));
        cur = { first: piece.first, last: piece.last, minPosMs: piece.minPosMs, maxPosMs: piece.maxPosMs, count: piece.count };
      }
    }
    if (cur !== undefined) out.push(toWatchSegment(list[0].user_id, list[0].video_id, cur));
  }
  return out.sort(compareSegments);
}

/** Output order: user_id, video_id (UTF-16 code unit order), then start_ts. */
export function compareSegments(a: WatchSegment, b: WatchSegment): number {
  if (a.user_id !== b.user_id) return a.user_id < b.user_id ? -1 : 1;
  if (a.video_id !== b.video_id) return a.video_id < b.video_id ? -1 : 1;
  return a.start_ts - b.start_ts;
}

/**
 * Valid heartbeats of one partition in arrival order (each `rowtime` defaults to its event_ts) -> the segments the
 * database shows once every window closed.
 */
export function sessionize(heartbeats: readonly ValidHeartbeat[], params: SessionizationParams, engine?: EngineOptions): WatchSegment[] {
  const m = new SegmentModel(params, engine);
  const recs: PieceRecord[] = [];
  for (const hb of heartbeats) recs.push(...m.push(hb));
  recs.push(...m.closeAll());
  // The segments the database shows: V007's stitching (connectors/schema), not V004's neighbour rule.
  return stitchPieces(sinkPieces(recs)).map(({ last_position_sec: _, ...segment }) => segment);
}
