/**
 * Kafka ACL vocabulary and the names ACLs are written against that Kafka derives at runtime (ksqlDB's internal
 * prefix, processing log, migrations topics; the sink's consumer group), plus the wildcard allow-list the
 * least-privilege check (contract/kafkaPolicies.ts) accepts. The ACLs themselves are built in
 * components/kafka/kafkaAcls.ts.
 */
import {
  KAFKA_USERS,
  KSQL_MIGRATIONS_STREAM,
  KSQL_MIGRATIONS_TABLE,
  KSQL_SERVICE_ID,
  SINK_CONNECTOR_NAME,
} from "./clients";

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
