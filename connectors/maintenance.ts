/**
 * The database maintenance job's call (connectors/schema V006 `watchpipe_maintain`): close segments into
 * watch_segments_closed, amend the rollups, create day partitions ahead, drop them after retention. Pure: the
 * CronJob (components) runs {@link maintenanceSql} with `ysqlsh -c` as the schema owner; tests and the benchmark run
 * the same statement through node-postgres.
 */
import {
  DEFAULT_SESSION_GAP_SEC,
  DEFAULT_TICK_INTERVAL_SEC,
  type SessionizationParams,
  secToMs,
  worstCaseCloseDelaySec,
} from "../contract/sessionization";

export interface MaintenanceParams {
  readonly closeDelayMs: number;
  readonly pieceRetentionDays: number;
  readonly segmentRetentionDays: number;
  readonly partitionsAheadDays: number;
}

/**
 * Pieces are needed only until their segment is closed and the late-piece window (about an hour) has passed; two
 * whole days more leave room to re-run a fixed job over yesterday. They are the bulk of the database (issue 23:
 * ~205 B each in PostgreSQL's format, 1.44 billion a day at the design load), so every extra day is expensive.
 */
export const DEFAULT_PIECE_RETENTION_DAYS = 2;
/** Royalty statements run up to a year back; 400 days is a year plus a month to correct and re-issue one. */
export const DEFAULT_SEGMENT_RETENTION_DAYS = 400;
/**
 * Partitions exist a week ahead, so the job can stay broken for a week before a piece falls into the DEFAULT
 * partition (it still lands there; the next run moves it).
 */
export const DEFAULT_PARTITIONS_AHEAD_DAYS = 7;
/**
 * Time from ksqlDB committing a piece to the Debezium JDBC sink having written it under normal load: one consumer
 * poll plus one batch (seconds); a minute covers a rebalance. A longer stall only makes pieces late, which the job
 * amends.
 */
export const MAINTENANCE_SINK_LAG_MS = 60_000;
/**
 * Added on top so a piece that is merely slow is not treated as late: closing later costs only a slightly larger
 * open tail, closing too early costs an amendment.
 */
export const MAINTENANCE_SAFETY_MARGIN_MS = 120_000;

/** The longest retention the job accepts: partitions are one per day per table, and PostgreSQL plans slow past ~1,000. */
export const MAX_RETENTION_DAYS = 1000;
/** Partitions ahead beyond two months would only be empty tables. */
export const MAX_PARTITIONS_AHEAD_DAYS = 60;

/**
 * How long after its last piece ended a segment is closed, in ms: a piece that continues it starts at most one
 * session gap later, reaches the database at most the worst-case close delay (contract/sessionization.ts) after
 * that, plus the sink's lag, plus a safety margin.
 */
export function closeDelayMs(p: SessionizationParams, tickIntervalSec: number = DEFAULT_TICK_INTERVAL_SEC): number {
  const gapMs = secToMs(Number.isFinite(p.sessionGapSec) ? p.sessionGapSec : DEFAULT_SESSION_GAP_SEC);
  return gapMs + secToMs(worstCaseCloseDelaySec(p, tickIntervalSec)) + MAINTENANCE_SINK_LAG_MS + MAINTENANCE_SAFETY_MARGIN_MS;
}

function requireInt(field: keyof MaintenanceParams, v: number, min: number, max: number, why: string): void {
  if (!Number.isSafeInteger(v) || v < min || v > max) {
    throw new Error(`maintenance ${field}: expected an integer ${min}..${max} (${why}), got ${JSON.stringify(v)}`);
  }
}

/** Throws naming the first invalid field, the expected range and the value. */
export function validateMaintenanceParams(p: MaintenanceParams): void {
  requireInt("closeDelayMs", p.closeDelayMs, 0, 7 * 86_400_000, "milliseconds; closeDelayMs() gives the default");
  requireInt("pieceRetentionDays", p.pieceRetentionDays, 1, MAX_RETENTION_DAYS, "whole UTC days of pieces kept");
  requireInt("segmentRetentionDays", p.segmentRetentionDays, 1, MAX_RETENTION_DAYS, "whole UTC days of segments kept");
  requireInt("partitionsAheadDays", p.partitionsAheadDays, 1, MAX_PARTITIONS_AHEAD_DAYS, "day partitions created ahead");
  if (p.segmentRetentionDays < p.pieceRetentionDays) {
    throw new Error(
      `maintenance segmentRetentionDays: expected >= pieceRetentionDays (${p.pieceRetentionDays}): a segment must ` +
        `outlive the pieces it is stitched from; got ${p.segmentRetentionDays}`,
    );
  }
}

/**
 * The one statement the job runs. Prints one summary row: segments closed and amended, pieces read, late pieces,
 * partitions created and dropped, and the new closed_until watermark.
 */
export function maintenanceSql(p: MaintenanceParams): string {
  validateMaintenanceParams(p);
  return (
    "SELECT segments_closed, segments_amended, pieces_read, late_pieces, partitions_created, partitions_dropped, " +
    "closed_until FROM watchpipe_maintain(" +
    `${p.closeDelayMs}::bigint, ${p.pieceRetentionDays}, ${p.segmentRetentionDays}, ${p.partitionsAheadDays})`
  );
}
