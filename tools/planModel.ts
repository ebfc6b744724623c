/**
 * The numbers behind `npm run plan`: resource counts, partition headroom at the design peak, and a monthly cost
 * estimate, all computed from what the program registers under mocks (so new components are counted and priced
 * without a list to update) and the stack's validated config. Pure: tools/plan.ts prints, tests check the math.
 */
import { type AppConfig, DEFAULT_AVG_EVENT_BYTES, DEFAULT_NODE_INSTANCE_TYPE, DEFAULT_PEAK_EVENTS_PER_SEC } from "../config";
import { partitionPlan, WINDOW_POINT_CHARS } from "../contract/capacity";
import { GP3_BASELINE_IOPS, GP3_BASELINE_THROUGHPUT_MIBPS, INSTANCE_TYPES } from "../contract/instanceTypes";
import { ALB_JWT_VALIDATION, ingestRequests, type IngestRequests } from "../contract/ingest";
import {
  BACKUP_DUMP_BYTES_PER_PIECE,
  BACKUP_PLAN_HISTORY_DAYS,
  DESIGN_REJECT_SHARE,
  KAFKA_DEFAULT_RETENTION_HOURS,
  KSQLDB_HEARTBEATS_PER_CORE_SEC,
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
import {
  ALB_FREE_RULES,
  DAYS_PER_MONTH,
  HOURS_PER_MONTH,
  LCU_ACTIVE_CONNECTIONS,
  LCU_NEW_CONNECTIONS_PER_SEC,
  LCU_PROCESSED_GB_PER_HOUR,
  LCU_RULE_EVALUATIONS_PER_SEC,
  REGION_PRICES,
  type RegionPrices,
} from "./prices";

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
/** The value at a path of nested objects, undefined where one is missing. */
const at = (v: unknown, ...path: string[]): unknown => path.reduce<unknown>((cur, key) => (isObject(cur) ? cur[key] : undefined), v);
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
  if (resource.type === "kubernetes:helm.sh/v3:Release" && String(inputs.chart ?? "").endsWith("kube-prometheus-stack")) {
    // The monitoring install: Prometheus and Alertmanager volume claim templates (× their replicas, the chart's
    // default 1), Grafana's persistence when enabled.
    const inner = obj(unwrapSecret(inputs.values));
    const claim = (storage: unknown) => gibOf(at(storage, "volumeClaimTemplate", "spec", "resources", "requests", "storage"));
    const prom = obj(obj(inner.prometheus).prometheusSpec);
    const am = obj(obj(inner.alertmanager).alertmanagerSpec);
    const grafana = obj(obj(inner.grafana).persistence);
    const parts = [
      { gib: claim(prom.storageSpec), pods: num(prom.replicas, 1) },
      { gib: claim(am.storage), pods: num(am.replicas, 1) },
      { gib: grafana.enabled === true ? gibOf(grafana.size) : 0, pods: 1 },
    ].filter((p) => p.gib > 0);
    const gib = parts.reduce((sum, p) => sum + p.gib * p.pods, 0);
    return gib ? { gib, volumes: parts.reduce((n, p) => n + p.pods, 0), what: `monitoring release ${String(inputs.name ?? resource.name)}: Prometheus, Alertmanager, Grafana` } : undefined;
  }
  return undefined;
}

export interface TrafficAssumption {
  readonly eventsPerDay: number;
  /** Bytes the Kafka leaders take per day over every topic the pipeline writes (contract/loadPlan.ts). */
  readonly leaderBytesPerDay: number;
  readonly replicationFactor: number;
  /** One heartbeat's JSON, bytes (capacity.avgEventBytes); defaults to {@link DEFAULT_EVENT_BYTES}. */
  readonly eventBytes?: number;
  /** Heartbeats per POST the estimate prices (1: one record per request, today's players). */
  readonly heartbeatsPerRequest?: number;
  /** Pieces the database gains per day (the load plan's piecesPerDay), for the backup storage line. */
  readonly piecesPerDay?: number;
}

/** The heartbeat size the estimate assumes when a traffic assumption names none (the config default). */
export const DEFAULT_EVENT_BYTES = DEFAULT_AVG_EVENT_BYTES;
const SECONDS_PER_DAY = 86_400;

/** GB per month copied between AZs by Kafka replication: every leader byte goes to RF - 1 brokers in other zones. */
export function interAzGbPerMonth(t: TrafficAssumption): number {
  return (t.leaderBytesPerDay * (t.replicationFactor - 1) * DAYS_PER_MONTH) / 1e9;
}

