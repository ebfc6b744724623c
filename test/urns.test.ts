/**
 * Pulumi resource names and type tokens never change by accident: a rename replaces the live resource, and for Kafka
 * and YugabyteDB that is data loss. The URNs of every stack under mocks must equal the committed list in
 * test/urns/<stack>.txt. A deliberate rename (with a migration plan, e.g. `aliases`) regenerates the list:
 * `UPDATE_URNS=1 npx vitest run test/urns.test.ts`, and the diff shows up in review.
 *
 * The same run (one per stack, in a hook with a budget sized for a busy machine) checks the stack outputs.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { knownStacks, ROOT } from "../tools/mockRun";
import { PROGRAM_RUN_TIMEOUT_MS, runProgram, type ProgramRun } from "./harness";

const listFile = (stack: string) => join(ROOT, "test", "urns", `${stack}.txt`);

describe.each(knownStacks())("stack %s", (stack) => {
  let run: ProgramRun;
  beforeAll(async () => {
    run = await runProgram(stack);
    console.log(`urns: whole program under mocks, ${stack}: ${run.resources.length} resources in ${run.elapsedMs.toFixed(0)} ms`);
  }, PROGRAM_RUN_TIMEOUT_MS);

  it("registers exactly the committed set of URNs", () => {
    const urns = [...new Set(run.resources.map((r) => r.urn))].sort();
    if (process.env.UPDATE_URNS === "1") writeFileSync(listFile(stack), `${urns.join("\n")}\n`);
    const committed = readFileSync(listFile(stack), "utf8").split("\n").filter((l) => l !== "");
    const added = urns.filter((u) => !committed.includes(u));
    const removed = committed.filter((u) => !urns.includes(u));
    expect({ added, removed }, `URNs of ${stack} differ from test/urns/${stack}.txt`).toEqual({ added: [], removed: [] });
    expect(urns.length).toBe(run.resources.length);
  });

  it("exports only outputs that have a value (an undefined one makes every preview warn and shows nothing)", () => {
    const empty = Object.entries(run.outputs).filter(([, value]) => value === undefined || value === null).map(([key]) => key);
    expect(empty, `outputs of ${stack} without a value`).toEqual([]);
    // Every stack has the pipeline's own outputs; the AWS ones only where there is AWS.
    expect(Object.keys(run.outputs)).toEqual(expect.arrayContaining(["environment", "kafkaBootstrapServers", "ysqlHost", "connectImage"]));
  });
});
