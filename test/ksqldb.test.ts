/**
 * ksqlDB servers: every Kafka-facing setting meets the durability and security policies, per stack, on the
 * resources the component registers (under mocks); the processing-log KafkaTopic validates against the CRD.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { CLUSTER_CA_SECRET, KAFKA_CLIENT_LABEL, KAFKA_USERS, KSQL_SERVICE_ID } from "../contract/clients";
import { MIN_INSYNC_REPLICAS, REPLICATION_FACTOR, SASL_MECHANISM } from "../contract/durability";
import { Ksqldb } from "../components/stream/ksqldb";
import { KSQL_PROCESSING_LOG_TOPIC } from "../contract/acls";
import {
  KAFKA_JMX_REPORTER, KSQL_ENV_PREFIX, ksqldbEnv, ksqldbProperties, type KsqldbSpecArgs, KSQLDB_MEASURED_STOP_SEC, KSQLDB_STOP_MARGIN,
  KSQLDB_TERMINATION_GRACE_SEC, standbyReplicas, streamThreadsPerReplica,
} from "../components/stream/ksqldbSpecs";
import { envNameToProperty, KAFKA_CA_FILE, propertyToEnvName } from "../components/stream/streamingSpecs";
import { COLLECT_SET_LIMIT, WINDOW_CHANGELOG_ADDITIONAL_RETENTION_MS } from "../contract/sessionization";
import { validateCustomResource } from "./crdSchema";
import { type ComponentRun, runComponents, stackAppConfig, STACKS } from "./ksqldb.mocks";
import { describeWithShared } from "./withShared";

const STATEFULSET = "kubernetes:apps/v1:StatefulSet";
const TOPIC = "kubernetes:kafka.strimzi.io/v1:KafkaTopic";
const SR_URL = "http://schema-registry.kafka.svc:8081";
/** Env vars the start script reads itself (they also land in the file, where ksqlDB ignores them). */
const SCRIPT_ENV = new Set(["KSQL_HEAP_OPTS"]);

function renderedProperties(env: { name: string; value?: string }[]): Map<string, string> {
  const props = new Map<string, string>();
  for (const e of env) {
    if (!e.name.startsWith(KSQL_ENV_PREFIX) || SCRIPT_ENV.has(e.name)) continue;
    props.set(envNameToProperty(KSQL_ENV_PREFIX, e.name), e.value ?? "<secret>");
  }
  return props;
}

const runs = new Map<string, ComponentRun>();

beforeAll(async () => {
  for (const stack of STACKS) {
    const c = stackAppConfig(stack);
    runs.set(
      stack,
      await runComponents((provider) => {
        new Ksqldb("ksqldb", {
          namespace: c.kafka.namespace,
          replicas: c.ksqldb.replicas,
          storageGiB: c.ksqldb.storageGiB,
          storageClassName: "gp3",
          resources: c.ksqldb.resources,
          consumerParallelism: c.capacity.consumerParallelism,
          schemaRegistryUrl: SR_URL,
          provider,
          protect: c.protectData,
          dependsOn: [],
        });
      }),
    );
  }
});

