/**
 * `npm run render -- --stack <s> --out <dir>`: every Kubernetes object the program would apply for a stack, as YAML,
 * one file per object under `<dir>/<namespace>/` (cluster-scoped ones under `<dir>/_cluster/`). The program runs under
 * the test mocks with the stack's real config: no cloud, no cluster, no credentials.
 *
 * Secrets' data/stringData are redacted. Helm releases appear as their Release object with values; with --helm each
 * is also expanded with `helm template` (tools/helmExpand.ts) when helm and the unpacked chart are available. See
 * tools/renderObjects.ts for the rules.
 */
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { EXIT_CODES_HELP, UsageError } from "./exitCodes";
import { runTool } from "./cli";
import { expandHelmReleases } from "./helmExpand";
import { knownStacks, ROOT, runProgramOnce } from "./mockRun";
import { describeTally, renderObjects, tallyResources, writeRender } from "./renderObjects";

/** Where the team keeps unpacked upstream charts: `../shared/charts` beside the checkout (README: "../shared"). */
export const DEFAULT_CHARTS_DIR = join(ROOT, "..", "shared", "charts");

const HELP = `Render every Kubernetes object a stack would apply, as YAML (no cloud access needed).

Usage: npm run render -- --stack <stack> --out <dir> [--helm [--charts-dir <dir>]]

  --stack <name>        stack to render: ${knownStacks().join(", ")} (reads Pulumi.<name>.yaml)
  --out <dir>           output directory; one file per object under <dir>/<namespace>/<kind>-<name>.yaml,
                        cluster-scoped objects under <dir>/_cluster/. A directory from an earlier render is replaced;
                        any other non-empty directory is refused.
  --helm                also expand each Helm release with \`helm template\` and the program's exact values, into
                        <dir>/<namespace>/helm-<release>/ (needs helm on PATH and the unpacked chart)
  --charts-dir <dir>    unpacked charts named <chart>-<version> (default ../shared/charts beside the checkout,
                        or WATCHPIPE_CHARTS_DIR)
  --help                this text

Secrets are redacted. Without --helm, Helm releases are shown as Release objects with their values only.
Counts: every Pulumi resource the program registers, split into cloud/other, Kubernetes, components and providers;
each Kubernetes resource is one Kubernetes object (\`npm run plan\` prints the same line).

${EXIT_CODES_HELP}`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { stack: { type: "string" }, out: { type: "string" }, helm: { type: "boolean" }, "charts-dir": { type: "string" }, help: { type: "boolean", short: "h" } },
  });
  if (values.help) {
    console.log(HELP);
    return;
  }
  if (!values.stack || !values.out) throw new UsageError(`--stack and --out are required; got --stack ${values.stack ?? "(none)"} --out ${values.out ?? "(none)"}.\n\n${HELP}`);
  if (!knownStacks().includes(values.stack)) throw new UsageError(`--stack ${values.stack}: no Pulumi.${values.stack}.yaml; expected one of ${knownStacks().join(", ")}.`);
  const chartsDir = resolve(values["charts-dir"] ?? process.env.WATCHPIPE_CHARTS_DIR ?? DEFAULT_CHARTS_DIR);
  if (values["charts-dir"] !== undefined && !existsSync(chartsDir)) throw new UsageError(`--charts-dir ${chartsDir} does not exist.`);
  const started = performance.now();
  const run = await runProgramOnce(values.stack);
  const objects = renderObjects(run.resources);
  const expansions = values.helm ? expandHelmReleases(run.resources, chartsDir) : [];
  const chartObjects = expansions.flatMap((e) => (e.expanded ? e.objects : []));
  const out = resolve(values.out);
  writeRender(out, [...objects, ...chartObjects], values.stack);
  const byNamespace = new Map<string, number>();
  for (const o of objects) byNamespace.set(o.path.split("/")[0], (byNamespace.get(o.path.split("/")[0]) ?? 0) + 1);
  const seconds = (performance.now() - started) / 1000;
  console.log(`rendered stack ${values.stack} into ${out} in ${seconds.toFixed(1)} s: ${describeTally(tallyResources(run.resources))}`);
  for (const [ns, count] of [...byNamespace].sort()) console.log(`  ${ns.padEnd(20)} ${count}`);
  if (!values.helm) {
    const releases = objects.filter((o) => o.kind === "Release").length;
    console.log(`Helm charts not expanded (${releases} releases shown as Release objects); pass --helm to expand them with helm template.`);
    return;
  }
  for (const e of expansions) {
    console.log(e.expanded ? `  helm ${e.namespace}/${e.release} (${e.chart}): ${e.objects.length} objects from helm template` : `  helm ${e.namespace}/${e.release} (${e.chart}): NOT expanded: ${e.reason}`);
  }
  console.log(`Helm: ${expansions.filter((e) => e.expanded).length} of ${expansions.length} releases expanded (${chartObjects.length} chart objects, in addition to the count above).`);
}

// One convention for every tool (tools/cli.ts): one line per failure, no stack trace, exit 2 for usage.
runTool("render failed", main);
