/**
 * The YugabyteDB Kubernetes Operator (installer `operator`): one Helm release of the chart named in
 * `watchpipe:yugabyte.operatorChart` {repo, chart, version}. It installs the operator.yugabyte.io CRDs (YBUniverse …),
 * so every custom resource of that group must depend on this release.
 *
 * The operator is not published as a versioned chart in a public Helm repository we could pin here, so its
 * location is configuration; the version is still pinned (config validation requires it).
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { releaseWait, type DeploySettings } from "../contract/readiness";

export interface OperatorChart {
  readonly repo: string;
  readonly chart: string;
  readonly version: string;
}

export interface YugabyteOperatorArgs {
  readonly chart: OperatorChart;
  /** Namespace the operator runs in (the universe's namespace: it manages resources there). */
  readonly namespace: pulumi.Input<string>;
  readonly provider: k8s.Provider;
  /** `watchpipe:deploy`: skip or bound the wait for the operator. */
  readonly deploy?: DeploySettings;
}

/** The operator's own startup takes a while (it bootstraps YugabyteDB Anywhere); Helm waits this long for it. */
export const OPERATOR_INSTALL_TIMEOUT_SEC = 900;
/** Release name; CRs reference nothing by it, but a rename would reinstall the operator. */
export const OPERATOR_RELEASE_NAME = "yugabyte-operator";

/** A chart version must be exact: a range would let `pulumi up` silently move the operator. */
export function validateOperatorChart(chart: OperatorChart): void {
  if (!/^v?\d+\.\d+\.\d+([-.][0-9A-Za-z.-]+)?$/.test(chart.version)) {
    throw new Error(
      `watchpipe:yugabyte.operatorChart.version must be an exact version like 2026.1.0, got ${JSON.stringify(chart.version)}; pin one.`,
    );
  }
  if (!/^(https:\/\/|oci:\/\/)/.test(chart.repo)) {
    throw new Error(`watchpipe:yugabyte.operatorChart.repo must be an https:// or oci:// location, got ${JSON.stringify(chart.repo)}.`);
  }
}

export class YugabyteOperator extends pulumi.ComponentResource {
  /** Depend on this for every operator.yugabyte.io resource (it installs their CRDs). */
  readonly release: k8s.helm.v3.Release;

  constructor(name: string, args: YugabyteOperatorArgs, opts?: pulumi.ComponentResourceOptions) {
    super("watchpipe:operators:YugabyteOperator", name, {}, opts);
    validateOperatorChart(args.chart);
    const oci = args.chart.repo.startsWith("oci://");
    this.release = new k8s.helm.v3.Release(`${name}-release`, {
      name: OPERATOR_RELEASE_NAME,
      namespace: args.namespace,
      chart: oci ? `${args.chart.repo.replace(/\/$/, "")}/${args.chart.chart}` : args.chart.chart,
      version: args.chart.version,
      ...(oci ? {} : { repositoryOpts: { repo: args.chart.repo } }),
      ...releaseWait(OPERATOR_INSTALL_TIMEOUT_SEC, args.deploy),
      maxHistory: 10,
    }, { parent: this, provider: args.provider });
    this.registerOutputs({ release: this.release.status });
  }
}
