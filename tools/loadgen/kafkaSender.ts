/**
 * The load generator's Kafka producer: kafkajs with the durability settings from components/durability.ts and a
 * send pattern that is safe with kafkajs's idempotent producer.
 *
 * Why the pattern: kafkajs assigns idempotence sequence numbers per partition when it builds a request and rolls
 * them back when the request fails (node_modules/kafkajs/src/producer/sendMessages.js). Concurrent sends on one
 * producer interleave those updates, and a later batch can reuse a sequence number the broker has already seen;
 * the broker then answers "duplicate" and the new records are acknowledged but never written (kafkajs#1005).
 * So each producer here has exactly ONE send in flight (enforced, not just documented), batches many records per
 * call, and after any failed send is thrown away and replaced: a new producer id starts sequences at 0, so no
 * partially-written batch can collide with the next one. Throughput comes from several such producers.
 */
import { readFileSync } from "node:fs";
import { CompressionTypes, Kafka, logLevel, type KafkaConfig, type Producer, type ProducerConfig, type Message } from "kafkajs";
import { PRODUCER_DURABILITY_CONFIG, SASL_MECHANISM } from "../../components/durability";
import type { LoadgenConfig } from "./config";
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
  throw new Error(`unsupported SASL mechanism "${mechanism}": the load generator speaks SCRAM-SHA-512 (SASL_MECHANISM in components/durability.ts)`);
}

/** Pure: kafkajs client settings (brokers, TLS, SCRAM, timeouts, retry) for a config. `readCa` is injectable for tests. */
export function kafkaClientConfig(cfg: LoadgenConfig, readCa: (path: string) => string = (p) => readFileSync(p, "utf8")): KafkaConfig {
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

/** Outcome of one send call: `acked` records are durably written (acks=all); `failed` ones may or may not be. */
export interface SendResult {
  readonly acked: number;
  readonly failed: number;
  readonly latencyMs: number;
  readonly error?: Error;
}

/** One producer lane: one send in flight, fresh producer after a failure. */
export class KafkaLane {
  private producer: Producer | null = null;
  private inFlight = false;
  private closed = false;

  constructor(
    private readonly kafka: Kafka,
    private readonly cfg: LoadgenConfig,
    private readonly runId: string,
  ) {}

  async send(records: readonly LoadRecord[]): Promise<SendResult> {
    if (this.inFlight) {
      throw new Error("KafkaLane.send called while a send is in flight: concurrent sends on one kafkajs idempotent producer can lose acknowledged records (kafkajs#1005); await each send or add lanes");
    }
    if (this.closed) throw new Error("KafkaLane.send called after close()");
    this.inFlight = true;
    const started = Date.now();
    try {
      if (this.producer === null) {
        const p = this.kafka.producer(kafkaProducerConfig(this.cfg));
        await p.connect();
        this.producer = p;
      }
      await this.producer.send({
        topic: this.cfg.topic,
        acks: LOADGEN_ACKS,
        timeout: this.cfg.sendTimeoutMs,
        compression: this.cfg.compression === "gzip" ? CompressionTypes.GZIP : CompressionTypes.None,
        messages: records.map((r) => toKafkaMessage(r, this.runId)),
      });
      return { acked: records.length, failed: 0, latencyMs: Date.now() - started };
    } catch (err) {
      // The failed batch may be partly written; discard this producer id so its sequence numbers die with it.
      const p = this.producer;
      this.producer = null;
      if (p !== null) await p.disconnect().catch(() => undefined);
      const error = err instanceof Error ? err : new Error(String(err));
      return { acked: 0, failed: records.length, latencyMs: Date.now() - started, error };
    } finally {
      this.inFlight = false;
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    const p = this.producer;
    this.producer = null;
    if (p !== null) await p.disconnect();
  }
}

/** Builds `cfg.producers` lanes sharing one kafkajs client (one metadata cache, separate producer ids). */
export function createKafkaLanes(cfg: LoadgenConfig, runId: string): KafkaLane[] {
  const kafka = new Kafka(kafkaClientConfig(cfg));
  return Array.from({ length: cfg.producers }, () => new KafkaLane(kafka, cfg, runId));
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
