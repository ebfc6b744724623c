/**
 * Every command block of README.md and docs/ either runs here or says why it cannot. Each command in a fenced shell
 * block is one of:
 * - run by this test, once, as written (an `npm run <tool>` that needs nothing outside this machine), in a scratch
 *   directory holding the input files the docs name (FIXTURES); it must exit 0 within COMMAND_TIMEOUT_MS;
 * - marked: its line ends in a comment saying what it `needs`, or the block sits under `<!-- needs … -->`;
 * - run by a real-server test the block's `<!-- runs in <test file> … -->` comment names (that file reads it);
 * - an entry point of this very suite (ENTRY_POINTS), which `.ci/run` runs.
 * Inline `npm run <tool> -- --help` spans run too: the help of every tool the docs point at must print. And every
 * flag the docs or the workflows pass to a tool (`npm run smoke -- --pg-host …` in deploy.yml) is one that tool's
 * --help names, so a renamed flag breaks this test instead of the deploy.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { DEFAULT_DATABASE } from "../tools/report";
import { knownStacks } from "../tools/mockRun";
import { smokeScenario } from "../tools/smoke/scenario";
import { DEFAULT_SESSIONIZATION_PARAMS } from "../contract/sessionization";
import { npmInvocation, runInvocation } from "./docs/npmCommand";
import { allSnippets, markdownFiles, markdownSnippets, type ShellSnippet } from "./docs/shellText";
import { commandsOf, newScope } from "./docs/shellWords";
import { runProgram } from "./harness";

const ROOT = join(__dirname, "..");
/** One tool run (tsx start-up, and for plan/render the whole program under mocks) on a busy 2-core machine. */
const COMMAND_TIMEOUT_MS = 120_000;
/**
 * The suite's own entry points: running them inside `npm test` would recurse (npm test) or replace node_modules
 * under the running tests (npm ci); `.ci/run` runs every one of them.
 */
const ENTRY_POINTS: Readonly<Record<string, string>> = {
  "npm ci": "installs node_modules; .ci/run runs it first",
  "npm test": "this suite",
  "npm run test:real": ".ci/run runs it after npm test",
  "npm run real:setup": ".ci/run runs it before test:real",
};
/** Input files the documented commands read, written into the scratch directory they run in. */
const FIXTURES: Readonly<Record<string, () => string>> = {
  // The smoke scenario's heartbeats: a documented input with a known answer (7 segments).
  "heartbeats.json": () => JSON.stringify({ heartbeats: smokeScenario("docs", Date.UTC(2026, 11, 1), DEFAULT_SESSIONIZATION_PARAMS).heartbeats }),
};
const SMOKE_SEGMENTS = smokeScenario("docs", Date.UTC(2026, 11, 1), DEFAULT_SESSIONIZATION_PARAMS).expected.length;

interface Classified {
  readonly file: string;
  readonly line: number;
  readonly command: string;
  /** Run here, or why not. */
  readonly verdict: { run: true } | { run: false; why: string } | { problem: string };
}

/** Splits a line into its command and its trailing `# comment` (a `#` at a word start, outside quotes). */
function splitComment(line: string): { code: string; comment: string } {
  let quote = "";
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quote) { if (c === quote) quote = ""; continue; }
    if (c === "'" || c === '"') quote = c;
    else if (c === "#" && (i === 0 || /\s/.test(line[i - 1]))) return { code: line.slice(0, i), comment: line.slice(i + 1).trim() };
  }
  return { code: line, comment: "" };
}

function classify(block: ShellSnippet): Classified[] {
  const at = (command: string, verdict: Classified["verdict"]): Classified => ({ file: block.file, line: block.line, command, verdict });
  if (block.marker?.startsWith("needs ")) return [at(block.text.split("\n")[0], { run: false, why: block.marker })];
  const runsIn = /^runs in (\S+?):?(?:\s|$)/.exec(block.marker ?? "")?.[1];
  if (runsIn !== undefined) {
    const path = join(ROOT, runsIn);
    if (!existsSync(path) || !readFileSync(path, "utf8").includes(block.file)) return [at(block.text.split("\n")[0], { problem: `the marker names ${runsIn}, which does not exist or never reads ${block.file}` })];
    return [at(block.text.split("\n")[0], { run: false, why: `runs in ${runsIn}` })];
  }
  const out: Classified[] = [];
  for (const logical of block.text.replace(/\\\n/g, " ").split("\n")) {
    const { code, comment } = splitComment(logical);
    for (const c of commandsOf(code, newScope(), () => undefined)) {
      // Re-quote words the shell would split or unquote, so runAsWritten parses back the same words (a JSON value).
      const text = c.words.map((w) => (/^[\w@%+=:,./<>-]*$/.test(w.text) ? w.text : `'${w.text.replaceAll("'", "'\\''")}'`)).join(" ");
      const entry = Object.keys(ENTRY_POINTS).find((e) => text === e);
      if (entry !== undefined) out.push(at(text, { run: false, why: `entry point: ${ENTRY_POINTS[entry]}` }));
      else if (/\bneeds\b/.test(comment)) out.push(at(text, { run: false, why: comment }));
      else if (npmInvocation(ROOT, c.words) !== undefined) out.push(at(text, { run: true }));
      else out.push(at(text, { problem: "runs nowhere and is not marked: end its line with `# needs …` or put `<!-- needs … -->` above the block" }));
    }
  }
  return out;
}

