/**
 * Names in the docs and workflows are names the program gives: every kubectl command in README.md, docs/**.md and
 * .github/workflows/*.yml (namespace, kind + name, label selectors, containers, forwarded ports, jsonpath keys) and
 * every object the prose names by kind must exist in what the targeted stack renders — the program's objects, the
 * objects its Helm charts create (`helm template` with ../shared/charts; kube-prometheus-stack's CRDs, which come
 * from a subchart ../shared lacks, from ../shared/crds: test/docs/chartCrds.ts) and the ones Strimzi makes from our
 * custom resources. A rename then breaks this test instead of a deploy or a runbook at 3 a.m.
 *
 * Targets: a workflow job that deploys a stack (`stack-name: …/<stack>`) targets that stack; everything else targets
 * every stack. Without ../shared or helm the chart-made names are unknown: skipped with the reason, failing under
 * CI=true (as the other ../shared checks).
 */
import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { beforeAll, expect, it } from "vitest";
import { expandHelmReleases, helmVersion } from "../tools/helmExpand";
import { knownStacks } from "../tools/mockRun";
import { renderObjects } from "../tools/renderObjects";
import { subchartCrds } from "./docs/chartCrds";
import { inventoryOf } from "./docs/clusterInventory";
import { checkRef, kubectlProblems, proseRefs, resolveStepEnv, stepOutputs, unknownStackOutputs, type Problem, type StackView } from "./docs/docsReferences";
import { allSnippets, markdownFiles, workflowFiles, workflowJobStacks } from "./docs/shellText";
import { runProgram } from "./harness";
import { isCi, SHARED_DIR } from "./sharedRefs";
import { describeWithShared } from "./withShared";

const ROOT = join(__dirname, "..");
const ENGINES = process.env.WATCHPIPE_ENGINES ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), ".cache"), "watchpipe", "engines");
/** The helm .ci/install-engines.sh builds, else one on PATH. */
const HELM = [join(ENGINES, "helm-3.22.0", "helm"), "helm"].find((h) => (h === "helm" || existsSync(h)) && helmVersion(h) !== undefined);
/** Three program runs under mocks plus `helm template` of every chart, on a shared 2-core machine. */
const SETUP_TIMEOUT_MS = 240_000;

/**
 * References the check cannot prove, each with why it is right anyway. Keyed by file and a piece of the command or
 * prose; `stacks` limits an entry to the stacks where the reference is legitimately absent. An entry that matches
 * nothing fails the test, so the list cannot go stale.
 */
interface Allowed {
  readonly file: string;
  readonly contains: string;
  readonly stacks?: readonly string[];
  readonly reason: string;
}
const BACKUP_OFF_ON_LOCAL = "backup.enabled is false on local (no S3 there); the runbook's Backups section says it is EKS-only";
const GATEWAY_ON_DEV_AND_PROD = "dev and prod take players through the ingest gateway and deploy no Bridge; local has no gateway, so the Bridge is its HTTP ingest (the line beside it names the other)";
const ALLOWED: readonly Allowed[] = [
  { file: "README.md", contains: "svc/ingest-bridge-service", stacks: ["dev", "prod"], reason: GATEWAY_ON_DEV_AND_PROD },
  { file: "README.md", contains: "svc/ingest-gateway", stacks: ["local"], reason: GATEWAY_ON_DEV_AND_PROD },
  { file: "docs/runbooks/yugabyte.md", contains: "yugabyte-backup", stacks: ["local"], reason: BACKUP_OFF_ON_LOCAL },
  { file: "docs/runbooks/yugabyte.md", contains: "-c dump", stacks: ["local"], reason: BACKUP_OFF_ON_LOCAL },
  {
    file: "docs/runbooks/yugabyte.md", contains: "svc/yugabyte-az0-yb-masters", stacks: ["dev", "local"],
    reason: "multi-zone topology (prod) names each AZ's release yugabyte-az<N>; the line beside it names dev's and local's single release",
  },
  {
    file: "docs/runbooks/yugabyte.md", contains: "svc/yugabyte-yb-masters", stacks: ["prod"],
    reason: "dev's and local's single release; the line beside it names prod's per-AZ releases",
  },
  {
    file: "README.md", contains: "kubectl delete crd alertmanagerconfigs.monitoring.coreos.com", stacks: ["local"],
    reason: "local leaves monitoring.enabled false, so nothing installs the Prometheus Operator CRDs there; the README line says it applies with monitoring.mode: stack (dev and prod resolve it against ../shared/crds)",
  },
  {
    file: "docs/runbooks/yugabyte.md", contains: "yugabyte-restore-<hash>",
    reason: "the restore Job exists only while backup.restoreFrom is set, which no committed stack does (test/real/apiserver.test.ts renders prod with it)",
  },
];

