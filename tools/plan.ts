/**
 * `npm run plan -- --stack <s>`: a ten-second summary of a stack without touching the cloud: what it creates (counts
 * by kind), the heartbeat topics' headroom at the 100,000 events/s design peak (contract/capacity.ts), and a
 * monthly cost estimate from the dated list-price table in tools/prices.ts. The program runs under the test mocks
 * with the stack's real config.
 */
import { parseArgs } from "node:util";
import { loadConfig } from "../config";
import { knownStacks, runProgramOnce } from "./mockRun";
import { designHeadroom, DESIGN_PEAK_EVENTS_PER_SEC, estimateCost, resourceCounts, stackLoadPlan, trafficFor } from "./planModel";
import { LOAD_BUDGET, overBudget } from "../contract/loadPlan";
import { EXIT_CHECK_FAILED, EXIT_CODES_HELP, exitCodeOf, UsageError } from "./exitCodes";
import { HOURS_PER_MONTH, NOT_ESTIMATED, pricesFor, PRICES_AS_OF, PRICES_RECORDED_ON, REGION_PRICES, type RegionPrices } from "./prices";
import { describeTally, tallyResources } from "./renderObjects";

const HELP = `Summarise a stack: resource counts, capacity headroom at the design peak, monthly cost estimate.

Usage: npm run plan -- --stack <stack>

  --stack <name>  stack to plan: ${knownStacks().join(", ")} (reads Pulumi.<name>.yaml)
  --help          this text

Runs the program under mocks (no cloud access). Costs are on-demand list prices recorded by hand for the regions
${Object.keys(REGION_PRICES).join(", ")} (${PRICES_AS_OF}; written down ${PRICES_RECORDED_ON}, not re-verified); see
tools/prices.ts. A stack in another region gets no estimate and exits 1.
Counts: every Pulumi resource the program registers, split into cloud/other, Kubernetes, components and providers;
each Kubernetes resource is one Kubernetes object (\`npm run render\` prints the same line).

${EXIT_CODES_HELP} Invalid stack config is a failed check (1).`;

