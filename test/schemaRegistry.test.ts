/**
 * Schema Registry: every Kafka-facing setting meets the durability and security policies, per stack, on the
 * resources the component registers (under mocks); `_schemas` validates against Strimzi's KafkaTopic CRD.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { CLUSTER_CA_SECRET, KAFKA_CLIENT_LABEL, KAFKA_USERS, SCHEMA_REGISTRY_GROUP_ID } from "../contract/clients";
import { MIN_INSYNC_REPLICAS, REPLICATION_FACTOR, SASL_MECHANISM } from "../contract/durability";
import { SchemaRegistry } from "../components/stream/schemaRegistry";
import { SCHEMA_COMPATIBILITY, schemaRegistryEnv, schemaRegistryProperties, SR_ENV_PREFIX } from "../components/stream/schemaRegistrySpecs";
import { envNameToProperty, KAFKA_CA_FILE } from "../components/stream/streamingSpecs";
import { SCHEMAS_TOPIC } from "../contract/topics";
import { validateCustomResource } from "./crdSchema";
import { type ComponentRun, runComponents, stackAppConfig, STACKS } from "./ksqldb.mocks";
import { describeWithShared } from "./withShared";

const DEPLOYMENT = "kubernetes:apps/v1:Deployment";
const TOPIC = "kubernetes:kafka.strimzi.io/v1:KafkaTopic";

/** The properties the image will render, decoded from the container env exactly as the image's `ub` does. */
function renderedProperties(env: { name: string; value?: string; valueFrom?: unknown }[]): Map<string, string | "<secret>"> {
  const props = new Map<string, string | "<secret>">();
  for (const e of env) {
    if (!e.name.startsWith(SR_ENV_PREFIX) || e.name === "SCHEMA_REGISTRY_HEAP_OPTS") continue;
    props.set(envNameToProperty(SR_ENV_PREFIX, e.name), e.value ?? "<secret>");
  }
  return props;
}

const runs = new Map<string, ComponentRun>();

beforeAll(async () => {
  for (const stack of STACKS) {
    const config = stackAppConfig(stack);
    runs.set(
      stack,
      await runComponents((provider) => {
        new SchemaRegistry("schema-registry", { namespace: config.kafka.namespace, replicas: config.schemaRegistry.replicas, provider, protect: config.protectData, dependsOn: [] });
      }),
    );
  }
});

