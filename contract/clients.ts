/**
 * Names shared between the Kafka cluster (users, ACLs, NetworkPolicies) and the clients that use them. The ACLs are
 * written against these, so a client and its permissions cannot drift apart.
 */

/** Name of the Strimzi `Kafka` CR; Strimzi derives service and secret names from it. */
export const KAFKA_CLUSTER_NAME = "events";
/** TLS + SCRAM listener port (the only listener). */
export const KAFKA_TLS_PORT = 9093;
/** Secret Strimzi creates with the cluster CA certificate (key `ca.crt`), in the Kafka namespace. */
export const CLUSTER_CA_SECRET = `${KAFKA_CLUSTER_NAME}-cluster-ca-cert`;
/** In-cluster bootstrap address of the TLS listener. */
export function bootstrapAddress(namespace: string): string {
  return `${KAFKA_CLUSTER_NAME}-kafka-bootstrap.${namespace}.svc:${KAFKA_TLS_PORT}`;
}

/**
 * One KafkaUser per client. Strimzi's User Operator generates each SCRAM password into a Secret named after the user
 * (keys `password` and `sasl.jaas.config`) in the Kafka namespace; it never leaves the cluster.
 */
export const KAFKA_USERS = {
  bridge: "bridge",
  ksqldb: "ksqldb",
  connect: "connect",
  schemaRegistry: "schema-registry",
  kafkaUi: "kafka-ui",
  loadgen: "loadgen",
  /** The session ticker's own producer (components/stream/sessionTickerSpecs.ts): ticks carry no player token. */
  sessionTicker: "session-ticker",
} as const;
export type KafkaClient = keyof typeof KAFKA_USERS;

/** Fixed ksqlDB service id: its internal topics are `_confluent-ksql-<id>…` and its transactional id is `<id>`. */
export const KSQL_SERVICE_ID = "watchpipe_";
/** ksql-migrations keeps its state in this stream/table (topic names derive from them). */
export const KSQL_MIGRATIONS_STREAM = "WATCHPIPE_MIGRATION_EVENTS";
export const KSQL_MIGRATIONS_TABLE = "WATCHPIPE_MIGRATION_SCHEMA_VERSIONS";
/** Kafka Connect group and internal topics. */
export const CONNECT_GROUP_ID = "watchpipe-connect";
export const CONNECT_CONFIG_TOPIC = "watchpipe-connect-configs";
export const CONNECT_OFFSET_TOPIC = "watchpipe-connect-offsets";
export const CONNECT_STATUS_TOPIC = "watchpipe-connect-status";
/** Connect sink connector name; its consumer group is `connect-<name>`. */
export const SINK_CONNECTOR_NAME = "watch-segments-yugabyte";
/** Schema Registry's group id (leader election). */
export const SCHEMA_REGISTRY_GROUP_ID = "watchpipe-schema-registry";

/** Label every pod that may talk to the brokers carries; the brokers' NetworkPolicy admits only these. */
export const KAFKA_CLIENT_LABEL = { "watchpipe.io/kafka-client": "true" } as const;
