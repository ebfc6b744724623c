/**
 * The whole of `npm run plan` for one stack as one plain object: counts, capacity and headroom, the load plan, the
 * ingest at one and at N heartbeats per POST, the cost lines, per-heartbeat cost and the verdict. `plan` prints it as
 * text or, with `--json`, as it is; both come from this one object so they cannot disagree.
 */
import { type AppConfig, configuredPods } from "../config";
import { INSTANCE_TYPES } from "../contract/instanceTypes";
import { ENI_MAX_PODS } from "../contract/nodeCapacity";
import { ingestNeedsWebAcl } from "../contract/ingest";
import { type DatabasePlan, LOAD_BUDGET, overBudget } from "../contract/loadPlan";
import type { RecordedResource } from "./mockRun";
import {
  type CostLine,
  designHeadroom,
  DESIGN_PEAK_EVENTS_PER_SEC,
  estimateCost,
  eventsPerDayFor,
  ingestCost,
  type IngestCost,
  resourceCounts,
  stackLoadPlan,
  trafficFor,
} from "./planModel";
import { peakLines, peakPlan, type PeakPlan } from "./planPeak";
import { DAYS_PER_MONTH, HOURS_PER_MONTH, NOT_ESTIMATED, pricesFor, PRICES_AS_OF, PRICES_RECORDED_ON, REGION_PRICES, type RegionPrices } from "./prices";
import { describeTally, tallyResources, type ResourceTally } from "./renderObjects";

/** Version of the JSON document's shape: raise it when a field changes meaning or goes away (CI parses it). */
export const PLAN_JSON_VERSION = 1;

export interface PlanOptions {
  /** Heartbeats per POST to compare with one per POST (the --batch flag). */
  readonly batch: number;
  /** Fail (exit 1) when the monthly total is above this, USD (the --max-monthly-usd flag). */
  readonly maxMonthlyUsd?: number | undefined;
}

export interface PlanCost {
  readonly region: string;
  readonly location: string;
  readonly pricesAsOf: string;
  readonly pricesRecordedOn: string;
  readonly hoursPerMonth: number;
  readonly lines: readonly CostLine[];
  readonly total: number;
  readonly unpriced: readonly string[];
  readonly notIncluded: readonly string[];
  /** The load the per-heartbeat figures divide by: the stack's daily volume × days per month. */
  readonly heartbeatsPerDay: number;
  readonly heartbeatsPerMonth: number;
  readonly perHeartbeat: number;
  readonly perMillionHeartbeats: number;
  /** No AWS resources: an existing cluster whose costs this program does not create. */
  readonly existingCluster: boolean;
}

export interface PlanReport {
  readonly version: number;
  readonly stack: string;
  readonly environment: string;
  /** The AWS region, or null on an existing cluster. */
  readonly region: string | null;
  readonly seconds: number;
  readonly counts: { readonly tally: ResourceTally; readonly summary: string; readonly byKind: Readonly<Record<string, number>> };
  readonly capacity: ReturnType<typeof designHeadroom> & {
    readonly designPeakEventsPerSec: number;
    readonly avgEventBytes: number;
    readonly brokers: number;
    readonly replicationFactor: number;
    readonly minInsyncReplicas: number;
  };
  readonly load: {
    readonly peakHeartbeatsPerSec: number;
    readonly replicationFactor: number;
    readonly topics: readonly { readonly topic: string; readonly bytesPerHeartbeat: number; readonly peakBytesPerSec: number; readonly retainedBytes: number }[];
    readonly leaderBytesPerSec: number;
    readonly piecesPerSec: number;
    readonly budget: number;
    readonly resources: readonly { readonly resource: string; readonly used: number; readonly capacity: number; readonly unit: string; readonly utilization: number; readonly overBudget: boolean }[];
    readonly existingCluster: boolean;
  };
  /** YugabyteDB: rows and bytes a day, space at the configured retentions, write rates (contract/loadPlan.ts). */
  readonly database: DatabasePlan & {
    readonly replicationFactor: number;
    readonly tservers: number;
    readonly storageGiB: number;
    readonly pieceRetentionDays: number;
    readonly segmentRetentionDays: number;
    readonly maintenanceEveryMinutes: number;
  };
  readonly ingest: {
    /** Whether the stack has an ALB (EKS), and whether its web ACL exists (internet-facing only). */
    readonly alb: boolean;
    readonly exposure: AppConfig["bridge"]["exposure"];
    readonly webAcl: boolean;
    /** One heartbeat per POST (what the estimate prices), the compared batch size and the gateway's, smallest first. */
    readonly batches: readonly IngestCost[];
    /** The ingest gateway's configured heartbeats per POST (ingest.gateway.maxHeartbeatsPerRequest); null without one. */
    readonly gatewayBatch: number | null;
  };
  /**
   * The ingest gateway's HPA at the peak and the day's average, and the nodes every pod needs at both against the node
   * groups' desired size (tools/planPeak.ts); gateway null without one, nodes null on an existing cluster.
   */
  readonly peak: PeakPlan;
  readonly cost: PlanCost | null;
  readonly verdict: {
    readonly ok: boolean;
    readonly exitCode: number;
    readonly overBudget: readonly string[];
    readonly costUnavailable: string | null;
    readonly maxMonthlyUsd: number | null;
    readonly overMonthlyUsd: boolean;
  };
}

