/**
 * Pure builders for the AWS Load Balancer Controller: the IAM policy its IRSA role carries and its Helm values.
 *
 * The policy grants what the controller needs for ALBs fronting Ingresses with ip targets: read the VPC, manage
 * security groups and load balancers it created, and register pod IPs. Mutations are limited to resources carrying
 * the controller's ownership tag `elbv2.k8s.aws/cluster=<cluster name>`, so the role cannot touch other stacks' load
 * balancers. WAFv2 is on (the ingest Ingress names its web ACL, docs/ingest.md): the role may read regional web ACLs
 * and associate them with application load balancers. WAF Classic and Shield stay off and get no permissions.
 */

import { mirrorRepository, PINNED_CHART_VERSIONS, type ImageSourceSettings, type PinnedChart } from "../contract/sources";

/** Chart repository and name (AWS's eks-charts). */
export const LBC_CHART_REPO = "https://aws.github.io/eks-charts";
export const LBC_CHART = "aws-load-balancer-controller";
/** Chart 3.5.0 (controller v3.5.0): the newest release when pinned; supports Kubernetes 1.34. */
export const LBC_CHART_VERSION = PINNED_CHART_VERSIONS.awsLoadBalancerController;
/** The same pin for `watchpipe:charts.awsLoadBalancerController` overrides. */
export const LBC_PINNED_CHART: PinnedChart = { repo: LBC_CHART_REPO, chart: LBC_CHART, version: LBC_CHART_VERSION };
/** The controller image chart 3.5.0 deploys (values.yaml image.repository / image.tag): set only to mirror it. */
export const LBC_IMAGE = { repository: "public.ecr.aws/eks/aws-load-balancer-controller", tag: "v3.5.0" } as const;
export const LBC_NAMESPACE = "kube-system";
/** Service account the IRSA trust policy names; the chart creates it with the role annotation. */
export const LBC_SERVICE_ACCOUNT = "aws-load-balancer-controller";
/** The tag the controller puts on everything it creates. */
export const LBC_OWNERSHIP_TAG = "elbv2.k8s.aws/cluster";
/** Two replicas: its admission webhooks fail closed, so one pod down must not block Ingress/Pod changes. */
const LBC_REPLICAS = 2;
const LBC_RESOURCES = { requests: { cpu: "100m", memory: "256Mi" }, limits: { memory: "256Mi" } };

const READ_ACTIONS = [
  "ec2:DescribeAccountAttributes", "ec2:DescribeAddresses", "ec2:DescribeAvailabilityZones", "ec2:DescribeInternetGateways",
  "ec2:DescribeVpcs", "ec2:DescribeVpcPeeringConnections", "ec2:DescribeSubnets", "ec2:DescribeSecurityGroups",
  "ec2:DescribeInstances", "ec2:DescribeNetworkInterfaces", "ec2:DescribeTags", "ec2:DescribeRouteTables",
  "ec2:DescribeCoipPools", "ec2:GetCoipPoolUsage", "ec2:DescribeIpamPools", "ec2:GetSecurityGroupsForVpc",
  "elasticloadbalancing:DescribeLoadBalancers", "elasticloadbalancing:DescribeLoadBalancerAttributes",
  "elasticloadbalancing:DescribeListeners", "elasticloadbalancing:DescribeListenerAttributes",
  "elasticloadbalancing:DescribeListenerCertificates", "elasticloadbalancing:DescribeSSLPolicies",
  "elasticloadbalancing:DescribeRules", "elasticloadbalancing:DescribeTargetGroups",
  "elasticloadbalancing:DescribeTargetGroupAttributes", "elasticloadbalancing:DescribeTargetHealth",
  "elasticloadbalancing:DescribeTags", "elasticloadbalancing:DescribeTrustStores", "elasticloadbalancing:DescribeCapacityReservation",
  "acm:ListCertificates", "acm:DescribeCertificate",
];

