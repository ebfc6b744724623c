/**
 * The price tables behind `npm run plan`'s monthly estimate. AWS public ON-DEMAND LIST prices, USD, Linux, no
 * Savings Plans, Reserved Instances, Spot, free tier, tax or support plan, per region in {@link REGION_PRICES}.
 *
 * Regions: us-east-1 (N. Virginia), us-east-2 (Ohio) and us-west-2 (Oregon). AWS lists the same on-demand price in
 * these three for every item below (EC2 m6i/m7i/r7i/t3, EBS gp3, NAT gateway, ELB, EKS, KMS, public IPv4, inter-AZ
 * transfer), so they share one table. Other regions (eu-west-1 is ~10 % dearer for EC2 and EBS) are refused by the
 * plan rather than priced as us-east-1: add a table here, from the AWS price pages, to support one.
 *
 * Provenance, honestly: these numbers were entered by hand from AWS's published on-demand pricing pages as they
 * stood in 2025 (PRICES_AS_OF). They were NOT re-checked when this file was written (PRICES_RECORDED_ON): the build
 * machine cannot reach AWS. AWS changes prices rarely for these items, but verify them against the AWS Pricing
 * Calculator before using the estimate for a budget. Change a number here, with the date, when you verify it.
 */

/** When the prices below were published by AWS (as far as the person entering them knew). */
export const PRICES_AS_OF = "2025 (AWS public on-demand price pages)";
/** When they were written into this repository (not re-verified against AWS on that day). */
export const PRICES_RECORDED_ON = "2026-11-22";
/** AWS bills monthly figures on 730 hours (8,760 h / 12). */
export const HOURS_PER_MONTH = 730;
/** Days in an average month, for per-day volumes. */
export const DAYS_PER_MONTH = 30.42;

/** EKS control plane, per cluster-hour, Kubernetes versions in standard support (extended support is $0.60). */
export const EKS_CLUSTER_PER_HOUR = 0.1;

/** EC2 on-demand Linux, per instance-hour. Every type in contract/instanceTypes.ts must have a row (tested). */
export const EC2_PER_HOUR: Readonly<Record<string, number>> = {
  "t3.large": 0.0832,
  "t3.xlarge": 0.1664,
  "m6i.large": 0.096,
  "m6i.xlarge": 0.192,
  "m6i.2xlarge": 0.384,
  "m7i.large": 0.1008,
  "m7i.xlarge": 0.2016,
  "m7i.2xlarge": 0.4032,
  "m7i.4xlarge": 0.8064,
  "r7i.xlarge": 0.2646,
  "r7i.2xlarge": 0.5292,
};

/** EBS gp3 storage, per GB-month (3,000 IOPS and 125 MiB/s baseline included). */
export const EBS_GP3_PER_GB_MONTH = 0.08;
/** EBS gp3 provisioned throughput above 125 MiB/s, per MiB/s-month, and IOPS above 3,000, per IOPS-month. */
export const EBS_GP3_PER_MIBPS_MONTH = 0.04;
export const EBS_GP3_PER_IOPS_MONTH = 0.005;
/** NAT gateway, per gateway-hour (data processed, $0.045/GB, depends on egress volume and is not estimated). */
export const NAT_GATEWAY_PER_HOUR = 0.045;
/** Public IPv4 address (Elastic IP, in use or idle), per address-hour. */
export const PUBLIC_IPV4_PER_HOUR = 0.005;
/** KMS customer-managed key, per key-month (requests beyond the free tier are not estimated). */
export const KMS_KEY_PER_MONTH = 1.0;
/** Application Load Balancer, per ALB-hour. */
export const ALB_PER_HOUR = 0.0225;
/** Application Load Balancer capacity units, per LCU-hour (the ALB pricing page, same source and date as above). */
export const ALB_PER_LCU_HOUR = 0.008;
/**
 * What one LCU covers per hour; AWS bills the largest of the four dimensions (ALB pricing page): 25 new connections
 * per second, 3,000 active connections (sampled per minute), 1 GB processed per hour for instance and IP targets
 * (the ingest uses IP targets), 1,000 rule evaluations per second beyond the first 10 rules, which are free.
 */
export const LCU_NEW_CONNECTIONS_PER_SEC = 25;
export const LCU_ACTIVE_CONNECTIONS = 3000;
export const LCU_PROCESSED_GB_PER_HOUR = 1;
export const LCU_RULE_EVALUATIONS_PER_SEC = 1000;
export const ALB_FREE_RULES = 10;
/** Network Load Balancer, per NLB-hour (NLCU charges are not estimated). */
export const NLB_PER_HOUR = 0.0225;
/**
 * AWS WAF (v2): per web ACL-month, per rule-month (a managed rule group counts as one rule; the AWS common rule set
 * has no subscription fee), and per million requests inspected. At the design volume the request fee dominates.
 */
