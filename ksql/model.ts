/**
 * Reference model of the heartbeat-sessionization SQL (ksql/migrations). Pure and streaming: feed records one at
 * a time in arrival order, get the records the SQL would write when it would write them; `closeAll()` ends input.
 * ksql/README.md states the semantics; test/ksql runs the vectors and property tests against this model.
 */
export * from "../contract/sessionization";
export { encodePoint, decodePoint, positionToMs, type Point } from "./model/encoding";
export { continues, segmentsOfPoints, toWatchSegment, type SegmentPoints } from "./model/segments";
export { PartitionSessionizer, sessionKey, isTickKey, TICK_ITEM, type EmittedSession } from "./model/sessionizer";
export { decodeRaw, rejection, reasonText, asValid, REJECTIONS, type RawRow, type ValidHeartbeat, type Rejection } from "./model/validate";
export {
  SegmentModel,
  RawPipelineModel,
  segmentsOfSession,
  sinkRows,
  compareSegments,
  sessionize,
  type SegmentRecord,
  type RawRecord,
  type RejectedRecord,
  type RawOutcome,
} from "./model/pipeline";
