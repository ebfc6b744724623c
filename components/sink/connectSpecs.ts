/**
 * Pure builders for Kafka Connect: the Strimzi `KafkaConnect` spec (kafka.strimzi.io/v1) with its image build,
 * the pinned plugin artifacts, the ECR lifecycle and push policies, and the RBAC that lets the worker read exactly
 * one Secret. No Pulumi resources here.
 */
import { CONNECT_METRICS_CONFIG_KEY } from "../ops/connectMetrics";
import { createHash } from "node:crypto";
import { CONFIG_PROVIDER_WORKER_CONFIG } from "../../connectors/watchSegmentsSink";
import {
  bootstrapAddress,
  CLUSTER_CA_SECRET,
  CONNECT_CONFIG_TOPIC,
  CONNECT_GROUP_ID,
  CONNECT_OFFSET_TOPIC,
  CONNECT_STATUS_TOPIC,
  KAFKA_CLIENT_LABEL,
  KAFKA_USERS,
} from "../../contract/clients";
import { KAFKA_VERSION } from "../kafka/kafkaSpecs";
import { CONSUMER_ISOLATION_LEVEL, MIN_INSYNC_REPLICAS, PRODUCER_DURABILITY_CONFIG, REPLICATION_FACTOR } from "../../contract/durability";

/** KafkaConnect CR name. Strimzi derives `<name>-connect` (pods, SA) and `<name>-connect-build` (build SA) from it. */
export const CONNECT_CLUSTER_NAME = "watchpipe";
export const CONNECT_SERVICE_ACCOUNT = `${CONNECT_CLUSTER_NAME}-connect`;
export const CONNECT_BUILD_SERVICE_ACCOUNT = `${CONNECT_CLUSTER_NAME}-connect-build`;
/** ECR repository / image name the build pushes to. */
/** ConfigMap with the Connect workers' JMX exporter rules. */
export const CONNECT_METRICS_CONFIGMAP = `${CONNECT_CLUSTER_NAME}-connect-metrics`;
export const CONNECT_IMAGE_NAME = "watchpipe-connect";

export interface PluginArtifact {
  readonly type: "tgz" | "jar" | "zip" | "other" | "maven";
  readonly url?: string;
  readonly sha512sum?: string;
  readonly repository?: string;
  readonly group?: string;
  readonly artifact?: string;
  readonly version?: string;
}
export interface ConnectPlugin {
  readonly name: string;
  readonly artifacts: readonly PluginArtifact[];
}

/** Debezium JDBC sink, Apache 2.0, Maven Central; 3.6.0.Final targets Kafka 4.3 (the version our brokers run). */
export const DEBEZIUM_JDBC_VERSION = "3.6.0.Final";
/**
 * sha512 of the plugin tar.gz, computed here with `curl … | sha512sum` from Maven Central on 2026-11-22 and equal
 * to the .sha512 file Central publishes next to it. Strimzi refuses to build if the download differs.
 */
export const DEBEZIUM_JDBC_SHA512 =
  "7ce615b4b41d029226b03722b0acaee61bc18c5335faa3d4ca23f80d3217f3f9e08f296ad9e17fd08918101d51159480444cf8cc833b0ab1f73ac198a4877dc4";
/**
 * Confluent's AvroConverter (the sink reads ksqlDB's Schema-Registry Avro). It is only in Confluent's Maven
 * repository; 8.0.0 is built on Kafka 4.0's Connect API, which the 4.3 worker runs unchanged. Strimzi cannot
 * checksum `maven` artifacts (the CRD says sha512sum is not applicable to them): the pin is the exact version.
 */
export const CONFLUENT_AVRO_CONVERTER = {
  repository: "https://packages.confluent.io/maven/",
  group: "io.confluent",
  artifact: "kafka-connect-avro-converter",
  version: "8.0.0",
} as const;

export function debeziumJdbcUrl(version: string = DEBEZIUM_JDBC_VERSION): string {
  return `https://repo1.maven.org/maven2/io/debezium/debezium-connector-jdbc/${version}/debezium-connector-jdbc-${version}-plugin.tar.gz`;
}

/** The plugins baked into the Connect image. The Kubernetes Secret config provider ships in Strimzi's image already. */
export const CONNECT_PLUGINS: readonly ConnectPlugin[] = [
  {
    name: "debezium-connector-jdbc",
    artifacts: [{ type: "tgz", url: debeziumJdbcUrl(), sha512sum: DEBEZIUM_JDBC_SHA512 }],
  },
  {
    name: "confluent-avro-converter",
    artifacts: [{ type: "maven", ...CONFLUENT_AVRO_CONVERTER }],
  },
];

