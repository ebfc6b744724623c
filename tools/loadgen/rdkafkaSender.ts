/**
 * The load generator's librdkafka producer (`--client librdkafka`, the default where it is installed), through the
 * native API of the optional package @confluentinc/kafka-javascript.
 *
 * Why a second client: kafkajs encodes every record in JavaScript (~15 us of CPU per record here), so one thread
 * tops out near 60k records/s. librdkafka batches, encodes, compresses and retries in its own native threads; the
 * JavaScript thread only hands it records and counts delivery reports.
 *
 * Durability is librdkafka's own idempotent producer (acks=all, enable.idempotence, 5 in flight per connection,
 * like the Java client): it keeps per-partition sequence numbers across retries and leader changes, so none of the
 * kafkajs workarounds in kafkaSender.ts (one send in flight, single-partition requests, replacing the producer after
 * a failure) apply. A record counts as acknowledged only when its delivery report arrives without an error.
 * Partitions are chosen here with the Java client's murmur2 (librdkafka's default partitioner is a different
 * hash), so lanes, worker plans and the kafkajs client agree on where every key goes.
 *
 * The package is optional (a native build): everything here loads it lazily, and the types it is used through are
 * declared below, so typecheck, lint and the unit tests never need it.
 */
import { createRequire } from "node:module";
import { PRODUCER_DURABILITY_CONFIG, SASL_MECHANISM } from "../../contract/durability";
import type { LoadgenConfig } from "./config";
import { createKeyPartitioner, laneCount, ownedLaneRouter, maxSendFailureMs, REQUEST_TIMEOUT_MARGIN_MS, type PartitionedLanes, type SendResult, type TopicPartitioning } from "./kafkaSender";
import { SEQ_HEADER, type LoadRecord } from "./records";
import type { Lane } from "./run";

/** npm package of the librdkafka client (an optionalDependency, pinned in package.json). */
export const LIBRDKAFKA_PACKAGE = "@confluentinc/kafka-javascript";
/**
 * librdkafka's linger: 5 ms is its default and the Java client's from Kafka 4.0; lanes hand it 1,000 records
 * at a time, so batches fill long before this at load, and a paced run adds at most this much latency.
 */
export const LIBRDKAFKA_LINGER_MS = 5;
/**
 * librdkafka's local queue limit in messages: far above what the lanes keep in flight (lanes x batch size, ~12k),
 * so produce() never fails with "queue full"; the lanes' bounded queues are the backpressure.
 */
export const LIBRDKAFKA_QUEUE_MAX_MESSAGES = 1_000_000;
/**
 * librdkafka's message timeout is this much inside the failure bound: it finds timed-out messages by a scan about
 * once a second and reports them through the poll thread, so the report comes after the timeout itself (measured
 * 4.6 s after at load average 35; 7.7 and 9.3 s after with two CI runs sharing the 2 cores, where a 5 s margin let
 * the report land past the bound the start line promises).
 */
export const MESSAGE_TIMEOUT_MARGIN_MS = 12_000;
/** The smallest message timeout the sender sets, whatever the flags (librdkafka refuses 0 as "infinite" here). */
const MIN_MESSAGE_TIMEOUT_MS = 1_000;
/** How long close() waits for librdkafka to deliver what it still holds before disconnecting. */
export const CLOSE_FLUSH_TIMEOUT_MS = 30_000;

/** The slice of the package's native API the sender uses (declared here: the package may be absent). */
export interface NativeError extends Error {
  readonly code?: number;
  readonly isFatal?: boolean;
}
interface DeliveryReport {
  readonly partition: number;
  readonly offset: number;
  readonly opaque?: unknown;
}
interface TopicMetadata {
  readonly name: string;
  readonly partitions: readonly { readonly id: number }[];
}
export type NativeConfig = Record<string, string | number | boolean>;
interface NativeProducer {
  connect(options: { timeout?: number; topic?: string }, cb: (err: NativeError | null) => void): void;
  produce(topic: string, partition: number, value: Buffer, key: string, timestamp: null, opaque: unknown, headers: Record<string, string>[]): unknown;
  on(event: "delivery-report", cb: (err: NativeError | null, report: DeliveryReport) => void): void;
  on(event: "event.error", cb: (err: NativeError) => void): void;
  getMetadata(options: { topic: string; timeout: number }, cb: (err: NativeError | null, md: { topics: readonly TopicMetadata[] }) => void): void;
  setPollInBackground(on: boolean): void;
  flush(timeoutMs: number, cb: (err: NativeError | null) => void): void;
  disconnect(timeoutMs: number, cb: (err: unknown) => void): void;
}
interface NativeModule {
  readonly Producer: new (conf: NativeConfig) => NativeProducer;
  readonly librdkafkaVersion?: string;
}

