/**
 * The Strimzi cluster operator: its own namespace, the pinned chart (which installs the kafka.strimzi.io CRDs), and
 * a watch on the Kafka namespace only. Every Strimzi CR depends on {@link StrimziOperator.release}.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { releaseWait, type DeploySettings } from "../contract/readiness";
import { releaseChart, type ChartSource, type ImageSourceSettings } from "../contract/sources";
import { STRIMZI_NAMESPACE, STRIMZI_PINNED_CHART, STRIMZI_RELEASE_NAME, strimziValues } from "./strimziValues";

export interface StrimziOperatorArgs {
  readonly provider: k8s.Provider;
  /** Namespace holding the Kafka CRs; the operator watches it and nothing else. */
  readonly kafkaNamespace: pulumi.Input<string>;
  /** Resources the release must wait for (the Kafka namespace must exist before the chart's RoleBindings). */
  readonly dependsOn?: pulumi.Input<pulumi.Resource>[];
  /** `watchpipe:charts.strimzi`: a mirror repository or local chart instead of Strimzi's OCI registry. */
  readonly chart?: ChartSource;
  /** `watchpipe:images`: the registry mirror the operator and every image it deploys are pulled from. */
  readonly images?: ImageSourceSettings;
  /** `watchpipe:deploy`: skip or bound the wait for the operator Deployment. */
  readonly deploy?: DeploySettings;
}

/**
 * What the release waits for: one operator Deployment (one replica) and the chart's CRDs and RBAC. Pulling the
 * ~250 MB operator image on a fresh node and the JVM's start take 1-3 min; the provider's 300 s default left no room
 * on a slow pull and failed `up` with "context deadline exceeded". Ten minutes covers a cold node and a slow registry.
 */
export const STRIMZI_RELEASE_TIMEOUT_SEC = 600;

export class StrimziOperator extends pulumi.ComponentResource {
  readonly namespace: k8s.core.v1.Namespace;
  readonly release: k8s.helm.v3.Release;

  constructor(name: string, args: StrimziOperatorArgs, opts?: pulumi.ComponentResourceOptions) {
    super("watchpipe:operators:StrimziOperator", name, {}, opts);
    const k = { parent: this, provider: args.provider };
    this.namespace = new k8s.core.v1.Namespace(`${name}-namespace`, { metadata: { name: STRIMZI_NAMESPACE } }, k);
    this.release = new k8s.helm.v3.Release(
      `${name}-release`,
      {
        name: STRIMZI_RELEASE_NAME,
        ...releaseChart(STRIMZI_PINNED_CHART, args.chart),
        namespace: this.namespace.metadata.name,
        values: pulumi.output(args.kafkaNamespace).apply((ns) => strimziValues(ns, args.images)),
        // Wait for the operator Deployment so CRs are only created once something reconciles them (unless the stack
        // turns waits off: the CRs then wait in the API server until the operator starts).
        ...releaseWait(STRIMZI_RELEASE_TIMEOUT_SEC, args.deploy),
      },
      { ...k, dependsOn: args.dependsOn },
    );
    this.registerOutputs({ namespace: this.namespace.metadata.name, release: this.release.status });
  }
}
