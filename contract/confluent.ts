/**
 * The Confluent Platform release the program deploys (Schema Registry and ksqlDB images, the ksql-migrations Job)
 * and the one the sessionization SQL is tested on (ksql/run-vectors.sh reads it through ksql/cp-version.ts).
 * 8.3.1 is the newest CP release tagged in confluentinc/ksql and confluentinc/schema-registry (v8.3.1, July 2026);
 * 8.x speaks to Kafka 4.x brokers (KRaft). Both images must move together: ksqlDB's Avro serde talks to Schema
 * Registry of the same release line. The vectors ran on ksqlDB 8.3.1 built from its public source (ksql/README.md).
 */
export const CP_VERSION = "8.3.1";
