/**
 * The database maintenance CronJob (specs: components/sink/maintenanceJobSpec.ts): closes segments, creates day
 * partitions ahead and drops expired ones. Created after the schema Job, which makes the function it calls.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { maintenanceJobSpecs, type MaintenanceJobSpecArgs } from "./maintenanceJobSpec";

export interface MaintenanceJobArgs extends MaintenanceJobSpecArgs {
  readonly provider: k8s.Provider;
  /** The schema Job (it creates the maintenance function and the partitioned tables). */
  readonly dependsOn: pulumi.Input<pulumi.Resource>[];
}

export class MaintenanceJob extends pulumi.ComponentResource {
  readonly cronJob: k8s.batch.v1.CronJob;

  constructor(name: string, args: MaintenanceJobArgs, opts?: pulumi.ComponentResourceOptions) {
    super("watchpipe:yugabyte:MaintenanceJob", name, {}, opts);
    const { provider, dependsOn, ...rest } = args;
    const specs = maintenanceJobSpecs(rest);
    this.cronJob = new k8s.batch.v1.CronJob(`${name}-cronjob`, specs.cronJob, { parent: this, provider, dependsOn });
    this.registerOutputs({});
  }
}
