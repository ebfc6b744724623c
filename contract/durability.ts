/**
 * The one source of truth for Kafka durability. The Strimzi Kafka CR, every KafkaTopic, every producer and
 * consumer we configure, the policy checks and the real-broker tests all read these constants.
 *
 * Kafka >= 4.1 enables Eligible Leader Replicas (KIP-966): `min.insync.replicas` must be right from the first
 * deploy, so these values are set on the cluster before any topic exists.
 */

/** Every topic we or our services create is replicated to three brokers (one per AZ with rack awareness). */
export const REPLICATION_FACTOR = 3;

/** acks=all succeeds only while two replicas have the write: one broker may be down, never two. */
export const MIN_INSYNC_REPLICAS = 2;

/** Broker-level settings applied to every Kafka cluster (Strimzi `spec.kafka.config`, local test brokers). */
export const BROKER_DURABILITY_CONFIG = {
  "default.replication.factor": REPLICATION_FACTOR,
  "min.insync.replicas": MIN_INSYNC_REPLICAS,
  "unclean.leader.election.enable": false,
  "auto.create.topics.enable": false,
  "offsets.topic.replication.factor": REPLICATION_FACTOR,
  "transaction.state.log.replication.factor": REPLICATION_FACTOR,
  "transaction.state.log.min.isr": MIN_INSYNC_REPLICAS,
} as const;

/** Topic-level settings every KafkaTopic carries explicitly, so a topic never depends on broker defaults. */
export const TOPIC_DURABILITY_CONFIG = {
  "min.insync.replicas": MIN_INSYNC_REPLICAS,
  "unclean.leader.election.enable": false,
} as const;

/** Java-client producer settings for every producer we configure (Kafka Bridge, Connect, ksqlDB, SR). */
export const PRODUCER_DURABILITY_CONFIG = {
  acks: "all",
  "enable.idempotence": true,
  "max.in.flight.requests.per.connection": 5,
} as const;

/** Consumers downstream of transactional writers (ksqlDB exactly_once_v2) read committed data only. */
export const CONSUMER_ISOLATION_LEVEL = "read_committed";

/** The SASL mechanism on every listener and every client. */
export const SASL_MECHANISM = "SCRAM-SHA-512";