/** Every non-maven artifact must carry a 128-hex-digit sha512; maven ones an exact (non-range, non-SNAPSHOT) version. */
export function pluginPinProblems(plugins: readonly ConnectPlugin[]): string[] {
  const problems: string[] = [];
  for (const p of plugins) {
    for (const a of p.artifacts) {
      if (a.type === "maven") {
        if (!a.version || /[[\](),]|SNAPSHOT|LATEST|RELEASE/i.test(a.version)) {
          problems.push(`plugin ${p.name}: maven artifact ${a.group}:${a.artifact} needs an exact version, got ${JSON.stringify(a.version)}`);
        }
      } else if (!a.sha512sum || !/^[0-9a-f]{128}$/.test(a.sha512sum)) {
        problems.push(`plugin ${p.name}: ${a.type} artifact ${a.url} needs a sha512sum (128 hex digits), got ${JSON.stringify(a.sha512sum)}`);
      }
    }
  }
  return problems;
}

/**
 * Image tag = hash of the build inputs. ECR tags are immutable, and Strimzi rebuilds whenever `build` changes: a new
 * plugin set gets a new tag instead of failing to overwrite the old one, and an unchanged set keeps its tag.
 */
export function connectImageTag(plugins: readonly ConnectPlugin[]): string {
  return "b-" + createHash("sha256").update(JSON.stringify(plugins)).digest("hex").slice(0, 16);
}

/** Worker settings: durable internal topics, durable producers, read_committed consumers, the Secret provider. */
export function connectWorkerConfig(): Record<string, string | number | boolean> {
  const producer = Object.fromEntries(Object.entries(PRODUCER_DURABILITY_CONFIG).map(([k, v]) => [`producer.${k}`, v]));
  return {
    "config.storage.replication.factor": REPLICATION_FACTOR,
    "offset.storage.replication.factor": REPLICATION_FACTOR,
    "status.storage.replication.factor": REPLICATION_FACTOR,
    // Connect passes other `<topic>.storage.*` keys as topic configs when it creates its internal topics.
    "config.storage.min.insync.replicas": MIN_INSYNC_REPLICAS,
    "offset.storage.min.insync.replicas": MIN_INSYNC_REPLICAS,
    "status.storage.min.insync.replicas": MIN_INSYNC_REPLICAS,
    ...producer,
    "consumer.isolation.level": CONSUMER_ISOLATION_LEVEL,
    // The sink overrides consumer settings per connector (isolation, poll size); allow exactly that.
    "connector.client.config.override.policy": "All",
    ...CONFIG_PROVIDER_WORKER_CONFIG.kubernetesSecret,
  };
}

/** Where the YugabyteDB CA is mounted in Connect pods (the JDBC URL's sslrootcert points here). */
export const DB_CA_MOUNT_DIR = "/opt/kafka/yugabyte-ca";

export interface KafkaConnectSpecArgs {
  readonly kafkaNamespace: string;
  readonly replicas: number;
  /** Full image name with tag the build pushes and the pods run. */
  readonly image: string;
  /** IAM role the build pod assumes through IRSA (EKS); absent on local. */
  readonly buildRoleArn?: string;
  /** Secret with the database CA (mounted at DB_CA_MOUNT_DIR); absent when the DB CA is not ours. */
  readonly dbCaSecret?: string;
  readonly plugins?: readonly ConnectPlugin[];
  readonly resources: { readonly cpu: string; readonly memory: string };
}

/** Heap at 50% of the container: the rest is for direct buffers, metaspace and the JDBC driver. */
const HEAP_FRACTION = 0.5;

/** `-Xmx` from a memory quantity like 4Gi / 2048Mi. */
export function heapFor(memory: string): string {
  const m = /^([0-9]+)(Gi|Mi)$/.exec(memory);
  if (!m) throw new Error(`connect resources.memory must be like 4Gi or 2048Mi, got ${JSON.stringify(memory)}; use Gi or Mi.`);
  const mib = Number(m[1]) * (m[2] === "Gi" ? 1024 : 1);
  return `${Math.floor(mib * HEAP_FRACTION)}m`;
}

