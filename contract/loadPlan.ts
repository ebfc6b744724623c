/**
 * Every byte the pipeline writes, and what it uses of each resource that carries it, at a stack's peak. Pure
 * arithmetic on named per-record sizes and on {@link sessionStatePlan}; `npm run plan` prints it, the capacity
 * tests check prod carries the design peak at <= {@link LOAD_BUDGET} of every resource.
 *
 * Costs grow per heartbeat (raw, validated, window-store and changelog writes), per 30 s window of a viewer (final
 * windows, encoded pieces, pieces, sink upserts) and per day (retained bytes = daily bytes × retention). Nothing
 * here grows with session length (ksql/README.md "Costs").
 *
 * Not modelled: CPU (brokers, ksqlDB, Connect), page-cache misses (consumers that fall behind read from disk),
 * YugabyteDB itself, Kafka record compression (ksqlDB's zstd, the Bridge's none) — every size is uncompressed, so
 * the broker figures are upper bounds.
 */
import { sessionStatePlan, type SessionStateInputs } from "./capacity";
import {
  HEARTBEAT_SESSIONS_TOPIC,
  HEARTBEATS_TOPIC,
  RAW_HEARTBEATS_TOPIC,
  REJECTED_HEARTBEATS_TOPIC,
  WATCH_SEGMENT_POINTS_TOPIC,
  WATCH_SEGMENTS_DLQ_TOPIC,
  WATCH_SEGMENTS_TOPIC,
} from "./topics";

/** Every resource runs at most at half its capacity at peak: a broker or ksqlDB server lost still fits. */
export const LOAD_BUDGET = 0.5;
/** Kafka's per-record overhead inside a batch (length, attributes, deltas, header count), amortised. */
export const RECORD_OVERHEAD_BYTES = 8;
/** A validated heartbeat on `heartbeats`: Avro value + key, as `npm run bench:state` encodes the load generator's ids. */
export const HEARTBEAT_RECORD_BYTES = 75;
/**
 * One encoded piece on `watch_segment_points`: windowed key (session key + 8 B window start) + SR header 5 + Avro
 * string of 84 characters (85) ≈ 112 B with a 14-byte session key.
 */
export const ENCODED_PIECE_BYTES = 112;
/**
 * One piece on `watch_segments` (Avro watchpipe.WatchPiece): windowed key 22 + SR header 5 + user_id 8 + video_id 7 +
 * 2 timestamps 12 + 4 doubles 32 + 5 small ints 10 ≈ 96 B.
 */
export const PIECE_RECORD_BYTES = 96;
/** The load generator's session key `u000123|v01234`, UTF-8 bytes (real ids may be longer: the sizes scale with it). */
export const SESSION_KEY_BYTES = 14;
/** Retention of the topics ksqlDB creates itself (the broker default, log.retention.hours). */
export const KAFKA_DEFAULT_RETENTION_HOURS = 168;
/**
 * YSQL upserts one sink task sustains (batches of 250, one connection, a 3-node universe). An assumption, NOT
 * measured: YugabyteDB cannot run on the build machine (PostgreSQL stands in for YSQL there and is far faster).
 */
export const ASSUMED_SINK_UPSERTS_PER_TASK_PER_SEC = 2000;
/** Standby copies of each ksqlDB task's state (one when there is another server to hold it). */
export function standbyCopies(replicas: number): number {
  return replicas > 1 ? 1 : 0;
}
/**
 * One stored piece row in the daily gzipped dump (connectors/backup.ts), measured by test/real/backup.test.ts on
 * PostgreSQL 15 (docs/runbooks/yugabyte.md): ~47 bytes. Each dump holds the whole table, so it grows with history.
 */
export const BACKUP_DUMP_BYTES_PER_PIECE = 47;
/**
 * History the backup estimate prices: a year of pieces in the table (nothing deletes pieces, so every dump grows by a
 * day's pieces each day; after two years the storage line doubles).
 */
export const BACKUP_PLAN_HISTORY_DAYS = 365;
/** A rejected heartbeat: the raw JSON plus the reason and the validation columns. */
export const REJECT_OVERHEAD_BYTES = 80;
/** Error-context headers the sink adds to a dead-lettered piece (exception class, message, topic, offset). */
export const DLQ_HEADER_BYTES = 200;
/** Share of raw records the design assumes are rejected (and of pieces the sink dead-letters). */
export const DESIGN_REJECT_SHARE = 0.01;
/**
 * Average size of one EBS write I/O for the brokers' and RocksDB's sequential appends (the page cache and RocksDB
 * flush in large runs; EBS counts up to 256 KiB as one I/O). 64 KiB is deliberately pessimistic.
 */
