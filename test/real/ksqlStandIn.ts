/**
 * A STAND-IN FOR ksqlDB — NOT ksqlDB. ksqlDB cannot run on this machine (no Docker, not on Maven Central), so the
 * local end-to-end test puts the reference model (ksql/model.ts) where ksqlDB would be:
 *
 *   heartbeats_raw (JSON, read_committed)
 *     -> V000004's validation (decodeRaw + rejection, same rules and texts, the record key included; rejects are
 *        only counted, not written)
 *     -> onto one of `heartbeatPartitions` model partitions by the session key with Kafka's murmur2 partitioner,
 *        where V000004's `heartbeats` stream puts it (the producers key records so, no repartition)
 *     -> per partition, the 30 s window model on arrival time (stream time, grace, EMIT FINAL close rule,
 *        retention) and the piece split
 *     -> watch_segments (pieces), as JSON with an embedded Connect schema (what the LOCAL sink variant decodes; the cluster
 *        uses Avro), keyed by the session key, idempotent acks=all through the load generator's KafkaLane.
 *
 * Windows close only when stream time on their partition reaches end + grace, exactly as in ksqlDB: nothing
 * here calls closeAll(). Whoever drives it must advance stream time the way the stack's session ticker does, by
 * writing tick heartbeats (user `__tick__`, one per partition from ksql/ticks.ts) to heartbeats_raw.
 * It proves the Kafka -> Connect -> database path and the smoke tool; it proves nothing about the SQL itself.
 */
import { Kafka, logLevel, type Consumer } from "kafkajs";
import { RAW_HEARTBEATS_TOPIC, WATCH_SEGMENTS_TOPIC } from "../../contract/topics";
import { connectJsonEnvelope } from "../../connectors/watchSegmentsSink";
import { asValid, decodeRaw, rejection, SegmentModel, sessionKey, type PieceRecord } from "../../ksql/model";
import { DEFAULT_SESSIONIZATION_PARAMS, type SessionizationParams } from "../../contract/sessionization";
import { partitionForKey } from "../../ksql/ticks";
import { parseLoadgenArgs } from "../../tools/loadgen/config";
import { createKafkaLanes, describeSendError, type KafkaLane } from "../../tools/loadgen/kafkaSender";
import type { LoadRecord } from "../../tools/loadgen/records";
import { waitUntil } from "./kafka/jvm";

/** Printed before every line the stand-in logs, so no reader mistakes its output for ksqlDB's. */
export const STAND_IN_LABEL = "[ksqlDB STAND-IN: reference model, not ksqlDB]";
/** kafkajs consumer group join on a fresh 3-broker cluster takes a few seconds; allow for a busy machine. */
const GROUP_JOIN_TIMEOUT_MS = 60_000;
/** How long a failed segment write is retried (a broker restart or a healed partition takes well under this). */
const PRODUCE_RETRY_BUDGET_MS = 300_000;
const PRODUCE_RETRY_DELAY_MS = 500;
/** Pieces per produce request: a piece in the JSON-with-schema envelope is ~1.5 KB, so 200 stay far below 1 MB. */
const PRODUCE_BATCH_RECORDS = 200;



export interface KsqlStandInOptions {
  readonly brokers: readonly string[];
  /** Partitions of the (virtual) `heartbeats` topic: the model keeps one stream time per partition. */
  readonly heartbeatPartitions: number;
  readonly params?: SessionizationParams;
  readonly log?: (line: string) => void;
  /** Topic read. Default {@link RAW_HEARTBEATS_TOPIC}. */
  readonly rawTopic?: string;
  /**
   * What a record's arrival time (ROWTIME) is: `"broker"` (default), the record timestamp, as V000004 reads it; or
   * `"event_ts"`, the heartbeat's own event_ts, for suites about delivery rather than time (the faults suite) whose
   * expected segments are computed from event_ts alone.
   */
  readonly arrival?: "broker" | "event_ts";
  /** Topic written. Default {@link WATCH_SEGMENTS_TOPIC}. */
  readonly segmentsTopic?: string;
  /** Log every segment produced (default true; fault tests with thousands of segments turn it off). */
  readonly logSegments?: boolean;
}

export interface KsqlStandInStats {
  readonly consumed: number;
  readonly undecodable: number;
  readonly rejected: number;
  readonly valid: number;
  readonly droppedLate: number;
  readonly segmentsProduced: number;
}

export interface KsqlStandIn {
  stats(): KsqlStandInStats;
  /** Valid heartbeats seen whose user_id starts with `prefix`. */
  validWithUserPrefix(prefix: string): number;
  waitForValid(prefix: string, count: number, timeoutMs: number): Promise<void>;
  /** Anything that went wrong (a failed produce); a correct run leaves it empty. */
  readonly errors: readonly string[];
  stop(): Promise<void>;
}

