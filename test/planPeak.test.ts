/**
 * `npm run plan` at the peak: the ingest gateway's HPA pods at the peak and the day's average (and the warning when
 * its ceiling is below the need), every pod packed per AZ with the packing config.ts checks node room with, the
 * extra node-hours above the node groups' desired size and their cost, the report's lines for stacks with and
 * without the gateway, and `--set`, which plans a stack with the gateway without editing Pulumi.<stack>.yaml.
 */
import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { beforeAll, describe, expect, it } from "vitest";
import { configuredPods } from "../config";
import {
  DEFAULT_GATEWAY_MAX_REPLICAS,
  GATEWAY_HEARTBEATS_PER_CPU_SEC,
  GATEWAY_UNBATCHED_HEARTBEATS_PER_CPU_SEC,
  gatewayAtRate,
  gatewayHeartbeatsPerCpuSec,
  gatewayPodsFor,
} from "../contract/ingestGateway";
import { INSTANCE_TYPES } from "../contract/instanceTypes";
import { ENI_MAX_PODS, nodeAllocatable, nodesPerAz, type PodGroup } from "../contract/nodeCapacity";
import { configOverrides, parseSet } from "../tools/configSet";
import { EXAMPLE_GATEWAY_IMAGE, GATEWAY_SETS, stackConfigWith } from "./gatewayStack";
import type { RecordedResource } from "../tools/mockRun";
import { NODE_SCALE_IN_LAG_SEC, peakHoursPerDay, peakLines, peakPlan, type PeakNodeInputs } from "../tools/planPeak";
import { buildPlanReport, planText, type PlanReport } from "../tools/planReport";
import { DAYS_PER_MONTH, EC2_PER_HOUR, HOURS_PER_MONTH } from "../tools/prices";
import { programRunsTimeout, ROOT } from "./harness";

const execFileAsync = promisify(execFile);

const IMAGE = EXAMPLE_GATEWAY_IMAGE;
const configOf = stackConfigWith;

describe("gateway pods at a rate (contract/ingestGateway.ts)", () => {
  it.each([
    // [heartbeats/s, per POST, pods]: ceil(rate / (per-CPU rate × 1.25 CPU × 50 %))
    [100_000, 15, 49], // 100,000 / 2,053.1 = 48.7
    [100_000, 1, 149], // 100,000 / 672.5 = 148.7
    [5_000, 15, 3],
    [5_000, 1, 8],
    [3_472, 15, 2],
  ] as const)("%d heartbeats/s at %d per POST need %d pods", (rate, batch, pods) => {
    expect(gatewayPodsFor(rate, batch)).toBe(pods);
  });

  it("uses the measured rates at 1 and 15 per POST, and the per-request + per-heartbeat line through them between", () => {
    expect(gatewayHeartbeatsPerCpuSec(15)).toBe(GATEWAY_HEARTBEATS_PER_CPU_SEC);
    expect(gatewayHeartbeatsPerCpuSec(1)).toBe(GATEWAY_UNBATCHED_HEARTBEATS_PER_CPU_SEC);
    // CPU per heartbeat = a / N + b through (1, 1/1,076) and (15, 1/3,285): a ≈ 670 µs, b ≈ 260 µs.
    const perRequest = (1 / 1076 - 1 / 3285) / (14 / 15);
    expect(perRequest * 1e6).toBeCloseTo(669.6, 1);
    expect(gatewayHeartbeatsPerCpuSec(6)).toBeCloseTo(1 / (perRequest / 6 + (1 / 1076 - perRequest)), 6);
    expect(gatewayHeartbeatsPerCpuSec(6)).toBeGreaterThan(1076);
    expect(gatewayHeartbeatsPerCpuSec(6)).toBeLessThan(3285);
    // The HPA ceiling of the design peak still comes from the 15-per-POST rate: 49 × 1.2 = 59.
    expect(DEFAULT_GATEWAY_MAX_REPLICAS).toBe(59);
  });

  it("caps the pods at maxReplicas and says the ceiling is below the need; lifts them to minReplicas off-peak", () => {
    expect(gatewayAtRate(100_000, 15, 2, 59)).toMatchObject({ podsNeeded: 49, pods: 49, capped: false });
    expect(gatewayAtRate(100_000, 15, 2, 59).cpuShare).toBeCloseTo(100_000 / (49 * 3285 * 1.25), 9);
    const unbatched = gatewayAtRate(100_000, 1, 2, 59);
    expect(unbatched).toMatchObject({ podsNeeded: 149, pods: 59, capped: true });
    expect(unbatched.cpuShare).toBeCloseTo(100_000 / (59 * 1076 * 1.25), 9); // 1.26: 126 % of the requests
    expect(gatewayAtRate(174, 15, 2, 4)).toMatchObject({ podsNeeded: 1, pods: 2, capped: false });
  });
});

