/**
 * Kafka Connect with the JDBC upsert sink: the Strimzi `KafkaConnect` (image built by Strimzi with pinned plugins and
 * pushed to ECR through IRSA), RBAC so the worker reads only the sink role's password Secret, and the `KafkaConnector`
 * from connectors/watchSegmentsSink.ts loading watch segments into YugabyteDB as that least-privilege role
 * (connectors/schema/V003), never as the superuser.
 */
import { CONNECT_JMX_EXPORTER_RULES, CONNECT_METRICS_CONFIG_KEY } from "../ops/connectMetrics";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { watchSegmentsSinkSpec } from "../../connectors/watchSegmentsSink";
import { SINK_CONNECTOR_NAME } from "../../contract/clients";
import { ConnectImage, type ConnectImageArgs } from "./connectImage";
import {
  CONNECT_CLUSTER_NAME,
  CONNECT_METRICS_CONFIGMAP,
  CONNECT_PLUGINS,
  connectImageTag,
  DB_CA_MOUNT_DIR,
  kafkaConnectSpec,
  secretReaderRbac,
} from "./connectSpecs";
import type { AppSettings } from "../../contract/settings";
import { baseTags, type KubernetesTarget } from "../aws/platform";
import type { YugabyteConnection, YugabyteDatabase } from "./yugabyte";

export const STRIMZI_API_VERSION = "kafka.strimzi.io/v1";

export interface KafkaConnectClusterArgs {
  readonly kafkaNamespace: string;
  readonly replicas: number;
  readonly tasksMax: number;
  readonly resources: { readonly cpu: string; readonly memory: string };
  readonly image: Omit<ConnectImageArgs, "kafkaNamespace">;
  readonly database: YugabyteConnection;
  /** Schema Registry URL the AvroConverter uses (from the Schema Registry component). */
  readonly schemaRegistryUrl: pulumi.Input<string>;
  readonly provider: k8s.Provider;
  /**
   * What must exist first: the Strimzi operator release (CRDs), the Kafka cluster and the `connect` KafkaUser,
   * the sink's DB Secret/CA copies in the Kafka namespace, and the schema Job (it creates the table and the sink role).
   */
  readonly dependsOn: pulumi.Input<pulumi.Resource>[];
}

export class KafkaConnectCluster extends pulumi.ComponentResource {
  readonly connect: k8s.apiextensions.CustomResource;
  readonly connector: k8s.apiextensions.CustomResource;
  /** Image the build pushes (registry/repo:tag). */
  readonly image: pulumi.Output<string>;

  constructor(name: string, args: KafkaConnectClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    super("watchpipe:connect:KafkaConnectCluster", name, {}, opts);
    const k = { parent: this, provider: args.provider };
    const ns = args.kafkaNamespace;
    const db = args.database;
    if (!db.sink.namespaces.includes(ns)) {
      throw new Error(`Kafka Connect: the sink's DB password Secret ${db.sink.secretName} must exist in the Kafka namespace "${ns}"; it is only in ${db.sink.namespaces.join(", ")}. Pass kafkaNamespace to the YugabyteDB component.`);
    }

    const image = new ConnectImage(`${name}-image`, { ...args.image, kafkaNamespace: ns }, { parent: this });
    const tag = connectImageTag(CONNECT_PLUGINS);
    this.image = pulumi.interpolate`${image.repository}:${tag}`;

    const rbac = secretReaderRbac(ns, db.sink.secretName);
    const role = new k8s.rbac.v1.Role(`${name}-db-secret-reader`, rbac.role, { ...k, dependsOn: args.dependsOn });
    const binding = new k8s.rbac.v1.RoleBinding(`${name}-db-secret-reader`, rbac.binding, { ...k, dependsOn: [role] });

    const spec = pulumi.all([this.image, image.buildRoleArn]).apply(([img, roleArn]) =>
      kafkaConnectSpec({
        kafkaNamespace: ns,
        replicas: args.replicas,
        image: img,
        resources: args.resources,
        ...(roleArn ? { buildRoleArn: roleArn } : {}),
        ...(db.tls.caSecret ? { dbCaSecret: db.tls.caSecret } : {}),
      }),
    );
    const metrics = new k8s.core.v1.ConfigMap(`${name}-metrics`, {
      metadata: { name: CONNECT_METRICS_CONFIGMAP, namespace: ns, labels: { "strimzi.io/cluster": CONNECT_CLUSTER_NAME } },
      data: { [CONNECT_METRICS_CONFIG_KEY]: CONNECT_JMX_EXPORTER_RULES },
    }, { ...k, dependsOn: args.dependsOn });
    this.connect = new k8s.apiextensions.CustomResource(`${name}-connect`, {
      apiVersion: STRIMZI_API_VERSION,
      kind: "KafkaConnect",
      metadata: {
        name: CONNECT_CLUSTER_NAME,
        namespace: ns,
        // Connectors are managed as KafkaConnector resources, not through the REST API.
        annotations: { "strimzi.io/use-connector-resources": "true" },
      },
      spec,
    }, { ...k, dependsOn: [...args.dependsOn, binding, image, metrics] });

    const connectorSpec = pulumi.output(args.schemaRegistryUrl).apply((schemaRegistryUrl) =>
      watchSegmentsSinkSpec({
        db: {
          host: db.host,
          port: db.port,
          database: db.database,
          user: db.sink.user,
          tls: {
            sslMode: db.tls.sslMode,
            ...(db.tls.caSecret ? { rootCertPath: `${DB_CA_MOUNT_DIR}/${db.tls.caKey ?? "ca.crt"}` } : {}),
          },
        },
        password: { kind: "kubernetesSecret", namespace: ns, secret: db.sink.secretName, key: db.sink.passwordKey },
        schemaRegistryUrl,
        tasksMax: args.tasksMax,
      }),
    );
    this.connector = new k8s.apiextensions.CustomResource(`${name}-sink`, {
      apiVersion: STRIMZI_API_VERSION,
      kind: "KafkaConnector",
      metadata: { name: SINK_CONNECTOR_NAME, namespace: ns, labels: { "strimzi.io/cluster": CONNECT_CLUSTER_NAME } },
      spec: connectorSpec,
    }, { ...k, dependsOn: [this.connect] });

    this.registerOutputs({ image: this.image });
  }
}

/** The component as index.ts creates it. */
export function kafkaConnectFromConfig(
  config: Pick<AppSettings, "connect" | "kafka" | "project" | "stack" | "owner">,
  target: KubernetesTarget,
  args: { readonly database: YugabyteDatabase; readonly schemaRegistryUrl: pulumi.Input<string>; readonly dependsOn: pulumi.Input<pulumi.Resource>[] },
): KafkaConnectCluster {
  const c = config.connect;
  return new KafkaConnectCluster("connect", {
    kafkaNamespace: config.kafka.namespace,
    replicas: c.replicas,
    tasksMax: c.tasksMax,
    resources: c.resources,
    image: {
      ...(target.aws ? { irsa: { oidcProviderArn: target.aws.oidcProviderArn, oidcProviderUrl: target.aws.oidcProviderUrl } } : {}),
      ...(c.imageRegistry ? { imageRegistry: c.imageRegistry } : {}),
      stack: config.stack,
      tags: baseTags(config),
    },
    database: args.database.connection,
    schemaRegistryUrl: args.schemaRegistryUrl,
    provider: target.provider,
    // The sink needs its table and role (schema Job) and the Secret/CA copies Connect mounts or reads.
    dependsOn: [...args.dependsOn, args.database.schemaJob, ...args.database.kafkaNamespaceObjects],
  });
}
