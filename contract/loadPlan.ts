/**
 * Every byte the pipeline writes, and what it uses of each resource that carries it, at a stack's peak. Pure
 * arithmetic on named per-record sizes and on {@link sessionStatePlan}; `npm run plan` prints it, the capacity
 * tests check prod carries the design peak at <= {@link LOAD_BUDGET} of every resource.
 *
 * Costs grow per heartbeat (raw, validated, window-store and changelog writes), per 30 s window of a viewer (final
 * windows, encoded pieces, pieces, sink upserts) and per day (retained bytes = daily bytes × retention). Nothing
 * here grows with session length (ksql/README.md "Costs").
 *
 * Not modelled: CPU of the brokers and YugabyteDB (ksqlDB's and the Connect sink's are, from measurements), page-cache misses (consumers that fall behind read from
 * disk), the space of the rollup tables (it follows the video catalogue, not the viewings), Kafka record compression (ksqlDB's zstd, the Bridge's none) — every size is uncompressed, so
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
/** Characters of one encoded piece V000006 writes to `watch_segment_points` (its header comment: "97-character pieces"). */
export const ENCODED_PIECE_CHARS = 97;
/**
 * One encoded piece on `watch_segment_points`: windowed key (session key + 8 B window start) + SR header 5 + Avro
 * string of {@link ENCODED_PIECE_CHARS} characters (98) ≈ 125 B with a 14-byte session key (V000004's 84: 112 B).
 */
export const ENCODED_PIECE_BYTES = 14 + 8 + 5 + 1 + ENCODED_PIECE_CHARS;
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
 * CPU time the Kafka Connect worker spends per piece it sinks (consume, convert, transform, bind, batch), measured by
 * `npm run bench:sink` on 2026-12-07: median of 9 loads of 100,000 pieces (1, 2 and 4 tasks, 3 each; 43-61 µs, and
 * 134 µs in the first load, whose JIT was still warming), load average 34-51 on 2 cores. Values were JSON with an
 * embedded schema (~1.1 KB a piece); the cluster's Avro values are smaller and cheaper to decode, so this is an upper
 * bound for them.
 */
export const SINK_CONNECT_CPU_US_PER_ROW = 52;
/**
 * Heartbeats one core of ksqlDB CPU carries through the whole SQL chain (V000004-V000006: validation and rejects,
 * late copies, 60 s arrival-time windows hopping by 30 s, pieces; exactly-once v2, 2 stream threads per query), user +
 * system CPU of the server JVM from /proc: 2,116, the median of 3 runs (1,735, 2,406 and 2,116) of
 * `. /work/engines/env.sh; nice -n 5 npm run bench:ksql -- --port-base 19450` (the third with `--sql new`) on main with
 * V000006, 2026-12-07 (120,012 records of 2,000 viewers each; load average mean 59.3, 36.4 and 10.9 on 2 cores). All
 * three clean: no record dropped as late (ksqldb_streams_dropped_records_total 0) and every query's lag 0 at the end.
 * Validation alone: 5,773 (3,748, 6,277, 5,773). The old SQL (V000001-3) in the first two runs: 2,035 and 2,745, so
 * new/old 0.85× and 0.88×: its hopping windows write each heartbeat twice. The server idles at 6-13 % of a core: net
 * of that 2,216-2,972. (V000004's 2,163, measured before, was an upper side: that bench's window query dropped 93 %
 * of its backlog.)
 */
export const KSQLDB_HEARTBEATS_PER_CORE_SEC = 2116;
/**
 * PostgreSQL 15 CPU time per piece upserted (batches of 250, the unpartitioned V004 table with the V005 triggers on),
 * same loads: median 79 µs (75-91).
 */
export const SINK_POSTGRES_CPU_US_PER_ROW = 79;
// Into the day-partitioned watch_pieces of V006 (bench:sink, 2026-12-07, 100,000 pieces, 3 runs per task count,
// load average 5-7): medians Connect 38-45 µs and PostgreSQL 77-81 µs a row (8,190 / 9,915 / 11,839 rows/s with
// 1 / 2 / 4 tasks on the 2 shared cores). Per row that is no dearer than the unpartitioned figures above, so the plan
// keeps those (they give the lower rate: 7,633 against 8,643 rows/s per task). A first V006 run, one load per task
// count at load average 35-46, read 111-156 µs; the repeat on a quieter machine did not reproduce it.
/**
 * A sink task and its database session work in turn (the task waits for each batch's commit), so one task with a
 * core for each tops out near 1e6 / (Connect + database µs per row): the PostgreSQL figure, from the CPU times above.
 * (The wall-clock rates bench:sink prints are lower: the 2-core machine ran everything else at a load average > 30.)
 */