describe("nodes per AZ (contract/nodeCapacity.ts, the packing podFitProblems uses)", () => {
  const shape = INSTANCE_TYPES["m7i.2xlarge"]!;
  const maxPods = ENI_MAX_PODS["m7i.2xlarge"]!;
  const big: PodGroup = { pod: "ksqlDB server", key: "ksqldb.resources", cpu: "6", memory: "16Gi", perAz: 0, count: 6 };
  const gw = (count: number): PodGroup => ({ pod: "ingest gateway", key: "ingest.gateway.maxReplicas", cpu: "1250m", memory: "1152Mi", perAz: 0, count });

  it("an m7i.2xlarge has 7.755 vCPU allocatable: a 6-CPU pod leaves room for one 1.25-CPU gateway pod", () => {
    expect(nodeAllocatable(shape, maxPods).cpuMillis).toBe(7755);
  });

  it.each([
    // [case, pods, nodes per AZ]
    ["two 6-CPU pods per AZ: a node each", [big], [2, 2, 2]],
    ["+ 6 gateway pods: one beside each big pod", [big, gw(6)], [2, 2, 2]],
    ["+ 12 gateway pods: 2 more per AZ take a third node", [big, gw(12)], [3, 3, 3]],
    ["+ 25: 9 in the first AZ (its round-robin starts there), 7 beyond the big pods' nodes take two more", [big, gw(25)], [4, 3, 3]],
    ["gateway pods alone: 6 to a node by CPU (6 × 1,250 m ≤ 7,755 m); 19 → 7 + 6 + 6", [gw(19)], [2, 1, 1]],
  ] as const)("%s", (_case, pods, perAz) => {
    const n = nodesPerAz({ shape, maxPods, azCount: 3, pods });
    expect(n.perAz).toEqual(perAz);
    expect(n.total).toBe(perAz.reduce((a, b) => a + b, 0));
    expect(n.unplaceable).toEqual([]);
  });

  it("names pods no node of the type can hold", () => {
    const n = nodesPerAz({ shape, maxPods, azCount: 3, pods: [{ pod: "huge", key: "k", cpu: "12", memory: "1Gi", perAz: 0, count: 2 }] });
    expect(n.unplaceable).toEqual(["2 × huge"]);
    expect(n.total).toBe(0);
  });
});

