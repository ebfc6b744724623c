/**
 * EC2 instance types this program knows how to size for. Config naming any other type is rejected before anything
 * is created, so a typo (`m7i.2xlarg`) fails `pulumi preview` instead of a node group half an hour into `up`.
 * Add a row here (with its real vCPU and memory) to allow a new type.
 */
export interface InstanceType {
  readonly vcpu: number;
  readonly memoryGiB: number;
}

export const INSTANCE_TYPES: Readonly<Record<string, InstanceType>> = {
  "t3.large": { vcpu: 2, memoryGiB: 8 },
  "t3.xlarge": { vcpu: 4, memoryGiB: 16 },
  "m6i.large": { vcpu: 2, memoryGiB: 8 },
  "m6i.xlarge": { vcpu: 4, memoryGiB: 16 },
  "m6i.2xlarge": { vcpu: 8, memoryGiB: 32 },
  "m7i.large": { vcpu: 2, memoryGiB: 8 },
  "m7i.xlarge": { vcpu: 4, memoryGiB: 16 },
  "m7i.2xlarge": { vcpu: 8, memoryGiB: 32 },
  "m7i.4xlarge": { vcpu: 16, memoryGiB: 64 },
  "r7i.xlarge": { vcpu: 4, memoryGiB: 32 },
  "r7i.2xlarge": { vcpu: 8, memoryGiB: 64 },
};

export function isKnownInstanceType(name: string): boolean {
  return Object.prototype.hasOwnProperty.call(INSTANCE_TYPES, name);
}
