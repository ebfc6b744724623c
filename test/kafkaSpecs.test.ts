/** Pure builders and policy checks of the Kafka platform, with failing inputs as well as passing ones. */
import { describe, expect, it } from "vitest";
import { parseConfig } from "../config";
import { KAFKA_USERS } from "../contract/clients";
import { clientAcls, kafkaUserManifest, kafkaUserManifests } from "../components/kafka/kafkaAcls";
import { KSQL_INTERNAL_PREFIX } from "../contract/acls";
import { albAnnotations, bridgeManifest } from "../components/kafka/kafkaBridgeSpecs";
import {
  aclWildcardProblems,
  brokerDurabilityProblems,
  bridgeProducerProblems,
  imagePinProblem,
  imageProblems,
  kafkaResourceProblems,
  listenerProblems,
  producerConfigProblems,
  topicDurabilityProblems,
} from "../contract/kafkaPolicies";
import { brokerConfig, heapFor, kafkaManifest, nodePoolManifest, nodePoolPlans, quantityToMiB } from "../components/kafka/kafkaSpecs";
import { kafkaTopicManifest, topicResourceName } from "../components/kafka/kafkaTopicSpecs";
import { LBC_OWNERSHIP_TAG, lbcPolicyDocument } from "../operators/awsLoadBalancerControllerSpecs";
import { validateCustomResource } from "./crdSchema";
import { describeWithShared } from "./withShared";

const TYPE = (kind: string) => `kubernetes:kafka.strimzi.io/v1:${kind}`;
const asResource = (m: { kind: string; apiVersion: string }) => ({ type: TYPE(m.kind), inputs: m as unknown as Record<string, unknown> });
const localConfig = parseConfig({ owner: "t", cluster: { mode: "existing" }, connect: { imageRegistry: "r" }, kafka: { nodePools: "dual-role", rackAwareness: false } }, "local");

describe("sizing helpers", () => {
  it.each([
    ["16Gi", 16384, "6144m"],
    ["4Gi", 4096, "2048m"],
    ["2Gi", 2048, "1024m"],
    ["1536Mi", 1536, "768m"],
  ])("%s = %d MiB → heap %s (half, capped at 6 GiB)", (q, mib, heap) => {
    expect(quantityToMiB(q)).toBe(mib);
    expect(heapFor(q)).toBe(heap);
  });

  it("rejects a memory quantity it cannot read, naming it", () => {
    expect(() => heapFor("16GB")).toThrow('got "16GB"');
  });

  it("builds dedicated or dual-role pools from config", () => {
    expect(nodePoolPlans(localConfig.kafka).map((p) => p.name)).toEqual(["dual"]);
    expect(nodePoolPlans({ ...localConfig.kafka, nodePools: "dedicated" }).map((p) => [p.name, p.roles])).toEqual([
      ["controller", ["controller"]],
      ["broker", ["broker"]],
    ]);
  });

  it("broker config follows a stack that raises durability above the floor", () => {
    const cfg = brokerConfig({ ...localConfig.kafka, replicationFactor: 5, minInsyncReplicas: 3, brokers: 5 });
    expect(cfg).toMatchObject({ "default.replication.factor": 5, "min.insync.replicas": 3, "transaction.state.log.min.isr": 3, "auto.create.topics.enable": false });
  });
});

describe("topics", () => {
  it.each([
    ["heartbeats_raw", "heartbeats-raw"],
    ["_schemas", "schemas"],
    ["watchpipe_ksql_processing_log", "watchpipe-ksql-processing-log"],
    ["Mixed.Case", "mixed.case"],
  ])("topic %s gets the Kubernetes name %s", (topic, name) => {
    expect(topicResourceName(topic)).toBe(name);
  });

  it("a caller cannot weaken min.insync.replicas through plan.config", () => {
    const t = kafkaTopicManifest({ topicName: "x", partitions: 1, config: { "min.insync.replicas": 1, "cleanup.policy": "compact" } }, "kafka");
    expect(t.spec.config).toMatchObject({ "min.insync.replicas": 2, "cleanup.policy": "compact" });
    expect(t.spec.replicas).toBe(3);
    expect(topicDurabilityProblems(asResource(t))).toEqual([]);
  });

  it("flags a topic with too few replicas or no explicit min ISR", () => {
    const t = { apiVersion: "kafka.strimzi.io/v1", kind: "KafkaTopic", metadata: { name: "t" }, spec: { replicas: 1, config: {} } };
    expect(topicDurabilityProblems(asResource(t))).toEqual([
      "KafkaTopic t: spec.replicas: expected >= 3; got 1.",
      'KafkaTopic t: spec.config["min.insync.replicas"]: expected >= 2; got undefined.',
    ]);
  });
});

