/**
 * The Debezium JDBC sink that upserts pieces of watch segments (sessionization v2: the watch_segments topic's
 * `watchpipe.WatchPiece` records) from Kafka into YugabyteDB (YSQL) table watch_pieces, as a Strimzi
 * `KafkaConnector` spec (kafka.strimzi.io/v1) and, for the local real-service test, as a Connect REST config.
 *
 * Both variants come from one builder; the only differences are {@link VALUE_FORMATS} (Avro + Schema Registry in
 * the cluster, JSON-with-schema locally because Confluent's AvroConverter is not on Maven Central) and where the
 * password reference points (a Kubernetes Secret vs. a local file). Property names are Debezium JDBC sink 3.x
 * (https://debezium.io/documentation/reference/stable/connectors/jdbc.html).
 */
import { CONSUMER_ISOLATION_LEVEL, REPLICATION_FACTOR } from "../contract/durability";
import { WATCH_SEGMENTS_DLQ_TOPIC, WATCH_SEGMENTS_TOPIC, type WatchPiece } from "../contract/topics";

/** Apache 2.0, Maven Central; the version the Connect image/plugin list must install. */
export const DEBEZIUM_JDBC_SINK_CLASS = "io.debezium.connector.jdbc.JdbcSinkConnector";
/** YSQL's port (PostgreSQL's 5432 is not what YugabyteDB listens on). */
export const DEFAULT_YSQL_PORT = 5433;
/**
 * The table the V004 migration creates (the database stitches its rows into segments); explicit so renaming the
 * topic never redirects writes.
 */
export const DEFAULT_TABLE = "watch_pieces";
/** The sink's upsert key: value fields, because ksqlDB's windowed key is binary and unreadable by the sink. */
export const PIECE_PRIMARY_KEY_FIELDS = ["user_id", "video_id", "start_ts", "piece_no"] as const;
/** Epoch-millisecond fields in the WatchPiece contract that map to timestamptz columns. */
export const PIECE_TIMESTAMP_FIELDS = ["start_ts", "end_ts"] as const;
/**
 * One task per Connect pod to start: a task writes ~1-2k upserts/s to YSQL. Sessionization v2 writes one piece per
 * viewer per 30 s window (~17k/s at a 100k heartbeats/s peak, ksql/README.md "Costs"): prod needs tasksMax >= 12
 * (stack config `connect.tasksMax`) and the partitions to match.
 */
export const DEFAULT_TASKS_MAX = 3;
/**
 * Records per JDBC batch (and per consumer poll). YSQL runs INSERT … ON CONFLICT row by row (each row is a
 * distributed read-then-write on the row's tablet leader), so a bigger batch saves only client round trips while
 * making each transaction span more tablets: longer commits, more conflict restarts, and a bigger redo when a
 * batch fails. 250 keeps a batch's transaction to well under a second on a 3-node universe and still amortises
 * the round trip (Debezium's default is 500; YugabyteDB's guidance for batched writes is a few hundred rows).
 */
export const DEFAULT_BATCH_SIZE = 250;
/**
 * One JDBC connection per task is all the sink uses; Debezium's default pool (5..32 per task) would hold dozens of
 * idle YSQL backends (~15 MB each on a tserver) for nothing.
 */
const CONNECTION_POOL_MIN = 1;
const CONNECTION_POOL_MAX = 2;
/**
 * YSQL returns retryable errors (40001 serialization / restart read) under contention and during tablet leader
 * moves; retry the flush rather than failing the task. 10 x 2 s rides out a leader election.
 */
const FLUSH_MAX_RETRIES = 10;
const FLUSH_RETRY_DELAY_MS = 2_000;
/**
 * Retriable converter errors (Schema Registry briefly unreachable) are retried this long before a record is
 * treated as bad; without it, an SR restart would route good records to the DLQ.
 */
const ERRORS_RETRY_TIMEOUT_MS = 600_000;
const ERRORS_RETRY_DELAY_MAX_MS = 30_000;

/** Where the database password comes from: always a config-provider reference, never the password itself. */
export type PasswordSource =
  /** Strimzi's KubernetesSecretConfigProvider, registered on the worker as `secrets`. */
  | { readonly kind: "kubernetesSecret"; readonly namespace: string; readonly secret: string; readonly key: string }
  /** Kafka's FileConfigProvider, registered on the worker as `file` (a properties file, e.g. a mounted Secret). */
  | { readonly kind: "file"; readonly path: string; readonly key: string };

/** Worker-side config providers the references need (the Connect component / local worker sets these). */
export const CONFIG_PROVIDER_WORKER_CONFIG = {
  kubernetesSecret: {
    "config.providers": "secrets",
    "config.providers.secrets.class": "io.strimzi.kafka.KubernetesSecretConfigProvider",
  },
  file: {
    "config.providers": "file",
    "config.providers.file.class": "org.apache.kafka.common.config.provider.FileConfigProvider",
  },
} as const;