export type LibrdkafkaLoad = { readonly ok: true; readonly module: NativeModule; readonly version: string } | { readonly ok: false; readonly reason: string };

let loaded: LibrdkafkaLoad | null = null;

/**
 * Loads the optional package once. Never throws: a missing package or a missing native build becomes
 * `{ ok: false, reason }` with the first line of the loader's message.
 */
export function loadLibrdkafka(): LibrdkafkaLoad {
  if (loaded !== null) return loaded;
  try {
    const mod = createRequire(__filename)(LIBRDKAFKA_PACKAGE) as Partial<NativeModule>;
    if (typeof mod.Producer !== "function") loaded = { ok: false, reason: `${LIBRDKAFKA_PACKAGE} has no Producer export` };
    else loaded = { ok: true, module: mod as NativeModule, version: mod.librdkafkaVersion ?? "unknown" };
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    loaded = { ok: false, reason: msg.split("\n")[0]!.trim() };
  }
  return loaded;
}

export type Client = LoadgenConfig["client"];

/**
 * Pure: which client a run uses, and the one line to print when it is not the one asked for. librdkafka is the
 * default; where its package is not installed (or its native build is missing) the run falls back to kafkajs.
 */
export function resolveClient(requested: Client, load: Pick<LibrdkafkaLoad, "ok"> & { readonly reason?: string }): { readonly client: Client; readonly notice: string | null } {
  if (requested === "kafkajs") return { client: "kafkajs", notice: null };
  if (load.ok) return { client: "librdkafka", notice: null };
  return {
    client: "kafkajs",
    notice:
      `loadgen: librdkafka client not available (${LIBRDKAFKA_PACKAGE}: ${load.reason ?? "not loadable"}); using kafkajs. ` +
      `docs/loadgen.md says how to install it; --client kafkajs skips this check.`,
  };
}

/**
 * Pure: librdkafka settings for a config. The same durability as every producer we configure (acks=all,
 * idempotence, 5 in flight) and the same failure bound as the kafkajs client: a record that cannot be delivered
 * is reported failed within maxSendFailureMs(cfg), so the start line's "a send fails within ~N s" holds for both.
 */
export function librdkafkaProducerConfig(cfg: LoadgenConfig): NativeConfig {
  const sasl = cfg.saslUsername !== null && cfg.saslPassword !== null;
  const protocol = cfg.tls ? (sasl ? "sasl_ssl" : "ssl") : sasl ? "sasl_plaintext" : "plaintext";
  const conf: NativeConfig = {
    "bootstrap.servers": cfg.bootstrap.join(","),
    "client.id": cfg.clientId,
    acks: PRODUCER_DURABILITY_CONFIG.acks,
    "enable.idempotence": PRODUCER_DURABILITY_CONFIG["enable.idempotence"],
    "max.in.flight.requests.per.connection": PRODUCER_DURABILITY_CONFIG["max.in.flight.requests.per.connection"],
    // Broker-side ack timeout per request, as --send-timeout-ms is for kafkajs; the socket gets the same margin.
    "request.timeout.ms": cfg.sendTimeoutMs,
    "socket.timeout.ms": cfg.sendTimeoutMs + REQUEST_TIMEOUT_MARGIN_MS,
    // librdkafka retries until the message timeout (the idempotent producer keeps sequence numbers across them);
    // the timeout, not a retry count, is what bounds a failing send.
    "message.timeout.ms": librdkafkaMessageTimeoutMs(cfg),
    "retry.backoff.ms": cfg.initialRetryTimeMs,
    "retry.backoff.max.ms": cfg.maxRetryTimeMs,
    "linger.ms": LIBRDKAFKA_LINGER_MS,
    "queue.buffering.max.messages": LIBRDKAFKA_QUEUE_MAX_MESSAGES,
    "compression.type": cfg.compression,
    // Topics are created by the platform (RF 3, min ISR 2); a typo must fail, not create a 1-replica topic.
    "allow.auto.create.topics": false,
    "security.protocol": protocol,
    // Delivery reports without the payload: the sender only needs its opaque back.
    dr_cb: true,
  };
  if (cfg.caFile !== null) conf["ssl.ca.location"] = cfg.caFile;
  if (sasl) {
    conf["sasl.mechanisms"] = SASL_MECHANISM;
    conf["sasl.username"] = cfg.saslUsername!;
    conf["sasl.password"] = cfg.saslPassword!;
  }
  return conf;
}

