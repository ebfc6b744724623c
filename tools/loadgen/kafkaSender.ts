/**
 * The load generator's Kafka producer: kafkajs with the durability settings from contract/durability.ts and a
 * send pattern that is safe with kafkajs's idempotent producer.
 *
 * Why the pattern: kafkajs assigns idempotence sequence numbers per partition when it builds a request and rolls
 * them back when the request fails (node_modules/kafkajs/src/producer/sendMessages.js). Concurrent sends on one
 * producer interleave those updates, and a later batch can reuse a sequence number the broker has already seen;
 * the broker then answers "duplicate" and the new records are acknowledged but never written (kafkajs#1005).
 * So each producer here has exactly ONE batch in flight (enforced, not just documented), sends it as one
 * single-partition request per partition (see KafkaLane), and after any failed send is thrown away and replaced:
 * a new producer id starts sequences at 0, so no partially-written batch can collide with the next one.
 * Throughput comes from large batches and several such producers.
 */
import { CompressionTypes, Kafka, Partitioners, logLevel, type KafkaConfig, type Producer, type ProducerConfig, type Message } from "kafkajs";
import { PRODUCER_DURABILITY_CONFIG, SASL_MECHANISM } from "../../contract/durability";
import { readCaFile, type LoadgenConfig } from "./config";
import { SEQ_HEADER, type LoadRecord } from "./records";

/** kafkajs's client-side request timeout must exceed the broker-side ack timeout, or it gives up first. */
export const REQUEST_TIMEOUT_MARGIN_MS = 2_000;
/** kafkajs's default connect timeout (1 s) is too tight for TLS handshakes to a remote cluster. */
export const CONNECTION_TIMEOUT_MS = 5_000;

/** Java-style `acks` -> kafkajs's number: "all" is -1. */
export function kafkajsAcks(acks: string): -1 | 0 | 1 {
  if (acks === "all" || acks === "-1") return -1;
  if (acks === "1") return 1;
  if (acks === "0") return 0;
  throw new Error(`unsupported acks value "${acks}": expected "all", "1" or "0"`);
}

/** The only acks the load generator uses: derived from PRODUCER_DURABILITY_CONFIG, so it is acks=all (-1). */
export const LOADGEN_ACKS = kafkajsAcks(PRODUCER_DURABILITY_CONFIG.acks);

/** kafkajs's SASL mechanism name for our SCRAM-SHA-512. */
export function kafkajsSaslMechanism(mechanism: string): "scram-sha-512" {
  if (mechanism.toLowerCase() === "scram-sha-512") return "scram-sha-512";
  throw new Error(`unsupported SASL mechanism "${mechanism}": the load generator speaks SCRAM-SHA-512 (SASL_MECHANISM in contract/durability.ts)`);
}

/** Pure: kafkajs client settings (brokers, TLS, SCRAM, timeouts, retry) for a config. `readCa` is injectable for tests. */
export function kafkaClientConfig(cfg: LoadgenConfig, readCa: (path: string) => string = readCaFile): KafkaConfig {
  const ssl = cfg.tls ? (cfg.caFile !== null ? { ca: [readCa(cfg.caFile)] } : true) : undefined;
  const sasl =
    cfg.saslUsername !== null && cfg.saslPassword !== null
      ? { mechanism: kafkajsSaslMechanism(SASL_MECHANISM), username: cfg.saslUsername, password: cfg.saslPassword }
      : undefined;
  return {
    clientId: cfg.clientId,
    brokers: [...cfg.bootstrap],
    ...(ssl === undefined ? {} : { ssl }),
    ...(sasl === undefined ? {} : { sasl }),
    connectionTimeout: CONNECTION_TIMEOUT_MS,
    requestTimeout: cfg.sendTimeoutMs + REQUEST_TIMEOUT_MARGIN_MS,
    // Explicit: kafkajs silently defaults to 5 retries; the same policy applies to metadata and connects.
    retry: { retries: cfg.retries, initialRetryTime: cfg.initialRetryTimeMs, maxRetryTime: cfg.maxRetryTimeMs },
    logLevel: logLevel.NOTHING,
  };
}

