/**
 * YugabyteDB behind one interface. Whichever installer runs (`helm`: the yugabyte chart, one release per AZ;
 * `operator`: the YugabyteDB Kubernetes Operator and a YBUniverse), the rest of the program sees only
 * {@link YugabyteConnection}: host, port, database, the JDBC sink's own role and its password Secret (in the Kafka
 * namespace too, for Connect), and the CA bundle. The schema Job runs once the universe is up, as the superuser,
 * whose password never leaves the yugabyte namespace; it also creates the sink role (connectors/schema/V003).
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import * as tls from "@pulumi/tls";
import type { AppSettings } from "../../contract/settings";
import type { OperatorChart } from "../../operators/yugabyte";
import { withAwait, type DeploySettings } from "../../contract/readiness";
import type { ChartSource, ImageSourceSettings } from "../../contract/sources";
import { BackupBucket } from "../aws/backupBucket";
import { baseTags, type KubernetesTarget } from "../aws/platform";
import { YugabyteBackups } from "./backup";
import { DbSchemaJob } from "./dbSchemaJob";
import { RejectsCheck } from "./rejectsCheck";
import { MaintenanceJob } from "./maintenanceJob";
import { closeDelayMs, DEFAULT_PARTITIONS_AHEAD_DAYS, type MaintenanceParams } from "../../connectors/maintenance";
import { HelmUniverse } from "./yugabyteHelm";
import { OperatorUniverse } from "./yugabyteOperator";
import {
  CA_SECRET,
  CA_KEY,
  CREDENTIALS_SECRET,
  DEFAULT_YSQL_DATABASE,
  networkPolicySpecs,
  PASSWORD_KEY,
  PIPELINE_DATABASE,
  podDisruptionBudgetSpecs,
  SINK_CREDENTIALS_SECRET,
  SINK_PASSWORD_KEY,
  YSQL_ADMIN_USER,
  YSQL_PORT,
  YSQL_SINK_USER,
  ysqlHost,
  ysqlServiceSpec,
  type UniverseSizing,
} from "./yugabyteSpecs";

/** What consumers of the database get. Plain strings: they go into connector configs and Job env as they are. */
export interface YugabyteConnection {
  readonly host: string;
  readonly port: number;
  readonly database: string;
  /**
   * The JDBC sink's least-privilege role (connectors/schema/V003): `user` logs in with the password in Secret
   * `secretName` (key `passwordKey`), which exists in each of `namespaces`. Consumers get no superuser credentials.
   */
  readonly sink: {
    readonly user: string;
    readonly secretName: string;
    readonly passwordKey: string;
    readonly namespaces: readonly string[];
  };
  /**
   * verify-ca: clients check the server certificate against `caSecret` (key `caKey`), present in the same
   * namespaces as the sink's Secret. require: encrypted, CA not verifiable by us (operator installer: its CA is its own).
   */
  readonly tls: { readonly sslMode: "verify-ca" | "require"; readonly caSecret?: string; readonly caKey?: string };
}

export interface YugabyteDatabaseArgs {
  readonly namespace: string;
  /** The Kafka namespace (Connect reads the sink's password Secret and the CA there). */
  readonly kafkaNamespace: string;
  /** What creates the Kafka namespace (when this program does): the copies there must wait for it. */
  readonly kafkaNamespaceDependsOn?: pulumi.Resource[];
  readonly installer: "helm" | "operator";
  readonly operatorChart?: OperatorChart;
  readonly sizing: UniverseSizing;
  /** Multi-zone: the AZ names, one release (or zone filter entry) each. */
  readonly zones: readonly pulumi.Input<string>[];
  readonly region: string;
  readonly provider: k8s.Provider;
  /** Pulumi `protect` on the namespace, CA, passwords, releases/CR (prod). */
  readonly protect: boolean;
  /** `watchpipe:charts.yugabyte` (installer helm). */
  readonly chart?: ChartSource;
  /** `watchpipe:images`: the registry mirror for the database and schema Job images. */
  readonly images?: ImageSourceSettings;
  /** Daily backups to this bucket (EKS), and the backup to restore before the schema Job runs. */
  readonly backup?: YugabyteBackupTarget;
  /** `watchpipe:deploy`: readiness waits of the releases, the YSQL Service and the Jobs. */
  readonly deploy?: DeploySettings;
  /** The maintenance CronJob's interval and what a run closes, keeps and drops (`watchpipe:database`). */
  readonly maintenance?: { readonly everyMinutes: number; readonly params: MaintenanceParams };
}

