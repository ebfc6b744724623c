/**
 * The ingest gateway as the program deploys it (issue 24): with `ingest.gateway` set, the ALB forwards the players'
 * path to Envoy + Camel instead of the Kafka Bridge; the pod's configs are the contract's builders; only Envoy's port
 * and Camel's management port are admitted; the HPA keeps CPU at 50 %. Config errors name the key.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { ConfigError, parseConfig, type RawConfig } from "../config";
import { imageProblems } from "../contract/kafkaPolicies";
import { DEFAULT_GATEWAY_MAX_REPLICAS, GATEWAY_POD_CPU_REQUEST, GATEWAY_POD_REQUESTS, gatewayPodsFor, INGEST_PATH, KAFKA_DELIVERY_TIMEOUT_MS, SUBJECT_HEADER } from "../contract/ingestGateway";
import { cpuMillis } from "../contract/nodeCapacity";
import { HEARTBEATS_HEADER } from "../contract/ingestLimits";
import {
  CAMEL_HTTP_PORT,
  CAMEL_MANAGEMENT_PORT,
  CAMEL_RESOURCES,
  ENVOY_RESOURCES,
  ENVOY_ADMIN_PORT,
  GATEWAY_HTTP_PORT,
  GATEWAY_SERVICE,
  GATEWAY_TARGET_CPU_PERCENT,
  GATEWAY_TERMINATION_GRACE_SEC,
  GATEWAY_PRESTOP_SLEEP_SEC,
  SMOKE_KID_ANNOTATION,
} from "../components/kafka/ingestGatewaySpecs";
import { unknownCheckingProxy } from "@pulumi/policy";
import { resourcePolicies, stackViolationsOf, violationsOf, type StackResource } from "../policy/policies";
import { UNKNOWN } from "../policy/unknowns";
import { ISSUER_HEADER, SMOKE_AUDIENCE, SMOKE_JWKS_DIR, SMOKE_JWKS_FILE, SMOKE_REFUSAL_REASON, smokeSubjectCondition } from "../contract/smokeIssuer";
import { gatewayImageTag } from "../contract/gatewayImage";
import { mockImageDigest, MOCK_GATEWAY_REPOSITORY } from "../tools/mockRun";
import { asStackResource, PROGRAM_RUN_TIMEOUT_MS, ProgramError, programRunsTimeout, type ProgramRun, ROOT, runProgram } from "./harness";

const CERT = "arn:aws:acm:us-east-1:111122223333:certificate/abcd-1234";
const JWT = { jwksUrl: "https://id.example.com/.well-known/jwks.json", issuer: "https://id.example.com/", audience: ["watchpipe-player"] };
const IMAGE = `111122223333.dkr.ecr.us-east-1.amazonaws.com/watchpipe-ingest-gateway@sha256:${"ab".repeat(32)}`;
const GATEWAY = { image: IMAGE };
const INGRESS = "kubernetes:networking.k8s.io/v1:Ingress";
const DEPLOYMENT = "kubernetes:apps/v1:Deployment";
const CONFIGMAP = "kubernetes:core/v1:ConfigMap";
const SECRET = "kubernetes:core/v1:Secret";
const POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy";
const HPA = "kubernetes:autoscaling/v2:HorizontalPodAutoscaler";
const A = (name: string) => `alb.ingress.kubernetes.io/${name}`;
type Props = Record<string, unknown>;

let dev: ProgramRun;
let devBridge: ProgramRun;
let local: ProgramRun;
let devNoSmoke: ProgramRun;
beforeAll(async () => {
  const bridge = { replicas: 1, exposure: "internet-facing", certificateArn: CERT };
  dev = await runProgram("dev", { "watchpipe:bridge": bridge, "watchpipe:ingest": { jwt: JWT, gateway: GATEWAY } });
  devBridge = await runProgram("dev", { "watchpipe:bridge": bridge, "watchpipe:ingest": { jwt: JWT } });
  local = await runProgram("local", { "watchpipe:ingest": { jwt: JWT, gateway: GATEWAY } });
  devNoSmoke = await runProgram("dev", { "watchpipe:bridge": bridge, "watchpipe:ingest": { jwt: JWT, gateway: { ...GATEWAY, smokeIssuer: false } } });
}, programRunsTimeout(4));

const gatewayDeployment = (run: ProgramRun) => run.one(DEPLOYMENT, "ingest-gateway-deployment");
const containers = (run: ProgramRun) => gatewayDeployment(run).inputs.spec.template.spec.containers as Props[];
const configData = (run: ProgramRun) => run.one(CONFIGMAP, "ingest-gateway-config").inputs.data as Record<string, string>;

describe("dev, internet-facing, with the gateway", () => {
  it("the ALB forwards POST on the players' path to the gateway's Envoy, not to the bridge, and health-checks Camel", () => {
    const ing = dev.one(INGRESS);
    expect(ing.name).toBe("ingest-gateway-ingress");
    const paths = ing.inputs.spec.rules[0].http.paths as Props[];
    expect(paths).toEqual([{ path: INGEST_PATH, pathType: "Exact", backend: { service: { name: GATEWAY_SERVICE, port: { number: GATEWAY_HTTP_PORT } } } }]);
    const annotations = ing.inputs.metadata.annotations as Record<string, string>;
    expect(JSON.parse(annotations[A(`conditions.${GATEWAY_SERVICE}`)] ?? "[]")).toEqual([{ field: "http-request-method", httpRequestMethodConfig: { values: ["POST"] } }]);
    expect(annotations[A("healthcheck-port")]).toBe(String(CAMEL_MANAGEMENT_PORT));
    // The ALB still validates tokens too (and the WAF counts per token): Envoy's check is the one the binding relies on.
    expect(JSON.parse(annotations[A("jwt-validation")] ?? "{}").issuer).toBe(JWT.issuer);
  });

  it("no Kafka Bridge is deployed: no KafkaBridge, no Ingress, NetworkPolicy, PodMonitor or output of it", () => {
    const BRIDGE = "kubernetes:kafka.strimzi.io/v1:KafkaBridge";
    expect(dev.ofType(BRIDGE)).toEqual([]);
    expect(local.ofType(BRIDGE)).toEqual([]);
    expect(dev.ofType(INGRESS)).toHaveLength(1);
    const mentionsBridge = (r: { inputs: Props }) => JSON.stringify(r.inputs).includes("KafkaBridge");
    expect(dev.ofType(POLICY).filter(mentionsBridge).map((p) => p.name)).toEqual([]);
    expect(dev.ofType("kubernetes:monitoring.coreos.com/v1:PodMonitor").filter(mentionsBridge).map((p) => p.name)).toEqual([]);
    expect(dev.outputs.bridgeService).toBeUndefined();
    expect(local.outputs.bridgeService).toBeUndefined();
    // The players' ALB keeps its output name; it points at the gateway now.
    expect(Object.keys(dev.outputs)).toContain("bridgeHostname");
    // Without the gateway the bridge is the players' path: its Ingress, the VPC's access, its output.
    expect(devBridge.ofType(BRIDGE)).toHaveLength(1);
    expect(devBridge.one(INGRESS).name).toBe("ingest-ingress");
    expect(devBridge.outputs.bridgeService).toBe("ingest-bridge-service");
    expect(devBridge.ofType(DEPLOYMENT).map((d) => d.name)).not.toContain("ingest-gateway-deployment");
  });

  it("CrossGuard ingest-single-write-path: the program passes; a KafkaBridge beside the gateway fails the preview", () => {
    const single = (run: ProgramRun, extra: StackResource[] = []) =>
      stackViolationsOf({ resources: [...run.resources.map(asStackResource), ...extra] }).filter((v) => v.startsWith("[ingest-single-write-path]"));
    expect(single(dev)).toEqual([]);
    expect(single(local)).toEqual([]);
    // Without the gateway the Bridge is the players' path: allowed.
    expect(single(devBridge)).toEqual([]);
    const bridge = devBridge.one("kubernetes:kafka.strimzi.io/v1:KafkaBridge");
    expect(single(dev, [asStackResource(bridge)])).toEqual([
      "[ingest-single-write-path] KafkaBridge ingest-bridge: a Kafka Bridge is deployed beside the ingest gateway: a second way into heartbeats_raw that binds no token's subject; players post through the gateway and the session ticker produces as its own KafkaUser, so remove the Bridge (kafkaPlatform creates none with ingest.gateway)",
    ]);
  });

  it.each([["with the gateway", () => dev], ["without it", () => devBridge]])("%s, the session ticker produces straight to the brokers as its own KafkaUser (write on heartbeats_raw only)", (_, run) => {
    const user = run().one("kubernetes:kafka.strimzi.io/v1:KafkaUser", "kafka-users-session-ticker");
    expect(user.inputs.spec.authentication).toEqual({ type: "scram-sha-512" });
    expect(user.inputs.spec.authorization.acls).toEqual([
      { type: "allow", resource: { type: "topic", name: "heartbeats_raw", patternType: "literal" }, operations: ["Write", "Describe"] },
    ]);
    const ticker = run().one(DEPLOYMENT, "session-ticker-deployment");
    const env = (ticker.inputs.spec.template.spec.containers as { env: { name: string; value?: string }[] }[])[0]!.env;
    expect(env.find((e) => e.name === "BOOTSTRAP_SERVERS")?.value).toBe("events-kafka-bootstrap.kafka.svc:9093");
    expect(env.map((e) => e.name)).not.toContain("BRIDGE_URL");
    expect(run().one(POLICY, "session-ticker-egress").inputs.spec.policyTypes).toEqual(["Egress"]);
  });

  it("Envoy verifies tokens against the configured issuer, audience and JWKS, and strips a client's subject header", () => {
    const envoy = JSON.parse(configData(dev)["envoy.yaml"] ?? "{}") as Props;
    const text = JSON.stringify(envoy);
    expect(text).toContain(JWT.jwksUrl);
    expect(text).toContain(`"issuer":"${JWT.issuer}"`);
    expect(text).toContain(`"audiences":["watchpipe-player"]`);
    expect(text).toContain(`"remove":"${SUBJECT_HEADER}"`);
    expect(text).toContain(`"claim_name":"sub"`);
    // Envoy's admin interface stays on loopback.
    expect((envoy.admin as Props).address).toEqual({ socket_address: { address: "127.0.0.1", port_value: ENVOY_ADMIN_PORT } });
  });

  it("Camel's HTTP server listens on loopback only, and produces over TLS + SCRAM with the password from the KafkaUser Secret", () => {
    const props = configData(dev)["application.properties"] ?? "";
    expect(props).toContain("camel.server.host=127.0.0.1\n");
    expect(props).toContain(`camel.server.port=${CAMEL_HTTP_PORT}\n`);
    expect(props).toContain("camel.component.kafka.securityProtocol=SASL_SSL\n");
    expect(props).toContain("camel.component.kafka.saslMechanism=SCRAM-SHA-512\n");
    expect(props).toContain("camel.component.kafka.saslJaasConfig={{env:KAFKA_SASL_JAAS_CONFIG}}\n");
    expect(props).not.toMatch(/password=/);
    const camel = containers(dev).find((c) => c.name === "camel") as Props;
    expect(camel.env).toEqual([{ name: "KAFKA_SASL_JAAS_CONFIG", valueFrom: { secretKeyRef: { name: "bridge", key: "sasl.jaas.config" } } }]);
  });

  it("the route refuses batches over the configured size", () => {
    expect(configData(dev)["routes.yaml"]).toContain("at most 15 heartbeats per request");
  });

  it("runs pinned images: the Envoy project's release and the gateway image by digest", () => {
    const images = containers(dev).map((c) => c.image);
    expect(images).toEqual(["envoyproxy/envoy:v1.40.0", IMAGE]);
    expect(imageProblems(gatewayDeployment(dev))).toEqual([]);
  });

  it("with an ECR repository, deploys the digest of this checkout's build, looked up by its source tag", async () => {
    const repo = `111122223333.dkr.ecr.us-east-1.amazonaws.com/${MOCK_GATEWAY_REPOSITORY}`;
    const run = await runProgram("dev", { "watchpipe:bridge": { replicas: 1, exposure: "internal", certificateArn: CERT }, "watchpipe:ingest": { jwt: JWT, gateway: { image: repo } } });
    const camel = containers(run).find((c) => c.name === "camel");
    expect(camel?.image).toBe(`${repo}@${mockImageDigest(gatewayImageTag())}`);
    expect(imageProblems(gatewayDeployment(run))).toEqual([]);
    expect(run.invokes).toContain("aws:ecr/getImages:getImages");
  }, PROGRAM_RUN_TIMEOUT_MS);

  it("with an ECR repository that lacks this build, the program fails naming the repository, the tag and the workflow", async () => {
    const repo = "111122223333.dkr.ecr.us-east-1.amazonaws.com/never-published";
    const error = await runProgram("dev", { "watchpipe:ingest": { jwt: JWT, gateway: { image: repo } }, "watchpipe:bridge": { replicas: 1, exposure: "internal", certificateArn: CERT } }).then(() => undefined, (err: unknown) => err);
    expect(error).toBeInstanceOf(ProgramError);
    expect(String((error as Error).message)).toContain(`watchpipe:ingest.gateway.image: ${repo} has no image tagged ${gatewayImageTag()}`);
    // Looked up before anything is registered: nothing is created or changed.
    expect((error as ProgramError).resources).toEqual([]);
  }, PROGRAM_RUN_TIMEOUT_MS);

  it("the NetworkPolicy admits Envoy's port and Camel's management port, nothing else", () => {
    const policy = dev.one(POLICY, "ingest-gateway-network-policy");
    const ports = (policy.inputs.spec.ingress as Props[]).flatMap((rule) => (rule.ports as Props[]).map((p) => p.port));
    expect(ports.sort()).toEqual([GATEWAY_HTTP_PORT, CAMEL_MANAGEMENT_PORT].sort());
  });

  it("scales on CPU at 50 % between the configured bounds, and the Deployment leaves its replica count to the HPA", () => {
    const hpa = dev.one(HPA);
    expect(hpa.inputs.spec.minReplicas).toBe(2);
    expect(hpa.inputs.spec.metrics[0].resource.target.averageUtilization).toBe(GATEWAY_TARGET_CPU_PERCENT);
    expect(GATEWAY_TARGET_CPU_PERCENT).toBeLessThanOrEqual(50);
    // The HPA ceiling's sizing (contract/ingestGateway.ts) assumes exactly these requests.
    expect(cpuMillis(ENVOY_RESOURCES.requests.cpu)! + cpuMillis(CAMEL_RESOURCES.requests.cpu)!).toBe(GATEWAY_POD_CPU_REQUEST * 1000);
    expect(GATEWAY_POD_REQUESTS).toEqual({ cpu: "1250m", memory: "1152Mi" });
    expect(gatewayPodsFor(100_000)).toBe(49);
    expect(DEFAULT_GATEWAY_MAX_REPLICAS).toBe(59);
    // Unset, the ceiling follows the stack's peak: dev's 5,000 heartbeats/s need 3 pods, × 1.2 = 4.
    expect(hpa.inputs.spec.maxReplicas).toBe(4);
  });

  it("a pod stops only after the ALB stopped sending and Camel's longest write could finish", () => {
    expect(gatewayDeployment(dev).inputs.spec.template.spec.terminationGracePeriodSeconds).toBe(GATEWAY_TERMINATION_GRACE_SEC);
    expect(GATEWAY_TERMINATION_GRACE_SEC).toBeGreaterThan(GATEWAY_PRESTOP_SLEEP_SEC + KAFKA_DELIVERY_TIMEOUT_MS / 1000);
  });
});

describe("CrossGuard: ingest-gateway-binds-identity", () => {
  const configMap = () => dev.one(CONFIGMAP, "ingest-gateway-config");
  const check = (data: Record<string, string>) => {
    const cm = configMap();
    return violationsOf({ type: cm.type, props: { ...cm.inputs, data }, urn: cm.urn, name: cm.name }).filter((v) => v.includes("ingest-gateway-binds-identity"));
  };

  it("the whole program with the gateway passes the pack", () => {
    expect(dev.resources.flatMap((r) => violationsOf({ type: r.type, props: r.inputs, urn: r.urn, name: r.name }))).toEqual([]);
    expect(local.resources.flatMap((r) => violationsOf({ type: r.type, props: r.inputs, urn: r.urn, name: r.name }))).toEqual([]);
  });

  it("fails a config that would let an unverified identity through", () => {
    const data = configData(dev);
    const envoy = data["envoy.yaml"] ?? "";
    const cases: [string, Record<string, string>, RegExp][] = [
      ["Camel on every interface", { ...data, "application.properties": (data["application.properties"] ?? "").replace("camel.server.host=127.0.0.1", "camel.server.host=0.0.0.0") }, /camel\.server\.host: expected 127\.0\.0\.1/],
      ["a client's subject header kept", { ...data, "envoy.yaml": envoy.replace(`"remove": "${SUBJECT_HEADER}"`, `"remove": "x-other"`) }, /remove a client's x-watchpipe-sub/],
      ["no user_id check in the route", { ...data, "routes.yaml": (data["routes.yaml"] ?? "").replace(`\${body[value][user_id]} != \${header.${SUBJECT_HEADER}}`, "false") }, /user_id compared with x-watchpipe-sub/],
      ["plaintext to Kafka", { ...data, "application.properties": (data["application.properties"] ?? "").replace("securityProtocol=SASL_SSL", "securityProtocol=PLAINTEXT") }, /securityProtocol: expected SASL_SSL/],
      ["token check only on some paths", { ...data, "envoy.yaml": envoy.replace(`"prefix": "/"`, `"prefix": "/topics"`) }, /require a verified token on every path/],
    ];
    for (const [what, mutated, message] of cases) {
      const found = check(mutated);
      expect(found, what).toHaveLength(1);
      expect(found[0], what).toMatch(message);
    }
  });
});

describe("the deploy smoke issuer (on by default in dev and local)", () => {
  it("generates an ES256 key, mounts its public JWKS into Envoy, and exports what the smoke needs", () => {
    const key = dev.one("tls:index/privateKey:PrivateKey", "ingest-gateway-smoke-key");
    expect(key.inputs).toMatchObject({ algorithm: "ECDSA", ecdsaCurve: "P256" });
    // The kubernetes SDK marks a Secret's stringData secret (under mocks: the secret envelope, its value inside).
    const stringData = dev.one(SECRET, "ingest-gateway-smoke-jwks").inputs.stringData as { value?: Record<string, string> } & Record<string, string>;
    const jwks = JSON.parse((stringData.value ?? stringData)[SMOKE_JWKS_FILE] ?? "{}") as { keys: Props[] };
    expect(jwks.keys).toEqual([expect.objectContaining({ kty: "EC", crv: "P-256", alg: "ES256", kid: dev.outputs.ingestSmokeKid })]);
    expect(JSON.stringify(jwks)).not.toContain('"d"');
    expect(dev.outputs).toMatchObject({ ingestSmokeIssuer: "watchpipe-smoke/dev", ingestSmokeAudience: SMOKE_AUDIENCE, ingestGatewayService: GATEWAY_SERVICE, ingestGatewayPort: GATEWAY_HTTP_PORT });
    expect(String(dev.outputs.ingestSmokeKeyPem)).toMatch(/^-----BEGIN EC PRIVATE KEY-----/);
    expect(local.outputs.ingestSmokeIssuer).toBe("watchpipe-smoke/local");
    const envoyMounts = (containers(dev).find((c) => c.name === "envoy")!.volumeMounts as Props[]).map((m) => m.mountPath);
    expect(envoyMounts).toContain(SMOKE_JWKS_DIR);
    // A new key (a new kid) rolls the pods, so Envoy reads the new JWKS.
    expect(gatewayDeployment(dev).inputs.spec.template.metadata.annotations[SMOKE_KID_ANNOTATION]).toBe(dev.outputs.ingestSmokeKid);
    const envoy = configData(dev)["envoy.yaml"] ?? "";
    expect(envoy).toContain(`"filename": "${SMOKE_JWKS_DIR}/${SMOKE_JWKS_FILE}"`);
    expect(configData(dev)["routes.yaml"]).toContain(SMOKE_REFUSAL_REASON);
  });

  it("a first preview, with the key not yet generated (its JWKS and kid unknown), passes the whole pack: nothing a mandatory policy reads depends on the key", () => {
    const preview = (type: string, name: string, props: Props) => {
      const found: string[] = [];
      const args = { type, name, urn: `urn:pulumi:dev::watchpipe::${type}::${name}`, props: unknownCheckingProxy(props) as Props };
      for (const p of resourcePolicies) p.validateResource(args, (m) => found.push(`[${p.name}] ${String(m)}`));
      return found;
    };
    const jwks = dev.one(SECRET, "ingest-gateway-smoke-jwks");
    expect(preview(jwks.type, jwks.name, { ...jwks.inputs, stringData: { [SMOKE_JWKS_FILE]: UNKNOWN } })).toEqual([]);
    // The same JWKS in a ConfigMap would fail the preview closed: the pack reads every ConfigMap's data.
    expect(preview(CONFIGMAP, jwks.name, { metadata: jwks.inputs.metadata, data: { [SMOKE_JWKS_FILE]: UNKNOWN } }).length).toBeGreaterThan(0);
    const d = gatewayDeployment(dev);
    const template = d.inputs.spec.template as Props;
    const annotations = { ...((template.metadata as Props).annotations as Props), [SMOKE_KID_ANNOTATION]: UNKNOWN };
    const props = { ...d.inputs, spec: { ...d.inputs.spec, template: { ...template, metadata: { ...(template.metadata as Props), annotations } } } };
    expect(preview(d.type, d.name, props)).toEqual([]);
    const cm = dev.one(CONFIGMAP, "ingest-gateway-config");
    expect(preview(cm.type, cm.name, cm.inputs)).toEqual([]);
  });

  it("smokeIssuer: false leaves one provider, no key and no smoke outputs; prod leaves it off unless its config says true", () => {
    expect(devNoSmoke.ofType("tls:index/privateKey:PrivateKey").map((r) => r.name)).not.toContain("ingest-gateway-smoke-key");
    expect(Object.keys(devNoSmoke.outputs).filter((k) => k.startsWith("ingestSmoke"))).toEqual([]);
    expect(configData(devNoSmoke)["envoy.yaml"]).not.toContain('"smoke"');
    expect(configData(devNoSmoke)["routes.yaml"]).not.toContain(SMOKE_REFUSAL_REASON);
    const prodRaw = parse(readFileSync(join(ROOT, "Pulumi.prod.yaml"), "utf8")) as { config: Record<string, unknown> };
    const prod = (gateway: Record<string, unknown>) => parseConfig({
      ...Object.fromEntries(Object.entries(prodRaw.config).filter(([k]) => k.startsWith("watchpipe:")).map(([k, v]) => [k.slice("watchpipe:".length), v])),
      bridge: { replicas: 2, exposure: "internet-facing", certificateArn: CERT }, ingest: { jwt: JWT, gateway },
    }, "prod").ingest.gateway?.smokeIssuer;
    expect(prod(GATEWAY)).toBe(false);
    expect(prod({ ...GATEWAY, smokeIssuer: true })).toBe(true);
  });
});

describe("CrossGuard: ingest-gateway-scopes-smoke-issuer", () => {
  const check = (data: Record<string, string>) => {
    const cm = dev.one(CONFIGMAP, "ingest-gateway-config");
    return violationsOf({ type: cm.type, props: { ...cm.inputs, data }, urn: cm.urn, name: cm.name }).filter((v) => v.includes("ingest-gateway-scopes-smoke-issuer"));
  };
  /** Envoy's bootstrap with one provider's claim_to_headers replaced. */
  const withClaims = (data: Record<string, string>, provider: string, claims: unknown[]): string => {
    const envoy = JSON.parse(data["envoy.yaml"] ?? "{}") as Props;
    const text = JSON.stringify(envoy);
    const jwt = JSON.parse(text) as Props;
    const walk = (v: unknown): void => {
      if (Array.isArray(v)) v.forEach(walk);
      else if (v !== null && typeof v === "object") {
        const o = v as Props;
        if (o.providers && typeof o.providers === "object") ((o.providers as Record<string, Props>)[provider]!).claim_to_headers = claims;
        else Object.values(o).forEach(walk);
      }
    };
    walk(jwt);
    return JSON.stringify(jwt, null, 2);
  };

  it("the program's config passes with two providers (and the other gateway policies still hold); one provider needs nothing", () => {
    expect(check(configData(dev))).toEqual([]);
    expect(check(configData(devNoSmoke))).toEqual([]);
    const cm = dev.one(CONFIGMAP, "ingest-gateway-config");
    expect(violationsOf({ type: cm.type, props: cm.inputs, urn: cm.urn, name: cm.name })).toEqual([]);
  });

  it("fails closed when the smoke provider's issuer header, the strip of a client's copy, or Camel's refusal is removed", () => {
    const data = configData(dev);
    const envoy = data["envoy.yaml"] ?? "";
    const routes = data["routes.yaml"] ?? "";
    const subjectOnly = [{ header_name: SUBJECT_HEADER, claim_name: "sub" }];
    const cases: [string, Record<string, string>, RegExp][] = [
      ["the smoke provider no longer copies iss", { ...data, "envoy.yaml": withClaims(data, "smoke", subjectOnly) }, /provider smoke: expected claim_to_headers to copy the verified iss into x-watchpipe-iss/],
      ["a client's issuer header kept", { ...data, "envoy.yaml": envoy.replace(`"remove": "${ISSUER_HEADER}"`, '"remove": "x-other"') }, /remove a client's x-watchpipe-iss/],
      ["Camel's smoke-prefix check removed", { ...data, "routes.yaml": routes.replace(JSON.stringify(smokeSubjectCondition(JWT.issuer, SUBJECT_HEADER)).slice(1, -1), "false") }, /expected the route to refuse \(smoke_subject\)/],
      // A second provider in a gateway built without the smoke scope (hand-edited config): Camel would hold it to nothing.
      ["a second provider without the scope", { ...configData(devNoSmoke), "envoy.yaml": (configData(devNoSmoke)["envoy.yaml"] ?? "").replace('"providers": {', `"providers": { "extra": { "issuer": "x", "audiences": ["y"], "local_jwks": { "filename": "/k" }, "claim_to_headers": [{ "header_name": "${SUBJECT_HEADER}", "claim_name": "sub" }] },`) }, /expected claim_to_headers to copy the verified iss/],
    ];
    for (const [what, mutated, message] of cases) {
      const found = check(mutated);
      expect(found.length, `${what}: ${found.join(" | ")}`).toBeGreaterThan(0);
      expect(found[0], what).toMatch(message);
    }
  });
});

