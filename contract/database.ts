/**
 * `watchpipe:database`: how long the database keeps pieces and closed segments, and how often the maintenance
 * CronJob closes segments, creates day partitions ahead and drops expired ones. Defaults and bounds live here so
 * config.ts, the CronJob and the capacity plan read the same numbers; connectors/maintenance.ts builds the SQL.
 */

/**
 * Pieces are needed until their segments are closed and late pieces have been folded in; two whole days more leave
 * room to re-run a fixed job over yesterday. They are the bulk of the database, so every extra day is expensive.
 */
export const DEFAULT_PIECE_RETENTION_DAYS = 2;
/** Royalties are paid from segments: a year and a month spans an annual statement and its disputes. */
export const DEFAULT_SEGMENT_RETENTION_DAYS = 400;
/**
 * Every 5 minutes: at the 100,000 heartbeats/s design peak a run closes ≈ 5 M pieces (16,500/s × 300 s), a bounded
 * interval, and a closed segment reaches the reports within close delay + 5 min.
 */
export const DEFAULT_MAINTENANCE_EVERY_MIN = 5;

/** Below a day the piece partitions being written to would be dropped: a day partition is the unit of retention. */
export const MIN_PIECE_RETENTION_DAYS = 1;
/**
 * Pieces are ~40× the rows of segments (39.8 pieces per segment, issue 23): three months of them at the design
 * load is already ≈ 4.5 B rows; longer history belongs in segments, not pieces.
 */
export const MAX_PIECE_RETENTION_DAYS = 90;
/**
 * One partition per day, and each partition is a table with its own tablets on every tserver; planning over more
 * than ~1,000 partitions slows down: about three years. Older segments belong in the backups.
 */
export const MAX_SEGMENT_RETENTION_DAYS = 1000;
/** cron's `*\/N` fires evenly only for divisors of 60; these are the intervals a schedule can hold. */
export const MAINTENANCE_EVERY_MIN_CHOICES = [1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30, 60] as const;

/** The CronJob's name (and the `cronjob` label kube-state-metrics gives its series). */
export const MAINTENANCE_CRONJOB_NAME = "database-maintenance";
/**
 * A run may take this share of the interval (activeDeadlineSeconds): the rest covers pod start and image pull, so a
 * stuck run is killed before the next schedule and concurrencyPolicy Forbid never has to skip one.
 */
export const MAINTENANCE_DEADLINE_SHARE = 0.8;
/** The alert waits for this many intervals without a successful run: one slow or failed run does not page. */
export const MAINTENANCE_ALERT_AFTER_RUNS = 3;
/**
 * …but never less than 15 minutes: at a 1-minute interval three runs would page on one slow pod start. The same
 * floor the rejects check has (3 × 5 min).
 */
export const MAINTENANCE_ALERT_MIN_SEC = 900;

/** Seconds a run may take (activeDeadlineSeconds), below the interval. */
export function maintenanceDeadlineSec(everyMin: number): number {
  return Math.floor(everyMin * 60 * MAINTENANCE_DEADLINE_SHARE);
}

/** Seconds without a successful run before the DatabaseMaintenanceStale alert fires. */
export function maintenanceAlertAfterSec(everyMin: number): number {
  return Math.max(MAINTENANCE_ALERT_AFTER_RUNS * everyMin * 60, MAINTENANCE_ALERT_MIN_SEC);
}

/** The cron schedule for an interval in minutes (a divisor of 60; 60 is on the hour). */
export function maintenanceSchedule(everyMin: number): string {
  if (!(MAINTENANCE_EVERY_MIN_CHOICES as readonly number[]).includes(everyMin)) {
    throw new Error(`database.maintenanceEveryMinutes: expected one of ${MAINTENANCE_EVERY_MIN_CHOICES.join(", ")} (a divisor of 60, so cron fires evenly); got ${everyMin}. Pick the nearest of those.`);
  }
  return everyMin === 60 ? "0 * * * *" : `*/${everyMin} * * * *`;
}