export interface YugabyteBackupTarget {
  readonly bucket: BackupBucket;
  readonly region: string;
  readonly hourUtc: number;
  readonly scratchGiB: number;
  readonly storageClassName: string;
  readonly restoreFrom?: string | undefined;
}

/**
 * 32 alphanumerics ≈ 190 bits, for both passwords. No specials: the chart's credentials hook splices the superuser's
 * into SQL quotes, and the sink's travels through a psql variable and a Connect `${secrets:…}` value.
 */
export const PASSWORD_LENGTH = 32;
/** The root CA outlives many deploys: 10 years, like the node certificates the chart signs with it. */
export const CA_VALIDITY_HOURS = 10 * 365 * 24;
/**
 * RSA (PKCS#1 PEM from @pulumi/tls): the form of the chart's own example CA. Checked with `helm template` of the
 * 2026.1.0 chart: every release signs its node certificates with this CA and they verify against it.
 */
const CA_KEY_BITS = 2048;

/**
 * Base64 of a PEM. The tls provider always returns the PEM on create (and preview skips the apply while it is
 * unknown); only providerless unit-test mocks hand over undefined, which must not crash the program run.
 */
const b64 = (pem: string | undefined) => Buffer.from(pem ?? "", "utf8").toString("base64");

export class YugabyteDatabase extends pulumi.ComponentResource {
  readonly connection: YugabyteConnection;
  /** Completed schema Job: depend on it before writing to the tables. */
  readonly schemaJob: DbSchemaJob;
  /** The sink's password Secret and the CA Secret copies in the Kafka namespace: Connect depends on these. */
  readonly kafkaNamespaceObjects: pulumi.Resource[];
  /** The S3 bucket the daily backups go to (backup.enabled). */
  readonly backupBucket?: pulumi.Output<string>;

