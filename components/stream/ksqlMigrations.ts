/**
 * Applies the sessionization SQL (ksql/migrations/V*.sql) with `ksql-migrations` in a Kubernetes Job: a ConfigMap
 * with the files, the properties and the scripts, and a Job that waits for ksqlDB, initializes the migrations
 * metadata once and runs `apply --all` with the stack's `--define` values. Both names carry a hash of that content,
 * so adding a migration (or changing a define) makes Pulumi create a new Job; `pulumi up` waits for it to succeed.
 */
import type { ImageSourceSettings } from "../../contract/sources";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { withAwait, type DeploySettings } from "../../contract/readiness";
import { migrationDefines, migrationFiles, type SinkTopics } from "../../ksql/migrations";
import type { SessionizationParams } from "../../contract/sessionization";
import {
  KSQL_MIGRATIONS_APP,
  MIGRATIONS_DEADLINE_SEC,
  type KsqlMigrationsSpecArgs,
  migrationsConfigMapData,
  migrationsJobSpec,
  migrationsResourceName,
} from "./ksqlMigrationsSpecs";
import { workloadLabels } from "./streamingSpecs";

export interface KsqlMigrationsArgs {
  /** `watchpipe:images`: the registry mirror to pull from (unset: the public registry). */
  readonly images?: ImageSourceSettings;
  readonly namespace: string;
  readonly ksqldbUrl: string;
  readonly sessionization: SessionizationParams;
  /** Partitions of the `heartbeats` topic; the session table gets the same. */
  readonly heartbeatPartitions: number;
  /** The program-made topics the SQL writes into, as their KafkaTopics declare them. */
  readonly sinkTopics: SinkTopics;
  readonly provider: k8s.Provider;
  /** ksqlDB (its StatefulSet), Schema Registry and the pipeline topics the SQL reads and writes. */
  readonly dependsOn: pulumi.Input<pulumi.Resource>[];
  /** `watchpipe:deploy`: with waitForReady false the provider creates these objects without awaiting them. */
  readonly deploy?: DeploySettings;
}

/** The spec inputs for a stack: the migration files as they are in the repo and the defines for its config. */
export function ksqlMigrationsSpecArgs(ksqldbUrl: string, params: SessionizationParams, heartbeatPartitions: number, sinkTopics: SinkTopics): KsqlMigrationsSpecArgs {
  return {
    ksqldbUrl,
    files: migrationFiles().map((f) => ({ name: f.name, content: f.content })),
    defines: migrationDefines(params, { heartbeatPartitions, sinkTopics }),
  };
}

export class KsqlMigrations extends pulumi.ComponentResource {
  /** Name of the Job of the current content (changes when a migration is added). */
  readonly jobName: string;
  readonly job: k8s.batch.v1.Job;

  constructor(name: string, args: KsqlMigrationsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("watchpipe:ksqlMigrations:KsqlMigrations", name, {}, opts);
    const k = { parent: this, provider: args.provider };
    const specArgs = ksqlMigrationsSpecArgs(args.ksqldbUrl, args.sessionization, args.heartbeatPartitions, args.sinkTopics);
    const data = migrationsConfigMapData(specArgs);
    this.jobName = migrationsResourceName(data);
    const metadata = { name: this.jobName, namespace: args.namespace, labels: workloadLabels(KSQL_MIGRATIONS_APP, false) };

    const configMap = new k8s.core.v1.ConfigMap(`${name}-files`, { metadata, data }, { ...k, dependsOn: args.dependsOn });
    // Pulumi waits for the Job to complete (10 min by default): allow the Job's own deadline. A Job that failed
    // in an earlier `up` never becomes ready; replaceUnready re-runs it on the next `up` instead of waiting on it.
    const timeout = `${Math.ceil(MIGRATIONS_DEADLINE_SEC / 60) + 1}m`;
    this.job = new k8s.batch.v1.Job(
      `${name}-job`,
      { metadata: withAwait({ ...metadata, annotations: { "pulumi.com/replaceUnready": "true" } }, args.deploy), spec: migrationsJobSpec({ ...specArgs, ...(args.images ? { images: args.images } : {}) }, this.jobName) },
      { ...k, dependsOn: [...args.dependsOn, configMap], customTimeouts: { create: timeout, update: timeout } },
    );
    this.registerOutputs({ jobName: this.jobName });
  }
}
