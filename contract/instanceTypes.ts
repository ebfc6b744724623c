/**
 * EC2 instance types this program knows how to size for. Config naming any other type is rejected before anything
 * is created, so a typo (`m7i.2xlarg`) fails `pulumi preview` instead of a node group half an hour into `up`.
 * Add a row here (with its real vCPU and memory) to allow a new type.
 */
export interface InstanceType {
  readonly vcpu: number;
  readonly memoryGiB: number;
  /** Baseline network bandwidth, Gbit/s (AWS's "up to" figures are bursts on a credit; the capacity plan uses this). */
  readonly baselineGbps: number;
}

export const INSTANCE_TYPES: Readonly<Record<string, InstanceType>> = {
  "t3.large": { vcpu: 2, memoryGiB: 8, baselineGbps: 0.512 },
  "t3.xlarge": { vcpu: 4, memoryGiB: 16, baselineGbps: 1.024 },
  "m6i.large": { vcpu: 2, memoryGiB: 8, baselineGbps: 0.781 },
  "m6i.xlarge": { vcpu: 4, memoryGiB: 16, baselineGbps: 1.562 },
  "m6i.2xlarge": { vcpu: 8, memoryGiB: 32, baselineGbps: 3.125 },
  "m7i.large": { vcpu: 2, memoryGiB: 8, baselineGbps: 0.781 },
  "m7i.xlarge": { vcpu: 4, memoryGiB: 16, baselineGbps: 1.562 },
  "m7i.2xlarge": { vcpu: 8, memoryGiB: 32, baselineGbps: 3.125 },
  "m7i.4xlarge": { vcpu: 16, memoryGiB: 64, baselineGbps: 6.25 },
  "r7i.xlarge": { vcpu: 4, memoryGiB: 32, baselineGbps: 1.562 },
  "r7i.2xlarge": { vcpu: 8, memoryGiB: 64, baselineGbps: 3.125 },
};

export function isKnownInstanceType(name: string): boolean {
  return Object.prototype.hasOwnProperty.call(INSTANCE_TYPES, name);
}

/** EBS gp3: throughput and IOPS every volume gets for free, and the most one volume can be provisioned with. */
export const GP3_BASELINE_THROUGHPUT_MIBPS = 125;
export const GP3_MAX_THROUGHPUT_MIBPS = 1000;
export const GP3_BASELINE_IOPS = 3000;
export const GP3_MAX_IOPS = 16000;
/** gp3 allows at most 0.25 MiB/s of throughput per provisioned IOPS. */
export const GP3_MIBPS_PER_IOPS = 0.25;