export const SINK_ROWS_PER_TASK_ON_POSTGRES = Math.floor(1e6 / (SINK_CONNECT_CPU_US_PER_ROW + SINK_POSTGRES_CPU_US_PER_ROW));
/**
 * How much slower a YSQL upsert is than PostgreSQL's, per task. An ASSUMPTION (YugabyteDB cannot run here): each
 * row is a read of its conflict key and a Raft-replicated write on its tablet leader, mostly on another node, where
 * PostgreSQL changes local pages; a batch commits as a distributed transaction over the tablets it touched.
 */
export const YSQL_SINK_SLOWDOWN = 3;
/** Upserts per second the plan counts per sink task: the PostgreSQL figure over {@link YSQL_SINK_SLOWDOWN}. */
export const SINK_UPSERTS_PER_TASK_PER_SEC = Math.floor(SINK_ROWS_PER_TASK_ON_POSTGRES / YSQL_SINK_SLOWDOWN);
/**
 * Bytes one piece row takes in PostgreSQL 15 with its indexes, measured by `npm run bench:reports` on the schema Job's
 * own files (V001-V006, day-partitioned, the `updated_at` index the maintenance job reads included): 208 B at 10 M
 * pieces (209 B at 2 M, 210 B at 0.5 M; issue 23's first measurement on V001-V005: 205 B).
 */
export const PIECE_ROW_BYTES = 208;
/**
 * Bytes one closed segment costs with its indexes, measured by `npm run bench:reports` at 10 M pieces: 247 B in
 * `watch_segments_closed` plus 461 B in the per-(video, day/hour, user) viewer tables and the per-day/per-hour rollups
 * the job keeps beside it. Upper side for the design: measured at 130 pieces a segment, where viewer and rollup rows
 * are shared by fewer segments than at the design's 39.8 (at 0.5 M pieces the two were 420 + 939 B).
 */
export const SEGMENT_ROW_BYTES = 247 + 461;
/** Pieces stitched into one segment on average, measured with 10-120 min sessions (issue 23: 39.8). */
export const PIECES_PER_SEGMENT = 39.8;
/**
 * Rollup rows the maintenance job writes per closed segment, an upper bound: one per-day row per video plus the
 * per-hour rows its time span touches (a 20-min average segment touches 1 + 20/60 hours). Segments of one video in
 * the same day or hour share their rollup row, so the real rate is lower; it depends on the catalogue, not modelled.
 */
export const ROLLUP_ROWS_PER_SEGMENT = 1 + 1 + 20 / 60;
/**
 * YugabyteDB bytes on disk (per replica) per byte of the same rows in PostgreSQL. An ASSUMPTION, not a measurement
 * (YugabyteDB cannot run here): YSQL stores each row as one DocDB key-value pair ("packed rows", the default since
 * v2.20: https://docs.yugabyte.com/stable/architecture/docdb/packed-rows) in RocksDB SST files, which are compressed
 * (Snappy by default), and each secondary index is its own LSM table. Compression gains and LSM space amplification
 * (obsolete versions awaiting compaction), plus each tablet's Raft WAL, are taken to cancel out: 1.0.
 */
export const YSQL_BYTES_PER_POSTGRES_BYTE = 1.0;

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
  readonly ksqldb: {
    readonly replicas: number;
    readonly standbys: number;
    readonly volume: VolumeSpec;
    /** CPU (cores) each server requests (`ksqldb.resources.cpu`). */
    readonly cpuPerServer: number;
    /** Heartbeats one core of ksqlDB CPU carries through the whole SQL chain ({@link KSQLDB_HEARTBEATS_PER_CORE_SEC}). */
    readonly heartbeatsPerCoreSec: number;
  };
  readonly sink: {
    readonly tasks: number;
    readonly upsertsPerTaskPerSec: number;
    /** Partitions of `watch_segments`: a task beyond them gets none and idles. */
    readonly sourcePartitions: number;
    /** Connect workers and the CPU (cores) each may use. */
    readonly workers: number;
    readonly cpuPerWorker: number;
    readonly cpuUsPerRow: number;
  };
  /** YugabyteDB: what it keeps (`watchpipe:database`) on what volumes (`watchpipe:yugabyte`). */
  readonly database: DatabaseInputs;
}

