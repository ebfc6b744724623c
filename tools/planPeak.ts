/**
 * What the stack runs at its peak beyond what it runs all day, and what those extra nodes cost: the ingest gateway's
 * HPA pods at the peak and at the day's average (contract/ingestGateway.ts), every configured pod packed into the
 * stack's instance type per AZ at both (contract/nodeCapacity.ts, the packing config.ts checks node room with), and
 * the node-hours above the node groups' desired size. Pure: planReport.ts passes in the pods (config.ts
 * configuredPods) and the price, tests table-drive it.
 *
 * The day's shape. Nothing in the repository describes a daily curve (contract/loadPlan.ts and the docs give a daily
 * volume, 300 M heartbeats/day at full scale, and a peak, 100,000/s). Those two bound the peak: the whole day's
 * volume at the peak rate lasts volume / peak = 3,000 s = 0.83 h, and any longer plateau would be more than a day's
 * heartbeats. The plan assumes that shape, a flat-top peak of {@link peakHoursPerDay} hours with the rest of the day
 * at the day's average or below (where the HPA sits at or near its floor), and charges the peak's extra nodes for it
 * plus {@link NODE_SCALE_IN_LAG_SEC} while they drain. It also prints what the same nodes cost all day: the upper
 * bound, and what raising the node groups' desired size instead of autoscaling nodes would cost.
 */
import { gatewayAtRate, gatewayHeartbeatsPerCpuSec, GATEWAY_POD_CPU_REQUEST, GATEWAY_SCALE_DOWN_STABILIZATION_SEC, GATEWAY_TARGET_CPU_SHARE, type GatewayAtRate } from "../contract/ingestGateway";
import { nodesPerAz, type NodeShape, type NodesPerAz, type PodGroup } from "../contract/nodeCapacity";
import { DAYS_PER_MONTH, HOURS_PER_MONTH } from "./prices";

const SECONDS_PER_DAY = 86_400;
/**
 * How long a node added for the peak lives after it: the gateway HPA's scale-in stabilization (300 s) and the
 * Kubernetes cluster-autoscaler's default `--scale-down-unneeded-time` (10 min) before an empty node is removed.
 */
export const CLUSTER_AUTOSCALER_UNNEEDED_SEC = 600;
export const NODE_SCALE_IN_LAG_SEC = GATEWAY_SCALE_DOWN_STABILIZATION_SEC + CLUSTER_AUTOSCALER_UNNEEDED_SEC;

/** Hours a day the stack runs at its peak: the whole day's volume at the peak rate (the longest the peak can last). */
export function peakHoursPerDay(heartbeatsPerDay: number, peakHeartbeatsPerSec: number): number {
  return Math.min(24, heartbeatsPerDay / peakHeartbeatsPerSec / 3600);
}

export interface GatewayScaleInputs {
  /** Heartbeats per POST the gateway is configured for (ingest.gateway.maxHeartbeatsPerRequest). */
  readonly heartbeatsPerRequest: number;
  readonly minReplicas: number;
  readonly maxReplicas: number;
}

export interface GatewayScale extends GatewayScaleInputs {
  /** Measured heartbeats per CPU-second at the configured batch size, and one pod's share at the HPA's target. */
  readonly heartbeatsPerCpuSec: number;
  readonly podCpuRequest: number;
  readonly atPeak: GatewayAtRate;
  readonly atAverage: GatewayAtRate;
  /** The peak if players send one heartbeat per POST (what today's players send), when the batch is larger. */
  readonly unbatchedAtPeak: GatewayAtRate | null;
}

export interface PeakNodeInputs {
  readonly peakHeartbeatsPerSec: number;
  readonly heartbeatsPerDay: number;
  /** Undefined: no ingest gateway, the Kafka Bridge (fixed replicas) is the players' path. */
  readonly gateway: GatewayScaleInputs | undefined;
  /** Every pod the stack runs, with the gateway at `gatewayReplicas` (config.ts configuredPods). */
  readonly podsAt: (gatewayReplicas: number | undefined) => readonly PodGroup[];
  /** The EKS node groups; undefined on an existing cluster (its nodes are its own). */
  readonly nodes:
    | {
        readonly instanceType: string;
        readonly shape: NodeShape;
        readonly maxPods: number;
        readonly azCount: number;
        readonly desiredPerAz: number;
        readonly maxPerAz: number;
        /** On-demand price per node-hour; undefined when the price table has none. */
        readonly pricePerHour: number | undefined;
      }
    | undefined;
}

