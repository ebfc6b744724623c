/**
 * Mandatory policies never skip in preview (issue 15). Inputs are built the way the engine presents them to a pack
 * in `pulumi preview`: unknown values as @pulumi/policy's sentinel, the whole props behind its unknown-checking proxy
 * (which throws UnknownValueError on a read and made the pack downgrade the policy to an advisory).
 */
import { unknownCheckingProxy } from "@pulumi/policy";
import { describe, expect, it } from "vitest";
import { helmValues, releasePlan, type UniverseSizing } from "../components/sink/yugabyteSpecs";
import { lbcValues } from "../operators/awsLoadBalancerControllerSpecs";
import { HELM_RELEASE_TYPE } from "../contract/resourceChecks";
import { releaseWait } from "../contract/readiness";
import { RELEASE_TIMEOUT_SEC } from "../components/sink/yugabyteHelm";
import { LBC_RELEASE_TIMEOUT_SEC } from "../operators/awsLoadBalancerController";
import { resourcePolicies, stackPolicies, type ResourceArgs } from "../policy/policies";
import { UNKNOWN } from "../policy/unknowns";

/** Every violation the pack's resource policies report for one resource presented as the engine does in preview. */
function previewViolations(type: string, props: Record<string, unknown>, name = "r"): string[] {
  const args: ResourceArgs = { type, name, urn: `urn:pulumi:local::watchpipe::${type}::${name}`, props: unknownCheckingProxy(props) as Record<string, unknown> };
  const found: string[] = [];
  for (const p of resourcePolicies) p.validateResource(args, (m) => found.push(`[${p.name}] ${String(m)}`));
  return found;
}

const K = (group: string, kind: string) => `kubernetes:${group}:${kind}`;
const meta = { name: "x", namespace: "kafka" };

/** One resource per mandatory policy with a field that policy checks left unknown. */
const CHECKED_UNKNOWN: readonly [policy: string, type: string, props: Record<string, unknown>][] = [
  ["kafka-topic-durability", K("kafka.strimzi.io/v1", "KafkaTopic"), { metadata: meta, spec: { partitions: 12, replicas: UNKNOWN, config: { "min.insync.replicas": 2 } } }],
  ["kafka-broker-durability", K("kafka.strimzi.io/v1", "Kafka"), { metadata: meta, spec: { kafka: { config: UNKNOWN, listeners: [] } } }],
  ["kafka-listeners-tls-auth", K("kafka.strimzi.io/v1", "Kafka"), { metadata: meta, spec: { kafka: { listeners: UNKNOWN, config: {} } } }],
  ["kafka-acls-least-privilege", K("kafka.strimzi.io/v1", "KafkaUser"), { metadata: meta, spec: { authentication: { type: "scram-sha-512" }, authorization: { type: "simple", acls: UNKNOWN } } }],
  ["kafka-clients-tls-auth", K("kafka.strimzi.io/v1", "KafkaConnect"), { metadata: meta, spec: { tls: UNKNOWN, authentication: { type: "scram-sha-512" } } }],
  ["kafka-client-durability", K("core/v1", "ConfigMap"), { metadata: meta, data: { "producer.properties": UNKNOWN } }],
  ["images-pinned", K("apps/v1", "Deployment"), { metadata: meta, spec: { template: { spec: { containers: [{ name: "c", image: UNKNOWN }] } } } }],
  ["images-pinned", HELM_RELEASE_TYPE, { name: "yb", chart: "yugabyte", values: UNKNOWN }],
  ["no-plaintext-secrets", HELM_RELEASE_TYPE, { name: "yb", chart: "yugabyte", values: UNKNOWN }],
  ["no-plaintext-secrets", K("core/v1", "ConfigMap"), { metadata: meta, data: { "db.password": UNKNOWN } }],
  ["helm-release-bounded-wait", HELM_RELEASE_TYPE, { name: "strimzi", chart: "strimzi-kafka-operator", skipAwait: false, timeout: UNKNOWN }],
  ["eks-secrets-encrypted", "aws:eks/cluster:Cluster", { encryptionConfig: UNKNOWN, vpcConfig: { endpointPublicAccess: false } }],
  ["eks-endpoint-restricted", "aws:eks/cluster:Cluster", { encryptionConfig: { provider: { keyArn: "arn:aws:kms:us-east-1:1:key/k" }, resources: ["secrets"] }, vpcConfig: { endpointPublicAccess: true, publicAccessCidrs: UNKNOWN } }],
  ["kms-key-rotation", "aws:kms/key:Key", { enableKeyRotation: UNKNOWN }],
  ["nodes-imdsv2-hop-limit-1", "aws:ec2/launchTemplate:LaunchTemplate", { metadataOptions: { httpTokens: "required", httpPutResponseHopLimit: UNKNOWN } }],
  ["no-open-ingress", "aws:ec2/securityGroup:SecurityGroup", { ingress: [{ protocol: "tcp", fromPort: 443, toPort: 443, cidrBlocks: UNKNOWN }] }],
  ["ingest-token-validation-and-waf", K("networking.k8s.io/v1", "Ingress"), { metadata: { ...meta, annotations: { "alb.ingress.kubernetes.io/scheme": "internet-facing", "alb.ingress.kubernetes.io/jwt-validation": UNKNOWN } }, spec: { ingressClassName: "alb" } }],
  ["ingest-waf-rules", "aws:wafv2/webAcl:WebAcl", { scope: "REGIONAL", rules: UNKNOWN }],
  ["ingest-gateway-binds-identity", K("core/v1", "ConfigMap"), { metadata: { ...meta, labels: { "app.kubernetes.io/name": "ingest-gateway" } }, data: { "envoy.yaml": UNKNOWN, "routes.yaml": "[]", "application.properties": "" } }],
  ["ingest-gateway-counts-heartbeats", K("core/v1", "ConfigMap"), { metadata: { ...meta, labels: { "app.kubernetes.io/name": "ingest-gateway" } }, data: { "envoy.yaml": UNKNOWN, "routes.yaml": "[]", "application.properties": "" } }],
  ["ingest-gateway-scopes-smoke-issuer", K("core/v1", "ConfigMap"), { metadata: { ...meta, labels: { "app.kubernetes.io/name": "ingest-gateway" } }, data: { "envoy.yaml": UNKNOWN, "routes.yaml": "[]", "application.properties": "" } }],
  ["nodes-no-public-ip", "eks:index:Cluster", { nodeAssociatePublicIpAddress: UNKNOWN, encryptionConfigKeyArn: "arn:aws:kms:us-east-1:1:key/k", endpointPublicAccess: false }],
];

