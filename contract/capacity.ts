/**
 * Partition sizing for the heartbeat topics. Pure: config numbers in, partition counts out, so the numbers in the
 * README come from the same function the program uses.
 *
 * A topic needs enough partitions for (a) its peak byte rate at a per-partition budget well under what one partition
 * sustains, and (b) the consumer parallelism the design needs (ksqlDB stream threads, Connect tasks): a consumer group
 * can never use more consumers than there are partitions. Partitions of a keyed topic cannot be added later without
 * moving keys (and ksqlDB session state) to other partitions, so growth headroom is bought up front.
 */

export interface CapacityInputs {
  /** Peak heartbeats per second across all players. */
  readonly peakEventsPerSec: number;
  /** Average serialized event size on the wire, bytes. */
  readonly avgEventBytes: number;
  /** Bytes per second one partition is planned to carry at peak, MB/s (10^6 bytes). */
  readonly partitionBudgetMBps: number;
  /** Consumers that must be able to read the topic in parallel. */
  readonly consumerParallelism: number;
}

export interface PartitionPlan {
  /** Partitions for the high-volume topics (raw, validated, segments). */
  readonly partitions: number;
  /** Peak ingest in MB/s. */
  readonly peakMBps: number;
  /** Partitions the byte rate alone needs (before growth headroom). */
  readonly throughputPartitions: number;
  /** What set the count: the byte rate (with headroom) or the consumer parallelism. */
  readonly limitedBy: "throughput" | "parallelism";
  /** Planned peak per partition, MB/s. */
  readonly perPartitionPeakMBps: number;
  /** Capacity at budget over peak: 2.0 means the topic can take twice the design peak before exceeding its budget. */
  readonly headroom: number;
}

/** Traffic growth the partition count absorbs before a (disruptive) repartition: 50 % over the design peak. */
export const GROWTH_HEADROOM_FACTOR = 1.5;
/** Partition counts are rounded up to a multiple of this so leaders spread evenly over 3 brokers (one per AZ). */
export const PARTITION_MULTIPLE = 3;
/** Above this a single topic's partition count makes controller failover and rebalancing slow; shard the topic. */
export const MAX_PARTITIONS_PER_TOPIC = 600;
/** Low-volume topics (rejects, DLQ): one leader per broker. Even if every raw record were rejected, 3 partitions
 *  carry the design peak at < 10 MB/s each. */
export const LOW_VOLUME_PARTITIONS = 3;

function roundUpTo(value: number, multiple: number): number {
  return Math.ceil(value / multiple) * multiple;
}

/** Plan partitions for the high-volume topics. Throws with the inputs named when the plan is not sane. */
export function partitionPlan(inputs: CapacityInputs): PartitionPlan {
  const { peakEventsPerSec, avgEventBytes, partitionBudgetMBps, consumerParallelism } = inputs;
  for (const [name, value] of Object.entries(inputs)) {
    if (!(Number.isFinite(value) && value > 0)) {
      throw new Error(`capacity.${name}: expected a positive number; got ${String(value)}. Fix watchpipe:capacity in the stack config.`);
    }
  }
  const peakMBps = (peakEventsPerSec * avgEventBytes) / 1e6;
  const throughputPartitions = Math.ceil(peakMBps / partitionBudgetMBps);
  const withGrowth = Math.ceil(throughputPartitions * GROWTH_HEADROOM_FACTOR);
  const needed = Math.max(withGrowth, consumerParallelism);
  const partitions = roundUpTo(needed, PARTITION_MULTIPLE);
  if (partitions > MAX_PARTITIONS_PER_TOPIC) {
    throw new Error(
      `capacity: ${peakEventsPerSec} events/s × ${avgEventBytes} B at ${partitionBudgetMBps} MB/s per partition needs ${partitions} partitions, ` +
        `more than the ${MAX_PARTITIONS_PER_TOPIC} one topic should have. Raise capacity.partitionBudgetMBps or shard the topic.`,
    );
  }
  return {
    partitions,
    peakMBps,
    throughputPartitions,
    limitedBy: withGrowth >= consumerParallelism ? "throughput" : "parallelism",
    perPartitionPeakMBps: peakMBps / partitions,
    headroom: (partitions * partitionBudgetMBps) / peakMBps,
  };
}

/**
 * Sessionization state (ksqlDB, V000006: windows of {@link SessionStateInputs.windowSec} HOPPING by
 * {@link SessionStateInputs.hopSec} on arrival time, COLLECT_SET of fixed-width string points, EMIT FINAL;
 * ksql/README.md "Costs"): what the window store and its changelog write and hold, and what reaches the database. Pure
 * byte arithmetic on the same encoding model `npm run bench:state` replays: store key = session key + 12 bytes (window
 * start, sequence number); value = Schema Registry header 5 + the session key's copy + Avro list of points + 8 bytes of
 * record timestamp. Every heartbeat rewrites each window that holds it (windowSec / hopSec of them) once in the store
 * and once in the changelog; each key closes one window per hop. A tumbling window is hopSec = windowSec.
 */
