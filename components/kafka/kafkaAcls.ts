/**
 * Least-privilege ACLs for every Kafka client (simple authorization) and the KafkaUser manifests that carry them.
 * Each client gets exactly the topics, groups and transactional ids its code uses, named from contract/clients.ts
 * and contract/topics.ts so a client and its permissions cannot drift apart.
 */
import {
  CONNECT_CONFIG_TOPIC,
  CONNECT_GROUP_ID,
  CONNECT_OFFSET_TOPIC,
  CONNECT_STATUS_TOPIC,
  KAFKA_CLUSTER_NAME,
  KAFKA_USERS,
  type KafkaClient,
  KSQL_SERVICE_ID,
  SCHEMA_REGISTRY_GROUP_ID,
} from "../../contract/clients";
import {
  type Acl,
  type AclOperation,
  KSQL_INTERNAL_PREFIX,
  KSQL_MIGRATIONS_STREAM_TOPIC,
  KSQL_MIGRATIONS_TABLE_TOPIC,
  KSQL_PROCESSING_LOG_TOPIC,
  SINK_CONSUMER_GROUP,
} from "../../contract/acls";
import { STRIMZI_API_VERSION } from "./kafkaSpecs";
import {
  HEARTBEATS_TOPIC,
  RAW_HEARTBEATS_TOPIC,
  REJECTED_HEARTBEATS_TOPIC,
  SCHEMAS_TOPIC,
  WATCH_SEGMENTS_DLQ_TOPIC,
  WATCH_SEGMENTS_TOPIC,
  KSQL_CREATED_TOPICS,
} from "../../contract/topics";

const topic = (name: string, operations: AclOperation[]): Acl => ({ resource: { type: "topic", name, patternType: "literal" }, operations });
const group = (name: string, operations: AclOperation[]): Acl => ({ resource: { type: "group", name, patternType: "literal" }, operations });
const cluster = (operations: AclOperation[]): Acl => ({ resource: { type: "cluster" }, operations });

/** Produce to a topic (Describe is needed for metadata). */
const PRODUCE: AclOperation[] = ["Write", "Describe"];
/** Consume a topic. */
const CONSUME: AclOperation[] = ["Read", "Describe"];
/** A topic a client creates and owns (ksqlDB/Connect check existing topics' config before use). */
const OWN: AclOperation[] = ["Create", "Read", "Write", "Describe", "DescribeConfigs"];

/** ACLs per client. */
export function clientAcls(): Record<KafkaClient, Acl[]> {
  return {
    bridge: [topic(RAW_HEARTBEATS_TOPIC, PRODUCE)],
    loadgen: [topic(RAW_HEARTBEATS_TOPIC, PRODUCE), cluster(["IdempotentWrite"])],
    // Idempotent, yet no cluster IdempotentWrite: since Kafka 3.0 (KIP-679) Write on a topic lets a producer get a
    // producer id (proved by test/real/sessionTicker.test.ts on the real broker with exactly these ACLs).
    sessionTicker: [topic(RAW_HEARTBEATS_TOPIC, PRODUCE)],
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
