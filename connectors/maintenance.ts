/**
 * The database maintenance run: one SQL statement a CronJob executes with `ysqlsh` as the schema owner. It closes
 * the segments whose last piece is older than {@link closeDelayMs}, keeps the day partitions created ahead and drops
 * those past their retention (the plpgsql entry point lives in connectors/schema/).
 *
 * This file is the interface the program builds on: the close delay and the one statement a run executes.
 */
import type { SessionizationParams } from "../contract/sessionization";
import { DEFAULT_TICK_INTERVAL_SEC, worstCaseCloseDelaySec } from "../contract/sessionization";

export interface MaintenanceParams {
  readonly closeDelayMs: number;
  readonly pieceRetentionDays: number;
  readonly segmentRetentionDays: number;
  readonly partitionsAheadDays: number;
}

/** The stack config's defaults (config.ts reads them from contract/database.ts, the layer it may import). */
export { DEFAULT_PIECE_RETENTION_DAYS, DEFAULT_SEGMENT_RETENTION_DAYS } from "../contract/database";
/** Partitions for today and the next two days exist before any piece for them arrives, even if runs stop for a day. */
export const DEFAULT_PARTITIONS_AHEAD_DAYS = 2;
/** On top of the computed close delay: one more minute so a slow commit on a loaded cluster is never cut off. */
export const MAINTENANCE_SAFETY_MARGIN_MS = 60_000;
/**
 * How far behind the sink may fall before its pieces count as late: 5 min, ten times the SinkLagBeyondBudget alert's
 * budget (sessionization.sessionGapSec in the monitoring wiring), so the lag pages long before a segment closes early.
 */
export const SINK_LAG_ALLOWANCE_MS = 300_000;

/** The plpgsql entry point of the maintenance run. */
export const MAINTENANCE_FUNCTION = "watchpipe_maintain";

/** Worst-case close delay (contract/sessionization.ts) + sink lag + margin, in ms. */
export function closeDelayMs(p: SessionizationParams, tickIntervalSec: number = DEFAULT_TICK_INTERVAL_SEC): number {
  return Math.round(worstCaseCloseDelaySec(p, tickIntervalSec) * 1000) + SINK_LAG_ALLOWANCE_MS + MAINTENANCE_SAFETY_MARGIN_MS;
}

/** One SQL statement the job runs; throws naming a bad field. */
export function maintenanceSql(p: MaintenanceParams): string {
  const check = (field: keyof MaintenanceParams, min: number): void => {
    const v = p[field];
    if (!Number.isInteger(v) || v < min) {
      throw new Error(`maintenance: ${field} must be an integer >= ${min}; got ${JSON.stringify(v)}. Fix the value passed to maintenanceSql (watchpipe:database in the stack config).`);
    }
  };
  check("closeDelayMs", 1);
  check("pieceRetentionDays", 1);
  check("segmentRetentionDays", 1);
  check("partitionsAheadDays", 1);
  return `SELECT * FROM ${MAINTENANCE_FUNCTION}(${p.closeDelayMs}, ${p.pieceRetentionDays}, ${p.segmentRetentionDays}, ${p.partitionsAheadDays})`;
}
