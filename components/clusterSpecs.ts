/** Pure builders for the cluster component: IAM trust documents and the default StorageClass. */

/** An IRSA trust policy: only `serviceAccount` (system:serviceaccount:<ns>:<name>) may assume the role. */
export function irsaTrustPolicy(oidcProviderArn: string, oidcProviderUrl: string, serviceAccount: string) {
  const issuer = oidcProviderUrl.replace(/^https:\/\//, "");
  return {
    Version: "2012-10-17",
    Statement: [{
      Effect: "Allow",
      Principal: { Federated: oidcProviderArn },
      Action: "sts:AssumeRoleWithWebIdentity",
      Condition: {
        StringEquals: { [`${issuer}:sub`]: serviceAccount, [`${issuer}:aud`]: "sts.amazonaws.com" },
      },
    }],
  };
}

/**
 * The default StorageClass: gp3 on the EBS CSI driver (the in-tree provisioner cannot make gp3), encrypted,
 * WaitForFirstConsumer so a volume is created in the zone its pod was scheduled to, and expandable.
 */
export function gp3StorageClassSpec(name: string, reclaimPolicy: "Retain" | "Delete") {
  return {
    metadata: { name, annotations: { "storageclass.kubernetes.io/is-default-class": "true" } },
    provisioner: "ebs.csi.aws.com",
    parameters: { type: "gp3", encrypted: "true", "csi.storage.k8s.io/fstype": "xfs" },
    reclaimPolicy,
    volumeBindingMode: "WaitForFirstConsumer",
    allowVolumeExpansion: true,
  };
}