describe("every mandatory policy fails closed on an unknown value it checks", () => {
  it("the table covers every resource policy of the pack", () => {
    expect(new Set(CHECKED_UNKNOWN.map(([p]) => p))).toEqual(new Set(resourcePolicies.map((p) => p.name)));
  });

  it.each(CHECKED_UNKNOWN)("%s: %s with a checked field unknown is a violation, not a skipped check", (policy, type, props) => {
    const found = previewViolations(type, props).filter((m) => m.startsWith(`[${policy}]`));
    expect(found.length, `no violation of ${policy}`).toBeGreaterThan(0);
  });

  it("the violation names the resource, the unknown path and what to change", () => {
    const [message] = previewViolations(K("apps/v1", "Deployment"), CHECKED_UNKNOWN[6][2], "kafka-ui").filter((m) => m.startsWith("[images-pinned]"));
    expect(message).toContain("kubernetes:apps/v1:Deployment kafka-ui");
    expect(message).toContain(".spec.template.spec.containers[0].image");
    expect(message).toContain("unknown during preview");
    expect(message).toContain("fails closed");
    expect(message).toContain("by reference");
  });

  it("a stack policy that reads an unknown reports a violation instead of throwing", () => {
    const proxied = unknownCheckingProxy({ mapPublicIpOnLaunch: UNKNOWN }) as Record<string, unknown>;
    const found: string[] = [];
    for (const p of stackPolicies) {
      p.validateStack({
        resources: [
          { type: "aws:eks/nodeGroup:NodeGroup", name: "ng", urn: "urn:ng", props: {}, propertyDependencies: { subnetIds: ["urn:s"] } as never },
          { type: "aws:ec2/subnet:Subnet", name: "s", urn: "urn:s", props: proxied, propertyDependencies: {} },
        ],
      }, (m) => found.push(String(m)));
    }
    expect(found.join("\n")).toContain("fails closed");
  });
});

describe("unknowns the program leaves in preview are in fields no mandatory policy reads", () => {
  const sizing: UniverseSizing = {
    replicationFactor: 3,
    topology: "single",
    tservers: 3,
    masterResources: { cpu: "1", memory: "2Gi" },
    tserverResources: { cpu: "2", memory: "4Gi" },
    masterStorageGiB: 10,
    storageGiB: 50,
    storageClassName: "standard",
  };
  const ybValues = (overrides: Record<string, unknown> = {}) => ({
    ...helmValues({ sizing, plan: releasePlan(sizing, 1)[0], namespace: "yugabyte", rootCA: { certB64: UNKNOWN, keyB64: UNKNOWN }, setCredentials: true }),
    ...overrides,
  });

  it("the YugabyteDB Release: a generated CA as two unknown leaves of known values passes every policy", () => {
    expect(previewViolations(HELM_RELEASE_TYPE, { name: "yb", chart: "yugabyte", version: "2026.1.0", ...releaseWait(RELEASE_TIMEOUT_SEC, undefined), values: ybValues() })).toEqual([]);
  });

  it("…and the policies still run on the known rest: an unpinned image next to the unknown CA is reported", () => {
    const found = previewViolations(HELM_RELEASE_TYPE, { name: "yb", chart: "yugabyte", values: ybValues({ Image: { repository: "yugabytedb/yugabyte", tag: "latest" } }) });
    expect(found.some((m) => m.startsWith("[images-pinned]") && m.includes("latest") && !m.includes("unknown during preview"))).toBe(true);
  });

  it("the AWS Load Balancer Controller Release: unknown cluster name, VPC and role ARN pass", () => {
    const values = lbcValues({ clusterName: UNKNOWN, vpcId: UNKNOWN, roleArn: UNKNOWN, region: "us-east-1" });
    expect(previewViolations(HELM_RELEASE_TYPE, { name: "aws-load-balancer-controller", chart: "aws-load-balancer-controller", ...releaseWait(LBC_RELEASE_TIMEOUT_SEC, undefined), values })).toEqual([]);
  });

  it("the CA copies are Secrets whose generated data no policy reads", () => {
    const secret = { metadata: { name: "yugabyte-root-ca", namespace: "kafka" }, type: "Opaque", stringData: { "ca.crt": UNKNOWN } };
    expect(previewViolations(K("core/v1", "Secret"), secret)).toEqual([]);
  });

  it("a ConfigMap that folded the generated CA in would fail closed (the shape the real preview reported as advisory)", () => {
    const found = previewViolations(K("core/v1", "ConfigMap"), { metadata: { name: "yugabyte-root-ca", namespace: "kafka" }, data: { "ca.crt": UNKNOWN } });
    expect(found.some((m) => m.includes("fails closed"))).toBe(true);
  });
});