const usd = (n: number, decimals = 2) => `$${n.toLocaleString("en-US", { minimumFractionDigits: decimals, maximumFractionDigits: decimals })}`;

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { stack: { type: "string" }, help: { type: "boolean" } } });
  if (values.help) {
    console.log(HELP);
    return;
  }
  if (!values.stack) throw new UsageError(`--stack is required; expected one of ${knownStacks().join(", ")}.\n\n${HELP}`);
  if (!knownStacks().includes(values.stack)) throw new UsageError(`--stack ${values.stack}: no Pulumi.${values.stack}.yaml; expected one of ${knownStacks().join(", ")}.`);
  const started = performance.now();
  const run = await runProgramOnce(values.stack);
  // The run left the stack's config in the Pulumi runtime: read it exactly as the program did.
  const config = loadConfig();
  const seconds = (performance.now() - started) / 1000;

  console.log(`watchpipe plan: stack ${values.stack} (${config.environment}, ${config.cluster.mode === "eks" ? config.region : "existing cluster"}) [${seconds.toFixed(1)} s]`);
  console.log(`  ${describeTally(tallyResources(run.resources))}\n`);

  console.log("Custom resources by kind (components and providers not listed)");
  const counts = resourceCounts(run.resources);
  for (const [provider] of new Map(counts.map(([k]) => [k.split(" ")[0], true]))) {
    const row = counts.filter(([k]) => k.startsWith(`${provider} `)).map(([k, n]) => `${k.slice(provider.length + 1)} ${n}`);
    console.log(`  ${provider.padEnd(11)} ${row.join(", ")}`);
  }

  const h = designHeadroom(config.capacity);
  console.log(`\nCapacity at the design peak (${DESIGN_PEAK_EVENTS_PER_SEC.toLocaleString("en-US")} events/s × ${config.capacity.avgEventBytes} B = ${h.designPeakMBps.toFixed(1)} MB/s)`);
  console.log(`  heartbeat topics: ${h.partitions} partitions × ${h.partitionBudgetMBps} MB/s budget = ${(h.partitions * h.partitionBudgetMBps).toFixed(0)} MB/s → headroom ${h.headroom.toFixed(2)}×${h.headroom < 1 ? "  (below the design peak: this stack is sized smaller)" : ""}`);
  console.log(`  this stack's own peak: ${h.stackPeakEventsPerSec.toLocaleString("en-US")} events/s → headroom ${h.stackHeadroom.toFixed(2)}×; brokers ${config.kafka.brokers}, RF ${config.kafka.replicationFactor}, min ISR ${config.kafka.minInsyncReplicas}`);

  const load = stackLoadPlan(config);
  const peak = config.capacity.peakEventsPerSec.toLocaleString("en-US");
  console.log(`\nBytes written at this stack's peak (${peak} heartbeats/s; uncompressed, leader bytes before ×${config.kafka.replicationFactor} replication)`);
  for (const t of load.topics) {
    console.log(`  ${t.topic.padEnd(24)} ${t.bytesPerHeartbeat.toFixed(1).padStart(7)} B/heartbeat ${(t.peakBytesPerSec / 1e6).toFixed(2).padStart(7)} MB/s  retained ${(t.retainedBytes / 1e9).toFixed(0).padStart(6)} GB on the brokers`);
  }
  const total = load.leaderBytesPerSec;
  console.log(`  ${"total".padEnd(24)} ${(total / config.capacity.peakEventsPerSec).toFixed(1).padStart(7)} B/heartbeat ${(total / 1e6).toFixed(2).padStart(7)} MB/s; ${Math.round(load.piecesPerSec).toLocaleString("en-US")} pieces/s to the sink`);
  const db = load.database;
  const dbRf = config.yugabyte.replicationFactor;
  console.log(`\nDatabase (YugabyteDB, RF ${dbRf}, ${config.yugabyte.tservers} tservers × ${config.yugabyte.storageGiB} GiB; row sizes in contract/loadPlan.ts)`);
  console.log(`  per day: ${(db.piecesPerDay / 1e6).toFixed(1)} M pieces + ${(db.segmentsPerDay / 1e6).toFixed(2)} M segments = ${(db.bytesPerDay / 1e9).toFixed(1)} GB (one replica), ${((db.bytesPerDay * dbRf) / 1e9).toFixed(1)} GB on disk`);
  console.log(`  at retention (pieces ${config.database.pieceRetentionDays} d, segments ${config.database.segmentRetentionDays} d): ${(db.retainedBytes / 1e9).toFixed(0)} GB on disk, ${(db.retainedBytes / config.yugabyte.tservers / 2 ** 30).toFixed(0)} GiB per tserver`);
  console.log(`  writes at peak: ${Math.round(db.pieceWritesPerSec).toLocaleString("en-US")} pieces/s (sink) + ${Math.round(db.segmentWritesPerSec).toLocaleString("en-US")} segments/s + ≤ ${Math.round(db.rollupWritesPerSec).toLocaleString("en-US")} rollup rows/s (maintenance job, every ${config.database.maintenanceEveryMinutes} min: ≤ ${(db.piecesPerRunAtPeak / 1e6).toFixed(1)} M pieces a run)`);
  console.log(`\nResources at this stack's peak (budget ${LOAD_BUDGET * 100} % each; assumptions in contract/loadPlan.ts)`);
  if (config.cluster.mode !== "eks") console.log("  existing cluster: its volumes and nodes are its own; the figures assume gp3 at baseline and the default node type's network");
  for (const r of load.resources) {
    const flag = r.utilization > LOAD_BUDGET ? "  OVER BUDGET" : "";
    console.log(`  ${r.resource.padEnd(38)} ${r.used.toFixed(1).padStart(9)} of ${r.capacity.toFixed(0).padStart(6)} ${r.unit.padEnd(6)} ${(r.utilization * 100).toFixed(0).padStart(4)} %${flag}`);
  }
  const over = overBudget(load);
  if (over.length > 0) {
    console.log(`  ${over.length} resource(s) above ${LOAD_BUDGET * 100} %: ${over.map((r) => r.resource).join(", ")}. Size them up in Pulumi.${values.stack}.yaml (README "Capacity plan").`);
    process.exitCode = EXIT_CHECK_FAILED;
  }

  const traffic = trafficFor(config, load);
  // An existing cluster creates nothing billable here; the table's first region stands in for the (empty) estimate.
  let prices: RegionPrices;
  try {
    prices = config.cluster.mode === "eks" ? pricesFor(config.region) : REGION_PRICES["us-east-1"];
  } catch (err) {
    console.log(`\nMonthly cost estimate: NOT AVAILABLE: ${(err as Error).message}`);
    process.exitCode = EXIT_CHECK_FAILED;
    return;
  }
  const cost = estimateCost(run.resources, traffic, prices);
  console.log(`\nMonthly cost estimate: ${prices.region} (${prices.location}), on-demand list prices (${PRICES_AS_OF}; recorded ${PRICES_RECORDED_ON}, not re-verified), ${HOURS_PER_MONTH} h/month`);
  if (cost.lines.length === 0) console.log("  no AWS resources: this stack deploys into an existing cluster whose costs this program does not create");
  for (const l of cost.lines) {
    console.log(`  ${l.item.padEnd(58)} ${String(l.quantity).padStart(7)} ${l.unit.padEnd(9)} × ${usd(l.unitPrice, 4).padStart(8)} = ${usd(l.monthly).padStart(11)}`);
  }
  console.log(`  ${"total".padEnd(58)} ${"".padStart(31)} ${usd(cost.total).padStart(11)}`);
  for (const u of cost.unpriced) console.log(`  UNPRICED: ${u}`);
  console.log(`  not included: ${NOT_ESTIMATED.join("; ")}.`);
}

main().catch((err: unknown) => {
  console.error(`plan failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = exitCodeOf(err);
});
