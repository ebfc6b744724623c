/**
 * Reference model of the heartbeat-sessionization SQL (ksql/migrations) and the database's stitching
 * (connectors/schema V004). Pure and streaming: feed records one at a time in arrival order, get the records the SQL
 * would write when it would write them; `closeAll()` ends input. ksql/README.md states the semantics; test/ksql runs
 * the vectors and property tests against this model.
 */
export * from "../contract/sessionization";
export { encodePoint, decodePoint, positionToMs, type Point } from "./model/encoding";
export { continuesPair, piecesOfWindow, stitch, segmentsOfPoints, toWatchSegment, type PairRule, type Piece, type StitchedSegment } from "./model/pieces";
export { PartitionWindower, sessionKey, isTickKey, TICK_ITEM, type EmittedWindow } from "./model/windows";
export { decodeRaw, rejection, reasonText, asValid, expectedKey, playedAt, arrivalOf, REJECTIONS, type RawRow, type ValidHeartbeat, type Rejection } from "./model/validate";
export {
  SegmentModel,
  RawPipelineModel,
  pairRule,
  piecesOfEmitted,
  sinkPieces,
  stitchRows,
  compareSegments,
  sessionize,
  type WatchPiece,
  type PieceRecord,
  type EngineOptions,
  type RawRecord,
  type RejectedRecord,
  type RawOutcome,
} from "./model/pipeline";
