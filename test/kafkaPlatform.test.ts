/**
 * The Kafka platform as the whole program deploys it, per stack (one mocked run each): CRD and chart conformance,
 * durability, security and data-safety policies.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { KAFKA_CLIENT_LABEL, KAFKA_TLS_PORT, KAFKA_USERS } from "../contract/clients";
import {
  aclWildcardProblems,
  bridgeProducerProblems,
  brokerDurabilityProblems,
  imageProblems,
  listenerProblems,
  strimziKind,
  topicDurabilityProblems,
} from "../contract/kafkaPolicies";
import { STRIMZI_CHART_VERSION } from "../operators/strimziValues";
import {
  HEARTBEATS_TOPIC,
  RAW_HEARTBEATS_TOPIC,
  REJECTED_HEARTBEATS_TOPIC,
  WATCH_SEGMENTS_DLQ_TOPIC,
  WATCH_SEGMENTS_TOPIC,
} from "../contract/topics";
import { gatewayConfigProblems, isGatewayConfigMap } from "../contract/ingestPolicies";
import { SUBJECT_HEADER } from "../contract/ingestGateway";
import { validateCustomResource } from "./crdSchema";
import { programRunsTimeout, type ProgramRun, type RecordedResource, runProgram } from "./harness";
import { unknownValuePaths } from "./helmValues";
import { describeWithShared } from "./withShared";

const STACKS = ["prod", "dev", "local"] as const;
const STRIMZI_VALUES_YAML = "../shared/charts/strimzi-kafka-operator-1.2.0/values.yaml";
/** capacity.test.ts derives these from each stack's capacity config: 100k/s → 21, 5k/s and 1k/s → 12 (parallelism). */
const PLANNED_PARTITIONS = { prod: 21, dev: 12, local: 12 } as const;
const runs = {} as Record<(typeof STACKS)[number], ProgramRun>;

beforeAll(async () => {
  for (const stack of STACKS) runs[stack] = await runProgram(stack);
}, programRunsTimeout(STACKS.length));

const strimzi = (run: ProgramRun) => run.resources.filter((r) => strimziKind(r.type) !== undefined);
const ofKind = (run: ProgramRun, kind: string) => run.resources.filter((r) => strimziKind(r.type) === kind);
const workloads = (run: ProgramRun) => run.resources.filter((r) => /^kubernetes:(apps\/v1:(Deployment|StatefulSet|DaemonSet)|batch\/v1:(Job|CronJob))$/.test(r.type));

