/**
 * Runs a documented `npm run <script> -- <args>` line the way npm would, without npm: the script's command from
 * package.json with the binaries of node_modules/.bin, the documented arguments and environment appended. Tests use it
 * to run the README's command lines as written.
 */
import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Word } from "./shellWords";

export interface NpmInvocation {
  readonly script: string;
  /** The executable and its arguments (script command + documented arguments). */
  readonly argv: readonly string[];
}

/** `npm run [--silent] <script> [--] args…` → what npm would execute; undefined for any other command. */
export function npmInvocation(root: string, words: readonly Word[]): NpmInvocation | undefined {
  const t = words.map((w) => w.text);
  if (t[0] !== "npm" || (t[1] !== "run" && t[1] !== "run-script")) return undefined;
  let i = 2;
  while (t[i]?.startsWith("-")) i++;
  const script = t[i];
  if (script === undefined) return undefined;
  const scripts = (JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { scripts: Record<string, string> }).scripts;
  const command = scripts[script];
  if (command === undefined) throw new Error(`npm run ${script}: package.json has no script "${script}"; expected one of ${Object.keys(scripts).join(", ")}`);
  const rest = t.slice(i + 1);
  const args = rest[0] === "--" ? rest.slice(1) : rest;
  const [bin, ...binArgs] = command.split(/\s+/);
  // npm runs scripts in the package root; the caller may pick another directory for the documented arguments.
  const own = binArgs.map((a) => (existsSync(join(root, a)) ? join(root, a) : a));
  return { script, argv: [join(root, "node_modules", ".bin", bin), ...own, ...args] };
}

export interface Ran {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly ms: number;
}

/** Runs an invocation with a bounded time; the child is killed (and the result says so) when it runs over. */
export function runInvocation(inv: NpmInvocation, opts: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs: number; echo?: string }): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const child = spawn(inv.argv[0], inv.argv.slice(1), { cwd: opts.cwd, env: opts.env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    const echo = (text: string) => {
      if (opts.echo === undefined) return;
      for (const line of text.split("\n")) if (line.trim() !== "") console.log(`  [${opts.echo}] ${line}`);
    };
    child.stdout.on("data", (c: Buffer) => { stdout += c.toString("utf8"); echo(c.toString("utf8")); });
    child.stderr.on("data", (c: Buffer) => { stderr += c.toString("utf8"); echo(c.toString("utf8")); });
    const timer = setTimeout(() => {
      stderr += `\n(killed after ${opts.timeoutMs} ms)`;
      child.kill("SIGKILL");
    }, opts.timeoutMs);
    child.once("error", (err) => { clearTimeout(timer); reject(err); });
    child.once("close", (code) => { clearTimeout(timer); resolve({ code, stdout, stderr, ms: Date.now() - started }); });
  });
}