describe.each(STACKS)("ksqlDB on the %s stack", (stack) => {
  const c = stackAppConfig(stack);
  const run = () => runs.get(stack)!;
  const sts = () => run().one(STATEFULSET);
  // The server container (the init container copies the metrics agent).
  const container = () => sts().inputs.spec.template.spec.containers[0];
  const props = () => renderedProperties(container().env);

  it("runs the configured replicas, with one standby replica of each task's state when there is more than one server", () => {
    expect(sts().inputs.spec.replicas).toBe(c.ksqldb.replicas);
    expect(props().get("ksql.streams.num.standby.replicas")).toBe(c.ksqldb.replicas > 1 ? "1" : "0");
  });

  it("gives a stopping server more time than the longest SIGTERM stop measured under load, with margin", () => {
    const grace = sts().inputs.spec.template.spec.terminationGracePeriodSeconds;
    expect(grace).toBe(KSQLDB_TERMINATION_GRACE_SEC);
    expect(grace).toBeGreaterThanOrEqual(KSQLDB_MEASURED_STOP_SEC * KSQLDB_STOP_MARGIN);
    // Issue 21 saw 83 s under load, past the 60 s the pods had then.
    expect(grace).toBeGreaterThan(83);
  });

  it("exports Kafka Streams' own metrics (dropped records per task) to JMX for the exporter agent", () => {
    expect(props().get("ksql.streams.metric.reporters")).toBe(KAFKA_JMX_REPORTER);
  });

  it("keeps Streams state on a PersistentVolume of the configured size", () => {
    const [claim] = sts().inputs.spec.volumeClaimTemplates;
    expect(claim.spec.resources.requests.storage).toBe(`${c.ksqldb.storageGiB}Gi`);
    expect(claim.spec.storageClassName).toBe("gp3");
    const mount = container().volumeMounts.find((m: { name: string }) => m.name === claim.metadata.name);
    expect(props().get("ksql.streams.state.dir")).toMatch(new RegExp(`^${mount.mountPath}/[a-z]+$`));
  });

  it("processes exactly once, writes acks=all + idempotent, reads read_committed", () => {
    expect(props().get("ksql.streams.processing.guarantee")).toBe("exactly_once_v2");
    expect(props().get("ksql.streams.producer.acks")).toBe("all");
    expect(props().get("ksql.streams.producer.enable.idempotence")).toBe("true");
    expect(props().get("ksql.streams.consumer.isolation.level")).toBe("read_committed");
  });

  it("creates every internal, Streams and processing-log topic with RF 3 and min ISR 2", () => {
    expect(props().get("ksql.internal.topic.replicas")).toBe(String(REPLICATION_FACTOR));
    expect(props().get("ksql.internal.topic.min.insync.replicas")).toBe(String(MIN_INSYNC_REPLICAS));
    expect(props().get("ksql.streams.replication.factor")).toBe(String(REPLICATION_FACTOR));
    expect(props().get("ksql.streams.topic.min.insync.replicas")).toBe(String(MIN_INSYNC_REPLICAS));
    expect(props().get("ksql.logging.processing.topic.replication.factor")).toBe(String(REPLICATION_FACTOR));
    const topic = run().one(TOPIC);
    expect(topic.inputs.spec.topicName).toBe(KSQL_PROCESSING_LOG_TOPIC);
    expect(props().get("ksql.logging.processing.topic.name")).toBe(KSQL_PROCESSING_LOG_TOPIC);
    expect(topic.inputs.spec.replicas).toBeGreaterThanOrEqual(REPLICATION_FACTOR);
    expect(topic.inputs.spec.config["min.insync.replicas"]).toBeGreaterThanOrEqual(MIN_INSYNC_REPLICAS);
    expect(props().get("ksql.logging.processing.stream.auto.create")).toBe("true");
  });

  it("uses the fixed service id, Schema Registry, and the collect_set limit and changelog retention the SQL needs", () => {
    expect(props().get("ksql.service.id")).toBe(KSQL_SERVICE_ID);
    expect(props().get("ksql.schema.registry.url")).toBe(SR_URL);
    expect(props().get("ksql.functions.collect_set.limit")).toBe(String(COLLECT_SET_LIMIT));
    expect(props().get("ksql.streams.windowstore.changelog.additional.retention.ms")).toBe(String(WINDOW_CHANGELOG_ADDITIONAL_RETENTION_MS));
  });

  it("compresses what its queries produce (the session changelog rewrites a point list per heartbeat)", () => {
    expect(props().get("ksql.streams.producer.compression.type")).toBe("zstd");
  });

  it("talks to Kafka over TLS + SCRAM-SHA-512 as the ksqldb user, JAAS from the KafkaUser Secret only", () => {
    expect(props().get("security.protocol")).toBe("SASL_SSL");
    expect(props().get("sasl.mechanism")).toBe(SASL_MECHANISM);
    expect(props().get("ssl.truststore.type")).toBe("PEM");
    expect(props().get("ssl.truststore.location")).toBe(KAFKA_CA_FILE);
    const jaas = container().env.find((e: { name: string }) => e.name === "KSQL_SASL_JAAS_CONFIG");
    expect(jaas.valueFrom.secretKeyRef).toEqual({ name: KAFKA_USERS.ksqldb, key: "sasl.jaas.config" });
    expect(JSON.stringify(container().env.filter((e: { value?: string }) => e.value !== undefined))).not.toMatch(/password|ScramLoginModule/i);
    const ca = sts().inputs.spec.template.spec.volumes.find((v: { secret?: { secretName: string } }) => v.secret?.secretName === CLUSTER_CA_SECRET);
    expect(ca).toBeDefined();
  });

  it("advertises a per-pod name on the headless Service (POD_NAME is declared before it is referenced)", () => {
    const names = container().env.map((e: { name: string }) => e.name);
    expect(names.indexOf("POD_NAME")).toBeLessThan(names.indexOf(propertyToEnvName(KSQL_ENV_PREFIX, "ksql.advertised.listener")));
    expect(props().get("ksql.advertised.listener")).toBe(`http://$(POD_NAME).ksqldb-headless.${c.kafka.namespace}.svc:8088`);
    const headless = run().ofType("kubernetes:core/v1:Service").find((s) => s.inputs.spec.clusterIP === "None");
    expect(headless?.inputs.metadata.name).toBe(sts().inputs.spec.serviceName);
    expect(run().ofType("kubernetes:core/v1:Service").some((s) => s.inputs.spec.type === "ClusterIP" && s.inputs.metadata.name === "ksqldb")).toBe(true);
  });

  it("runs a pinned image as non-root with service links off, probes, resources, PDB and the Kafka client label", () => {
    const pod = sts().inputs.spec.template.spec;
    expect(container().image).toMatch(/^confluentinc\/cp-ksqldb-server:\d+\.\d+\.\d+$/);
    expect(pod.enableServiceLinks).toBe(false);
    expect(pod.securityContext.runAsNonRoot).toBe(true);
    expect(pod.securityContext.fsGroup).toBe(pod.securityContext.runAsGroup);
    expect(container().readinessProbe.httpGet.path).toBe("/healthcheck");
    expect(container().livenessProbe.httpGet.path).toBe("/info");
    expect(container().startupProbe.httpGet.path).toBe("/info");
    expect(container().resources.requests).toEqual(c.ksqldb.resources);
    expect(container().resources.limits.memory).toBe(c.ksqldb.resources.memory);
    expect(sts().inputs.spec.template.metadata.labels).toMatchObject(KAFKA_CLIENT_LABEL);
    expect(run().one("kubernetes:policy/v1:PodDisruptionBudget").inputs.spec.maxUnavailable).toBe(1);
    expect(run().one("kubernetes:networking.k8s.io/v1:NetworkPolicy").inputs.spec.ingress[0].ports[0].port).toBe(8088);
  });

  it("loads the JMX exporter agent copied from the pinned Strimzi Kafka image, with the rules from its ConfigMap", () => {
    const pod = sts().inputs.spec.template.spec;
    expect(pod.initContainers.map((x: { image: string }) => x.image)).toEqual(["quay.io/strimzi/kafka:1.2.0-kafka-4.3.1"]);
    const opts = container().env.find((e: { name: string }) => e.name === "KSQL_OPTS").value as string;
    const [, jar, port, rules] = /^-javaagent:(\S+)=(\d+):(\S+)$/.exec(opts) ?? [];
    expect(pod.initContainers[0].command).toEqual(["cp", "/opt/prometheus-jmx-exporter/jmx_prometheus_javaagent-1.6.0.jar", jar]);
    expect(container().ports).toContainEqual({ name: "tcp-prometheus", containerPort: Number(port), protocol: "TCP" });
    const mounted = container().volumeMounts.map((m: { mountPath: string }) => m.mountPath);
    expect(mounted.some((m: string) => jar!.startsWith(`${m}/`)) && mounted.some((m: string) => rules!.startsWith(`${m}/`))).toBe(true);
    const cm = run().ofType("kubernetes:core/v1:ConfigMap").find((m) => m.inputs.metadata.name === "ksqldb-metrics");
    expect(Object.keys(cm!.inputs.data)).toEqual([rules!.split("/").pop()]);
  });

  it("protects the StatefulSet (its volumes hold the session state) exactly when the stack protects data", () => {
    expect(sts().protect).toBe(c.protectData);
    expect(run().one(TOPIC).protect).toBe(c.protectData);
  });
});