export const WRITE_IO_BYTES = 64 * 1024;
/**
 * RocksDB bytes written to disk per logical byte Kafka Streams puts (flushes + compactions; Kafka Streams turns the
 * WAL off). An assumption, not a measurement: leveled compaction writes each byte about once per level it passes,
 * and a window store drops whole segments at retention, so few bytes reach the last levels.
 */
export const ROCKSDB_WRITE_AMPLIFICATION = 10;
/** RocksDB bytes on disk per live byte (obsolete versions awaiting compaction, level sizing). An assumption. */
export const ROCKSDB_SPACE_AMPLIFICATION = 1.5;

const MIB = 1024 * 1024;
const GIB = 1024 * MIB;

export interface VolumeSpec {
  readonly sizeGiB: number;
  readonly throughputMiBps: number;
  readonly iops: number;
}

export interface LoadPlanInputs {
  readonly peakHeartbeatsPerSec: number;
  readonly heartbeatsPerDay: number;
  /** JSON heartbeat on `heartbeats_raw`, bytes (capacity.avgEventBytes). */
  readonly rawEventBytes: number;
  readonly rejectShare: number;
  readonly replicationFactor: number;
  readonly brokers: number;
  readonly brokerVolume: VolumeSpec;
  /** Baseline network bandwidth of a broker's node, MB/s (10^6 bytes) each way. */
  readonly brokerNetworkMBps: number;
  readonly retentionHours: {
    readonly raw: number;
    readonly heartbeats: number;
    readonly segments: number;
    readonly rejected: number;
    /** Topics ksqlDB creates itself (sessions, encoded pieces): the broker default. */
    readonly ksqlCreated: number;
  };
  readonly session: Omit<SessionStateInputs, "heartbeatsPerSec" | "replicationFactor">;
  readonly ksqldb: { readonly replicas: number; readonly standbys: number; readonly volume: VolumeSpec };
  readonly sink: { readonly tasks: number; readonly upsertsPerTaskPerSec: number };
}

export interface TopicLoad {
  readonly topic: string;
  /** Bytes written per heartbeat, averaged (leader, before replication). */
  readonly bytesPerHeartbeat: number;
  /** Leader bytes/s at peak. */
  readonly peakBytesPerSec: number;
  /** Bytes held on all brokers (× replication) once retention is reached at the daily volume. */
  readonly retainedBytes: number;
  /** Read back by a consumer in steady state (the changelog is read only on restore). */
  readonly consumed: boolean;
}

export interface ResourceLoad {
  readonly resource: string;
  readonly used: number;
  readonly capacity: number;
  readonly unit: string;
  readonly utilization: number;
}

export interface LoadPlan {
  readonly topics: readonly TopicLoad[];
  readonly resources: readonly ResourceLoad[];
  /** Leader bytes/s at peak over every topic. */
  readonly leaderBytesPerSec: number;
  /** Leader bytes per day over every topic (inter-AZ traffic is this × (RF − 1) with one replica per zone). */
  readonly leaderBytesPerDay: number;
  readonly piecesPerSec: number;
  /** Pieces the sink writes per day at the daily volume (rows the database gains each day). */
  readonly piecesPerDay: number;
}

function topicLoad(topic: string, bytesPerHeartbeat: number, i: LoadPlanInputs, retention: { hours: number } | { bytes: number }, consumed = true): TopicLoad {
  const retainedBytes = "bytes" in retention ? retention.bytes : bytesPerHeartbeat * i.heartbeatsPerDay * (retention.hours / 24) * i.replicationFactor;
  return { topic, bytesPerHeartbeat, peakBytesPerSec: bytesPerHeartbeat * i.peakHeartbeatsPerSec, retainedBytes, consumed };
}

const use = (resource: string, used: number, capacity: number, unit: string): ResourceLoad => ({ resource, used, capacity, unit, utilization: used / capacity });

