/**
 * The heartbeat pipeline, composed. This file reads config, creates components in dependency order and exports
 * outputs; components hold the logic.
 */
import { loadConfig } from "./config";
import { kafkaPlatform } from "./components/kafka/kafkaPlatform";
import { streamProcessingFromConfig } from "./components/stream/ksqldb";
import { kubernetesTarget } from "./components/aws/platform";
import { kafkaConnectFromConfig } from "./components/sink/connect";
import { yugabyteFromConfig } from "./components/sink/yugabyte";
import { monitoringFromConfig } from "./components/ops/monitoring";

// Validate before anything is registered: a bad key fails preview with a message naming it.
const config = loadConfig();

const target = kubernetesTarget(config);
const kafka = kafkaPlatform(config, target);
// Schema Registry, ksqlDB, the SQL (ksql-migrations Job) and the session tick source.
const streaming = streamProcessingFromConfig(config, target, kafka);
// The database's password Secret and CA are copied into the Kafka namespace for Connect.
const yugabyte = yugabyteFromConfig(config, target, { kafkaNamespaceDependsOn: kafka.ready });
const connect = kafkaConnectFromConfig(config, target, {
  database: yugabyte,
  schemaRegistryUrl: streaming.schemaRegistry.url,
  // The sink starts once Schema Registry runs and the SQL that writes its topic is applied.
  dependsOn: [...kafka.ready, kafka.strimzi.release, ...streaming.ready],
});

// Scrapes, alerts and dashboards for all of the above (monitoring.enabled).
const monitoring = monitoringFromConfig(config, target, [...kafka.ready, yugabyte]);

export const environment = config.environment;
export const kubeContext = target.context;
export const vpcId = target.aws?.vpcId;
export const clusterName = target.aws?.clusterName;
export const kubeconfig = target.aws?.kubeconfig;
export const kafkaNamespace = kafka.namespace;
export const kafkaBootstrapServers = kafka.bootstrapServers;
export const heartbeatPartitions = kafka.partitions.partitions;
export const bridgeService = kafka.bridge.serviceName;
export const bridgeHostname = kafka.bridge.hostname;
export const schemaRegistryServiceUrl = streaming.schemaRegistry.url;
export const ksqldbServiceUrl = streaming.ksqldb.url;
export const ksqlMigrationsJob = streaming.migrations.jobName;
export const ysqlHost = yugabyte.connection.host;
export const ysqlDatabase = yugabyte.connection.database;
export const backupBucket = yugabyte.backupBucket;
export const connectImage = connect.image;
export const monitoringNamespace = monitoring?.namespace;