/** The peak's gateway pods and nodes for a stack (config.ts's pods, the node groups' sizes, the region's node price). */
export function stackPeakPlan(config: AppConfig, prices: RegionPrices | undefined): PeakPlan {
  const gw = config.ingest.gateway;
  const c = config.cluster.mode === "eks" ? config.cluster : undefined;
  return peakPlan({
    peakHeartbeatsPerSec: config.capacity.peakEventsPerSec,
    heartbeatsPerDay: eventsPerDayFor(config.capacity),
    gateway: gw ? { heartbeatsPerRequest: gw.maxHeartbeatsPerRequest, minReplicas: gw.minReplicas, maxReplicas: gw.maxReplicas } : undefined,
    podsAt: (replicas) => configuredPods(config, replicas),
    nodes: c
      ? {
          instanceType: c.nodeInstanceType,
          shape: INSTANCE_TYPES[c.nodeInstanceType]!,
          maxPods: ENI_MAX_PODS[c.nodeInstanceType]!,
          azCount: config.network.azCount,
          desiredPerAz: c.nodesPerAz.desired,
          maxPerAz: c.nodesPerAz.max,
          pricePerHour: prices?.ec2PerHour[c.nodeInstanceType],
        }
      : undefined,
  });
}

/** Build the report of one stack from its mock run and validated config. Pure apart from reading the price table. */
export function buildPlanReport(stack: string, run: { readonly resources: readonly RecordedResource[] }, config: AppConfig, seconds: number, options: PlanOptions): PlanReport {
  const h = designHeadroom(config.capacity);
  const load = stackLoadPlan(config);
  const traffic = trafficFor(config, load);
  const eks = config.cluster.mode === "eks";

  let prices: RegionPrices | undefined;
  let costUnavailable: string | null = null;
  try {
    // An existing cluster creates nothing billable here; the table's first region stands in for the (empty) estimate.
    prices = eks ? pricesFor(config.region) : REGION_PRICES["us-east-1"];
  } catch (err) {
    costUnavailable = (err as Error).message;
  }

  // One per POST (what the estimate prices), the compared --batch, and the gateway's configured batch where there is one.
  const gatewayBatch = config.ingest.gateway?.maxHeartbeatsPerRequest;
  const batches = prices
    ? [...new Set([1, options.batch, ...(gatewayBatch === undefined ? [] : [gatewayBatch])])].sort((a, b) => a - b).map((n) => ingestCost(run.resources, traffic, config.capacity.peakEventsPerSec, n, prices))
    : [];
  const peak = stackPeakPlan(config, prices);
  let cost: PlanCost | null = null;
  if (prices) {
    const base = estimateCost(run.resources, traffic, prices);
    const est: { lines: CostLine[]; total: number; unpriced: string[] } = { ...base, lines: [...base.lines] };
    const n = peak.nodes;
    if (peak.gateway && n && n.extraAtPeak > 0 && n.pricePerHour !== null && n.extraMonthlyByHour !== null) {
      // The gateway HPA's extra nodes, for the hours the peak needs them (tools/planPeak.ts: the day assumed).
      const item = `EC2 nodes ${n.instanceType} added at the peak (gateway HPA, ${n.billedHoursPerDay.toFixed(2)} h/day)`;
      est.lines.push({ item, quantity: n.extraNodeHoursPerMonth, unit: "node-hour", unitPrice: n.pricePerHour, monthly: n.extraMonthlyByHour });
      est.total = base.total + n.extraMonthlyByHour;
    }
    const heartbeatsPerDay = eventsPerDayFor(config.capacity);
    const heartbeatsPerMonth = heartbeatsPerDay * DAYS_PER_MONTH;
    cost = {
      region: prices.region,
      location: prices.location,
      pricesAsOf: PRICES_AS_OF,
      pricesRecordedOn: PRICES_RECORDED_ON,
      hoursPerMonth: HOURS_PER_MONTH,
      lines: est.lines,
      total: est.total,
      unpriced: est.unpriced,
      notIncluded: NOT_ESTIMATED,
      heartbeatsPerDay,
      heartbeatsPerMonth,
      perHeartbeat: heartbeatsPerMonth ? est.total / heartbeatsPerMonth : 0,
      perMillionHeartbeats: heartbeatsPerMonth ? (est.total / heartbeatsPerMonth) * 1e6 : 0,
      existingCluster: est.lines.length === 0,
    };
  }

  const over = overBudget(load).map((r) => r.resource);
  const overMonthlyUsd = options.maxMonthlyUsd !== undefined && cost !== null && cost.total > options.maxMonthlyUsd;
  const ok = over.length === 0 && costUnavailable === null && !overMonthlyUsd;
  const tally = tallyResources(run.resources);
  return {
    version: PLAN_JSON_VERSION,
    stack,
    environment: config.environment,
    region: eks ? config.region : null,
    seconds,
    counts: { tally, summary: describeTally(tally), byKind: Object.fromEntries(resourceCounts(run.resources)) },
    capacity: {
      ...h,
      designPeakEventsPerSec: DESIGN_PEAK_EVENTS_PER_SEC,
      avgEventBytes: config.capacity.avgEventBytes,
      brokers: config.kafka.brokers,
      replicationFactor: config.kafka.replicationFactor,
      minInsyncReplicas: config.kafka.minInsyncReplicas,
    },
    database: {
      ...load.database,
      replicationFactor: config.yugabyte.replicationFactor,
      tservers: config.yugabyte.tservers,
      storageGiB: config.yugabyte.storageGiB,
      pieceRetentionDays: config.database.pieceRetentionDays,
      segmentRetentionDays: config.database.segmentRetentionDays,
      maintenanceEveryMinutes: config.database.maintenanceEveryMinutes,
    },
    load: {
      peakHeartbeatsPerSec: config.capacity.peakEventsPerSec,
      replicationFactor: config.kafka.replicationFactor,
      topics: load.topics.map((t) => ({ topic: t.topic, bytesPerHeartbeat: t.bytesPerHeartbeat, peakBytesPerSec: t.peakBytesPerSec, retainedBytes: t.retainedBytes })),
      leaderBytesPerSec: load.leaderBytesPerSec,
      piecesPerSec: load.piecesPerSec,
      budget: LOAD_BUDGET,
      resources: load.resources.map((r) => ({ ...r, overBudget: r.utilization > LOAD_BUDGET })),
      existingCluster: !eks,
    },
    ingest: {
      alb: run.resources.some((r) => r.type === "kubernetes:networking.k8s.io/v1:Ingress"),
      exposure: config.bridge.exposure,
      webAcl: run.resources.some((r) => r.type === "aws:wafv2/webAcl:WebAcl"),
      batches,
      gatewayBatch: gatewayBatch ?? null,
    },
    peak,
    cost,
    verdict: {
      ok,
      exitCode: ok ? 0 : 1,
      overBudget: over,
      costUnavailable,
      maxMonthlyUsd: options.maxMonthlyUsd ?? null,
      overMonthlyUsd,
    },
  };
}

