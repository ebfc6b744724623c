/**
 * One command-line convention for every npm script that is a tool (tools/cli.ts), read from package.json so a new
 * script is covered the day it is added: --help prints the usage with the exit codes and exits 0 having started
 * nothing; an unknown flag is exit 2 naming it; a refused connection is exit 2 naming the endpoint, with no stack
 * trace. The only server involved is a closed port on 127.0.0.1.
 */
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { refusedEndpoint, toolExitCode } from "../tools/cli";
import { ConnectionError, EXIT_CODES_HELP, UsageError } from "../tools/exitCodes";
import { summaryJson } from "../tools/loadgen/run";
import { smokeResultJson } from "../tools/smoke/run";
import { ROOT } from "./harness";

/** Scripts that are not tools, with why. Every other script must follow the convention. */
const NOT_TOOLS: Readonly<Record<string, string>> = {
  typecheck: "tsc, not ours",
  lint: "eslint, not ours",
  test: "vitest, not ours",
  "test:real": "vitest, not ours",
  postinstall: "npm's hook; it runs check:librdkafka, which is covered",
};
/** Starting a tsx process on a loaded 2-core machine takes seconds; one that takes a minute is stuck. */
const SPAWN_TIMEOUT_MS = 60_000;

const scripts = (JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> }).scripts;
const tools = Object.keys(scripts).filter((s) => !(s in NOT_TOOLS));

