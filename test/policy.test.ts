/**
 * Every CrossGuard policy, called directly with a compliant resource and with the real mistakes it exists to stop
 * (an RF 1 topic, a plaintext listener, a :latest image, a node group in a public subnet, an unencrypted cluster…).
 */
import { describe, expect, it } from "vitest";
import { BROKER_DURABILITY_CONFIG, TOPIC_DURABILITY_CONFIG } from "../contract/durability";
import { imagePinProblem } from "../contract/kafkaPolicies";
import { k8sType, kafkaPropertyProblem } from "../contract/resourceChecks";
import {
  eksEndpointRestricted,
  eksSecretsEncrypted,
  helmReleaseBoundedWait,
  imagesPinned,
  kafkaAclsLeastPrivilege,
  kafkaBrokerDurability,
  kafkaClientDurability,
  kafkaClientsTlsAuth,
  kafkaListenersTlsAuth,
  kafkaTopicDurability,
  kmsKeyRotation,
  nodeGroupsInPrivateSubnets,
  nodesImdsv2,
  nodesNoPublicIp,
  noOpenIngress,
  noPlaintextSecrets,
  policies,
  type ResourceArgs,
  type StackResource,
  type WatchpipeResourcePolicy,
} from "../policy/policies";

type Props = Record<string, unknown>;

/** Props as preview sends them: Kubernetes objects carry apiVersion and kind. */
function resource(type: string, props: Props, name = "r"): ResourceArgs {
  const t = k8sType(type);
  const typed = t && type !== "kubernetes:helm.sh/v3:Release" ? { apiVersion: t.group === "core" ? t.version : `${t.group}/${t.version}`, kind: t.kind, ...props } : props;
  return { type, props: typed, name, urn: `urn:pulumi:test::watchpipe::${type}::${name}` };
}

function violations(policy: WatchpipeResourcePolicy, args: ResourceArgs): string[] {
  const found: string[] = [];
  policy.validateResource(args, (m) => found.push(m));
  return found;
}

const TOPIC = "kubernetes:kafka.strimzi.io/v1:KafkaTopic";
const KAFKA = "kubernetes:kafka.strimzi.io/v1:Kafka";
const CONNECT = "kubernetes:kafka.strimzi.io/v1:KafkaConnect";
const BRIDGE = "kubernetes:kafka.strimzi.io/v1:KafkaBridge";
const DEPLOYMENT = "kubernetes:apps/v1:Deployment";
const CRONJOB = "kubernetes:batch/v1:CronJob";
const CONFIGMAP = "kubernetes:core/v1:ConfigMap";
const RELEASE = "kubernetes:helm.sh/v3:Release";

const meta = (name: string) => ({ name, namespace: "kafka" });
const goodTopic = { metadata: meta("heartbeats"), spec: { partitions: 24, replicas: 3, config: { ...TOPIC_DURABILITY_CONFIG } } };
const tlsListener = { name: "tls", port: 9093, type: "internal", tls: true, authentication: { type: "scram-sha-512" } };
const goodKafka = { metadata: meta("events"), spec: { kafka: { listeners: [tlsListener], authorization: { type: "simple" }, config: { ...BROKER_DURABILITY_CONFIG } } } };
const clientAuth = { type: "scram-sha-512", username: "connect", passwordSecret: { secretName: "connect", password: "password" } };
const clientTls = { trustedCertificates: [{ secretName: "events-cluster-ca-cert", pattern: "*.crt" }] };
const goodConnect = {
  metadata: meta("connect"),
  spec: {
    image: "localhost:5001/watchpipe/connect:1.2.0-jdbc",
    bootstrapServers: "events-kafka-bootstrap.kafka.svc:9093",
    tls: clientTls,
    authentication: clientAuth,
    config: { "config.storage.replication.factor": 3, "offset.storage.replication.factor": 3, "status.storage.replication.factor": -1, "consumer.isolation.level": "read_committed" },
  },
};
const goodBridge = { metadata: meta("bridge"), spec: { tls: clientTls, authentication: clientAuth, producer: { config: { acks: "all", "enable.idempotence": true } } } };

