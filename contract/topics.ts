/**
 * Topic names and the data contract shared by the Kafka component, the ksqlDB SQL, the sink connector, the
 * database schema and the tools. Renaming a topic here renames it everywhere (and replaces the live topic).
 */

/** JSON heartbeats as players (via the HTTP bridge) and the load generator write them. */
export const RAW_HEARTBEATS_TOPIC = "heartbeats_raw";
/** Validated heartbeats, Avro, registered in Schema Registry; keyed for sessionization. */
export const HEARTBEATS_TOPIC = "heartbeats";
/** Raw records that failed validation, with the reason. */
export const REJECTED_HEARTBEATS_TOPIC = "heartbeats_rejected";
/**
 * Pieces of watch segments (sessionization v2), Avro `watchpipe.WatchPiece`, one record per piece of continuous
 * playback within a 30 s window; the JDBC sink upserts them into watch_pieces and the database stitches segments.
 * The topic keeps its v1 name (Strimzi topic, ACLs, DLQ name).
 */
export const WATCH_SEGMENTS_TOPIC = "watch_segments";
/** Records the sink could not write (errors.tolerance=all), with error context headers. */
export const WATCH_SEGMENTS_DLQ_TOPIC = "watch_segments_dlq";
/** ksqlDB's final 30 s windows (EMIT FINAL table); created by the V000002 migration with PARTITIONS and REPLICAS. */
export const HEARTBEAT_SESSIONS_TOPIC = "heartbeat_sessions";
/** ksqlDB's intermediate stream: one encoded piece per row; created by V000002 with PARTITIONS and REPLICAS. */
export const WATCH_SEGMENT_POINTS_TOPIC = "watch_segment_points";
/**
 * Copies of the rejects whose reason starts `late:` (played more than an hour before they were sent): a query of
 * its own writes them, so its producer's sent-record count is the late-reject metric (HeartbeatsRejectedLate).
 */
export const LATE_HEARTBEATS_TOPIC = "heartbeats_late";
/** Topics the sessionization SQL creates itself (every other topic it uses exists as a Strimzi KafkaTopic). */
export const KSQL_CREATED_TOPICS = [HEARTBEAT_SESSIONS_TOPIC, WATCH_SEGMENT_POINTS_TOPIC, LATE_HEARTBEATS_TOPIC] as const;
/** Schema Registry's own store (compacted). */
export const SCHEMAS_TOPIC = "_schemas";

/** A heartbeat as it arrives on {@link RAW_HEARTBEATS_TOPIC} (JSON). Players send one every 5 s. */
export interface Heartbeat {
  readonly user_id: string;
  readonly video_id: string;
  /** Playhead in seconds, >= 0. */
  readonly position_sec: number;
  /** Epoch milliseconds when the player emitted the heartbeat. */
  readonly event_ts: number;
  readonly device_id?: string;
  /**
   * The player's clock when it sent the request (epoch ms, optional). With event_ts on the same clock it gives how
   * long the player held the heartbeat, so the pipeline places it on our clock whatever the player's skew
   * (ksql/migrations/V000004: played_at = arrival − (sent_at − event_ts)).
   */
  readonly sent_at?: number;
}

/** A watch segment: one stretch of one user's continuous playback of one video. */
export interface WatchSegment {
  readonly user_id: string;
  readonly video_id: string;
  readonly start_position_sec: number;
  readonly end_position_sec: number;
  /** Event time (epoch ms) of the segment's first heartbeat. */
  readonly start_ts: number;
  /** Event time (epoch ms) of the segment's last heartbeat. */
  readonly end_ts: number;
  readonly heartbeat_count: number;
  /** end_position_sec - start_position_sec. */
  readonly watched_sec: number;
}

/**
 * A piece: consecutive heartbeats of one user and video within one 30 s window that the pairwise rule keeps
 * together, as the watch_segments topic carries it (ksql/migrations/V000002). Positions in seconds, times epoch ms.
 */
export interface WatchPiece {
  readonly user_id: string;
  readonly video_id: string;
  /** Event time of the piece's first heartbeat. */
  readonly start_ts: number;
  /** Event time of the piece's last heartbeat. */
  readonly end_ts: number;
  readonly first_position_sec: number;
  readonly last_position_sec: number;
  readonly min_position_sec: number;
  readonly max_position_sec: number;
  readonly heartbeat_count: number;
  /** 1, 2, ... within its window: orders pieces that start at the same event time. */
  readonly piece_no: number;
  /** The rule the piece was cut with; the database stitches with the same. */
  readonly session_gap_ms: number;
  readonly seek_tolerance_ms: number;
  readonly max_rate_permille: number;
}

/** The player's heartbeat interval the design assumes. */
export const HEARTBEAT_INTERVAL_SEC = 5;
