/**
 * One exit-code convention across the tools (README.md, "Exit codes"): 0 ok, 1 a check failed, 2 usage error or a
 * service that could not be reached; --help on every tool prints usage, exits 0 and starts nothing.
 */
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { EXIT_CODES_HELP, exitCodeOf, UsageError } from "../tools/exitCodes";
import { ROOT } from "./harness";

const TSX = join(ROOT, "node_modules", ".bin", "tsx");
const run = (tool: string, args: string[]) => spawnSync(TSX, [tool, ...args], { cwd: ROOT, encoding: "utf8", timeout: 30_000, env: { ...process.env, PGHOST: "", PGUSER: "" } });

describe("exit codes", () => {
  it("maps usage errors (ours and node:util parseArgs's) to 2, anything else to 1", () => {
    expect(exitCodeOf(new UsageError("--stack is required"))).toBe(2);
    expect(exitCodeOf(Object.assign(new TypeError("Unknown option '--x'"), { code: "ERR_PARSE_ARGS_UNKNOWN_OPTION" }))).toBe(2);
    expect(exitCodeOf(new Error("invalid stack configuration"))).toBe(1);
  });

  it.each(["tools/plan.ts", "tools/render.ts", "tools/smoke.ts", "tools/report.ts", "tools/sessionize.ts", "tools/bench-model.ts", "tools/bench-produce.ts", "tools/bench-reports.ts", "tools/bench-sink.ts"])(
    "%s --help prints usage with the exit codes and exits 0",
    (tool) => {
      const r = run(tool, ["--help"]);
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/[Uu]sage/);
      expect(r.stdout.replace(/\s+/g, " ")).toContain(EXIT_CODES_HELP.replace(/\s+/g, " "));
    },
    30_000,
  );

  it("bench:model --help does not start the benchmark", () => {
    const r = run("tools/bench-model.ts", ["--help"]);
    expect(r.stdout).not.toMatch(/generating|run 1\//);
  });

  it.each([
    ["tools/bench-model.ts", ["--runs", "3"], "bench-model: Unknown option '--runs'"],
    ["tools/sessionize.ts", [], "sessionize: expected exactly one input file, got 0 arguments; see --help"],
    ["tools/report.ts", ["daily"], "report: "],
    ["tools/bench-sink.ts", ["--runs", "0"], "bench:sink failed: --runs: expected an integer >= 1; got \"0\"."],
  ])("%s %j is a usage error: exit 2", (tool, args, message) => {
    const r = run(tool, args);
    expect(r.status, r.stderr).toBe(2);
    expect(r.stderr).toContain(message);
  }, 30_000);
});
