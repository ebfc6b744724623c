/**
 * Pure builders for YugabyteDB backups on EKS: the IRSA ServiceAccount, the scripts' ConfigMap, the daily backup
 * CronJob and, when `backup.restoreFrom` is set, the restore Job.
 *
 * Backup pod: an init container with the YugabyteDB image dumps the database as the superuser onto a scratch volume
 * (connectors/backup.ts backupDumpScript); then the AWS CLI container uploads it under the ServiceAccount's IRSA role
 * (backupUploadScript). Restore pod: the AWS CLI downloads, then the YugabyteDB image loads and checks. The two images
 * share only the scratch volume; the database password never reaches the AWS CLI container, and AWS credentials
 * never reach the database client.
 */
import { createHash } from "node:crypto";
import { BACKUP_CRONJOB_NAME, BACKUP_MINUTE, BACKUP_PREFIX, BACKUP_SERVICE_ACCOUNT } from "../../contract/backup";
import { mirrorImage, type ImageSourceSettings } from "../../contract/sources";
import {
  backupDumpScript, backupUploadScript, DEFAULT_MAINTENANCE_DB, restoreDownloadScript, restoreLoadScript,
} from "../../connectors/backup";
import { YUGABYTE_IMAGE } from "./yugabyteSpecs";
import { ysqlCaMount, ysqlClientEnv, type YsqlClientArgs } from "./yugabyteSchemaJobSpec";

/** AWS's own AWS CLI v2 image, pinned. */
export const AWS_CLI_IMAGE = { repository: "public.ecr.aws/aws-cli/aws-cli", tag: "2.22.0" } as const;
/** The yugabyte image's non-root user; both containers run as it so they share the scratch volume. */
const RUN_AS_UID = 10001;
const SCRIPTS_DIR = "/etc/watchpipe/backup";
const SCRATCH_DIR = "/backup";
const SCRIPTS = { dump: "dump.sh", upload: "upload.sh", download: "download.sh", restore: "restore.sh" } as const;
/** A dump that has not finished in 6 h will not finish before the next day's: fail it so the alert says so. */
const BACKUP_DEADLINE_SEC = 6 * 3600;
/** Loading rebuilds every index; give it twice the dump's time. */
const RESTORE_DEADLINE_SEC = 12 * 3600;
const HASH_CHARS = 10;

/**
 * `S` is how the AWS names arrive: plain strings in tests, Pulumi outputs of the bucket in the component (the
 * builder only places them, so it stays free of Pulumi).
 */
export interface BackupSpecArgs<S = string> {
  readonly namespace: string;
  /** The superuser's connection (ysql_dump needs to read every table; the restore creates them). */
  readonly connection: YsqlClientArgs;
  readonly bucketName: S;
  readonly kmsKeyArn: S;
  /** IRSA role of {@link BACKUP_SERVICE_ACCOUNT} (components/aws/backupBucket.ts). */
  readonly roleArn: S;
  readonly region: string;
  /** `watchpipe:backup.hourUtc`: the dump starts at hourUtc:17 UTC. */
  readonly hourUtc: number;
  /** The scratch volume: a generic ephemeral PVC of this size and class, deleted with the pod. */
  readonly scratchGiB: number;
  readonly storageClassName: string;
  readonly images?: ImageSourceSettings;
}

const labelsFor = (role: string) => ({ "watchpipe.io/role": role, "app.kubernetes.io/part-of": "watchpipe" });

type Env<S> = { name: string; value: string | S }[];

function podParts<S>(a: BackupSpecArgs<S>) {
  const ca = ysqlCaMount(a.connection.tls);
  const secure = { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } };
  const scriptsMount = { name: "scripts", mountPath: SCRIPTS_DIR, readOnly: true };
  const scratchMount = { name: "scratch", mountPath: SCRATCH_DIR };
  // The AWS CLI writes its cache under HOME; the root filesystem is read-only.
  const tmpMount = { name: "tmp", mountPath: "/tmp" };
  const awsEnv: Env<S> = [
    { name: "HOME", value: "/tmp" },
    { name: "AWS_REGION", value: a.region },
    { name: "AWS_STS_REGIONAL_ENDPOINTS", value: "regional" },
    { name: "BACKUP_BUCKET", value: a.bucketName },
    { name: "BACKUP_PREFIX", value: BACKUP_PREFIX },
    { name: "BACKUP_KMS_KEY_ARN", value: a.kmsKeyArn },
  ];
  const database = (name: string, script: string, env: Env<S>) => ({
    name,
    image: mirrorImage(`${YUGABYTE_IMAGE.repository}:${YUGABYTE_IMAGE.tag}`, a.images),
    command: ["bash", `${SCRIPTS_DIR}/${script}`],
    env: [...ysqlClientEnv(a.connection), ...env],
    resources: { requests: { cpu: "500m", memory: "512Mi" }, limits: { cpu: "2", memory: "2Gi" } },
    securityContext: secure,
    volumeMounts: [scriptsMount, scratchMount, tmpMount, ...ca.volumeMounts],
  });
  const awsCli = (name: string, script: string, env: Env<S>) => ({
    name,
    image: mirrorImage(`${AWS_CLI_IMAGE.repository}:${AWS_CLI_IMAGE.tag}`, a.images),
    command: ["bash", `${SCRIPTS_DIR}/${script}`],
    env: [...awsEnv, ...env],
    resources: { requests: { cpu: "250m", memory: "256Mi" }, limits: { cpu: "1", memory: "1Gi" } },
    securityContext: secure,
    volumeMounts: [scriptsMount, scratchMount, tmpMount],
  });
  type Container = ReturnType<typeof database> | ReturnType<typeof awsCli>;
  const podSpec = (initContainer: Container, container: Container) => ({
    serviceAccountName: BACKUP_SERVICE_ACCOUNT,
    restartPolicy: "Never",
    enableServiceLinks: false,
    // No Kubernetes API access is needed; the EKS pod identity webhook mounts its own web identity token for IRSA.
    automountServiceAccountToken: false,
    securityContext: {
      runAsNonRoot: true, runAsUser: RUN_AS_UID, runAsGroup: RUN_AS_UID, fsGroup: RUN_AS_UID, seccompProfile: { type: "RuntimeDefault" },
    },
    initContainers: [initContainer],
    containers: [container],
    volumes: [
      { name: "scripts", configMap: { name: BACKUP_CRONJOB_NAME, defaultMode: 0o555 } },
      {
        name: "scratch",
        ephemeral: {
          volumeClaimTemplate: {
            metadata: { labels: labelsFor(BACKUP_CRONJOB_NAME) },
            spec: { accessModes: ["ReadWriteOnce"], storageClassName: a.storageClassName, resources: { requests: { storage: `${a.scratchGiB}Gi` } } },
          },
        },
      },
      { name: "tmp", emptyDir: { sizeLimit: "256Mi" } },
      ...ca.volumes,
    ],
  });
  return { database, awsCli, podSpec };
}