const views = new Map<string, StackView>();
/**
 * Dev with the ingest gateway on (and its deploy smoke issuer, on by default there): the outputs a stack with the
 * gateway exports, which the deploy workflow's smoke reads when it finds the gateway.
 */
const GATEWAY_STACK = {
  stack: "dev",
  overrides: {
    "watchpipe:bridge": { replicas: 1, exposure: "internet-facing", certificateArn: "arn:aws:acm:us-east-1:111122223333:certificate/abcd-1234" },
    "watchpipe:ingest": {
      jwt: { jwksUrl: "https://id.example.com/.well-known/jwks.json", issuer: "https://id.example.com/", audience: ["watchpipe-player"] },
      gateway: { image: `111122223333.dkr.ecr.us-east-1.amazonaws.com/watchpipe-ingest-gateway@sha256:${"ab".repeat(32)}` },
    },
  },
};
let gatewayOutputs: readonly string[] = [];

function problemsFor(view: StackView): Problem[] {
  const problems: Problem[] = [];
  const snippets = allSnippets(ROOT);
  const jobStacks = Object.fromEntries(workflowFiles(ROOT).map((f) => [f, workflowJobStacks(ROOT, f)]));
  const outputs = new Map<string, Record<string, Record<string, string>>>();
  for (const s of snippets) {
    if (s.kind === "run") {
      const target = jobStacks[s.file]?.[s.job ?? ""];
      if (target !== undefined && target !== view.stack) continue;
      const key = `${s.file}#${s.job ?? ""}`;
      const jobOutputs = outputs.get(key) ?? {};
      outputs.set(key, jobOutputs);
      const env = resolveStepEnv(s.env, jobOutputs);
      problems.push(...kubectlProblems(s, view, env));
      if (s.stepId !== undefined) jobOutputs[s.stepId] = stepOutputs(s, view, env);
    } else if (s.kind === "block" || /^\s*kubectl\b/.test(s.text)) {
      problems.push(...kubectlProblems(s, view, {}));
    }
  }
  for (const file of markdownFiles(ROOT)) {
    for (const p of proseRefs(ROOT, file)) {
      // Prose names no namespace: any namespace of the stack will do.
      const why = checkRef(p.ref, view);
      if (why !== undefined) problems.push({ file, line: p.line, source: p.source, problem: why });
    }
  }
  return problems;
}