describe("peak plan: extra nodes and their cost (tools/planPeak.ts)", () => {
  const shape = INSTANCE_TYPES["m7i.2xlarge"]!;
  const price = EC2_PER_HOUR["m7i.2xlarge"]!;
  const base: PeakNodeInputs = {
    peakHeartbeatsPerSec: 100_000,
    heartbeatsPerDay: 300_000_000,
    gateway: { heartbeatsPerRequest: 15, minReplicas: 2, maxReplicas: 59 },
    // 6 big pods (a node each, 2 per AZ) and the gateway at the count asked for.
    podsAt: (replicas) => [
      { pod: "big", key: "k", cpu: "6", memory: "16Gi", perAz: 0, count: 6 },
      { pod: "gateway", key: "ingest.gateway.maxReplicas", cpu: "1250m", memory: "1152Mi", perAz: 0, count: replicas ?? 59 },
    ],
    nodes: { instanceType: "m7i.2xlarge", shape, maxPods: 58, azCount: 3, desiredPerAz: 3, maxPerAz: 20, pricePerHour: price },
  };

  it("assumes the day's volume at the peak rate: 300 M / 100,000/s = 0.83 h, plus 15 min while nodes drain", () => {
    expect(peakHoursPerDay(300e6, 100_000)).toBeCloseTo(3000 / 3600, 9);
    expect(NODE_SCALE_IN_LAG_SEC).toBe(900);
    expect(peakHoursPerDay(300e6, 1_000)).toBe(24);
  });

  it("charges the nodes above the desired size only for the peak's hours, and prints the all-day upper bound", () => {
    const p = peakPlan(base);
    expect(p.averageHeartbeatsPerSec).toBeCloseTo(300e6 / 86_400, 9);
    expect(p.gateway!.atPeak.pods).toBe(49);
    expect(p.gateway!.atAverage.pods).toBe(2);
    const n = p.nodes!;
    // Average: 6 big + 2 gateway pods: 2 nodes per AZ. Peak: 49 gateway pods, 6 beside the big pods, 43 on nodes of
    // 6: 17 + 16 + 16 pods per AZ → 2 + ceil(15/6) = 5, 2 + ceil(14/6) = 5, 5 nodes.
    expect(n.atAverage.perAz).toEqual([2, 2, 2]);
    expect(n.atPeak.perAz).toEqual([5, 5, 5]);
    expect(n).toMatchObject({ desired: 9, extraAtPeak: 6, extraAllDay: 0, extraPeakOnly: 6, azsOverMax: [] });
    const hours = 3000 / 3600 + 0.25;
    expect(n.billedHoursPerDay).toBeCloseTo(hours, 9);
    expect(n.extraNodeHoursPerMonth).toBe(Number((6 * hours * DAYS_PER_MONTH).toFixed(1)));
    expect(n.extraMonthlyByHour).toBeCloseTo(n.extraNodeHoursPerMonth * price, 9);
    expect(n.extraMonthlyAllDay).toBeCloseTo(6 * HOURS_PER_MONTH * price, 9);
  });

  it("charges nodes the day's average already needs above the desired size all day, and flags AZs past the max size", () => {
    const n = peakPlan({ ...base, nodes: { ...base.nodes!, desiredPerAz: 1, maxPerAz: 4 } }).nodes!;
    expect(n).toMatchObject({ extraAtPeak: 12, extraAllDay: 3, extraPeakOnly: 9, azsOverMax: [0, 1, 2] });
    expect(n.extraNodeHoursPerMonth).toBe(Number((9 * n.billedHoursPerDay * DAYS_PER_MONTH + 3 * HOURS_PER_MONTH).toFixed(1)));
    expect(peakLines(peakPlan({ ...base, nodes: { ...base.nodes!, desiredPerAz: 1, maxPerAz: 4 } }), "prod").join("\n")).toMatch(/3 SHORT even off-peak[\s\S]*ABOVE THE MAX SIZE 4 in 3 AZ\(s\)/);
  });

  it("without a gateway: one line, the players' path is the bridge and no HPA node cost applies", () => {
    const p = peakPlan({ ...base, gateway: undefined });
    expect(p.gateway).toBeNull();
    const lines = peakLines(p, "prod");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/no ingest gateway .*the players' path is the Kafka Bridge.*no HPA adds pods or nodes at the peak, so no node cost beyond the desired size/);
  });

  it("on an existing cluster: the gateway's pods, no nodes to price", () => {
    const p = peakPlan({ ...base, nodes: undefined });
    expect(p.nodes).toBeNull();
    expect(peakLines(p, "local").at(-1)).toBe("  existing cluster: its nodes are its own; the peak's 49 gateway pods request 61.3 vCPU");
  });
});

describe("--set (tools/configSet.ts)", () => {
  it.each([
    ["capacity.peakEventsPerSec=20000", { key: "watchpipe:capacity", path: ["peakEventsPerSec"], value: 20000 }],
    ["aws:region=us-east-2", { key: "aws:region", path: [], value: "us-east-2" }],
    [`ingest.gateway.image=${IMAGE}`, { key: "watchpipe:ingest", path: ["gateway", "image"], value: IMAGE }],
    ['ingest.gateway={"minReplicas":3}', { key: "watchpipe:ingest", path: ["gateway"], value: { minReplicas: 3 } }],
  ] as const)("%s", (arg, expected) => {
    expect(parseSet(arg)).toEqual(expected);
  });

  it("merges into the stack's own objects and refuses an argument without a path", () => {
    const file = { "watchpipe:bridge": { replicas: 3, exposure: "internal" }, "watchpipe:ingest": { waf: { maxBodyBytes: 4096 } } };
    expect(configOverrides(file, ["bridge.certificateArn=arn:x", 'ingest.gateway={"image":"i"}', "ingest.gateway.minReplicas=3"])).toEqual({
      "watchpipe:bridge": { replicas: 3, exposure: "internal", certificateArn: "arn:x" },
      "watchpipe:ingest": { waf: { maxBodyBytes: 4096 }, gateway: { image: "i", minReplicas: 3 } },
    });
    expect(() => parseSet("=3")).toThrow(/expected <path>=<value>/);
    expect(() => parseSet("capacity..x=3")).toThrow(/expected <path>=<value>/);
  });
});

