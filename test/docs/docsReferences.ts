/**
 * Every reference to a cluster object in the docs and workflows, checked against one stack's inventory: the kubectl
 * commands (namespace, kind + name, selectors, containers, forwarded ports, jsonpath data keys) and the prose that
 * names an object by kind (`the Secret \`x\``, `\`x\` ConfigMap`, `namespace \`x\``, `svc:port`). Variables a
 * script sets itself are resolved (test/docs/shellWords.ts), `pulumi stack output X` from the stack's outputs.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { find, type InventoryObject } from "./clusterInventory";
import { parseKubectl, type KubectlRef } from "./kubectlRefs";
import { commandsOf, newScope, type Word } from "./shellWords";
import type { ShellSnippet } from "./shellText";

/** One reference that did not resolve in a stack. */
export interface Problem {
  readonly file: string;
  readonly line: number;
  /** The command or prose as written. */
  readonly source: string;
  readonly problem: string;
}

/** Wrappers that run the command after them. */
const WRAPPERS = new Set(["nohup", "sudo", "exec", "time", "env"]);
/** A DNS-1123 name, optionally with `<placeholder>` parts: what a prose reference to an object looks like. */
const OBJECT_NAME = /^(?:[a-z0-9]|<[^>]+>)(?:[a-z0-9.-]|<[^>]+>)*$/;
/** Kind words prose uses for objects, and the kind they mean. */
const PROSE_KINDS: Readonly<Record<string, string>> = {
  Secret: "Secret", ConfigMap: "ConfigMap", Service: "Service", Deployment: "Deployment", StatefulSet: "StatefulSet",
  CronJob: "CronJob", Job: "Job", KafkaConnect: "KafkaConnect", KafkaConnector: "KafkaConnector", KafkaTopic: "KafkaTopic",
  KafkaUser: "KafkaUser", KafkaBridge: "KafkaBridge", ServiceAccount: "ServiceAccount", PodMonitor: "PodMonitor",
  PrometheusRule: "PrometheusRule",
};

export interface StackView {
  readonly stack: string;
  readonly inventory: readonly InventoryObject[];
  /** The stack outputs (index.ts exports), as `pulumi stack output` prints them. */
  readonly outputs: Readonly<Record<string, unknown>>;
  /** Helm releases that could not be expanded, and why: their objects are unknown here. */
  readonly unexpanded: readonly string[];
}

function outputText(v: unknown): string | undefined {
  if (v === undefined || v === null) return undefined;
  return typeof v === "string" ? v : JSON.stringify(v);
}

/** The output NAME words of `pulumi stack output [--stack S] [--show-secrets] [--json] [NAME]`; undefined for another command. */
function stackOutputArgs(words: readonly Word[]): Word[] | undefined {
  const t = words.map((w) => w.text);
  if (t[0] !== "pulumi" || t[1] !== "stack" || t[2] !== "output") return undefined;
  return words.slice(3).filter((x, i, all) => !x.text.startsWith("-") && all[i - 1]?.text !== "--stack" && all[i - 1]?.text !== "-s");
}

/** `pulumi stack output [--stack S] [--show-secrets] NAME` → the stack's output; nothing else is known. */
function stackOutputResolver(view: StackView): (words: readonly Word[]) => string | undefined {
  return (words) => {
    const names = stackOutputArgs(words);
    return names !== undefined && names.length === 1 && names[0].unresolved.length === 0 ? outputText(view.outputs[names[0].text]) : undefined;
  };
}

/**
 * Every stack output a snippet reads by name (`pulumi stack output … NAME`, directly or through a shell function
 * such as `out() { pulumi stack output --stack "$STACK" "$1"; }`), with where; a name it cannot resolve is reported
 * as written.
 */
export function stackOutputNames(snippet: ShellSnippet): { name: string; source: string }[] {
  const names: string[] = [];
  const record = (words: readonly Word[]): void => {
    for (const n of stackOutputArgs(words) ?? []) names.push(n.unresolved.length === 0 ? n.text : `(unresolved ${n.unresolved.join(", ")})`);
  };
  for (const c of commandsOf(snippet.text, newScope(snippet.env), (words) => { record(words); return undefined; })) record(c.words);
  // Where: the script's line that spells the name (a function call names it, the function's body does not).
  const lines = snippet.text.split("\n");
  return names.map((name) => ({ name, source: (lines.find((l) => l.includes(name)) ?? lines[0] ?? "").trim() }));
}

/**
 * Workflow steps that read a stack output the program never exports (a typo, a renamed output, one another branch
 * removed): `exportable` is every output name the program can export in some configuration.
 */