function deployment(container: Props, extra: Props = {}) {
  return { metadata: meta("ksqldb"), spec: { replicas: 2, template: { spec: { containers: [{ name: "server", ...container }], ...extra } } } };
}
const goodKsql = deployment({
  image: "confluentinc/cp-ksqldb-server:8.1.0",
  env: [
    { name: "KSQL_BOOTSTRAP_SERVERS", value: "events-kafka-bootstrap.kafka.svc:9093" },
    { name: "KSQL_SECURITY_PROTOCOL", value: "SASL_SSL" },
    { name: "KSQL_SASL_MECHANISM", value: "SCRAM-SHA-512" },
    { name: "KSQL_KSQL_INTERNAL_TOPIC_REPLICAS", value: "3" },
    { name: "KSQL_KSQL_STREAMS_REPLICATION_FACTOR", value: "3" },
    { name: "KSQL_KSQL_STREAMS_PRODUCER_ACKS", value: "all" },
    { name: "KSQL_SASL_JAAS_CONFIG", valueFrom: { secretKeyRef: { name: "ksqldb", key: "sasl.jaas.config" } } },
    { name: "KAFKA_PASSWORD", valueFrom: { secretKeyRef: { name: "ksqldb", key: "password" } } },
    { name: "KSQL_SASL_JAAS_CONFIG_TEMPLATE", value: 'org.apache.kafka.common.security.scram.ScramLoginModule required username="ksqldb" password="$(KAFKA_PASSWORD)";' },
    { name: "CA_SECRET_NAME", value: "events-cluster-ca-cert" },
  ],
});

describe("kafka-topic-durability", () => {
  it("passes a topic with RF 3 and min.insync.replicas 2 on the topic", () => {
    expect(violations(kafkaTopicDurability, resource(TOPIC, goodTopic))).toEqual([]);
  });
  it("rejects an RF 1 topic (the default of a hand-written KafkaTopic)", () => {
    const rf1 = { ...goodTopic, spec: { ...goodTopic.spec, replicas: 1 } };
    expect(violations(kafkaTopicDurability, resource(TOPIC, rf1))).toEqual([
      "KafkaTopic heartbeats: spec.replicas: expected >= 3; got 1.",
    ]);
  });
  it("rejects a topic that leaves min.insync.replicas to the broker, sets it to 1, or allows unclean election", () => {
    const unset = { ...goodTopic, spec: { partitions: 3, replicas: 3, config: {} } };
    expect(violations(kafkaTopicDurability, resource(TOPIC, unset))).toEqual(['KafkaTopic heartbeats: spec.config["min.insync.replicas"]: expected >= 2; got undefined.']);
    const one = { ...goodTopic, spec: { partitions: 3, replicas: 3, config: { "min.insync.replicas": 1 } } };
    expect(violations(kafkaTopicDurability, resource(TOPIC, one))).toEqual(['KafkaTopic heartbeats: spec.config["min.insync.replicas"]: expected >= 2; got 1.']);
    const unclean = { ...goodTopic, spec: { ...goodTopic.spec, config: { ...goodTopic.spec.config, "unclean.leader.election.enable": true } } };
    expect(violations(kafkaTopicDurability, resource(TOPIC, unclean))).toEqual([
      "KafkaTopic kafka/heartbeats: spec.config: unclean.leader.election.enable=true: expected false; an out-of-sync replica becoming leader silently drops acknowledged writes",
    ]);
  });
  it("ignores other kinds and other API groups", () => {
    expect(violations(kafkaTopicDurability, resource("kubernetes:example.com/v1:KafkaTopic", { spec: { replicas: 1 } }))).toEqual([]);
  });
});