describe("broker and listener policies", () => {
  const kafka = kafkaManifest(localConfig.kafka, "kafka");

  it("our Kafka CR passes every check", () => {
    expect(kafkaResourceProblems(asResource(kafka))).toEqual([]);
  });

  it("flags a plaintext listener and one without authentication", () => {
    const bad = { ...kafka, spec: { ...kafka.spec, kafka: { ...kafka.spec.kafka, listeners: [{ name: "plain", port: 9092, type: "internal", tls: false }] } } };
    expect(listenerProblems(asResource(bad))).toEqual([
      'Kafka events: listener "plain": expected tls: true; got false. Plaintext listeners are not allowed.',
      'Kafka events: listener "plain": expected authentication scram-sha-512 (or tls); got undefined.',
    ]);
  });

  it("flags topic auto-creation, low durability defaults and missing authorization", () => {
    const config = { ...kafka.spec.kafka.config, "auto.create.topics.enable": true, "min.insync.replicas": 1 };
    const bad = { ...kafka, spec: { ...kafka.spec, kafka: { ...kafka.spec.kafka, config, authorization: undefined } } };
    const problems = brokerDurabilityProblems(asResource(bad));
    expect(problems).toHaveLength(3);
    expect(problems[0]).toContain("auto.create.topics.enable");
    expect(problems[1]).toContain('"min.insync.replicas"]: expected >= 2; got 1');
    expect(problems[2]).toContain("authorization");
  });
});

describe("producers", () => {
  it("the bridge produces with acks=all and idempotence", () => {
    expect(bridgeProducerProblems(asResource(bridgeManifest("kafka", 1)))).toEqual([]);
  });

  it.each([
    [{ acks: "1", "enable.idempotence": true }, ['p: acks: expected "all"; got "1".']],
    [{ acks: "all" }, ["p: enable.idempotence: expected true; got undefined."]],
    [{ acks: -1, "enable.idempotence": "true" }, []],
  ])("producer config %j → %j", (config, problems) => {
    expect(producerConfigProblems(config, "p")).toEqual(problems);
  });
});

describe("ACLs", () => {
  it("every client's user passes the wildcard check", () => {
    for (const { manifest } of kafkaUserManifests("kafka")) expect(aclWildcardProblems(asResource(manifest))).toEqual([]);
  });

  it("flags a wildcard topic for a user that is not allow-listed", () => {
    const user = kafkaUserManifest(KAFKA_USERS.bridge, [{ resource: { type: "topic", name: "*", patternType: "literal" }, operations: ["Write"] }], "kafka");
    expect(aclWildcardProblems(asResource(user))).toEqual([expect.stringContaining('ACL on topic "*" (literal) is a wildcard')]);
    const prefix = kafkaUserManifest(KAFKA_USERS.connect, [{ resource: { type: "topic", name: "watch", patternType: "prefix" }, operations: ["Read"] }], "kafka");
    expect(aclWildcardProblems(asResource(prefix))).toHaveLength(1);
  });

  it("the bridge and the load generator may only produce to the raw topic", () => {
    const acls = clientAcls();
    for (const client of ["bridge", "loadgen"] as const) {
      const topicAcls = acls[client].filter((a) => a.resource.type === "topic");
      expect(topicAcls).toEqual([{ resource: { type: "topic", name: "heartbeats_raw", patternType: "literal" }, operations: ["Write", "Describe"] }]);
    }
  });

  it("ksqlDB gets its internal prefix for topics, groups and transactional ids", () => {
    const prefixed = clientAcls().ksqldb.filter((a) => a.resource.name === KSQL_INTERNAL_PREFIX).map((a) => a.resource.type);
    expect(prefixed.sort()).toEqual(["group", "topic", "transactionalId"]);
  });
});

describe("images", () => {
  it.each([
    ["ghcr.io/kafbat/kafka-ui:v1.5.0", undefined],
    ["localhost:5001/watchpipe/connect@sha256:" + "a".repeat(64), undefined],
    ["localhost:5001/connect", 'w: image "localhost:5001/connect" has no tag; pin an exact version.'],
    ["nginx:latest", 'w: image "nginx:latest" uses the moving tag "latest"; pin an exact version.'],
    ["kafbat/kafka-ui:main", 'w: image "kafbat/kafka-ui:main" uses the moving tag "main"; pin an exact version.'],
  ])("%s → %s", (image, problem) => {
    expect(imagePinProblem(image, "w")).toBe(problem);
  });

  it("finds images in Deployments and CronJobs", () => {
    const deployment = { type: "kubernetes:apps/v1:Deployment", inputs: { kind: "Deployment", metadata: { name: "d" }, spec: { template: { spec: { containers: [{ image: "x" }], initContainers: [{ image: "y:1" }] } } } } };
    expect(imageProblems(deployment)).toEqual(['Deployment d: spec.template.spec.containers[0]: image "x" has no tag; pin an exact version.']);
    const cron = { type: "kubernetes:batch/v1:CronJob", inputs: { kind: "CronJob", metadata: { name: "c" }, spec: { jobTemplate: { spec: { template: { spec: { containers: [{ image: "z:latest" }] } } } } } } };
    expect(imageProblems(cron)).toHaveLength(1);
  });
});