export async function startKsqlStandIn(opts: KsqlStandInOptions): Promise<KsqlStandIn> {
  const params = opts.params ?? DEFAULT_SESSIONIZATION_PARAMS;
  const rawTopic = opts.rawTopic ?? RAW_HEARTBEATS_TOPIC;
  const segmentsTopic = opts.segmentsTopic ?? WATCH_SEGMENTS_TOPIC;
  const log = (line: string): void => (opts.log ?? console.log)(`${STAND_IN_LABEL} ${line}`);
  const models = Array.from({ length: opts.heartbeatPartitions }, () => new SegmentModel(params));
  const validUsers: string[] = [];
  const errors: string[] = [];
  let consumed = 0;
  let undecodable = 0;
  let rejected = 0;
  let segmentsProduced = 0;
  let seq = 0;

  const laneCfg = parseLoadgenArgs(
    ["--bootstrap", opts.brokers.join(","), "--topic", segmentsTopic, "--count", "1", "--producers", "1", "--client-id", "ksql-stand-in"],
    {},
  );
  if (laneCfg.help) throw new Error("internal: loadgen parser returned help");
  const lane: KafkaLane = createKafkaLanes(laneCfg.config, "ksql-stand-in")[0]!;

  // Like ksqlDB under exactly_once_v2, a failed write is retried until it lands (the lane replaces its producer after
  // a failure) instead of being dropped: the fault tests kill and cut off brokers under it. The upsert downstream
  // makes a retried batch that did land harmless.
  /** Sends one batch until every record is acknowledged; false (and an error recorded) after the retry budget. */
  const produceBatch = async (records: readonly LoadRecord[]): Promise<boolean> => {
    const deadline = Date.now() + PRODUCE_RETRY_BUDGET_MS;
    for (;;) {
      const res = await lane.send(records);
      if (res.error === undefined && res.acked === records.length) return true;
      const why = `produce to ${segmentsTopic}: ${res.acked}/${records.length} acknowledged: ${res.error === undefined ? "?" : describeSendError(res.error)}`;
      if (Date.now() > deadline) {
        errors.push(`${why}; gave up after ${PRODUCE_RETRY_BUDGET_MS / 1000} s`);
        return false;
      }
      log(`${why}; retrying`);
      await new Promise((r) => setTimeout(r, PRODUCE_RETRY_DELAY_MS));
    }
  };
  const produce = async (recs: readonly PieceRecord[]): Promise<void> => {
    const records: LoadRecord[] = recs.map((r) => ({
      key: sessionKey(r.piece.user_id, r.piece.video_id),
      value: connectJsonEnvelope(r.piece),
      seq: seq++,
      malformed: false,
    }));
    // A tick can close hundreds of sessions at once; one request with all of them would pass the brokers' 1 MB
    // message limit (a record batch per partition), which no retry fixes. ksqlDB's producer batches the same way.
    for (let i = 0; i < records.length; i += PRODUCE_BATCH_RECORDS) {
      if (!(await produceBatch(records.slice(i, i + PRODUCE_BATCH_RECORDS)))) return;
    }
    segmentsProduced += records.length;
    if (opts.logSegments === false) return;
    for (const r of recs) {
      const s = r.piece;
      log(`piece ${s.user_id} ${s.video_id} start_ts ${s.start_ts} #${s.piece_no}: ${s.heartbeat_count} heartbeats -> ${segmentsTopic}`);
    }
  };

  const kafka = new Kafka({ clientId: "ksql-stand-in", brokers: [...opts.brokers], logLevel: logLevel.NOTHING });
  // read_committed, like ksqlDB under exactly_once_v2.
  const consumer: Consumer = kafka.consumer({ groupId: `ksql-stand-in-${Date.now()}`, readUncommitted: false });
  let joined = false;
  consumer.on(consumer.events.GROUP_JOIN, () => {
    joined = true;
  });
  await consumer.connect();
  await consumer.subscribe({ topic: rawTopic, fromBeginning: true });
  await consumer.run({
    // One message at a time across all partitions: the KafkaLane allows one send in flight (kafkajs#1005).
    partitionsConsumedConcurrently: 1,
    eachMessage: async ({ message }) => {
      consumed++;
      let value: unknown;
      try {
        value = JSON.parse(message.value?.toString("utf8") ?? "");
      } catch {
        undecodable++;
        return;
      }
      const decoded = decodeRaw(value);
      if (!decoded.ok) {
        undecodable++;
        return;
      }
      // V000004: the record key must be the session key; the record timestamp is the broker's arrival time.
      if (rejection(decoded.row, message.key === null ? null : message.key.toString("utf8")) !== null) {
        rejected++;
        return;
      }
      const hb = asValid(decoded.row, opts.arrival === "event_ts" ? Number(decoded.row.event_ts) : Number(message.timestamp));
      validUsers.push(hb.user_id);
      const partition = partitionForKey(sessionKey(hb.user_id, hb.video_id), opts.heartbeatPartitions);
      const segments = models[partition]!.push(hb);
      if (segments.length > 0) await produce(segments);
    },
  });
  await waitUntil("the ksqlDB stand-in's consumer to join its group", GROUP_JOIN_TIMEOUT_MS, async () => joined);
  log(`consuming ${rawTopic} (read_committed) into ${opts.heartbeatPartitions} model partitions, producing ${segmentsTopic}`);

  const stats = (): KsqlStandInStats => ({
    consumed,
    undecodable,
    rejected,
    valid: validUsers.length,
    droppedLate: models.reduce((n, m) => n + m.droppedLate, 0),
    segmentsProduced,
  });
  const validWithUserPrefix = (prefix: string): number => validUsers.filter((u) => u.startsWith(prefix)).length;
  return {
    stats,
    validWithUserPrefix,
    errors,
    waitForValid: (prefix, count, timeoutMs) =>
      waitUntil(`the ksqlDB stand-in to see ${count} valid heartbeats of users ${prefix}* (has ${validWithUserPrefix(prefix)})`, timeoutMs, async () => validWithUserPrefix(prefix) >= count),
    stop: async () => {
      await consumer.disconnect().catch(() => undefined);
      await lane.close().catch(() => undefined);
      log(`stopped: ${JSON.stringify(stats())}`);
    },
  };
}