describe("ksqlDB properties", () => {
  const args: KsqldbSpecArgs = {
    namespace: "kafka",
    replicas: 2,
    storageGiB: 10,
    storageClassName: "gp3",
    resources: { cpu: "1", memory: "4Gi" },
    streamThreads: 6,
    schemaRegistryUrl: SR_URL,
  };

  it("every property survives the cp image's env-to-properties mapping", () => {
    const rendered = renderedProperties(ksqldbEnv(args) as { name: string; value?: string }[]);
    for (const [key, value] of Object.entries(ksqldbProperties(args))) expect(rendered.get(key), key).toBe(value);
  });

  it.each([
    ["ksql.functions.collect_set.limit", "KSQL_KSQL_FUNCTIONS_COLLECT__SET_LIMIT"],
    ["ksql.streams.num.standby.replicas", "KSQL_KSQL_STREAMS_NUM_STANDBY_REPLICAS"],
    ["ksql.some-dashed.name", "KSQL_KSQL_SOME___DASHED_NAME"],
  ])("maps %s to %s", (property, env) => {
    expect(propertyToEnvName(KSQL_ENV_PREFIX, property)).toBe(env);
    expect(envNameToProperty(KSQL_ENV_PREFIX, env)).toBe(property);
  });

  it("refuses a property the image could not reproduce (one-letter segment) and names a fix", () => {
    expect(() => propertyToEnvName(KSQL_ENV_PREFIX, "a.b.c")).toThrow(/mounted properties file/);
    expect(() => propertyToEnvName(KSQL_ENV_PREFIX, "Upper.Case")).toThrow(/allowed: a-z/);
  });

  it.each([
    [12, 2, 6],
    [12, 1, 12],
    [12, 5, 3],
    [1, 3, 1],
  ])("spreads %i stream threads over %i servers as %i each", (parallelism, replicas, expected) => {
    expect(streamThreadsPerReplica(parallelism, replicas)).toBe(expected);
  });

  it("keeps no standby with a single server and one with several", () => {
    expect([1, 2, 3].map(standbyReplicas)).toEqual([0, 1, 1]);
    expect(() => streamThreadsPerReplica(0, 2)).toThrow(/positive integers/);
  });
});

describeWithShared("ksqlDB custom resources", () => {
  it("the processing-log KafkaTopic validates against Strimzi's KafkaTopic CRD", () => {
    for (const stack of STACKS) expect(validateCustomResource(runs.get(stack)!.one(TOPIC).inputs), stack).toEqual([]);
  });
});