export interface DatabaseTarget {
  /** YSQL service host, e.g. `yb-tservers.yugabyte.svc.cluster.local`. */
  readonly host: string;
  /** Default {@link DEFAULT_YSQL_PORT}. */
  readonly port?: number;
  readonly database: string;
  readonly user: string;
  /** TLS to the database (YugabyteDB runs with TLS): pgjdbc `sslmode` and the CA file mounted in the Connect pod. */
  readonly tls?: { readonly sslMode: "require" | "verify-ca" | "verify-full"; readonly rootCertPath?: string };
}

export interface WatchSegmentsSinkArgs {
  readonly db: DatabaseTarget;
  readonly password: PasswordSource;
  /** Source topic. Default {@link WATCH_SEGMENTS_TOPIC}. */
  readonly topic?: string;
  /** Dead-letter topic. Default {@link WATCH_SEGMENTS_DLQ_TOPIC}. */
  readonly dlqTopic?: string;
  /** Target table. Default {@link DEFAULT_TABLE}. */
  readonly table?: string;
  /** Default {@link DEFAULT_TASKS_MAX}. */
  readonly tasksMax?: number;
  /** Default {@link DEFAULT_BATCH_SIZE}. */
  readonly batchSize?: number;
}

export interface AvroSinkArgs extends WatchSegmentsSinkArgs {
  /** Schema Registry URL the AvroConverter reads value schemas from, e.g. `http://schema-registry.kafka:8081`. */
  readonly schemaRegistryUrl: string;
}

/**
 * THE difference between the deployed connector and the local test: how record values are decoded. Everything
 * else (upsert, key fields, tombstone filter, DLQ, isolation, batching) is shared by construction.
 */
export const VALUE_FORMATS = {
  /** Cluster: ksqlDB writes Avro registered in Schema Registry (Confluent's converter, in the Connect image). */
  avro: (schemaRegistryUrl: string): Record<string, string> => ({
    "value.converter": "io.confluent.connect.avro.AvroConverter",
    "value.converter.schema.registry.url": schemaRegistryUrl,
  }),
  /** Local test: Kafka's own JsonConverter with an embedded schema (the sink needs typed fields either way). */
  jsonWithSchema: (): Record<string, string> => ({
    "value.converter": "org.apache.kafka.connect.json.JsonConverter",
    "value.converter.schemas.enable": "true",
  }),
} as const;

/** The Strimzi KafkaConnector `spec` (the fields the v1 CRD defines; `config` holds the connector properties). */
export interface KafkaConnectorSpec {
  readonly class: string;
  readonly tasksMax: number;
  readonly autoRestart: { readonly enabled: boolean };
  readonly state: "running";
  readonly config: Readonly<Record<string, string>>;
}

const IDENT_RE = /^[a-z_][a-z0-9_]*$/;
const TOPIC_RE = /^[a-zA-Z0-9._-]{1,249}$/;

function fail(option: string, expected: string, actual: unknown, fix: string): never {
  throw new Error(`watch segments sink: ${option} must be ${expected}, got ${JSON.stringify(actual)}; ${fix}`);
}

/** The password reference for a source; validates every part so a typo fails at preview, not in the worker. */
export function passwordReference(src: PasswordSource): string {
  const part = /^[A-Za-z0-9._-]+$/;
  if (src.kind === "kubernetesSecret") {
    for (const [k, v] of [["namespace", src.namespace], ["secret", src.secret], ["key", src.key]] as const) {
      if (!part.test(v)) fail(`password.${k}`, "a Kubernetes name ([A-Za-z0-9._-]+)", v, "pass the Secret's real name");
    }
    return `\${secrets:${src.namespace}/${src.secret}:${src.key}}`;
  }
  if (!src.path.startsWith("/") || /[:}]/.test(src.path)) {
    fail("password.path", "an absolute path without ':' or '}'", src.path, "mount the Secret as a file and pass its path");
  }
  if (!part.test(src.key)) fail("password.key", "a properties key ([A-Za-z0-9._-]+)", src.key, "use the key inside the file");
  return `\${file:${src.path}:${src.key}}`;
}