export const WAF_WEB_ACL_PER_MONTH = 5.0;
export const WAF_RULE_PER_MONTH = 1.0;
export const WAF_PER_MILLION_REQUESTS = 0.6;
/** Data between AZs in one region: $0.01/GB out of one AZ plus $0.01/GB into the other. */
export const INTER_AZ_PER_GB = 0.02;
/**
 * S3 Standard storage, per GB-month, first 50 TB of the month (the next 450 TB are $0.022): the backup bucket's class
 * (it has no transition rule). PUT requests ($0.005 per 1,000; one dump a day in a few multipart parts) are not
 * estimated. Same source and date as above.
 */
export const S3_STANDARD_PER_GB_MONTH = 0.023;

/** One region's prices: every number the estimate multiplies by. */
export interface RegionPrices {
  readonly region: string;
  readonly location: string;
  readonly eksClusterPerHour: number;
  readonly ec2PerHour: Readonly<Record<string, number>>;
  readonly ebsGp3PerGbMonth: number;
  readonly ebsGp3PerMiBpsMonth: number;
  readonly ebsGp3PerIopsMonth: number;
  readonly natGatewayPerHour: number;
  readonly publicIpv4PerHour: number;
  readonly kmsKeyPerMonth: number;
  readonly albPerHour: number;
  readonly albPerLcuHour: number;
  readonly nlbPerHour: number;
  readonly interAzPerGb: number;
  readonly s3StandardPerGbMonth: number;
  readonly wafWebAclPerMonth: number;
  readonly wafRulePerMonth: number;
  readonly wafPerMillionRequests: number;
}

const US_EAST_1: RegionPrices = {
  region: "us-east-1",
  location: "US East (N. Virginia)",
  eksClusterPerHour: EKS_CLUSTER_PER_HOUR,
  ec2PerHour: EC2_PER_HOUR,
  ebsGp3PerGbMonth: EBS_GP3_PER_GB_MONTH,
  ebsGp3PerMiBpsMonth: EBS_GP3_PER_MIBPS_MONTH,
  ebsGp3PerIopsMonth: EBS_GP3_PER_IOPS_MONTH,
  natGatewayPerHour: NAT_GATEWAY_PER_HOUR,
  publicIpv4PerHour: PUBLIC_IPV4_PER_HOUR,
  kmsKeyPerMonth: KMS_KEY_PER_MONTH,
  albPerHour: ALB_PER_HOUR,
  albPerLcuHour: ALB_PER_LCU_HOUR,
  nlbPerHour: NLB_PER_HOUR,
  interAzPerGb: INTER_AZ_PER_GB,
  s3StandardPerGbMonth: S3_STANDARD_PER_GB_MONTH,
  wafWebAclPerMonth: WAF_WEB_ACL_PER_MONTH,
  wafRulePerMonth: WAF_RULE_PER_MONTH,
  wafPerMillionRequests: WAF_PER_MILLION_REQUESTS,
};

/** The regions the plan prices. The three US regions share the us-east-1 list prices (see the file comment). */
export const REGION_PRICES: Readonly<Record<string, RegionPrices>> = {
  "us-east-1": US_EAST_1,
  "us-east-2": { ...US_EAST_1, region: "us-east-2", location: "US East (Ohio)" },
  "us-west-2": { ...US_EAST_1, region: "us-west-2", location: "US West (Oregon)" },
};

/** The price table of a region, or an error naming the regions that have one. */
export function pricesFor(region: string): RegionPrices {
  const prices = REGION_PRICES[region];
  if (prices) return prices;
  throw new Error(
    `no price table for region ${region}: tools/prices.ts carries on-demand list prices for ${Object.keys(REGION_PRICES).join(", ")} only ` +
      `(${PRICES_AS_OF}), and pricing ${region} as one of them would be wrong. Add a ${region} table to REGION_PRICES from the AWS price pages to estimate it.`,
  );
}

/** What the estimate leaves out, printed under it. */
export const NOT_ESTIMATED = [
  "NAT gateway data processing and internet egress",
  "CloudWatch Logs ingestion/storage (control-plane and VPC flow logs), WAF logging (not configured), KMS requests, S3 requests",
  "Kafka producer and consumer traffic across AZs (brokers have rack-aware follower fetching; clients without client.rack still cross), ALB traffic across AZs to bridge pods, EBS snapshots, ECR storage, the backup job's scratch volume (exists only while the job runs)",
  "Savings Plans / Reserved Instances discounts, tax, AWS support plan",
];
