/**
 * `npm run plan`: the cost math (table-driven, from hand-made resources), the price table's coverage, the capacity
 * headroom at the design peak, and the command's output for prod.
 */
import { execFile, execFileSync, spawnSync } from "node:child_process";
import { promisify } from "node:util";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { INSTANCE_TYPES } from "../contract/instanceTypes";
import type { RecordedResource } from "../tools/mockRun";
import { type AppConfig, parseConfig } from "../config";
import {
  backupKeptDays,
  backupStoredGb,
  designHeadroom,
  estimateCost,
  ingestCost,
  eventsPerDayFor,
  gibOf,
  interAzGbPerMonth,
  resourceCounts,
  volumeGiB,
  type TrafficAssumption,
} from "../tools/planModel";
import { EC2_PER_HOUR, HOURS_PER_MONTH, pricesFor, REGION_PRICES } from "../tools/prices";
import { batchProblems, buildPlanReport, planText, type PlanReport } from "../tools/planReport";
import { describeTally, tallyResources } from "../tools/renderObjects";
import { programRunsTimeout, ROOT, runProgram, stackConfig } from "./harness";

const execFileAsync = promisify(execFile);

function r(type: string, name: string, inputs: Record<string, unknown>, propertyDependencies: Record<string, string[]> = {}, custom = true): RecordedResource {
  return { type, name, inputs, custom, protect: false, parent: "", urn: `urn:pulumi:t::watchpipe::${type}::${name}`, dependencies: [], propertyDependencies };
}

const NO_TRAFFIC: TrafficAssumption = { eventsPerDay: 0, leaderBytesPerDay: 0, replicationFactor: 3 };
const eks = r("eks:index:Cluster", "cluster-eks", {});
const lt = r("aws:ec2/launchTemplate:LaunchTemplate", "nodes", { blockDeviceMappings: [{ ebs: { volumeSize: 50 } }] });
const nodeGroup = (name: string, type: string, desired: number) =>
  r("aws:eks/nodeGroup:NodeGroup", name, { instanceTypes: [type], scalingConfig: { desiredSize: desired } }, { launchTemplate: [lt.urn] });