export interface PeakNodes {
  readonly instanceType: string;
  readonly azCount: number;
  readonly desiredPerAz: number;
  readonly maxPerAz: number;
  readonly desired: number;
  /** Nodes the pods need with the gateway at the day's average and at the peak. */
  readonly atAverage: NodesPerAz;
  readonly atPeak: NodesPerAz;
  /** Nodes above the desired size at the peak, summed over the AZs (each AZ has its own node group). */
  readonly extraAtPeak: number;
  /** Of those, the ones needed at the day's average already (the desired size is too small even off-peak): all day. */
  readonly extraAllDay: number;
  /** The rest: needed only while the peak lasts. */
  readonly extraPeakOnly: number;
  /** AZs (0-based) whose node group would have to grow past its max size at the peak. */
  readonly azsOverMax: readonly number[];
  readonly peakHoursPerDay: number;
  readonly scaleInLagHours: number;
  /** Hours a day each extra node runs: the peak plus the scale-in lag. */
  readonly billedHoursPerDay: number;
  readonly pricePerHour: number | null;
  /** Node-hours a month above the desired size (peak-only nodes for the billed hours, all-day ones all day). */
  readonly extraNodeHoursPerMonth: number;
  /**
   * Per month: the peak-only nodes for {@link billedHoursPerDay} hours a day plus the all-day ones all day; and every
   * extra node all day (the upper bound, and what raising the desired size instead of autoscaling nodes costs).
   */
  readonly extraMonthlyByHour: number | null;
  readonly extraMonthlyAllDay: number | null;
}

export interface PeakPlan {
  readonly peakHeartbeatsPerSec: number;
  /** The day's average: daily volume / 86,400 s (the same average the plan prices ALB LCUs at). */
  readonly averageHeartbeatsPerSec: number;
  readonly gateway: GatewayScale | null;
  readonly nodes: PeakNodes | null;
}

/** The gateway's pods at the peak and at the day's average, capped by its HPA bounds. */
export function gatewayScale(peakHeartbeatsPerSec: number, averageHeartbeatsPerSec: number, g: GatewayScaleInputs): GatewayScale {
  const at = (rate: number, batch: number) => gatewayAtRate(rate, batch, g.minReplicas, g.maxReplicas);
  return {
    ...g,
    heartbeatsPerCpuSec: gatewayHeartbeatsPerCpuSec(g.heartbeatsPerRequest),
    podCpuRequest: GATEWAY_POD_CPU_REQUEST,
    atPeak: at(peakHeartbeatsPerSec, g.heartbeatsPerRequest),
    atAverage: at(averageHeartbeatsPerSec, g.heartbeatsPerRequest),
    unbatchedAtPeak: g.heartbeatsPerRequest === 1 ? null : at(peakHeartbeatsPerSec, 1),
  };
}