/** The four LCU dimensions at one request rate, each in LCUs, and the billed one (the largest). */
export interface LcuEstimate {
  readonly newConnections: number;
  readonly activeConnections: number;
  readonly processedBytes: number;
  readonly ruleEvaluations: number;
  readonly lcus: number;
  readonly dimension: string;
}

/** LCUs of one ALB carrying these requests; `rules` is the listener rules a request is evaluated against. */
export function albLcus(req: IngestRequests, rules: number): LcuEstimate {
  const dims = {
    "new connections": req.newConnectionsPerSec / LCU_NEW_CONNECTIONS_PER_SEC,
    "active connections": req.activeConnections / LCU_ACTIVE_CONNECTIONS,
    "processed bytes": (req.processedBytesPerSec * 3600) / 1e9 / LCU_PROCESSED_GB_PER_HOUR,
    "rule evaluations": (req.requestsPerSec * Math.max(0, rules - ALB_FREE_RULES)) / LCU_RULE_EVALUATIONS_PER_SEC,
  };
  const [dimension, lcus] = Object.entries(dims).sort((a, b) => b[1] - a[1])[0]!;
  return { newConnections: dims["new connections"], activeConnections: dims["active connections"], processedBytes: dims["processed bytes"], ruleEvaluations: dims["rule evaluations"], lcus, dimension };
}

/** What the ingest costs at one batch size: requests, the WAF's request fee and the ALB's LCUs, per month. */
export interface IngestCost {
  readonly heartbeatsPerRequest: number;
  /** At the stack's configured peak, and averaged over the day (the daily volume / 86,400 s). */
  readonly peakRequestsPerSec: number;
  readonly averageRequestsPerSec: number;
  readonly bodyBytes: number;
  readonly bytesPerRequest: number;
  readonly oldestHeartbeatWaitSec: number;
  readonly wafMillionRequestsPerMonth: number;
  /** The WAF request fee; 0 where the stack has no web ACL. */
  readonly wafMonthly: number;
  /** The WAF request fee the same traffic would cost behind a web ACL (an internet-facing ALB). */
  readonly wafMonthlyIfAttached: number;
  /** LCUs at the day's average rate (billed hourly; busier hours cost more) and at the stack's peak. */
  readonly averageLcu: LcuEstimate;
  readonly peakLcu: LcuEstimate;
  readonly albLcuMonthly: number;
}

/** The ALB Ingresses of a run: their count, listener rules, and whether any validates tokens (bigger requests). */
export function ingestAlbs(resources: readonly RecordedResource[]): { albs: number; rules: number; withToken: boolean } {
  const ingresses = resources.filter((r) => k8sType(r.type)?.kind === "Ingress");
  const rules = ingresses.reduce((n, r) => n + (Array.isArray(at(r.inputs, "spec", "rules")) ? (at(r.inputs, "spec", "rules") as unknown[]).map((rule) => at(rule, "http", "paths")).flat().length : 0), 0);
  const withToken = ingresses.some((r) => at(r.inputs, "metadata", "annotations", ALB_JWT_VALIDATION) !== undefined);
  return { albs: ingresses.length, rules, withToken };
}

/** The ingest's cost at `heartbeatsPerRequest` for a stack's run, daily volume and peak. */
export function ingestCost(resources: readonly RecordedResource[], traffic: TrafficAssumption, peakHeartbeatsPerSec: number, heartbeatsPerRequest: number, prices: RegionPrices): IngestCost {
  const { albs, rules, withToken } = ingestAlbs(resources);
  const base = { heartbeatsPerRequest, eventBytes: traffic.eventBytes ?? DEFAULT_EVENT_BYTES, withToken };
  const average = ingestRequests({ ...base, heartbeatsPerSec: traffic.eventsPerDay / SECONDS_PER_DAY });
  const peak = ingestRequests({ ...base, heartbeatsPerSec: peakHeartbeatsPerSec });
  // Whole millions of requests and LCUs to two decimals, as the cost lines print and price them.
  const millions = Math.round((traffic.eventsPerDay * DAYS_PER_MONTH) / 1e6 / heartbeatsPerRequest);
  const wafMonthlyIfAttached = millions * prices.wafPerMillionRequests;
  const hasAcl = resources.some((r) => r.type === "aws:wafv2/webAcl:WebAcl");
  const averageLcu = albLcus(average, rules);
  return {
    heartbeatsPerRequest,
    peakRequestsPerSec: peak.requestsPerSec,
    averageRequestsPerSec: average.requestsPerSec,
    bodyBytes: average.bodyBytes,
    bytesPerRequest: average.bytesPerRequest,
    oldestHeartbeatWaitSec: average.oldestHeartbeatWaitSec,
    wafMillionRequestsPerMonth: millions,
    wafMonthly: hasAcl ? wafMonthlyIfAttached : 0,
    wafMonthlyIfAttached,
    averageLcu,
    peakLcu: albLcus(peak, rules),
    albLcuMonthly: Number((albs * averageLcu.lcus).toFixed(2)) * HOURS_PER_MONTH * prices.albPerLcuHour,
  };
}