export interface DatabaseInputs {
  readonly pieceRetentionDays: number;
  readonly segmentRetentionDays: number;
  readonly maintenanceEveryMinutes: number;
  readonly replicationFactor: number;
  readonly tservers: number;
  /** Volume per tserver. */
  readonly storageGiB: number;
}

/** The database's share of the plan: rows, bytes and writes. */
export interface DatabasePlan {
  readonly piecesPerDay: number;
  readonly segmentsPerDay: number;
  /** Bytes per day of new rows, one replica (PostgreSQL-measured bytes × the YSQL factor). */
  readonly bytesPerDay: number;
  /** Bytes held once both retentions are full, all replicas. */
  readonly retainedBytes: number;
  /** Write rates at peak: the sink's pieces, and the maintenance job's segments and rollup rows. */
  readonly pieceWritesPerSec: number;
  readonly segmentWritesPerSec: number;
  readonly rollupWritesPerSec: number;
  /** Pieces one maintenance run closes when the whole interval runs at peak. */
  readonly piecesPerRunAtPeak: number;
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
  readonly database: DatabasePlan;
}

/**
 * The database at a stack's load: pieces a day from the plan's daily volume, segments from {@link PIECES_PER_SEGMENT},
 * bytes from the measured row sizes, kept for each retention on every replica.
 */
export function databasePlan(d: DatabaseInputs, piecesPerSec: number, dayFactor: number): DatabasePlan {
  for (const [name, value] of Object.entries(d)) {
    if (!(Number.isFinite(value) && value > 0)) throw new Error(`loadPlan: database.${name} must be a positive number; got ${String(value)}`);
  }
  const piecesPerDay = piecesPerSec * dayFactor;
  const segmentsPerDay = piecesPerDay / PIECES_PER_SEGMENT;
  const f = YSQL_BYTES_PER_POSTGRES_BYTE;
  const pieceBytesPerDay = piecesPerDay * PIECE_ROW_BYTES * f;
  const segmentBytesPerDay = segmentsPerDay * SEGMENT_ROW_BYTES * f;
  const segmentWritesPerSec = piecesPerSec / PIECES_PER_SEGMENT;
  return {
    piecesPerDay,
    segmentsPerDay,
    bytesPerDay: pieceBytesPerDay + segmentBytesPerDay,
    // Day partitions: the retained days plus the one being written (whole days are dropped, never part of one).
    retainedBytes: (pieceBytesPerDay * (d.pieceRetentionDays + 1) + segmentBytesPerDay * (d.segmentRetentionDays + 1)) * d.replicationFactor,
    pieceWritesPerSec: piecesPerSec,
    segmentWritesPerSec,
    rollupWritesPerSec: segmentWritesPerSec * ROLLUP_ROWS_PER_SEGMENT,
    piecesPerRunAtPeak: piecesPerSec * d.maintenanceEveryMinutes * 60,
  };
}

function topicLoad(topic: string, bytesPerHeartbeat: number, i: LoadPlanInputs, retention: { hours: number } | { bytes: number }, consumed = true): TopicLoad {
  const retainedBytes = "bytes" in retention ? retention.bytes : bytesPerHeartbeat * i.heartbeatsPerDay * (retention.hours / 24) * i.replicationFactor;
  return { topic, bytesPerHeartbeat, peakBytesPerSec: bytesPerHeartbeat * i.peakHeartbeatsPerSec, retainedBytes, consumed };
}

const use = (resource: string, used: number, capacity: number, unit: string): ResourceLoad => ({ resource, used, capacity, unit, utilization: used / capacity });