describe("the report with the gateway (prod and dev planned with --set)", () => {
  const lt: RecordedResource = { type: "aws:ec2/launchTemplate:LaunchTemplate", name: "nodes", inputs: {}, custom: true, protect: false, parent: "", urn: "urn:lt", dependencies: [], propertyDependencies: {} };
  const eks: RecordedResource = { ...lt, type: "eks:index:Cluster", name: "eks", urn: "urn:eks" };
  const ingress: RecordedResource = { ...lt, type: "kubernetes:networking.k8s.io/v1:Ingress", name: "ingest", inputs: { metadata: { name: "ingest" } }, urn: "urn:ingress" };
  const report = (stack: string) => buildPlanReport(stack, { resources: [eks, ingress] }, configOf(stack, GATEWAY_SETS), 0, { batch: 6 });

  it("prod: 49 pods at the peak, 2 at the average, 149 unbatched above the ceiling of 59; 30 nodes vs 27 desired", () => {
    const r = report("prod");
    const g = r.peak.gateway!;
    expect(g).toMatchObject({ heartbeatsPerRequest: 15, minReplicas: 2, maxReplicas: 59 });
    expect([g.atPeak.pods, g.atAverage.pods, g.unbatchedAtPeak!.podsNeeded, g.unbatchedAtPeak!.pods]).toEqual([49, 2, 149, 59]);
    expect(g.unbatchedAtPeak!.capped).toBe(true);
    // The pods config.ts checks, with the gateway at its peak count.
    const c = configOf("prod", GATEWAY_SETS);
    expect(configuredPods(c, 49).find((p) => p.key === "ingest.gateway.maxReplicas")!.count).toBe(49);
    expect(configuredPods(c).find((p) => p.key === "ingest.gateway.maxReplicas")!.count).toBe(59);
    const n = r.peak.nodes!;
    expect({ average: n.atAverage.total, peak: n.atPeak.total, desired: n.desired, extra: n.extraAtPeak }).toEqual({ average: 24, peak: 30, desired: 27, extra: 3 });
    // The estimate carries the extra node-hours as a line, and the total includes it.
    const line = r.cost!.lines.find((l) => l.item.startsWith("EC2 nodes m7i.2xlarge added at the peak"))!;
    expect(line).toMatchObject({ quantity: n.extraNodeHoursPerMonth, unit: "node-hour", unitPrice: 0.4032 });
    expect(line.monthly).toBeCloseTo(n.extraMonthlyByHour!, 9);
    expect(r.cost!.total).toBeCloseTo(r.cost!.lines.reduce((s, l) => s + l.monthly, 0), 6);
    // The ingest table adds the gateway's batch to 1 and --batch.
    expect(r.ingest.batches.map((b) => b.heartbeatsPerRequest)).toEqual([1, 6, 15]);
  });

  it("prod's text: the HPA lines, the ceiling warning, nodes at the average and the peak, the day assumed, the cost", () => {
    const text = planText(report("prod")).join("\n");
    expect(text).toContain("  at the peak              100,000/s at 15/POST: 100,000 / (3,285 × 1.25 CPU × 50 %) = 48.7 → 49 pods needed; runs 49 at 50 % CPU");
    expect(text).toContain("  at the day's average     3,472/s at 15/POST: 3,472 / (3,285 × 1.25 CPU × 50 %) = 1.7 → 2 pods needed; runs 2 at 42 % CPU");
    expect(text).toMatch(/peak, players unbatched +100,000\/s at 1\/POST: .* = 148\.7 → 149 pods needed; CEILING BELOW THE NEED: maxReplicas 59 runs at 126 % of the CPU requests/);
    expect(text).toContain("  at the day's average (gateway 2 pods): 8 + 8 + 8 = 24 nodes; desired size 9 per AZ = 27");
    expect(text).toMatch(/at the peak \(gateway 49 pods\): +10 \+ 10 \+ 10 = 30 nodes: 3 above the desired size \(max 11 per AZ\)/);
    expect(text).toMatch(/the day assumed: its 300 M heartbeats at the 100,000\/s peak last 0\.83 h .* then 0\.25 h while the nodes drain/);
    expect(text).toMatch(/extra nodes: 3 × 1\.08 h\/day × 30\.42 days = 98\.9 node-hours × \$0\.4032 = \$39\.88\/month \(in the estimate below\); all day: \$883\.01\/month/);
    expect(text).toMatch(/NOTE: the program installs no node autoscaler/);
    // 70 s in the player is not late: windows are on arrival time and sent_at corrects the play time (V000004).
    expect(text).not.toMatch(/A full gateway batch/);
  });

  it("dev at 5,000/s: 3 pods at the peak (ceiling 4), 8 unbatched above it; its 9 desired nodes hold the peak", () => {
    const r = report("dev");
    const g = r.peak.gateway!;
    expect([g.atPeak.pods, g.maxReplicas, g.unbatchedAtPeak!.podsNeeded, g.unbatchedAtPeak!.capped]).toEqual([3, 4, 8, true]);
    expect(r.peak.nodes).toMatchObject({ desired: 9, extraAtPeak: 0 });
    expect(r.cost!.lines.some((l) => l.item.includes("added at the peak"))).toBe(false);
    expect(planText(r).join("\n")).toContain("  the desired 9 nodes hold the peak: no extra node cost");
  });

  it("the committed dev and prod stacks plan the gateway; local (no gateway) prints the one bridge line and adds no cost line", () => {
    for (const stack of ["prod", "dev"]) expect(buildPlanReport(stack, { resources: [eks] }, configOf(stack), 0, { batch: 6 }).peak.gateway?.heartbeatsPerRequest).toBe(15);
    for (const stack of ["local"]) {
      const r = buildPlanReport(stack, { resources: [eks] }, configOf(stack), 0, { batch: 6 });
      expect(r.peak.gateway).toBeNull();
      expect(planText(r).filter((l) => l.includes("Peak scaling: no ingest gateway"))).toHaveLength(1);
      expect(r.cost?.lines.some((l) => l.item.includes("added at the peak")) ?? false).toBe(false);
    }
  });
});

