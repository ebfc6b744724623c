/**
 * ksqlDB servers in the Kafka namespace: a StatefulSet with RocksDB state on PersistentVolumes, exactly_once_v2,
 * every internal topic RF 3 / min ISR 2, TLS + SCRAM-SHA-512 as the `ksqldb` KafkaUser; a pre-created processing-log
 * KafkaTopic; headless + ClusterIP Services, PDB and an ingress NetworkPolicy. Specs: components/stream/ksqldbSpecs.ts.
 */
import type { ImageSourceSettings } from "../../contract/sources";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { withAwait, type DeploySettings } from "../../contract/readiness";
import type { AppSettings } from "../../contract/settings";
import { KSQL_PROCESSING_LOG_TOPIC } from "../../contract/acls";
import type { KafkaPlatform } from "../kafka/kafkaPlatform";
import { kafkaTopicManifest, ksqlSinkTopics } from "../kafka/kafkaTopicSpecs";
import { KsqlMigrations } from "./ksqlMigrations";
import type { KubernetesTarget } from "../aws/platform";
import { KSQLDB_JMX_EXPORTER_RULES, KSQLDB_METRICS_CONFIG_KEY } from "../ops/ksqldbMetrics";
import { SchemaRegistry } from "./schemaRegistry";
import { SessionTicker } from "./sessionTicker";
import {
  KSQL_PROCESSING_LOG_PARTITIONS,
  KSQLDB_APP,
  KSQLDB_HEADLESS_SERVICE,
  KSQLDB_METRICS_CONFIG_MAP,
  KSQLDB_PORT,
  ksqldbHeadlessServiceSpec,
  ksqldbServiceSpec,
  ksqldbStatefulSetSpec,
  ksqldbUrl,
  streamThreadsPerReplica,
} from "./ksqldbSpecs";
import { podDisruptionBudgetSpec, sameNamespaceIngressPolicySpec, workloadLabels } from "./streamingSpecs";

/**
 * How long Pulumi waits for the servers to become ready (its default is 10 min): the startup probe allows 15 min
 * for command-topic replay and state restore, plus a rolling update of several pods.
 */
export const KSQLDB_READY_TIMEOUT = "30m";
/** The processing log is for debugging bad input; a week covers looking into last week's incident. */
export const PROCESSING_LOG_RETENTION_MS = 7 * 24 * 3_600_000;

export interface KsqldbArgs {
  /** `watchpipe:images`: the registry mirror to pull from (unset: the public registry). */
  readonly images?: ImageSourceSettings;
  readonly namespace: string;
  readonly replicas: number;
  readonly storageGiB: number;
  readonly storageClassName: string;
  readonly resources: { readonly cpu: string; readonly memory: string };
  /** Total Kafka Streams threads across all servers (capacity.consumerParallelism). */
  readonly consumerParallelism: number;
  readonly schemaRegistryUrl: string;
  readonly provider: k8s.Provider;
  /** Pulumi `protect` on the StatefulSet (its PVCs hold the session state) and the processing-log topic. */
  readonly protect: boolean;
  /** The Strimzi release (CRDs), the Kafka cluster, the `ksqldb` KafkaUser, the pipeline topics, Schema Registry. */
  readonly dependsOn: pulumi.Input<pulumi.Resource>[];
  /** `watchpipe:deploy`: with waitForReady false the provider creates these objects without awaiting them. */
  readonly deploy?: DeploySettings;
}

export class Ksqldb extends pulumi.ComponentResource {
  /** In-cluster URL of the REST API. */
  readonly url: string;
  readonly statefulSet: k8s.apps.v1.StatefulSet;
  readonly service: k8s.core.v1.Service;