const LB_ARNS = [
  "arn:*:elasticloadbalancing:*:*:loadbalancer/app/*/*",
  "arn:*:elasticloadbalancing:*:*:loadbalancer/net/*/*",
  "arn:*:elasticloadbalancing:*:*:targetgroup/*/*",
];
const ALB_ARNS = "arn:*:elasticloadbalancing:*:*:loadbalancer/app/*/*";
const WAFV2_REGIONAL_ACL_ARNS = "arn:*:wafv2:*:*:regional/webacl/*/*";
const LISTENER_ARNS = [
  "arn:*:elasticloadbalancing:*:*:listener/app/*/*/*",
  "arn:*:elasticloadbalancing:*:*:listener/net/*/*/*",
  "arn:*:elasticloadbalancing:*:*:listener-rule/app/*/*/*",
  "arn:*:elasticloadbalancing:*:*:listener-rule/net/*/*/*",
];

/** The controller's IAM policy for one cluster. */
export function lbcPolicyDocument(clusterName: string) {
  const owned = { StringEquals: { [`aws:ResourceTag/${LBC_OWNERSHIP_TAG}`]: clusterName } };
  const tagsOnCreate = { StringEquals: { [`aws:RequestTag/${LBC_OWNERSHIP_TAG}`]: clusterName } };
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "ElbServiceLinkedRole",
        Effect: "Allow",
        Action: "iam:CreateServiceLinkedRole",
        Resource: "*",
        Condition: { StringEquals: { "iam:AWSServiceName": "elasticloadbalancing.amazonaws.com" } },
      },
      { Sid: "Read", Effect: "Allow", Action: READ_ACTIONS, Resource: "*" },
      // Security groups: create with the ownership tag; change or delete only owned ones.
      { Sid: "CreateOwnedSecurityGroup", Effect: "Allow", Action: "ec2:CreateSecurityGroup", Resource: "*", Condition: tagsOnCreate },
      {
        Sid: "TagSecurityGroupOnCreate",
        Effect: "Allow",
        Action: "ec2:CreateTags",
        Resource: "arn:*:ec2:*:*:security-group/*",
        Condition: { StringEquals: { ...tagsOnCreate.StringEquals, "ec2:CreateAction": "CreateSecurityGroup" } },
      },
      {
        Sid: "ManageOwnedSecurityGroups",
        Effect: "Allow",
        Action: ["ec2:CreateTags", "ec2:DeleteTags", "ec2:DeleteSecurityGroup", "ec2:AuthorizeSecurityGroupIngress", "ec2:RevokeSecurityGroupIngress"],
        Resource: "arn:*:ec2:*:*:security-group/*",
        Condition: owned,
      },
      // Node/pod security groups it does not own: only open/close the ALB→target rule.
      {
        Sid: "TargetSecurityGroupRules",
        Effect: "Allow",
        Action: ["ec2:AuthorizeSecurityGroupIngress", "ec2:RevokeSecurityGroupIngress"],
        Resource: "arn:*:ec2:*:*:security-group/*",
      },
      // Load balancers and target groups: create with the ownership tag; modify or delete only owned ones.
      {
        Sid: "CreateOwnedLoadBalancers",
        Effect: "Allow",
        Action: ["elasticloadbalancing:CreateLoadBalancer", "elasticloadbalancing:CreateTargetGroup"],
        Resource: "*",
        Condition: tagsOnCreate,
      },
      {
        Sid: "TagOnCreate",
        Effect: "Allow",
        Action: "elasticloadbalancing:AddTags",
        Resource: [...LB_ARNS, ...LISTENER_ARNS],
        Condition: { StringEquals: { "elasticloadbalancing:CreateAction": ["CreateTargetGroup", "CreateLoadBalancer", "CreateListener", "CreateRule"] } },
      },
      {
        Sid: "ManageOwnedLoadBalancers",
        Effect: "Allow",
        Action: [
          "elasticloadbalancing:AddTags", "elasticloadbalancing:RemoveTags",
          "elasticloadbalancing:ModifyLoadBalancerAttributes", "elasticloadbalancing:SetIpAddressType",
          "elasticloadbalancing:SetSecurityGroups", "elasticloadbalancing:SetSubnets", "elasticloadbalancing:DeleteLoadBalancer",
          "elasticloadbalancing:ModifyTargetGroup", "elasticloadbalancing:ModifyTargetGroupAttributes",
          "elasticloadbalancing:DeleteTargetGroup", "elasticloadbalancing:ModifyListenerAttributes",
          "elasticloadbalancing:ModifyCapacityReservation", "elasticloadbalancing:ModifyIpPools",
        ],
        Resource: LB_ARNS,
        Condition: owned,
      },
      // Listeners and rules live under an owned load balancer; their ARNs carry no tag at request time.
      {
        Sid: "ListenersAndRules",
        Effect: "Allow",
        Action: [
          "elasticloadbalancing:CreateListener", "elasticloadbalancing:DeleteListener", "elasticloadbalancing:ModifyListener",
          "elasticloadbalancing:CreateRule", "elasticloadbalancing:DeleteRule", "elasticloadbalancing:ModifyRule",
          "elasticloadbalancing:AddListenerCertificates", "elasticloadbalancing:RemoveListenerCertificates",
        ],
        Resource: "*",
      },
      // WAFv2: attach the web ACL an Ingress names (wafv2-acl-arn) to its ALB, and read what is attached.
      {
        Sid: "Wafv2Association",
        Effect: "Allow",
        Action: ["wafv2:GetWebACL", "wafv2:GetWebACLForResource", "wafv2:AssociateWebACL", "wafv2:DisassociateWebACL"],
        Resource: [WAFV2_REGIONAL_ACL_ARNS, ALB_ARNS],
      },
      { Sid: "SetAlbWebAcl", Effect: "Allow", Action: "elasticloadbalancing:SetWebAcl", Resource: ALB_ARNS },
      {
        Sid: "RegisterPodTargets",
        Effect: "Allow",
        Action: ["elasticloadbalancing:RegisterTargets", "elasticloadbalancing:DeregisterTargets"],
        Resource: "arn:*:elasticloadbalancing:*:*:targetgroup/*/*",
      },
    ],
  };
}

