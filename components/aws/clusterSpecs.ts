/** Pure builders for the cluster component: the default StorageClass. */

export interface Gp3Performance {
  readonly throughputMiBps: number;
  readonly iops: number;
}

/**
 * The default StorageClass: gp3 on the EBS CSI driver (the in-tree provisioner cannot make gp3), encrypted,
 * WaitForFirstConsumer so a volume is created in the zone its pod was scheduled to, and expandable. Throughput and
 * IOPS are provisioned per volume (the capacity plan, contract/loadPlan.ts, says what the brokers and ksqlDB need).
 */
export function gp3StorageClassSpec(name: string, reclaimPolicy: "Retain" | "Delete", performance: Gp3Performance) {
  return {
    metadata: { name, annotations: { "storageclass.kubernetes.io/is-default-class": "true" } },
    provisioner: "ebs.csi.aws.com",
    parameters: {
      type: "gp3",
      encrypted: "true",
      "csi.storage.k8s.io/fstype": "xfs",
      throughput: String(performance.throughputMiBps),
      iops: String(performance.iops),
    },
    reclaimPolicy,
    volumeBindingMode: "WaitForFirstConsumer",
    allowVolumeExpansion: true,
  };
}
