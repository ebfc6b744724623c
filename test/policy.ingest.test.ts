/**
 * The CrossGuard pack refuses an internet-facing ingest without token validation and WAF, and a web ACL without its
 * limits; it stays mandatory in preview, where a fresh web ACL's ARN is unknown (checked with the engine's own
 * unknown-value proxy from @pulumi/policy, not a stand-in).
 */
import { createRequire } from "node:module";
import { beforeAll, describe, expect, it } from "vitest";
import { ingestWebAclSpec } from "../components/aws/ingestFirewallSpecs";
import { albAnnotations, bridgeIngressSpec } from "../components/kafka/kafkaBridgeSpecs";
import { DEFAULT_WAF_SETTINGS } from "../contract/ingest";
import {
  ingestTokenValidationAndWaf,
  ingestWafFromStack,
  ingestWafRules,
  stackViolationsOf,
  violationsOf,
  type ResourceArgs,
  type StackResource,
  type WatchpipeResourcePolicy,
} from "../policy/policies";
import { asStackResource, runProgram, type ProgramRun } from "./harness";

/** The engine's preview proxy: reading an unknown value throws, which CrossGuard turns into an advisory result. */
const engine = createRequire(__filename)("@pulumi/policy/proxy") as { unknownCheckingProxy: <T>(o: T) => T; unknownStringValue: string };

const INGRESS = "kubernetes:networking.k8s.io/v1:Ingress";
const WEB_ACL = "aws:wafv2/webAcl:WebAcl";
const CERT = "arn:aws:acm:us-east-1:111122223333:certificate/abcd-1234";
const ACL = "arn:aws:wafv2:us-east-1:111122223333:regional/webacl/ingest-waf-acl/0f3c7a43-5a42-4a5e-9d7e-8c1f9e2b6d11";
const JWT = { jwksUrl: "https://id.example.com/.well-known/jwks.json", issuer: "https://id.example.com/", audience: ["watchpipe-player"], claims: [] };
const A = (name: string) => `alb.ingress.kubernetes.io/${name}`;

type Props = Record<string, unknown>;

function ingress(annotations: Record<string, unknown>): ResourceArgs {
  const spec = bridgeIngressSpec("kafka", { exposure: "internal" });
  const props = { apiVersion: "networking.k8s.io/v1", kind: "Ingress", metadata: { ...spec.metadata, annotations }, spec: spec.spec };
  return { type: INGRESS, name: "ingest-ingress", urn: `urn:pulumi:test::watchpipe::${INGRESS}::ingest-ingress`, props };
}

const goodPublic = () => albAnnotations<unknown>({ exposure: "internet-facing", certificateArn: CERT, jwt: JWT, wafAclArn: ACL });
const without = (a: Record<string, unknown>, key: string) => Object.fromEntries(Object.entries(a).filter(([k]) => k !== key));

function violations(policy: WatchpipeResourcePolicy, args: ResourceArgs): string[] {
  const found: string[] = [];
  policy.validateResource(args, (m) => found.push(m));
  return found;
}