/** Pure: librdkafka's message timeout for a config: a failing record is reported within maxSendFailureMs(cfg). */
export function librdkafkaMessageTimeoutMs(cfg: Pick<LoadgenConfig, "retries" | "sendTimeoutMs" | "initialRetryTimeMs" | "maxRetryTimeMs">): number {
  return Math.max(MIN_MESSAGE_TIMEOUT_MS, maxSendFailureMs(cfg) - MESSAGE_TIMEOUT_MARGIN_MS);
}

/** One send call's bookkeeping; every produced record carries it (with the record) as its delivery opaque. */
interface PendingBatch {
  remaining: number;
  /** Resolved: later reports (from a producer that failed fatally) change nothing. */
  done: boolean;
  readonly acked: LoadRecord[];
  error: NativeError | undefined;
  readonly started: number;
  readonly total: number;
  readonly resolve: (res: SendResult) => void;
}
interface Opaque {
  readonly batch: PendingBatch;
  readonly record: LoadRecord;
}

function settle(b: PendingBatch): void {
  if (b.done) return;
  b.done = true;
  const base = { acked: b.acked.length, failed: b.total - b.acked.length, ackedRecords: b.acked, latencyMs: Date.now() - b.started };
  b.resolve(b.error === undefined ? base : { ...base, error: b.error });
}

function asNativeError(err: unknown): NativeError {
  return err instanceof Error ? err : new Error(String(err));
}

/**
 * One librdkafka producer shared by a run's lanes (librdkafka batches per broker across all of them). A fatal
 * error (librdkafka stops an idempotent producer it cannot keep exact) fails the sends still waiting and the
 * next send starts a new producer (new producer id), as the kafkajs lane does after a failure.
 */
export class RdkafkaClient {
  private producer: NativeProducer | null = null;
  private connecting: Promise<NativeProducer> | null = null;
  private readonly pending = new Set<PendingBatch>();
  private users = 0;

  constructor(
    private readonly native: NativeModule,
    private readonly cfg: LoadgenConfig,
  ) {}

  /** The producer, connected (a new one after a fatal error). */
  async connected(): Promise<NativeProducer> {
    if (this.producer !== null) return this.producer;
    this.connecting ??= this.connect().finally(() => (this.connecting = null));
    return this.connecting;
  }

  private connect(): Promise<NativeProducer> {
    const p = new this.native.Producer(librdkafkaProducerConfig(this.cfg));
    p.on("delivery-report", (err, report) => this.delivered(err, report));
    p.on("event.error", (err) => {
      if (err.isFatal === true && this.producer === p) this.fatal(p, err);
    });
    return new Promise((resolve, reject) => {
      p.connect({ timeout: this.cfg.sendTimeoutMs + REQUEST_TIMEOUT_MARGIN_MS }, (err) => {
        if (err !== null && err !== undefined) {
          p.disconnect(1_000, () => undefined);
          reject(asNativeError(err));
          return;
        }
        // Delivery reports are polled on a native thread and handed to this one in bulk.
        p.setPollInBackground(true);
        this.producer = p;
        resolve(p);
      });
    });
  }

  private delivered(err: NativeError | null, report: DeliveryReport): void {
    const o = report.opaque as Opaque | undefined;
    if (o === undefined) return;
    const b = o.batch;
    if (b.done) return;
    if (err === null || err === undefined) b.acked.push(o.record);
    else b.error ??= asNativeError(err);
    if (--b.remaining === 0) {
      this.pending.delete(b);
      settle(b);
    }
  }

  private fatal(p: NativeProducer, err: NativeError): void {
    this.producer = null;
    // librdkafka still reports every message of a fatally failed producer; anything it never reports is failed here.
    for (const b of this.pending) {
      b.error ??= err;
      b.remaining = 0;
      settle(b);
    }
    this.pending.clear();
    p.disconnect(1_000, () => undefined);
  }

