/**
 * `watchpipe:ingest`: token validation and WAF limits. Every bad value fails with the key, the expected and the
 * actual value; an internet-facing bridge without token validation is a config error.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { ConfigError, ingestConfigProblems, parseConfig, type RawConfig } from "../config";
import { DEFAULT_WAF_SETTINGS } from "../contract/ingest";

const ROOT = join(__dirname, "..");
const CERT = "arn:aws:acm:us-east-1:111122223333:certificate/abcd-1234";
const JWT = { jwksUrl: "https://id.example.com/.well-known/jwks.json", issuer: "https://id.example.com/", audience: ["watchpipe-player"] };

function stackRaw(stack: string): Record<string, unknown> {
  const file = parse(readFileSync(join(ROOT, `Pulumi.${stack}.yaml`), "utf8")) as { config: Record<string, unknown> };
  return Object.fromEntries(Object.entries(file.config).filter(([k]) => k.startsWith("watchpipe:")).map(([k, v]) => [k.slice("watchpipe:".length), v]));
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

/** prod, internet-facing with a certificate, plus the given ingest section. */
function publicProd(ingest: unknown): RawConfig {
  const raw = stackRaw("prod");
  return { ...raw, bridge: { ...(raw.bridge as object), exposure: "internet-facing", certificateArn: CERT }, ingest };
}

describe("valid ingest settings", () => {
  it("the committed stacks get the design-load WAF defaults; dev and prod take players through the gateway, local has no ingest path of its own", () => {
    for (const stack of ["dev", "prod"]) {
      const cfg = parseConfig(stackRaw(stack), stack);
      expect(cfg.ingest.waf).toEqual(DEFAULT_WAF_SETTINGS);
      expect(cfg.ingest.jwt).toEqual({ ...JWT, claims: [] });
      expect(cfg.ingest.gateway?.image).toBe("111122223333.dkr.ecr.us-east-1.amazonaws.com/watchpipe-ingest-gateway");
      expect(cfg.bridge.exposure).toBe("internal");
    }
    expect(parseConfig(stackRaw("local"), "local").ingest).toEqual({ waf: DEFAULT_WAF_SETTINGS });
  });
  it("an internet-facing prod with a certificate and a JWT issuer parses, claims default to none", () => {
    const cfg = parseConfig(publicProd({ jwt: JWT, waf: { rateLimitPerIp: 6000 } }), "prod");
    expect(cfg.ingest.jwt).toEqual({ ...JWT, claims: [] });
    expect(cfg.ingest.waf).toEqual({ ...DEFAULT_WAF_SETTINGS, rateLimitPerIp: 6000 });
  });
});