describe("ingest-token-validation-and-waf", () => {
  it("passes an internet-facing Ingress with JWT validation, HTTPS only and a web ACL", () => {
    expect(violations(ingestTokenValidationAndWaf, ingress(goodPublic()))).toEqual([]);
  });

  it("passes internal Ingresses without tokens or WAF (the VPC is the boundary there)", () => {
    expect(violations(ingestTokenValidationAndWaf, ingress(albAnnotations({ exposure: "internal" })))).toEqual([]);
  });

  it("refuses an internet-facing Ingress without token validation", () => {
    expect(violations(ingestTokenValidationAndWaf, ingress(without(goodPublic(), A("jwt-validation"))))).toEqual([
      'Ingress kafka/ingest: internet-facing: alb.ingress.kubernetes.io/jwt-validation is not set; expected {"jwksEndpoint","issuer","additionalClaims":[{"name":"aud",...}]} so only player tokens get through',
    ]);
  });

  it("refuses an internet-facing Ingress without a web ACL, or with WAF switched off", () => {
    expect(violations(ingestTokenValidationAndWaf, ingress(without(goodPublic(), A("wafv2-acl-arn"))))).toEqual([
      "Ingress kafka/ingest: internet-facing: alb.ingress.kubernetes.io/wafv2-acl-arn is not set; expected the ARN of the ingest's regional WAFv2 web ACL (rate limits, body size, common rule set)",
    ]);
    expect(violations(ingestTokenValidationAndWaf, ingress({ ...goodPublic(), [A("wafv2-acl-arn")]: "none" }))[0]).toMatch(/wafv2-acl-arn: expected a regional WAFv2 web ACL ARN .*; got "none"$/);
  });

  it("refuses token validation without an audience, or against a JWKS over plain HTTP", () => {
    const noAud = JSON.stringify({ jwksEndpoint: JWT.jwksUrl, issuer: JWT.issuer });
    expect(violations(ingestTokenValidationAndWaf, ingress({ ...goodPublic(), [A("jwt-validation")]: noAud }))[0]).toMatch(/additionalClaims: expected an "aud" claim/);
    const http = JSON.stringify({ jwksEndpoint: "http://id.example.com/jwks", issuer: JWT.issuer, additionalClaims: [{ name: "aud", format: "string-array", values: ["p"] }] });
    expect(violations(ingestTokenValidationAndWaf, ingress({ ...goodPublic(), [A("jwt-validation")]: http }))).toEqual([
      'Ingress kafka/ingest: internet-facing: alb.ingress.kubernetes.io/jwt-validation: jwksEndpoint: expected an https:// URL; got "http://id.example.com/jwks"',
    ]);
  });

  it("refuses an internet-facing HTTP listener that forwards (the ALB validates tokens on HTTPS only)", () => {
    const found = violations(ingestTokenValidationAndWaf, ingress({ ...goodPublic(), [A("listen-ports")]: '[{"HTTP":80},{"HTTPS":443}]' }));
    expect(found).toEqual(['Ingress kafka/ingest: internet-facing: alb.ingress.kubernetes.io/listen-ports: "[{\\"HTTP\\":80},{\\"HTTPS\\":443}]" forwards plain HTTP, where the ALB does not validate tokens; expected HTTPS only (or alb.ingress.kubernetes.io/ssl-redirect)']);
    expect(violations(ingestTokenValidationAndWaf, ingress({ ...goodPublic(), [A("listen-ports")]: '[{"HTTP":80},{"HTTPS":443}]', [A("ssl-redirect")]: "443" }))).toEqual([]);
  });

  it("stays mandatory in preview: an unknown web ACL ARN is not read, a known bad value still fails", () => {
    const preview = ingress({ ...goodPublic(), [A("wafv2-acl-arn")]: engine.unknownStringValue });
    const proxied = { ...preview, props: engine.unknownCheckingProxy(preview.props) };
    expect(() => violations(ingestTokenValidationAndWaf, proxied)).not.toThrow();
    expect(violations(ingestTokenValidationAndWaf, proxied)).toEqual([]);
    const bad = ingress(without(goodPublic(), A("jwt-validation")));
    const badProxied = { ...bad, props: engine.unknownCheckingProxy({ ...bad.props, metadata: { ...(bad.props.metadata as Props), annotations: { ...without(goodPublic(), A("jwt-validation")), [A("wafv2-acl-arn")]: engine.unknownStringValue } } }) };
    expect(violations(ingestTokenValidationAndWaf, badProxied)).toHaveLength(1);
  });

  it("fails closed when the scheme itself is unknown in preview", () => {
    const args = ingress({ ...goodPublic(), [A("scheme")]: engine.unknownStringValue });
    expect(violations(ingestTokenValidationAndWaf, { ...args, props: engine.unknownCheckingProxy(args.props) })).toEqual([
      "Ingress kafka/ingest: alb.ingress.kubernetes.io/scheme is unknown during preview; keep it known so token validation and WAF can be enforced (fail closed)",
    ]);
  });
});

