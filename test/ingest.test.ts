/**
 * The public ingest path as policies: who may write (JWT on the HTTPS listener), what reaches the bridge (POST on the
 * raw-topic path), and how much (the WAF web ACL sized from the design load). docs/ingest.md explains each rule.
 */
import { describe, expect, it } from "vitest";
import { ingestWebAclRules, ingestWebAclSpec } from "../components/aws/ingestFirewallSpecs";
import { albAnnotations, bridgeIngressSpec, bridgeManifest, BRIDGE_MANAGEMENT_PORT, BRIDGE_SERVICE } from "../components/kafka/kafkaBridgeSpecs";
import { bridgeIngressPolicySpec } from "../components/kafka/kafkaNetworkPolicySpecs";
import { lbcValues } from "../operators/awsLoadBalancerControllerSpecs";
import {
  DEFAULT_MAX_BODY_BYTES,
  DEFAULT_RATE_LIMIT_PER_IP,
  DEFAULT_RATE_LIMIT_PER_TOKEN,
  DEFAULT_WAF_SETTINGS,
  ingestNeedsWebAcl,
  ingestRequests,
  maxHeartbeatsPerRequest,
  PLAN_BATCH_HEARTBEATS,
  requestsPerPlayer,
  WAF_ALB_BODY_INSPECTION_BYTES,
} from "../contract/ingest";
import { webAclProblems, WEB_ACL_TYPE } from "../contract/ingestPolicies";
import { RAW_HEARTBEATS_TOPIC } from "../contract/topics";
import { unknownValuePaths } from "./helmValues";
import { describeWithShared } from "./withShared";

const CERT = "arn:aws:acm:us-east-1:111122223333:certificate/abcd-1234";
const ACL = "arn:aws:wafv2:us-east-1:111122223333:regional/webacl/ingest-waf-acl/0f3c7a43-5a42-4a5e-9d7e-8c1f9e2b6d11";
const JWT = { jwksUrl: "https://id.example.com/.well-known/jwks.json", issuer: "https://id.example.com/", audience: ["watchpipe-player"], claims: [] };
const A = (name: string) => `alb.ingress.kubernetes.io/${name}`;

describe("design-load sizing of the WAF limits", () => {
  it("one player sends 60 heartbeats per 300 s window (one every 5 s)", () => {
    expect(requestsPerPlayer(300)).toBe(60);
    expect(requestsPerPlayer(60)).toBe(12);
  });
  it("defaults: 3,000 per IP (50 players behind one NAT), 180 per token (3x one player), 4 KiB bodies (<= WAF's 8 KiB view)", () => {
    expect(DEFAULT_RATE_LIMIT_PER_IP).toBe(3000);
    expect(DEFAULT_RATE_LIMIT_PER_TOKEN).toBe(180);
    expect(DEFAULT_MAX_BODY_BYTES).toBe(4096);
    expect(DEFAULT_MAX_BODY_BYTES).toBeLessThanOrEqual(WAF_ALB_BODY_INSPECTION_BYTES);
    expect(DEFAULT_WAF_SETTINGS.rateWindowSec).toBe(300);
  });
});

describe("requests on the wire at 1 and N heartbeats per POST", () => {
  const at = (n: number, withToken = false) => ingestRequests({ heartbeatsPerSec: 100_000, heartbeatsPerRequest: n, eventBytes: 250, withToken });

  it.each([
    // N, requests/s, body B, request+response B, oldest waits s
    [1, 100_000, 14 + 262, 300 + 276 + 150 + 14 + 32, 0],
    [6, 100_000 / 6, 14 + 6 * 262, 300 + 14 + 6 * 262 + 150 + 14 + 6 * 32, 25],
    [12, 100_000 / 12, 14 + 12 * 262, 300 + 14 + 12 * 262 + 150 + 14 + 12 * 32, 55],
  ])("%d per POST: %d requests/s, a %d B body, %d B through the ALB each, the oldest heartbeat %d s old", (n, rps, body, bytes, wait) => {
    const r = at(n);
    expect(r.requestsPerSec).toBeCloseTo(rps, 9);
    expect(r.bodyBytes).toBe(body);
    expect(r.bytesPerRequest).toBe(bytes);
    expect(r.processedBytesPerSec).toBeCloseTo(rps * bytes, 6);
    expect(r.oldestHeartbeatWaitSec).toBe(wait);
  });

  it("a bearer token adds its header to every request", () => {
    expect(at(1, true).bytesPerRequest - at(1).bytesPerRequest).toBe(850);
  });

  it("players keep one connection while they POST more often than the ALB's 60 s idle timeout, and open one per POST after", () => {
    expect(at(6)).toMatchObject({ players: 500_000, activeConnections: 500_000, newConnectionsPerSec: 500_000 / 300 });
    expect(at(12)).toMatchObject({ requestIntervalSec: 60, activeConnections: 100_000 / 12, newConnectionsPerSec: 100_000 / 12 });
  });

  it("the default 4 KiB body limit takes 15 heartbeats of 250 B, 8 KiB 31", () => {
    expect(maxHeartbeatsPerRequest(4096, 250)).toBe(15);
    expect(at(15).bodyBytes).toBeLessThanOrEqual(4096);
    expect(at(16).bodyBytes).toBeGreaterThan(4096);
    expect(maxHeartbeatsPerRequest(8192, 250)).toBe(31);
    expect(at(PLAN_BATCH_HEARTBEATS).bodyBytes).toBeLessThanOrEqual(DEFAULT_MAX_BODY_BYTES);
  });

  it("refuses a batch of less than one heartbeat", () => {
    expect(() => at(0)).toThrowError("ingestRequests: heartbeatsPerRequest must be an integer >= 1; got 0");
  });
});

