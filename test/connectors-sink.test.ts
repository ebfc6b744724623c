/**
 * Policies for the watch segments JDBC sink connector: the spec the program deploys is a valid Strimzi v1
 * KafkaConnector spec (checked against the released CRD in ../shared), upserts on the three value fields, cannot be
 * stopped by tombstones, dead-letters bad records, reads committed data only and never carries a password.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import Ajv from "ajv";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { CONSUMER_ISOLATION_LEVEL, REPLICATION_FACTOR } from "../contract/durability";
import { WATCH_SEGMENTS_DLQ_TOPIC, WATCH_SEGMENTS_TOPIC } from "../contract/topics";
import { SHARED_DIR } from "./sharedRefs";
import {
  AvroSinkArgs, CONFIG_PROVIDER_WORKER_CONFIG, DEBEZIUM_JDBC_SINK_CLASS, DEFAULT_BATCH_SIZE, jdbcUrl,
  localWatchSegmentsSinkConfig, passwordReference, sinkCoreConfig, VALUE_FORMATS, watchSegmentsSinkSpec,
} from "../connectors/watchSegmentsSink";

const CRD_FILE = join(SHARED_DIR, "crds", "strimzi-1.2.0", "047-Crd-kafkaconnector.yaml");
const DB_PASSWORD = "s3cr3t-Pa55word";

const args: AvroSinkArgs = {
  db: { host: "yb-tservers.yugabyte.svc.cluster.local", database: "watchpipe", user: "segments_sink",
    tls: { sslMode: "verify-full", rootCertPath: "/opt/kafka/external-configuration/yb-ca/ca.crt" } },
  password: { kind: "kubernetesSecret", namespace: "yugabyte", secret: "segments-sink-db", key: "password" },
  schemaRegistryUrl: "http://schema-registry.kafka.svc:8081",
};

/** True when ../shared is present; outside CI a missing copy skips (with the reason), under CI it fails. */
function sharedAvailable(): boolean {
  if (existsSync(CRD_FILE)) return true;
  const why = `${CRD_FILE} not found (../shared is the reference data checked out beside the repo)`;
  if (process.env.CI === "true") throw new Error(`${why}; CI=true requires it. Check out shared/ beside the repo.`);
  console.warn(`SKIPPING KafkaConnector CRD validation: ${why}`);
  return false;
}

type Json = Record<string, unknown>;

/**
 * A CRD's structural schema as strict JSON Schema: every object without x-kubernetes-preserve-unknown-fields
 * rejects unknown properties (what the API server's pruning would silently drop), and x-kubernetes-* markers
 * are removed so Ajv does not see unknown keywords.
 */
function strictSchema(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(strictSchema);
  if (node === null || typeof node !== "object") return node;
  const src = node as Json;
  const out: Json = {};
  for (const [k, v] of Object.entries(src)) {
    if (k.startsWith("x-kubernetes-")) continue;
    out[k] = k === "properties" ? Object.fromEntries(Object.entries(v as Json).map(([p, s]) => [p, strictSchema(s)])) : strictSchema(v);
  }
  if (src.type === "object" && src["x-kubernetes-preserve-unknown-fields"] !== true) out.additionalProperties = false;
  return out;
}

