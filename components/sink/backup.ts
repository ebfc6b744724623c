/**
 * YugabyteDB backups in the cluster (specs: components/sink/backupSpecs.ts; bucket: components/aws/backupBucket.ts):
 * the IRSA ServiceAccount, the daily backup CronJob and, when `backup.restoreFrom` is set, the restore Job the schema
 * Job waits for (a restore loads into an empty database; the schema Job then re-applies roles and grants).
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { withAwait, type DeploySettings } from "../../contract/readiness";
import { backupSpecs, restoreJobSpec, type BackupSpecArgs } from "./backupSpecs";

export interface YugabyteBackupsArgs extends BackupSpecArgs<pulumi.Output<string>> {
  /** `watchpipe:backup.restoreFrom`. */
  readonly restoreFrom?: string | undefined;
  readonly provider: k8s.Provider;
  /** The universe, the superuser's password Secret and the CA: both pods log in as the superuser. */
  readonly dependsOn: pulumi.Input<pulumi.Resource>[];
  /** `watchpipe:deploy`: with waitForReady false `up` does not wait for a restore Job to finish. */
  readonly deploy?: DeploySettings;
}

export class YugabyteBackups extends pulumi.ComponentResource {
  readonly cronJob: k8s.batch.v1.CronJob;
  /** Present while `backup.restoreFrom` is set: what the schema Job must wait for. */
  readonly restoreJob?: k8s.batch.v1.Job;

  constructor(name: string, args: YugabyteBackupsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("watchpipe:yugabyte:Backups", name, {}, opts);
    const { provider, dependsOn, restoreFrom, deploy, ...specArgs } = args;
    const k = { parent: this, provider };
    const specs = backupSpecs(specArgs);
    const serviceAccount = new k8s.core.v1.ServiceAccount(`${name}-sa`, specs.serviceAccount, { ...k, dependsOn });
    const scripts = new k8s.core.v1.ConfigMap(`${name}-scripts`, specs.configMap, { ...k, dependsOn });
    const podNeeds = [serviceAccount, scripts, ...dependsOn];
    this.cronJob = new k8s.batch.v1.CronJob(`${name}-cronjob`, specs.cronJob, { ...k, dependsOn: podNeeds });
    if (restoreFrom !== undefined) {
      // Pulumi waits for the Job to complete: a refused restore fails `pulumi up` before the schema Job runs.
      const restore = restoreJobSpec(specArgs, restoreFrom);
      this.restoreJob = new k8s.batch.v1.Job(`${name}-restore`, { ...restore, metadata: withAwait(restore.metadata, deploy) }, { ...k, dependsOn: podNeeds });
    }
    this.registerOutputs({});
  }
}
