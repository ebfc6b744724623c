/**
 * Reading the smoke run's segments back from the watch_segments_v2 view (pieces stitched by the database,
 * connectors/schema V004; YugabyteDB YSQL or PostgreSQL) with node-postgres.
 */
import { Client } from "pg";
import type { WatchSegment } from "../../contract/topics";
import { SEGMENTS_VIEW } from "../../connectors/reports";
import { clientConfig, type Connection } from "../report";

/** Shows up in pg_stat_activity / YSQL's connection list. */
export const SMOKE_APPLICATION_NAME = "watchpipe-smoke";

/**
 * One query for all of the run's users: `user_id = ANY(...)` is a point lookup per user on the hash-sharded first
 * key column in YSQL (a LIKE 'smoke-…%' prefix would scan every tablet).
 */
export const SEGMENTS_QUERY = `SELECT user_id, video_id, start_ts, end_ts, start_position_sec, end_position_sec, heartbeat_count, watched_sec
  FROM ${SEGMENTS_VIEW} WHERE user_id = ANY($1::text[]) ORDER BY user_id, video_id, start_ts`;

export interface SegmentRow {
  readonly user_id: string;
  readonly video_id: string;
  readonly start_ts: Date;
  readonly end_ts: Date;
  readonly start_position_sec: number;
  readonly end_position_sec: number;
  readonly heartbeat_count: number;
  readonly watched_sec: number;
}

/** Pure: a database row (timestamptz as Date, float8/int4 as numbers) -> the WatchSegment contract (epoch ms). */
export function rowToSegment(r: SegmentRow): WatchSegment {
  return {
    user_id: r.user_id,
    video_id: r.video_id,
    start_position_sec: Number(r.start_position_sec),
    end_position_sec: Number(r.end_position_sec),
    start_ts: r.start_ts.getTime(),
    end_ts: r.end_ts.getTime(),
    heartbeat_count: Number(r.heartbeat_count),
    watched_sec: Number(r.watched_sec),
  };
}

/** A connected reader; `close()` ends the connection. */
export async function connectSegmentReader(c: Connection): Promise<{ fetchRows: (userIds: readonly string[]) => Promise<WatchSegment[]>; close: () => Promise<void> }> {
  const client = new Client({ ...clientConfig(c), application_name: SMOKE_APPLICATION_NAME });
  await client.connect();
  return {
    fetchRows: async (userIds) => (await client.query<SegmentRow>(SEGMENTS_QUERY, [[...userIds]])).rows.map(rowToSegment),
    close: () => client.end(),
  };
}
