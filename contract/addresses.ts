/**
 * Address and naming rules for the AWS side of the configuration. Pure: config.ts applies them before any resource
 * exists, components/aws/subnets.ts carves subnets under the same bound.
 */
import { isIpv4Cidr } from "./cidr";

export { isIpv4Cidr };

/**
 * Longest VPC prefix the subnet layout accepts: private subnets are an eighth of the VPC (prefix + 3) and public ones
 * a thirty-second (prefix + 5); a /22 gives /25 private subnets (123 usable addresses, and every pod takes one under
 * the VPC CNI) and /27 public ones. components/subnets.ts refuses anything smaller with the same bound (tested).
 */
export const MAX_VPC_PREFIX = 22;

/** RFC 1918 private ranges: a VPC elsewhere would shadow real internet addresses (8.8.0.0/16 is Google's DNS). */
export const PRIVATE_RANGES = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"] as const;

function toRange(cidr: string): [start: number, end: number] {
  const [address, prefix] = cidr.split("/");
  const start = address.split(".").reduce((acc, o) => acc * 256 + Number(o), 0);
  return [start, start + 2 ** (32 - Number(prefix)) - 1];
}

/** True when the whole CIDR lies inside one RFC 1918 range. Expects a valid CIDR ({@link isIpv4Cidr}). */
export function isPrivateCidr(cidr: string): boolean {
  const [start, end] = toRange(cidr);
  return PRIVATE_RANGES.some((r) => {
    const [rs, re] = toRange(r);
    return start >= rs && end <= re;
  });
}

/**
 * Shortest prefix allowed for the public API endpoint's allow list. A /8 is 16 M addresses; anything broader (up to
 * 0.0.0.0/0, the whole internet) is not an allow list. The policy pack refuses 0.0.0.0/0 too, but only under the CLI.
 */
export const MIN_PUBLIC_ACCESS_PREFIX = 8;

/**
 * AWS region codes: `<area>-<direction>-<n>` with an optional partition infix (us-gov-west-1, cn-north-1,
 * eu-central-2, ap-southeast-5). Catches `us-east1` and `us-east-1a` (an AZ, not a region).
 */
export const AWS_REGION = /^(us|eu|ap|sa|ca|me|af|il|mx|cn)(-gov|-iso|-isob)?-(north|south|east|west|central|northeast|northwest|southeast|southwest)-[1-9]$/;
