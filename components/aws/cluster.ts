import * as aws from "@pulumi/aws";
import * as eks from "@pulumi/eks";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { irsaTrustPolicy } from "../../contract/irsa";
import type { EksClusterSettings } from "../../contract/settings";
import { gp3StorageClassSpec } from "./clusterSpecs";

/** Control-plane log types shipped to CloudWatch: all five, audit and authenticator above all. */
export const CONTROL_PLANE_LOG_TYPES = ["api", "audit", "authenticator", "controllerManager", "scheduler"];
/** AL2023 is the supported EKS-optimized AMI family for current Kubernetes versions. */
export const NODE_AMI_TYPE = "AL2023_x86_64_STANDARD";
/** The EKS access policy granting full cluster admin to the configured admin role. */
export const CLUSTER_ADMIN_POLICY_ARN = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy";
/** Name of the default StorageClass every PersistentVolumeClaim of this program uses on EKS. */
export const GP3_STORAGE_CLASS = "gp3";
const EBS_CSI_SERVICE_ACCOUNT = "system:serviceaccount:kube-system:ebs-csi-controller-sa";

/** The cluster settings of the stack (`watchpipe:cluster`, mode eks) plus where the cluster goes. */
export interface EksClusterArgs extends Omit<EksClusterSettings, "mode"> {
  readonly vpcId: pulumi.Input<string>;
  readonly privateSubnetIds: pulumi.Input<string>[];
  readonly tags: Record<string, string>;
}

/**
 * EKS on the private subnets: API authentication with an access entry for the admin role, an OIDC provider for IRSA,
 * KMS envelope encryption of Secrets, control-plane logs, a public endpoint restricted to configured CIDRs plus private
 * access, one managed node group per AZ (IMDSv2 only, hop limit 1), the EBS CSI add-on with its own IRSA role, a
 * default encrypted gp3 StorageClass, and the Kubernetes provider everything downstream uses.
 */
export class EksCluster extends pulumi.ComponentResource {
  readonly clusterName: pulumi.Output<string>;
  readonly kubeconfig: pulumi.Output<string>;
  readonly oidcProviderArn: pulumi.Output<string>;
  readonly oidcProviderUrl: pulumi.Output<string>;
  readonly provider: k8s.Provider;
  readonly storageClassName = GP3_STORAGE_CLASS;