/**
 * `S` is `string` in tests and a Pulumi Input in the component: the ids stay leaves of a known values object, so
 * everything else in it (images, replicas) is known during preview and the policy pack can check it.
 */
export interface LbcValuesArgs<S = string> {
  readonly clusterName: S;
  readonly region: string;
  readonly vpcId: S;
  readonly roleArn: S;
  /** `watchpipe:images`: the registry mirror to pull the controller from. */
  readonly images?: ImageSourceSettings;
}

/** Helm values; every path exists in the chart's values.yaml (clusterName, region, vpcId, serviceAccount, ...). */
export function lbcValues<S = string>(a: LbcValuesArgs<S>) {
  return {
    clusterName: a.clusterName,
    // Region and VPC set explicitly: with IMDS hop limits on nodes the controller cannot discover them itself.
    region: a.region,
    vpcId: a.vpcId,
    replicaCount: LBC_REPLICAS,
    resources: LBC_RESOURCES,
    serviceAccount: { create: true, name: LBC_SERVICE_ACCOUNT, annotations: { "eks.amazonaws.com/role-arn": a.roleArn } },
    podDisruptionBudget: { maxUnavailable: 1 },
    // Shield and WAF Classic are not used; switching them off keeps their permissions out of the IAM policy.
    enableShield: false,
    enableWaf: false,
    // The ingest Ingress attaches a WAFv2 web ACL by annotation; with this off the controller would ignore it.
    enableWafv2: true,
    // A mirror moves the repository only; the tag stays the chart's pin.
    ...(a.images && mirrorRepository(LBC_IMAGE.repository, a.images) !== LBC_IMAGE.repository
      ? { image: { repository: mirrorRepository(LBC_IMAGE.repository, a.images), tag: LBC_IMAGE.tag } }
      : {}),
  };
}
