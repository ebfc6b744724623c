/**
 * The numbers behind `npm run plan`: resource counts, partition headroom at the design peak, and a monthly cost
 * estimate, all computed from what the program registers under mocks (so new components are counted and priced
 * without a list to update) and the stack's validated config. Pure: tools/plan.ts prints, tests check the math.
 */
import { type AppConfig, DEFAULT_PEAK_EVENTS_PER_SEC } from "../config";
import { partitionPlan } from "../contract/capacity";
import { isObject, k8sType } from "../contract/resourceChecks";
import type { RecordedResource } from "./mockRun";
import { unwrapSecret } from "./renderObjects";
import { DAYS_PER_MONTH, HOURS_PER_MONTH, REGION_PRICES, type RegionPrices } from "./prices";

/** The product's design peak, heartbeats per second (the config default is that number). */
export const DESIGN_PEAK_EVENTS_PER_SEC = DEFAULT_PEAK_EVENTS_PER_SEC;
/** The product's design daily volume: ~300 M heartbeats/day at full scale. */
export const DESIGN_EVENTS_PER_DAY = 300_000_000;
/**
 * Kafka writes per heartbeat that are replicated across AZs: the raw JSON record and the validated Avro record
 * (segments and rejects are far fewer and ignored). Each write is copied to RF - 1 brokers in other zones.
 */
export const REPLICATED_WRITES_PER_EVENT = 2;

type Json = Record<string, unknown>;

/** `aws:ec2/subnet:Subnet` → "aws Subnet"; `kubernetes:kafka.strimzi.io/v1:KafkaTopic` → "kubernetes KafkaTopic". */
export function kindOf(type: string): string {
  const [pkg, , kind] = type.split(":");
  return `${pkg} ${kind ?? type}`;
}

/** Counts of custom (cloud or cluster) resources by provider and kind, largest first; components are not counted. */
export function resourceCounts(resources: readonly RecordedResource[]): [string, number][] {
  const counts = new Map<string, number>();
  for (const r of resources) {
    if (!r.custom || r.type.startsWith("pulumi:providers:")) continue;
    counts.set(kindOf(r.type), (counts.get(kindOf(r.type)) ?? 0) + 1);
  }
  return [...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
}

export interface Headroom {
  readonly partitions: number;
  readonly partitionBudgetMBps: number;
  readonly designPeakMBps: number;
  /** Partition capacity at budget over the design peak: >= 1 means the stack's topics take the design peak. */
  readonly headroom: number;
  /** The stack's own configured peak and its headroom (what the stack is sized for). */
  readonly stackPeakEventsPerSec: number;
  readonly stackHeadroom: number;
}

/** Headroom of the stack's heartbeat topics (as the program sizes them) at the 100,000 events/s design peak. */
export function designHeadroom(capacity: AppConfig["capacity"]): Headroom {
  const stackPlan = partitionPlan(capacity);
  const designPeakMBps = (DESIGN_PEAK_EVENTS_PER_SEC * capacity.avgEventBytes) / 1e6;
  return {
    partitions: stackPlan.partitions,
    partitionBudgetMBps: capacity.partitionBudgetMBps,
    designPeakMBps,
    headroom: (stackPlan.partitions * capacity.partitionBudgetMBps) / designPeakMBps,
    stackPeakEventsPerSec: capacity.peakEventsPerSec,
    stackHeadroom: stackPlan.headroom,
  };
}

export interface CostLine {
  readonly item: string;
  readonly quantity: number;
  readonly unit: string;
  readonly unitPrice: number;
  readonly monthly: number;
}

export interface CostEstimate {
  readonly lines: CostLine[];
  readonly total: number;
  /** Things found that the table cannot price (an instance type without a price, …). */
  readonly unpriced: string[];
}

const hourly = (item: string, quantity: number, unit: string, perHour: number): CostLine => ({
  item, quantity, unit, unitPrice: perHour, monthly: quantity * perHour * HOURS_PER_MONTH,
});
const monthlyLine = (item: string, quantity: number, unit: string, perMonth: number): CostLine => ({
  item, quantity, unit, unitPrice: perMonth, monthly: quantity * perMonth,
});

/** "2500Gi" → 2500 × 1.074 GB; "20G" → 20; numbers are bytes. AWS bills EBS per GiB-month as "GB-month". */
export function gibOf(size: unknown): number {
  if (typeof size === "number") return size / 2 ** 30;
  const m = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|K|M|G|T)?$/.exec(String(size ?? "").trim());
  if (!m) return 0;
  const factor: Record<string, number> = { Ki: 2 ** -20, Mi: 2 ** -10, Gi: 1, Ti: 1024, K: 1e3 / 2 ** 30, M: 1e6 / 2 ** 30, G: 1e9 / 2 ** 30, T: 1e12 / 2 ** 30 };
  return Number(m[1]) * (m[2] ? factor[m[2]] : 1 / 2 ** 30);
}