/** ServiceAccount, scripts and the daily CronJob. */
export function backupSpecs<S = string>(a: BackupSpecArgs<S>) {
  const labels = labelsFor(BACKUP_CRONJOB_NAME);
  const { database, awsCli, podSpec } = podParts(a);
  const serviceAccount = {
    metadata: { name: BACKUP_SERVICE_ACCOUNT, namespace: a.namespace, labels, annotations: { "eks.amazonaws.com/role-arn": a.roleArn } },
    automountServiceAccountToken: false,
  };
  const configMap = {
    metadata: { name: BACKUP_CRONJOB_NAME, namespace: a.namespace, labels },
    data: {
      [SCRIPTS.dump]: backupDumpScript(),
      [SCRIPTS.upload]: backupUploadScript(),
      [SCRIPTS.download]: restoreDownloadScript(),
      [SCRIPTS.restore]: restoreLoadScript(),
    },
  };
  const cronJob = {
    metadata: { name: BACKUP_CRONJOB_NAME, namespace: a.namespace, labels },
    spec: {
      schedule: `${BACKUP_MINUTE} ${a.hourUtc} * * *`,
      timeZone: "Etc/UTC",
      concurrencyPolicy: "Forbid",
      // A run that could not start within 2 h (cluster down) is skipped; the BackupMissing alert notices.
      startingDeadlineSeconds: 2 * 3600,
      successfulJobsHistoryLimit: 3,
      failedJobsHistoryLimit: 3,
      jobTemplate: {
        metadata: { labels },
        spec: {
          // One retry for a passing network error; a second failure waits for a person (the alert).
          backoffLimit: 1,
          activeDeadlineSeconds: BACKUP_DEADLINE_SEC,
          ttlSecondsAfterFinished: 7 * 24 * 3600,
          template: {
            metadata: { labels },
            spec: podSpec(
              database("dump", SCRIPTS.dump, [{ name: "BACKUP_DIR", value: SCRATCH_DIR }]),
              awsCli("upload", SCRIPTS.upload, [{ name: "BACKUP_DIR", value: SCRATCH_DIR }]),
            ),
          },
        },
      },
    },
  };
  return { serviceAccount, configMap, cronJob };
}

/**
 * The restore Job for `object`: named by a hash of the object, so a new `restoreFrom` is a new Job and an unchanged
 * one is not re-run on the next `pulumi up`. No TTL: a Job that vanished would be re-created by Pulumi and then refuse
 * the (by then non-empty) database.
 */
export function restoreJobSpec<S = string>(a: BackupSpecArgs<S>, object: string) {
  const labels = labelsFor("yugabyte-restore");
  const { database, awsCli, podSpec } = podParts(a);
  const name = `yugabyte-restore-${createHash("sha256").update(object).digest("hex").slice(0, HASH_CHARS)}`;
  const restoreEnv: Env<S> = [{ name: "RESTORE_DIR", value: SCRATCH_DIR }, { name: "RESTORE_OBJECT", value: object }];
  return {
    metadata: { name, namespace: a.namespace, labels, annotations: { "watchpipe.io/restore-from": object } },
    spec: {
      // A refused restore (damaged backup, non-empty database) fails the same way twice: do not retry.
      backoffLimit: 0,
      activeDeadlineSeconds: RESTORE_DEADLINE_SEC,
      template: {
        metadata: { labels },
        spec: podSpec(
          awsCli("download", SCRIPTS.download, restoreEnv),
          database("restore", SCRIPTS.restore, [...restoreEnv, { name: "RESTORE_MAINTENANCE_DB", value: DEFAULT_MAINTENANCE_DB }]),
        ),
      },
    },
  };
}
