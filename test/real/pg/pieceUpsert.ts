/**
 * What the Debezium JDBC sink does to watch_pieces (connectors/schema V004), reproduced with node-postgres: with
 * insert.mode=upsert and primary.key.mode=record_value on (user_id, video_id, start_ts, piece_no) it issues, per
 * record, `INSERT ... ON CONFLICT (pk) DO UPDATE SET col = EXCLUDED.col, ...` and commits once per batch.
 */
import type { Client } from "pg";
import type { WatchPiece } from "../../../ksql/model/pipeline";

export const PIECE_KEY_COLUMNS = ["user_id", "video_id", "start_ts", "piece_no"] as const;
/** Every column the sink writes, in the record's field order. */
export const PIECE_COLUMNS = [
  "user_id", "video_id", "start_ts", "end_ts", "first_position_sec", "last_position_sec", "min_position_sec",
  "max_position_sec", "heartbeat_count", "piece_no", "session_gap_ms", "seek_tolerance_ms", "max_rate_permille",
] as const;

const nonKey = PIECE_COLUMNS.filter((c) => !(PIECE_KEY_COLUMNS as readonly string[]).includes(c));

export const PIECE_UPSERT_SQL =
  `INSERT INTO watch_pieces (${PIECE_COLUMNS.join(", ")}) ` +
  `VALUES (${PIECE_COLUMNS.map((_, i) => `$${i + 1}`).join(", ")}) ` +
  `ON CONFLICT (${PIECE_KEY_COLUMNS.join(", ")}) DO UPDATE SET ` +
  nonKey.map((c) => `${c} = EXCLUDED.${c}`).join(", ");

/** Statement parameters for one piece (epoch-ms timestamps become timestamptz). */
export function pieceParams(p: WatchPiece): unknown[] {
  return PIECE_COLUMNS.map((c) => (c === "start_ts" || c === "end_ts" ? new Date(p[c]) : p[c]));
}

/** Applies one batch like the sink: one transaction, one upsert per record; rolls back on error. */
export async function upsertPieces(client: Client, batch: readonly WatchPiece[]): Promise<void> {
  await client.query("BEGIN");
  try {
    for (const p of batch) await client.query(PIECE_UPSERT_SQL, pieceParams(p));
    await client.query("COMMIT");
  } catch (err) {
    await client.query("ROLLBACK");
    throw err;
  }
}