describe("kafka-broker-durability", () => {
  it("passes the broker config of contract/durability.ts", () => {
    expect(violations(kafkaBrokerDurability, resource(KAFKA, goodKafka))).toEqual([]);
  });
  it("rejects min.insync.replicas 1, unclean election and a missing internal-topic RF", () => {
    const { "offsets.topic.replication.factor": _dropped, ...rest } = BROKER_DURABILITY_CONFIG;
    const bad = { ...goodKafka, spec: { kafka: { ...goodKafka.spec.kafka, config: { ...rest, "min.insync.replicas": 1, "unclean.leader.election.enable": true } } } };
    const found = violations(kafkaBrokerDurability, resource(KAFKA, bad));
    expect(found).toHaveLength(3);
    expect(found.join("\n")).toMatch(/config\["min.insync.replicas"\]: expected >= 2; got 1/);
    expect(found.join("\n")).toMatch(/unclean.leader.election.enable"\]: expected false/);
    expect(found.join("\n")).toMatch(/offsets.topic.replication.factor"\]: expected >= 3; got undefined/);
  });
});

describe("kafka-listeners-tls-auth", () => {
  it("passes a TLS listener with SCRAM-SHA-512", () => {
    expect(violations(kafkaListenersTlsAuth, resource(KAFKA, goodKafka))).toEqual([]);
  });
  it("rejects a plaintext listener without authentication next to the TLS one", () => {
    const plain = { name: "plain", port: 9092, type: "internal", tls: false };
    const bad = { ...goodKafka, spec: { kafka: { ...goodKafka.spec.kafka, listeners: [tlsListener, plain] } } };
    const found = violations(kafkaListenersTlsAuth, resource(KAFKA, bad));
    expect(found).toHaveLength(2);
    expect(found[0]).toMatch(/listener "plain": expected tls: true; got false/);
    expect(found[1]).toMatch(/listener "plain": expected authentication scram-sha-512 \(or tls\); got undefined/);
  });
  it("rejects a cluster with no listener at all", () => {
    const none = { ...goodKafka, spec: { kafka: { config: goodKafka.spec.kafka.config, listeners: [] } } };
    expect(violations(kafkaListenersTlsAuth, resource(KAFKA, none))[0]).toMatch(/expected at least one TLS listener/);
  });
});

describe("kafka-acls-least-privilege", () => {
  const USER = "kubernetes:kafka.strimzi.io/v1:KafkaUser";
  const user = (acls: unknown[]) => ({ metadata: meta("loadgen"), spec: { authentication: { type: "scram-sha-512" }, authorization: { type: "simple", acls } } });
  it("passes ACLs that name their topic", () => {
    expect(violations(kafkaAclsLeastPrivilege, resource(USER, user([{ resource: { type: "topic", name: "heartbeats_raw", patternType: "literal" }, operations: ["Write"] }])))).toEqual([]);
  });
  it("rejects a user allowed to write every topic", () => {
    expect(violations(kafkaAclsLeastPrivilege, resource(USER, user([{ resource: { type: "topic", name: "*", patternType: "literal" }, operations: ["Write"] }])))[0]).toMatch(/ACL on topic "\*" \(literal\) is a wildcard/);
  });
});

describe("kafka-clients-tls-auth", () => {
  it("passes Connect and Bridge with TLS trust and SCRAM", () => {
    expect(violations(kafkaClientsTlsAuth, resource(CONNECT, goodConnect))).toEqual([]);
    expect(violations(kafkaClientsTlsAuth, resource(BRIDGE, goodBridge))).toEqual([]);
  });
  it("rejects a KafkaConnect pointed at the plaintext port without tls or authentication", () => {
    const { tls: _t, authentication: _a, ...spec } = goodConnect.spec;
    const bad = { ...goodConnect, spec: { ...spec, bootstrapServers: "events-kafka-bootstrap.kafka.svc:9092" } };
    expect(violations(kafkaClientsTlsAuth, resource(CONNECT, bad))).toEqual([
      "KafkaConnect kafka/connect: spec.tls is not set; expected trustedCertificates from the cluster CA secret (TLS only)",
      "KafkaConnect kafka/connect: spec.authentication is not set; expected type scram-sha-512",
    ]);
  });
});

describe("kafka-client-durability", () => {
  it("passes durable, TLS client settings in Connect, Bridge, env vars and ConfigMaps", () => {
    expect(violations(kafkaClientDurability, resource(CONNECT, goodConnect))).toEqual([]);
    expect(violations(kafkaClientDurability, resource(BRIDGE, goodBridge))).toEqual([]);
    expect(violations(kafkaClientDurability, resource(DEPLOYMENT, goodKsql))).toEqual([]);
    const props = "bootstrap.servers=events-kafka-bootstrap.kafka.svc:9093\nsecurity.protocol=SASL_SSL\nacks=all\n";
    expect(violations(kafkaClientDurability, resource(CONFIGMAP, { metadata: meta("cfg"), data: { "client.properties": props } }))).toEqual([]);
  });
  it("rejects ksqlDB internal topics left at RF 1 (NOT_ENOUGH_REPLICAS with min ISR 2) and a PLAINTEXT protocol", () => {
    const bad = deployment({
      image: "confluentinc/cp-ksqldb-server:8.1.0",
      env: [
        { name: "KSQL_KSQL_INTERNAL_TOPIC_REPLICAS", value: "1" },
        { name: "KSQL_KSQL_LOGGING_PROCESSING_TOPIC_REPLICATION_FACTOR", value: "1" },
        { name: "KSQL_SECURITY_PROTOCOL", value: "PLAINTEXT" },
      ],
    });
    const found = violations(kafkaClientDurability, resource(DEPLOYMENT, bad));
    expect(found).toHaveLength(3);
    expect(found[0]).toMatch(/KSQL_KSQL_INTERNAL_TOPIC_REPLICAS="1": expected a replication factor of at least 3/);
    expect(found[2]).toMatch(/KSQL_SECURITY_PROTOCOL="PLAINTEXT": expected SASL_SSL/);
  });
  it("rejects a bridge producer with acks=1 and idempotence off, and a properties file with SASL_PLAINTEXT", () => {
    const bridge = { ...goodBridge, spec: { ...goodBridge.spec, producer: { config: { acks: 1, "enable.idempotence": false } } } };
    expect(violations(kafkaClientDurability, resource(BRIDGE, bridge))).toHaveLength(2);
    const cm = { metadata: meta("cfg"), data: { "client.properties": "security.protocol=SASL_PLAINTEXT\n" } };
    expect(violations(kafkaClientDurability, resource(CONFIGMAP, cm))[0]).toMatch(/security.protocol="SASL_PLAINTEXT"/);
  });
  it("reads the property names the way the Confluent images and Kafka do", () => {
    expect.soft(kafkaPropertyProblem("SCHEMA_REGISTRY_KAFKASTORE_TOPIC_REPLICATION_FACTOR", "1")).toMatch(/at least 3/);
    expect.soft(kafkaPropertyProblem("transaction.state.log.min.isr", 1)).toMatch(/at least 2/);
    expect.soft(kafkaPropertyProblem("producer.acks", "-1")).toBeUndefined();
    expect.soft(kafkaPropertyProblem("config.storage.replication.factor", -1)).toBeUndefined();
    expect.soft(kafkaPropertyProblem("KSQL_SASL_MECHANISM", "PLAIN")).toMatch(/expected SCRAM-SHA-512/);
    expect.soft(kafkaPropertyProblem("partitions", 1)).toBeUndefined();
  });
});

describe("helm-release-bounded-wait", () => {
  const release = (props: Props) => resource(RELEASE, { name: "strimzi", chart: "oci://quay.io/strimzi-helm/strimzi-kafka-operator", ...props }, "strimzi-release");
  it("passes a release with its own timeout, and one that does not wait", () => {
    expect(violations(helmReleaseBoundedWait, release({ timeout: 600, skipAwait: false }))).toEqual([]);
    expect(violations(helmReleaseBoundedWait, release({ skipAwait: true }))).toEqual([]);
  });
  it.each([
    ["no timeout (the provider's 300 s)", {}, "got undefined"],
    ["a zero timeout", { timeout: 0 }, "got 0"],
    ["a fractional timeout", { timeout: 90.5, skipAwait: false }, "got 90.5"],
  ])("refuses %s, naming the release, the value and both fixes", (_why, props, got) => {
    const [message, ...rest] = violations(helmReleaseBoundedWait, release(props));
    expect(rest).toEqual([]);
    expect(message).toContain("Helm release strimzi-release: waits for its resources with no timeout of its own");
    expect(message).toContain(got);
    expect(message).toContain("watchpipe:deploy.waitForReady false");
  });
  it("ignores everything that is not a Helm release", () => {
    expect(violations(helmReleaseBoundedWait, resource(DEPLOYMENT, goodKsql))).toEqual([]);
  });
});

describe("images-pinned", () => {
  it.each([
    ["confluentinc/cp-ksqldb-server:8.1.0", undefined],
    ["localhost:5001/watchpipe/connect:1.2.0", undefined],
    [`quay.io/strimzi/kafka@sha256:${"a".repeat(64)}`, undefined],
    ["confluentinc/cp-ksqldb-server:latest", /moving tag "latest"/],
    ["ghcr.io/example/tool:main", /moving tag "main"/],
    ["confluentinc/cp-ksqldb-server", /has no tag/],
    ["localhost:5001/watchpipe/connect", /has no tag/],
  ])("%s", (image, expected) => {
    if (expected === undefined) expect(imagePinProblem(image, "c")).toBeUndefined();
    else expect(imagePinProblem(image, "c")).toMatch(expected);
  });
  it("passes pinned images in Deployments, CronJobs, CR specs and Helm values", () => {
    expect(violations(imagesPinned, resource(DEPLOYMENT, goodKsql))).toEqual([]);
    expect(violations(imagesPinned, resource(CONNECT, goodConnect))).toEqual([]);
    expect(violations(imagesPinned, resource(RELEASE, { values: { Image: { repository: "yugabytedb/yugabyte", tag: "2026.1.0.0-b1" } } }, "yb"))).toEqual([]);
  });
  it("rejects :latest in a Deployment, an untagged init container in a CronJob, a :latest CR image and a Helm tag 'latest'", () => {
    const latest = deployment({ image: "confluentinc/cp-ksqldb-server:latest" });
    expect(violations(imagesPinned, resource(DEPLOYMENT, latest))).toEqual([
      'Deployment ksqldb: spec.template.spec.containers[0]: image "confluentinc/cp-ksqldb-server:latest" uses the moving tag "latest"; pin an exact version.',
    ]);
    const cron = { metadata: meta("tick"), spec: { jobTemplate: { spec: { template: { spec: { initContainers: [{ name: "wait", image: "busybox" }], containers: [{ name: "tick", image: "x/tick:1.0" }] } } } } } };
    expect(violations(imagesPinned, resource(CRONJOB, cron))).toEqual([
      'CronJob tick: spec.jobTemplate.spec.template.spec.initContainers[0]: image "busybox" has no tag; pin an exact version.',
    ]);
    const connect = { ...goodConnect, spec: { ...goodConnect.spec, image: "localhost:5001/watchpipe/connect:latest" } };
    expect(violations(imagesPinned, resource(CONNECT, connect))).toEqual([
      'KafkaConnect connect: spec.image: image "localhost:5001/watchpipe/connect:latest" uses the moving tag "latest"; pin an exact version.',
    ]);
    const kafka = { ...goodKafka, spec: { kafka: { ...goodKafka.spec.kafka, image: "quay.io/strimzi/kafka:latest-kafka-4.3.1" } } };
    expect(violations(imagesPinned, resource(KAFKA, kafka))).toEqual([]);
    const kafkaLatest = { ...goodKafka, spec: { kafka: { ...goodKafka.spec.kafka, image: "quay.io/strimzi/kafka" } } };
    expect(violations(imagesPinned, resource(KAFKA, kafkaLatest))).toEqual(['Kafka kafka/events: spec.kafka.image: image "quay.io/strimzi/kafka" has no tag; pin an exact version.']);
    const release = { values: { Image: { repository: "yugabytedb/yugabyte", tag: "latest" } } };
    expect(violations(imagesPinned, resource(RELEASE, release, "yb"))).toEqual([
      'Helm release yb: values.Image: image "yugabytedb/yugabyte:latest" uses the moving tag "latest"; pin an exact version.',
    ]);
  });
});

describe("no-plaintext-secrets", () => {
  it("passes secretKeyRef env, $(VAR) expansion, names that point at Secrets, Strimzi passwordSecret and Secrets themselves", () => {
    expect(violations(noPlaintextSecrets, resource(DEPLOYMENT, goodKsql))).toEqual([]);
    expect(violations(noPlaintextSecrets, resource(CONNECT, goodConnect))).toEqual([]);
    expect(violations(noPlaintextSecrets, resource("kubernetes:core/v1:Secret", { metadata: meta("db"), stringData: { password: "from-config-secret" } }))).toEqual([]);
    expect(violations(noPlaintextSecrets, resource(RELEASE, { values: { authCredentials: { ysql: { existingSecret: "yb-admin", passwordKey: "password" } } } }, "yb"))).toEqual([]);
  });
  it("rejects a literal DB password in env and a JAAS config with an inline password", () => {
    const bad = deployment({
      image: "x/y:1",
      env: [
        { name: "CONNECTION_PASSWORD", value: "hunter2" },
        { name: "KSQL_SASL_JAAS_CONFIG", value: 'org.apache.kafka.common.security.scram.ScramLoginModule required username="ksqldb" password="s3cr3t";' },
      ],
    });
    expect(violations(noPlaintextSecrets, resource(DEPLOYMENT, bad))).toEqual([
      "Deployment kafka/ksqldb: container server: env CONNECTION_PASSWORD holds a literal credential; use valueFrom.secretKeyRef to a Secret",
      "Deployment kafka/ksqldb: container server: env KSQL_SASL_JAAS_CONFIG holds a literal credential; use valueFrom.secretKeyRef to a Secret",
    ]);
  });
  it("rejects a ConfigMap with a password key or a properties file with an inline password", () => {
    const cm = { metadata: meta("sink"), data: { "db.password": "yugabyte", "sink.properties": "connection.user=yugabyte\nconnection.password=yugabyte\n", "db.host": "yb-tservers" } };
    expect(violations(noPlaintextSecrets, resource(CONFIGMAP, cm))).toHaveLength(2);
  });
  it("rejects a literal password in a KafkaConnector config and in Helm values", () => {
    const connector = { metadata: meta("sink"), spec: { class: "io.debezium.connector.jdbc.JdbcSinkConnector", config: { "connection.password": "yugabyte" } } };
    expect(violations(noPlaintextSecrets, resource("kubernetes:kafka.strimzi.io/v1:KafkaConnector", connector))).toEqual([
      "KafkaConnector kafka/sink: spec.config.connection.password holds a literal credential; reference a Kubernetes Secret instead",
    ]);
    expect(violations(noPlaintextSecrets, resource(RELEASE, { values: { authCredentials: { ysql: { password: "yugabyte" } } } }, "yb"))).toEqual([
      "Helm release yb: values.authCredentials.ysql.password holds a literal credential; reference a Kubernetes Secret instead",
    ]);
  });
});

describe("eks-secrets-encrypted", () => {
  const keyArn = "arn:aws:kms:us-east-1:111122223333:key/abc";
  it("passes an EKS cluster with a KMS provider for secrets (object and list shapes), and the component with a key", () => {
    expect(violations(eksSecretsEncrypted, resource("aws:eks/cluster:Cluster", { encryptionConfig: { provider: { keyArn }, resources: ["secrets"] } }))).toEqual([]);
    expect(violations(eksSecretsEncrypted, resource("aws:eks/cluster:Cluster", { encryptionConfig: [{ provider: { keyArn }, resources: ["secrets"] }] }))).toEqual([]);
    expect(violations(eksSecretsEncrypted, resource("eks:index:Cluster", { encryptionConfigKeyArn: keyArn }))).toEqual([]);
  });
  it("rejects an unencrypted cluster", () => {
    expect(violations(eksSecretsEncrypted, resource("aws:eks/cluster:Cluster", { name: "c" }, "cluster"))).toEqual([
      'EKS cluster cluster: encryptionConfig is nothing; expected { provider: { keyArn: <KMS key ARN> }, resources: ["secrets"] }',
    ]);
    expect(violations(eksSecretsEncrypted, resource("eks:index:Cluster", {}, "cluster-eks"))[0]).toMatch(/encryptionConfigKeyArn is not set/);
  });
});

describe("eks-endpoint-restricted", () => {
  it("passes a public endpoint limited to listed CIDRs, and a private-only endpoint", () => {
    expect(violations(eksEndpointRestricted, resource("eks:index:Cluster", { endpointPublicAccess: true, publicAccessCidrs: ["203.0.113.0/24"] }))).toEqual([]);
    expect(violations(eksEndpointRestricted, resource("aws:eks/cluster:Cluster", { vpcConfig: { endpointPublicAccess: false } }))).toEqual([]);
  });
  it("rejects an endpoint open to 0.0.0.0/0 or with no CIDR list", () => {
    expect(violations(eksEndpointRestricted, resource("aws:eks/cluster:Cluster", { vpcConfig: { endpointPublicAccess: true, publicAccessCidrs: ["0.0.0.0/0"] } }))[0]).toMatch(/contains 0.0.0.0\/0/);
    expect(violations(eksEndpointRestricted, resource("eks:index:Cluster", { endpointPublicAccess: true }))[0]).toMatch(/no publicAccessCidrs/);
  });
});

describe("kms-key-rotation", () => {
  it("passes a rotating symmetric key and an asymmetric signing key (cannot rotate)", () => {
    expect(violations(kmsKeyRotation, resource("aws:kms/key:Key", { enableKeyRotation: true }))).toEqual([]);
    expect(violations(kmsKeyRotation, resource("aws:kms/key:Key", { customerMasterKeySpec: "RSA_2048" }))).toEqual([]);
  });
  it("rejects a symmetric key without rotation", () => {
    expect(violations(kmsKeyRotation, resource("aws:kms/key:Key", { description: "secrets" }, "secrets"))).toEqual([
      "KMS key secrets: enableKeyRotation is nothing; expected true (yearly automatic rotation)",
    ]);
  });
});

describe("nodes-imdsv2-hop-limit-1", () => {
  const good = { metadataOptions: { httpEndpoint: "enabled", httpTokens: "required", httpPutResponseHopLimit: 1 } };
  it("passes IMDSv2 with hop limit 1 and a node group using a launch template", () => {
    expect(violations(nodesImdsv2, resource("aws:ec2/launchTemplate:LaunchTemplate", good))).toEqual([]);
    expect(violations(nodesImdsv2, resource("aws:eks/nodeGroup:NodeGroup", { launchTemplate: { id: "lt-1", version: "1" } }))).toEqual([]);
  });
  it("rejects IMDSv1 with hop limit 2 (pods can steal node credentials), a public interface, and a node group with EKS defaults", () => {
    const bad = { metadataOptions: { httpTokens: "optional", httpPutResponseHopLimit: 2 }, networkInterfaces: [{ associatePublicIpAddress: "true" }] };
    expect(violations(nodesImdsv2, resource("aws:ec2/launchTemplate:LaunchTemplate", bad))).toHaveLength(3);
    expect(violations(nodesImdsv2, resource("aws:eks/nodeGroup:NodeGroup", { subnetIds: ["s"] }, "ng"))[0]).toMatch(/node group ng: no launchTemplate/);
  });
});

describe("no-open-ingress", () => {
  it("passes ingress from the VPC and from a security group, and open egress", () => {
    const sg = { ingress: [{ protocol: "tcp", fromPort: 443, toPort: 443, cidrBlocks: ["10.40.0.0/16"] }], egress: [{ protocol: "-1", fromPort: 0, toPort: 0, cidrBlocks: ["0.0.0.0/0"] }] };
    expect(violations(noOpenIngress, resource("aws:ec2/securityGroup:SecurityGroup", sg))).toEqual([]);
    expect(violations(noOpenIngress, resource("aws:ec2/securityGroupRule:SecurityGroupRule", { type: "egress", cidrBlocks: ["0.0.0.0/0"] }))).toEqual([]);
  });
  it("rejects SSH from the internet on a group, a rule and a VPC ingress rule", () => {
    const sg = { ingress: [{ protocol: "tcp", fromPort: 22, toPort: 22, cidrBlocks: ["0.0.0.0/0"] }] };
    expect(violations(noOpenIngress, resource("aws:ec2/securityGroup:SecurityGroup", sg, "nodes"))).toEqual([
      "security group nodes: ingress tcp 22-22 from 0.0.0.0/0; expected only known CIDRs or security groups",
    ]);
    expect(violations(noOpenIngress, resource("aws:ec2/securityGroupRule:SecurityGroupRule", { type: "ingress", protocol: "tcp", fromPort: 9092, toPort: 9092, ipv6CidrBlocks: ["::/0"] }))).toHaveLength(1);
    expect(violations(noOpenIngress, resource("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", { ipProtocol: "tcp", fromPort: 22, toPort: 22, cidrIpv4: "0.0.0.0/0" }))).toHaveLength(1);
  });
});

describe("nodes-no-public-ip", () => {
  it("passes eks.Cluster with nodeAssociatePublicIpAddress false", () => {
    expect(violations(nodesNoPublicIp, resource("eks:index:Cluster", { nodeAssociatePublicIpAddress: false }))).toEqual([]);
  });
  it("rejects eks.Cluster left at its default (public IPs on nodes)", () => {
    expect(violations(nodesNoPublicIp, resource("eks:index:Cluster", {}, "cluster-eks"))[0]).toMatch(/nodeAssociatePublicIpAddress is undefined; expected false/);
  });
});

describe("node-groups-in-private-subnets (stack policy, follows property dependencies)", () => {
  const urn = (type: string, name: string) => `urn:pulumi:test::watchpipe::${type}::${name}`;
  function r(type: string, name: string, props: Props, deps: Record<string, string[]> = {}): StackResource {
    return { type, name, props, urn: urn(type, name), propertyDependencies: deps as unknown as StackResource["propertyDependencies"] };
  }
  const SUBNET = "aws:ec2/subnet:Subnet";
  const RT = "aws:ec2/routeTable:RouteTable";
  const ASSOC = "aws:ec2/routeTableAssociation:RouteTableAssociation";
  const IGW = "aws:ec2/internetGateway:InternetGateway";
  const NAT = "aws:ec2/natGateway:NatGateway";
  const NG = "aws:eks/nodeGroup:NodeGroup";
  const network = [
    r(IGW, "igw", {}),
    r(NAT, "nat", {}),
    r(SUBNET, "public-0", { mapPublicIpOnLaunch: false }),
    r(SUBNET, "private-0", { mapPublicIpOnLaunch: false }),
    r(RT, "public", { routes: [{ cidrBlock: "0.0.0.0/0" }] }, { routes: [urn(IGW, "igw")] }),
    r(RT, "private-0", { routes: [{ cidrBlock: "0.0.0.0/0" }] }, { routes: [urn(NAT, "nat")] }),
    r(ASSOC, "public-0", {}, { subnetId: [urn(SUBNET, "public-0")], routeTableId: [urn(RT, "public")] }),
    r(ASSOC, "private-0", {}, { subnetId: [urn(SUBNET, "private-0")], routeTableId: [urn(RT, "private-0")] }),
  ];
  function check(resources: StackResource[]): string[] {
    const found: string[] = [];
    nodeGroupsInPrivateSubnets.validateStack({ resources }, (m) => found.push(m));
    return found;
  }
  it("passes a node group in a subnet whose default route is a NAT gateway", () => {
    expect(check([...network, r(NG, "nodes-0", {}, { subnetIds: [urn(SUBNET, "private-0")] })])).toEqual([]);
  });
  it("rejects a node group in a public subnet (route table to the internet gateway)", () => {
    expect(check([...network, r(NG, "nodes-0", {}, { subnetIds: [urn(SUBNET, "public-0")] })])).toEqual([
      "node group nodes-0: subnet public-0 is public (its route table public routes to an internet gateway); expected private subnets only",
    ]);
  });
  it("rejects a node group in a subnet that maps public IPs, and one whose subnets come from outside the stack", () => {
    const mapping = [...network, r(SUBNET, "legacy", { mapPublicIpOnLaunch: true }), r(NG, "nodes-1", {}, { subnetIds: [urn(SUBNET, "legacy")] })];
    expect(check(mapping)[0]).toMatch(/subnet legacy is public \(it maps public IPs on launch\)/);
    expect(check([...network, r(NG, "nodes-2", { subnetIds: ["subnet-0123"] })])[0]).toMatch(/cannot be proven private/);
  });
});

describe("the pack", () => {
  it("lists every policy once, all mandatory, each with a description", () => {
    const names = policies.map((p) => p.name);
    expect(new Set(names).size).toBe(names.length);
    expect(names.length).toBeGreaterThanOrEqual(14);
    for (const p of policies) {
      expect(p.enforcementLevel, p.name).toBe("mandatory");
      expect(p.description.length, p.name).toBeGreaterThan(20);
    }
  });
});