const usd = (n: number, decimals = 2) => `$${n.toLocaleString("en-US", { minimumFractionDigits: decimals, maximumFractionDigits: decimals })}`;
const count = (n: number) => Math.round(n).toLocaleString("en-US");

/** The batch the estimate prices: the gateway's (players batch through it), or one per POST through the bridge. */
const pricedBatch = (gatewayBatch: number | null) => (gatewayBatch === null ? "1 heartbeat per POST (the bridge path)" : `the gateway's ${gatewayBatch} heartbeats per POST`);

/** The ingest table: one column per batch size. */
function ingestLines(r: PlanReport): string[] {
  const { batches, alb, webAcl, exposure, gatewayBatch } = r.ingest;
  if (!alb || batches.length === 0) return [];
  const head = (label: string, cells: string[]) => `  ${label.padEnd(38)} ${cells.map((c) => c.padStart(22)).join(" ")}`;
  const out = [
    `\nIngest at this stack's load (${count(r.load.peakHeartbeatsPerSec)} heartbeats/s peak, ${count(batches[0]!.averageRequestsPerSec)}/s day's average; players batching N heartbeats per POST, docs/ingest.md "Batching")`,
    head("heartbeats per POST", batches.map((b) => `${b.heartbeatsPerRequest === gatewayBatch ? "gateway's " : ""}${b.heartbeatsPerRequest}`)),
    head("requests/s at peak", batches.map((b) => count(b.peakRequestsPerSec))),
    head("requests/s, day's average", batches.map((b) => count(b.averageRequestsPerSec))),
    head("body / request + response bytes", batches.map((b) => `${count(b.bodyBytes)} / ${count(b.bytesPerRequest)}`)),
    head("oldest heartbeat waits in the player", batches.map((b) => `${b.oldestHeartbeatWaitSec} s`)),
    head("ALB LCUs, average (billed dimension)", batches.map((b) => `${b.averageLcu.lcus.toFixed(2)} (${b.averageLcu.dimension})`)),
    head("ALB LCUs at peak", batches.map((b) => b.peakLcu.lcus.toFixed(1))),
    head("ALB LCU cost per month", batches.map((b) => usd(b.albLcuMonthly))),
    head(`WAF request fee per month${webAcl ? "" : " if attached"}`, batches.map((b) => usd(b.wafMonthlyIfAttached))),
  ];
  out.push(
    webAcl
      ? `  The estimate below prices ${pricedBatch(gatewayBatch)}.`
      : `  No web ACL on this ${exposure} ALB, so no WAF fee below; an internet-facing one would add the fee above. The estimate prices ${pricedBatch(gatewayBatch)}.`,
  );
  return out;
}

