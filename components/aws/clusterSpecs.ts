/** Pure builders for the cluster component: the default StorageClass. */

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
