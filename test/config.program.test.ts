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
      // Issue 22: the README said "int ≥ 0" and the program failed after 97 resources at the SQL's grace literal.
      name: "a grace period the ksqlDB SQL does not carry",
      overrides: { "watchpipe:sessionization": { gracePeriodSec: 90 } },
      message: "watchpipe:sessionization.gracePeriodSec: expected 60: the SQL's GRACE PERIOD is that literal (ksql/migrations/V000002; ksqlDB takes no variables in a WINDOW clause), so another grace period needs a new ksqlDB migration first; got 90.",
    },
    {
      // Found by test/config.walk.test.ts: the broker heap is derived from memory, which could not read "500m".
      name: "a memory size in thousandths of a byte",
      overrides: { "watchpipe:kafka": { nodePools: "dual-role", brokers: 3, brokerStorageGiB: 200, brokerResources: { cpu: "1", memory: "500m" } } },
      message: 'watchpipe:kafka.brokerResources.memory: expected a memory size like 512Mi, 4Gi or 1.5Gi (Ki, Mi, Gi, Ti or plain bytes; not 500m, which is thousandths of a byte); got "500m".',
    },
    {
      name: "a partition budget so small one topic would need more than 600 partitions",
      overrides: { "watchpipe:capacity": { peakEventsPerSec: 5000, partitionBudgetMBps: 0.001 } },
      message: "watchpipe:capacity.partitionBudgetMBps: capacity: 5000 events/s × 250 B at 0.001 MB/s per partition needs",
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
