/**
 * The heartbeat pipeline, composed. This file reads config, creates components in dependency order and exports
 * outputs; components hold the logic.
 */
import { type AppConfig, loadConfig } from "./config";
import { kafkaPlatform } from "./components/kafka/kafkaPlatform";
import { streamProcessingFromConfig } from "./components/stream/ksqldb";
import { kubernetesTarget } from "./components/aws/platform";
import { kafkaConnectFromConfig } from "./components/sink/connect";
import { yugabyteFromConfig } from "./components/sink/yugabyte";
import { monitoringFromConfig } from "./components/ops/monitoring";
import { withPinnedGatewayImage } from "./components/kafka/ingestGatewayImage";

/** Every resource, in dependency order; returns the stack outputs. */
function pipeline(config: AppConfig): Record<string, unknown> {
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
  const monitoring = monitoringFromConfig(config, target, [...kafka.ready, yugabyte], kafka.gateway ? "gateway" : "bridge");

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
    // Only where the Bridge is deployed (no ingest gateway); the players' ALB hostname keeps its name either way.
    bridgeService: kafka.bridge?.serviceName,
    bridgeHostname: kafka.gateway?.hostname ?? kafka.bridge?.hostname,
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

  // Only the defined entries: an undefined one cannot be left out of named ES exports per stack.
  return Object.fromEntries(Object.entries(outputs).filter(([, value]) => value !== undefined));
}

// Validate before anything is registered: a bad key fails preview with a message naming it. Then one lookup that
// must also come before any resource: the ingest gateway image of this checkout's build in its ECR repository (a
// build never published fails here, naming the tag and the workflow). Pulumi awaits the exported promise.
export = withPinnedGatewayImage(loadConfig()).then(pipeline);
