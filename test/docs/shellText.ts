/**
 * Where the shell commands of the docs and workflows are: fenced `bash`/`sh`/`shell` blocks and inline code spans of
 * the markdown files, and the `run:` steps of the GitHub workflows (with the `env:` each step sees). Pure text
 * handling, no Pulumi: test/docsNames.test.ts and test/readmeCommands.test.ts read the same extraction.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";

/** Fence languages that hold shell commands; other fences (yaml, mermaid, plain diagrams) are not commands. */
const SHELL_FENCES = new Set(["bash", "sh", "shell"]);

/** One piece of shell text and where it came from. */
export interface ShellSnippet {
  /** Path relative to the repository root. */
  readonly file: string;
  /** 1-based line of the snippet's first line. */
  readonly line: number;
  readonly text: string;
  /** fenced block, inline code span, or a workflow `run:` step. */
  readonly kind: "block" | "inline" | "run";
  /** Workflow steps only: the `env:` values the step sees (workflow, job and step levels, later ones winning). */
  readonly env: Readonly<Record<string, string>>;
  /** Workflow steps only: the job the step belongs to, and the step's id. */
  readonly job?: string;
  readonly stepId?: string;
  /** Markdown only: the comment line just above a fenced block (`<!-- … -->`), if any. */
  readonly marker?: string;
}

function lineAt(text: string, offset: number): number {
  return text.slice(0, offset).split("\n").length;
}

/** Markdown files the checks read: README.md and everything under docs/. */
export function markdownFiles(root: string): string[] {
  const out = ["README.md"];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(join(root, dir), { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith(".md")) out.push(path);
    }
  };
  walk("docs");
  return out.sort();
}

/** Fenced shell blocks and inline code spans of one markdown file. */
export function markdownSnippets(root: string, file: string): ShellSnippet[] {
  const text = readFileSync(join(root, file), "utf8");
  const out: ShellSnippet[] = [];
  // Fences (``` or ~~~, possibly indented in a list); the rest of the text is where inline spans live.
  const fence = /^([ \t]*)(`{3,}|~{3,})([^\n`]*)\n([\s\S]*?)\n[ \t]*\2[ \t]*$/gm;
  let prose = "";
  let last = 0;
  for (const m of text.matchAll(fence)) {
    const start = m.index;
    prose += text.slice(last, start) + "\n".repeat(m[0].split("\n").length - 1);
    last = start + m[0].length;
    const lang = m[3].trim().split(/\s+/)[0]?.toLowerCase() ?? "";
    if (!SHELL_FENCES.has(lang)) continue;
    const indent = m[1].length;
    const body = m[4].split("\n").map((l) => l.slice(Math.min(indent, l.length - l.trimStart().length))).join("\n");
    const before = text.slice(0, start).trimEnd().split("\n").pop() ?? "";
    const marker = /^<!--([\s\S]*)-->$/.exec(before.trim())?.[1]?.trim();
    out.push({ file, line: lineAt(text, start) + 1, text: body, kind: "block", env: {}, ...(marker !== undefined ? { marker } : {}) });
  }
  prose += text.slice(last);
  // Inline code spans may wrap onto the next line inside a paragraph (CommonMark), never across a blank line.
  for (const m of prose.matchAll(/(?<!`)`([^`]+?)`(?!`)/g)) {
    if (/\n[ \t]*\n/.test(m[1])) continue;
    out.push({ file, line: lineAt(prose, m.index), text: m[1].replace(/\s*\n\s*/g, " "), kind: "inline", env: {} });
  }
  return out;
}

interface WorkflowStep {
  readonly id?: string;
  readonly name?: string;
  readonly run?: string;
  readonly env?: Record<string, string>;
}
interface WorkflowJob {
  readonly env?: Record<string, string>;
  readonly steps?: WorkflowStep[];
}
interface Workflow {
  readonly env?: Record<string, string>;
  readonly jobs?: Record<string, WorkflowJob>;
}

/** The workflow files under .github/workflows. */
export function workflowFiles(root: string): string[] {
  const dir = join(".github", "workflows");
  return readdirSync(join(root, dir)).filter((f) => /\.ya?ml$/.test(f)).map((f) => join(dir, f)).sort();
}

/** Every `run:` step of one workflow, with the env it sees and the job it is in. */
export function workflowSnippets(root: string, file: string): ShellSnippet[] {
  const text = readFileSync(join(root, file), "utf8");
  const wf = parse(text) as Workflow;
  const out: ShellSnippet[] = [];
  let searchFrom = 0;
  for (const [jobName, job] of Object.entries(wf.jobs ?? {})) {
    for (const step of job.steps ?? []) {
      if (typeof step.run !== "string") continue;
      // A folded (`>-`) step joins its lines: look for the start of its first line only.
      const first = step.run.split("\n")[0].trim().slice(0, 16);
      const at = text.indexOf(first, searchFrom);
      if (at >= 0) searchFrom = at + first.length;
      const env = { ...stringMap(wf.env), ...stringMap(job.env), ...stringMap(step.env) };
      out.push({ file, line: at >= 0 ? lineAt(text, at) : 0, text: step.run, kind: "run", env, job: jobName, ...(step.id !== undefined ? { stepId: step.id } : {}) });
    }
  }
  return out;
}

function stringMap(m: Record<string, unknown> | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(m ?? {}).map(([k, v]) => [k, String(v)]));
}

/** The jobs of a workflow with the stack their `pulumi/actions` step targets (`stack-name: …/<stack>`), if any. */
export function workflowJobStacks(root: string, file: string): Record<string, string | undefined> {
  const wf = parse(readFileSync(join(root, file), "utf8")) as { jobs?: Record<string, { steps?: { with?: Record<string, unknown> }[] }> };
  const out: Record<string, string | undefined> = {};
  for (const [name, job] of Object.entries(wf.jobs ?? {})) {
    const stackName = (job.steps ?? []).map((s) => s.with?.["stack-name"]).find((v): v is string => typeof v === "string");
    const last = stackName?.split("/").pop();
    out[name] = last !== undefined && /^[a-z0-9-]+$/.test(last) ? last : undefined;
  }
  return out;
}

/** Every snippet of the docs and workflows under `root`. */
export function allSnippets(root: string): ShellSnippet[] {
  return [...markdownFiles(root).flatMap((f) => markdownSnippets(root, f)), ...workflowFiles(root).flatMap((f) => workflowSnippets(root, f))];
}
