/**
 * The AWS Load Balancer Controller (EKS stacks only): an IRSA role with its own IAM policy, and the pinned chart in
 * kube-system. It turns the bridge's Ingress (class alb) into an Application Load Balancer.
 */
import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { irsaTrustPolicy } from "../contract/irsa";
import { releaseWait, type DeploySettings } from "../contract/readiness";
import { releaseChart, type ChartSource, type ImageSourceSettings } from "../contract/sources";
import {
  LBC_CHART,
  LBC_PINNED_CHART,
  LBC_NAMESPACE,
  LBC_SERVICE_ACCOUNT,
  lbcPolicyDocument,
  lbcValues,
} from "./awsLoadBalancerControllerSpecs";

export interface AwsLoadBalancerControllerArgs {
  readonly provider: k8s.Provider;
  readonly clusterName: pulumi.Input<string>;
  readonly vpcId: pulumi.Input<string>;
  readonly region: string;
  readonly oidcProviderArn: pulumi.Input<string>;
  readonly oidcProviderUrl: pulumi.Input<string>;
  readonly tags: Record<string, string>;
  /** `watchpipe:charts.awsLoadBalancerController`: a mirror repository or local chart. */
  readonly chart?: ChartSource;
  readonly images?: ImageSourceSettings;
  /** `watchpipe:deploy`: skip or bound the wait for the controller's pods. */
  readonly deploy?: DeploySettings;
}

/**
 * What the release waits for: the controller Deployment's two replicas (a ~100 MB image) and its webhook Service.
 * A ready node pulls it from public ECR in well under a minute, but the release starts as soon as the cluster exists,
 * while the managed node groups may still be joining (several minutes): 10 min.
 */
export const LBC_RELEASE_TIMEOUT_SEC = 600;

export class AwsLoadBalancerController extends pulumi.ComponentResource {
  readonly release: k8s.helm.v3.Release;
  readonly roleArn: pulumi.Output<string>;

  constructor(name: string, args: AwsLoadBalancerControllerArgs, opts?: pulumi.ComponentResourceOptions) {
    super("watchpipe:operators:AwsLoadBalancerController", name, {}, opts);
    const self = { parent: this };
    const serviceAccount = `system:serviceaccount:${LBC_NAMESPACE}:${LBC_SERVICE_ACCOUNT}`;

    const policy = new aws.iam.Policy(`${name}-policy`, {
      description: "AWS Load Balancer Controller: manage ALBs it owns (tag elbv2.k8s.aws/cluster) for this cluster",
      policy: pulumi.output(args.clusterName).apply((c) => JSON.stringify(lbcPolicyDocument(c))),
      tags: args.tags,
    }, self);
    const role = new aws.iam.Role(`${name}-role`, {
      description: "IRSA role of the AWS Load Balancer Controller service account",
      assumeRolePolicy: pulumi
        .all([args.oidcProviderArn, args.oidcProviderUrl])
        .apply(([arn, url]) => JSON.stringify(irsaTrustPolicy(arn, url, serviceAccount))),
      tags: args.tags,
    }, self);
    const attachment = new aws.iam.RolePolicyAttachment(`${name}-policy-attachment`, { role: role.name, policyArn: policy.arn }, self);

    this.roleArn = role.arn;
    this.release = new k8s.helm.v3.Release(
      `${name}-release`,
      {
        name: LBC_CHART,
        ...releaseChart(LBC_PINNED_CHART, args.chart),
        namespace: LBC_NAMESPACE,
        ...releaseWait(LBC_RELEASE_TIMEOUT_SEC, args.deploy),
        // A plain object with Output leaves, not one Output: only the ids are unknown in preview (policy pack).
        values: lbcValues<pulumi.Input<string>>({
          clusterName: args.clusterName,
          vpcId: args.vpcId,
          roleArn: role.arn,
          region: args.region,
          ...(args.images ? { images: args.images } : {}),
        }),
      },
      // The pods must start with their permissions in place, or the first reconcile fails with AccessDenied.
      { ...self, provider: args.provider, dependsOn: [attachment] },
    );
    this.registerOutputs({ roleArn: this.roleArn });
  }
}
