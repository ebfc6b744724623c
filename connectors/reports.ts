/**
 * The report queries, as pure builders returning parameterised SQL. Resume reads watch_resume_positions (closed
 * segments by primary key plus the open tail, V006); daily and hourly reports call V006's watch_daily_report /
 * watch_hourly_report, which read the per-day / per-hour rollups and add the open tail only when the range reaches a
 * day not closed yet, so their cost follows the videos and days asked for, not the history kept. The report CLI, the
 * benchmark and the real-database tests all use these, so what is measured and tested is what operators run.
 */

/**
 * Watch segments (sessionization v2) as the database stitches them from the sink's pieces (connectors/schema V004):
 * one row per segment, the WatchSegment columns plus last_position_sec.
 */
export const SEGMENTS_VIEW = "watch_segments_v2";

/** A ready-to-run query for node-postgres (`client.query(q.text, q.values)`). */
export interface ReportQuery {
  readonly text: string;
  readonly values: readonly unknown[];
}

/** Longest date range one daily report may span: a royalty statement is monthly/quarterly; a year caps a typo. */
export const MAX_REPORT_DAYS = 366;
/** Longest hour range for the reach report (one month of hours). */
export const MAX_REACH_HOURS = 31 * 24;
/** Default cap on resume rows for one user: a profile page shows the most recent few dozen titles. */
export const DEFAULT_RESUME_LIMIT = 50;

const DATE_RE = /^\d{4}-\d{2}-\d{2}$/;
const MS_PER_DAY = 86_400_000;
const MS_PER_HOUR = 3_600_000;

/** Parses `YYYY-MM-DD` as a UTC calendar date; throws naming the option and the value. */
export function parseUtcDate(option: string, value: string): Date {
  const d = new Date(`${value}T00:00:00Z`);
  if (!DATE_RE.test(value) || Number.isNaN(d.getTime()) || d.toISOString().slice(0, 10) !== value) {
    throw new Error(`${option} must be a UTC calendar date YYYY-MM-DD, got "${value}"`);
  }
  return d;
}

function requireId(option: string, value: string): void {
  if (value.length === 0 || value.length > 256) {
    throw new Error(`${option} must be 1..256 characters (the watch_segments CHECK), got ${value.length}`);
  }
}

export interface ResumeParams {
  readonly userId: string;
  /** Only this video. */
  readonly videoId?: string;
  readonly limit?: number;
}

/** Resume positions for one user, most recently watched first. */
export function resumePositionsQuery(p: ResumeParams): ReportQuery {
  requireId("user id", p.userId);
  const limit = p.limit ?? DEFAULT_RESUME_LIMIT;
  if (!Number.isInteger(limit) || limit < 1) throw new Error(`limit must be a positive integer, got ${limit}`);
  const values: unknown[] = [p.userId];
  let where = "user_id = $1";
  if (p.videoId !== undefined) {
    requireId("video id", p.videoId);
    values.push(p.videoId);
    where += " AND video_id = $2";
  }
  values.push(limit);
  return {
    text:
      "SELECT video_id, resume_position_sec, last_watched_at FROM watch_resume_positions " +
      `WHERE ${where} ORDER BY last_watched_at DESC, video_id LIMIT $${values.length}`,
    values,
  };
}

export interface DailyWatchParams {
  /** First UTC day, inclusive, `YYYY-MM-DD`. */
  readonly from: string;
  /** Last UTC day, inclusive, `YYYY-MM-DD`. */
  readonly to: string;
  /** Only these videos (all when absent or empty). */
  readonly videoIds?: readonly string[];
}

/** Daily watch time and distinct viewers per video for an inclusive UTC date range. */
export function dailyWatchQuery(p: DailyWatchParams): ReportQuery {
  const from = parseUtcDate("--from", p.from);
  const to = parseUtcDate("--to", p.to);
  const days = (to.getTime() - from.getTime()) / MS_PER_DAY + 1;
  if (days < 1) throw new Error(`--from (${p.from}) must not be after --to (${p.to})`);
  if (days > MAX_REPORT_DAYS) {
    throw new Error(`date range ${p.from}..${p.to} spans ${days} days; at most ${MAX_REPORT_DAYS} per report, split it`);
  }
  const values: unknown[] = [p.from, p.to];
  let videos = "NULL";
  if (p.videoIds !== undefined && p.videoIds.length > 0) {
    p.videoIds.forEach((v) => requireId("video id", v));
    values.push([...p.videoIds]);
    videos = "$3::text[]";
  }
  return {
    text:
      "SELECT day_utc::text AS day_utc, video_id, watched_sec, viewers, segments " +
      `FROM watch_daily_report($1::date, $2::date, ${videos}) ORDER BY day_utc, watched_sec DESC, video_id`,
    values,
  };
}

export interface HourlyReachParams {
  readonly videoId: string;
  /** First UTC day, inclusive. */
  readonly from: string;
  /** Last UTC day, inclusive. */
  readonly to: string;
}

/** Segments and distinct viewers per UTC hour for one video over an inclusive UTC date range. */
export function hourlyReachQuery(p: HourlyReachParams): ReportQuery {
  requireId("video id", p.videoId);
  const from = parseUtcDate("--from", p.from);
  const to = parseUtcDate("--to", p.to);
  const hours = (to.getTime() - from.getTime() + MS_PER_DAY) / MS_PER_HOUR;
  if (hours < 24) throw new Error(`--from (${p.from}) must not be after --to (${p.to})`);
  if (hours > MAX_REACH_HOURS) {
    throw new Error(`hour range ${p.from}..${p.to} spans ${hours} hours; at most ${MAX_REACH_HOURS}, split it`);
  }
  return {
    text:
      "SELECT to_char(hour_utc, 'YYYY-MM-DD\"T\"HH24:00\"Z\"') AS hour_utc, segments, viewers " +
      "FROM watch_hourly_report($1, $2::date, $3::date) ORDER BY hour_utc",
    values: [p.videoId, p.from, p.to],
  };
}