describe("npm run plan -- --stack prod --set … (the gateway on prod, Pulumi.prod.yaml untouched)", () => {
  let report: PlanReport;
  beforeAll(async () => {
    const tsx = join(ROOT, "node_modules", ".bin", "tsx");
    const args = ["tools/plan.ts", "--stack", "prod", "--json", ...GATEWAY_SETS.flatMap((s) => ["--set", s])];
    report = JSON.parse((await execFileAsync(tsx, args, { cwd: ROOT, encoding: "utf8" })).stdout) as PlanReport;
  }, programRunsTimeout(1));

  it("runs the program with the gateway and prices its peak", () => {
    expect(report.peak.gateway?.atPeak.pods).toBe(49);
    expect(report.peak.nodes?.extraAtPeak).toBe(3);
    expect(report.cost!.lines.find((l) => l.item.includes("added at the peak"))?.monthly).toBeCloseTo(report.peak.nodes!.extraMonthlyByHour!, 9);
    expect(report.counts.byKind["kubernetes HorizontalPodAutoscaler"]).toBe(1);
  });

  it("a malformed --set is a usage error (exit 2) naming the expected form", async () => {
    const tsx = join(ROOT, "node_modules", ".bin", "tsx");
    const err = await execFileAsync(tsx, ["tools/plan.ts", "--stack", "prod", "--set", "=1"], { cwd: ROOT, encoding: "utf8" }).catch((e: { code: number; stderr: string }) => e);
    expect(err).toMatchObject({ code: 2 });
    expect((err as { stderr: string }).stderr).toMatch(/--set "=1": expected <path>=<value>/);
  }, programRunsTimeout(1));
});