describe("CrossGuard: ingest-gateway-counts-heartbeats", () => {
  const check = (data: Record<string, string>) => {
    const cm = dev.one(CONFIGMAP, "ingest-gateway-config");
    return violationsOf({ type: cm.type, props: { ...cm.inputs, data }, urn: cm.urn, name: cm.name }).filter((v) => v.includes("ingest-gateway-counts-heartbeats"));
  };

  it("the program's config passes, and budgets follow the stack: per address from X-Forwarded-For behind the ALB (dev), from the peer without one (local)", () => {
    expect(check(configData(dev))).toEqual([]);
    const hops = (stack: typeof dev) => (JSON.parse(configData(stack)["envoy.yaml"] ?? "{}") as unknown as { static_resources: { listeners: { filter_chains: { filters: { typed_config: { xff_num_trusted_hops: number } }[] }[] }[] } })
      .static_resources.listeners[0]!.filter_chains[0]!.filters[0]!.typed_config.xff_num_trusted_hops;
    expect({ dev: hops(dev), local: hops(local) }).toEqual({ dev: 1, local: 0 });
  });

  it("fails a config that would count requests instead of heartbeats, or let uncounted records through", () => {
    const data = configData(dev);
    const envoy = data["envoy.yaml"] ?? "";
    const routes = data["routes.yaml"] ?? "";
    const cases: [string, Record<string, string>, RegExp][] = [
      ["no counting filter", { ...data, "envoy.yaml": envoy.replace('"envoy.filters.http.lua"', '"envoy.filters.http.cors"') }, /expected jwt_authn, then lua/],
      ["a client's count header kept", { ...data, "envoy.yaml": envoy.replace(`"remove": "${HEARTBEATS_HEADER}"`, '"remove": "x-other"') }, new RegExp(`remove a client's ${HEARTBEATS_HEADER}`)],
      ["requests charged, not heartbeats", { ...data, "envoy.yaml": envoy.replace(`"format": "%REQ(${HEARTBEATS_HEADER})%"`, '"format": "1"') }, /budget per x-watchpipe-sub charged/],
      ["no per-address budget", { ...data, "envoy.yaml": envoy.replace('"remote_address": {}', '"generic_key": { "descriptor_value": "all" }') }, /budget per client address/],
      ["uncounted records produced", { ...data, "routes.yaml": routes.replace(`\${body[records].size()} > \${headerAs(${HEARTBEATS_HEADER}, Integer)}`, "false") }, /refuse more records than/],
    ];
    for (const [what, mutated, message] of cases) {
      const found = check(mutated);
      expect(found, what).toHaveLength(1);
      expect(found[0], what).toMatch(message);
    }
  });
});