  constructor(name: string, args: YugabyteDatabaseArgs, opts?: pulumi.ComponentResourceOptions) {
    super("watchpipe:yugabyte:YugabyteDatabase", name, {}, opts);
    const provider = args.provider;
    const k = { parent: this, provider };
    const data = { ...k, protect: args.protect };
    const ns = args.namespace;

    const namespace = new k8s.core.v1.Namespace(`${name}-ns`, {
      metadata: { name: ns, labels: { "app.kubernetes.io/part-of": "watchpipe" } },
    }, data);

    const secretIn = (suffix: string, secret: { name: string; key: string; value: pulumi.Output<string> }, namespaceName: string, dependsOn: pulumi.Resource[]) =>
      new k8s.core.v1.Secret(`${name}-${suffix}`, {
        metadata: { name: secret.name, namespace: namespaceName, labels: { "app.kubernetes.io/part-of": "watchpipe" } },
        type: "Opaque",
        stringData: { [secret.key]: secret.value },
      }, { ...k, dependsOn });
    const kafkaNsDependsOn = [...(args.kafkaNamespaceDependsOn ?? [])];

    // Superuser: the chart/operator set it, the schema Job logs in with it. Its Secret is in this namespace only.
    const password = new random.RandomPassword(`${name}-ysql-password`, { length: PASSWORD_LENGTH, special: false }, { parent: this, protect: args.protect });
    const credentials = secretIn("credentials", { name: CREDENTIALS_SECRET, key: PASSWORD_KEY, value: password.result }, ns, [namespace]);

    // The sink role's password: the schema Job sets it (V003), Connect logs in with it. Protected like the other
    // one: a replaced password locks the sink out until the schema Job runs again.
    const sinkPassword = new random.RandomPassword(`${name}-sink-password`, { length: PASSWORD_LENGTH, special: false }, { parent: this, protect: args.protect });
    const sinkSecret = { name: SINK_CREDENTIALS_SECRET, key: SINK_PASSWORD_KEY, value: sinkPassword.result };
    const sinkCredentials = secretIn("sink-credentials", sinkSecret, ns, [namespace]);
    const kafkaSinkCredentials = secretIn("sink-credentials-kafka", sinkSecret, args.kafkaNamespace, kafkaNsDependsOn);

    let universe: pulumi.Resource[];
    let tlsSettings: YugabyteConnection["tls"];
    let caMaps: pulumi.Resource[] = [];
    if (args.installer === "helm") {
      const caKey = new tls.PrivateKey(`${name}-root-ca-key`, { algorithm: "RSA", rsaBits: CA_KEY_BITS }, { parent: this, protect: args.protect });
      const caCert = new tls.SelfSignedCert(`${name}-root-ca`, {
        privateKeyPem: caKey.privateKeyPem,
        subject: { commonName: "watchpipe YugabyteDB root CA", organization: "watchpipe" },
        isCaCertificate: true,
        validityPeriodHours: CA_VALIDITY_HOURS,
        allowedUses: ["cert_signing", "crl_signing", "digital_signature", "key_encipherment"],
      }, { parent: this, protect: args.protect });
      const caMap = (suffix: string, namespaceName: string, dependsOn: pulumi.Resource[]) =>
        new k8s.core.v1.Secret(`${name}-${suffix}`, {
          metadata: { name: CA_SECRET, namespace: namespaceName, labels: { "app.kubernetes.io/part-of": "watchpipe" } },
          type: "Opaque",
          stringData: { [CA_KEY]: caCert.certPem },
        }, { ...k, dependsOn });
      caMaps = [
        caMap("root-ca", ns, [namespace]),
        caMap("root-ca-kafka", args.kafkaNamespace, kafkaNsDependsOn),
      ];
      const helm = new HelmUniverse(`${name}-helm`, {
        namespace: ns,
        sizing: args.sizing,
        zones: args.zones,
        region: args.region,
        rootCACertB64: caCert.certPem.apply(b64),
        rootCAKeyB64: pulumi.secret(caKey.privateKeyPem.apply(b64)),
        provider,
        protect: args.protect,
        dependsOn: [namespace, credentials],
        ...(args.chart ? { chart: args.chart } : {}),
        ...(args.images ? { images: args.images } : {}),
        ...(args.deploy ? { deploy: args.deploy } : {}),
      }, { parent: this });
      universe = helm.releases;
      // Node certificates name the pods, not our service, so clients verify the CA chain but not the host name.
      tlsSettings = { sslMode: "verify-ca", caSecret: CA_SECRET, caKey: CA_KEY };
    } else {
      if (!args.operatorChart) {
        throw new Error("watchpipe:yugabyte.operatorChart: installer \"operator\" needs the chart location {repo, chart, version}; got nothing.");
      }
      const op = new OperatorUniverse(`${name}-operator`, {
        namespace: ns,
        chart: args.operatorChart,
        sizing: args.sizing,
        zones: args.zones,
        provider,
        protect: args.protect,
        credentials,
        namespaceResource: namespace,
        ...(args.deploy ? { deploy: args.deploy } : {}),
      }, { parent: this });
      universe = [op.universe];
      tlsSettings = { sslMode: "require" };
    }

    const ysql = ysqlServiceSpec(ns);
    new k8s.core.v1.Service(`${name}-ysql`, { ...ysql, metadata: withAwait(ysql.metadata, args.deploy) }, { ...k, dependsOn: [namespace] });
    podDisruptionBudgetSpecs(ns).forEach((spec, i) =>
      new k8s.policy.v1.PodDisruptionBudget(`${name}-pdb-${i === 0 ? "master" : "tserver"}`, spec, { ...k, dependsOn: [namespace] }));
    for (const spec of networkPolicySpecs(ns, args.kafkaNamespace)) {
      new k8s.networking.v1.NetworkPolicy(`${name}-netpol-${spec.metadata.name}`, spec, { ...k, dependsOn: [namespace] });
    }

    this.kafkaNamespaceObjects = [kafkaSinkCredentials, ...caMaps.slice(1)];
    this.connection = {
      host: ysqlHost(ns),
      port: YSQL_PORT,
      database: args.installer === "helm" ? PIPELINE_DATABASE : DEFAULT_YSQL_DATABASE,
      sink: { user: YSQL_SINK_USER, secretName: SINK_CREDENTIALS_SECRET, passwordKey: SINK_PASSWORD_KEY, namespaces: [ns, args.kafkaNamespace] },
      tls: tlsSettings,
    };

    if (args.backup) this.backupBucket = args.backup.bucket.bucketName;
    const tlsArgs = { sslMode: tlsSettings.sslMode, ...(tlsSettings.caSecret ? { caSecret: tlsSettings.caSecret } : {}) };
    // The schema owner's connection: the backup CronJob and the maintenance CronJob both run as it.
    const adminConnection = {
      host: this.connection.host,
      port: this.connection.port,
      database: this.connection.database,
      user: YSQL_ADMIN_USER,
      password: { secretName: CREDENTIALS_SECRET, passwordKey: PASSWORD_KEY },
      tls: tlsArgs,
    };
    const backups = args.backup && new YugabyteBackups(`${name}-backup`, {
      namespace: ns,
      connection: adminConnection,
      bucketName: args.backup.bucket.bucketName,
      kmsKeyArn: args.backup.bucket.kmsKeyArn,
      roleArn: args.backup.bucket.roleArn,
      region: args.backup.region,
      hourUtc: args.backup.hourUtc,
      scratchGiB: args.backup.scratchGiB,
      storageClassName: args.backup.storageClassName,
      restoreFrom: args.backup.restoreFrom,
      provider,
      ...(args.deploy ? { deploy: args.deploy } : {}),
      ...(args.images ? { images: args.images } : {}),
      dependsOn: [...universe, credentials, ...caMaps],
    }, { parent: this });

    this.schemaJob = new DbSchemaJob(`${name}-schema`, {
      namespace: ns,
      host: this.connection.host,
      port: this.connection.port,
      database: this.connection.database,
      user: YSQL_ADMIN_USER,
      credentials: { secretName: CREDENTIALS_SECRET, passwordKey: PASSWORD_KEY },
      sinkPassword: { secretName: SINK_CREDENTIALS_SECRET, passwordKey: SINK_PASSWORD_KEY },
      tls: tlsArgs,
      provider,
      ...(args.deploy ? { deploy: args.deploy } : {}),
      ...(args.images ? { images: args.images } : {}),
      // After a restore: the dump has no roles or grants, the schema Job re-applies them.
      dependsOn: [...universe, credentials, sinkCredentials, ...caMaps, ...(backups?.restoreJob ? [backups.restoreJob] : [])],
    }, { parent: this });

    // Pieces the database refused are diverted, not lost (connectors/schema/V005); this makes them page someone.
    new RejectsCheck(`${name}-rejects-check`, {
      namespace: ns,
      connection: {
        host: this.connection.host,
        port: this.connection.port,
        database: this.connection.database,
        user: YSQL_SINK_USER,
        password: { secretName: SINK_CREDENTIALS_SECRET, passwordKey: SINK_PASSWORD_KEY },
        tls: tlsArgs,
      },
      provider,
      ...(args.images ? { images: args.images } : {}),
      dependsOn: [this.schemaJob],
    }, { parent: this });

    // Closes segments, keeps day partitions ahead and drops expired ones; as the schema owner, who owns the tables.
    if (args.maintenance) {
      new MaintenanceJob(`${name}-maintenance`, {
        namespace: ns,
        connection: adminConnection,
        everyMinutes: args.maintenance.everyMinutes,
        params: args.maintenance.params,
        provider,
        ...(args.images ? { images: args.images } : {}),
        dependsOn: [this.schemaJob],
      }, { parent: this });
    }

    this.registerOutputs({ host: this.connection.host, database: this.connection.database, kafkaSinkCredentials: kafkaSinkCredentials.metadata.name });
  }
}

