/**
 * The committed stacks' example values (contract/exampleValues.ts) are refused by any run that reaches a real cloud,
 * all at once and before anything is registered; mock runs (tests, plan, render) accept them.
 */
import { describe, expect, it } from "vitest";
import { rawConfigOf } from "../config";
import { exampleIn, exampleValueProblems } from "../contract/exampleValues";
import { PROGRAM_RUN_TIMEOUT_MS, ProgramError, runProgram, stackConfig } from "./harness";

const rawOf = (stack: string): Record<string, unknown> => rawConfigOf(stackConfig(stack));
const keysOf = (problems: readonly string[]) => problems.map((p) => p.split(": ")[0]);
const EXAMPLE_KEYS = [
  "watchpipe:cluster.adminRoleArn",
  "watchpipe:cluster.publicAccessCidrs[0]",
  "watchpipe:bridge.certificateArn",
  "watchpipe:ingest.jwt.jwksUrl",
  "watchpipe:ingest.jwt.issuer",
  "watchpipe:ingest.gateway.image",
];

describe("example values", () => {
  it.each([
    ["arn:aws:iam::111122223333:role/platform-admin", "AWS's documentation account 111122223333"],
    ["123456789012.dkr.ecr.us-east-1.amazonaws.com/x", "AWS's documentation account 123456789012"],
    ["https://id.example.com/.well-known/jwks.json", "an RFC 2606 example domain"],
    ["https://example.org", "an RFC 2606 example domain"],
    ["registry.corp.example:5000/mirror", "an RFC 2606 example domain"],
    ["203.0.113.0/24", "the RFC 5737 documentation range 203.0.113.0/24"],
    ["198.51.100.7/32", "the RFC 5737 documentation range 198.51.100.0/24"],
  ])("%s is an example: %s", (value, what) => {
    expect(exampleIn(value)).toBe(what);
  });
  it.each([
    "arn:aws:iam::210987654321:role/platform-admin", "arn:aws:iam::1111222233334:role/x", "https://auth.acme.io/",
    "https://myexample.com/", "https://examples.com/", "10.40.0.0/16", "192.0.20.0/24", "platform-team", "us-east-1",
  ])("%s is not", (value) => {
    expect(exampleIn(value)).toBeUndefined();
  });

  it("the committed dev and prod stacks hold exactly the values an organisation must replace; local holds none", () => {
    expect(keysOf(exampleValueProblems(rawOf("dev"), "watchpipe", "dev"))).toEqual(EXAMPLE_KEYS);
    expect(keysOf(exampleValueProblems(rawOf("prod"), "watchpipe", "prod"))).toEqual(EXAMPLE_KEYS);
    expect(exampleValueProblems(rawOf("local"), "watchpipe", "local")).toEqual([]);
    expect(exampleValueProblems(rawOf("dev"), "watchpipe", "dev")[0]).toBe(
      'watchpipe:cluster.adminRoleArn: "arn:aws:iam::111122223333:role/platform-admin" is an example (AWS\'s documentation account 111122223333), committed so previews under mocks and tests run; a real deploy needs your own value: expected your organisation\'s; replace it in Pulumi.dev.yaml (README "Before a real deploy").',
    );
  });

  it("a run against a real cloud refuses them all at once, before anything is registered", async () => {
    const error = await runProgram("prod", {}, { exampleValues: "refuse" }).then(() => undefined, (err: unknown) => err);
    expect(error).toBeInstanceOf(ProgramError);
    const message = String((error as Error).message);
    expect(message).toContain('Invalid stack configuration for stack "prod" (nothing was created)');
    for (const key of EXAMPLE_KEYS) expect(message).toContain(`  - ${key}: `);
    expect((error as ProgramError).resources).toEqual([]);
  }, PROGRAM_RUN_TIMEOUT_MS);

  it("with the organisation's own values the same run goes through", async () => {
    const own = rawOf("dev");
    const run = await runProgram("dev", {
      "watchpipe:cluster": { ...(own.cluster as object), adminRoleArn: "arn:aws:iam::210987654321:role/platform-admin", publicAccessCidrs: ["81.2.69.0/24"] },
      "watchpipe:bridge": { ...(own.bridge as object), certificateArn: "arn:aws:acm:us-east-1:210987654321:certificate/0b5c1e2a-7d44-4f1e-9a51-3c2d8e6f9a10" },
      "watchpipe:ingest": { jwt: { jwksUrl: "https://id.acme.io/.well-known/jwks.json", issuer: "https://id.acme.io/", audience: ["watchpipe-player"] }, gateway: { image: "210987654321.dkr.ecr.us-east-1.amazonaws.com/watchpipe-ingest-gateway" } },
    }, { exampleValues: "refuse" });
    expect(run.resources.length).toBeGreaterThan(100);
  }, PROGRAM_RUN_TIMEOUT_MS);
});
