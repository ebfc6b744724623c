/**
 * What the Debezium JDBC sink does to watch_segments, reproduced with node-postgres: for PostgreSQL (and YSQL)
 * with insert.mode=upsert and primary.key.mode=record_value on (user_id, video_id, start_ts) it issues, per record,
 * `INSERT INTO t (cols) VALUES (...) ON CONFLICT (pk) DO UPDATE SET col = EXCLUDED.col, ...` for every non-key
 * column, and commits once per flushed batch.
 */
import type { Client } from "pg";
import type { WatchSegment } from "../../../contract/topics";

/** The key the sink upserts on (primary.key.fields). */
export const SEGMENT_KEY_COLUMNS = ["user_id", "video_id", "start_ts"] as const;
/** Every column the sink writes, in the record's field order. updated_at is the database's own. */
export const SEGMENT_COLUMNS = [
  "user_id", "video_id", "start_ts", "end_ts", "start_position_sec", "end_position_sec", "heartbeat_count",
  "watched_sec",
] as const;

const nonKey = SEGMENT_COLUMNS.filter((c) => !(SEGMENT_KEY_COLUMNS as readonly string[]).includes(c));

/** The upsert statement, with $1..$8 in {@link SEGMENT_COLUMNS} order. */
export const SINK_UPSERT_SQL =
  `INSERT INTO watch_segments (${SEGMENT_COLUMNS.join(", ")}) ` +
  `VALUES (${SEGMENT_COLUMNS.map((_, i) => `$${i + 1}`).join(", ")}) ` +
  `ON CONFLICT (${SEGMENT_KEY_COLUMNS.join(", ")}) DO UPDATE SET ` +
  nonKey.map((c) => `${c} = EXCLUDED.${c}`).join(", ");

/** Statement parameters for one segment (epoch-ms timestamps become timestamptz). */
export function segmentParams(s: WatchSegment): unknown[] {
  return [
    s.user_id, s.video_id, new Date(s.start_ts), new Date(s.end_ts), s.start_position_sec, s.end_position_sec,
    s.heartbeat_count, s.watched_sec,
  ];
}

/** Applies one batch like the sink: one transaction, one upsert per record; rolls back on error. */
export async function upsertBatch(client: Client, batch: readonly WatchSegment[]): Promise<void> {
  await client.query("BEGIN");
  try {
    for (const s of batch) await client.query(SINK_UPSERT_SQL, segmentParams(s));
    await client.query("COMMIT");
  } catch (err) {
    await client.query("ROLLBACK");
    throw err;
  }
}