describe("ALB exposure", () => {
  it("internal without a certificate listens on HTTP inside the VPC", () => {
    expect(albAnnotations({ exposure: "internal" })).toMatchObject({ "alb.ingress.kubernetes.io/scheme": "internal", "alb.ingress.kubernetes.io/listen-ports": '[{"HTTP":80}]' });
  });

  it("internal with a certificate serves HTTPS with the certificate and redirects 80", () => {
    const arn = "arn:aws:acm:us-east-1:111122223333:certificate/abcd-1234";
    expect(albAnnotations({ exposure: "internal", certificateArn: arn })).toMatchObject({
      "alb.ingress.kubernetes.io/scheme": "internal",
      "alb.ingress.kubernetes.io/certificate-arn": arn,
      "alb.ingress.kubernetes.io/ssl-redirect": "443",
    });
  });

  it("internet-facing serves HTTPS only with the certificate (test/ingest.test.ts covers its token validation)", () => {
    const arn = "arn:aws:acm:us-east-1:111122223333:certificate/abcd-1234";
    const jwt = { jwksUrl: "https://id.example.com/jwks.json", issuer: "https://id.example.com/", audience: ["watchpipe-player"], claims: [] };
    expect(albAnnotations({ exposure: "internet-facing", certificateArn: arn, jwt })).toMatchObject({
      "alb.ingress.kubernetes.io/scheme": "internet-facing",
      "alb.ingress.kubernetes.io/certificate-arn": arn,
      "alb.ingress.kubernetes.io/listen-ports": '[{"HTTPS":443}]',
    });
  });

  it("refuses internet-facing without a certificate", () => {
    expect(() => albAnnotations({ exposure: "internet-facing" })).toThrow("bridge.certificateArn");
  });

  it("the controller may mutate only load balancers and security groups tagged for this cluster", () => {
    const doc = lbcPolicyDocument("watch-cluster");
    const mutating = doc.Statement.filter((s) => ["ManageOwnedLoadBalancers", "ManageOwnedSecurityGroups", "CreateOwnedLoadBalancers"].includes(s.Sid));
    expect(mutating).toHaveLength(3);
    for (const s of mutating) expect(JSON.stringify(s.Condition)).toContain(`${LBC_OWNERSHIP_TAG}":"watch-cluster"`);
    // WAFv2 only to attach web ACLs to application load balancers; no WAF Classic, no Shield, no wildcard actions.
    expect(JSON.stringify(doc)).not.toMatch(/waf-regional|waf:|shield|"\*:\*"|"Action":"\*"/i);
    const waf = doc.Statement.filter((s) => JSON.stringify(s.Action).includes("wafv2:") || JSON.stringify(s.Action).includes("SetWebAcl"));
    expect(waf.map((s) => s.Sid)).toEqual(["Wafv2Association", "SetAlbWebAcl"]);
    for (const s of waf) for (const r of [s.Resource].flat()) expect(r).toMatch(/^arn:\*:(wafv2:\*:\*:regional\/webacl|elasticloadbalancing:\*:\*:loadbalancer\/app)\/\*\/\*$/);
  });
});

describeWithShared("builders against the Strimzi 1.2.0 CRDs", () => {
  it("a dedicated prod-shaped cluster, its pools, a compacted topic, every user and the bridge validate", () => {
    const prodKafka = { ...localConfig.kafka, nodePools: "dedicated" as const, rackAwareness: true };
    const manifests = [
      kafkaManifest(prodKafka, "kafka"),
      ...nodePoolPlans(prodKafka).map((p) => nodePoolManifest(p, prodKafka, "kafka", "gp3")),
      kafkaTopicManifest({ topicName: "_schemas", partitions: 1, config: { "cleanup.policy": "compact" } }, "kafka"),
      ...kafkaUserManifests("kafka").map((u) => u.manifest),
      bridgeManifest("kafka", 2),
    ];
    expect(manifests.flatMap((m) => validateCustomResource(m))).toEqual([]);
  });
});
