import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { ConfigError, parseConfig, type RawConfig } from "../config";
import { isIpv4Cidr } from "../contract/cidr";

const ROOT = join(__dirname, "..");

/** The stack's real yaml, as `watchpipe:`-less keys, the way loadConfig hands them to parseConfig. */
function stackRaw(stack: string): Record<string, unknown> {
  const file = parse(readFileSync(join(ROOT, `Pulumi.${stack}.yaml`), "utf8")) as { config: Record<string, unknown> };
  const raw: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(file.config)) {
    if (key.startsWith("watchpipe:")) raw[key.slice("watchpipe:".length)] = value;
  }
  return raw;
}

/** Merge one section's keys into a stack's config. */
function withSection(stack: string, section: string, patch: Record<string, unknown> | unknown): RawConfig {
  const raw = stackRaw(stack);
  const current = raw[section];
  raw[section] = typeof patch === "object" && patch !== null && typeof current === "object" ? { ...(current as object), ...patch } : patch;
  return raw;
}

function problemsOf(raw: RawConfig, stack: string): string[] {
  try {
    parseConfig(raw, stack);
  } catch (err) {
    if (err instanceof ConfigError) return [...err.problems];
    throw err;
  }
  return [];
}

describe("every committed stack file is valid", () => {
  it.each(["dev", "prod", "local"])("Pulumi.%s.yaml parses without problems", (stack) => {
    expect(problemsOf(stackRaw(stack), stack)).toEqual([]);
  });
});