export function loadPlan(i: LoadPlanInputs): LoadPlan {
  for (const [name, value] of Object.entries({ peakHeartbeatsPerSec: i.peakHeartbeatsPerSec, brokers: i.brokers, replicationFactor: i.replicationFactor, ksqldbReplicas: i.ksqldb.replicas, ksqldbCpuPerServer: i.ksqldb.cpuPerServer, ksqldbHeartbeatsPerCoreSec: i.ksqldb.heartbeatsPerCoreSec, sinkTasks: i.sink.tasks, connectWorkers: i.sink.workers, connectCpuPerWorker: i.sink.cpuPerWorker })) {
    if (!(Number.isFinite(value) && value > 0)) throw new Error(`loadPlan: ${name} must be a positive number; got ${String(value)}`);
  }
  const state = sessionStatePlan({ ...i.session, heartbeatsPerSec: i.peakHeartbeatsPerSec, replicationFactor: i.replicationFactor });
  const finalWindowsPerHeartbeat = state.windowsPerSec / i.peakHeartbeatsPerSec;
  const o = RECORD_OVERHEAD_BYTES;
  const r = i.retentionHours;
  const topics = [
    topicLoad(RAW_HEARTBEATS_TOPIC, i.rawEventBytes + o, i, { hours: r.raw }),
    topicLoad(HEARTBEATS_TOPIC, (1 - i.rejectShare) * (HEARTBEAT_RECORD_BYTES + o), i, { hours: r.heartbeats }),
    topicLoad(REJECTED_HEARTBEATS_TOPIC, i.rejectShare * (i.rawEventBytes + REJECT_OVERHEAD_BYTES + o), i, { hours: r.rejected }),
    // One record per window holding the heartbeat (two with V000006's hopping windows). Compacted: one record per
    // window held for the store's retention (+ the changelog's extra hour), at peak rate.
    topicLoad("window-store changelog", state.windowsPerHeartbeat * (state.bytesPerWrite + o), i, { bytes: state.brokerChangelogBytes }, false),
    topicLoad(HEARTBEAT_SESSIONS_TOPIC, finalWindowsPerHeartbeat * (state.finalWindowBytes + o), i, { hours: r.ksqlCreated }),
    topicLoad(WATCH_SEGMENT_POINTS_TOPIC, finalWindowsPerHeartbeat * (ENCODED_PIECE_BYTES + o), i, { hours: r.ksqlCreated }),
    topicLoad(WATCH_SEGMENTS_TOPIC, finalWindowsPerHeartbeat * (PIECE_RECORD_BYTES + o), i, { hours: r.segments }),
    topicLoad(WATCH_SEGMENTS_DLQ_TOPIC, i.rejectShare * finalWindowsPerHeartbeat * (PIECE_RECORD_BYTES + DLQ_HEADER_BYTES + o), i, { hours: r.rejected }),
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
    use("ksqlDB server CPU", i.peakHeartbeatsPerSec / i.ksqldb.heartbeatsPerCoreSec, i.ksqldb.replicas * i.ksqldb.cpuPerServer, "cores"),
    use("sink upserts", piecesPerSec, Math.min(i.sink.tasks, i.sink.sourcePartitions) * i.sink.upsertsPerTaskPerSec, "rows/s"),
    use("Connect worker CPU (sink)", (piecesPerSec * i.sink.cpuUsPerRow) / 1e6, i.sink.workers * i.sink.cpuPerWorker, "cores"),
  ];
  const dayFactor = i.heartbeatsPerDay / i.peakHeartbeatsPerSec;
  const database = databasePlan(i.database, piecesPerSec, dayFactor);
  // Tablets spread evenly over the tservers (hash sharding), so each holds its share of every replica.
  resources.push(use("YugabyteDB volume space (retention full)", database.retainedBytes / i.database.tservers / GIB, i.database.storageGiB, "GiB"));
  return { topics, resources, leaderBytesPerSec: leaderPerSec, leaderBytesPerDay: leaderPerSec * dayFactor, piecesPerSec, piecesPerDay: piecesPerSec * dayFactor, database };
}

/** The resources above {@link LOAD_BUDGET}, for messages. */
export function overBudget(plan: LoadPlan): ResourceLoad[] {
  return plan.resources.filter((r) => r.utilization > LOAD_BUDGET);
}