describe("cost math", () => {
  it.each([
    // [case, resources, expected line item, quantity, monthly USD]
    ["one EKS control plane", [eks], "EKS control plane", 1, 0.1 * 730],
    ["3 × 2 m7i.2xlarge nodes", [eks, lt, nodeGroup("a", "m7i.2xlarge", 2), nodeGroup("b", "m7i.2xlarge", 2), nodeGroup("c", "m7i.2xlarge", 2)], "EC2 nodes m7i.2xlarge (desired size)", 6, 6 * 0.4032 * 730],
    ["their 50 GiB root volumes", [eks, lt, nodeGroup("a", "m7i.2xlarge", 2), nodeGroup("b", "m7i.2xlarge", 2), nodeGroup("c", "m7i.2xlarge", 2)], "EBS gp3 node root volumes", 300, 300 * 0.08],
    ["3 NAT gateways", [r("aws:ec2/natGateway:NatGateway", "n0", {}), r("aws:ec2/natGateway:NatGateway", "n1", {}), r("aws:ec2/natGateway:NatGateway", "n2", {})], "NAT gateways (hourly)", 3, 3 * 0.045 * 730],
    ["one Elastic IP", [r("aws:ec2/eip:Eip", "e", {})], "Public IPv4 (Elastic IPs)", 1, 0.005 * 730],
    ["two KMS keys", [r("aws:kms/key:Key", "k1", {}), r("aws:kms/key:Key", "k2", {})], "KMS keys", 2, 2],
    ["an Ingress (ALB) on EKS", [eks, r("kubernetes:networking.k8s.io/v1:Ingress", "ing", { metadata: { name: "ingest" } })], "Application Load Balancers (Ingress)", 1, 0.0225 * 730],
    ["a WAFv2 web ACL with 4 rules", [r("aws:wafv2/webAcl:WebAcl", "acl", { rules: [{}, {}, {}, {}] })], "WAFv2 rules (a managed rule group is one)", 4, 4],
    ["the web ACL itself", [r("aws:wafv2/webAcl:WebAcl", "acl", { rules: [] })], "WAFv2 web ACLs", 1, 5],
  ] as const)("%s", (_case, resources, item, quantity, monthly) => {
    const line = estimateCost(resources as unknown as RecordedResource[], NO_TRAFFIC).lines.find((l) => l.item === item);
    expect(line, item).toBeDefined();
    expect(line?.quantity).toBe(quantity);
    expect(line?.monthly).toBeCloseTo(monthly, 6);
  });

  it("prices Kafka, ksqlDB and YugabyteDB volumes on EKS and nothing on an existing cluster", () => {
    const pool = r("kubernetes:kafka.strimzi.io/v1:KafkaNodePool", "broker", { metadata: { name: "broker" }, spec: { replicas: 3, storage: { type: "persistent-claim", size: "2500Gi" } } });
    const sts = r("kubernetes:apps/v1:StatefulSet", "ksqldb", { metadata: { name: "ksqldb" }, spec: { replicas: 2, volumeClaimTemplates: [{ spec: { resources: { requests: { storage: "100Gi" } } } }] } });
    const yb = r("kubernetes:helm.sh/v3:Release", "yb", { name: "yb-az0", chart: "yugabyte", values: { replicas: { master: 1, tserver: 1 }, storage: { master: { count: 1, size: "500Gi" }, tserver: { count: 2, size: "500Gi" } } } });
    const onEks = estimateCost([eks, pool, sts, yb], NO_TRAFFIC).lines.find((l) => l.item.startsWith("EBS gp3 persistent volumes"));
    expect(onEks?.quantity).toBe(7500 + 200 + 1500);
    expect(onEks?.monthly).toBeCloseTo(9200 * 0.08, 6);
    expect(estimateCost([pool, sts, yb], NO_TRAFFIC)).toEqual({ lines: [], total: 0, unpriced: [] });
    // Baseline gp3 (no StorageClass parameters): no provisioned-performance lines.
    expect(estimateCost([eks, pool, sts, yb], NO_TRAFFIC).lines.filter((l) => l.item.includes("above"))).toEqual([]);
  });

  it("prices gp3 throughput and IOPS above the baseline for every volume: 10 volumes × 175 MiB/s and × 3,000 IOPS", () => {
    const sc = r("kubernetes:storage.k8s.io/v1:StorageClass", "gp3", { parameters: { type: "gp3", throughput: "300", iops: "6000" } });
    const pool = r("kubernetes:kafka.strimzi.io/v1:KafkaNodePool", "brokers", { spec: { replicas: 3, storage: { type: "jbod", volumes: [{ type: "persistent-claim", size: "100Gi" }] } } });
    const sts = r("kubernetes:apps/v1:StatefulSet", "ksqldb", { spec: { replicas: 2, volumeClaimTemplates: [{ spec: { resources: { requests: { storage: "100Gi" } } } }] } });
    const yb = r("kubernetes:helm.sh/v3:Release", "yb", { chart: "yugabyte", values: { replicas: { master: 1, tserver: 1 }, storage: { master: { count: 1, size: "10Gi" }, tserver: { count: 4, size: "10Gi" } } } });
    const lines = estimateCost([eks, sc, pool, sts, yb], NO_TRAFFIC).lines;
    expect(lines.find((l) => l.item.startsWith("EBS gp3 throughput above"))).toMatchObject({ quantity: 10 * 175, monthly: 10 * 175 * 0.04 });
    expect(lines.find((l) => l.item.startsWith("EBS gp3 IOPS above"))).toMatchObject({ quantity: 10 * 3000, monthly: 10 * 3000 * 0.005 });
  });

  it("prices every heartbeat as one request through the web ACL: 300 M/day ≈ 9,126 M requests a month", () => {
    const line = estimateCost([r("aws:wafv2/webAcl:WebAcl", "acl", { rules: [] })] as unknown as RecordedResource[], { eventsPerDay: 300e6, leaderBytesPerDay: 0, replicationFactor: 3 })
      .lines.find((l) => l.item.startsWith("WAFv2 requests inspected"));
    expect(line?.quantity).toBe(9126);
    expect(line?.monthly).toBeCloseTo(9126 * 0.6, 6);
  });

  it("prices only the regions it has a table for and refuses the others by name", () => {
    expect(Object.keys(REGION_PRICES)).toEqual(["us-east-1", "us-east-2", "us-west-2"]);
    expect(pricesFor("us-west-2")).toMatchObject({ region: "us-west-2", location: "US West (Oregon)" });
    expect(() => pricesFor("eu-west-1")).toThrowError(
      "no price table for region eu-west-1: tools/prices.ts carries on-demand list prices for us-east-1, us-east-2, us-west-2 only (2025 (AWS public on-demand price pages)), " +
        "and pricing eu-west-1 as one of them would be wrong. Add a eu-west-1 table to REGION_PRICES from the AWS price pages to estimate it.",
    );
  });

  it("adds the lines up and names instance types it cannot price", () => {
    const est = estimateCost([eks, lt, nodeGroup("a", "m7i.xlarge", 2), nodeGroup("x", "x9.mega", 1)], NO_TRAFFIC);
    expect(est.total).toBeCloseTo(est.lines.reduce((s, l) => s + l.monthly, 0), 9);
    expect(est.unpriced).toEqual(["1 × x9.mega nodes: no us-east-1 price in tools/prices.ts"]);
  });

  it("estimates Kafka's cross-AZ replication: every leader byte × 2 copies × 30.42 days", () => {
    expect(interAzGbPerMonth({ eventsPerDay: 300e6, leaderBytesPerDay: 170e9, replicationFactor: 3 })).toBeCloseTo((170e9 * 2 * 30.42) / 1e9, 6);
    expect(interAzGbPerMonth({ eventsPerDay: 300e6, leaderBytesPerDay: 170e9, replicationFactor: 1 })).toBe(0);
    expect(eventsPerDayFor({ peakEventsPerSec: 5000, avgEventBytes: 250, partitionBudgetMBps: 2, consumerParallelism: 12 })).toBe(15_000_000);
  });

  it("has a price for every instance type the config accepts, in every region it prices", () => {
    expect(Object.keys(INSTANCE_TYPES).filter((t) => EC2_PER_HOUR[t] === undefined)).toEqual([]);
    for (const prices of Object.values(REGION_PRICES)) expect(Object.keys(INSTANCE_TYPES).filter((t) => prices.ec2PerHour[t] === undefined), prices.region).toEqual([]);
    expect(HOURS_PER_MONTH).toBe(730);
  });

  it.each([
    ["2500Gi", 2500],
    ["1Ti", 1024],
    ["512Mi", 0.5],
    ["20G", 20e9 / 2 ** 30],
    ["", 0],
  ])("gibOf(%j) = %d", (size, gib) => {
    expect(gibOf(size)).toBeCloseTo(gib, 9);
  });

  it("reads jbod node pools and skips ephemeral volumes", () => {
    const jbod = r("kubernetes:kafka.strimzi.io/v1:KafkaNodePool", "p", { spec: { replicas: 3, storage: { type: "jbod", volumes: [{ id: 0, type: "persistent-claim", size: "100Gi" }, { id: 1, type: "ephemeral" }] } } });
    expect(volumeGiB(jbod)?.gib).toBe(300);
  });
});