describe("local (an existing cluster), with the gateway", () => {
  it("deploys the gateway without an Ingress; Envoy verifies tokens, so ingest.jwt is accepted off EKS", () => {
    expect(local.ofType(INGRESS)).toEqual([]);
    expect(gatewayDeployment(local).inputs.spec.template.spec.containers).toHaveLength(2);
    const policy = local.one(POLICY, "ingest-gateway-network-policy");
    expect(JSON.stringify(policy.inputs.spec.ingress)).not.toContain("ipBlock");
  });
});

describe("watchpipe:ingest.gateway config", () => {
  const raw = (stack: string, ingest: unknown, bridge?: unknown): RawConfig => {
    const file = parse(readFileSync(join(ROOT, `Pulumi.${stack}.yaml`), "utf8")) as { config: Record<string, unknown> };
    const own = Object.entries(file.config).filter(([k]) => k.startsWith("watchpipe:")).map(([k, v]) => [k.slice("watchpipe:".length), v]);
    return { ...Object.fromEntries(own), ingest, ...(bridge ? { bridge } : {}) };
  };
  const problems = (stack: string, ingest: unknown, bridge?: unknown): string[] => {
    try {
      parseConfig(raw(stack, ingest, bridge), stack);
    } catch (err) {
      if (err instanceof ConfigError) return [...err.problems];
      throw err;
    }
    return [];
  };

  it("refuses an image not pinned by digest, naming the key, what is expected and what it got", () => {
    const found = problems("dev", { jwt: JWT, gateway: { image: "watchpipe/ingest-gateway:1.0" } });
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(/^watchpipe:ingest\.gateway\.image: expected the ingest gateway image .* pinned by digest.*; got "watchpipe\/ingest-gateway:1\.0"\.$/);
  });
  it("takes heartbeat budgets with named defaults, and refuses one below an honest player or a full request, naming the key", () => {
    const internal = { exposure: "internal", certificateArn: CERT };
    const cfg = parseConfig(raw("dev", { jwt: JWT, gateway: { ...GATEWAY, limits: { perIp: { burst: 50_000 } } } }, internal), "dev");
    expect(cfg.ingest.gateway?.limits).toEqual({ windowSec: 300, perToken: { heartbeatsPerWindow: 180, burst: 720 }, perIp: { heartbeatsPerWindow: 3000, burst: 50_000 } });
    expect(problems("dev", { jwt: JWT, gateway: { ...GATEWAY, limits: { perToken: { heartbeatsPerWindow: 30, burst: 10 } } } }, internal)).toEqual([
      "watchpipe:ingest.gateway.limits.perToken.heartbeatsPerWindow: one player sends 60 heartbeats per 300 s (one per 5 s), so a lower budget refuses an honest player; expected at least 60; got 30.",
      "watchpipe:ingest.gateway.limits.perToken.burst: the bucket must hold at least one window's heartbeats; expected at least watchpipe:ingest.gateway.limits.perToken.heartbeatsPerWindow (30); got 10.",
      "watchpipe:ingest.gateway.limits.perToken.burst: a full request (ingest.gateway.maxHeartbeatsPerRequest, 15) must fit the bucket or it is refused forever; expected at least 15; got 10.",
    ]);
    expect(problems("dev", { jwt: JWT, gateway: { ...GATEWAY, limits: { perToken: { rate: 5 } } } }, internal)[0]).toMatch(/^watchpipe:ingest\.gateway\.limits\.perToken.*rate/);
  });

  it("refuses the gateway without token settings", () => {
    expect(problems("dev", { gateway: GATEWAY })).toEqual([expect.stringMatching(/^watchpipe:ingest\.jwt: the ingest gateway binds each heartbeat to its token's subject.*got nothing/)]);
  });
  it("refuses a batch that the body limit in front cannot carry (the WAF's where a web ACL inspects), and min above max replicas", () => {
    const found = problems("dev", { jwt: JWT, gateway: { ...GATEWAY, maxHeartbeatsPerRequest: 30, minReplicas: 5, maxReplicas: 3 } }, { exposure: "internet-facing", certificateArn: CERT });
    expect(found).toEqual([
      "watchpipe:ingest.gateway.minReplicas: expected at most ingest.gateway.maxReplicas (3); got 5.",
      expect.stringMatching(/^watchpipe:ingest\.gateway\.maxHeartbeatsPerRequest: ingest\.waf\.maxBodyBytes \(4096 bytes\) holds at most 15 heartbeats of capacity\.avgEventBytes \d+, .*got 30\.$/),
    ]);
    // Internal: only the gateway's own 16 KiB limit applies, and 30 fit.
    expect(problems("dev", { jwt: JWT, gateway: { ...GATEWAY, maxHeartbeatsPerRequest: 30 } }, { exposure: "internal", certificateArn: CERT })).toEqual([]);
    expect(problems("dev", { jwt: JWT, gateway: { ...GATEWAY, maxHeartbeatsPerRequest: 61 } }, { exposure: "internal", certificateArn: CERT })[0]).toMatch(/^watchpipe:ingest\.gateway\.maxHeartbeatsPerRequest: .*60/);
  });
  it("still refuses ingest.jwt off EKS without the gateway (only the ALB would verify it)", () => {
    expect(problems("local", { jwt: JWT })[0]).toMatch(/^watchpipe:ingest\.jwt: without ingest\.gateway, tokens are validated by the ALB/);
    expect(problems("local", { jwt: JWT, gateway: GATEWAY })).toEqual([]);
  });
});