export function unknownStackOutputs(snippets: readonly ShellSnippet[], exportable: ReadonlySet<string>): Problem[] {
  return snippets.filter((s) => s.kind === "run").flatMap((s) =>
    stackOutputNames(s).filter((o) => !exportable.has(o.name)).map((o) => ({
      file: s.file, line: s.line, source: o.source,
      problem: `reads stack output ${o.name}, which the program does not export in any stack (exports: ${[...exportable].sort().join(", ")}); fix the name or export it in index.ts`,
    })));
}

function describeRef(r: KubectlRef): string {
  const ns = "namespace" in r && r.namespace !== undefined ? ` in namespace ${r.namespace}` : "";
  switch (r.what) {
    case "namespace": return `namespace ${r.namespace}`;
    case "object": return `${r.kind} ${r.name}${ns}`;
    case "selector": return `${r.kind} with labels ${r.selector}${ns}`;
    case "container": return `container ${r.container} in ${r.kind} ${r.name}${ns}`;
    case "port": return `port ${r.port} on ${r.kind} ${r.name}${ns}`;
    case "dataKey": return `key ${r.key} in ${r.kind} ${r.name}${ns}`;
  }
}

/** Why a reference does not resolve in the inventory, or undefined when it does. */
export function checkRef(r: KubectlRef, view: StackView): string | undefined {
  const inv = view.inventory;
  const hint = (kind: string, name?: string): string => {
    const others = inv.filter((o) => o.kind === kind && (name === undefined || o.name.includes(name.split("-")[0] ?? "")));
    const sameName = name === undefined ? [] : inv.filter((o) => o.name === name && o.kind !== kind);
    const parts: string[] = [];
    if (sameName.length > 0) parts.push(`a ${sameName.map((o) => `${o.kind} ${o.namespace ?? ""}/${o.name}`).join(", ")} exists`);
    if (others.length > 0 && others.length <= 8) parts.push(`${kind}s here: ${others.map((o) => `${o.namespace ?? ""}/${o.name}`).join(", ")}`);
    const ns = "namespace" in r ? r.namespace : undefined;
    const unexpanded = view.unexpanded.filter((u) => ns === undefined || u.startsWith(`${ns}/`));
    if (unexpanded.length > 0) parts.push(`charts not expanded: ${unexpanded.join("; ")}`);
    return parts.length > 0 ? ` (${parts.join("; ")})` : "";
  };
  if (r.what === "namespace") {
    if (r.namespace.includes("<")) return `namespace ${r.namespace} is a placeholder: write the namespace the program creates${hint("Namespace")}`;
    return inv.some((o) => o.kind === "Namespace" && o.name === r.namespace) ? undefined : `no namespace ${r.namespace}${hint("Namespace")}`;
  }
  if (r.what === "selector") {
    return find(inv, { kind: r.kind, namespace: r.namespace, selector: r.selector }).length > 0 ? undefined : `no ${describeRef(r)}`;
  }
  const matches = find(inv, { kind: r.kind, name: r.name, namespace: r.namespace });
  if (matches.length === 0) return `no ${r.kind} ${r.name}${r.namespace !== undefined ? ` in namespace ${r.namespace}` : ""}${hint(r.kind, r.name)}`;
  if (r.what === "container" && !matches.some((o) => o.containers.includes(r.container))) {
    return `no ${describeRef(r)}: it has ${[...new Set(matches.flatMap((o) => o.containers))].join(", ")}`;
  }
  if (r.what === "port") {
    if (!matches.some((o) => o.ports.includes(r.port))) return `no ${describeRef(r)}: it has ${[...new Set(matches.flatMap((o) => o.ports))].join(", ") || "no ports"}`;
  }
  if (r.what === "dataKey" && !matches.some((o) => o.dataKeys.includes(r.key))) {
    return `no ${describeRef(r)}: it has ${[...new Set(matches.flatMap((o) => o.dataKeys))].join(", ")}`;
  }
  return undefined;
}