describe("invalid configuration fails with the key, the expected and the actual value", () => {
  const cases: { name: string; stack: string; raw: () => RawConfig; problem: string | string[] }[] = [
    {
      name: "prod with fewer than 3 AZs",
      stack: "prod",
      raw: () => withSection("prod", "network", { azCount: 2 }),
      problem: "watchpipe:network.azCount: prod must span exactly 3 availability zones (one Kafka and YugabyteDB replica per zone); got 2. Set it to 3.",
    },
    {
      name: "Kafka min ISR equal to the replication factor",
      stack: "dev",
      raw: () => withSection("dev", "kafka", { minInsyncReplicas: 3 }),
      problem: "watchpipe:kafka.minInsyncReplicas: must be less than kafka.replicationFactor (3) or a single broker outage stops all writes; got 3. Use 2.",
    },
    {
      name: "replication factor larger than the broker count",
      stack: "dev",
      raw: () => withSection("dev", "kafka", { replicationFactor: 5, minInsyncReplicas: 2 }),
      problem: "watchpipe:kafka.replicationFactor: cannot exceed kafka.brokers (3); got 5. Raise kafka.brokers or lower the replication factor.",
    },
    {
      name: "an unknown instance size",
      stack: "prod",
      raw: () => withSection("prod", "cluster", { nodeInstanceType: "m7i.2xlarg" }),
      problem: 'watchpipe:cluster.nodeInstanceType: expected a known instance type (t3.large, t3.xlarge, m6i.large, m6i.xlarge, m6i.2xlarge, m7i.large, m7i.xlarge, m7i.2xlarge, m7i.4xlarge, r7i.xlarge, r7i.2xlarge); got "m7i.2xlarg".',
    },
    {
      name: "a malformed VPC CIDR",
      stack: "dev",
      raw: () => withSection("dev", "network", { cidr: "10.50.0.0/33" }),
      problem: 'watchpipe:network.cidr: expected an IPv4 CIDR like 10.40.0.0/16 (network address, prefix 0-32); got "10.50.0.0/33".',
    },
    {
      name: "a malformed API access CIDR",
      stack: "prod",
      raw: () => withSection("prod", "cluster", { publicAccessCidrs: ["203.0.113.7/24"] }),
      problem: 'watchpipe:cluster.publicAccessCidrs.0: expected an IPv4 CIDR like 10.40.0.0/16 (network address, prefix 0-32); got "203.0.113.7/24".',
    },
    {
      name: "prod with a single NAT gateway",
      stack: "prod",
      raw: () => withSection("prod", "network", { natGatewayPerAz: false }),
      problem: "watchpipe:network.natGatewayPerAz: prod needs one NAT gateway per AZ so losing a zone does not cut the others off; got false. Set it to true.",
    },
    {
      name: "prod on an existing cluster",
      stack: "prod",
      raw: () => ({
        ...stackRaw("prod"),
        cluster: { mode: "existing", storageClass: "gp2" },
        connect: { ...(stackRaw("prod").connect as object), imageRegistry: "registry.example.com/watchpipe" },
      }),
      problem: [
        'watchpipe:cluster.mode: prod must run on its own EKS cluster; got "existing". Set it to "eks".',
        'watchpipe:yugabyte.topology: "multi-zone" places one release per AWS AZ and needs cluster.mode "eks"; got cluster.mode "existing". Set yugabyte.topology to "single".',
      ],
    },
    {
      name: "a misspelt key",
      stack: "dev",
      raw: () => withSection("dev", "kafka", { brokerz: 3 }),
      problem: "watchpipe:kafka.brokerz: unknown key; check the spelling against README.md's configuration reference.",
    },
    {
      name: "a missing required key",
      stack: "dev",
      raw: () => {
        const raw = stackRaw("dev");
        delete raw.owner;
        return raw;
      },
      problem: "watchpipe:owner: Invalid input: expected string, received undefined; got nothing (key missing).",
    },
    {
      name: "an even number of KRaft controllers",
      stack: "prod",
      raw: () => withSection("prod", "kafka", { controllers: 4 }),
      problem: "watchpipe:kafka.controllers: a KRaft quorum needs an odd number of controllers; got 4. Use 3 (or 5).",
    },
    {
      name: "an internet-facing bridge without a certificate",
      stack: "prod",
      // With token validation set, so the certificate is the one thing missing (test/ingest.config.test.ts covers ingest.jwt).
      raw: () => ({ ...withSection("prod", "bridge", { exposure: "internet-facing" }), ingest: { jwt: { jwksUrl: "https://id.example.com/.well-known/jwks.json", issuer: "https://id.example.com/", audience: ["watchpipe-player"] } } }),
      problem: "watchpipe:bridge.certificateArn: an internet-facing bridge serves HTTPS only and needs an ACM certificate ARN; got nothing. Set it or use exposure \"internal\".",
    },
    {
      name: "a negative grace period",
      stack: "dev",
      raw: () => withSection("dev", "sessionization", { gracePeriodSec: -5 }),
      problem: "watchpipe:sessionization.gracePeriodSec: Too small: expected number to be >=0; got -5.",
    },
  ];

  it.each(cases)("$name", ({ raw, stack, problem }) => {
    expect(problemsOf(raw(), stack)).toEqual(Array.isArray(problem) ? problem : [problem]);
  });

  it("reports every problem at once and says nothing was created", () => {
    const raw = withSection("prod", "network", { azCount: 2, natGatewayPerAz: false });
    expect(() => parseConfig(raw, "prod")).toThrowError(
      'Invalid stack configuration for stack "prod" (nothing was created):\n' +
        "  - watchpipe:network.azCount: prod must span exactly 3 availability zones (one Kafka and YugabyteDB replica per zone); got 2. Set it to 3.\n" +
        "  - watchpipe:network.natGatewayPerAz: prod needs one NAT gateway per AZ so losing a zone does not cut the others off; got false. Set it to true.\n" +
        'Fix the keys above in Pulumi.prod.yaml (see README.md, "Configuration reference").',
    );
  });
});

describe("defaults", () => {
  it("fill every optional section from named constants", () => {
    const cfg = parseConfig({ owner: "team", cluster: { mode: "existing" }, connect: { imageRegistry: "localhost:5001/x" } }, "local");
    expect(cfg.environment).toBe("local");
    expect(cfg.kafka.replicationFactor).toBe(3);
    expect(cfg.kafka.minInsyncReplicas).toBe(2);
    expect(cfg.network.azCount).toBe(3);
    expect(cfg.capacity.peakEventsPerSec).toBe(100_000);
    expect(cfg.cluster).toEqual({ mode: "existing", storageClass: "standard" });
  });
});

describe("isIpv4Cidr", () => {
  it.each([
    ["10.40.0.0/16", true],
    ["0.0.0.0/0", true],
    ["203.0.113.0/24", true],
    ["192.168.1.1/32", true],
    ["10.40.0.0/33", false],
    ["10.40.1.0/16", false],
    ["256.0.0.0/8", false],
    ["10.40.0.0", false],
    ["10.40.0/16", false],
    ["not-a-cidr", false],
  ])("%s -> %s", (value, expected) => {
    expect(isIpv4Cidr(value)).toBe(expected);
  });
});