const blocks = markdownFiles(ROOT).flatMap((f) => markdownSnippets(ROOT, f)).filter((s) => s.kind === "block");
const classified = blocks.flatMap(classify);
const runnable = classified.filter((c) => "run" in c.verdict && c.verdict.run);
const helpSpans = [...new Set(markdownFiles(ROOT).flatMap((f) => markdownSnippets(ROOT, f))
  .filter((s) => s.kind === "inline" && /^npm run [\w:-]+ -- --help$/.test(s.text)).map((s) => s.text))];

const scratch = mkdtempSync(join(tmpdir(), "watchpipe-readme-commands-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** Every `--flag` passed to each npm tool script anywhere in the docs and workflows, with where. */
function flagsByScript(): Map<string, Map<string, string>> {
  const out = new Map<string, Map<string, string>>();
  for (const s of allSnippets(ROOT)) {
    for (const c of commandsOf(s.text, newScope(), () => undefined)) {
      const inv = npmInvocation(ROOT, c.words);
      if (inv === undefined) continue;
      const dd = c.words.findIndex((w) => w.text === "--");
      for (const w of dd < 0 ? [] : c.words.slice(dd + 1)) {
        const flag = /^--[a-z][\w-]*/.exec(w.text)?.[0];
        if (flag === undefined) continue;
        const flags = out.get(inv.script) ?? new Map<string, string>();
        flags.set(flag, flags.get(flag) ?? `${s.file}:${s.line}`);
        out.set(inv.script, flags);
      }
    }
  }
  return out;
}
const documentedFlags = flagsByScript();

/** One `--help` run per tool, shared by the checks that need it. */
const helpRuns = new Map<string, ReturnType<typeof runAsWritten>>();
function helpOf(script: string): ReturnType<typeof runAsWritten> {
  const run = helpRuns.get(script) ?? runAsWritten(`npm run ${script} -- --help`);
  helpRuns.set(script, run);
  return run;
}

async function runAsWritten(command: string) {
  const words = commandsOf(command, newScope(), () => undefined)[0]!.words;
  const inv = npmInvocation(ROOT, words)!;
  for (const [name, content] of Object.entries(FIXTURES)) if (command.includes(name)) writeFileSync(join(scratch, name), content());
  return runInvocation(inv, { cwd: scratch, env: { PATH: process.env.PATH, HOME: process.env.HOME }, timeoutMs: COMMAND_TIMEOUT_MS });
}

describe("README and docs command blocks run here or say why not", () => {
  it("every command is run, marked with what it needs, run by a named real-server test, or an entry point", () => {
    expect(blocks.length).toBeGreaterThan(5);
    const problems = classified.filter((c) => "problem" in c.verdict).map((c) => `${c.file}:${c.line}: \`${c.command}\`: ${(c.verdict as { problem: string }).problem}`);
    expect(problems).toEqual([]);
    for (const c of classified) if ("why" in c.verdict) console.log(`not run here: ${c.file}:${c.line} \`${c.command}\`: ${c.verdict.why}`);
  });

  it.each(runnable.map((c) => [`${c.file}:${c.line}`, c.command]))("%s `%s` exits 0 as written", async (_where, command) => {
    const res = await runAsWritten(command);
    expect(res.code, `${command}\nstdout: ${res.stdout.slice(-2000)}\nstderr: ${res.stderr.slice(-2000)}`).toBe(0);
    expect(res.stdout.trim()).not.toBe("");
    if (command.includes("sessionize")) expect((JSON.parse(res.stdout) as { segments: unknown[] }).segments).toHaveLength(SMOKE_SEGMENTS);
    if (command.includes("render")) expect(existsSync(join(scratch, "render", ".watchpipe-render"))).toBe(true);
  }, COMMAND_TIMEOUT_MS + 10_000);

  it.each(helpSpans)("`%s` prints its usage and exits 0", async (command) => {
    const res = await helpOf(/^npm run ([\w:-]+)/.exec(command)![1]);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toMatch(/usage/i);
  }, COMMAND_TIMEOUT_MS + 10_000);

  it.each([...documentedFlags.keys()])("every flag the docs and workflows pass to `npm run %s` is one its --help names", async (script) => {
    const res = await helpOf(script);
    expect(res.code, res.stderr).toBe(0);
    const unknown = [...documentedFlags.get(script)!].filter(([flag]) => !new RegExp(`${flag}(?![\\w-])`).test(res.stdout)).map(([flag, where]) => `${flag} (${where})`);
    expect(unknown, `flags --help of ${script} does not name`).toEqual([]);
  }, COMMAND_TIMEOUT_MS + 10_000);
});

describe("smoke and report default to the database the program creates", () => {
  it.each(knownStacks())("stack %s: output ysqlDatabase is the tools' default", async (stack) => {
    const run = await runProgram(stack);
    expect(run.outputs.ysqlDatabase, `smoke/report default ${DEFAULT_DATABASE}; stack ${stack} puts the schema elsewhere`).toBe(DEFAULT_DATABASE);
  }, 60_000);
});
