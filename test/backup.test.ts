/**
 * YugabyteDB backups in the program: the CronJob and restore Job specs (components/sink/backupSpecs.ts) and how the
 * program wires them under mocks (bucket, IRSA annotation, the schema Job waiting for a restore). The scripts
 * themselves run on real PostgreSQL 15 in test/real/backup.test.ts; the bucket's policies in test/backupBucket.test.ts.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { BACKUP_ALERT_AFTER_SEC, BACKUP_CRONJOB_NAME, BACKUP_PREFIX, BACKUP_SERVICE_ACCOUNT } from "../contract/backup";
import { backupDumpScript, backupUploadScript, restoreDownloadScript, restoreLoadScript } from "../connectors/backup";
import { backupSpecs, restoreJobSpec, type BackupSpecArgs } from "../components/sink/backupSpecs";
import { YSQL_ADMIN_USER, YUGABYTE_IMAGE } from "../components/sink/yugabyteSpecs";
import { alertRuleGroups } from "../components/ops/alertRules";
import type { ProgramRun, RecordedResource } from "../tools/mockRun";
import { CASE_ARGS } from "./alerts/cases";
import { programRunsTimeout, runProgram } from "./harness";

const args: BackupSpecArgs = {
  namespace: "yugabyte",
  connection: {
    host: "yb-ysql.yugabyte.svc.cluster.local", port: 5433, database: "watchpipe", user: YSQL_ADMIN_USER,
    password: { secretName: "yugabyte-credentials", passwordKey: "password" },
    tls: { sslMode: "verify-ca", caSecret: "yugabyte-root-ca" },
  },
  bucketName: "watchpipe-prod-backups-abc",
  kmsKeyArn: "arn:aws:kms:us-east-1:111122223333:key/k",
  roleArn: "arn:aws:iam::111122223333:role/yugabyte-backup",
  region: "us-east-1",
  hourUtc: 3,
  scratchGiB: 50,
  storageClassName: "gp3",
};
const OBJECT = "watchpipe-20261202T031700Z.sql.gz";
type Container = { name: string; image: string; env: { name: string; value?: unknown; valueFrom?: unknown }[] };
const envOf = (c: Container) => Object.fromEntries(c.env.map((e) => [e.name, e.value ?? e.valueFrom]));

describe("backup CronJob", () => {
  const { serviceAccount, configMap, cronJob } = backupSpecs(args);
  const pod = cronJob.spec.jobTemplate.spec.template.spec;
  const [dump] = pod.initContainers as Container[];
  const [upload] = pod.containers as Container[];

  it("runs daily at hourUtc:17 UTC, one run at a time, and keeps failed runs for the alert and the log", () => {
    expect(cronJob.spec).toMatchObject({ schedule: "17 3 * * *", timeZone: "Etc/UTC", concurrencyPolicy: "Forbid", failedJobsHistoryLimit: 3 });
    expect(backupSpecs({ ...args, hourUtc: 22 }).cronJob.spec.schedule).toBe("17 22 * * *");
    expect(cronJob.metadata.name).toBe(BACKUP_CRONJOB_NAME);
    expect(pod.restartPolicy).toBe("Never");
  });

  it("ships the generated scripts, dumps first and uploads after", () => {
    expect(configMap.data).toEqual({
      "dump.sh": backupDumpScript(), "upload.sh": backupUploadScript(), "download.sh": restoreDownloadScript(), "restore.sh": restoreLoadScript(),
    });
    expect(dump!.name).toBe("dump");
    expect(upload!.name).toBe("upload");
    expect(dump!.image).toBe(`${YUGABYTE_IMAGE.repository}:${YUGABYTE_IMAGE.tag}`);
    expect(upload!.image).toMatch(/^public\.ecr\.aws\/aws-cli\/aws-cli:2\.[0-9]+\.[0-9]+$/);
  });

  it("gives the database password only to the dump container and the bucket only to the upload container", () => {
    expect(envOf(dump!)).toMatchObject({
      PGUSER: YSQL_ADMIN_USER, PGSSLMODE: "verify-ca", PGPASSWORD: { secretKeyRef: { name: "yugabyte-credentials", key: "password" } }, BACKUP_DIR: "/backup",
    });
    expect(envOf(upload!)).toEqual({
      HOME: "/tmp", AWS_REGION: "us-east-1", AWS_STS_REGIONAL_ENDPOINTS: "regional", BACKUP_BUCKET: args.bucketName, BACKUP_PREFIX,
      BACKUP_KMS_KEY_ARN: args.kmsKeyArn, BACKUP_DIR: "/backup",
    });
    expect(JSON.stringify(upload)).not.toMatch(/PGPASSWORD|yugabyte-credentials/);
  });

  it("runs under the IRSA ServiceAccount, unprivileged, on a scratch volume sized by config", () => {
    expect(serviceAccount.metadata).toMatchObject({ name: BACKUP_SERVICE_ACCOUNT, annotations: { "eks.amazonaws.com/role-arn": args.roleArn } });
    expect(pod.serviceAccountName).toBe(BACKUP_SERVICE_ACCOUNT);
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, fsGroup: 10001 });
    for (const c of [...pod.initContainers, ...pod.containers]) {
      expect(c.securityContext).toEqual({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } });
    }
    const scratch = pod.volumes.find((v) => v.name === "scratch") as { ephemeral: { volumeClaimTemplate: { spec: object } } };
    expect(scratch.ephemeral.volumeClaimTemplate.spec).toMatchObject({ storageClassName: "gp3", resources: { requests: { storage: "50Gi" } } });
  });

  it("pulls both images from the mirror when one is set", () => {
    const mirrored = backupSpecs({ ...args, images: { mirror: "registry.corp.example/proxy" } }).cronJob.spec.jobTemplate.spec.template.spec;
    for (const c of [...mirrored.initContainers, ...mirrored.containers]) expect(c.image).toMatch(/^registry\.corp\.example\/proxy\//);
  });

  it("BackupMissing watches this CronJob and fires after a missed day", () => {
    const rule = alertRuleGroups(CASE_ARGS).flatMap((g) => g.rules).find((r) => r.alert === "BackupMissing");
    expect(rule?.expr).toContain(`cronjob="${BACKUP_CRONJOB_NAME}"`);
    expect(rule?.expr).toContain(`namespace="${CASE_ARGS.yugabyteNamespace}"`);
    expect(rule?.expr).toMatch(new RegExp(`> ${BACKUP_ALERT_AFTER_SEC}$`));
    expect(rule?.annotations.runbook_url).toMatch(/yugabyte\.md#backup-missing$/);
  });
});

describe("restore Job", () => {
  const job = restoreJobSpec(args, OBJECT);
  const pod = job.spec.template.spec;

  it("downloads first, then restores as the superuser, and is never retried", () => {
    expect((pod.initContainers as Container[]).map((c) => c.name)).toEqual(["download"]);
    expect((pod.containers as Container[]).map((c) => c.name)).toEqual(["restore"]);
    expect(envOf(pod.containers[0] as Container)).toMatchObject({ RESTORE_OBJECT: OBJECT, RESTORE_MAINTENANCE_DB: "yugabyte", PGUSER: YSQL_ADMIN_USER });
    expect(envOf(pod.initContainers[0] as Container)).toMatchObject({ RESTORE_OBJECT: OBJECT, BACKUP_BUCKET: args.bucketName });
    expect(job.spec.backoffLimit).toBe(0);
    expect(job.spec).not.toHaveProperty("ttlSecondsAfterFinished");
  });

  it("is named by the backup it restores: the same restoreFrom is the same Job, another is a new one", () => {
    expect(restoreJobSpec(args, OBJECT).metadata.name).toBe(job.metadata.name);
    expect(restoreJobSpec(args, "watchpipe-20261203T031700Z.sql.gz").metadata.name).not.toBe(job.metadata.name);
    expect(job.metadata.name).toMatch(/^yugabyte-restore-[0-9a-f]{10}$/);
  });
});

describe("backups in the program (mocks)", () => {
  const find = (run: ProgramRun, type: string, pred: (r: RecordedResource) => boolean = () => true) => run.ofType(type).filter(pred);
  let prod: ProgramRun;
  let restoring: ProgramRun;
  let local: ProgramRun;
  beforeAll(async () => {
    prod = await runProgram("prod");
    restoring = await runProgram("prod", { "watchpipe:backup": { enabled: true, restoreFrom: OBJECT } });
    local = await runProgram("local");
  }, programRunsTimeout(3));

  it("prod: the CronJob runs as the ServiceAccount annotated with the bucket's IRSA role", () => {
    const role = prod.one("aws:iam/role:Role", "yugabyte-backup-role");
    const sa = find(prod, "kubernetes:core/v1:ServiceAccount", (r) => r.inputs.metadata.name === BACKUP_SERVICE_ACCOUNT);
    expect(sa).toHaveLength(1);
    expect(sa[0]!.inputs.metadata.annotations["eks.amazonaws.com/role-arn"]).toBe(`arn:aws:iam::111122223333:role/${role.name}`);
    const cron = find(prod, "kubernetes:batch/v1:CronJob", (r) => r.inputs.metadata.name === BACKUP_CRONJOB_NAME);
    expect(cron).toHaveLength(1);
    const upload = cron[0]!.inputs.spec.jobTemplate.spec.template.spec.containers[0] as Container;
    const bucket = prod.one("aws:s3/bucket:Bucket");
    expect(envOf(upload).BACKUP_BUCKET).toBe(bucket.inputs.bucket ?? `${bucket.inputs.bucketPrefix}20261202000000000000000001`);
    expect(find(prod, "kubernetes:batch/v1:Job", (r) => r.inputs.metadata.name.startsWith("yugabyte-restore-"))).toHaveLength(0);
  });

  it("with restoreFrom, the schema Job waits for the restore Job", () => {
    const restore = find(restoring, "kubernetes:batch/v1:Job", (r) => r.inputs.metadata.name.startsWith("yugabyte-restore-"));
    expect(restore).toHaveLength(1);
    const schema = find(restoring, "kubernetes:batch/v1:Job", (r) => r.inputs.metadata.name.startsWith("watchpipe-schema-"));
    expect(schema).toHaveLength(1);
    // By type and name: the mocks qualify a dependency's URN by its direct parent only.
    expect(schema[0]!.dependencies.filter((u) => u.endsWith(`kubernetes:batch/v1:Job::${restore[0]!.name}`))).toHaveLength(1);
    expect(prod.ofType("kubernetes:batch/v1:Job").flatMap((j) => j.dependencies).filter((u) => u.includes("yugabyte-backup-restore"))).toEqual([]);
  });

  it("local (an existing cluster): no bucket, no backup objects", () => {
    expect(local.ofType("aws:s3/bucket:Bucket")).toHaveLength(0);
    expect(find(local, "kubernetes:batch/v1:CronJob", (r) => r.inputs.metadata.name === BACKUP_CRONJOB_NAME)).toHaveLength(0);
  });
});
