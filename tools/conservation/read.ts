/**
 * The I/O of the conservation check: reads heartbeats_raw, heartbeats_rejected and ksqlDB's processing log whole
 * (every partition from its first offset to its end, read_committed) and the per-viewer piece totals from the
 * database. Kafka is read with librdkafka (the optional @confluentinc/kafka-javascript the load generator uses):
 * ksqlDB's producers compress with zstd, which kafkajs cannot decompress.
 */
import { createRequire } from "node:module";
import { randomUUID } from "node:crypto";
import { Client } from "pg";
import { CONSUMER_ISOLATION_LEVEL } from "../../contract/durability";
import { clientConfig, type Connection } from "../report";
import { LIBRDKAFKA_PACKAGE } from "../loadgen/rdkafkaSender";
import type { PieceTotals, RawRecord, RejectRecord, UndecodableEntry } from "./accounting";

/** A topic of a few million records reads in well under this on loopback; it bounds a consumer that hangs. */
export const READ_TIMEOUT_MS = 600_000;
const CONSUME_BATCH = 5_000;
const METADATA_TIMEOUT_MS = 15_000;

interface NativeMessage {
  readonly value: Buffer | null;
  readonly partition: number;
  readonly offset: number;
  readonly timestamp?: number;
}
interface NativeConsumer {
  connect(opts: { timeout?: number }, cb: (err: Error | null) => void): void;
  getMetadata(opts: { topic: string; timeout: number }, cb: (err: Error | null, md: { topics: readonly { name: string; partitions: readonly { id: number }[] }[] }) => void): void;
  queryWatermarkOffsets(topic: string, partition: number, timeout: number, cb: (err: Error | null, o: { highOffset: number; lowOffset: number }) => void): void;
  assign(a: { topic: string; partition: number; offset: number }[]): void;
  consume(n: number, cb: (err: Error | null, messages: NativeMessage[]) => void): void;
  disconnect(cb: () => void): void;
}
interface NativeModule {
  readonly KafkaConsumer: new (conf: Record<string, string | number | boolean>, topicConf: Record<string, string | number | boolean>) => NativeConsumer;
}

function loadConsumer(): NativeModule {
  try {
    const mod = createRequire(__filename)(LIBRDKAFKA_PACKAGE) as Partial<NativeModule>;
    if (typeof mod.KafkaConsumer === "function") return mod as NativeModule;
  } catch {
    // reported below
  }
  throw new Error(`the conservation check reads Kafka with ${LIBRDKAFKA_PACKAGE} (zstd, which ksqlDB writes); install it (docs/loadgen.md)`);
}

const cb = <T>(f: (done: (err: Error | null, v: T) => void) => void): Promise<T> =>
  new Promise((resolve, reject) => f((err, v) => (err ? reject(err) : resolve(v))));

/** Reads every record of `topic` (read_committed) and hands each to `each`; returns the number read. */
export async function readTopic(bootstrap: string, topic: string, each: (m: NativeMessage) => void): Promise<number> {
  const native = loadConsumer();
  const consumer = new native.KafkaConsumer(
    {
      "bootstrap.servers": bootstrap,
      "group.id": `conserve-${randomUUID()}`,
      "enable.auto.commit": false,
      "isolation.level": CONSUMER_ISOLATION_LEVEL,
      "fetch.max.bytes": 50 * 1024 * 1024,
    },
    { "auto.offset.reset": "earliest" },
  );
  await cb<void>((done) => consumer.connect({ timeout: METADATA_TIMEOUT_MS }, (err) => done(err, undefined)));
  try {
    const md = await cb<{ topics: readonly { name: string; partitions: readonly { id: number }[] }[] }>((done) => consumer.getMetadata({ topic, timeout: METADATA_TIMEOUT_MS }, done));
    const partitions = md.topics.find((t) => t.name === topic)?.partitions.map((p) => p.id) ?? [];
    if (partitions.length === 0) throw new Error(`topic ${topic} not found at ${bootstrap}`);
    // Read up to the end as it is now: the high watermark (read_committed stops at the last stable offset, which
    // equals it once no transaction is open; a commit marker at the end is never delivered, so the end also counts
    // as reached when the next fetch returns nothing past the last record).
    const ends = new Map<number, number>();
    const assignment: { topic: string; partition: number; offset: number }[] = [];
    for (const p of partitions) {
      const o = await cb<{ highOffset: number; lowOffset: number }>((done) => consumer.queryWatermarkOffsets(topic, p, METADATA_TIMEOUT_MS, done));
      if (o.highOffset > o.lowOffset) {
        ends.set(p, o.highOffset);
        assignment.push({ topic, partition: p, offset: o.lowOffset });
      }
    }
    if (assignment.length === 0) return 0;
    consumer.assign(assignment);
    const last = new Map<number, number>();
    let read = 0;
    let idle = 0;
    const deadline = Date.now() + READ_TIMEOUT_MS;
    const done = (): boolean => [...ends].every(([p, end]) => (last.get(p) ?? -1) >= end - 1);
    while (!done()) {
      if (Date.now() > deadline) throw new Error(`reading ${topic}: ${read} records in ${READ_TIMEOUT_MS / 1000} s and not at the end yet`);
      const batch = await cb<NativeMessage[]>((d) => consumer.consume(CONSUME_BATCH, d));
      for (const m of batch) {
        last.set(m.partition, m.offset);
        each(m);
      }
      read += batch.length;
      // Transaction markers take the last offsets of a partition written by ksqlDB (exactly-once): after a few
      // empty fetches with everything below the markers read, the topic has been read.
      idle = batch.length === 0 ? idle + 1 : 0;
      if (idle >= 10) break;
    }
    return read;
  } finally {
    await new Promise<void>((resolve) => consumer.disconnect(() => resolve()));
  }
}

