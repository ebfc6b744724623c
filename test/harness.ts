/**
 * The one mock harness for running the whole program (or a component) under Pulumi mocks, for vitest.
 *
 * The machinery (recording resources and their options, realistic ids and ARNs, invokes that throw when unknown,
 * config from the stack's real Pulumi.<stack>.yaml) lives in tools/mockRun.ts so the render and plan tools run the
 * program exactly the way the tests do; this file adds what only a test runner can do: re-evaluate the program's
 * modules for every run.
 */
import { vi } from "vitest";
import type { StackResource } from "../policy/policies";
import { runProgramWith, type ProgramRun, type RecordedResource, type RunOptions } from "../tools/mockRun";

export { ACCOUNT, PROJECT, ProgramError, REGION, ROOT, promiseOf, stackConfig } from "../tools/mockRun";
export type { ProgramRun, RecordedResource } from "../tools/mockRun";

/**
 * Time budget for ONE whole-program run under mocks; a test or hook that runs the program n times gets
 * {@link programRunsTimeout}(n). Measured on the 2-core CI machine while other work ran: 3.7-4.1 s per run at load
 * average 12-14 (one file), 10.9-16.8 s at load 32-37 (13 files in parallel workers); vitest's 30 s default is then
 * less than 2× a run. 90 s is over 5× the slowest measured run: it fails a hung run, not a busy machine.
 */
export const PROGRAM_RUN_TIMEOUT_MS = 90_000;
/** The budget of a test or hook that runs the program `runs` times in sequence. */
export const programRunsTimeout = (runs: number): number => runs * PROGRAM_RUN_TIMEOUT_MS;

/**
 * Run index.ts under mocks with the given stack's config (plus overrides). Each call re-imports the program.
 */
export async function runProgram(stack: string, overrides: Record<string, unknown> = {}, options: RunOptions = {}): Promise<ProgramRun> {
  return runProgramWith(stack, overrides, async () => {
    vi.resetModules();
    return (await import("..")) as Record<string, unknown>;
  }, options);
}

/**
 * A recorded resource as a CrossGuard stack policy receives it. The engine passes PolicyResources as property
 * dependencies; the stack policies accept the harness's URNs too.
 */
export function asStackResource(r: RecordedResource): StackResource {
  return { type: r.type, name: r.name, urn: r.urn, props: r.inputs, propertyDependencies: r.propertyDependencies as unknown as StackResource["propertyDependencies"] };
}