describe("invalid ingest settings name the key, the expected and the actual value", () => {
  const cases: { name: string; raw: () => RawConfig; stack?: string; problem: string | RegExp }[] = [
    {
      name: "internet-facing without token validation",
      raw: () => publicProd(undefined),
      problem: /^watchpipe:ingest\.jwt: an internet-facing bridge must validate player tokens on the ALB .*expected \{jwksUrl, issuer, audience\}; got nothing\./,
    },
    {
      name: "token validation on an internal ALB without a certificate",
      raw: () => ({ ...stackRaw("dev"), bridge: { replicas: 1 }, ingest: { jwt: JWT } }),
      stack: "dev",
      problem: "watchpipe:bridge.certificateArn: the ALB validates tokens only on HTTPS listeners, so ingest.jwt needs an ACM certificate; got nothing.",
    },
    {
      name: "token validation on a cluster without an ALB",
      raw: () => ({ ...stackRaw("local"), ingest: { jwt: JWT } }),
      stack: "local",
      problem: 'watchpipe:ingest.jwt: without ingest.gateway, tokens are validated by the ALB, which only EKS stacks have (cluster.mode "eks"); got cluster.mode "existing". Remove ingest.jwt on this stack, or set ingest.gateway (its Envoy verifies tokens on any cluster).',
    },
    {
      name: "a JWKS URL over plain HTTP",
      raw: () => publicProd({ jwt: { ...JWT, jwksUrl: "http://id.example.com/jwks.json" } }),
      problem: /^watchpipe:ingest\.jwt\.jwksUrl: expected the identity provider's JWKS URL, https:\/\/ .*; got "http:\/\/id\.example\.com\/jwks\.json"\.$/,
    },
    {
      name: "no audience",
      raw: () => publicProd({ jwt: { ...JWT, audience: [] } }),
      problem: /^watchpipe:ingest\.jwt\.audience: .*; got \[\]\.$/,
    },
    {
      name: "a claim the ALB checks itself",
      raw: () => publicProd({ jwt: { ...JWT, claims: [{ name: "exp", format: "single-string", values: ["1"] }] } }),
      problem: 'watchpipe:ingest.jwt.claims[0].name: the ALB always validates exp, iss, nbf, iat itself and refuses them as additional claims; got "exp". Remove this claim.',
    },
    {
      name: "the audience as a claim",
      raw: () => publicProd({ jwt: { ...JWT, claims: [{ name: "aud", format: "string-array", values: ["x"] }] } }),
      problem: 'watchpipe:ingest.jwt.claims[0].name: the audience is configured by ingest.jwt.audience; got "aud". Move its values there.',
    },
    {
      name: "more claims than the ALB checks",
      raw: () => publicProd({ jwt: { ...JWT, claims: Array.from({ length: 10 }, (_, i) => ({ name: `c${i}`, format: "single-string", values: ["v"] })) } }),
      problem: "watchpipe:ingest.jwt.claims: the ALB checks at most 10 additional claims and the audience is one of them; expected at most 9; got 10.",
    },
    {
      name: "a space inside a space-separated value",
      raw: () => publicProd({ jwt: { ...JWT, claims: [{ name: "scope", format: "space-separated-values", values: ["heartbeat write"] }] } }),
      problem: 'watchpipe:ingest.jwt.claims[0].values: space-separated-values are matched one word each, so a value may not contain spaces; got ["heartbeat write"].',
    },
    {
      name: "a per-IP limit below one player's heartbeats",
      raw: () => ({ ...stackRaw("prod"), ingest: { waf: { rateLimitPerIp: 50 } } }),
      problem: "watchpipe:ingest.waf.rateLimitPerIp: one player alone sends 60 heartbeats per 300 s window (one every 5 s), so a lower limit blocks honest players; expected at least 60; got 50.",
    },
    {
      name: "a per-token limit below one player's heartbeats in a 60 s window",
      raw: () => ({ ...stackRaw("prod"), ingest: { waf: { rateWindowSec: 60, rateLimitPerToken: 11 } } }),
      problem: "watchpipe:ingest.waf.rateLimitPerToken: one player alone sends 12 heartbeats per 60 s window (one every 5 s), so a lower limit blocks honest players; expected at least 12; got 11.",
    },
    {
      name: "a rate window WAF does not offer",
      raw: () => ({ ...stackRaw("prod"), ingest: { waf: { rateWindowSec: 90 } } }),
      problem: "watchpipe:ingest.waf.rateWindowSec: expected one of WAF's rate windows: 60, 120, 300, 600 (seconds); got 90.",
    },
    {
      name: "a body limit WAF cannot see behind an ALB",
      raw: () => ({ ...stackRaw("prod"), ingest: { waf: { maxBodyBytes: 16384 } } }),
      problem: "watchpipe:ingest.waf.maxBodyBytes: WAF inspects at most the first 8192 bytes of a body behind an ALB; got 16384.",
    },
    {
      name: "a misspelt ingest key",
      raw: () => ({ ...stackRaw("prod"), ingest: { waf: { ratelimitPerIp: 100 } } }),
      problem: 'watchpipe:ingest.waf.ratelimitPerIp: unknown key; did you mean watchpipe:ingest.waf.rateLimitPerIp? expected one of rateLimitPerIp, rateLimitPerToken, rateWindowSec, maxBodyBytes (README.md, "Configuration reference").',
    },
  ];

  it.each(cases)("$name", ({ raw, stack, problem }) => {
    const problems = problemsOf(raw(), stack ?? "prod");
    expect(problems).toHaveLength(1);
    if (typeof problem === "string") expect(problems[0]).toBe(problem);
    else expect(problems[0]).toMatch(problem);
  });

  it("ingestConfigProblems is pure: the same rules on a plain settings object", () => {
    const cluster = { mode: "existing" as const, storageClass: "standard" };
    expect(ingestConfigProblems({ bridge: { replicas: 1, exposure: "internal" }, cluster, ingest: { waf: DEFAULT_WAF_SETTINGS } })).toEqual([]);
  });
});