describe("ingest, monitoring and backup costs", () => {
  const ingress = (annotations: Record<string, string>) =>
    r("kubernetes:networking.k8s.io/v1:Ingress", "ing", { metadata: { name: "ingest", annotations }, spec: { rules: [{ http: { paths: [{ path: "/topics/heartbeats_raw" }] } }] } });
  const day = { eventsPerDay: 300e6, leaderBytesPerDay: 0, replicationFactor: 3, eventBytes: 250 };

  it("the ALB: 300 M heartbeats/day without tokens at 1 per POST bills processed bytes: 3,472/s × 772 B × 3,600 s = 9.65 GB/h = 9.65 LCU", () => {
    const cost = ingestCost([ingress({})], day, 100_000, 1, pricesFor("us-east-1"));
    expect(cost.bytesPerRequest).toBe(300 + 14 + 262 + 150 + 14 + 32);
    expect(cost.averageLcu.dimension).toBe("processed bytes");
    expect(cost.averageLcu.lcus).toBeCloseTo(((300e6 / 86_400) * 772 * 3600) / 1e9, 9);
    // Priced at LCUs to two decimals, as the cost line prints them.
    expect(cost.albLcuMonthly).toBeCloseTo(Number(cost.averageLcu.lcus.toFixed(2)) * 730 * 0.008, 9);
    // One listener rule: within the 10 free ones.
    expect(cost.averageLcu.ruleEvaluations).toBe(0);
  });

  it("the ALB: a bearer token adds 850 B to each request; 6 per POST makes active connections (17,361 players / 3,000) the billed dimension", () => {
    const withToken = ingestCost([ingress({ "alb.ingress.kubernetes.io/jwt-validation": "{}" })], day, 100_000, 1, pricesFor("us-east-1"));
    expect(withToken.bytesPerRequest).toBe(772 + 850);
    const six = ingestCost([ingress({})], day, 100_000, 6, pricesFor("us-east-1"));
    expect(six.averageLcu).toMatchObject({ dimension: "active connections" });
    expect(six.averageLcu.lcus).toBeCloseTo((300e6 / 86_400) * 5 / 3000, 9);
  });

  it("prices the WAF per POST: 6 heartbeats per POST inspect a sixth of the requests", () => {
    const acl = r("aws:wafv2/webAcl:WebAcl", "acl", { rules: [] });
    const line = (n: number) => estimateCost([acl], { ...day, heartbeatsPerRequest: n }).lines.find((l) => l.item.startsWith("WAFv2 requests inspected"));
    expect(line(1)?.quantity).toBe(9126);
    expect(line(6)?.quantity).toBe(1521);
  });

  it("counts the monitoring install's volumes: Prometheus and Alertmanager claim templates × replicas, Grafana when persistent", () => {
    const claim = (size: string) => ({ volumeClaimTemplate: { spec: { resources: { requests: { storage: size } } } } });
    const release = r("kubernetes:helm.sh/v3:Release", "mon", {
      name: "watchpipe-monitoring",
      chart: "kube-prometheus-stack",
      values: { prometheus: { prometheusSpec: { replicas: 2, storageSpec: claim("150Gi") } }, alertmanager: { alertmanagerSpec: { storage: claim("5Gi") } }, grafana: { persistence: { enabled: true, size: "10Gi" } } },
    });
    expect(volumeGiB(release)).toMatchObject({ gib: 2 * 150 + 5 + 10, volumes: 4 });
    const noGrafana = { ...release, inputs: { ...release.inputs, values: { alertmanager: { alertmanagerSpec: { storage: claim("5Gi") } }, grafana: { persistence: { enabled: false, size: "10Gi" } } } } };
    expect(volumeGiB(noGrafana)).toMatchObject({ gib: 5, volumes: 1 });
  });

  it("prices the backup bucket: a year of pieces × 47 B per row in each dump × the days the lifecycle keeps one (expiration + noncurrent)", () => {
    const lifecycle = r("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", "lc", {
      rules: [{ expiration: { days: 35 } }, { noncurrentVersionExpiration: { noncurrentDays: 7 } }, { abortIncompleteMultipartUpload: { daysAfterInitiation: 1 } }],
    });
    expect(backupKeptDays([lifecycle])).toBe(42);
    expect(backupKeptDays([])).toBeUndefined();
    expect(backupStoredGb(1e6, 42)).toBeCloseTo((1e6 * 365 * 47 * 42) / 1e9, 9);
    const line = estimateCost([lifecycle], { ...NO_TRAFFIC, piecesPerDay: 1e6 }).lines.find((l) => l.item.startsWith("S3 backups"));
    expect(line).toMatchObject({ quantity: Math.round((1e6 * 365 * 47 * 42) / 1e9), unitPrice: 0.023 });
  });
});

