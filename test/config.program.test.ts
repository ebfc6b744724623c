/**
 * Invalid configuration stops the program before it registers anything: `pulumi preview` shows the problems and an
 * empty plan, never a half-built stack. Runs the whole program under the mock harness with the stack's real yaml
 * plus one bad key, the way the Pulumi engine hands config to it.
 */
import { describe, expect, it } from "vitest";
import { MAX_VPC_PREFIX } from "../contract/addresses";
import { subnetLayout } from "../components/aws/subnets";
import { PROGRAM_RUN_TIMEOUT_MS, ProgramError, runProgram } from "./harness";

async function failure(stack: string, overrides: Record<string, unknown>): Promise<ProgramError> {
  try {
    await runProgram(stack, overrides);
  } catch (err) {
    if (err instanceof ProgramError) return err;
    throw err;
  }
  throw new Error("expected the program to fail");
}

describe("invalid config registers 0 resources and names the key", () => {
  it.each([
    {
      name: "a misspelt top-level key in the stack file (watchpipe:kafak)",
      overrides: { "watchpipe:kafak": { nodePools: "dual-role" } },
      message: "watchpipe:kafak: unknown key; did you mean watchpipe:kafka?",
    },
    {
      name: "a /24 VPC",
      overrides: { "watchpipe:network": { cidr: "10.50.0.0/24", azCount: 3, natGatewayPerAz: false } },
      message: 'watchpipe:network.cidr: expected a /22 or larger: each AZ gets an eighth of the VPC for nodes and pods (one VPC address per pod). Use e.g. 10.40.0.0/16; got "10.50.0.0/24".',
    },
    {
      name: "a region that is not one",
      overrides: { "aws:region": "us-east1" },
      message: 'aws:region: expected an AWS region code like us-east-1 or eu-west-1 (area-direction-number); got "us-east1".',
    },
  ])("$name", async ({ overrides, message }) => {
    const err = await failure("dev", overrides);
    expect(err.message).toContain(message);
    expect(err.message).toContain("after registering 0 resources");
    expect(err.resources).toEqual([]);
  }, PROGRAM_RUN_TIMEOUT_MS);
});

describe("the config's VPC bound is the subnet layout's", () => {
  it(`a /${MAX_VPC_PREFIX} splits, a /${MAX_VPC_PREFIX + 1} is refused by subnetLayout too`, () => {
    expect(subnetLayout(`10.0.0.0/${MAX_VPC_PREFIX}`, 3).private).toHaveLength(3);
    expect(() => subnetLayout(`10.0.0.0/${MAX_VPC_PREFIX + 1}`, 3)).toThrow(/too small/);
  });
});
