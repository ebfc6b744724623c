/**
 * The CrossGuard pack over the whole program under mocks, per stack: what the program registers passes every
 * policy. Mocks show inputs (what preview sends the pack for new resources) and per-property dependencies (what the
 * stack policy follows), so this is the pack's verdict on a fresh preview, minus eks.Cluster's children, which only a
 * real preview shows (those are covered by the policy's own tests in test/policy.test.ts).
 */
import { beforeAll, describe, expect, it } from "vitest";
import { stackViolationsOf, violationsOf, type StackResource } from "../policy/policies";
import { asStackResource, PROGRAM_RUN_TIMEOUT_MS, runProgram, type ProgramRun } from "./harness";

describe.each(["prod", "dev", "local"])("%s stack", (stack) => {
  let run: ProgramRun;
  beforeAll(async () => {
    run = await runProgram(stack);
  }, PROGRAM_RUN_TIMEOUT_MS);

  it("passes every resource policy of the pack", () => {
    const found = run.resources.flatMap((r) => violationsOf({ type: r.type, props: r.inputs, urn: r.urn, name: r.name }));
    expect(found).toEqual([]);
    expect(run.resources.length).toBeGreaterThan(0);
  });

  it("passes every stack policy of the pack", () => {
    expect(stackViolationsOf({ resources: run.resources.map(asStackResource) })).toEqual([]);
  });
});

describe("the stack policy sees what the program wires", () => {
  it("prod node groups are traced to private subnets through property dependencies", async () => {
    const run = await runProgram("prod");
    const groups = run.ofType("aws:eks/nodeGroup:NodeGroup");
    expect(groups).toHaveLength(3);
    for (const g of groups) {
      const deps = g.propertyDependencies.subnetIds ?? [];
      expect(deps.length, `${g.name} subnetIds dependencies`).toBe(1);
      expect(deps[0]).toMatch(/aws:ec2\/subnet:Subnet::network-private-\d$/);
    }
  }, PROGRAM_RUN_TIMEOUT_MS);

  it("a node group moved into a public subnet is caught", async () => {
    const run = await runProgram("dev");
    const resources: StackResource[] = run.resources.map((r) => {
      const deps = r.type === "aws:eks/nodeGroup:NodeGroup" && r.name.endsWith("-0")
        ? { ...r.propertyDependencies, subnetIds: (r.propertyDependencies.subnetIds ?? []).map((u) => u.replace("network-private-", "network-public-")) }
        : r.propertyDependencies;
      return { type: r.type, name: r.name, urn: r.urn, props: r.inputs, propertyDependencies: deps as unknown as StackResource["propertyDependencies"] };
    });
    expect(stackViolationsOf({ resources })).toEqual([
      "[node-groups-in-private-subnets] node group cluster-nodes-0: subnet network-public-0 is public (its route table network-public routes to an internet gateway); expected private subnets only",
    ]);
  }, PROGRAM_RUN_TIMEOUT_MS);
});
