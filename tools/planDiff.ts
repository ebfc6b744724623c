/**
 * `tsx tools/planDiff.ts --base base.json --head head.json`: the monthly cost change between two `plan --json`
 * documents of the same stack (the PR's base and head), as a Markdown table for a CI job summary. Lines are matched
 * by item; a missing base (the base branch predates --json, or its plan failed) prints the head alone.
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { EXIT_CODES_HELP, exitCodeOf, UsageError } from "./exitCodes";
import { planDiffMarkdown, PLAN_JSON_VERSION, type PlanReport } from "./planReport";

const HELP = `Compare two \`npm run plan -- --json\` documents of one stack as a Markdown cost table.

Usage: tsx tools/planDiff.ts --head <head.json> [--base <base.json>]

  --head <file>   the plan of the change (required)
  --base <file>   the plan it is compared with; missing or unreadable: the head is shown alone
  --help          this text

${EXIT_CODES_HELP} The head's own verdict is not checked here: \`plan\` exits 1 for it.`;

function readPlan(file: string): PlanReport {
  const doc = JSON.parse(readFileSync(file, "utf8")) as PlanReport;
  if (doc.version !== PLAN_JSON_VERSION) throw new Error(`${file}: plan JSON version ${String(doc.version)}; this tool reads version ${PLAN_JSON_VERSION}`);
  return doc;
}

function main(): void {
  const { values } = parseArgs({ options: { head: { type: "string" }, base: { type: "string" }, help: { type: "boolean" } } });
  if (values.help) {
    console.log(HELP);
    return;
  }
  if (!values.head) throw new UsageError(`--head is required.\n\n${HELP}`);
  let head: PlanReport;
  try {
    head = readPlan(values.head);
  } catch (err) {
    throw new UsageError(`--head ${values.head}: ${(err as Error).message}; expected the output of npm run plan -- --json.`);
  }
  let base: PlanReport | undefined;
  try {
    base = values.base ? readPlan(values.base) : undefined;
  } catch {
    // A base branch without `plan --json`, or whose plan failed, has nothing to compare: show the head alone.
    base = undefined;
  }
  console.log(planDiffMarkdown(head, base));
}

try {
  main();
} catch (err) {
  console.error(`planDiff failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = exitCodeOf(err);
}
