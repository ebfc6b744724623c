/** Pinned Kafka Connect plugins the harness installs (see setup.ts). */

/**
 * Debezium JDBC sink: Apache 2.0, on Maven Central. 3.6.0.Final is built against Kafka 4.3.0 and targets Java 17
 * for connectors (debezium-build-parent: version.kafka=4.3.0, debezium.java.connector.target=17).
 */
export const DEBEZIUM_JDBC_VERSION = "3.6.0.Final";

export const DEBEZIUM_JDBC_PLUGIN_URL =
  `https://repo1.maven.org/maven2/io/debezium/debezium-connector-jdbc/${DEBEZIUM_JDBC_VERSION}/` +
  `debezium-connector-jdbc-${DEBEZIUM_JDBC_VERSION}-plugin.tar.gz`;

/** From the .sha512 file Maven Central publishes next to the tar.gz; setup refuses anything else. */
export const DEBEZIUM_JDBC_PLUGIN_SHA512 =
  "7ce615b4b41d029226b03722b0acaee61bc18c5335faa3d4ca23f80d3217f3f9e08f296ad9e17fd08918101d51159480444cf8cc833b0ab1f73ac198a4877dc4";

/** The connector class the worker must list under GET /connector-plugins once the plugin is installed. */
export const DEBEZIUM_JDBC_SINK_CLASS = "io.debezium.connector.jdbc.JdbcSinkConnector";