describeWithShared("docs and workflows name only objects the program, its charts and Strimzi create", () => {
  if (HELM === undefined) {
    const reason = "no helm (neither ~/.cache/watchpipe/engines/helm-3.22.0/helm from .ci/install-engines.sh nor helm on PATH): chart-made names cannot be checked";
    if (isCi()) {
      it("has helm to expand the charts", () => { throw new Error(`${reason}. CI=true requires it; run .ci/install-engines.sh.`); });
      return;
    }
    console.warn(`[skipped] docs names: ${reason}. Runs when helm is there (fails under CI=true).`);
    it.skip(`every reference resolves (skipped: ${reason})`, () => undefined);
    return;
  }

  beforeAll(async () => {
    for (const stack of knownStacks()) {
      const run = await runProgram(stack);
      const expansions = expandHelmReleases(run.resources, join(SHARED_DIR, "charts"), HELM);
      // kube-prometheus-stack cannot be templated from ../shared (no subcharts); its CRDs are read from ../shared/crds.
      const objects = [...renderObjects(run.resources), ...expansions.flatMap((e) => (e.expanded ? e.objects : [])), ...subchartCrds(run.resources, join(SHARED_DIR, "crds"))];
      views.set(stack, {
        stack,
        inventory: inventoryOf(objects),
        outputs: run.outputs,
        unexpanded: expansions.filter((e) => !e.expanded).map((e) => `${e.namespace}/${e.release} (${e.chart}): ${e.expanded ? "" : e.reason}`),
      });
    }
    gatewayOutputs = Object.keys((await runProgram(GATEWAY_STACK.stack, GATEWAY_STACK.overrides)).outputs);
  }, SETUP_TIMEOUT_MS);

  it("finds the commands it checks (the extraction did not silently break)", () => {
    const snippets = allSnippets(ROOT);
    const kubectl = snippets.filter((s) => /\bkubectl\b/.test(s.text));
    expect(kubectl.length).toBeGreaterThan(20);
    expect([...new Set(kubectl.map((s) => s.file))]).toEqual(expect.arrayContaining([".github/workflows/deploy.yml", "README.md", "docs/runbooks/yugabyte.md"]));
  });

  it.each(knownStacks())("every reference resolves in stack %s (or is allowed with a reason)", (stack) => {
    const view = views.get(stack)!;
    const problems = problemsFor(view);
    const allowedFor = (p: Problem) => ALLOWED.find((a) => a.file === p.file && (p.source.includes(a.contains) || p.problem.includes(a.contains)) && (a.stacks === undefined || a.stacks.includes(stack)));
    const left = problems.filter((p) => allowedFor(p) === undefined);
    expect(left.map((p) => `${p.file}:${p.line}: \`${p.source}\`: ${p.problem}`), `stack ${stack}: fix the doc (or the program), or add a reasoned ALLOWED entry`).toEqual([]);
  });

  it("every `pulumi stack output NAME` in the workflows is an output the program exports (in a stack, or with the ingest gateway on)", () => {
    const exportable = new Set([...[...views.values()].flatMap((v) => Object.keys(v.outputs)), ...gatewayOutputs]);
    // The gateway run is what makes the smoke's gateway-mode outputs exportable; without it the check would be empty.
    expect(gatewayOutputs).toEqual(expect.arrayContaining(["ingestGatewayService", "ingestGatewayPort", "ingestSmokeIssuer", "ingestSmokeAudience", "ingestSmokeKid", "ingestSmokeKeyPem"]));
    const runs = allSnippets(ROOT).filter((s) => s.kind === "run");
    const left = unknownStackOutputs(runs, exportable);
    expect(left.map((p) => `${p.file}:${p.line}: \`${p.source}\`: ${p.problem}`)).toEqual([]);
    // The check sees the smoke step's reads (through the workflow's `out` function too) and fails a name the program
    // does not export, e.g. the key output misspelt.
    const deploy = runs.filter((s) => s.file === ".github/workflows/deploy.yml");
    const misspelt = deploy.map((s) => ({ ...s, text: s.text.replaceAll("ingestSmokeKeyPem", "ingestSmokeKey").replaceAll("ingestSmokeKid", "smokeKid") }));
    expect(unknownStackOutputs(misspelt, exportable).map((p) => p.problem.split(",")[0])).toEqual([
      "reads stack output smokeKid",
      "reads stack output ingestSmokeKey",
    ]);
  });

  it("every ALLOWED entry still matches a reference in some stack (no stale exceptions)", () => {
    const all = [...views.values()].flatMap((v) => problemsFor(v).map((p) => ({ ...p, stack: v.stack })));
    const stale = ALLOWED.filter((a) => !all.some((p) => a.file === p.file && (p.source.includes(a.contains) || p.problem.includes(a.contains)) && (a.stacks === undefined || a.stacks.includes(p.stack))));
    expect(stale.map((a) => `${a.file}: "${a.contains}"`)).toEqual([]);
  });
});