describe("ALB annotations of the ingest Ingress", () => {
  const internetFacing = albAnnotations({ exposure: "internet-facing", certificateArn: CERT, jwt: JWT, wafAclArn: ACL });

  it("internet-facing: HTTPS only, TLS 1.2+ policy, the certificate, and the web ACL", () => {
    expect(internetFacing[A("scheme")]).toBe("internet-facing");
    expect(internetFacing[A("listen-ports")]).toBe('[{"HTTPS":443}]');
    expect(internetFacing[A("ssl-redirect")]).toBeUndefined();
    expect(internetFacing[A("certificate-arn")]).toBe(CERT);
    expect(internetFacing[A("ssl-policy")]).toBe("ELBSecurityPolicy-TLS13-1-2-2021-06");
    expect(internetFacing[A("wafv2-acl-arn")]).toBe(ACL);
  });

  it("internet-facing: jwt-validation names the JWKS URL and issuer and requires the audience as a string-array claim", () => {
    expect(JSON.parse(internetFacing[A("jwt-validation")] as string)).toEqual({
      jwksEndpoint: JWT.jwksUrl,
      issuer: JWT.issuer,
      additionalClaims: [{ name: "aud", format: "string-array", values: ["watchpipe-player"] }],
    });
    const scoped = albAnnotations({ exposure: "internet-facing", certificateArn: CERT, jwt: { ...JWT, claims: [{ name: "scope", format: "space-separated-values", values: ["heartbeat:write"] }] } });
    expect(JSON.parse(scoped[A("jwt-validation")] as string).additionalClaims[1]).toEqual({ name: "scope", format: "space-separated-values", values: ["heartbeat:write"] });
  });

  it("every exposure forwards only POST to the bridge and health-checks its management port", () => {
    for (const a of [internetFacing, albAnnotations({ exposure: "internal" }), albAnnotations({ exposure: "internal", certificateArn: CERT })]) {
      expect(JSON.parse(a[A(`conditions.${BRIDGE_SERVICE}`)] as string)).toEqual([{ field: "http-request-method", httpRequestMethodConfig: { values: ["POST"] } }]);
      expect(a[A("healthcheck-path")]).toBe("/healthy");
      expect(a[A("healthcheck-port")]).toBe(String(BRIDGE_MANAGEMENT_PORT));
      expect(a[A("target-type")]).toBe("ip");
    }
  });

  it("internal without a web ACL or token: no token validation, and the ALB is told to carry no web ACL (`none` detaches one attached earlier)", () => {
    const a = albAnnotations({ exposure: "internal" });
    expect(a[A("wafv2-acl-arn")]).toBe("none");
    expect(a[A("jwt-validation")]).toBeUndefined();
  });

  it("the web ACL is wanted only where the internet reaches the ALB", () => {
    expect(ingestNeedsWebAcl("internet-facing")).toBe(true);
    expect(ingestNeedsWebAcl("internal")).toBe(false);
  });

  it("refuses internet-facing without token validation, and token validation without a certificate", () => {
    expect(() => albAnnotations({ exposure: "internet-facing", certificateArn: CERT })).toThrow(/^ingest\.jwt: an internet-facing bridge must validate player tokens/);
    expect(() => albAnnotations({ exposure: "internal", jwt: JWT })).toThrow(/^bridge\.certificateArn: the ALB validates tokens only on HTTPS listeners/);
  });

  it("the conditions annotation is keyed by the backend's service name, and the only path is the raw topic (Exact)", () => {
    const ingress = bridgeIngressSpec("kafka", { exposure: "internet-facing", certificateArn: CERT, jwt: JWT, wafAclArn: ACL });
    const paths = ingress.spec.rules[0].http.paths;
    expect(paths).toHaveLength(1);
    expect(paths[0]).toMatchObject({ path: `/topics/${RAW_HEARTBEATS_TOPIC}`, pathType: "Exact", backend: { service: { name: BRIDGE_SERVICE } } });
  });
});