/** The report as the text `plan` prints, one string per line. */
export function planText(r: PlanReport): string[] {
  const out: string[] = [];
  out.push(`watchpipe plan: stack ${r.stack} (${r.environment}, ${r.region ?? "existing cluster"}) [${r.seconds.toFixed(1)} s]`);
  out.push(`  ${r.counts.summary}\n`);
  out.push("Custom resources by kind (components and providers not listed)");
  const kinds = Object.entries(r.counts.byKind);
  for (const provider of new Set(kinds.map(([k]) => k.split(" ")[0]))) {
    const row = kinds.filter(([k]) => k.startsWith(`${provider} `)).map(([k, n]) => `${k.slice(provider.length + 1)} ${n}`);
    out.push(`  ${provider.padEnd(11)} ${row.join(", ")}`);
  }

  const c = r.capacity;
  out.push(`\nCapacity at the design peak (${c.designPeakEventsPerSec.toLocaleString("en-US")} events/s × ${c.avgEventBytes} B = ${c.designPeakMBps.toFixed(1)} MB/s)`);
  out.push(`  heartbeat topics: ${c.partitions} partitions × ${c.partitionBudgetMBps} MB/s budget = ${(c.partitions * c.partitionBudgetMBps).toFixed(0)} MB/s → headroom ${c.headroom.toFixed(2)}×${c.headroom < 1 ? "  (below the design peak: this stack is sized smaller)" : ""}`);
  out.push(`  this stack's own peak: ${c.stackPeakEventsPerSec.toLocaleString("en-US")} events/s → headroom ${c.stackHeadroom.toFixed(2)}×; brokers ${c.brokers}, RF ${c.replicationFactor}, min ISR ${c.minInsyncReplicas}`);

  const l = r.load;
  out.push(`\nBytes written at this stack's peak (${l.peakHeartbeatsPerSec.toLocaleString("en-US")} heartbeats/s; uncompressed, leader bytes before ×${l.replicationFactor} replication)`);
  for (const t of l.topics) {
    out.push(`  ${t.topic.padEnd(24)} ${t.bytesPerHeartbeat.toFixed(1).padStart(7)} B/heartbeat ${(t.peakBytesPerSec / 1e6).toFixed(2).padStart(7)} MB/s  retained ${(t.retainedBytes / 1e9).toFixed(0).padStart(6)} GB on the brokers`);
  }
  out.push(`  ${"total".padEnd(24)} ${(l.leaderBytesPerSec / l.peakHeartbeatsPerSec).toFixed(1).padStart(7)} B/heartbeat ${(l.leaderBytesPerSec / 1e6).toFixed(2).padStart(7)} MB/s; ${count(l.piecesPerSec)} pieces/s to the sink`);
  const db = r.database;
  out.push(`\nDatabase (YugabyteDB, RF ${db.replicationFactor}, ${db.tservers} tservers × ${db.storageGiB} GiB; row sizes in contract/loadPlan.ts)`);
  out.push(`  per day: ${(db.piecesPerDay / 1e6).toFixed(1)} M pieces + ${(db.segmentsPerDay / 1e6).toFixed(2)} M segments = ${(db.bytesPerDay / 1e9).toFixed(1)} GB (one replica), ${((db.bytesPerDay * db.replicationFactor) / 1e9).toFixed(1)} GB on disk`);
  out.push(`  at retention (pieces ${db.pieceRetentionDays} d, segments ${db.segmentRetentionDays} d): ${(db.retainedBytes / 1e9).toFixed(0)} GB on disk, ${(db.retainedBytes / db.tservers / 2 ** 30).toFixed(0)} GiB per tserver`);
  out.push(`  writes at peak: ${count(db.pieceWritesPerSec)} pieces/s (sink) + ${count(db.segmentWritesPerSec)} segments/s + ≤ ${count(db.rollupWritesPerSec)} rollup rows/s (maintenance job, every ${db.maintenanceEveryMinutes} min: ≤ ${(db.piecesPerRunAtPeak / 1e6).toFixed(1)} M pieces a run)`);
  out.push(`\nResources at this stack's peak (budget ${l.budget * 100} % each; assumptions in contract/loadPlan.ts)`);
  if (l.existingCluster) out.push("  existing cluster: its volumes and nodes are its own; the figures assume gp3 at baseline and the default node type's network");
  for (const x of l.resources) {
    out.push(`  ${x.resource.padEnd(38)} ${x.used.toFixed(1).padStart(9)} of ${x.capacity.toFixed(0).padStart(6)} ${x.unit.padEnd(6)} ${(x.utilization * 100).toFixed(0).padStart(4)} %${x.overBudget ? "  OVER BUDGET" : ""}`);
  }
  const v = r.verdict;
  if (v.overBudget.length > 0) {
    out.push(`  ${v.overBudget.length} resource(s) above ${l.budget * 100} %: ${v.overBudget.join(", ")}. Size them up in Pulumi.${r.stack}.yaml (README "Capacity plan").`);
  }

  out.push(...ingestLines(r));
  out.push(...peakLines(r.peak, r.stack));

  if (!r.cost) {
    out.push(`\nMonthly cost estimate: NOT AVAILABLE: ${v.costUnavailable ?? "no price table"}`);
    return out;
  }
  const k = r.cost;
  out.push(`\nMonthly cost estimate: ${k.region} (${k.location}), on-demand list prices (${k.pricesAsOf}; recorded ${k.pricesRecordedOn}, not re-verified), ${k.hoursPerMonth} h/month`);
  if (k.existingCluster) out.push("  no AWS resources: this stack deploys into an existing cluster whose costs this program does not create");
  for (const line of k.lines) {
    out.push(`  ${line.item.padEnd(58)} ${String(line.quantity).padStart(7)} ${line.unit.padEnd(9)} × ${usd(line.unitPrice, 4).padStart(8)} = ${usd(line.monthly).padStart(11)}`);
  }
  out.push(`  ${"total".padEnd(58)} ${"".padStart(31)} ${usd(k.total).padStart(11)}`);
  for (const u of k.unpriced) out.push(`  UNPRICED: ${u}`);
  if (!k.existingCluster) {
    out.push(
      `  per heartbeat ${usd(k.perHeartbeat, 8)}, per million heartbeats ${usd(k.perMillionHeartbeats)}: the total over ${count(k.heartbeatsPerMonth / 1e6)} M heartbeats/month ` +
        `(${count(k.heartbeatsPerDay / 1e6)} M/day: the design's 300 M/day scaled to this stack's ${l.peakHeartbeatsPerSec.toLocaleString("en-US")}/s peak)`,
    );
  }
  out.push(`  not included: ${k.notIncluded.join("; ")}.`);
  if (v.maxMonthlyUsd !== null) {
    out.push(`  ${v.overMonthlyUsd ? "OVER" : "within"} the monthly limit ${usd(v.maxMonthlyUsd)} (--max-monthly-usd)`);
  }
  return out;
}