export function loadPlan(i: LoadPlanInputs): LoadPlan {
  for (const [name, value] of Object.entries({ peakHeartbeatsPerSec: i.peakHeartbeatsPerSec, brokers: i.brokers, replicationFactor: i.replicationFactor, ksqldbReplicas: i.ksqldb.replicas, sinkTasks: i.sink.tasks })) {
    if (!(Number.isFinite(value) && value > 0)) throw new Error(`loadPlan: ${name} must be a positive number; got ${String(value)}`);
  }
  const state = sessionStatePlan({ ...i.session, heartbeatsPerSec: i.peakHeartbeatsPerSec, replicationFactor: i.replicationFactor });
  const windowsPerHeartbeat = state.windowsPerSec / i.peakHeartbeatsPerSec;
  const o = RECORD_OVERHEAD_BYTES;
  const r = i.retentionHours;
  const topics = [
    topicLoad(RAW_HEARTBEATS_TOPIC, i.rawEventBytes + o, i, { hours: r.raw }),
    topicLoad(HEARTBEATS_TOPIC, (1 - i.rejectShare) * (HEARTBEAT_RECORD_BYTES + o), i, { hours: r.heartbeats }),
    topicLoad(REJECTED_HEARTBEATS_TOPIC, i.rejectShare * (i.rawEventBytes + REJECT_OVERHEAD_BYTES + o), i, { hours: r.rejected }),
    // Compacted: one record per window held for the store's retention (+ the changelog's extra hour), at peak rate.
    topicLoad("window-store changelog", state.bytesPerWrite + o, i, { bytes: state.brokerChangelogBytes }, false),
    topicLoad(HEARTBEAT_SESSIONS_TOPIC, windowsPerHeartbeat * (state.finalWindowBytes + o), i, { hours: r.ksqlCreated }),
    topicLoad(WATCH_SEGMENT_POINTS_TOPIC, windowsPerHeartbeat * (ENCODED_PIECE_BYTES + o), i, { hours: r.ksqlCreated }),
    topicLoad(WATCH_SEGMENTS_TOPIC, windowsPerHeartbeat * (PIECE_RECORD_BYTES + o), i, { hours: r.segments }),
    topicLoad(WATCH_SEGMENTS_DLQ_TOPIC, i.rejectShare * windowsPerHeartbeat * (PIECE_RECORD_BYTES + DLQ_HEADER_BYTES + o), i, { hours: r.rejected }),
  ];
  const leaderPerSec = topics.reduce((s, t) => s + t.peakBytesPerSec, 0);
  const consumedPerSec = topics.filter((t) => t.consumed).reduce((s, t) => s + t.peakBytesPerSec, 0);
  const rf = i.replicationFactor;
  // What a broker writes is what it takes in: produce requests as leader, fetched records as follower.
  const brokerWrites = (leaderPerSec * rf) / i.brokers;
  const brokerOut = (leaderPerSec * (rf - 1) + consumedPerSec) / i.brokers;
  const brokerRetained = topics.reduce((s, t) => s + t.retainedBytes, 0) / i.brokers;

  // Each ksqlDB server holds its share of the active tasks and as many standby copies.
  const ksqlShare = (1 + i.ksqldb.standbys) / i.ksqldb.replicas;
  const ksqlDiskWrites = state.storeWriteBytesPerSec * ksqlShare * ROCKSDB_WRITE_AMPLIFICATION;
  const ksqlState = state.storeBytes * ksqlShare * ROCKSDB_SPACE_AMPLIFICATION;
  const piecesPerSec = state.windowsPerSec * (1 - i.rejectShare);

  const resources = [
    use("broker volume write throughput", brokerWrites / MIB, i.brokerVolume.throughputMiBps, "MiB/s"),
    use("broker volume write IOPS", brokerWrites / WRITE_IO_BYTES, i.brokerVolume.iops, "IOPS"),
    use("broker volume space (retention full)", brokerRetained / GIB, i.brokerVolume.sizeGiB, "GiB"),
    use("broker network in", brokerWrites / 1e6, i.brokerNetworkMBps, "MB/s"),
    use("broker network out", brokerOut / 1e6, i.brokerNetworkMBps, "MB/s"),
    use("ksqlDB volume write throughput", ksqlDiskWrites / MIB, i.ksqldb.volume.throughputMiBps, "MiB/s"),
    use("ksqlDB volume write IOPS", ksqlDiskWrites / WRITE_IO_BYTES, i.ksqldb.volume.iops, "IOPS"),
    use("ksqlDB volume space (state)", ksqlState / GIB, i.ksqldb.volume.sizeGiB, "GiB"),
    use("sink upserts", piecesPerSec, i.sink.tasks * i.sink.upsertsPerTaskPerSec, "rows/s"),
  ];
  const dayFactor = i.heartbeatsPerDay / i.peakHeartbeatsPerSec;
  return { topics, resources, leaderBytesPerSec: leaderPerSec, leaderBytesPerDay: leaderPerSec * dayFactor, piecesPerSec, piecesPerDay: piecesPerSec * dayFactor };
}

/** The resources above {@link LOAD_BUDGET}, for messages. */
export function overBudget(plan: LoadPlan): ResourceLoad[] {
  return plan.resources.filter((r) => r.utilization > LOAD_BUDGET);
}