describe("the plan report's verdict", () => {
  const dev = (() => {
    const cfg = stackConfig("dev");
    const raw = Object.fromEntries(Object.entries(cfg).filter(([k]) => k.startsWith("watchpipe:")).map(([k, v]) => { try { return [k.slice(10), JSON.parse(v) as unknown]; } catch { return [k.slice(10), v]; } }));
    return { ...parseConfig(raw, "dev"), region: "us-east-1" } as AppConfig;
  })();
  const run = { resources: [eks, lt, nodeGroup("a", "m7i.xlarge", 2)] };

  it.each([
    ["no limit", undefined, true],
    ["a limit above the total", 1e6, true],
    ["a limit below the total", 1, false],
  ] as const)("%s", (_case, maxMonthlyUsd, ok) => {
    const report = buildPlanReport("dev", run, dev, 0, { batch: 6, maxMonthlyUsd });
    expect(report.verdict).toMatchObject({ ok, exitCode: ok ? 0 : 1, overMonthlyUsd: !ok, maxMonthlyUsd: maxMonthlyUsd ?? null });
    expect(report.cost!.lines.map((l) => l.item)).toEqual(["EKS control plane", "EC2 nodes m7i.xlarge (desired size)", "EBS gp3 node root volumes", "Kafka replication between AZs (every topic, 15 M events/day)"]);
    expect(report.cost!.perHeartbeat).toBeCloseTo(report.cost!.total / (15e6 * 30.42), 12);
  });

  it("a region without prices has no cost and fails the check, naming why", () => {
    const report = buildPlanReport("dev", run, { ...dev, region: "eu-west-1" } as AppConfig, 0, { batch: 6 });
    expect(report.cost).toBeNull();
    expect(report.verdict).toMatchObject({ ok: false, exitCode: 1 });
    expect(report.verdict.costUnavailable).toMatch(/^no price table for region eu-west-1/);
    expect(planText(report).at(-1)).toMatch(/^\nMonthly cost estimate: NOT AVAILABLE: no price table for region eu-west-1/);
  });

  it("refuses a batch the web ACL would block or the SQL would reject as late", () => {
    const internetFacing = { ...dev, bridge: { ...dev.bridge, exposure: "internet-facing" } } as AppConfig;
    expect(batchProblems(15, internetFacing, 15, 3600, 5)).toEqual([]);
    expect(batchProblems(16, internetFacing, 15, 3600, 5)).toEqual([expect.stringMatching(/^--batch 16: a POST of 16 heartbeats is larger than the web ACL's ingest\.waf\.maxBodyBytes 4096 B/)]);
    // Internal: no web ACL, so only the lateness bound does (windows are on arrival time; a batch's wait is not late).
    expect(batchProblems(16, dev, 15, 3600, 5)).toEqual([]);
    expect(batchProblems(720, dev, 15, 3600, 5)).toEqual([]);
    expect(batchProblems(721, dev, 15, 3600, 5)).toEqual(["--batch 721: the oldest heartbeat would wait 3600 s in the player, at or past the 3600 s after which the SQL rejects a heartbeat as late; expected at most 720."]);
  });
});

describe("capacity at the design peak", () => {
  it.each([
    // peak/s, bytes, budget MB/s, parallelism → partitions, headroom at 100k/s
    [100_000, 250, 2, 12, 21, 42 / 25],
    [5_000, 250, 2, 12, 12, 24 / 25],
    [1_000, 250, 2, 3, 3, 6 / 25],
  ])("peak %d/s × %d B at %d MB/s, parallelism %d → %d partitions, headroom %f", (peakEventsPerSec, avgEventBytes, partitionBudgetMBps, consumerParallelism, partitions, headroom) => {
    const h = designHeadroom({ peakEventsPerSec, avgEventBytes, partitionBudgetMBps, consumerParallelism });
    expect(h.partitions).toBe(partitions);
    expect(h.headroom).toBeCloseTo(headroom, 9);
  });
});

describe("resource counts", () => {
  it("counts custom resources by provider and kind, not components or providers", () => {
    const counts = resourceCounts([
      r("aws:ec2/subnet:Subnet", "a", {}), r("aws:ec2/subnet:Subnet", "b", {}),
      r("kubernetes:kafka.strimzi.io/v1:KafkaTopic", "t", {}),
      r("pulumi:providers:kubernetes", "k8s", {}),
      r("watchpipe:network:Network", "network", {}, {}, false),
    ]);
    expect(counts).toEqual([["aws Subnet", 2], ["kubernetes KafkaTopic", 1]]);
  });
});

describe("npm run plan -- --stack prod", () => {
  const tsx = join(ROOT, "node_modules", ".bin", "tsx");
  let text = "";
  let report: PlanReport;
  // Asynchronous subprocesses: a synchronous one blocks the test worker, whose progress calls to vitest then time out
  // (60 s) on a loaded machine.
  beforeAll(async () => {
    const started = performance.now();
    const [plain, json] = await Promise.all([
      execFileAsync(tsx, ["tools/plan.ts", "--stack", "prod"], { cwd: ROOT, encoding: "utf8" }),
      execFileAsync(tsx, ["tools/plan.ts", "--stack", "prod", "--json"], { cwd: ROOT, encoding: "utf8" }),
    ]);
    text = plain.stdout;
    console.log(`plan prod, text and --json (two subprocesses): ${((performance.now() - started) / 1000).toFixed(1)} s\n${text}`);
    report = JSON.parse(json.stdout) as PlanReport;
  }, 120_000);
  const money = (s: string) => Number(s.replace(/[$,]/g, ""));

  it("prints counts, the design-peak headroom and a cost table whose lines add up to the total", async () => {
    expect(text).toMatch(/Custom resources by kind \(components and providers not listed\)\n\s+kubernetes\s+.*KafkaTopic \d+/);
    expect(text).toMatch(/Capacity at the design peak \(100,000 events\/s × 250 B = 25\.0 MB\/s\)/);
    expect(text).toMatch(/Monthly cost estimate: us-east-1 \(US East \(N\. Virginia\)\), on-demand list prices \(2025 \(AWS public on-demand price pages\); recorded 2026-11-22, not re-verified\)/);
    // The same counts line as `npm run render` prints, from the same run.
    expect(text).toContain(`\n  ${describeTally(tallyResources((await runProgram("prod")).resources))}\n`);
    const lines = [...text.matchAll(/= +(\$[\d,]+\.\d\d)$/gm)].map((m) => money(m[1]));
    const total = money(/^\s+total\s+(\$[\d,]+\.\d\d)$/m.exec(text)?.[1] ?? "NaN");
    expect(lines.length).toBeGreaterThanOrEqual(5);
    expect(total).toBeCloseTo(lines.reduce((a, b) => a + b, 0), 1);
  }, programRunsTimeout(2));

  it("prices no WAF on prod's internal ALB, and says what an internet-facing one would add at 1, 6 and the gateway's 15 heartbeats per POST", () => {
    expect(text).not.toMatch(/WAFv2/);
    expect(report.ingest).toMatchObject({ alb: true, exposure: "internal", webAcl: false });
    expect(report.ingest.batches.map((b) => b.heartbeatsPerRequest)).toEqual([1, 6, 15]);
    const [one, six] = report.ingest.batches;
    // 300 M heartbeats/day × 30.42 days = 9,126 M requests × $0.60; six per POST divides the requests by six.
    expect(one!.wafMonthlyIfAttached).toBeCloseTo(9126 * 0.6, 6);
    expect(six!.wafMonthlyIfAttached).toBeCloseTo((9126 * 0.6) / 6, 6);
    expect(one!.wafMonthly).toBe(0);
    // Players batch through the gateway: the table's gateway column (15 per POST) is what the estimate's LCU line prices.
    const gateway = report.ingest.batches.find((b) => b.heartbeatsPerRequest === 15)!;
    expect(report.cost!.lines.find((l) => l.item.startsWith("ALB LCUs"))!.monthly).toBeCloseTo(gateway.albLcuMonthly, 9);
    expect(text).toContain("The estimate prices the gateway's 15 heartbeats per POST.");
    expect(six!.peakRequestsPerSec).toBeCloseTo(100_000 / 6, 6);
    // One cell per column (1, 6, the gateway's 15), separated by two or more spaces.
    const row = (label: string) => new RegExp(`^  ${label.replace(/[()]/g, "\\$&")}\\s+(.+)$`, "m").exec(text)?.[1]?.trim().split(/\s{2,}/);
    expect(row("WAF request fee per month if attached")?.map(money)).toEqual([one!.wafMonthlyIfAttached, six!.wafMonthlyIfAttached, gateway.wafMonthlyIfAttached].map((n) => Number(n.toFixed(2))));
    expect(row("requests/s at peak")?.map(money)).toEqual([100_000, 16_667, 6_667]);
  });

  it("--json carries the same figures as the text: counts, headroom, every cost line, total, per-heartbeat cost, verdict", () => {
    expect(report.version).toBe(1);
    expect(report).toMatchObject({ stack: "prod", environment: "prod", region: "us-east-1" });
    expect(text).toContain(`\n  ${report.counts.summary}\n`);
    for (const [kind, n] of Object.entries(report.counts.byKind)) expect(text).toMatch(new RegExp(`[ ,]${kind.split(" ")[1]} ${n}(,|$)`, "m"));
    expect(text).toContain(`headroom ${report.capacity.headroom.toFixed(2)}×`);
    for (const r of report.load.resources) expect(text).toMatch(new RegExp(`^  ${r.resource.replace(/[()]/g, "\\$&")}\\s+${r.used.toFixed(1)} of\\s+${r.capacity.toFixed(0)} .*${(r.utilization * 100).toFixed(0)} %$`, "m"));
    const printed = [...text.matchAll(/^  (.*\S)\s+(\S+) (\S+)\s+× +\$[\d.,]+ = +(\$[\d,]+\.\d\d)$/gm)].map((m) => ({ item: m[1]!.trim(), quantity: Number(m[2]), monthly: money(m[4]!) }));
    expect(printed.map(({ item, quantity }) => ({ item, quantity }))).toEqual(report.cost!.lines.map((l) => ({ item: l.item, quantity: l.quantity })));
    // Cents as printed (toLocaleString rounds half up; a float's toFixed may not): within half a cent.
    printed.forEach((p, i) => expect(Math.abs(p.monthly - report.cost!.lines[i]!.monthly), p.item).toBeLessThanOrEqual(0.0051));
    expect(Math.abs(money(/^\s+total\s+(\$[\d,]+\.\d\d)$/m.exec(text)![1]!) - report.cost!.total)).toBeLessThanOrEqual(0.0051);
    const perHeartbeat = /per heartbeat (\$[\d.]+), per million heartbeats (\$[\d.,]+)/.exec(text)!;
    expect(money(perHeartbeat[1]!)).toBeCloseTo(report.cost!.perHeartbeat, 8);
    expect(Math.abs(money(perHeartbeat[2]!) - report.cost!.perMillionHeartbeats)).toBeLessThanOrEqual(0.0051);
    expect(report.cost!.perMillionHeartbeats).toBeCloseTo((report.cost!.total / (300e6 * 30.42)) * 1e6, 9);
    expect(report.verdict).toEqual({ ok: true, exitCode: 0, overBudget: [], costUnavailable: null, maxMonthlyUsd: null, overMonthlyUsd: false });
  });

  it("--max-monthly-usd below the total fails the check (exit 1); --json still prints the document, and nothing else, with the verdict", async () => {
    const r = await execFileAsync(tsx, ["tools/plan.ts", "--stack", "dev", "--json", "--max-monthly-usd", "1000"], { cwd: ROOT, encoding: "utf8" }).then(
      () => ({ code: 0, stdout: "" }),
      (err: { code: number; stdout: string }) => err,
    );
    expect(r.code).toBe(1);
    expect((JSON.parse(r.stdout) as PlanReport).verdict).toMatchObject({ ok: false, exitCode: 1, maxMonthlyUsd: 1000, overMonthlyUsd: true });
  }, 60_000);

  it("--help names the flag and the price source", () => {
    const out = execFileSync(join(ROOT, "node_modules", ".bin", "tsx"), ["tools/plan.ts", "--help"], { cwd: ROOT, encoding: "utf8" });
    expect(out).toMatch(/--stack <name>/);
    expect(out).toMatch(/--json +print the whole plan as one JSON document on stdout/);
    expect(out).toMatch(/--batch <n> +heartbeats per POST/);
    expect(out).toMatch(/on-demand list prices recorded by hand for the regions\nus-east-1, us-east-2, us-west-2/);
    expect(out).toMatch(/Exit codes: 0 ok, 1 a check failed, 2 usage error or a service could not be reached\./);
  });

  it.each([
    [["--stack", "nope"], "plan failed: --stack nope: no Pulumi.nope.yaml; expected one of dev, local, prod."],
    [["--stak", "prod"], "plan failed: Unknown option '--stak'"],
    [["--stack", "dev", "--batch", "0"], 'plan failed: --batch: expected a positive integer; got "0".'],
  ])("a usage error exits 2: %j", (args, message) => {
    const r = spawnSync(join(ROOT, "node_modules", ".bin", "tsx"), ["tools/plan.ts", ...args], { cwd: ROOT, encoding: "utf8" });
    expect(r.status).toBe(2);
    expect(r.stderr.split("\n")[0]).toContain(message);
    // A tsx subprocess loads the program's modules before parsing flags: 34 s measured at load average 30 here.
  }, 90_000);
});