interface Ran {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs a command to its end without blocking the test worker (a blocking spawn starves vitest's own messages on a
 * loaded machine and it reports "Timeout calling onTaskUpdate").
 */
function run(file: string, args: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, [...args], { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), SPAWN_TIMEOUT_MS);
    child.once("error", reject);
    child.once("close", (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}

/** Runs a script's command the way npm does (its bin directory first on PATH), with extra arguments. */
function runScript(script: string, args: readonly string[]): Promise<Ran> {
  const [bin, ...rest] = scripts[script].split(" ");
  // No database or broker from the environment: a tool that tries to reach one fails fast and visibly.
  return run(join(ROOT, "node_modules", ".bin", bin), [...rest, ...args], { ...process.env, PGHOST: "", PGUSER: "", LOADGEN_BOOTSTRAP_SERVERS: "", LOADGEN_BRIDGE_URL: "", CI: "" });
}

/** A port on 127.0.0.1 that nothing listens on: bound, then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const STACK_TRACE = /^\s+at .+\(.+:\d+:\d+\)$/m;

describe("the tools are the npm scripts that run a file", () => {
  it("every script is a tsx tool or listed as not one", () => {
    expect(tools.length).toBeGreaterThanOrEqual(12);
    for (const t of tools) expect(scripts[t], `${t}: a tool script runs one file with tsx`).toMatch(/^tsx \S+\.ts$/);
    for (const s of Object.keys(NOT_TOOLS)) expect(scripts[s], `${s} is listed in NOT_TOOLS but is not a script`).toBeDefined();
  });
});

describe.each(tools)("npm run %s", (tool) => {
  it("--help prints the usage and the exit codes, exits 0 and starts nothing", async () => {
    const r = await runScript(tool, ["--help"]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^usage:/im);
    expect(r.stdout.replace(/\s+/g, " ")).toContain(EXIT_CODES_HELP);
    // Nothing but the help: no benchmark figures, no server start-up, no "generating…" after it.
    expect(r.stderr).toBe("");
    expect(r.stdout).not.toMatch(/generating|starting|run 1\/|loaded \d|PostgreSQL \d|heartbeat's own encoded size|\$ mvn/i);
  }, SPAWN_TIMEOUT_MS);

  it("an unknown flag is exit 2 and names the flag", async () => {
    const r = await runScript(tool, ["--no-such-flag"]);
    expect(r.status, r.stdout + r.stderr).toBe(2);
    expect(r.stderr).toContain("--no-such-flag");
    expect(r.stderr).not.toMatch(STACK_TRACE);
  }, SPAWN_TIMEOUT_MS);
});

describe("a refused connection is exit 2 naming the endpoint, never a stack trace", () => {
  it.each([
    ["report", (p: number) => ["daily", "--from", "2026-11-01", "--to", "2026-11-02", "--host", "127.0.0.1", "--port", String(p), "--username", "watchpipe"]],
    ["smoke", (p: number) => ["--bootstrap", `127.0.0.1:${p}`, "--pg-host", "127.0.0.1", "--pg-port", String(p), "--pg-user", "watchpipe", "--json"]],
    ["loadgen", (p: number) => ["--mode", "bridge", "--bridge-url", `http://127.0.0.1:${p}`, "--count", "10"]],
    ["loadgen", (p: number) => ["--client", "kafkajs", "--bootstrap", `127.0.0.1:${p}`, "--count", "10", "--send-timeout-ms", "1000", "--retries", "0"]],
  ])("%s %#", async (tool, args) => {
    const port = await closedPort();
    const r = await runScript(tool, args(port));
    const out = r.stdout + r.stderr;
    expect(r.status, out).toBe(2);
    expect(out).toContain(`127.0.0.1:${port}`);
    expect(out).not.toMatch(STACK_TRACE);
  }, SPAWN_TIMEOUT_MS * 2);
});

describe("smoke --mode gateway: what the caller must fix is exit 2 naming it, before any connection", () => {
  const gw = (url: string, key: string) => ["--mode", "gateway", "--gateway-url", url, "--jwt-key", key, "--jwt-kid", "k1", "--jwt-issuer", "https://idp.test/", "--jwt-audience", "player", "--pg-host", "127.0.0.1", "--pg-user", "watchpipe"];
  it.each([
    ["a key file that is not there", gw("http://127.0.0.1:9", "/nonexistent/loadtest-key.pem"), /--jwt-key \/nonexistent\/loadtest-key\.pem: cannot read it \(ENOENT.*pass the PEM private key of the load-test identity provider/],
    ["a key file that is not a private key", gw("http://127.0.0.1:9", "package.json"), /--jwt-key: expected a PEM RSA private key .*\(file package\.json\)/],
    ["a gateway URL that is not http(s)", gw("127.0.0.1:9", "package.json"), /--gateway-url must be an http\(s\) URL, got "127\.0\.0\.1:9"/],
  ])("%s", async (_, args, message) => {
    const r = await runScript("smoke", args);
    expect(r.status, r.stdout + r.stderr).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stdout).toBe(""); // nothing started: no run line, no database connection
  }, SPAWN_TIMEOUT_MS);

  it("--help documents the mode, its flags and that the key must be one the gateway trusts (the smoke issuer's or the players' JWKS)", async () => {
    const r = await runScript("smoke", ["--help"]);
    const help = r.stdout.replace(/\s+/g, " ");
    expect(help).toContain("--mode kafka|bridge|gateway");
    for (const flag of ["--gateway-url URL", "--jwt-key FILE", "--jwt-kid K", "--jwt-issuer I", "--jwt-audience A", "--max-per-request N"]) expect(help).toContain(flag);
    expect(help).toContain("PEM private key the gateway trusts (env LOADGEN_JWT_KEY_FILE): the stack's deploy smoke issuer (P-256, ES256: pulumi stack output --show-secrets ingestSmokeKeyPem; it may write smoke-* users only)");
    expect(help).toContain("whose public half the players' JWKS (ingest.jwt.jwksUrl) lists. Otherwise every request is refused 401");
    expect(help).toContain("a token the gateway refuses (401/403)");
  }, SPAWN_TIMEOUT_MS);
});

describe("exit codes of thrown errors (tools/cli.ts)", () => {
  it("usage and connection errors are 2, a socket's ECONNREFUSED anywhere in the cause chain names host:port", () => {
    expect(toolExitCode(new UsageError("--stack is required"))).toBe(2);
    expect(toolExitCode(new ConnectionError("db:5433", "cannot connect"))).toBe(2);
    const refused = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:9"), { code: "ECONNREFUSED", address: "127.0.0.1", port: 9 });
    expect(refusedEndpoint(new TypeError("fetch failed", { cause: refused }))).toBe("127.0.0.1:9");
    expect(refusedEndpoint(new AggregateError([refused]))).toBe("127.0.0.1:9");
    expect(refusedEndpoint(Object.assign(new Error("Connection error"), { code: "ECONNREFUSED", broker: "b1:9092" }))).toBe("b1:9092");
    expect(toolExitCode(new TypeError("fetch failed", { cause: refused }))).toBe(2);
    expect(toolExitCode(new Error("segments differ"))).toBe(1);
  });
});

describe("runTool never lets a stack trace out (plan and render run through it)", () => {
  const TSX = join(ROOT, "node_modules", ".bin", "tsx");
  const cli = join(ROOT, "tools", "cli.ts");
  it.each([
    ["a throw in main", "throw new Error('the program failed under mocks after registering 97 resources: boom')", 1],
    ["a rejection nobody awaits (a throw inside a Pulumi apply)", "Promise.reject(new Error('inside an apply')); return new Promise(() => undefined)", 1],
    ["a refused socket", "throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED', address: '127.0.0.1', port: 9 })", 2],
  ])("%s: one line, no stack trace", async (_, body, code) => {
    const script = `const { runTool } = require(${JSON.stringify(cli)}); runTool("t", async () => { ${body} });`;
    const r = await run(TSX, ["-e", script]);
    expect(r.status, r.stderr).toBe(code);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(/^t: /);
    expect(r.stderr).not.toMatch(STACK_TRACE);
  }, SPAWN_TIMEOUT_MS);
});

describe("--json for CI", () => {
  it("loadgen's summary is one object with the counts, the rate and the errors", () => {
    const j = summaryJson(
      { generated: 100, acked: 98, failed: 2, malformedAcked: 0, elapsedMs: 2000, errors: new Map([["timeout", 2]]) },
      { runId: "r1", mode: "kafka", client: "kafkajs", target: "b1:9092", topic: "heartbeats_raw", exitCode: 1 },
    );
    expect(JSON.parse(JSON.stringify(j))).toEqual({
      runId: "r1", mode: "kafka", client: "kafkajs", target: "b1:9092", topic: "heartbeats_raw", exitCode: 1,
      generated: 100, acked: 98, failed: 2, malformedAcked: 0, elapsedMs: 2000, recordsPerSec: 49, errors: { timeout: 2 },
    });
  });

  it("smoke's result spells the verdict out", () => {
    const base = { runId: "r1", elapsedMs: 5, expectedSegments: 5, heartbeats: 40, target: "kafka b1:9092", database: "db:5433/watchpipe" };
    expect(smokeResultJson({ ...base, code: 0, reason: null }).result).toBe("match");
    expect(smokeResultJson({ ...base, code: 1, reason: "mismatch" }).result).toBe("mismatch");
    expect(smokeResultJson({ ...base, code: 2, reason: "database" })).toMatchObject({ result: "unreachable", code: 2, reason: "database" });
    expect(smokeResultJson({ ...base, code: 2, reason: "token" })).toMatchObject({ result: "unauthorized", code: 2, reason: "token" });
  });
});
