/**
 * Facts about YugabyteDB backups that config validation, the scripts (connectors/backup.ts), the bucket
 * (components/aws/backupBucket*.ts), the Kubernetes objects (components/sink/backupSpecs.ts) and the alert share.
 */

/** Kubernetes ServiceAccount the backup CronJob and the restore Job run as; the only subject the IRSA role trusts. */
export const BACKUP_SERVICE_ACCOUNT = "yugabyte-backup";
/** The backup CronJob's name (the BackupMissing alert selects it). */
export const BACKUP_CRONJOB_NAME = "yugabyte-backup";
/** Key prefix the backups live under; the role may read, write and list only below it. */
export const BACKUP_PREFIX = "yugabyte/";

/** File name of one backup: `<BACKUP_NAME_PREFIX><UTC timestamp>.sql.gz` (sorts by time). */
export const BACKUP_NAME_PREFIX = "watchpipe-";
export const BACKUP_SUFFIX = ".sql.gz";
export const CHECKSUM_SUFFIX = ".sha256";
/** What a backup's file name looks like (`watchpipe:backup.restoreFrom` must match it). */
export const BACKUP_OBJECT_PATTERN = /^watchpipe-[0-9]{8}T[0-9]{6}Z\.sql\.gz$/;

/** Bounds for `watchpipe:backup.retentionDays`: at least one day, at most ten years. */
export const MIN_RETENTION_DAYS = 1;
export const MAX_RETENTION_DAYS = 3650;
/** Five weeks: a monthly report can still be recomputed from the state before its month began. */
export const DEFAULT_BACKUP_RETENTION_DAYS = 35;
/** Off-peak for a platform whose viewers are mostly in the Americas: 03:17 UTC (not on the hour everyone uses). */
export const DEFAULT_BACKUP_HOUR_UTC = 3;
export const BACKUP_MINUTE = 17;
/**
 * The volume the dump is written to before upload. A piece row is ~47 bytes gzipped (measured, test/real/backup.test.ts),
 * so 50 GiB holds ~1.1 billion rows; the dump grows with the table, not with a day's input.
 */
export const DEFAULT_BACKUP_SCRATCH_GIB = 50;
/** Daily backups: a backup older than a day and two hours means one was missed. */
export const BACKUP_ALERT_AFTER_SEC = 26 * 3600;
