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

// Stack outputs. Only those with a value in this stack are exported: an undefined one (vpcId on an existing cluster,
// backupBucket without backups) would make every preview warn "Undefined value … will not show as a stack output".
const outputs = {
  environment: config.environment,
  kubeContext: target.context,
  vpcId: target.aws?.vpcId,
  clusterName: target.aws?.clusterName,
  kubeconfig: target.aws?.kubeconfig,
  kafkaNamespace: kafka.namespace,
  kafkaBootstrapServers: kafka.bootstrapServers,
  heartbeatPartitions: kafka.partitions.partitions,
  bridgeService: kafka.bridge.serviceName,
  bridgeHostname: kafka.gateway?.hostname ?? kafka.bridge.hostname,
  ingestGatewayService: kafka.gateway?.serviceName,
  ingestGatewayPort: kafka.gateway?.port,
  // What the deploy workflow's smoke signs its tokens with (docs/ingest.md "The deploy smoke issuer"); the key is secret.
  ingestSmokeIssuer: kafka.gateway?.smoke?.issuer,
  ingestSmokeAudience: kafka.gateway?.smoke?.audience,
  ingestSmokeKid: kafka.gateway?.smoke?.kid,
  ingestSmokeKeyPem: kafka.gateway?.smoke?.privateKeyPem,
  schemaRegistryServiceUrl: streaming.schemaRegistry.url,
  ksqldbServiceUrl: streaming.ksqldb.url,
  ksqlMigrationsJob: streaming.migrations.jobName,
  ysqlHost: yugabyte.connection.host,
  ysqlDatabase: yugabyte.connection.database,
  backupBucket: yugabyte.backupBucket,
  connectImage: connect.image,
  monitoringNamespace: monitoring?.namespace,
};

// A CommonJS export of the defined entries: named ES exports cannot be left out per stack.
export = Object.fromEntries(Object.entries(outputs).filter(([, value]) => value !== undefined));
