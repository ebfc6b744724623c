/**
 * The numbers behind `npm run plan`: resource counts, partition headroom at the design peak, and a monthly cost
 * estimate, all computed from what the program registers under mocks (so new components are counted and priced
 * without a list to update) and the stack's validated config. Pure: tools/plan.ts prints, tests check the math.
 */
import { type AppConfig, DEFAULT_NODE_INSTANCE_TYPE, DEFAULT_PEAK_EVENTS_PER_SEC } from "../config";
import { partitionPlan } from "../contract/capacity";
import { GP3_BASELINE_IOPS, GP3_BASELINE_THROUGHPUT_MIBPS, INSTANCE_TYPES } from "../contract/instanceTypes";
import {
  DESIGN_REJECT_SHARE,
  KAFKA_DEFAULT_RETENTION_HOURS,
  loadPlan,
  type LoadPlan,
  type LoadPlanInputs,
  SESSION_KEY_BYTES,
  SINK_CONNECT_CPU_US_PER_ROW,
  SINK_UPSERTS_PER_TASK_PER_SEC,
  standbyCopies,
} from "../contract/loadPlan";
import { cpuMillis } from "../contract/nodeCapacity";
import { PIECE_WINDOW_SEC, WINDOW_CHANGELOG_ADDITIONAL_RETENTION_MS, WINDOW_RETENTION_SEC } from "../contract/sessionization";
import { HEARTBEAT_INTERVAL_SEC } from "../contract/topics";
import { isObject, k8sType } from "../contract/resourceChecks";
import type { RecordedResource } from "./mockRun";
import { unwrapSecret } from "./renderObjects";
import { DAYS_PER_MONTH, HOURS_PER_MONTH, REGION_PRICES, type RegionPrices } from "./prices";

/** The product's design peak, heartbeats per second (the config default is that number). */
export const DESIGN_PEAK_EVENTS_PER_SEC = DEFAULT_PEAK_EVENTS_PER_SEC;
/** The product's design daily volume: ~300 M heartbeats/day at full scale. */
export const DESIGN_EVENTS_PER_DAY = 300_000_000;

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
export function volumeGiB(resource: RecordedResource): { gib: number; volumes: number; what: string } | undefined {
  const t = k8sType(resource.type);
  if (!t) return undefined;
  const inputs = resource.inputs as Json;
  const spec = obj(inputs.spec);
  const name = String(obj(inputs.metadata).name ?? resource.name);
  if (t.kind === "KafkaNodePool") {
    const storage = obj(spec.storage);
    const volumes = storage.type === "jbod" ? (Array.isArray(storage.volumes) ? storage.volumes.map(obj) : []) : [storage];
    const claims = volumes.filter((v) => v.type === "persistent-claim");
    const perNode = claims.reduce((sum, v) => sum + gibOf(v.size), 0);
    return { gib: perNode * num(spec.replicas), volumes: claims.length * num(spec.replicas), what: `Kafka node pool ${name}: ${num(spec.replicas)} × ${perNode.toFixed(0)} GiB` };
  }
  if (t.kind === "StatefulSet") {
    const templates = Array.isArray(spec.volumeClaimTemplates) ? spec.volumeClaimTemplates.map(obj) : [];
    const perPod = templates.reduce((sum, c) => sum + gibOf(obj(obj(obj(c.spec).resources).requests).storage), 0);
    return perPod ? { gib: perPod * num(spec.replicas, 1), volumes: templates.length * num(spec.replicas, 1), what: `StatefulSet ${name}: ${num(spec.replicas, 1)} × ${perPod.toFixed(0)} GiB` } : undefined;
  }
  if (t.kind === "PersistentVolumeClaim") {
    const gib = gibOf(obj(obj(spec.resources).requests).storage);
    return { gib, volumes: 1, what: `PVC ${name}` };
  }
  if (resource.type === "kubernetes:helm.sh/v3:Release" && String(inputs.chart ?? "").endsWith("yugabyte")) {
    // The YugabyteDB chart: storage.{master,tserver}.{count,size} per pod, replicas.{master,tserver} pods.
    const inner = obj(unwrapSecret(inputs.values));
    const storage = obj(inner.storage);
    const replicas = obj(inner.replicas);
    const roles = ["master", "tserver"].map((role) => ({ s: obj(storage[role]), pods: num(replicas[role], 1) }));
    const gib = roles.reduce((sum, { s, pods }) => sum + pods * num(s.count, 1) * gibOf(s.size), 0);
    const count = roles.reduce((sum, { s, pods }) => sum + pods * num(s.count, 1), 0);
    return { gib, volumes: count, what: `YugabyteDB release ${String(inputs.name ?? resource.name)}` };
  }
  return undefined;
}