export function kafkaConnectSpec(a: KafkaConnectSpecArgs): Record<string, unknown> {
  const plugins = a.plugins ?? CONNECT_PLUGINS;
  const problems = pluginPinProblems(plugins);
  if (problems.length) throw new Error(`KafkaConnect build: unpinned plugin artifacts:\n  ${problems.join("\n  ")}`);
  const heap = heapFor(a.resources.memory);
  return {
    // Same Kafka as the brokers: the worker image (and the plugins built onto it) match the cluster's version.
    version: KAFKA_VERSION,
    replicas: a.replicas,
    bootstrapServers: bootstrapAddress(a.kafkaNamespace),
    groupId: CONNECT_GROUP_ID,
    configStorageTopic: CONNECT_CONFIG_TOPIC,
    offsetStorageTopic: CONNECT_OFFSET_TOPIC,
    statusStorageTopic: CONNECT_STATUS_TOPIC,
    tls: { trustedCertificates: [{ secretName: CLUSTER_CA_SECRET, certificate: "ca.crt" }] },
    authentication: {
      type: "scram-sha-512",
      username: KAFKA_USERS.connect,
      passwordSecret: { secretName: KAFKA_USERS.connect, password: "password" },
    },
    config: connectWorkerConfig(),
    resources: { requests: { cpu: a.resources.cpu, memory: a.resources.memory }, limits: { cpu: a.resources.cpu, memory: a.resources.memory } },
    jvmOptions: { "-Xms": heap, "-Xmx": heap },
    // The JMX exporter with our own rules (components/ops/connectMetrics.ts): the same rules run on a real Connect
    // worker in test:real, which proves every metric name the alerts and dashboards use.
    metricsConfig: { type: "jmxPrometheusExporter", valueFrom: { configMapKeyRef: { name: CONNECT_METRICS_CONFIGMAP, key: CONNECT_METRICS_CONFIG_KEY } } },
    build: {
      output: { type: "docker", image: a.image },
      plugins: plugins.map((p) => ({ name: p.name, artifacts: p.artifacts.map((x) => ({ ...x })) })),
    },
    template: {
      pod: {
        metadata: { labels: { ...KAFKA_CLIENT_LABEL } },
        enableServiceLinks: false,
        ...(a.dbCaSecret ? { volumes: [{ name: "yugabyte-ca", secret: { secretName: a.dbCaSecret } }] } : {}),
      },
      ...(a.dbCaSecret ? { connectContainer: { volumeMounts: [{ name: "yugabyte-ca", mountPath: DB_CA_MOUNT_DIR, readOnly: true }] } } : {}),
      podDisruptionBudget: { maxUnavailable: 1 },
      ...(a.buildRoleArn
        ? { buildServiceAccount: { metadata: { annotations: { "eks.amazonaws.com/role-arn": a.buildRoleArn } } } }
        : {}),
    },
  };
}

/** Keep the last N images; untagged layers from failed builds go after a week. */
export const ECR_KEEP_IMAGES = 10;
export const ECR_UNTAGGED_EXPIRE_DAYS = 7;

export function ecrLifecyclePolicy(): string {
  return JSON.stringify({
    rules: [
      {
        rulePriority: 1,
        description: `expire untagged images after ${ECR_UNTAGGED_EXPIRE_DAYS} days`,
        selection: { tagStatus: "untagged", countType: "sinceImagePushed", countUnit: "days", countNumber: ECR_UNTAGGED_EXPIRE_DAYS },
        action: { type: "expire" },
      },
      {
        rulePriority: 2,
        description: `keep the last ${ECR_KEEP_IMAGES} images`,
        selection: { tagStatus: "any", countType: "imageCountMoreThan", countNumber: ECR_KEEP_IMAGES },
        action: { type: "expire" },
      },
    ],
  });
}

/**
 * The build pod's permissions: push (and read back layers of) this one repository. GetAuthorizationToken has no
 * resource-level scoping in IAM, so it is the only `*` statement; the token alone grants nothing on other repos.
 */
export function ecrPushPolicy(repositoryArn: string) {
  return {
    Version: "2012-10-17",
    Statement: [
      { Sid: "EcrLogin", Effect: "Allow", Action: ["ecr:GetAuthorizationToken"], Resource: "*" },
      {
        Sid: "PushConnectImage",
        Effect: "Allow",
        Action: [
          "ecr:BatchCheckLayerAvailability",
          "ecr:InitiateLayerUpload",
          "ecr:UploadLayerPart",
          "ecr:CompleteLayerUpload",
          "ecr:PutImage",
          "ecr:BatchGetImage",
          "ecr:GetDownloadUrlForLayer",
        ],
        Resource: repositoryArn,
      },
    ],
  };
}

/** Role + binding so the Connect pods' service account may `get` exactly one Secret: the sink role's DB password. */
export function secretReaderRbac(kafkaNamespace: string, secretName: string) {
  const name = `${CONNECT_CLUSTER_NAME}-connect-db-secret-reader`;
  return {
    role: {
      metadata: { name, namespace: kafkaNamespace },
      rules: [{ apiGroups: [""], resources: ["secrets"], resourceNames: [secretName], verbs: ["get"] }],
    },
    binding: {
      metadata: { name, namespace: kafkaNamespace },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name },
      subjects: [{ kind: "ServiceAccount", name: CONNECT_SERVICE_ACCOUNT, namespace: kafkaNamespace }],
    },
  };
}
