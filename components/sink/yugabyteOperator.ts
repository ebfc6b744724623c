/**
 * Installer `operator`: the YugabyteDB Kubernetes Operator plus one `YBUniverse` CR. The operator creates the
 * StatefulSets, services and certificates itself; we give it the sizing, TLS, and the password Secret.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { DeploySettings } from "../../contract/readiness";
import { YugabyteOperator, type OperatorChart } from "../../operators/yugabyte";
import { ybUniverseSpec, type UniverseSizing } from "./yugabyteSpecs";

export const YB_UNIVERSE_API_VERSION = "operator.yugabyte.io/v1alpha1";
/** CR name; the operator derives the universe's objects from it, so it never changes. */
export const UNIVERSE_NAME = "watchpipe";

export interface OperatorUniverseArgs {
  readonly namespace: string;
  readonly chart: OperatorChart;
  readonly sizing: UniverseSizing;
  /** Multi-zone: the zones to spread nodes over. */
  readonly zones: readonly pulumi.Input<string>[];
  readonly provider: k8s.Provider;
  readonly protect: boolean;
  /** The password Secret must exist before the operator reads it. */
  readonly credentials: pulumi.Resource;
  /** The namespace both live in. */
  readonly namespaceResource: pulumi.Resource;
  /** `watchpipe:deploy`: skip or bound the operator release's wait. */
  readonly deploy?: DeploySettings;
}

export class OperatorUniverse extends pulumi.ComponentResource {
  readonly universe: k8s.apiextensions.CustomResource;

  constructor(name: string, args: OperatorUniverseArgs, opts?: pulumi.ComponentResourceOptions) {
    super("watchpipe:yugabyte:OperatorUniverse", name, {}, opts);
    const operator = new YugabyteOperator(`${name}-operator`, {
      chart: args.chart,
      namespace: args.namespace,
      provider: args.provider,
      ...(args.deploy ? { deploy: args.deploy } : {}),
    }, { parent: this, dependsOn: [args.namespaceResource] });
    const spec = pulumi.all([...args.zones]).apply((zones: string[]) =>
      ybUniverseSpec({ sizing: args.sizing, zones: args.sizing.topology === "multi-zone" ? zones : [] }),
    );
    this.universe = new k8s.apiextensions.CustomResource(`${name}-universe`, {
      apiVersion: YB_UNIVERSE_API_VERSION,
      kind: "YBUniverse",
      metadata: { name: UNIVERSE_NAME, namespace: args.namespace },
      spec,
    }, {
      parent: this,
      provider: args.provider,
      protect: args.protect,
      // The CRD comes with the operator release; the password Secret must be there when the operator reads it.
      dependsOn: [operator.release, args.credentials, args.namespaceResource],
    });
    this.registerOutputs({});
  }
}