/**
 * Whether the batch size is one the ingest can take: WAF's body limit (where the ACL exists), and the lateness bound.
 * Windows are on arrival time and each heartbeat's play time is corrected by its sent_at (V000004), so a batch's wait
 * in the player is not lateness until it passes MAX_LATENESS_SEC, after which the SQL rejects the heartbeat (`late:`).
 */
export function batchProblems(batch: number, config: AppConfig, maxPerBody: number, lateAfterSec: number, heartbeatIntervalSec: number): string[] {
  const problems: string[] = [];
  if (ingestNeedsWebAcl(config.bridge.exposure) && batch > maxPerBody) {
    problems.push(`--batch ${batch}: a POST of ${batch} heartbeats is larger than the web ACL's ingest.waf.maxBodyBytes ${config.ingest.waf.maxBodyBytes} B and would be blocked; expected at most ${maxPerBody}.`);
  }
  if ((batch - 1) * heartbeatIntervalSec >= lateAfterSec) {
    problems.push(`--batch ${batch}: the oldest heartbeat would wait ${(batch - 1) * heartbeatIntervalSec} s in the player, at or past the ${lateAfterSec} s after which the SQL rejects a heartbeat as late; expected at most ${Math.ceil(lateAfterSec / heartbeatIntervalSec)}.`);
  }
  return problems;
}