  /** Hands `records` (all of partitions this caller owns) to librdkafka and resolves when each has a delivery report. */
  async send(records: readonly LoadRecord[], topic: string, partitionOf: (key: string) => number, seqPrefix: string): Promise<SendResult> {
    const started = Date.now();
    let producer: NativeProducer;
    try {
      producer = await this.connected();
    } catch (err) {
      return { acked: 0, failed: records.length, ackedRecords: [], latencyMs: Date.now() - started, error: asNativeError(err) };
    }
    return new Promise<SendResult>((resolve) => {
      const batch: PendingBatch = { remaining: records.length, done: false, acked: [], error: undefined, started, total: records.length, resolve };
      this.pending.add(batch);
      let produced = 0;
      for (const r of records) {
        try {
          const opaque: Opaque = { batch, record: r };
          producer.produce(topic, partitionOf(r.key), Buffer.from(r.value), r.key, null, opaque, [{ [SEQ_HEADER]: seqPrefix + r.seq }]);
          produced++;
        } catch (err) {
          // Not queued (the producer failed, or a local limit): no delivery report will come for it.
          batch.error ??= asNativeError(err);
        }
      }
      batch.remaining -= records.length - produced;
      if (batch.remaining === 0 && this.pending.delete(batch)) settle(batch);
    });
  }

  /** Partition count of `topic` from the cluster metadata. */
  async topicPartitioning(topic: string): Promise<TopicPartitioning> {
    const producer = await this.connected();
    const md = await new Promise<{ topics: readonly TopicMetadata[] }>((resolve, reject) =>
      producer.getMetadata({ topic, timeout: this.cfg.sendTimeoutMs }, (err, data) => (err ? reject(asNativeError(err)) : resolve(data))),
    );
    const n = md.topics.find((t) => t.name === topic)?.partitions.length ?? 0;
    if (n < 1) throw new Error(`topic ${topic} has no partitions in the cluster metadata; does it exist?`);
    return { partitions: n, partitionOf: createKeyPartitioner(topic, n) };
  }

  acquire(): void {
    this.users++;
  }

  /** Called by each lane's close(); the last one flushes what librdkafka still holds and disconnects. */
  async release(): Promise<void> {
    if (--this.users > 0) return;
    const p = this.producer;
    this.producer = null;
    if (p === null) return;
    await new Promise<void>((resolve) => p.flush(CLOSE_FLUSH_TIMEOUT_MS, () => resolve()));
    await new Promise<void>((resolve) => p.disconnect(CLOSE_FLUSH_TIMEOUT_MS, () => resolve()));
  }
}

/** One lane of partitions on the shared librdkafka producer: the same Lane contract the run driver uses for kafkajs. */
export class RdkafkaLane implements Lane {
  private readonly seqPrefix: string;
  private closed = false;

  constructor(
    private readonly client: RdkafkaClient,
    private readonly topic: string,
    private readonly partitioning: TopicPartitioning,
    runId: string,
  ) {
    this.seqPrefix = `${runId}:`;
    client.acquire();
  }

  send(records: readonly LoadRecord[]): Promise<SendResult> {
    if (this.closed) throw new Error("RdkafkaLane.send called after close()");
    return this.client.send(records, this.topic, this.partitioning.partitionOf, this.seqPrefix);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.client.release();
  }
}

/**
 * Lanes that each own a fixed set of partitions (as createPartitionedKafkaLanes), all on one librdkafka producer.
 * Throws if the package is not loadable: callers pick the client with resolveClient first.
 */
export async function createPartitionedRdkafkaLanes(cfg: LoadgenConfig, runId: string, owned?: readonly number[]): Promise<PartitionedLanes<RdkafkaLane>> {
  const load = loadLibrdkafka();
  if (!load.ok) throw new Error(`${LIBRDKAFKA_PACKAGE} is not available: ${load.reason}`);
  const client = new RdkafkaClient(load.module, cfg);
  client.acquire();
  try {
    const partitioning = await client.topicPartitioning(cfg.topic);
    const mine = owned ?? Array.from({ length: partitioning.partitions }, (_, p) => p);
    const n = laneCount(cfg.producers, mine.length);
    const lanes = Array.from({ length: n }, () => new RdkafkaLane(client, cfg.topic, partitioning, runId));
    return { lanes, laneOf: ownedLaneRouter(partitioning, mine, n), partitions: partitioning.partitions };
  } finally {
    // The lanes hold the producer from here; if none were made, this closes it.
    await client.release();
  }
}