export interface SessionStateInputs {
  readonly heartbeatsPerSec: number;
  readonly heartbeatIntervalSec: number;
  /** Window size, seconds. */
  readonly windowSec: number;
  /** Window advance, seconds (= windowSec for tumbling windows); windowSec must be a multiple of it. */
  readonly hopSec: number;
  /** Characters of one point in a window's list (V000006: 50, {@link WINDOW_POINT_CHARS}). */
  readonly pointChars: number;
  readonly retentionSec: number;
  /** windowstore.changelog.additional.retention.ms, in seconds. */
  readonly changelogExtraRetentionSec: number;
  /** UTF-8 bytes of a typical session key (user_id|video_id). */
  readonly sessionKeyBytes: number;
  readonly replicationFactor: number;
}

export interface SessionStatePlan {
  /** Bytes one store write (and one changelog record) carries, averaged over a window's heartbeats. */
  readonly bytesPerWrite: number;
  /** Windows each heartbeat is written into (windowSec / hopSec). */
  readonly windowsPerHeartbeat: number;
  /** Store + changelog bytes written per heartbeat (every window holding it, store and changelog). */
  readonly bytesPerHeartbeat: number;
  /** Changelog bytes/s produced by ksqlDB, before replication. */
  readonly changelogBytesPerSec: number;
  /** Changelog bytes/s the brokers write (× replication). */
  readonly brokerChangelogBytesPerSec: number;
  /** RocksDB writes/s on the ksqlDB volumes (logical, before compaction amplification). */
  readonly storeWriteBytesPerSec: number;
  /** Final windows per second (one per key and hop; one piece each for continuous playback). */
  readonly windowsPerSec: number;
  /** Window store contents across all ksqlDB instances (one copy; standbys add one each). */
  readonly storeBytes: number;
  /** Changelog held on the brokers once compacted (one record per window), × replication. */
  readonly brokerChangelogBytes: number;
  /** Rows per day the JDBC sink writes (one piece per window for continuous playback). */
  readonly piecesPerDay: number;
  /** Bytes of one final (full) window record: what EMIT FINAL writes to the sessions topic per window. */
  readonly finalWindowBytes: number;
}

const SR_HEADER_BYTES = 5;
const RECORD_TIMESTAMP_BYTES = 8;
const WINDOW_KEY_SUFFIX_BYTES = 12;
/** V000006's point: event_ts 13 + playhead ms 11 + arrival 13 + played_at 13 digits (ksql/model/encoding.ts). */
export const WINDOW_POINT_CHARS = 50;

/** Avro zig-zag varint length of a non-negative int. */
function varintBytes(n: number): number {
  let v = 2 * n;
  let len = 1;
  while (v >= 128) {
    v = Math.floor(v / 128);
    len++;
  }
  return len;
}

function windowRecordBytes(keyBytes: number, points: number, pointChars: number): number {
  const list = varintBytes(points) + points * (varintBytes(pointChars) + pointChars) + 1;
  return keyBytes + WINDOW_KEY_SUFFIX_BYTES + SR_HEADER_BYTES + varintBytes(keyBytes) + keyBytes + list + RECORD_TIMESTAMP_BYTES;
}

export function sessionStatePlan(i: SessionStateInputs): SessionStatePlan {
  if (!(i.hopSec >= i.heartbeatIntervalSec && i.heartbeatIntervalSec > 0)) {
    throw new Error(`sessionStatePlan: hopSec (${i.hopSec}) must be >= heartbeatIntervalSec (${i.heartbeatIntervalSec}) > 0`);
  }
  if (!(i.windowSec >= i.hopSec && Number.isInteger(i.windowSec / i.hopSec))) {
    throw new Error(`sessionStatePlan: windowSec (${i.windowSec}) must be a whole multiple of hopSec (${i.hopSec}) (tumbling: equal)`);
  }
  if (!(Number.isInteger(i.pointChars) && i.pointChars > 0)) throw new Error(`sessionStatePlan: pointChars must be a positive integer; got ${i.pointChars}`);
  const perWindow = Math.floor(i.windowSec / i.heartbeatIntervalSec);
  const windowsPerHeartbeat = i.windowSec / i.hopSec;
  let sum = 0;
  for (let n = 1; n <= perWindow; n++) sum += windowRecordBytes(i.sessionKeyBytes, n, i.pointChars);
  const bytesPerWrite = sum / perWindow;
  // Each key closes one window per hop, holding a whole window's points.
  const windowsPerSec = i.heartbeatsPerSec / Math.floor(i.hopSec / i.heartbeatIntervalSec);
  const finalBytes = windowRecordBytes(i.sessionKeyBytes, perWindow, i.pointChars);
  const changelogBytesPerSec = i.heartbeatsPerSec * windowsPerHeartbeat * bytesPerWrite;
  return {
    bytesPerWrite,
    windowsPerHeartbeat,
    bytesPerHeartbeat: 2 * windowsPerHeartbeat * bytesPerWrite,
    changelogBytesPerSec,
    brokerChangelogBytesPerSec: changelogBytesPerSec * i.replicationFactor,
    storeWriteBytesPerSec: changelogBytesPerSec,
    windowsPerSec,
    storeBytes: windowsPerSec * i.retentionSec * finalBytes,
    brokerChangelogBytes: windowsPerSec * (i.retentionSec + i.changelogExtraRetentionSec) * finalBytes * i.replicationFactor,
    piecesPerDay: windowsPerSec * 86_400,
    finalWindowBytes: finalBytes,
  };
}