export interface TrafficAssumption {
  readonly eventsPerDay: number;
  /** Bytes the Kafka leaders take per day over every topic the pipeline writes (contract/loadPlan.ts). */
  readonly leaderBytesPerDay: number;
  readonly replicationFactor: number;
}

/** GB per month copied between AZs by Kafka replication: every leader byte goes to RF - 1 brokers in other zones. */
export function interAzGbPerMonth(t: TrafficAssumption): number {
  return (t.leaderBytesPerDay * (t.replicationFactor - 1) * DAYS_PER_MONTH) / 1e9;
}

/** gp3 throughput and IOPS of the default StorageClass the program registers (gp3 baseline without one). */
export function gp3Performance(resources: readonly RecordedResource[]): { throughputMiBps: number; iops: number } {
  const sc = resources.find((r) => k8sType(r.type)?.kind === "StorageClass");
  const params = obj(sc ? (sc.inputs as Json).parameters : undefined);
  return { throughputMiBps: num(params.throughput, GP3_BASELINE_THROUGHPUT_MIBPS), iops: num(params.iops, GP3_BASELINE_IOPS) };
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
    const volumes = resources.map(volumeGiB).filter((v): v is NonNullable<ReturnType<typeof volumeGiB>> => v !== undefined && v.gib > 0);
    const total = volumes.reduce((s, v) => s + v.gib, 0);
    if (total) lines.push(monthlyLine(`EBS gp3 persistent volumes (${volumes.length} sets)`, Math.round(total), "GB-month", prices.ebsGp3PerGbMonth));
    const count = volumes.reduce((s, v) => s + v.volumes, 0);
    const perf = gp3Performance(resources);
    const extraMiBps = count * (perf.throughputMiBps - GP3_BASELINE_THROUGHPUT_MIBPS);
    const extraIops = count * (perf.iops - GP3_BASELINE_IOPS);
    if (extraMiBps > 0) lines.push(monthlyLine(`EBS gp3 throughput above ${GP3_BASELINE_THROUGHPUT_MIBPS} MiB/s (${count} volumes)`, extraMiBps, "MiB/s-month", prices.ebsGp3PerMiBpsMonth));
    if (extraIops > 0) lines.push(monthlyLine(`EBS gp3 IOPS above ${GP3_BASELINE_IOPS.toLocaleString("en-US")} (${count} volumes)`, extraIops, "IOPS-month", prices.ebsGp3PerIopsMonth));
    const k8s = resources.filter((r) => k8sType(r.type));
    const albs = k8s.filter((r) => k8sType(r.type)?.kind === "Ingress").length;
    if (albs) lines.push(hourly("Application Load Balancers (Ingress)", albs, "ALB", prices.albPerHour));
    const nlbs = k8s.filter((r) => k8sType(r.type)?.kind === "Service" && obj(r.inputs.spec).type === "LoadBalancer").length;
    if (nlbs) lines.push(hourly("Network Load Balancers (Service type LoadBalancer)", nlbs, "NLB", prices.nlbPerHour));
    const gb = interAzGbPerMonth(traffic);
    lines.push(monthlyLine(`Kafka replication between AZs (every topic, ${(traffic.eventsPerDay / 1e6).toFixed(0)} M events/day)`, Math.round(gb), "GB", prices.interAzPerGb));
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

/**
 * The traffic assumption for a stack: scaled design volume, every topic's bytes (its load plan, passed in when the
 * caller already has it), the durability RF.
 */
export function trafficFor(config: AppConfig, load: LoadPlan = stackLoadPlan(config)): TrafficAssumption {
  return { eventsPerDay: eventsPerDayFor(config.capacity), leaderBytesPerDay: load.leaderBytesPerDay, replicationFactor: config.kafka.replicationFactor };
}

/**
 * The load plan's inputs for a stack at its own peak (capacity.peakEventsPerSec): the sizes and gp3 performance it
 * configures (the StorageClass carries the same numbers; an existing cluster's volumes are unknown, gp3 baseline is
 * assumed), the node type's baseline network.
 */
export function loadInputsFor(config: AppConfig): LoadPlanInputs {
  const eksCluster = config.cluster.mode === "eks" ? config.cluster : undefined;
  const perf = { throughputMiBps: eksCluster?.volumeThroughputMiBps ?? GP3_BASELINE_THROUGHPUT_MIBPS, iops: eksCluster?.volumeIops ?? GP3_BASELINE_IOPS };
  const nodeType = eksCluster?.nodeInstanceType ?? DEFAULT_NODE_INSTANCE_TYPE;
  const k = config.kafka;
  return {
    peakHeartbeatsPerSec: config.capacity.peakEventsPerSec,
    heartbeatsPerDay: eventsPerDayFor(config.capacity),
    rawEventBytes: config.capacity.avgEventBytes,
    rejectShare: DESIGN_REJECT_SHARE,
    replicationFactor: k.replicationFactor,
    brokers: k.brokers,
    brokerVolume: { sizeGiB: k.brokerStorageGiB, ...perf },
    brokerNetworkMBps: (INSTANCE_TYPES[nodeType]!.baselineGbps * 1e9) / 8 / 1e6,
    retentionHours: { ...k.retentionHours, ksqlCreated: KAFKA_DEFAULT_RETENTION_HOURS },
    session: {
      heartbeatIntervalSec: HEARTBEAT_INTERVAL_SEC,
      windowSec: PIECE_WINDOW_SEC,
      retentionSec: WINDOW_RETENTION_SEC,
      changelogExtraRetentionSec: WINDOW_CHANGELOG_ADDITIONAL_RETENTION_MS / 1000,
      sessionKeyBytes: SESSION_KEY_BYTES,
    },
    ksqldb: { replicas: config.ksqldb.replicas, standbys: standbyCopies(config.ksqldb.replicas), volume: { sizeGiB: config.ksqldb.storageGiB, ...perf } },
    sink: {
      tasks: config.connect.tasksMax,
      upsertsPerTaskPerSec: SINK_UPSERTS_PER_TASK_PER_SEC,
      sourcePartitions: partitionPlan(config.capacity).partitions,
      workers: config.connect.replicas,
      // Config validation accepts only Kubernetes quantities, which cpuMillis reads.
      cpuPerWorker: (cpuMillis(config.connect.resources.cpu) ?? 0) / 1000,
      cpuUsPerRow: SINK_CONNECT_CPU_US_PER_ROW,
    },
    database: {
      pieceRetentionDays: config.database.pieceRetentionDays,
      segmentRetentionDays: config.database.segmentRetentionDays,
      maintenanceEveryMinutes: config.database.maintenanceEveryMinutes,
      replicationFactor: config.yugabyte.replicationFactor,
      tservers: config.yugabyte.tservers,
      storageGiB: config.yugabyte.storageGiB,
    },
  };
}

export function stackLoadPlan(config: AppConfig): LoadPlan {
  return loadPlan(loadInputsFor(config));
}