describe("ingest-waf-from-stack (preview: the unknown ARN must come from a web ACL of this stack)", () => {
  const preview = ingress({ ...goodPublic(), [A("wafv2-acl-arn")]: engine.unknownStringValue });
  const acl: StackResource = { type: WEB_ACL, name: "ingest-waf-acl", urn: `urn:pulumi:test::watchpipe::${WEB_ACL}::ingest-waf-acl`, props: {}, propertyDependencies: {} };
  const withDeps = (deps: string[]): StackResource => ({
    ...preview,
    props: engine.unknownCheckingProxy(preview.props),
    propertyDependencies: { metadata: deps } as unknown as StackResource["propertyDependencies"],
  });
  const run = (resources: StackResource[]) => {
    const found: string[] = [];
    ingestWafFromStack.validateStack({ resources }, (m) => found.push(m));
    return found;
  };

  it("passes when the Ingress's metadata is computed from the stack's WebAcl", () => {
    expect(run([acl, withDeps([acl.urn])])).toEqual([]);
  });
  it("refuses an unknown ARN that comes from anywhere else", () => {
    expect(run([acl, withDeps([])])).toEqual([
      "Ingress ingest-ingress: internet-facing: alb.ingress.kubernetes.io/wafv2-acl-arn is unknown during preview and does not come from a WAFv2 web ACL of this stack, so its rules cannot be checked; create the ACL in the program (components/aws/ingestFirewall.ts)",
    ]);
  });
});

describe("ingest-waf-rules", () => {
  const good = () => ingestWebAclSpec({ waf: DEFAULT_WAF_SETTINGS, perTokenRate: true, metricPrefix: "watchpipe-test", tags: {} }) as unknown as Props;
  const acl = (props: Props): ResourceArgs => ({ type: WEB_ACL, name: "ingest-waf-acl", urn: `urn:pulumi:test::watchpipe::${WEB_ACL}::ingest-waf-acl`, props });
  const rules = (p: Props) => p.rules as Props[];
  const mutate = (f: (r: Props[]) => Props[]) => {
    const p = good();
    return { ...p, rules: f(structuredClone(rules(p))) };
  };

  it("passes the program's web ACL", () => {
    expect(violations(ingestWafRules, acl(good()))).toEqual([]);
  });
  it("refuses a web ACL without a per-IP rate rule", () => {
    const p = mutate((r) => r.filter((x) => x.name !== "ingest-rate-per-ip"));
    expect(violations(ingestWafRules, acl(p))).toEqual(["WAFv2 web ACL ingest-waf-acl: rules: expected a rate-based rule per client IP (aggregateKeyType IP); got none"]);
  });
  it("refuses a body-size rule that lets oversize bodies through or exceeds what WAF inspects", () => {
    const p = mutate((r) => r.map((x) => (x.name === "ingest-body-size" ? { ...x, statement: { sizeConstraintStatement: { comparisonOperator: "GT", size: 65536, fieldToMatch: { body: { oversizeHandling: "CONTINUE" } } } } } : x)));
    const found = violations(ingestWafRules, acl(p));
    expect(found).toHaveLength(2);
    expect(found[0]).toMatch(/size: expected at most 8192 bytes .*; got 65536$/);
    expect(found[1]).toMatch(/oversizeHandling: expected MATCH .*; got "CONTINUE"$/);
  });
  it("refuses the common rule set overridden to count, or missing", () => {
    const counted = mutate((r) => r.map((x) => (x.name === "aws-common-rule-set" ? { ...x, overrideAction: { count: {} } } : x)));
    expect(violations(ingestWafRules, acl(counted))[0]).toMatch(/overrideAction: expected \{none: \{\}\} so the group blocks; got \{"count":\{\}\}/);
    const missing = mutate((r) => r.filter((x) => x.name !== "aws-common-rule-set"));
    expect(violations(ingestWafRules, acl(missing))).toEqual(["WAFv2 web ACL ingest-waf-acl: rules: expected the managed rule group AWS/AWSManagedRulesCommonRuleSet; got none"]);
  });
  it("refuses a rate rule that only counts, and a CloudFront-scoped ACL", () => {
    const counting = mutate((r) => r.map((x) => (x.name === "ingest-rate-per-ip" ? { ...x, action: { count: {} } } : x)));
    expect(violations(ingestWafRules, acl(counting))).toEqual(['WAFv2 web ACL ingest-waf-acl: rule "ingest-rate-per-ip": expected action block; got {"count":{}}']);
    expect(violations(ingestWafRules, acl({ ...good(), scope: "CLOUDFRONT" }))[0]).toMatch(/scope: expected REGIONAL/);
  });
});