/** jdbc:postgresql URL (pgjdbc talks to YSQL unchanged) with TLS parameters when asked for. */
export function jdbcUrl(db: DatabaseTarget): string {
  if (!/^[A-Za-z0-9.-]+$/.test(db.host)) fail("db.host", "a DNS name or IPv4 address", db.host, "pass the YSQL service host");
  const port = db.port ?? DEFAULT_YSQL_PORT;
  if (!Number.isInteger(port) || port < 1 || port > 65535) fail("db.port", "an integer 1..65535", port, "YSQL listens on 5433");
  if (!/^[A-Za-z0-9_-]+$/.test(db.database)) fail("db.database", "a plain database name", db.database, "check the YSQL database name");
  const params = new URLSearchParams();
  if (db.tls !== undefined) {
    params.set("sslmode", db.tls.sslMode);
    if (db.tls.rootCertPath !== undefined) params.set("sslrootcert", db.tls.rootCertPath);
  }
  const q = params.toString();
  return `jdbc:postgresql://${db.host}:${port}/${db.database}${q === "" ? "" : `?${q}`}`;
}

/** Connector properties shared by both variants (everything but the value converter). */
export function sinkCoreConfig(args: WatchSegmentsSinkArgs): Record<string, string> {
  const topic = args.topic ?? WATCH_SEGMENTS_TOPIC;
  const dlq = args.dlqTopic ?? WATCH_SEGMENTS_DLQ_TOPIC;
  const table = args.table ?? DEFAULT_TABLE;
  const batch = args.batchSize ?? DEFAULT_BATCH_SIZE;
  if (!TOPIC_RE.test(topic)) fail("topic", "a Kafka topic name", topic, "use WATCH_SEGMENTS_TOPIC");
  if (!TOPIC_RE.test(dlq) || dlq === topic) fail("dlqTopic", "a Kafka topic name other than the source topic", dlq, "use WATCH_SEGMENTS_DLQ_TOPIC");
  if (!IDENT_RE.test(table)) fail("table", "a lower-case SQL identifier", table, "use the table from connectors/schema");
  if (!Number.isInteger(batch) || batch < 1 || batch > 5000) fail("batchSize", "an integer 1..5000", batch, `the default is ${DEFAULT_BATCH_SIZE}`);
  if (args.db.user.length === 0) fail("db.user", "a non-empty user name", args.db.user, "pass the sink's YSQL role");
  return {
    topics: topic,
    // Key: ksqlDB's windowed key is binary and the sink keys on value fields, so never try to decode it.
    "key.converter": "org.apache.kafka.connect.converters.ByteArrayConverter",

    "connection.url": jdbcUrl(args.db),
    "connection.username": args.db.user,
    "connection.password": passwordReference(args.password),
    "connection.pool.min_size": String(CONNECTION_POOL_MIN),
    "connection.pool.max_size": String(CONNECTION_POOL_MAX),
    "connection.pool.acquire_increment": "1",

    // Upsert on (user_id, video_id, start_ts, piece_no) taken from the record value. A piece is written once (EMIT
    // FINAL); a replay sends the same content and the table's trigger skips it (connectors/schema/V004).
    "insert.mode": "upsert",
    "primary.key.mode": "record_value",
    "primary.key.fields": PIECE_PRIMARY_KEY_FIELDS.join(","),
    // Deletes need primary.key.mode=record_key (unusable with windowed keys); tombstones are filtered below.
    "delete.enabled": "false",
    "truncate.enabled": "false",
    // The schema is owned by the migrations (connectors/schema), never by the sink: no CREATE/ALTER from Connect.
    "schema.evolution": "none",
    "collection.name.format": table,
    "use.time.zone": "UTC",
    "batch.size": String(batch),
    // Collapse several versions of one segment inside a batch into one upsert: fewer row-at-a-time YSQL writes.
    "use.reduction.buffer": "true",
    "flush.max.retries": String(FLUSH_MAX_RETRIES),
    "flush.retry.delay.ms": String(FLUSH_RETRY_DELAY_MS),

    // 1) Drop tombstones (session windows under EMIT CHANGES emit them on merges). Some JDBC sinks stop on a null
    //    value with delete.enabled=false; Debezium 3.6 skips it (checked on a real worker), the filter makes that
    //    independent of the sink version. 2,3) epoch-ms longs -> Connect Timestamp so they bind to timestamptz
    //    columns (a no-op if the producer already sends the Timestamp logical type).
    transforms: "dropTombstones,startTs,endTs",
    "transforms.dropTombstones.type": "org.apache.kafka.connect.transforms.Filter",
    "transforms.dropTombstones.predicate": "isTombstone",
    predicates: "isTombstone",
    "predicates.isTombstone.type": "org.apache.kafka.connect.transforms.predicates.RecordIsTombstone",
    ...Object.fromEntries(
      PIECE_TIMESTAMP_FIELDS.flatMap((f) => {
        const name = f === "start_ts" ? "startTs" : "endTs";
        return [
          [`transforms.${name}.type`, "org.apache.kafka.connect.transforms.TimestampConverter$Value"],
          [`transforms.${name}.field`, f],
          [`transforms.${name}.target.type`, "Timestamp"],
          [`transforms.${name}.unix.precision`, "milliseconds"],
        ];
      }),
    ),

    // Records that cannot be decoded or transformed go to the DLQ with the reason in headers; the task keeps
    // running. NOT covered: a row the database rejects fails the task (Debezium JDBC 3.6 does not dead-letter write
    // errors; test/real/sink.test.ts has a canary), so the schema's CHECKs stay within ksqlDB's output contract.
    // Messages are not logged: segments carry user ids.
    "errors.tolerance": "all",
    "errors.deadletterqueue.topic.name": dlq,
    "errors.deadletterqueue.topic.replication.factor": String(REPLICATION_FACTOR),
    "errors.deadletterqueue.context.headers.enable": "true",
    "errors.log.enable": "true",
    "errors.log.include.messages": "false",
    "errors.retry.timeout": String(ERRORS_RETRY_TIMEOUT_MS),
    "errors.retry.delay.max.ms": String(ERRORS_RETRY_DELAY_MAX_MS),

    // ksqlDB writes with exactly_once_v2: never load segments from aborted transactions.
    "consumer.override.isolation.level": CONSUMER_ISOLATION_LEVEL,
    // One poll = one JDBC batch.
    "consumer.override.max.poll.records": String(batch),
    // A new connector loads the topic from its start (the table is rebuilt by replay, upsert makes that safe).
    "consumer.override.auto.offset.reset": "earliest",
  };
}