/** The component as index.ts creates it: arguments from the validated config and the Kubernetes target. */
export function yugabyteFromConfig(
  config: Pick<AppSettings, "yugabyte" | "kafka" | "region" | "protectData" | "charts" | "images" | "backup" | "project" | "stack" | "owner" | "database" | "sessionization"> & Partial<Pick<AppSettings, "deploy">>,
  target: KubernetesTarget,
  opts: { readonly kafkaNamespaceDependsOn?: pulumi.Resource[] } = {},
): YugabyteDatabase {
  const yb = config.yugabyte;
  const backup = backupFromConfig(config, target);
  return new YugabyteDatabase("yugabyte", {
    namespace: yb.namespace,
    kafkaNamespace: config.kafka.namespace,
    ...(opts.kafkaNamespaceDependsOn ? { kafkaNamespaceDependsOn: opts.kafkaNamespaceDependsOn } : {}),
    installer: yb.installer,
    ...(yb.operatorChart ? { operatorChart: yb.operatorChart } : {}),
    sizing: {
      replicationFactor: yb.replicationFactor,
      topology: yb.topology,
      tservers: yb.tservers,
      masterResources: yb.masterResources,
      tserverResources: yb.tserverResources,
      storageGiB: yb.storageGiB,
      masterStorageGiB: yb.masterStorageGiB,
      storageClassName: target.storageClassName,
    },
    // One release per AZ of the VPC (config validation guarantees multi-zone runs on EKS).
    zones: yb.topology === "multi-zone" ? (target.aws?.availabilityZones ?? []) : [],
    region: config.region,
    provider: target.provider,
    protect: config.protectData,
    ...(config.charts.yugabyte ? { chart: config.charts.yugabyte } : {}),
    images: config.images,
    ...(backup ? { backup } : {}),
    ...(config.deploy ? { deploy: config.deploy } : {}),
    maintenance: {
      everyMinutes: config.database.maintenanceEveryMinutes,
      params: {
        closeDelayMs: closeDelayMs(config.sessionization, config.sessionization.tickIntervalSec),
        pieceRetentionDays: config.database.pieceRetentionDays,
        segmentRetentionDays: config.database.segmentRetentionDays,
        partitionsAheadDays: DEFAULT_PARTITIONS_AHEAD_DAYS,
      },
    },
  });
}

/** The backup bucket and schedule when `backup.enabled` (config validation allows it on EKS only). */
function backupFromConfig(
  config: Pick<AppSettings, "yugabyte" | "region" | "protectData" | "backup" | "project" | "stack" | "owner">,
  target: KubernetesTarget,
): YugabyteBackupTarget | undefined {
  const b = config.backup;
  if (!b.enabled) return undefined;
  if (!target.aws) throw new Error("watchpipe:backup.enabled: backups need the EKS cluster's IRSA provider; this stack has no EKS cluster. Set backup.enabled to false.");
  const bucket = new BackupBucket("yugabyte-backup", {
    stack: config.stack,
    retentionDays: b.retentionDays,
    irsa: { oidcProviderArn: target.aws.oidcProviderArn, oidcProviderUrl: target.aws.oidcProviderUrl },
    namespace: config.yugabyte.namespace,
    protect: config.protectData,
    tags: baseTags(config),
  });
  return {
    bucket, region: config.region, hourUtc: b.hourUtc, scratchGiB: b.scratchGiB, storageClassName: target.storageClassName,
    restoreFrom: b.restoreFrom,
  };
}
