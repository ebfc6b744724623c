/**
 * `npm run render -- --stack <s> --out <dir>`: every Kubernetes object the program would apply for a stack, as YAML,
 * one file per object under `<dir>/<namespace>/` (cluster-scoped ones under `<dir>/_cluster/`). The program runs under
 * the test mocks with the stack's real config: no cloud, no cluster, no credentials.
 *
 * Secrets' data/stringData are redacted. Helm releases appear as their Release object with values: chart templates
 * are not expanded. See tools/renderObjects.ts for the rules.
 */
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { knownStacks, runProgramOnce } from "./mockRun";
import { renderObjects, writeRender } from "./renderObjects";

const HELP = `Render every Kubernetes object a stack would apply, as YAML (no cloud access needed).

Usage: npm run render -- --stack <stack> --out <dir>

  --stack <name>  stack to render: ${knownStacks().join(", ")} (reads Pulumi.<name>.yaml)
  --out <dir>     output directory; one file per object under <dir>/<namespace>/<kind>-<name>.yaml,
                  cluster-scoped objects under <dir>/_cluster/. A directory from an earlier render is replaced;
                  any other non-empty directory is refused.
  --help          this text

Secrets are redacted. Helm releases are shown as Release objects with their values; chart templates are not expanded.`;

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { stack: { type: "string" }, out: { type: "string" }, help: { type: "boolean" } } });
  if (values.help) {
    console.log(HELP);
    return;
  }
  if (!values.stack || !values.out) throw new Error(`--stack and --out are required; got --stack ${values.stack ?? "(none)"} --out ${values.out ?? "(none)"}.\n\n${HELP}`);
  const started = performance.now();
  const run = await runProgramOnce(values.stack);
  const objects = renderObjects(run.resources);
  const out = resolve(values.out);
  writeRender(out, objects, values.stack);
  const byNamespace = new Map<string, number>();
  for (const o of objects) byNamespace.set(o.path.split("/")[0], (byNamespace.get(o.path.split("/")[0]) ?? 0) + 1);
  const seconds = (performance.now() - started) / 1000;
  console.log(`rendered ${objects.length} Kubernetes objects of stack ${values.stack} (${run.resources.length} Pulumi resources) into ${out} in ${seconds.toFixed(1)} s`);
  for (const [ns, count] of [...byNamespace].sort()) console.log(`  ${ns.padEnd(20)} ${count}`);
}

main().catch((err: unknown) => {
  console.error(`render failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
});
