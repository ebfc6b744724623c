/**
 * Kafka Connect specs: the KafkaConnect and KafkaConnector CRs validate against Strimzi 1.2.0's CRDs, the worker
 * writes durably and reads committed data, plugins are pinned with checksums, the ECR/IAM scope is one repository.
 */
import { describe, expect, it } from "vitest";
import {
  CONNECT_BUILD_SERVICE_ACCOUNT,
  CONNECT_PLUGINS,
  CONNECT_SERVICE_ACCOUNT,
  connectImageTag,
  connectWorkerConfig,
  DEBEZIUM_JDBC_SHA512,
  ecrLifecyclePolicy,
  ecrPushPolicy,
  heapFor,
  kafkaConnectSpec,
  pluginPinProblems,
  secretReaderRbac,
} from "../components/sink/connectSpecs";
import { CONNECT_CONFIG_TOPIC, CONNECT_OFFSET_TOPIC, CONNECT_STATUS_TOPIC, KAFKA_CLIENT_LABEL, KAFKA_USERS, SINK_CONNECTOR_NAME } from "../contract/clients";
import { CONSUMER_ISOLATION_LEVEL, MIN_INSYNC_REPLICAS, REPLICATION_FACTOR } from "../contract/durability";
import { KAFKA_VERSION } from "../components/kafka/kafkaSpecs";
import { WATCH_SEGMENTS_DLQ_TOPIC } from "../contract/topics";
import { SINK_CREDENTIALS_SECRET, SINK_PASSWORD_KEY, YSQL_SINK_USER } from "../components/sink/yugabyteSpecs";
import { watchSegmentsSinkSpec } from "../connectors/watchSegmentsSink";
import { validateCustomResource } from "./crdSchema";
import { describeWithShared } from "./withShared";

const ROLE_ARN = "arn:aws:iam::111122223333:role/connect-build";
const IMAGE = `111122223333.dkr.ecr.us-east-1.amazonaws.com/watchpipe-connect-prod:${connectImageTag(CONNECT_PLUGINS)}`;
const spec = kafkaConnectSpec({
  kafkaNamespace: "kafka", replicas: 2, image: IMAGE, buildRoleArn: ROLE_ARN, dbCaSecret: "yugabyte-root-ca",
  resources: { cpu: "2", memory: "4Gi" },
});
const config = spec.config as Record<string, unknown>;

describe("Kafka Connect worker", () => {
  it("internal topics are RF 3 with min.insync.replicas 2, named from clients.ts", () => {
    expect(spec).toMatchObject({ configStorageTopic: CONNECT_CONFIG_TOPIC, offsetStorageTopic: CONNECT_OFFSET_TOPIC, statusStorageTopic: CONNECT_STATUS_TOPIC });
    for (const t of ["config", "offset", "status"]) {
      expect(config[`${t}.storage.replication.factor`]).toBeGreaterThanOrEqual(REPLICATION_FACTOR);
      expect(config[`${t}.storage.min.insync.replicas`]).toBeGreaterThanOrEqual(MIN_INSYNC_REPLICAS);
    }
  });

  it("producers write with acks=all and idempotence; consumers read_committed", () => {
    expect(config["producer.acks"]).toBe("all");
    expect(config["producer.enable.idempotence"]).toBe(true);
    expect(config["consumer.isolation.level"]).toBe(CONSUMER_ISOLATION_LEVEL);
  });

  it("runs the brokers' Kafka version", () => {
    expect(spec.version).toBe(KAFKA_VERSION);
  });

  it("TLS with the cluster CA and SCRAM-SHA-512 as the connect KafkaUser", () => {
    expect(spec.bootstrapServers).toBe("events-kafka-bootstrap.kafka.svc:9093");
    expect(spec.tls).toEqual({ trustedCertificates: [{ secretName: "events-cluster-ca-cert", certificate: "ca.crt" }] });
    expect(spec.authentication).toEqual({ type: "scram-sha-512", username: KAFKA_USERS.connect, passwordSecret: { secretName: KAFKA_USERS.connect, password: "password" } });
  });

  it("the Kubernetes Secret config provider (shipped in Strimzi's image) is registered", () => {
    expect(config["config.providers"]).toBe("secrets");
    expect(config["config.providers.secrets.class"]).toBe("io.strimzi.kafka.KubernetesSecretConfigProvider");
  });

  it("pods carry the Kafka client label, no service links, a PDB, the DB CA mount", () => {
    expect(spec.template).toMatchObject({
      pod: { metadata: { labels: KAFKA_CLIENT_LABEL }, enableServiceLinks: false, volumes: [{ name: "yugabyte-ca", secret: { secretName: "yugabyte-root-ca" } }] },
      connectContainer: { volumeMounts: [{ name: "yugabyte-ca", mountPath: "/opt/kafka/yugabyte-ca", readOnly: true }] },
      podDisruptionBudget: { maxUnavailable: 1 },
    });
  });

  it("the build service account assumes the push role through IRSA (no registry key)", () => {
    expect(spec.template).toMatchObject({ buildServiceAccount: { metadata: { annotations: { "eks.amazonaws.com/role-arn": ROLE_ARN } } } });
    expect(spec.build).toMatchObject({ output: { type: "docker", image: IMAGE } });
    expect(JSON.stringify(spec.build)).not.toMatch(/pushSecret/);
  });

  it.each([["4Gi", "2048m"], ["2Gi", "1024m"], ["3072Mi", "1536m"]])("heap for %s is %s", (mem, heap) => {
    expect(heapFor(mem)).toBe(heap);
  });
});

