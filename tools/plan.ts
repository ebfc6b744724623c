/**
 * `npm run plan -- --stack <s>`: a ten-second summary of a stack without touching the cloud: what it creates (counts
 * by kind), the heartbeat topics' headroom at the 100,000 events/s design peak (contract/capacity.ts), the ingest at
 * one and at N heartbeats per POST, and a monthly cost estimate from the dated list-price table in tools/prices.ts.
 * The program runs under the test mocks with the stack's real config. `--json` prints the same report
 * (tools/planReport.ts) as one JSON document for CI.
 */
import { parseArgs } from "node:util";
import { loadConfig } from "../config";
import { maxHeartbeatsPerRequest, PLAN_BATCH_HEARTBEATS } from "../contract/ingest";
import { MAX_LATENESS_SEC } from "../contract/sessionization";
import { HEARTBEAT_INTERVAL_SEC } from "../contract/topics";
import { configOverrides } from "./configSet";
import { knownStacks, runProgramOnce, stackFileConfig } from "./mockRun";
import { batchProblems, buildPlanReport, PLAN_JSON_VERSION, planText } from "./planReport";
import { EXIT_CODES_HELP, UsageError } from "./exitCodes";
import { runTool } from "./cli";
import { REGION_PRICES, PRICES_AS_OF, PRICES_RECORDED_ON } from "./prices";

const HELP = `Summarise a stack: resource counts, capacity headroom at the design peak, ingest requests, monthly cost estimate.

Usage: npm run plan -- --stack <stack> [--json] [--batch <n>] [--max-monthly-usd <usd>] [--set <path>=<value> ...]

  --stack <name>            stack to plan: ${knownStacks().join(", ")} (reads Pulumi.<name>.yaml)
  --json                    print the whole plan as one JSON document on stdout (version ${PLAN_JSON_VERSION}), nothing else
  --batch <n>               heartbeats per POST to compare with one per POST (default ${PLAN_BATCH_HEARTBEATS}); the estimate
                            itself prices the ingest gateway's configured batch where the stack sets one (players
                            batch through it), else one per POST (the Kafka Bridge path)
  --max-monthly-usd <usd>   also fail (exit 1) when the monthly total is above this
  --set <path>=<value>      plan the stack with one config value changed, Pulumi.<stack>.yaml untouched (repeatable):
                            a dotted path under watchpipe: (or a namespaced key like aws:region), the value JSON or
                            a string; objects merge into the stack's. E.g. players batching 6 per POST:
                              --set ingest.gateway.maxHeartbeatsPerRequest=6
  --help                    this text

Runs the program under mocks (no cloud access). Costs are on-demand list prices recorded by hand for the regions
${Object.keys(REGION_PRICES).join(", ")} (${PRICES_AS_OF}; written down ${PRICES_RECORDED_ON}, not re-verified); see
tools/prices.ts. A stack in another region gets no estimate and exits 1.
Counts: every Pulumi resource the program registers, split into cloud/other, Kubernetes, components and providers;
each Kubernetes resource is one Kubernetes object (\`npm run render\` prints the same line).

${EXIT_CODES_HELP} Invalid stack config, a resource above the load budget, a region without prices or a total
above --max-monthly-usd is a failed check (1); with --json the document still prints and its verdict says why.`;

/** A positive number from a flag, or a usage error naming the flag. */
function positive(flag: string, text: string | undefined, integer: boolean): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!(Number.isFinite(n) && n > 0 && (!integer || Number.isInteger(n)))) {
    throw new UsageError(`--${flag}: expected a positive ${integer ? "integer" : "number"}; got ${JSON.stringify(text)}.`);
  }
  return n;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      stack: { type: "string" },
      json: { type: "boolean" },
      batch: { type: "string" },
      "max-monthly-usd": { type: "string" },
      set: { type: "string", multiple: true },
      help: { type: "boolean" },
    },
  });
  if (values.help) {
    console.log(HELP);
    return;
  }
  if (!values.stack) throw new UsageError(`--stack is required; expected one of ${knownStacks().join(", ")}.\n\n${HELP}`);
  if (!knownStacks().includes(values.stack)) throw new UsageError(`--stack ${values.stack}: no Pulumi.${values.stack}.yaml; expected one of ${knownStacks().join(", ")}.`);
  const batch = positive("batch", values.batch, true) ?? PLAN_BATCH_HEARTBEATS;
  const maxMonthlyUsd = positive("max-monthly-usd", values["max-monthly-usd"], false);

  let overrides: Record<string, unknown>;
  try {
    overrides = configOverrides(stackFileConfig(values.stack), values.set ?? []);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }

  const started = performance.now();
  const run = await runProgramOnce(values.stack, overrides);
  // The run left the stack's config in the Pulumi runtime: read it exactly as the program did.
  const config = loadConfig();
  const seconds = (performance.now() - started) / 1000;
  const problems = batchProblems(batch, config, maxHeartbeatsPerRequest(config.ingest.waf.maxBodyBytes, config.capacity.avgEventBytes), MAX_LATENESS_SEC, HEARTBEAT_INTERVAL_SEC);
  if (problems.length > 0) throw new UsageError(problems.join("\n"));

  const report = buildPlanReport(values.stack, run, config, seconds, { batch, maxMonthlyUsd });
  if (values.json) console.log(JSON.stringify(report, null, 2));
  else console.log(planText(report).join("\n"));
  process.exitCode = report.verdict.exitCode;
}

// One convention for every tool (tools/cli.ts): one line per failure, no stack trace, exit 2 for usage.
runTool("plan failed", main);