/** heartbeats_raw: each record's value and timestamp. */
export async function readRaw(bootstrap: string, topic: string): Promise<RawRecord[]> {
  const out: RawRecord[] = [];
  await readTopic(bootstrap, topic, (m) => out.push({ value: m.value === null ? null : m.value.toString("utf8"), timestamp: m.timestamp ?? 0 }));
  return out;
}

function field<T>(o: Record<string, unknown>, names: readonly string[], is: (v: unknown) => v is T): T | null {
  for (const n of names) if (is(o[n])) return o[n] as T;
  return null;
}
const isString = (v: unknown): v is string => typeof v === "string";
const isNumber = (v: unknown): v is number => typeof v === "number";

/** heartbeats_rejected (JSON values; the field names as V000001 writes them, upper-case tolerated). */
export async function readRejects(bootstrap: string, topic: string): Promise<RejectRecord[]> {
  const out: RejectRecord[] = [];
  await readTopic(bootstrap, topic, (m) => {
    if (m.value === null) return;
    const o = JSON.parse(m.value.toString("utf8")) as Record<string, unknown>;
    out.push({
      user_id: field(o, ["user_id", "USER_ID"], isString),
      video_id: field(o, ["video_id", "VIDEO_ID"], isString),
      event_ts: field(o, ["event_ts", "EVENT_TS"], isNumber),
      reason: field(o, ["reason", "REASON"], isString) ?? "(no reason)",
    });
  });
  return out;
}

/** Processing-log entries that are deserialization errors on `rawTopic` (ksqlDB's record type 0). */
export async function readUndecodable(bootstrap: string, logTopic: string, rawTopic: string): Promise<UndecodableEntry[]> {
  const out: UndecodableEntry[] = [];
  await readTopic(bootstrap, logTopic, (m) => {
    if (m.value === null) return;
    const o = JSON.parse(m.value.toString("utf8")) as { logger?: string; message?: { type?: number; deserializationError?: { topic?: string } } };
    const de = o.message?.deserializationError;
    if (o.message?.type === 0 && de !== undefined && (de.topic === undefined || de.topic === rawTopic)) out.push({ logger: o.logger ?? "(no logger)" });
  }).catch((err: unknown) => {
    // The processing log exists only once ksqlDB has logged something; no topic means nothing was undecodable.
    if (!(err instanceof Error && /not found/.test(err.message))) throw err;
  });
  return out;
}

/** Per-viewer totals of the pieces table. */
export const PIECE_TOTALS_QUERY = `SELECT user_id, video_id, sum(heartbeat_count)::bigint AS heartbeats, count(*)::bigint AS pieces,
       (extract(epoch FROM max(updated_at)) * 1000)::bigint AS last_written_ms
  FROM watch_pieces GROUP BY user_id, video_id`;

export async function readPieceTotals(db: Connection): Promise<PieceTotals[]> {
  const client = new Client({ ...clientConfig(db), application_name: "watchpipe-conserve" });
  await client.connect();
  try {
    const rows = (await client.query<{ user_id: string; video_id: string; heartbeats: string; pieces: string; last_written_ms: string }>(PIECE_TOTALS_QUERY)).rows;
    return rows.map((r) => ({ user_id: r.user_id, video_id: r.video_id, heartbeats: Number(r.heartbeats), pieces: Number(r.pieces), lastWrittenMs: Number(r.last_written_ms) }));
  } finally {
    await client.end();
  }
}