function kafkaConnectorSpecValidator(): (spec: unknown) => string[] {
  const crd = parse(readFileSync(CRD_FILE, "utf8")) as { spec: { versions: Array<{ name: string; schema: { openAPIV3Schema: Json } }> } };
  const v1 = crd.spec.versions.find((v) => v.name === "v1");
  if (v1 === undefined) throw new Error(`${CRD_FILE} has no v1 version; expected Strimzi 1.2.0 (kafka.strimzi.io/v1)`);
  const specSchema = (v1.schema.openAPIV3Schema.properties as Json).spec;
  const validate = new Ajv({ allErrors: true, strict: false }).compile(strictSchema(specSchema) as object);
  return (spec) => (validate(spec) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message} ${JSON.stringify(e.params)}`));
}

describe("watch segments sink: Strimzi KafkaConnector spec", () => {
  const spec = watchSegmentsSinkSpec(args);

  it.skipIf(!sharedAvailable())("validates against the Strimzi 1.2.0 KafkaConnector v1 CRD with no unknown fields", () => {
    const validate = kafkaConnectorSpecValidator();
    expect(validate(spec)).toEqual([]);
    // The validator is not vacuous: an unknown field and a bad tasksMax are both caught.
    expect(validate({ ...spec, tasks: 3 }).join()).toMatch(/additional/);
    expect(validate({ ...spec, tasksMax: 0 }).join()).toMatch(/minimum|>= 1/);
  });

  it("keeps name/class/tasks out of config (Strimzi forbids them there)", () => {
    expect(spec.class).toBe(DEBEZIUM_JDBC_SINK_CLASS);
    expect(spec.tasksMax).toBeGreaterThanOrEqual(1);
    for (const k of ["name", "connector.class", "tasks.max", "connector.plugin.version"]) expect(spec.config).not.toHaveProperty(k);
  });

  it("upserts the watch_segments topic's pieces into watch_pieces keyed on the value fields user_id, video_id, start_ts, piece_no", () => {
    expect(spec.config).toMatchObject({
      topics: WATCH_SEGMENTS_TOPIC,
      "insert.mode": "upsert",
      "primary.key.mode": "record_value",
      "primary.key.fields": "user_id,video_id,start_ts,piece_no",
      "collection.name.format": "watch_pieces",
      "schema.evolution": "none",
      "use.time.zone": "UTC",
    });
  });

  it("a tombstone cannot stop the task: deletes are off and tombstones are filtered first", () => {
    const c = spec.config;
    expect(c["delete.enabled"]).toBe("false");
    const chain = c.transforms.split(",");
    expect(chain[0]).toBe("dropTombstones");
    expect(c["transforms.dropTombstones.type"]).toBe("org.apache.kafka.connect.transforms.Filter");
    const pred = c["transforms.dropTombstones.predicate"];
    expect(c.predicates.split(",")).toContain(pred);
    expect(c[`predicates.${pred}.type`]).toBe("org.apache.kafka.connect.transforms.predicates.RecordIsTombstone");
    expect(c["transforms.dropTombstones.negate"]).toBeUndefined(); // negate=true would drop everything else
    for (const t of chain) expect(c[`transforms.${t}.type`], `transform ${t} has a type`).toBeDefined();
  });

  it("bad records go to the DLQ watch_segments_dlq (RF 3) with error context headers; the task keeps running", () => {
    expect(spec.config).toMatchObject({
      "errors.tolerance": "all",
      "errors.deadletterqueue.topic.name": WATCH_SEGMENTS_DLQ_TOPIC,
      "errors.deadletterqueue.topic.replication.factor": String(REPLICATION_FACTOR),
      "errors.deadletterqueue.context.headers.enable": "true",
    });
    expect(Number(spec.config["errors.retry.timeout"])).toBeGreaterThan(0);
  });

  it("reads committed records only (ksqlDB writes transactionally)", () => {
    expect(spec.config["consumer.override.isolation.level"]).toBe(CONSUMER_ISOLATION_LEVEL);
    expect(CONSUMER_ISOLATION_LEVEL).toBe("read_committed");
  });

  it("never carries a plaintext password: the password is a Kubernetes Secret reference", () => {
    expect(spec.config["connection.password"]).toBe("${secrets:yugabyte/segments-sink-db:password}");
    for (const [k, v] of Object.entries(spec.config)) {
      if (/password|secret|credential/i.test(k)) expect(v, k).toMatch(/^\$\{(secrets|file):[^}]+\}$/);
    }
    expect(JSON.stringify(watchSegmentsSinkSpec({ ...args }))).not.toContain(DB_PASSWORD);
    expect(CONFIG_PROVIDER_WORKER_CONFIG.kubernetesSecret["config.providers.secrets.class"]).toBe(
      "io.strimzi.kafka.KubernetesSecretConfigProvider");
  });

  it("decodes values with Confluent's AvroConverter from the given Schema Registry; keys are never decoded", () => {
    expect(spec.config["value.converter"]).toBe("io.confluent.connect.avro.AvroConverter");
    expect(spec.config["value.converter.schema.registry.url"]).toBe(args.schemaRegistryUrl);
    expect(spec.config["key.converter"]).toBe("org.apache.kafka.connect.converters.ByteArrayConverter");
  });

  it("batches for YSQL: batch.size equals the poll size and the pool stays small", () => {
    expect(spec.config["batch.size"]).toBe(String(DEFAULT_BATCH_SIZE));
    expect(spec.config["consumer.override.max.poll.records"]).toBe(spec.config["batch.size"]);
    expect(Number(spec.config["connection.pool.max_size"])).toBeLessThanOrEqual(4);
  });

  it("connects with TLS to YSQL's port 5433", () => {
    expect(spec.config["connection.url"]).toBe(
      "jdbc:postgresql://yb-tservers.yugabyte.svc.cluster.local:5433/watchpipe?sslmode=verify-full&sslrootcert=%2Fopt%2Fkafka%2Fexternal-configuration%2Fyb-ca%2Fca.crt");
    expect(jdbcUrl({ host: "127.0.0.1", port: 5432, database: "db", user: "u" })).toBe("jdbc:postgresql://127.0.0.1:5432/db");
  });
});

describe("watch segments sink: local-test variant", () => {
  const local = localWatchSegmentsSinkConfig({
    ...args, password: { kind: "file", path: "/tmp/x/db.properties", key: "password" },
  });

  it("differs from the deployed config only in the value converter and the password source", () => {
    const deployed = watchSegmentsSinkSpec(args).config;
    const diff = new Set([...Object.keys(local), ...Object.keys(deployed)].filter((k) => local[k] !== deployed[k]));
    expect([...diff].sort()).toEqual([
      "connection.password", "connector.class", "tasks.max", "value.converter", "value.converter.schema.registry.url",
      "value.converter.schemas.enable",
    ]);
    expect(local).toMatchObject({ ...VALUE_FORMATS.jsonWithSchema(), "connection.password": "${file:/tmp/x/db.properties:password}" });
  });
});

describe("watch segments sink: input validation names the option, the expected and the actual value", () => {
  const cases: Array<[string, () => unknown, RegExp]> = [
    ["db.host", () => jdbcUrl({ ...args.db, host: "bad host" }), /db\.host must be a DNS name.*"bad host"/],
    ["db.port", () => jdbcUrl({ ...args.db, port: 0 }), /db\.port must be an integer 1\.\.65535, got 0/],
    ["batchSize", () => sinkCoreConfig({ ...args, batchSize: 0 }), /batchSize must be an integer 1\.\.5000, got 0/],
    ["dlqTopic", () => sinkCoreConfig({ ...args, dlqTopic: WATCH_SEGMENTS_TOPIC }), /dlqTopic must be .* other than the source topic/],
    ["table", () => sinkCoreConfig({ ...args, table: "Watch Segments" }), /table must be a lower-case SQL identifier/],
    ["tasksMax", () => watchSegmentsSinkSpec({ ...args, tasksMax: 0 }), /tasksMax must be an integer >= 1, got 0/],
    ["schemaRegistryUrl", () => watchSegmentsSinkSpec({ ...args, schemaRegistryUrl: "schema-registry:8081" }), /schemaRegistryUrl must be an http\(s\) URL/],
    ["password.secret", () => passwordReference({ kind: "kubernetesSecret", namespace: "ns", secret: "a:b", key: "k" }), /password\.secret must be a Kubernetes name/],
    ["password.path", () => passwordReference({ kind: "file", path: "relative.properties", key: "k" }), /password\.path must be an absolute path/],
  ];
  for (const [what, run, error] of cases) it(`rejects a bad ${what}`, () => expect(run).toThrow(error));
});
