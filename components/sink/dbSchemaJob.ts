/**
 * The schema Job: applies connectors/schema/V00x__*.sql to YugabyteDB with `ysqlsh` once the universe is up.
 * Pulumi waits for the Job to complete, so a failing schema fails `pulumi up` (and the sink, which depends on it,
 * is not created against a missing table). Specs: components/sink/yugabyteSchemaJobSpec.ts.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { loadMigrations, type Migration } from "../../connectors/schema";
import { withAwait, type DeploySettings } from "../../contract/readiness";
import { schemaJobSpecs, type SchemaJobSpecArgs } from "./yugabyteSchemaJobSpec";

export interface DbSchemaJobArgs extends Omit<SchemaJobSpecArgs, "migrations"> {
  /** Default: every file in connectors/schema. */
  readonly migrations?: readonly Migration[];
  readonly provider: k8s.Provider;
  /** What must exist first: the universe (releases or CR), the superuser and sink password Secrets, the CA ConfigMap. */
  readonly dependsOn: pulumi.Input<pulumi.Resource>[];
  /** `watchpipe:deploy`: with waitForReady false `up` does not wait for the schema (the sink may start first and retry). */
  readonly deploy?: DeploySettings;
}

export class DbSchemaJob extends pulumi.ComponentResource {
  readonly job: k8s.batch.v1.Job;
  /** Hash of the applied files; changes whenever a file is added or edited. */
  readonly contentHash: string;

  constructor(name: string, args: DbSchemaJobArgs, opts?: pulumi.ComponentResourceOptions) {
    super("watchpipe:yugabyte:DbSchemaJob", name, {}, opts);
    const { provider, dependsOn, migrations, deploy, ...rest } = args;
    const specs = schemaJobSpecs({ ...rest, migrations: migrations ?? loadMigrations() });
    this.contentHash = specs.hash;
    // The Kubernetes name carries the hash; the Pulumi names are stable, so a new hash replaces (not duplicates).
    const files = new k8s.core.v1.ConfigMap(`${name}-files`, specs.configMap, { parent: this, provider, dependsOn });
    this.job = new k8s.batch.v1.Job(`${name}-job`, { ...specs.job, metadata: withAwait(specs.job.metadata, deploy) }, {
      parent: this,
      provider,
      dependsOn: [files, ...dependsOn],
      // Job templates are immutable: a new schema needs a new Job object, never an in-place patch.
      deleteBeforeReplace: true,
      replaceOnChanges: ["spec"],
    });
    this.registerOutputs({ contentHash: this.contentHash });
  }
}