describe("Connect plugins", () => {
  it("every downloaded artifact carries a sha512; the maven artifact an exact version", () => {
    expect(pluginPinProblems(CONNECT_PLUGINS)).toEqual([]);
    const jdbc = CONNECT_PLUGINS.find((p) => p.name === "debezium-connector-jdbc")?.artifacts[0];
    expect(jdbc).toMatchObject({ type: "tgz", sha512sum: DEBEZIUM_JDBC_SHA512 });
    expect(jdbc?.url).toMatch(/^https:\/\/repo1\.maven\.org\/maven2\/io\/debezium\/debezium-connector-jdbc\/3\.6\.0\.Final\//);
  });

  it("an unpinned artifact is refused by the spec builder", () => {
    const loose = [{ name: "x", artifacts: [{ type: "tgz" as const, url: "https://example.invalid/x.tgz" }] }, { name: "y", artifacts: [{ type: "maven" as const, group: "g", artifact: "a", version: "[1.0,)" }] }];
    expect(pluginPinProblems(loose)).toHaveLength(2);
    expect(() => kafkaConnectSpec({ kafkaNamespace: "kafka", replicas: 1, image: "r/i:t", plugins: loose, resources: { cpu: "1", memory: "2Gi" } }))
      .toThrow(/unpinned plugin artifacts[\s\S]*needs a sha512sum/);
  });

  it("the image tag follows the plugin set (immutable ECR tags never need overwriting)", () => {
    const changed = [{ ...CONNECT_PLUGINS[0], artifacts: [{ ...CONNECT_PLUGINS[0].artifacts[0], sha512sum: "0".repeat(128) }] }, CONNECT_PLUGINS[1]];
    expect(connectImageTag(changed)).not.toBe(connectImageTag(CONNECT_PLUGINS));
    expect(connectImageTag([...CONNECT_PLUGINS])).toBe(connectImageTag(CONNECT_PLUGINS));
  });
});

describe("ECR and RBAC scope", () => {
  const repoArn = "arn:aws:ecr:us-east-1:111122223333:repository/watchpipe-connect-prod";
  it("the push policy names only this repository (plus the unscopable login call)", () => {
    const doc = ecrPushPolicy(repoArn);
    const star = doc.Statement.filter((s) => s.Resource === "*");
    expect(star.map((s) => s.Action)).toEqual([["ecr:GetAuthorizationToken"]]);
    expect(doc.Statement.filter((s) => s.Resource !== "*").every((s) => s.Resource === repoArn)).toBe(true);
    expect(JSON.stringify(doc)).not.toMatch(/ecr:\*|"Action":"\*"/);
  });

  it("the lifecycle policy expires untagged images and keeps a bounded history", () => {
    const rules = (JSON.parse(ecrLifecyclePolicy()) as { rules: { selection: { tagStatus: string } }[] }).rules;
    expect(rules.map((r) => r.selection.tagStatus)).toEqual(["untagged", "any"]);
  });

  it("Connect's service account may get exactly the sink role's password Secret", () => {
    const rbac = secretReaderRbac("kafka", SINK_CREDENTIALS_SECRET);
    expect(rbac.role.rules).toEqual([{ apiGroups: [""], resources: ["secrets"], resourceNames: [SINK_CREDENTIALS_SECRET], verbs: ["get"] }]);
    expect(rbac.binding.subjects).toEqual([{ kind: "ServiceAccount", name: CONNECT_SERVICE_ACCOUNT, namespace: "kafka" }]);
    expect(CONNECT_BUILD_SERVICE_ACCOUNT).toBe(`${CONNECT_SERVICE_ACCOUNT}-build`);
  });
});

describeWithShared("Kafka Connect CRs against Strimzi 1.2.0", () => {
  it("KafkaConnect validates (EKS with IRSA and the DB CA)", () => {
    const cr = { apiVersion: "kafka.strimzi.io/v1", kind: "KafkaConnect", metadata: { name: "watchpipe", namespace: "kafka" }, spec };
    expect(validateCustomResource(cr)).toEqual([]);
  });

  it("KafkaConnect validates (local: no IRSA, no CA)", () => {
    const local = kafkaConnectSpec({ kafkaNamespace: "kafka", replicas: 1, image: "localhost:5001/watchpipe/watchpipe-connect:t", resources: { cpu: "500m", memory: "2Gi" } });
    expect(validateCustomResource({ apiVersion: "kafka.strimzi.io/v1", kind: "KafkaConnect", metadata: { name: "watchpipe" }, spec: local })).toEqual([]);
  });

  it("the sink KafkaConnector validates, has a DLQ, and logs in as the sink role with the password from the config provider", () => {
    const connectorSpec = watchSegmentsSinkSpec({
      db: { host: "yb-ysql.yugabyte.svc.cluster.local", port: 5433, database: "watchpipe", user: YSQL_SINK_USER, tls: { sslMode: "verify-ca", rootCertPath: "/opt/kafka/yugabyte-ca/ca.crt" } },
      password: { kind: "kubernetesSecret", namespace: "kafka", secret: SINK_CREDENTIALS_SECRET, key: SINK_PASSWORD_KEY },
      schemaRegistryUrl: "http://schema-registry.kafka.svc:8081",
      tasksMax: 6,
    });
    const cr = { apiVersion: "kafka.strimzi.io/v1", kind: "KafkaConnector", metadata: { name: SINK_CONNECTOR_NAME, labels: { "strimzi.io/cluster": "watchpipe" } }, spec: connectorSpec };
    expect(validateCustomResource(cr)).toEqual([]);
    expect(connectorSpec.config["errors.deadletterqueue.topic.name"]).toBe(WATCH_SEGMENTS_DLQ_TOPIC);
    expect(connectorSpec.config["connection.username"]).toBe("watchpipe_sink");
    expect(connectorSpec.config["connection.password"]).toBe("${secrets:kafka/watchpipe-sink-ysql-credentials:password}");
    expect(connectorSpec.config["connection.url"]).toBe("jdbc:postgresql://yb-ysql.yugabyte.svc.cluster.local:5433/watchpipe?sslmode=verify-ca&sslrootcert=%2Fopt%2Fkafka%2Fyugabyte-ca%2Fca.crt");
  });

  it("a misspelt KafkaConnect field fails validation (guards the tests above)", () => {
    const cr = { apiVersion: "kafka.strimzi.io/v1", kind: "KafkaConnect", metadata: { name: "w" }, spec: { ...spec, replica: 2 } };
    expect(validateCustomResource(cr).join("\n")).toMatch(/replica/);
  });
});

describe("worker config is plain data", () => {
  it("contains no secret material", () => {
    expect(JSON.stringify(connectWorkerConfig())).not.toMatch(/password|secret=/i);
  });
});
