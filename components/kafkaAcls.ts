/**
 * Least-privilege ACLs for every Kafka client (simple authorization) and the KafkaUser manifests that carry them.
 * Each client gets exactly the topics, groups and transactional ids its code uses, named from components/clients.ts
 * and components/topics.ts so a client and its permissions cannot drift apart.
 */
import {
  CONNECT_CONFIG_TOPIC,
  CONNECT_GROUP_ID,
  CONNECT_OFFSET_TOPIC,
  CONNECT_STATUS_TOPIC,
  KAFKA_CLUSTER_NAME,
  KAFKA_USERS,
  type KafkaClient,
  KSQL_MIGRATIONS_STREAM,
  KSQL_MIGRATIONS_TABLE,
  KSQL_SERVICE_ID,
  SCHEMA_REGISTRY_GROUP_ID,
  SINK_CONNECTOR_NAME,
} from "./clients";
import { STRIMZI_API_VERSION } from "./kafkaSpecs";
import {
  HEARTBEATS_TOPIC,
  RAW_HEARTBEATS_TOPIC,
  REJECTED_HEARTBEATS_TOPIC,
  SCHEMAS_TOPIC,
  WATCH_SEGMENTS_DLQ_TOPIC,
  WATCH_SEGMENTS_TOPIC,
  KSQL_CREATED_TOPICS,
} from "./topics";

export type AclOperation =
  | "Read" | "Write" | "Create" | "Delete" | "Alter" | "Describe" | "ClusterAction" | "AlterConfigs" | "DescribeConfigs" | "IdempotentWrite";
export type AclResourceType = "topic" | "group" | "cluster" | "transactionalId";

export interface Acl {
  readonly resource: { readonly type: AclResourceType; readonly name?: string; readonly patternType?: "literal" | "prefix" };
  readonly operations: readonly AclOperation[];
}

/** Prefix of every ksqlDB internal topic, consumer group and Kafka Streams transactional id for our service id. */
export const KSQL_INTERNAL_PREFIX = `_confluent-ksql-${KSQL_SERVICE_ID}`;
/** ksqlDB's processing log topic (`<service id>ksql_processing_log`). */
export const KSQL_PROCESSING_LOG_TOPIC = `${KSQL_SERVICE_ID}ksql_processing_log`;
/** ksql-migrations' topics default to `<service id>ksql_<stream or table name>`. */
export const KSQL_MIGRATIONS_STREAM_TOPIC = `${KSQL_SERVICE_ID}ksql_${KSQL_MIGRATIONS_STREAM}`;
export const KSQL_MIGRATIONS_TABLE_TOPIC = `${KSQL_SERVICE_ID}ksql_${KSQL_MIGRATIONS_TABLE}`;
/** The sink connector's consumer group (Connect names it `connect-<connector>`). */
export const SINK_CONSUMER_GROUP = `connect-${SINK_CONNECTOR_NAME}`;

const topic = (name: string, operations: AclOperation[]): Acl => ({ resource: { type: "topic", name, patternType: "literal" }, operations });
const group = (name: string, operations: AclOperation[]): Acl => ({ resource: { type: "group", name, patternType: "literal" }, operations });
const cluster = (operations: AclOperation[]): Acl => ({ resource: { type: "cluster" }, operations });

/** Produce to a topic (Describe is needed for metadata). */
const PRODUCE: AclOperation[] = ["Write", "Describe"];
/** Consume a topic. */
const CONSUME: AclOperation[] = ["Read", "Describe"];
/** A topic a client creates and owns (ksqlDB/Connect check existing topics' config before use). */
const OWN: AclOperation[] = ["Create", "Read", "Write", "Describe", "DescribeConfigs"];

/**
 * Wildcard and prefix ACLs that are allowed, each with the reason. Anything else matching `*` or a prefix fails the
 * policy check in components/kafkaPolicies.ts.
 */
export const ACL_WILDCARD_ALLOW_LIST: readonly { user: string; type: AclResourceType; name: string; patternType: "literal" | "prefix"; why: string }[] = [
  { user: KAFKA_USERS.ksqldb, type: "topic", name: KSQL_INTERNAL_PREFIX, patternType: "prefix", why: "ksqlDB names repartition/changelog/command topics per query at runtime" },
  { user: KAFKA_USERS.ksqldb, type: "group", name: KSQL_INTERNAL_PREFIX, patternType: "prefix", why: "one consumer group per persistent query, named at runtime" },
  { user: KAFKA_USERS.ksqldb, type: "transactionalId", name: KSQL_INTERNAL_PREFIX, patternType: "prefix", why: "exactly_once_v2 transactional ids derive from the per-query application id" },
  { user: KAFKA_USERS.ksqldb, type: "transactionalId", name: KSQL_SERVICE_ID, patternType: "prefix", why: "the server's command-topic producer is transactional under the service id" },
  { user: KAFKA_USERS.kafkaUi, type: "topic", name: "*", patternType: "literal", why: "the UI lists every topic and its config (Describe/DescribeConfigs only, no Read)" },
  { user: KAFKA_USERS.kafkaUi, type: "group", name: "*", patternType: "literal", why: "the UI shows consumer lag of every group (Describe only)" },
];

