/**
 * Pulumi resource names and type tokens never change by accident: a rename replaces the live resource, and for Kafka
 * and YugabyteDB that is data loss. The URNs of every stack under mocks must equal the committed list in
 * test/urns/<stack>.txt. A deliberate rename (with a migration plan, e.g. `aliases`) regenerates the list:
 * `UPDATE_URNS=1 npx vitest run test/urns.test.ts`, and the diff shows up in review.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { knownStacks, ROOT } from "../tools/mockRun";
import { runProgram } from "./harness";

const listFile = (stack: string) => join(ROOT, "test", "urns", `${stack}.txt`);

describe.each(knownStacks())("stack %s", (stack) => {
  it("registers exactly the committed set of URNs", async () => {
    const run = await runProgram(stack);
    const urns = [...new Set(run.resources.map((r) => r.urn))].sort();
    if (process.env.UPDATE_URNS === "1") writeFileSync(listFile(stack), `${urns.join("\n")}\n`);
    const committed = readFileSync(listFile(stack), "utf8").split("\n").filter((l) => l !== "");
    const added = urns.filter((u) => !committed.includes(u));
    const removed = committed.filter((u) => !urns.includes(u));
    expect({ added, removed }, `URNs of ${stack} differ from test/urns/${stack}.txt`).toEqual({ added: [], removed: [] });
    expect(urns.length).toBe(run.resources.length);
  });
});