const obj = (v: unknown): Json => (isObject(v) ? v : {});
const num = (v: unknown, fallback = 0): number => (typeof v === "number" ? v : Number.isFinite(Number(v)) && v !== "" && v !== undefined ? Number(v) : fallback);

/** Persistent volume GiB one Kubernetes object asks for (Strimzi node pools, StatefulSets, PVCs, YugabyteDB chart). */
export function volumeGiB(resource: RecordedResource): { gib: number; what: string } | undefined {
  const t = k8sType(resource.type);
  if (!t) return undefined;
  const inputs = resource.inputs as Json;
  const spec = obj(inputs.spec);
  const name = String(obj(inputs.metadata).name ?? resource.name);
  if (t.kind === "KafkaNodePool") {
    const storage = obj(spec.storage);
    const volumes = storage.type === "jbod" ? (Array.isArray(storage.volumes) ? storage.volumes.map(obj) : []) : [storage];
    const perNode = volumes.filter((v) => v.type === "persistent-claim").reduce((sum, v) => sum + gibOf(v.size), 0);
    return { gib: perNode * num(spec.replicas), what: `Kafka node pool ${name}: ${num(spec.replicas)} × ${perNode.toFixed(0)} GiB` };
  }
  if (t.kind === "StatefulSet") {
    const templates = Array.isArray(spec.volumeClaimTemplates) ? spec.volumeClaimTemplates.map(obj) : [];
    const perPod = templates.reduce((sum, c) => sum + gibOf(obj(obj(obj(c.spec).resources).requests).storage), 0);
    return perPod ? { gib: perPod * num(spec.replicas, 1), what: `StatefulSet ${name}: ${num(spec.replicas, 1)} × ${perPod.toFixed(0)} GiB` } : undefined;
  }
  if (t.kind === "PersistentVolumeClaim") {
    const gib = gibOf(obj(obj(spec.resources).requests).storage);
    return { gib, what: `PVC ${name}` };
  }
  if (resource.type === "kubernetes:helm.sh/v3:Release" && String(inputs.chart ?? "").endsWith("yugabyte")) {
    // The YugabyteDB chart: storage.{master,tserver}.{count,size} per pod, replicas.{master,tserver} pods.
    const inner = obj(unwrapSecret(inputs.values));
    const storage = obj(inner.storage);
    const replicas = obj(inner.replicas);
    const gib = ["master", "tserver"].reduce((sum, role) => {
      const s = obj(storage[role]);
      return sum + num(replicas[role], 1) * num(s.count, 1) * gibOf(s.size);
    }, 0);
    return { gib, what: `YugabyteDB release ${String(inputs.name ?? resource.name)}` };
  }
  return undefined;
}

export interface TrafficAssumption {
  readonly eventsPerDay: number;
  readonly avgEventBytes: number;
  readonly replicationFactor: number;
}

/** GB per month copied between AZs by Kafka replication. */
export function interAzGbPerMonth(t: TrafficAssumption): number {
  return (t.eventsPerDay * t.avgEventBytes * REPLICATED_WRITES_PER_EVENT * (t.replicationFactor - 1) * DAYS_PER_MONTH) / 1e9;
}

/** Daily heartbeats for a stack: the design's 300 M/day scaled by the stack's peak relative to the design peak. */
export function eventsPerDayFor(capacity: AppConfig["capacity"]): number {
  return Math.round(DESIGN_EVENTS_PER_DAY * (capacity.peakEventsPerSec / DESIGN_PEAK_EVENTS_PER_SEC));
}

/**
 * Monthly cost of what the program creates in AWS. Kubernetes volumes count only on clusters this program runs in
 * AWS (an `eks:index:Cluster` exists): on an existing cluster nothing here is billed by this program.
 */