/** Problems of the kubectl commands in one snippet, evaluated for one stack (`env`: the step's resolved env). */
export function kubectlProblems(snippet: ShellSnippet, view: StackView, env: Readonly<Record<string, string>>): Problem[] {
  const commands = commandsOf(snippet.text, newScope(env), stackOutputResolver(view));
  const problems: Problem[] = [];
  for (const c of commands) {
    let words = c.words;
    while (words.length > 0 && WRAPPERS.has(words[0].text)) words = words.slice(1);
    if (words[0]?.text !== "kubectl") continue;
    const at = { file: snippet.file, line: snippet.line, source: c.source };
    const parsed = parseKubectl(words);
    if (parsed.unresolved.length > 0) {
      problems.push({ ...at, problem: `cannot resolve ${parsed.unresolved.join(", ")} (set it in the same step/block, or from a stack output)` });
      continue;
    }
    if (parsed.missingNamespace) problems.push({ ...at, problem: `no -n <namespace>: say which namespace (${[...new Set(view.inventory.filter((o) => o.kind === "Namespace").map((o) => o.name))].join(", ")})` });
    const seen = new Set<string>();
    for (const r of parsed.refs) {
      const why = checkRef(r, view);
      // A missing object fails its key, port and container references with the same message: say it once.
      if (why !== undefined && !seen.has(why)) problems.push({ ...at, problem: why });
      if (why !== undefined) seen.add(why);
    }
  }
  return problems;
}

/** The outputs a workflow step writes to $GITHUB_OUTPUT (`echo "name=value"`), resolved for one stack. */
export function stepOutputs(snippet: ShellSnippet, view: StackView, env: Readonly<Record<string, string>>): Record<string, string> {
  if (!snippet.text.includes("GITHUB_OUTPUT")) return {};
  const scope = newScope(env);
  const out: Record<string, string> = {};
  for (const c of commandsOf(snippet.text, scope, stackOutputResolver(view))) {
    if (c.words[0]?.text !== "echo") continue;
    for (const w of c.words.slice(1)) {
      const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/s.exec(w.text);
      if (m && w.unresolved.length === 0) out[m[1]] = m[2];
    }
  }
  return out;
}

/** `${{ steps.ID.outputs.NAME }}` and `${{ env.NAME }}` in a step's env; other expressions stay unresolved (dropped). */
export function resolveStepEnv(env: Readonly<Record<string, string>>, outputs: Readonly<Record<string, Record<string, string>>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) {
    let unknown = false;
    const value = v.replace(/\$\{\{\s*([^}]+?)\s*\}\}/g, (_, expr: string) => {
      const step = /^steps\.([\w-]+)\.outputs\.([\w-]+)$/.exec(expr);
      const known = step ? outputs[step[1]]?.[step[2]] : /^env\.(\w+)$/.exec(expr) ? env[expr.slice(4)] : undefined;
      if (known === undefined) unknown = true;
      return known ?? "";
    });
    if (!unknown) out[k] = value;
  }
  return out;
}

/** Prose references in one markdown file: `Kind \`name\``, `\`name\` Kind`, `namespace \`x\``, `service:port`. */
export function proseRefs(root: string, file: string): { line: number; source: string; ref: KubectlRef }[] {
  const text = readFileSync(join(root, file), "utf8").replace(/^([ \t]*)(`{3,}|~{3,})[^\n]*\n[\s\S]*?\n[ \t]*\2[ \t]*$/gm, (m) => m.replace(/[^\n]/g, " "));
  const lineOf = (i: number) => text.slice(0, i).split("\n").length;
  const out: { line: number; source: string; ref: KubectlRef }[] = [];
  const kinds = Object.keys(PROSE_KINDS).join("|");
  const patterns = [
    new RegExp(`\\b(${kinds})s?\\s+\`([^\`]+)\``, "g"),
    new RegExp(`\`([^\`]+)\`\\s+(${kinds})\\b`, "g"),
  ];
  for (const [i, re] of patterns.entries()) {
    for (const m of text.matchAll(re)) {
      const [kindWord, name] = i === 0 ? [m[1], m[2]] : [m[2], m[1]];
      if (!OBJECT_NAME.test(name)) continue;
      out.push({ line: lineOf(m.index), source: m[0].replace(/\s+/g, " "), ref: { what: "object", kind: PROSE_KINDS[kindWord], name } });
    }
  }
  for (const m of text.matchAll(/\bnamespaces?\s+`([^`]+)`/gi)) {
    if (OBJECT_NAME.test(m[1])) out.push({ line: lineOf(m.index), source: m[0].replace(/\s+/g, " "), ref: { what: "namespace", namespace: m[1] } });
  }
  // `service:port`, `service.namespace.svc[.cluster.local]:port`
  for (const m of text.matchAll(/`([a-z0-9-]+)(?:\.([a-z0-9-]+)\.svc(?:\.cluster\.local)?)?:(\d+)`/g)) {
    if (m[1] === "localhost") continue;
    out.push({ line: lineOf(m.index), source: m[0], ref: { what: "port", kind: "Service", name: m[1], port: m[3], ...(m[2] !== undefined ? { namespace: m[2] } : {}) } });
  }
  return out;
}