/** Pure: kafkajs producer settings. */
export function kafkaProducerConfig(cfg: LoadgenConfig): ProducerConfig {
  return {
    idempotent: PRODUCER_DURABILITY_CONFIG["enable.idempotence"],
    // The Java clients run 5 in flight; kafkajs's idempotence is only safe with one request per broker at a time
    // (kafkajs#1005). One send in flight per producer gives that; this makes kafkajs itself refuse more.
    maxInFlightRequests: 1,
    // Topics are created by the platform (RF 3, min ISR 2); a typo must fail, not create a 1-replica topic.
    allowAutoTopicCreation: false,
    retry: { retries: cfg.retries, initialRetryTime: cfg.initialRetryTimeMs, maxRetryTime: cfg.maxRetryTimeMs },
  };
}

/**
 * Upper bound (ms) for one send to fail when the cluster cannot accept writes: every attempt may wait the full
 * request timeout, plus kafkajs's backoffs (each at most maxRetryTime, x1.2 for its randomisation), plus one
 * producer (re)connect. The durability test asserts sends fail within this.
 */
export function maxSendFailureMs(cfg: Pick<LoadgenConfig, "retries" | "sendTimeoutMs" | "initialRetryTimeMs" | "maxRetryTimeMs">): number {
  let backoff = 0;
  let step = cfg.initialRetryTimeMs;
  for (let i = 0; i < cfg.retries; i++) {
    backoff += Math.min(cfg.maxRetryTimeMs, step) * 1.2;
    step *= 2;
  }
  return (cfg.retries + 1) * (cfg.sendTimeoutMs + REQUEST_TIMEOUT_MARGIN_MS) + Math.ceil(backoff) + CONNECTION_TIMEOUT_MS;
}

export function toKafkaMessage(r: LoadRecord, runId: string): Message {
  return { key: r.key, value: r.value, headers: { [SEQ_HEADER]: `${runId}:${r.seq}` } };
}

/** Outcome of one send call: `ackedRecords` are durably written (acks=all); the others may or may not be. */
export interface SendResult {
  readonly acked: number;
  readonly failed: number;
  readonly ackedRecords: readonly LoadRecord[];
  readonly latencyMs: number;
  readonly error?: Error;
}

/** kafkajs's own key partitioner (murmur2, the Java client's): we group by partition before sending. */
const keyPartitioner = Partitioners.DefaultPartitioner();

/** kafkajs's partitioner wants partition metadata; only the count matters for keyed records. */
function fakePartitionMetadata(numPartitions: number): { partitionId: number; leader: number; partitionErrorCode: number; replicas: number[]; isr: number[] }[] {
  return Array.from({ length: numPartitions }, (_, partitionId) => ({ partitionId, leader: 0, partitionErrorCode: 0, replicas: [], isr: [] }));
}

/** Pure: the partition kafkajs (and the Java client) would pick for `key` on a topic with `numPartitions`. */
export function partitionForKey(topic: string, key: string, numPartitions: number): number {
  return keyPartitioner({ topic, partitionMetadata: fakePartitionMetadata(numPartitions), message: { key, value: null } });
}

/**
 * partitionForKey, memoized per key: keys are the simulated users, a bounded set, and hashing every record
 * cost ~2 us of the ~19 us per record we measured before this cache.
 */
export function createKeyPartitioner(topic: string, numPartitions: number): (key: string) => number {
  const partitionMetadata = fakePartitionMetadata(numPartitions);
  const cache = new Map<string, number>();
  return (key) => {
    let p = cache.get(key);
    if (p === undefined) {
      p = keyPartitioner({ topic, partitionMetadata, message: { key, value: null } });
      cache.set(key, p);
    }
    return p;
  };
}

/** Pure: records grouped by target partition, keeping their order within each partition. */
export function groupByPartition(
  topic: string,
  records: readonly LoadRecord[],
  numPartitions: number,
  partitionOf: (key: string) => number = createKeyPartitioner(topic, numPartitions),
): Map<number, LoadRecord[]> {
  const groups = new Map<number, LoadRecord[]>();
  for (const r of records) {
    const p = partitionOf(r.key);
    const g = groups.get(p);
    if (g === undefined) groups.set(p, [r]);
    else g.push(r);
  }
  return groups;
}

/** Pure: lane that owns `partition` when `lanes` lanes split a topic's partitions round-robin. */
export function laneForPartition(partition: number, lanes: number): number {
  return partition % lanes;
}