/** The peak's pods and nodes for one stack (see the file comment for the day's shape). */
export function peakPlan(i: PeakNodeInputs): PeakPlan {
  const averageHeartbeatsPerSec = i.heartbeatsPerDay / SECONDS_PER_DAY;
  const gateway = i.gateway ? gatewayScale(i.peakHeartbeatsPerSec, averageHeartbeatsPerSec, i.gateway) : null;
  let nodes: PeakNodes | null = null;
  if (i.nodes) {
    const n = i.nodes;
    const pack = (replicas: number | undefined) => nodesPerAz({ shape: n.shape, maxPods: n.maxPods, azCount: n.azCount, pods: i.podsAt(replicas) });
    const atAverage = pack(gateway?.atAverage.pods);
    const atPeak = pack(gateway?.atPeak.pods);
    const sum = (f: (az: number) => number) => atPeak.perAz.reduce((s, _k, az) => s + f(az), 0);
    const extraAtPeak = sum((az) => Math.max(0, atPeak.perAz[az]! - n.desiredPerAz));
    const extraAllDay = sum((az) => Math.max(0, Math.min(atAverage.perAz[az]!, atPeak.perAz[az]!) - n.desiredPerAz));
    const extraPeakOnly = extraAtPeak - extraAllDay;
    const hours = peakHoursPerDay(i.heartbeatsPerDay, i.peakHeartbeatsPerSec);
    const lag = NODE_SCALE_IN_LAG_SEC / 3600;
    const billedHoursPerDay = Math.min(24, hours + lag);
    const price = n.pricePerHour;
    // Whole node-hours to a tenth, as the cost line prints and prices them.
    const nodeHours = Number((extraPeakOnly * billedHoursPerDay * DAYS_PER_MONTH + extraAllDay * HOURS_PER_MONTH).toFixed(1));
    nodes = {
      instanceType: n.instanceType,
      azCount: n.azCount,
      desiredPerAz: n.desiredPerAz,
      maxPerAz: n.maxPerAz,
      desired: n.desiredPerAz * n.azCount,
      atAverage,
      atPeak,
      extraAtPeak,
      extraAllDay,
      extraPeakOnly,
      azsOverMax: atPeak.perAz.flatMap((k, az) => (k > n.maxPerAz ? [az] : [])),
      peakHoursPerDay: hours,
      scaleInLagHours: lag,
      billedHoursPerDay,
      pricePerHour: price ?? null,
      extraNodeHoursPerMonth: nodeHours,
      extraMonthlyByHour: price === undefined ? null : nodeHours * price,
      extraMonthlyAllDay: price === undefined ? null : extraAtPeak * HOURS_PER_MONTH * price,
    };
  }
  return { peakHeartbeatsPerSec: i.peakHeartbeatsPerSec, averageHeartbeatsPerSec, gateway, nodes };
}

const count = (n: number) => Math.round(n).toLocaleString("en-US");
const usd = (n: number, decimals = 2) => `$${n.toLocaleString("en-US", { minimumFractionDigits: decimals, maximumFractionDigits: decimals })}`;
const pct = (share: number) => `${(share * 100).toFixed(0)} %`;
const hours = (h: number) => `${h.toFixed(2)} h`;

/** One HPA line: the pods wanted at a rate, what runs, and the warning when the ceiling is below the need. */
function rateLine(label: string, g: GatewayScale, at: GatewayAtRate, batch: number): string {
  const perCpu = gatewayHeartbeatsPerCpuSec(batch);
  const exact = at.heartbeatsPerSec / (perCpu * g.podCpuRequest * GATEWAY_TARGET_CPU_SHARE);
  const need = `${count(at.heartbeatsPerSec)}/s at ${batch}/POST: ${count(at.heartbeatsPerSec)} / (${count(perCpu)} × ${g.podCpuRequest} CPU × 50 %) = ${exact.toFixed(1)} → ${at.podsNeeded} pod${at.podsNeeded === 1 ? "" : "s"} needed`;
  const runs = at.capped
    ? `; CEILING BELOW THE NEED: maxReplicas ${g.maxReplicas} runs at ${pct(at.cpuShare)} of the CPU requests (HPA target 50 %); raise ingest.gateway.maxReplicas to ${at.podsNeeded} (with node room) or batch more per POST`
    : at.pods > at.podsNeeded
      ? `; runs ${at.pods} (the floor, minReplicas ${g.minReplicas}) at ${pct(at.cpuShare)} CPU`
      : `; runs ${at.pods} at ${pct(at.cpuShare)} CPU`;
  return `  ${label.padEnd(24)} ${need}${runs}`;
}