/** Days a backup stays in the bucket: until its expiration, then as a noncurrent version (the bucket's lifecycle). */
export function backupKeptDays(resources: readonly RecordedResource[]): number | undefined {
  const lifecycle = resources.find((r) => r.type === "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration");
  if (!lifecycle) return undefined;
  const rules = Array.isArray(lifecycle.inputs.rules) ? lifecycle.inputs.rules.map(obj) : [];
  const expire = rules.map((r) => num(at(r, "expiration", "days"), 0)).find((d) => d > 0);
  if (expire === undefined) return undefined;
  const noncurrent = rules.map((r) => num(at(r, "noncurrentVersionExpiration", "noncurrentDays"), 0)).find((d) => d > 0) ?? 0;
  return expire + noncurrent;
}

/** GB the backup bucket holds: every kept daily dump, each the whole table after {@link BACKUP_PLAN_HISTORY_DAYS}. */
export function backupStoredGb(piecesPerDay: number, keptDays: number): number {
  return (piecesPerDay * BACKUP_PLAN_HISTORY_DAYS * BACKUP_DUMP_BYTES_PER_PIECE * keptDays) / 1e9;
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
  const batch = traffic.heartbeatsPerRequest ?? 1;
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
    if (albs) {
      lines.push(hourly("Application Load Balancers (Ingress)", albs, "ALB", prices.albPerHour));
      const { averageLcu, albLcuMonthly } = ingestCost(resources, traffic, traffic.eventsPerDay / SECONDS_PER_DAY, batch, prices);
      if (albLcuMonthly > 0) lines.push(hourly(`ALB LCUs (${averageLcu.dimension}, day's average, ${batch}/POST)`, Number((albs * averageLcu.lcus).toFixed(2)), "LCU", prices.albPerLcuHour));
    }
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
    // Every POST through the ALB is one request the web ACL inspects: a heartbeat each at one record per POST.
    const millions = ingestCost(resources, traffic, traffic.eventsPerDay / SECONDS_PER_DAY, batch, prices).wafMillionRequestsPerMonth;
    if (millions) lines.push(monthlyLine(`WAFv2 requests inspected (${(traffic.eventsPerDay / 1e6).toFixed(0)} M heartbeats/day, ${batch}/POST)`, millions, "M requests", prices.wafPerMillionRequests));
  }
  const keptDays = backupKeptDays(resources);
  if (keptDays !== undefined && traffic.piecesPerDay) {
    const gb = backupStoredGb(traffic.piecesPerDay, keptDays);
    lines.push(monthlyLine(`S3 backups (${keptDays} daily dumps kept, table after ${BACKUP_PLAN_HISTORY_DAYS} days)`, Math.round(gb), "GB-month", prices.s3StandardPerGbMonth));
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
  return {
    eventsPerDay: eventsPerDayFor(config.capacity),
    leaderBytesPerDay: load.leaderBytesPerDay,
    replicationFactor: config.kafka.replicationFactor,
    eventBytes: config.capacity.avgEventBytes,
    // Players batch up to the gateway's limit where it is the players' path; through the bridge, one per POST.
    heartbeatsPerRequest: config.ingest.gateway?.maxHeartbeatsPerRequest ?? 1,
    piecesPerDay: load.piecesPerDay,
  };
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
      // V000006: 60 s windows hopping by the 30 s step, 50-character points.
      windowSec: 2 * PIECE_WINDOW_SEC,
      hopSec: PIECE_WINDOW_SEC,
      pointChars: WINDOW_POINT_CHARS,
      retentionSec: WINDOW_RETENTION_SEC,
      changelogExtraRetentionSec: WINDOW_CHANGELOG_ADDITIONAL_RETENTION_MS / 1000,
      sessionKeyBytes: SESSION_KEY_BYTES,
    },
    ksqldb: {
      replicas: config.ksqldb.replicas,
      standbys: standbyCopies(config.ksqldb.replicas),
      volume: { sizeGiB: config.ksqldb.storageGiB, ...perf },
      // Config validation accepts only Kubernetes quantities, which cpuMillis reads.
      cpuPerServer: (cpuMillis(config.ksqldb.resources.cpu) ?? 0) / 1000,
      heartbeatsPerCoreSec: KSQLDB_HEARTBEATS_PER_CORE_SEC,
    },
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
