/**
 * The rejects check CronJob (specs: components/sink/rejectsCheckSpec.ts): turns pieces the database refused into
 * an alert instead of a silent table. Created after the schema Job, which makes the function it calls.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { rejectsCheckSpecs, type RejectsCheckSpecArgs } from "./rejectsCheckSpec";

export interface RejectsCheckArgs extends RejectsCheckSpecArgs {
  readonly provider: k8s.Provider;
  /** The schema Job (V005 creates watch_pieces_rejects_pending) and the sink password Secret. */
  readonly dependsOn: pulumi.Input<pulumi.Resource>[];
}

export class RejectsCheck extends pulumi.ComponentResource {
  readonly cronJob: k8s.batch.v1.CronJob;

  constructor(name: string, args: RejectsCheckArgs, opts?: pulumi.ComponentResourceOptions) {
    super("watchpipe:yugabyte:RejectsCheck", name, {}, opts);
    const { provider, dependsOn, ...rest } = args;
    const specs = rejectsCheckSpecs(rest);
    const script = new k8s.core.v1.ConfigMap(`${name}-script`, specs.configMap, { parent: this, provider, dependsOn });
    this.cronJob = new k8s.batch.v1.CronJob(`${name}-cronjob`, specs.cronJob, { parent: this, provider, dependsOn: [script, ...dependsOn] });
    this.registerOutputs({});
  }
}