/** Money with a real minus sign for the cost diff (a removed line is negative). */
const signedUsd = (n: number) => `${n < 0 ? "−" : ""}$${Math.abs(n).toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
const change = (n: number) => (Math.abs(n) < 0.005 ? "" : `${n > 0 ? "+" : ""}${signedUsd(n)}`);

/** The Markdown table of head's cost lines against base's (pure). */
export function planDiffMarkdown(head: PlanReport, base?: PlanReport): string {
  const out = [`### Monthly cost: stack ${head.stack}${base ? "" : " (no base plan to compare)"}`, ""];
  if (!head.cost) return [...out, `No estimate: ${head.verdict.costUnavailable ?? "no price table"}.`].join("\n");
  // Lines match on their item without the parenthesised detail ("EBS gp3 persistent volumes (6 sets)" is the same
  // line as "(7 sets)"); the head's wording is shown.
  const key = (item: string) => item.replace(/\s*\([^)]*\)/g, "");
  const before = new Map((base?.cost?.lines ?? []).map((l) => [key(l.item), l]));
  const after = new Map(head.cost.lines.map((l) => [key(l.item), l]));
  out.push("| Item | Base | Head | Change |", "|---|---:|---:|---:|");
  for (const k of new Set([...after.keys(), ...before.keys()])) {
    const b = before.get(k);
    const a = after.get(k);
    out.push(`| ${(a ?? b)!.item} | ${b === undefined ? "—" : signedUsd(b.monthly)} | ${a === undefined ? "—" : signedUsd(a.monthly)} | ${change((a?.monthly ?? 0) - (b?.monthly ?? 0))} |`);
  }
  const baseTotal = base?.cost?.total;
  out.push(`| **total** | ${baseTotal === undefined ? "—" : signedUsd(baseTotal)} | **${signedUsd(head.cost.total)}** | ${baseTotal === undefined ? "" : change(head.cost.total - baseTotal)} |`);
  out.push("", `Per million heartbeats: ${signedUsd(head.cost.perMillionHeartbeats)} (${Math.round(head.cost.heartbeatsPerDay / 1e6)} M heartbeats/day). Verdict: ${head.verdict.ok ? "ok" : "FAILED"}.`);
  return out.join("\n");
}