export function estimateCost(resources: readonly RecordedResource[], traffic: TrafficAssumption, prices: RegionPrices = REGION_PRICES["us-east-1"]): CostEstimate {
  const lines: CostLine[] = [];
  const unpriced: string[] = [];
  const byUrn = new Map(resources.map((r) => [r.urn, r]));
  const ofType = (type: string) => resources.filter((r) => r.type === type);
  const onAws = ofType("eks:index:Cluster").length + ofType("aws:eks/cluster:Cluster").length > 0;

  const clusters = ofType("eks:index:Cluster").length || ofType("aws:eks/cluster:Cluster").length;
  if (clusters) lines.push(hourly("EKS control plane", clusters, "cluster", prices.eksClusterPerHour));

  const nodes = new Map<string, number>();
  let rootGiB = 0;
  for (const group of ofType("aws:eks/nodeGroup:NodeGroup")) {
    const count = num(obj(group.inputs.scalingConfig).desiredSize);
    const type = String((group.inputs.instanceTypes as unknown[] | undefined)?.[0] ?? "unknown");
    nodes.set(type, (nodes.get(type) ?? 0) + count);
    const template = (group.propertyDependencies.launchTemplate ?? []).map((u) => byUrn.get(u)).find((r) => r?.type === "aws:ec2/launchTemplate:LaunchTemplate");
    const disk = template ? (template.inputs.blockDeviceMappings as Json[] | undefined)?.reduce((s, m) => s + num(obj(m.ebs).volumeSize), 0) ?? 0 : 0;
    rootGiB += disk * count;
  }
  for (const [type, count] of nodes) {
    const price = prices.ec2PerHour[type];
    if (price === undefined) unpriced.push(`${count} × ${type} nodes: no ${prices.region} price in tools/prices.ts`);
    else lines.push(hourly(`EC2 nodes ${type} (desired size)`, count, "instance", price));
  }
  if (rootGiB) lines.push(monthlyLine("EBS gp3 node root volumes", rootGiB, "GB-month", prices.ebsGp3PerGbMonth));

  if (onAws) {
    const volumes = resources.map(volumeGiB).filter((v): v is { gib: number; what: string } => v !== undefined && v.gib > 0);
    const total = volumes.reduce((s, v) => s + v.gib, 0);
    if (total) lines.push(monthlyLine(`EBS gp3 persistent volumes (${volumes.length} sets)`, Math.round(total), "GB-month", prices.ebsGp3PerGbMonth));
    const k8s = resources.filter((r) => k8sType(r.type));
    const albs = k8s.filter((r) => k8sType(r.type)?.kind === "Ingress").length;
    if (albs) lines.push(hourly("Application Load Balancers (Ingress)", albs, "ALB", prices.albPerHour));
    const nlbs = k8s.filter((r) => k8sType(r.type)?.kind === "Service" && obj(r.inputs.spec).type === "LoadBalancer").length;
    if (nlbs) lines.push(hourly("Network Load Balancers (Service type LoadBalancer)", nlbs, "NLB", prices.nlbPerHour));
    const gb = interAzGbPerMonth(traffic);
    lines.push(monthlyLine(`Kafka replication between AZs (${(traffic.eventsPerDay / 1e6).toFixed(0)} M events/day)`, Math.round(gb), "GB", prices.interAzPerGb));
  }

  const nats = ofType("aws:ec2/natGateway:NatGateway").length;
  if (nats) lines.push(hourly("NAT gateways (hourly)", nats, "gateway", prices.natGatewayPerHour));
  const ips = ofType("aws:ec2/eip:Eip").length;
  if (ips) lines.push(hourly("Public IPv4 (Elastic IPs)", ips, "address", prices.publicIpv4PerHour));
  const acls = ofType("aws:wafv2/webAcl:WebAcl");
  if (acls.length) {
    lines.push(monthlyLine("WAFv2 web ACLs", acls.length, "web ACL", prices.wafWebAclPerMonth));
    const rules = acls.reduce((n, a) => n + (Array.isArray(a.inputs.rules) ? a.inputs.rules.length : 0), 0);
    if (rules) lines.push(monthlyLine("WAFv2 rules (a managed rule group is one)", rules, "rule", prices.wafRulePerMonth));
    // Every heartbeat is one HTTP request through the ALB and its web ACL (one record per POST).
    const millions = Math.round((traffic.eventsPerDay * DAYS_PER_MONTH) / 1e6);
    if (millions) lines.push(monthlyLine(`WAFv2 requests inspected (${(traffic.eventsPerDay / 1e6).toFixed(0)} M heartbeats/day)`, millions, "M requests", prices.wafPerMillionRequests));
  }
  const keys = ofType("aws:kms/key:Key").length;
  if (keys) lines.push(monthlyLine("KMS keys", keys, "key", prices.kmsKeyPerMonth));

  return { lines, total: lines.reduce((s, l) => s + l.monthly, 0), unpriced };
}

/** The traffic assumption for a stack: scaled design volume, its event size, the durability RF. */
export function trafficFor(config: AppConfig): TrafficAssumption {
  return { eventsPerDay: eventsPerDayFor(config.capacity), avgEventBytes: config.capacity.avgEventBytes, replicationFactor: config.kafka.replicationFactor };
}