/** ACLs per client. */
export function clientAcls(): Record<KafkaClient, Acl[]> {
  return {
    bridge: [topic(RAW_HEARTBEATS_TOPIC, PRODUCE)],
    loadgen: [topic(RAW_HEARTBEATS_TOPIC, PRODUCE), cluster(["IdempotentWrite"])],
    ksqldb: [
      topic(RAW_HEARTBEATS_TOPIC, [...CONSUME, "DescribeConfigs"]),
      topic(HEARTBEATS_TOPIC, ["Read", "Write", "Describe", "DescribeConfigs"]),
      topic(REJECTED_HEARTBEATS_TOPIC, ["Read", "Write", "Describe", "DescribeConfigs"]),
      topic(WATCH_SEGMENTS_TOPIC, ["Read", "Write", "Describe", "DescribeConfigs"]),
      topic(KSQL_PROCESSING_LOG_TOPIC, OWN),
      ...KSQL_CREATED_TOPICS.map((name) => topic(name, OWN)),
      topic(KSQL_MIGRATIONS_STREAM_TOPIC, OWN),
      topic(KSQL_MIGRATIONS_TABLE_TOPIC, OWN),
      { resource: { type: "topic", name: KSQL_INTERNAL_PREFIX, patternType: "prefix" }, operations: ["Create", "Delete", "Read", "Write", "Describe", "DescribeConfigs", "AlterConfigs"] },
      { resource: { type: "group", name: KSQL_INTERNAL_PREFIX, patternType: "prefix" }, operations: ["Read", "Describe", "Delete"] },
      { resource: { type: "transactionalId", name: KSQL_INTERNAL_PREFIX, patternType: "prefix" }, operations: ["Write", "Describe"] },
      { resource: { type: "transactionalId", name: KSQL_SERVICE_ID, patternType: "prefix" }, operations: ["Write", "Describe"] },
      cluster(["Describe", "DescribeConfigs", "IdempotentWrite"]),
    ],
    connect: [
      topic(CONNECT_CONFIG_TOPIC, OWN),
      topic(CONNECT_OFFSET_TOPIC, OWN),
      topic(CONNECT_STATUS_TOPIC, OWN),
      group(CONNECT_GROUP_ID, CONSUME),
      group(SINK_CONSUMER_GROUP, CONSUME),
      topic(WATCH_SEGMENTS_TOPIC, CONSUME),
      topic(WATCH_SEGMENTS_DLQ_TOPIC, PRODUCE),
    ],
    schemaRegistry: [
      topic(SCHEMAS_TOPIC, ["Read", "Write", "Describe", "DescribeConfigs"]),
      group(SCHEMA_REGISTRY_GROUP_ID, CONSUME),
    ],
    kafkaUi: [
      topic("*", ["Describe", "DescribeConfigs"]),
      group("*", ["Describe"]),
      // Browsing messages is allowed on the pipeline's own topics only, never on internal ones (credentials, state).
      ...[RAW_HEARTBEATS_TOPIC, HEARTBEATS_TOPIC, REJECTED_HEARTBEATS_TOPIC, WATCH_SEGMENTS_TOPIC, WATCH_SEGMENTS_DLQ_TOPIC].map((t) => topic(t, ["Read"])),
      cluster(["Describe", "DescribeConfigs"]),
    ],
  };
}

/** A KafkaUser with SCRAM-SHA-512 credentials (the User Operator writes them to a Secret named after the user). */
export function kafkaUserManifest(userName: string, acls: readonly Acl[], namespace: string) {
  return {
    apiVersion: STRIMZI_API_VERSION,
    kind: "KafkaUser",
    metadata: { name: userName, namespace, labels: { "strimzi.io/cluster": KAFKA_CLUSTER_NAME } },
    spec: {
      authentication: { type: "scram-sha-512" },
      authorization: {
        type: "simple",
        acls: acls.map((a) => ({ type: "allow", resource: { ...a.resource }, operations: [...a.operations] })),
      },
    },
  };
}

/** Every client's KafkaUser manifest. */
export function kafkaUserManifests(namespace: string) {
  const acls = clientAcls();
  return (Object.keys(KAFKA_USERS) as KafkaClient[]).map((client) => ({ client, manifest: kafkaUserManifest(KAFKA_USERS[client], acls[client], namespace) }));
}