  constructor(name: string, args: KsqldbArgs, opts?: pulumi.ComponentResourceOptions) {
    super("watchpipe:ksqldb:Ksqldb", name, {}, opts);
    const k = { parent: this, provider: args.provider };
    const ns = args.namespace;
    const metadata = (objectName: string) => ({ name: objectName, namespace: ns, labels: workloadLabels(KSQLDB_APP, false) });

    const processingLog = new k8s.apiextensions.CustomResource(
      `${name}-processing-log-topic`,
      kafkaTopicManifest(
        {
          topicName: KSQL_PROCESSING_LOG_TOPIC,
          partitions: KSQL_PROCESSING_LOG_PARTITIONS,
          config: { "cleanup.policy": "delete", "retention.ms": PROCESSING_LOG_RETENTION_MS },
        },
        ns,
      ),
      { ...k, dependsOn: args.dependsOn, protect: args.protect },
    );

    const headless = new k8s.core.v1.Service(`${name}-headless`, { metadata: withAwait(metadata(KSQLDB_HEADLESS_SERVICE), args.deploy), spec: ksqldbHeadlessServiceSpec() }, { ...k, dependsOn: args.dependsOn });
    this.service = new k8s.core.v1.Service(`${name}-service`, { metadata: withAwait(metadata(KSQLDB_APP), args.deploy), spec: ksqldbServiceSpec() }, { ...k, dependsOn: args.dependsOn });

    const metricsRules = new k8s.core.v1.ConfigMap(
      `${name}-metrics-config`,
      { metadata: metadata(KSQLDB_METRICS_CONFIG_MAP), data: { [KSQLDB_METRICS_CONFIG_KEY]: KSQLDB_JMX_EXPORTER_RULES } },
      { ...k, dependsOn: args.dependsOn },
    );

    this.statefulSet = new k8s.apps.v1.StatefulSet(
      `${name}-statefulset`,
      {
        metadata: withAwait(metadata(KSQLDB_APP), args.deploy),
        spec: ksqldbStatefulSetSpec({
          namespace: ns,
          ...(args.images ? { images: args.images } : {}),
          replicas: args.replicas,
          storageGiB: args.storageGiB,
          storageClassName: args.storageClassName,
          resources: args.resources,
          streamThreads: streamThreadsPerReplica(args.consumerParallelism, args.replicas),
          schemaRegistryUrl: args.schemaRegistryUrl,
        }),
      },
      { ...k, dependsOn: [...args.dependsOn, processingLog, headless, metricsRules], protect: args.protect, customTimeouts: { create: KSQLDB_READY_TIMEOUT, update: KSQLDB_READY_TIMEOUT } },
    );

    new k8s.policy.v1.PodDisruptionBudget(`${name}-pdb`, { metadata: metadata(KSQLDB_APP), spec: podDisruptionBudgetSpec(KSQLDB_APP) }, { ...k, dependsOn: args.dependsOn });
    new k8s.networking.v1.NetworkPolicy(
      `${name}-ingress`,
      { metadata: metadata(`${KSQLDB_APP}-ingress`), spec: sameNamespaceIngressPolicySpec(KSQLDB_APP, KSQLDB_PORT) },
      { ...k, dependsOn: args.dependsOn },
    );

    this.url = ksqldbUrl(ns);
    this.registerOutputs({ url: this.url });
  }
}

// ---- composition ------------------------------------------------------------------------------------------------

/** What index.ts gets back from {@link streamProcessingFromConfig}. */
export interface StreamProcessing {
  readonly schemaRegistry: SchemaRegistry;
  readonly ksqldb: Ksqldb;
  readonly migrations: KsqlMigrations;
  readonly ticker: SessionTicker;
  /** Depend on these before using Schema Registry or the SQL's output (e.g. the Connect sink). */
  readonly ready: pulumi.Resource[];
}

/**
 * Schema Registry → ksqlDB → the migrations Job → the tick source, for one stack, on top of the Kafka platform.
 * The migrations Job runs on every `pulumi up` whose SQL, defines or scripts changed, after ksqlDB is up.
 */
/** The config slice stream processing reads. */
export type StreamProcessingSettings = Pick<AppSettings, "schemaRegistry" | "ksqldb" | "capacity" | "sessionization" | "protectData" | "images"> & Partial<Pick<AppSettings, "deploy">>;

export function streamProcessingFromConfig(config: StreamProcessingSettings, target: KubernetesTarget, kafka: KafkaPlatform): StreamProcessing {
  const provider = target.provider;
  const namespace = kafka.namespace;
  const afterKafka: pulumi.Resource[] = [kafka.strimzi.release, ...kafka.ready];
  const heartbeatPartitions = kafka.partitions.partitions;
  const deploy = config.deploy ? { deploy: config.deploy } : {};

  const schemaRegistry = new SchemaRegistry("schema-registry", {
    namespace,
    replicas: config.schemaRegistry.replicas,
    provider,
    protect: config.protectData,
    dependsOn: afterKafka,
    images: config.images,
    ...deploy,
  });
  const ksqldb = new Ksqldb("ksqldb", {
    namespace,
    replicas: config.ksqldb.replicas,
    storageGiB: config.ksqldb.storageGiB,
    storageClassName: target.storageClassName,
    resources: config.ksqldb.resources,
    consumerParallelism: config.capacity.consumerParallelism,
    schemaRegistryUrl: schemaRegistry.url,
    provider,
    protect: config.protectData,
    dependsOn: [...afterKafka, schemaRegistry.deployment],
    images: config.images,
    ...deploy,
  });
  const migrations = new KsqlMigrations("ksql-migrations", {
    namespace,
    ksqldbUrl: ksqldb.url,
    sessionization: config.sessionization,
    heartbeatPartitions,
    sinkTopics: ksqlSinkTopics(kafka.topicPlans),
    provider,
    dependsOn: [...afterKafka, schemaRegistry.deployment, ksqldb.statefulSet],
    images: config.images,
    ...deploy,
  });
  const ticker = new SessionTicker("session-ticker", {
    namespace,
    heartbeatPartitions,
    tickIntervalSec: config.sessionization.tickIntervalSec,
    provider,
    // Its own KafkaUser and the raw topic (the ticker produces straight to Kafka, with or without the Bridge).
    dependsOn: [...afterKafka, migrations.job],
    images: config.images,
    ...deploy,
  });
  return { schemaRegistry, ksqldb, migrations, ticker, ready: [schemaRegistry.deployment, migrations.job] };
}