/** Pure: how many lanes to run: one per partition, at most the configured number of producers. */
export function laneCount(producers: number, partitions: number): number {
  if (!Number.isInteger(partitions) || partitions < 1) throw new Error(`partition count must be an integer >= 1, got ${partitions}; does the topic exist?`);
  return Math.max(1, Math.min(producers, partitions));
}

/** Partition count and key -> partition mapping of one topic, fetched once and shared by a run's lanes. */
export interface TopicPartitioning {
  readonly partitions: number;
  readonly partitionOf: (key: string) => number;
}

/** Reads the topic's partition count from the cluster. */
export async function fetchTopicPartitioning(kafka: Kafka, topic: string): Promise<TopicPartitioning> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const md = await admin.fetchTopicMetadata({ topics: [topic] });
    const n = md.topics[0]?.partitions.length ?? 0;
    if (n < 1) throw new Error(`topic ${topic} has no partitions in the cluster metadata; does it exist?`);
    return { partitions: n, partitionOf: createKeyPartitioner(topic, n) };
  } finally {
    await admin.disconnect();
  }
}

/**
 * One producer lane. Each call splits its batch by partition and sends one request per partition (at most one
 * in flight per partition, never two sends racing on one partition's sequence numbers). A single-partition send
 * is all-or-nothing, and kafkajs's internal retries resend it with the same producer id and sequence, so the
 * broker deduplicates a retry of a write that had in fact landed. Multi-partition sends are NOT used: on retry
 * kafkajs re-sends only to brokers that have not answered yet, so a partition whose leader moved to a broker that
 * already answered is silently skipped and reported as sent (we saw acknowledged records lost that way).
 * After a partition send finally fails, the producer is replaced (new producer id) before the next call.
 * In a partitioned run (createPartitionedKafkaLanes) a lane only ever gets records of the partitions it owns.
 */
export class KafkaLane {
  private producer: Producer | null = null;
  private partitioning: TopicPartitioning | null;
  private inFlight = false;
  private closed = false;
  /** `<runId>:` prefix of every sequence header, built once. */
  private readonly seqPrefix: string;

  constructor(
    private readonly kafka: Kafka,
    private readonly cfg: LoadgenConfig,
    runId: string,
    partitioning: TopicPartitioning | null = null,
  ) {
    this.partitioning = partitioning;
    this.seqPrefix = `${runId}:`;
  }

  private async topicPartitioning(): Promise<TopicPartitioning> {
    this.partitioning ??= await fetchTopicPartitioning(this.kafka, this.cfg.topic);
    return this.partitioning;
  }

  private async discardProducer(): Promise<void> {
    const p = this.producer;
    this.producer = null;
    if (p !== null) await p.disconnect().catch(() => undefined);
  }

  /** kafkajs messages for one partition; built in a plain loop (no spreads): this runs for every record. */
  private messagesFor(group: readonly LoadRecord[], partition: number): Message[] {
    const out = new Array<Message>(group.length);
    for (let i = 0; i < group.length; i++) {
      const r = group[i]!;
      out[i] = { key: r.key, value: r.value, partition, headers: { [SEQ_HEADER]: this.seqPrefix + r.seq } };
    }
    return out;
  }