function tasks(args: WatchSegmentsSinkArgs): number {
  const t = args.tasksMax ?? DEFAULT_TASKS_MAX;
  if (!Number.isInteger(t) || t < 1) fail("tasksMax", "an integer >= 1", t, `the default is ${DEFAULT_TASKS_MAX}`);
  return t;
}

/** What the program deploys: the KafkaConnector `spec` (Avro + Schema Registry, password from a Kubernetes Secret). */
export function watchSegmentsSinkSpec(args: AvroSinkArgs): KafkaConnectorSpec {
  if (!/^https?:\/\/[^\s/]+(:\d+)?(\/\S*)?$/.test(args.schemaRegistryUrl)) {
    fail("schemaRegistryUrl", "an http(s) URL", args.schemaRegistryUrl, "pass the Schema Registry service URL");
  }
  return {
    class: DEBEZIUM_JDBC_SINK_CLASS,
    tasksMax: tasks(args),
    // Restart failed tasks (e.g. after a YSQL outage outlasting flush retries) with the operator's back-off.
    autoRestart: { enabled: true },
    state: "running",
    config: { ...sinkCoreConfig(args), ...VALUE_FORMATS.avro(args.schemaRegistryUrl) },
  };
}

/**
 * The local variant's value schema (JsonConverter, schemas.enable=true): the typed struct the JDBC sink needs, which
 * the Avro converter derives from the registered schema in the cluster. Producers in the local tests wrap each
 * WatchPiece as `{schema, payload}` with it.
 */
export const WATCH_PIECE_CONNECT_SCHEMA = {
  type: "struct",
  name: "watchpipe.WatchPiece",
  optional: false,
  fields: [
    { field: "user_id", type: "string", optional: false },
    { field: "video_id", type: "string", optional: false },
    { field: "start_ts", type: "int64", optional: false },
    { field: "end_ts", type: "int64", optional: false },
    { field: "first_position_sec", type: "double", optional: false },
    { field: "last_position_sec", type: "double", optional: false },
    { field: "min_position_sec", type: "double", optional: false },
    { field: "max_position_sec", type: "double", optional: false },
    { field: "heartbeat_count", type: "int32", optional: false },
    { field: "piece_no", type: "int32", optional: false },
    { field: "session_gap_ms", type: "int32", optional: false },
    { field: "seek_tolerance_ms", type: "int32", optional: false },
    { field: "max_rate_permille", type: "int32", optional: false },
  ],
} as const;

/** Pure: the record value the local sink variant (JsonConverter, schemas.enable=true) reads. */
export function connectJsonEnvelope(p: WatchPiece): string {
  return JSON.stringify({ schema: WATCH_PIECE_CONNECT_SCHEMA, payload: p });
}

/**
 * The local-test variant as a Kafka Connect REST config (PUT /connectors/{name}/config): same core settings, values
 * as JSON with an embedded schema.
 */
export function localWatchSegmentsSinkConfig(args: WatchSegmentsSinkArgs): Record<string, string> {
  return {
    "connector.class": DEBEZIUM_JDBC_SINK_CLASS,
    "tasks.max": String(tasks(args)),
    ...sinkCoreConfig(args),
    ...VALUE_FORMATS.jsonWithSchema(),
  };
}
