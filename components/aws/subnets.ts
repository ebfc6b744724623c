import { isIpv4Cidr } from "../../contract/cidr";

/** Most AZs the layout below has room for: private subnets take 6/8 of the VPC, public ones 8 slots in the rest. */
export const MAX_AZS = 6;

export interface SubnetLayout {
  /** One per AZ, prefix + 3 (a /19 in a /16): nodes and pods (VPC CNI gives every pod a VPC address). */
  readonly private: string[];
  /** One per AZ, prefix + 5 (a /21 in a /16): NAT gateways and load balancers only. */
  readonly public: string[];
}

function toAddress(dotted: string): number {
  return dotted.split(".").reduce((acc, o) => acc * 256 + Number(o), 0);
}

function dottedQuad(address: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(address / 2 ** shift) % 256).join(".");
}

/**
 * Split a VPC CIDR into per-AZ private and public subnets. Private subnet i is the i-th eighth of the VPC; public
 * subnets are carved from the last quarter, which private subnets never reach (at most 6 eighths).
 */
export function subnetLayout(vpcCidr: string, azCount: number): SubnetLayout {
  if (!isIpv4Cidr(vpcCidr)) throw new Error(`subnetLayout: vpcCidr must be an IPv4 CIDR like 10.40.0.0/16; got ${JSON.stringify(vpcCidr)}`);
  if (!Number.isInteger(azCount) || azCount < 1 || azCount > MAX_AZS) {
    throw new Error(`subnetLayout: azCount must be an integer from 1 to ${MAX_AZS}; got ${azCount}`);
  }
  const [address, prefixText] = vpcCidr.split("/");
  const prefix = Number(prefixText);
  if (prefix > 22) {
    throw new Error(`subnetLayout: the VPC CIDR ${vpcCidr} is too small; use a /22 or larger (a /16 is the default)`);
  }
  const base = toAddress(address);
  const size = 2 ** (32 - prefix);
  const privateSize = size / 8;
  const publicSize = size / 32;
  const indexes = Array.from({ length: azCount }, (_, i) => i);
  return {
    private: indexes.map((i) => `${dottedQuad(base + i * privateSize)}/${prefix + 3}`),
    public: indexes.map((i) => `${dottedQuad(base + (size * 3) / 4 + i * publicSize)}/${prefix + 5}`),
  };
}
