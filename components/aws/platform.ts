import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { AppSettings } from "../../contract/settings";
import { EksCluster } from "./cluster";
import { ExistingCluster } from "./existingCluster";
import { Network } from "./network";

/** What every downstream component needs from "a Kubernetes cluster", whichever way it was obtained. */
export interface KubernetesTarget {
  readonly provider: k8s.Provider;
  readonly storageClassName: string;
  /** The kubeconfig context the provider deploys to. */
  readonly context: pulumi.Output<string>;
  /** Present on EKS stacks only. */
  readonly aws?: {
    readonly vpcId: pulumi.Output<string>;
    readonly clusterName: pulumi.Output<string>;
    /** Secret: it grants cluster access. */
    readonly kubeconfig: pulumi.Output<string>;
    readonly oidcProviderArn: pulumi.Output<string>;
    readonly oidcProviderUrl: pulumi.Output<string>;
    /** The AZs the VPC's subnets (and node groups) span, in subnet order. */
    readonly availabilityZones: pulumi.Output<string>[];
  };
}

/** Tags on every AWS resource: who owns it and which stack made it. */
export function baseTags(config: Pick<AppSettings, "project" | "stack" | "owner">): Record<string, string> {
  return { project: config.project, stack: config.stack, owner: config.owner, "managed-by": "pulumi" };
}

/** `cluster.mode: eks` builds VPC + EKS; `existing` uses a cluster from the current kubeconfig. */
export function kubernetesTarget(config: Pick<AppSettings, "project" | "stack" | "owner" | "cluster" | "network">): KubernetesTarget {
  const cluster = config.cluster;
  if (cluster.mode === "existing") {
    const existing = new ExistingCluster("cluster", cluster);
    return { provider: existing.provider, storageClassName: existing.storageClassName, context: existing.context };
  }
  const tags = baseTags(config);
  const network = new Network("network", { ...config.network, tags });
  const eksCluster = new EksCluster("cluster", {
    ...cluster,
    vpcId: network.vpcId,
    privateSubnetIds: network.privateSubnetIds,
    tags,
  });
  const context = eksCluster.kubeconfig.apply((kc) => {
    const parsed = (typeof kc === "string" ? JSON.parse(kc) : kc) as { "current-context"?: string };
    return parsed["current-context"] ?? "";
  });
  return {
    provider: eksCluster.provider,
    storageClassName: eksCluster.storageClassName,
    context,
    aws: {
      vpcId: network.vpcId,
      clusterName: eksCluster.clusterName,
      kubeconfig: eksCluster.kubeconfig,
      oidcProviderArn: eksCluster.oidcProviderArn,
      oidcProviderUrl: eksCluster.oidcProviderUrl,
      availabilityZones: network.availabilityZones,
    },
  };
}