describe("the bridge itself", () => {
  const spec = bridgeManifest("kafka", 2).spec;
  it("runs the producer only: the consumer endpoints are off", () => {
    expect(spec.producer.enabled).toBe(true);
    expect(spec.consumer).toEqual({ enabled: false });
  });
  it("bounds what one produce request (so one record) can carry to 256 KiB", () => {
    expect(spec.producer.config["max.request.size"]).toBe(262_144);
  });
  it("the NetworkPolicy admits the ALB's health checks on the management port from the VPC only", () => {
    const policy = bridgeIngressPolicySpec(["10.40.0.0/16"]);
    expect(policy.ingress[1]).toEqual({ from: [{ ipBlock: { cidr: "10.40.0.0/16" } }], ports: [{ protocol: "TCP", port: 8081 }] });
    expect(bridgeIngressPolicySpec([]).ingress).toHaveLength(1);
  });
});

describe("the WAFv2 web ACL", () => {
  const rules = ingestWebAclRules({ waf: DEFAULT_WAF_SETTINGS, perTokenRate: true });
  const byName = Object.fromEntries(rules.map((r) => [r.name, r]));

  it("blocks bodies over the limit, counting bodies beyond WAF's inspection window as over", () => {
    expect(byName["ingest-body-size"]).toMatchObject({
      priority: 0,
      action: { block: {} },
      statement: { sizeConstraintStatement: { comparisonOperator: "GT", size: 4096, fieldToMatch: { body: { oversizeHandling: "MATCH" } } } },
    });
  });

  it("rate-limits per client IP over the configured window", () => {
    expect(byName["ingest-rate-per-ip"]).toMatchObject({
      priority: 1,
      action: { block: {} },
      statement: { rateBasedStatement: { aggregateKeyType: "IP", limit: 3000, evaluationWindowSec: 300 } },
    });
  });

  it("rate-limits per bearer token when tokens are validated, and not otherwise", () => {
    expect(byName["ingest-rate-per-token"]).toMatchObject({
      priority: 2,
      action: { block: {} },
      statement: { rateBasedStatement: { aggregateKeyType: "CUSTOM_KEYS", limit: 180, evaluationWindowSec: 300, customKeys: [{ header: { name: "authorization" } }] } },
    });
    expect(ingestWebAclRules({ waf: DEFAULT_WAF_SETTINGS, perTokenRate: false }).map((r) => r.name)).toEqual(["ingest-body-size", "ingest-rate-per-ip", "aws-common-rule-set"]);
  });

  it("runs the AWS managed common rule set with its own (blocking) actions", () => {
    expect(byName["aws-common-rule-set"]).toMatchObject({
      priority: 3,
      overrideAction: { none: {} },
      statement: { managedRuleGroupStatement: { vendorName: "AWS", name: "AWSManagedRulesCommonRuleSet" } },
    });
    expect(byName["aws-common-rule-set"]?.action).toBeUndefined();
  });

  it("takes its limits from config", () => {
    const custom = ingestWebAclRules({ waf: { rateLimitPerIp: 600, rateLimitPerToken: 24, rateWindowSec: 60, maxBodyBytes: 1024 }, perTokenRate: true });
    expect(JSON.stringify(custom)).toContain('"limit":600,"evaluationWindowSec":60');
    expect(JSON.stringify(custom)).toContain('"limit":24,"evaluationWindowSec":60');
    expect(JSON.stringify(custom)).toContain('"size":1024');
  });

  it("is regional, allows what no rule blocks, publishes metrics per rule, and passes the pack's own check", () => {
    const acl = ingestWebAclSpec({ waf: DEFAULT_WAF_SETTINGS, perTokenRate: true, metricPrefix: "watchpipe-prod", tags: { stack: "prod" } });
    expect(acl.scope).toBe("REGIONAL");
    expect(acl.defaultAction).toEqual({ allow: {} });
    expect(new Set(acl.rules.map((r) => r.priority)).size).toBe(acl.rules.length);
    for (const r of acl.rules) expect(r.visibilityConfig).toEqual({ cloudwatchMetricsEnabled: true, metricName: r.name, sampledRequestsEnabled: true });
    expect(webAclProblems(WEB_ACL_TYPE, acl as unknown as Record<string, unknown>)).toEqual([]);
  });
});

describe("the AWS Load Balancer Controller", () => {
  it("has its WAFv2 integration on (the Ingress's wafv2-acl-arn is ignored otherwise), WAF Classic and Shield off", () => {
    const values = lbcValues({ clusterName: "c", region: "us-east-1", vpcId: "vpc-1", roleArn: "arn:aws:iam::111122223333:role/lbc" });
    expect(values).toMatchObject({ enableWafv2: true, enableWaf: false, enableShield: false });
  });
});

describeWithShared("the AWS Load Balancer Controller's values against the 3.5.0 chart", () => {
  it("every value path (enableWafv2 included) exists in the chart's values.yaml", () => {
    const values = lbcValues({ clusterName: "c", region: "us-east-1", vpcId: "vpc-1", roleArn: "arn:aws:iam::111122223333:role/lbc" });
    expect(unknownValuePaths(values, "../shared/charts/aws-load-balancer-controller-3.5.0/values.yaml")).toEqual([]);
  });
});