describe.each(STACKS)("%s stack: Kafka platform", (stack) => {
  const run = () => runs[stack];

  it("every listener is TLS with SCRAM-SHA-512 (or mTLS) authentication, and there is exactly one, on the TLS port", () => {
    const kafka = run().one("kubernetes:kafka.strimzi.io/v1:Kafka");
    expect(listenerProblems(kafka)).toEqual([]);
    expect(kafka.inputs.spec.kafka.listeners).toEqual([
      expect.objectContaining({ port: KAFKA_TLS_PORT, type: "internal", tls: true, authentication: { type: "scram-sha-512" } }),
    ]);
    expect(kafka.inputs.spec.kafka.authorization).toEqual({ type: "simple" });
  });

  it("brokers never auto-create topics and carry the durability config from the first deploy", () => {
    const kafka = run().one("kubernetes:kafka.strimzi.io/v1:Kafka");
    expect(brokerDurabilityProblems(kafka)).toEqual([]);
    expect(kafka.inputs.spec.kafka.config["auto.create.topics.enable"]).toBe(false);
  });

  it("every Kafka topic has replicas >= 3 and min.insync.replicas >= 2", () => {
    const topics = ofKind(run(), "KafkaTopic");
    expect(topics.length).toBeGreaterThanOrEqual(5);
    expect(topics.flatMap(topicDurabilityProblems)).toEqual([]);
  });

  it("creates the five pipeline topics with partitions from the capacity model", () => {
    const byName = new Map(ofKind(run(), "KafkaTopic").map((t) => [t.inputs.spec.topicName as string, t.inputs.spec]));
    const planned = PLANNED_PARTITIONS[stack];
    expect(run().outputs.heartbeatPartitions).toBe(planned);
    for (const t of [RAW_HEARTBEATS_TOPIC, HEARTBEATS_TOPIC, WATCH_SEGMENTS_TOPIC]) expect(byName.get(t)?.partitions).toBe(planned);
    for (const t of [REJECTED_HEARTBEATS_TOPIC, WATCH_SEGMENTS_DLQ_TOPIC]) expect(byName.get(t)?.partitions).toBeGreaterThanOrEqual(3);
    expect(byName.get(RAW_HEARTBEATS_TOPIC)?.config["retention.ms"]).toBe(24 * 3_600_000);
  });

  it("heartbeats_raw is stamped by the broker (LogAppendTime): ksqlDB's windows run on arrival time, which no client can set", () => {
    const byName = new Map(ofKind(run(), "KafkaTopic").map((t) => [t.inputs.spec.topicName as string, t.inputs.spec]));
    expect(byName.get(RAW_HEARTBEATS_TOPIC)?.config["message.timestamp.type"]).toBe("LogAppendTime");
    // The topics ksqlDB writes keep CreateTime: their record timestamps are the arrival times ksqlDB carries on.
    for (const t of [HEARTBEATS_TOPIC, WATCH_SEGMENTS_TOPIC]) expect(byName.get(t)?.config["message.timestamp.type"]).toBeUndefined();
  });

  // The players' producer: the Kafka Bridge where it is their path (local), the gateway's Camel where ingest.gateway is set (dev, prod).
  const bridgeOf = () => run().ofType("kubernetes:kafka.strimzi.io/v1:KafkaBridge")[0];
  const gatewayConfigOf = () => run().resources.find((r) => r.type === "kubernetes:core/v1:ConfigMap" && isGatewayConfigMap(r.type, r.inputs));

  it("the players' path is one producer: the gateway on dev and prod (no Bridge beside it), the Bridge on local", () => {
    expect([bridgeOf() !== undefined, gatewayConfigOf() !== undefined]).toEqual(stack === "local" ? [true, false] : [false, true]);
  });

  it("every producer config we write has acks=all and enable.idempotence=true (the players' path; the ticker)", () => {
    const bridge = bridgeOf();
    if (bridge) {
      expect(bridgeProducerProblems(bridge)).toEqual([]);
      expect(bridge.inputs.spec.producer.config).toMatchObject({ acks: "all", "enable.idempotence": true });
    }
    const gateway = gatewayConfigOf();
    if (gateway) {
      expect(gatewayConfigProblems(gateway.inputs, SUBJECT_HEADER)).toEqual([]);
      expect(gateway.inputs.data["routes.yaml"]).toMatch(/"requestRequiredAcks":\s*"all"[^}]*"enableIdempotence":\s*true/);
    }
    const ticker = run().resources.find((r) => r.type === "kubernetes:core/v1:ConfigMap" && JSON.stringify(r.inputs.metadata?.name ?? "").includes("session-ticker"));
    expect(ticker?.inputs.data["producer.properties"], "the ticker's producer properties").toMatch(/^acks=all$/m);
    expect(ticker?.inputs.data["producer.properties"]).toMatch(/^enable\.idempotence=true$/m);
  });

  it("every Kafka client authenticates with SCRAM-SHA-512 over TLS and carries the client label (the players' path, Kafka UI)", () => {
    const bridge = bridgeOf()?.inputs.spec;
    if (bridge) {
      expect(bridge.authentication).toMatchObject({ type: "scram-sha-512", username: KAFKA_USERS.bridge });
      expect(bridge.tls.trustedCertificates).toHaveLength(1);
      expect(bridge.template.pod.metadata.labels).toMatchObject(KAFKA_CLIENT_LABEL);
    }
    const gateway = gatewayConfigOf();
    if (gateway) {
      const props = gateway.inputs.data["application.properties"] as string;
      expect(props).toContain("camel.component.kafka.securityProtocol=SASL_SSL\n");
      expect(props).toContain("camel.component.kafka.saslMechanism=SCRAM-SHA-512\n");
      const pod = run().one("kubernetes:apps/v1:Deployment", "ingest-gateway-deployment").inputs.spec.template;
      expect(pod.metadata.labels).toMatchObject(KAFKA_CLIENT_LABEL);
    }
    const ui = run().one("kubernetes:apps/v1:Deployment", "kafka-ui-deployment").inputs.spec.template;
    expect(ui.metadata.labels).toMatchObject(KAFKA_CLIENT_LABEL);
    const env = Object.fromEntries((ui.spec.containers[0].env as { name: string; value?: string }[]).map((e) => [e.name, e.value]));
    expect(env).toMatchObject({ KAFKA_CLUSTERS_0_READONLY: "true", KAFKA_CLUSTERS_0_PROPERTIES_SECURITY_PROTOCOL: "SASL_SSL", KAFKA_CLUSTERS_0_PROPERTIES_SASL_MECHANISM: "SCRAM-SHA-512" });
    expect(run().one("kubernetes:core/v1:Service", "kafka-ui-service").inputs.spec.type).toBe("ClusterIP");
  });

  it("no image in any workload or Strimzi CR lacks a pinned tag", () => {
    const problems = [...workloads(run()), ...strimzi(run())].flatMap(imageProblems);
    expect(problems).toEqual([]);
    expect(workloads(run()).length).toBeGreaterThan(0);
  });

  it("one SCRAM KafkaUser per client, and no ACL uses a wildcard or prefix outside the allow-list", () => {
    const users = ofKind(run(), "KafkaUser");
    expect(users.map((u) => u.inputs.metadata.name).sort()).toEqual(Object.values(KAFKA_USERS).sort());
    expect(users.flatMap(aclWildcardProblems)).toEqual([]);
    for (const u of users) expect(u.inputs.spec.authentication).toEqual({ type: "scram-sha-512" });
  });

  it("the Kafka UI user can read but never write, create, alter or delete", () => {
    const ui = ofKind(run(), "KafkaUser").find((u) => u.inputs.metadata.name === KAFKA_USERS.kafkaUi) as RecordedResource;
    const ops = (ui.inputs.spec.authorization.acls as { operations: string[] }[]).flatMap((a) => a.operations);
    expect(ops.filter((op) => !["Describe", "DescribeConfigs", "Read"].includes(op))).toEqual([]);
  });

  it("storage claims are never deleted with a node pool", () => {
    const pools = ofKind(run(), "KafkaNodePool");
    expect(pools.length).toBeGreaterThan(0);
    for (const p of pools) expect(p.inputs.spec.storage).toMatchObject({ type: "persistent-claim", deleteClaim: false });
  });

  it("the Kafka namespace denies ingress by default", () => {
    const deny = run().one("kubernetes:networking.k8s.io/v1:NetworkPolicy", "kafka-network-policies-default-deny-ingress");
    expect(deny.inputs.spec).toEqual({ podSelector: {}, policyTypes: ["Ingress"] });
    const peers = run().one("kubernetes:kafka.strimzi.io/v1:Kafka").inputs.spec.kafka.listeners[0].networkPolicyPeers;
    expect(peers).toEqual([{ podSelector: { matchLabels: KAFKA_CLIENT_LABEL } }]);
  });

  it("exports nothing sensitive", () => {
    const text = JSON.stringify({ ...run().outputs, kubeconfig: undefined });
    expect(text).not.toMatch(/password|sasl\.jaas|BEGIN CERTIFICATE/i);
  });
});