  constructor(name: string, args: EksClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    super("watchpipe:cluster:EksCluster", name, {}, opts);
    const self = { parent: this };
    const tags = (resource: string) => ({ ...args.tags, Name: `${name}-${resource}` });

    const secretsKey = new aws.kms.Key(`${name}-secrets`, {
      description: `Envelope encryption of Kubernetes Secrets for EKS cluster ${name}`,
      enableKeyRotation: true,
      deletionWindowInDays: 30,
      tags: tags("secrets"),
    }, self);
    new aws.kms.Alias(`${name}-secrets`, { name: `alias/${name}-eks-secrets`, targetKeyId: secretsKey.keyId }, self);

    const cluster = new eks.Cluster(`${name}-eks`, {
      vpcId: args.vpcId,
      privateSubnetIds: args.privateSubnetIds,
      version: args.kubernetesVersion,
      authenticationMode: eks.AuthenticationMode.Api,
      accessEntries: {
        admin: {
          principalArn: args.adminRoleArn,
          accessPolicies: {
            clusterAdmin: { policyArn: CLUSTER_ADMIN_POLICY_ARN, accessScope: { type: "cluster" } },
          },
        },
      },
      createOidcProvider: true,
      encryptionConfigKeyArn: secretsKey.arn,
      enabledClusterLogTypes: CONTROL_PLANE_LOG_TYPES,
      endpointPrivateAccess: true,
      endpointPublicAccess: true,
      publicAccessCidrs: args.publicAccessCidrs,
      nodeAssociatePublicIpAddress: false,
      skipDefaultNodeGroup: true,
      tags: tags("eks"),
    }, self);
    this.clusterName = cluster.eksCluster.name;
    this.kubeconfig = pulumi.secret(cluster.kubeconfigJson);
    this.oidcProviderArn = cluster.oidcProviderArn;
    this.oidcProviderUrl = cluster.oidcProviderUrl;

    const nodeRole = new aws.iam.Role(`${name}-nodes`, {
      assumeRolePolicy: JSON.stringify({
        Version: "2012-10-17",
        Statement: [{ Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" }],
      }),
      tags: tags("nodes"),
    }, self);
    const nodePolicies = [
      "arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy",
      "arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy",
      "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly",
      // Session Manager instead of SSH keys for node access.
      "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore",
    ];
    const attachments = nodePolicies.map((policyArn, i) =>
      new aws.iam.RolePolicyAttachment(`${name}-nodes-${i}`, { role: nodeRole.name, policyArn }, self),
    );

    const launchTemplate = new aws.ec2.LaunchTemplate(`${name}-nodes`, {
      description: "EKS managed nodes: IMDSv2 only, hop limit 1 (pods cannot reach node credentials), encrypted root",
      metadataOptions: { httpEndpoint: "enabled", httpTokens: "required", httpPutResponseHopLimit: 1 },
      blockDeviceMappings: [{
        deviceName: "/dev/xvda",
        ebs: { volumeSize: args.nodeDiskGiB, volumeType: "gp3", encrypted: "true", deleteOnTermination: "true" },
      }],
      tagSpecifications: [{ resourceType: "instance", tags: tags("node") }, { resourceType: "volume", tags: tags("node") }],
      tags: tags("nodes"),
    }, self);

    // One group per AZ: an EBS volume lives in one zone, so a pod bound to it must always find a node there.
    const nodeGroups = args.privateSubnetIds.map((subnetId, i) =>
      new aws.eks.NodeGroup(`${name}-nodes-${i}`, {
        clusterName: this.clusterName,
        nodeRoleArn: nodeRole.arn,
        subnetIds: [subnetId],
        instanceTypes: [args.nodeInstanceType],
        amiType: NODE_AMI_TYPE,
        scalingConfig: { minSize: args.nodesPerAz.min, desiredSize: args.nodesPerAz.desired, maxSize: args.nodesPerAz.max },
        updateConfig: { maxUnavailable: 1 },
        launchTemplate: { id: launchTemplate.id, version: pulumi.interpolate`${launchTemplate.latestVersion}` },
        tags: tags(`nodes-${i}`),
      }, { parent: this, dependsOn: attachments }),
    );

    const ebsCsiRole = new aws.iam.Role(`${name}-ebs-csi`, {
      assumeRolePolicy: pulumi
        .all([this.oidcProviderArn, this.oidcProviderUrl])
        .apply(([arn, url]) => JSON.stringify(irsaTrustPolicy(arn, url, EBS_CSI_SERVICE_ACCOUNT))),
      tags: tags("ebs-csi"),
    }, self);
    const ebsCsiPolicy = new aws.iam.RolePolicyAttachment(`${name}-ebs-csi`, {
      role: ebsCsiRole.name,
      policyArn: "arn:aws:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy",
    }, self);
    // AWS's default add-on version for the pinned Kubernetes version: it moves only when kubernetesVersion does.
    const ebsCsiVersion = aws.eks.getAddonVersionOutput({
      addonName: "aws-ebs-csi-driver",
      kubernetesVersion: args.kubernetesVersion,
      mostRecent: false,
    }, self);
    const ebsCsi = new aws.eks.Addon(`${name}-ebs-csi`, {
      clusterName: this.clusterName,
      addonName: "aws-ebs-csi-driver",
      addonVersion: ebsCsiVersion.version,
      serviceAccountRoleArn: ebsCsiRole.arn,
      resolveConflictsOnCreate: "OVERWRITE",
      resolveConflictsOnUpdate: "PRESERVE",
      tags: tags("ebs-csi"),
    }, { parent: this, dependsOn: [ebsCsiPolicy, ...nodeGroups] });

    this.provider = new k8s.Provider(`${name}-k8s`, { kubeconfig: this.kubeconfig }, self);

    new k8s.storage.v1.StorageClass(`${name}-gp3`, gp3StorageClassSpec(GP3_STORAGE_CLASS, args.volumeReclaimPolicy, { throughputMiBps: args.volumeThroughputMiBps, iops: args.volumeIops }), {
      parent: this,
      provider: this.provider,
      dependsOn: [ebsCsi],
    });

    this.registerOutputs({ clusterName: this.clusterName, kubeconfig: this.kubeconfig });
  }
}