  async send(records: readonly LoadRecord[]): Promise<SendResult> {
    if (this.inFlight) {
      throw new Error("KafkaLane.send called while a send is in flight: concurrent sends on one kafkajs idempotent producer can lose acknowledged records (kafkajs#1005); await each send or add lanes");
    }
    if (this.closed) throw new Error("KafkaLane.send called after close()");
    this.inFlight = true;
    const started = Date.now();
    const fail = (err: unknown): SendResult => ({
      acked: 0,
      failed: records.length,
      ackedRecords: [],
      latencyMs: Date.now() - started,
      error: err instanceof Error ? err : new Error(String(err)),
    });
    try {
      let producer: Producer;
      let partitioning: TopicPartitioning;
      try {
        partitioning = await this.topicPartitioning();
        if (this.producer === null) {
          const p = this.kafka.producer(kafkaProducerConfig(this.cfg));
          await p.connect();
          this.producer = p;
        }
        producer = this.producer;
      } catch (err) {
        await this.discardProducer();
        return fail(err);
      }
      const groups = [...groupByPartition(this.cfg.topic, records, partitioning.partitions, partitioning.partitionOf)];
      const compression = this.cfg.compression === "gzip" ? CompressionTypes.GZIP : CompressionTypes.None;
      const outcomes = await Promise.allSettled(
        groups.map(([partition, group]) =>
          producer.send({
            topic: this.cfg.topic,
            acks: LOADGEN_ACKS,
            timeout: this.cfg.sendTimeoutMs,
            compression,
            messages: this.messagesFor(group, partition),
          }),
        ),
      );
      const ackedRecords: LoadRecord[] = [];
      let error: Error | undefined;
      outcomes.forEach((o, i) => {
        if (o.status === "fulfilled") {
          for (const r of groups[i]![1]) ackedRecords.push(r);
        } else error ??= o.reason instanceof Error ? o.reason : new Error(String(o.reason));
      });
      // A finally failed partition send may be partly written; its sequence numbers die with this producer id.
      if (error !== undefined) await this.discardProducer();
      const base = { acked: ackedRecords.length, failed: records.length - ackedRecords.length, ackedRecords, latencyMs: Date.now() - started };
      return error === undefined ? base : { ...base, error };
    } finally {
      this.inFlight = false;
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.discardProducer();
  }
}

/** Builds `cfg.producers` lanes sharing one kafkajs client (one metadata cache, separate producer ids). */
export function createKafkaLanes(cfg: LoadgenConfig, runId: string): KafkaLane[] {
  const kafka = new Kafka(kafkaClientConfig(cfg));
  return Array.from({ length: cfg.producers }, () => new KafkaLane(kafka, cfg, runId));
}

/** Lanes that each own a fixed set of partitions, and the router that sends each record to its owner. */
export interface PartitionedLanes<L = KafkaLane> {
  readonly lanes: L[];
  /** Index of the lane that owns `key`'s partition. */
  readonly laneOf: (key: string) => number;
  readonly partitions: number;
}

/** Pure: partition -> lane index when `lanes` lanes split `owned` partitions round-robin. */
export function laneByPartition(owned: readonly number[], lanes: number): Map<number, number> {
  return new Map(owned.map((p, i) => [p, laneForPartition(i, lanes)]));
}

/**
 * One lane per partition up to `cfg.producers`; lanes split the `owned` partitions (default: all) round-robin.
 * Every request a lane sends is then large and single-partition, and no two producers write the same
 * partition. Worker threads each pass the partitions they own.
 */
export async function createPartitionedKafkaLanes(cfg: LoadgenConfig, runId: string, owned?: readonly number[]): Promise<PartitionedLanes> {
  const kafka = new Kafka(kafkaClientConfig(cfg));
  const partitioning = await fetchTopicPartitioning(kafka, cfg.topic);
  const mine = owned ?? Array.from({ length: partitioning.partitions }, (_, p) => p);
  const outside = mine.find((p) => p < 0 || p >= partitioning.partitions);
  if (outside !== undefined) throw new Error(`partition ${outside} is not in ${cfg.topic} (0..${partitioning.partitions - 1}); the topic changed under the run?`);
  const n = laneCount(cfg.producers, mine.length);
  const lanes = Array.from({ length: n }, () => new KafkaLane(kafka, cfg, runId, partitioning));
  return { lanes, laneOf: ownedLaneRouter(partitioning, mine, n), partitions: partitioning.partitions };
}

/** key -> index of the lane that owns its partition, when `lanes` lanes split the `owned` partitions round-robin. */
export function ownedLaneRouter(partitioning: TopicPartitioning, owned: readonly number[], lanes: number): (key: string) => number {
  const laneOfPartition = laneByPartition(owned, lanes);
  return (key) => {
    const p = partitioning.partitionOf(key);
    const lane = laneOfPartition.get(p);
    if (lane === undefined) throw new Error(`key ${key} maps to partition ${p}, which this process does not own (owns ${owned.join(",")}); a routing bug`);
    return lane;
  };
}

/** A readable one-line description of a kafkajs error, including the retry cause chain. */
export function describeSendError(err: Error): string {
  const parts: string[] = [`${err.name}: ${err.message}`];
  let cause: unknown = (err as Error & { cause?: unknown; originalError?: unknown }).cause ?? (err as { originalError?: unknown }).originalError;
  for (let depth = 0; depth < 3 && cause instanceof Error; depth++) {
    parts.push(`${cause.name}: ${cause.message}`);
    cause = (cause as Error & { cause?: unknown; originalError?: unknown }).cause ?? (cause as { originalError?: unknown }).originalError;
  }
  return parts.join(" <- ");
}