describeWithShared("Kafka platform against the Strimzi 1.2.0 CRDs and chart", () => {
  it.each(STACKS)("%s: every Strimzi custom resource validates against its CRD (no unknown fields)", (stack) => {
    const crs = strimzi(runs[stack]);
    expect(crs.length).toBeGreaterThanOrEqual(14);
    expect(crs.flatMap((r) => validateCustomResource(r.inputs))).toEqual([]);
  });

  it.each(STACKS)("%s: every Strimzi chart value path exists in the chart's values.yaml, and the chart is pinned", (stack) => {
    const release = runs[stack].one("kubernetes:helm.sh/v3:Release", "strimzi-release");
    expect(release.inputs.version).toBe(STRIMZI_CHART_VERSION);
    expect(release.inputs.values.watchNamespaces).toEqual(["kafka"]);
    expect(unknownValuePaths(release.inputs.values, STRIMZI_VALUES_YAML)).toEqual([]);
  });
});

describe("per-stack switches", () => {
  it("prod protects the Kafka CR, node pools and topics (topics also retained on delete); dev and local do not", () => {
    const guarded = (run: ProgramRun) => [...ofKind(run, "Kafka"), ...ofKind(run, "KafkaNodePool"), ...ofKind(run, "KafkaTopic")];
    expect(guarded(runs.prod).filter((r) => !r.protect).map((r) => r.name)).toEqual([]);
    for (const stack of ["dev", "local"] as const) expect(guarded(runs[stack]).filter((r) => r.protect).map((r) => r.name)).toEqual([]);
  });

  it("prod runs 3 dedicated controllers + brokers; dev and local run dual-role pools", () => {
    const pools = (run: ProgramRun) => ofKind(run, "KafkaNodePool").map((p) => ({ name: p.inputs.metadata.name, roles: p.inputs.spec.roles, replicas: p.inputs.spec.replicas }));
    expect(pools(runs.prod)).toEqual([
      { name: "controller", roles: ["controller"], replicas: 3 },
      { name: "broker", roles: ["broker"], replicas: 3 },
    ]);
    expect(pools(runs.dev)).toEqual([{ name: "dual", roles: ["controller", "broker"], replicas: 3 }]);
  });

  it("EKS stacks spread brokers over zones with rack awareness; local has neither", () => {
    for (const stack of ["prod", "dev"] as const) {
      expect(ofKind(runs[stack], "Kafka")[0].inputs.spec.kafka.rack).toEqual({ type: "topology-label", topologyKey: "topology.kubernetes.io/zone" });
      for (const p of ofKind(runs[stack], "KafkaNodePool")) {
        expect(p.inputs.spec.template.pod.topologySpreadConstraints[0]).toMatchObject({ topologyKey: "topology.kubernetes.io/zone", whenUnsatisfiable: "DoNotSchedule" });
      }
    }
    expect(ofKind(runs.local, "Kafka")[0].inputs.spec.kafka.rack).toBeUndefined();
    for (const p of ofKind(runs.local, "KafkaNodePool")) expect(p.inputs.spec.template).toBeUndefined();
  });

  it("EKS stacks expose the ingest gateway through an internal ALB Ingress on the raw-topic path only; local has no Ingress and no AWS", () => {
    for (const stack of ["prod", "dev"] as const) {
      expect(runs[stack].ofType("kubernetes:networking.k8s.io/v1:Ingress")).toHaveLength(1);
      const ingress = runs[stack].one("kubernetes:networking.k8s.io/v1:Ingress", "ingest-gateway-ingress").inputs;
      expect(ingress.spec.ingressClassName).toBe("alb");
      expect(ingress.metadata.annotations["alb.ingress.kubernetes.io/scheme"]).toBe("internal");
      expect(ingress.spec.rules[0].http.paths).toEqual([expect.objectContaining({ path: `/topics/${RAW_HEARTBEATS_TOPIC}`, pathType: "Exact" })]);
      const lbc = runs[stack].one("kubernetes:helm.sh/v3:Release", "aws-load-balancer-controller-release").inputs;
      expect(lbc.namespace).toBe("kube-system");
      expect(lbc.values.serviceAccount.annotations["eks.amazonaws.com/role-arn"]).toMatch(/^arn:aws:iam::/);
    }
    expect(runs.local.ofType("kubernetes:networking.k8s.io/v1:Ingress")).toEqual([]);
    expect(runs.local.resources.filter((r) => r.type.startsWith("aws:"))).toEqual([]);
  });

  it("the LB controller's IRSA role trusts only its own service account", () => {
    const role = runs.prod.one("aws:iam/role:Role", "aws-load-balancer-controller-role");
    const trust = JSON.parse(role.inputs.assumeRolePolicy as string);
    const cond = trust.Statement[0].Condition.StringEquals as Record<string, string>;
    expect(Object.entries(cond).find(([k]) => k.endsWith(":sub"))?.[1]).toBe("system:serviceaccount:kube-system:aws-load-balancer-controller");
  });
});