describe("the whole program, internet-facing (dev with a certificate and a JWT issuer)", () => {
  let run: ProgramRun;
  beforeAll(async () => {
    const dev = { replicas: 1, exposure: "internet-facing", certificateArn: CERT };
    run = await runProgram("dev", { "watchpipe:bridge": dev, "watchpipe:ingest": { jwt: { jwksUrl: JWT.jwksUrl, issuer: JWT.issuer, audience: JWT.audience } } });
  }, 120_000);


  it("the Ingress validates tokens and names the stack's web ACL; the web ACL has the per-token rule", () => {
    const ing = run.one(INGRESS, "ingest-ingress");
    const annotations = ing.inputs.metadata.annotations as Record<string, string>;
    expect(annotations[A("scheme")]).toBe("internet-facing");
    expect(JSON.parse(annotations[A("jwt-validation")] ?? "{}").issuer).toBe(JWT.issuer);
    const acl = run.one(WEB_ACL, "ingest-waf-acl");
    expect(annotations[A("wafv2-acl-arn")]).toMatch(/^arn:aws:wafv2:us-east-1:\d{12}:regional\/webacl\/ingest-waf-acl\//);
    expect((acl.inputs.rules as Props[]).map((r) => r.name)).toEqual(["ingest-body-size", "ingest-rate-per-ip", "ingest-rate-per-token", "aws-common-rule-set"]);
    expect(ing.propertyDependencies.metadata).toContain(acl.urn);
  });

  it("passes the whole pack", () => {
    expect(run.resources.flatMap((r) => violationsOf({ type: r.type, props: r.inputs, urn: r.urn, name: r.name }))).toEqual([]);
    expect(stackViolationsOf({ resources: run.resources.map(asStackResource) })).toEqual([]);
  });

  it("and fails it once the token validation or the web ACL is taken off the Ingress", () => {
    const ing = run.one(INGRESS, "ingest-ingress");
    const annotations = ing.inputs.metadata.annotations as Record<string, unknown>;
    for (const key of [A("jwt-validation"), A("wafv2-acl-arn")]) {
      const props = { ...ing.inputs, metadata: { ...ing.inputs.metadata, annotations: without(annotations, key) } };
      const found = violationsOf({ type: ing.type, props, urn: ing.urn, name: ing.name });
      expect(found).toHaveLength(1);
      expect(found[0]).toContain(`[ingest-token-validation-and-waf] Ingress kafka/ingest: internet-facing: ${key} is not set`);
    }
  });

  it("local has neither a web ACL nor an Ingress", async () => {
    const local = await runProgram("local");
    expect(local.ofType(WEB_ACL)).toEqual([]);
    expect(local.ofType(INGRESS)).toEqual([]);
  }, 120_000);
});

describe("the committed prod stack (internal ALB)", () => {
  let prod: ProgramRun;
  beforeAll(async () => {
    prod = await runProgram("prod");
  }, 120_000);

  it("creates no web ACL (nothing from the internet reaches an internal ALB, and WAF bills every request), detaches any with `none`, and passes the pack", () => {
    const ing = prod.one(INGRESS, "ingest-gateway-ingress");
    const annotations = ing.inputs.metadata.annotations as Record<string, string>;
    expect(annotations[A("scheme")]).toBe("internal");
    // The players' tokens are checked on the ALB's HTTPS listener too (the gateway's Envoy is the check identity relies on).
    expect(JSON.parse(annotations[A("jwt-validation")] ?? "{}").issuer).toBe("https://id.example.com/");
    expect(prod.ofType(WEB_ACL)).toEqual([]);
    expect(annotations[A("wafv2-acl-arn")]).toBe("none");
    expect(violationsOf({ type: ing.type, props: ing.inputs, urn: ing.urn, name: ing.name })).toEqual([]);
    // The controller still honours WAFv2, so switching the stack to internet-facing attaches the ACL it then creates.
    expect(prod.one("kubernetes:helm.sh/v3:Release", "aws-load-balancer-controller-release").inputs.values.enableWafv2).toBe(true);
  });

  it("an internet-facing Ingress that says `none` fails the pack (the ACL is required there)", () => {
    const ing = prod.one(INGRESS, "ingest-gateway-ingress");
    const annotations = { ...(ing.inputs.metadata.annotations as Record<string, string>), [A("scheme")]: "internet-facing" };
    const found = violationsOf({ type: ing.type, props: { ...ing.inputs, metadata: { ...ing.inputs.metadata, annotations } }, urn: ing.urn, name: ing.name });
    expect(found.some((v) => v.includes(`${A("wafv2-acl-arn")}: expected a regional WAFv2 web ACL ARN`) && v.includes('got "none"'))).toBe(true);
  });
});