describe.each(STACKS)("Schema Registry on the %s stack", (stack) => {
  const run = () => runs.get(stack)!;
  const config = stackAppConfig(stack);
  const deployment = () => run().one(DEPLOYMENT);
  // The server container (the init container copies the metrics agent).
  const container = () => deployment().inputs.spec.template.spec.containers[0];
  const props = () => renderedProperties(container().env);

  it("runs the configured number of replicas", () => {
    expect(deployment().inputs.spec.replicas).toBe(config.schemaRegistry.replicas);
  });

  it("talks to Kafka over TLS with SCRAM-SHA-512, trusting the Strimzi cluster CA as a PEM file", () => {
    expect(props().get("kafkastore.security.protocol")).toBe("SASL_SSL");
    expect(props().get("kafkastore.sasl.mechanism")).toBe(SASL_MECHANISM);
    expect(props().get("kafkastore.ssl.truststore.type")).toBe("PEM");
    expect(props().get("kafkastore.ssl.truststore.location")).toBe(KAFKA_CA_FILE);
    expect(props().get("kafkastore.bootstrap.servers")).toBe(`events-kafka-bootstrap.${config.kafka.namespace}.svc:9093`);
    const volume = deployment().inputs.spec.template.spec.volumes.find((v: { secret?: { secretName: string } }) => v.secret?.secretName === CLUSTER_CA_SECRET);
    expect(volume, "the cluster CA Secret is mounted").toBeDefined();
    expect(container().volumeMounts.some((m: { name: string; mountPath: string }) => m.name === volume.name && KAFKA_CA_FILE.startsWith(m.mountPath))).toBe(true);
  });

  it("takes the SCRAM JAAS line from the schema-registry KafkaUser Secret, never as a plain value", () => {
    const jaas = container().env.find((e: { name: string }) => e.name === "SCHEMA_REGISTRY_KAFKASTORE_SASL_JAAS_CONFIG");
    expect(jaas.valueFrom.secretKeyRef).toEqual({ name: KAFKA_USERS.schemaRegistry, key: "sasl.jaas.config" });
    expect(jaas.value).toBeUndefined();
    const plain = JSON.stringify(container().env.filter((e: { value?: string }) => e.value !== undefined));
    expect(plain).not.toMatch(/password|ScramLoginModule/i);
  });

  it("writes with acks=all and idempotence, reads read_committed", () => {
    expect(props().get("kafkastore.acks")).toBe("all");
    expect(props().get("kafkastore.enable.idempotence")).toBe("true");
    expect(props().get("kafkastore.isolation.level")).toBe("read_committed");
  });

  it("stores schemas in _schemas with RF 3 / min ISR 2 and elects a leader in its own group", () => {
    expect(props().get("kafkastore.topic")).toBe(SCHEMAS_TOPIC);
    expect(props().get("kafkastore.topic.replication.factor")).toBe(String(REPLICATION_FACTOR));
    expect(props().get("kafkastore.topic.config.min.insync.replicas")).toBe(String(MIN_INSYNC_REPLICAS));
    expect(props().get("schema.registry.group.id")).toBe(SCHEMA_REGISTRY_GROUP_ID);
    expect(props().get("schema.compatibility.level")).toBe(SCHEMA_COMPATIBILITY);
  });

  it("pre-creates _schemas as a compacted single-partition KafkaTopic with RF 3 and min ISR 2, protected with the data", () => {
    const topic = run().one(TOPIC);
    expect(topic.inputs.spec.topicName).toBe(SCHEMAS_TOPIC);
    expect(topic.inputs.spec.partitions).toBe(1);
    expect(topic.inputs.spec.replicas).toBeGreaterThanOrEqual(REPLICATION_FACTOR);
    expect(topic.inputs.spec.config["min.insync.replicas"]).toBeGreaterThanOrEqual(MIN_INSYNC_REPLICAS);
    expect(topic.inputs.spec.config["cleanup.policy"]).toBe("compact");
    expect(topic.protect).toBe(config.protectData);
  });

  it("has service links off (a Service named schema-registry would inject SCHEMA_REGISTRY_PORT and the image exits)", () => {
    expect(deployment().inputs.spec.template.spec.enableServiceLinks).toBe(false);
    expect(container().env.some((e: { name: string }) => e.name === "SCHEMA_REGISTRY_PORT")).toBe(false);
  });

  it("loads the JMX exporter agent copied from the pinned Strimzi Kafka image, with the rules from its ConfigMap", () => {
    const pod = deployment().inputs.spec.template.spec;
    expect(pod.initContainers.map((x: { image: string }) => x.image)).toEqual(["quay.io/strimzi/kafka:1.2.0-kafka-4.3.1"]);
    const opts = container().env.find((e: { name: string }) => e.name === "SCHEMA_REGISTRY_OPTS").value as string;
    const [, jar, port, rules] = /^-javaagent:(\S+)=(\d+):(\S+)$/.exec(opts) ?? [];
    expect(pod.initContainers[0].command.at(-1)).toBe(jar);
    expect(container().ports).toContainEqual({ name: "tcp-prometheus", containerPort: Number(port), protocol: "TCP" });
    const cm = run().ofType("kubernetes:core/v1:ConfigMap").find((m) => m.inputs.metadata.name === "schema-registry-metrics");
    expect(Object.keys(cm!.inputs.data)).toEqual([rules!.split("/").pop()]);
  });

  it("runs a pinned image as non-root with probes, resources and the Kafka client label", () => {
    expect(container().image).toMatch(/^confluentinc\/cp-schema-registry:\d+\.\d+\.\d+$/);
    const pod = deployment().inputs.spec.template.spec;
    expect(pod.securityContext.runAsNonRoot).toBe(true);
    expect(pod.securityContext.runAsUser).toBeGreaterThan(0);
    expect(container().securityContext.allowPrivilegeEscalation).toBe(false);
    for (const probe of ["startupProbe", "readinessProbe", "livenessProbe"]) expect(container()[probe]?.httpGet, probe).toBeDefined();
    expect(container().resources.requests.memory).toBeDefined();
    expect(container().resources.limits.memory).toBeDefined();
    expect(deployment().inputs.spec.template.metadata.labels).toMatchObject(KAFKA_CLIENT_LABEL);
  });

  it("has a ClusterIP Service named schema-registry, a PDB and an ingress NetworkPolicy for its port", () => {
    const service = run().one("kubernetes:core/v1:Service");
    expect(service.inputs.metadata.name).toBe("schema-registry");
    expect(service.inputs.spec.type).toBe("ClusterIP");
    const pdb = run().one("kubernetes:policy/v1:PodDisruptionBudget");
    expect(pdb.inputs.spec.maxUnavailable).toBe(1);
    const policy = run().one("kubernetes:networking.k8s.io/v1:NetworkPolicy");
    expect(policy.inputs.spec.ingress[0].ports[0].port).toBe(8081);
  });
});

describe("Schema Registry properties", () => {
  it("every property survives the cp image's env-to-properties mapping", () => {
    const rendered = renderedProperties(schemaRegistryEnv("kafka") as { name: string; value?: string }[]);
    for (const [key, value] of Object.entries(schemaRegistryProperties("kafka"))) expect(rendered.get(key), key).toBe(value);
    const host = schemaRegistryEnv("kafka").find((e) => e.name === "SCHEMA_REGISTRY_HOST_NAME");
    expect(host && "valueFrom" in host ? host.valueFrom : undefined).toEqual({ fieldRef: { fieldPath: "status.podIP" } });
  });
});

describeWithShared("Schema Registry custom resources", () => {
  it("the _schemas KafkaTopic validates against Strimzi's KafkaTopic CRD", () => {
    for (const stack of STACKS) {
      const topic = runs.get(stack)!.one(TOPIC);
      expect(validateCustomResource(topic.inputs), stack).toEqual([]);
    }
  });
});