/** The peak section of `npm run plan`'s text, one string per line. */
export function peakLines(p: PeakPlan, stack: string): string[] {
  const g = p.gateway;
  if (!g) {
    return ["\nPeak scaling: no ingest gateway (watchpipe:ingest.gateway unset): the players' path is the Kafka Bridge at its fixed replicas; no HPA adds pods or nodes at the peak, so no node cost beyond the desired size."];
  }
  const out = [
    `\nIngest gateway at the peak (HPA ${g.minReplicas}..${g.maxReplicas} pods of ${g.podCpuRequest} CPU at 50 %; ${count(g.heartbeatsPerCpuSec)} heartbeats per CPU-second at the configured ${g.heartbeatsPerRequest}/POST, bench:ingest)`,
    rateLine("at the peak", g, g.atPeak, g.heartbeatsPerRequest),
    rateLine("at the day's average", g, g.atAverage, g.heartbeatsPerRequest),
  ];
  if (g.unbatchedAtPeak) out.push(rateLine("peak, players unbatched", g, g.unbatchedAtPeak, 1));
  out.push(
    `  the day's average is the daily volume / 86,400 s (${count(p.averageHeartbeatsPerSec)}/s, 1/${(p.peakHeartbeatsPerSec / p.averageHeartbeatsPerSec).toFixed(0)} of the peak): the design gives a daily volume and a peak, no curve, so the off-peak pods are sized at the average (the ALB's LCUs are priced at it too)`,
  );
  const n = p.nodes;
  if (!n) {
    out.push(`  existing cluster: its nodes are its own; the peak's ${g.atPeak.pods} gateway pods request ${(g.atPeak.pods * g.podCpuRequest).toFixed(1)} vCPU`);
    return out;
  }
  const azs = (x: NodesPerAz) => `${x.perAz.join(" + ")} = ${x.total} nodes`;
  out.push(
    `Nodes at the peak (${n.instanceType}, ${n.azCount} AZs; every pod config.ts checks node room for, the gateway at ${g.atPeak.pods} instead of its ceiling ${g.maxReplicas}, packed per AZ)`,
    `  at the day's average (gateway ${g.atAverage.pods} pods): ${azs(n.atAverage)}; desired size ${n.desiredPerAz} per AZ = ${n.desired}${n.extraAllDay ? `: ${n.extraAllDay} SHORT even off-peak` : ""}`,
    `  at the peak (gateway ${g.atPeak.pods} pods):        ${azs(n.atPeak)}: ${n.extraAtPeak} above the desired size${n.azsOverMax.length ? `; ABOVE THE MAX SIZE ${n.maxPerAz} in ${n.azsOverMax.length} AZ(s): pods stay Pending, raise cluster.nodesPerAz.max` : ` (max ${n.maxPerAz} per AZ)`}`,
  );
  for (const u of n.atPeak.unplaceable) out.push(`  UNPLACEABLE: ${u}: larger than one ${n.instanceType}'s allocatable`);
  if (n.extraAtPeak === 0) {
    out.push(`  the desired ${n.desired} nodes hold the peak: no extra node cost`);
    return out;
  }
  out.push(
    `  the day assumed: its ${count((p.averageHeartbeatsPerSec * 86_400) / 1e6)} M heartbeats at the ${count(p.peakHeartbeatsPerSec)}/s peak last ${hours(n.peakHoursPerDay)} (no daily curve in contract/loadPlan.ts or the docs; a longer peak would exceed the daily volume), then ${hours(n.scaleInLagHours)} while the nodes drain (HPA ${GATEWAY_SCALE_DOWN_STABILIZATION_SEC} s + cluster-autoscaler ${CLUSTER_AUTOSCALER_UNNEEDED_SEC} s)`,
  );
  if (n.pricePerHour !== null && n.extraMonthlyByHour !== null && n.extraMonthlyAllDay !== null) {
    const parts = [`${n.extraPeakOnly} × ${hours(n.billedHoursPerDay)}/day × ${DAYS_PER_MONTH} days`, ...(n.extraAllDay ? [`${n.extraAllDay} × ${HOURS_PER_MONTH} h`] : [])];
    out.push(
      `  extra nodes: ${parts.join(" + ")} = ${n.extraNodeHoursPerMonth} node-hours × ${usd(n.pricePerHour, 4)} = ${usd(n.extraMonthlyByHour)}/month (in the estimate below); all day: ${usd(n.extraMonthlyAllDay)}/month (the upper bound, and what raising cluster.nodesPerAz.desired instead costs)`,
    );
  } else {
    out.push(`  extra nodes: ${n.extraAtPeak} × ${n.instanceType}, UNPRICED (no price in tools/prices.ts)`);
  }
  out.push(
    `  NOTE: the program installs no node autoscaler (cluster-autoscaler or Karpenter): the node groups stay at their desired size, so at the peak the gateway pods beyond it stay Pending until one is installed or cluster.nodesPerAz.desired in Pulumi.${stack}.yaml is raised`,
  );
  return out;
}
