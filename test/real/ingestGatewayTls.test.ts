/**
 * The ingest gateway's Kafka client as the cluster runs it (issue 24): Camel produces to a SASL_SSL listener with
 * SCRAM-SHA-512, trusting the cluster CA from a PEM file and checking the broker's host name, with EXACTLY the
 * properties camelIngestProperties({ kafkaSecurity }) builds and the JAAS line in an environment variable spelled the
 * way Strimzi's KafkaUser Secret spells it. One KRaft broker here: a CA and a broker certificate for `localhost` made
 * with openssl, the SCRAM credential added when the storage is formatted, ACLs enforced with exactly the ones the
 * program grants the gateway's KafkaUser (components/kafka/kafkaAcls.ts). Checked: a batch lands keyed, stamped and
 * carrying the subject (read back over SASL_SSL too); with a wrong password Camel is live but not ready, a request is
 * answered 503 promptly and its log names the authentication failure; a client dialling an address the certificate
 * does not name is refused (host-name checking stays on). Skipped with the reason when the gateway, the Kafka jars or
 * openssl are missing.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { connect } from "node:tls";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Kafka, logLevel, type Admin } from "kafkajs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Acl } from "../../contract/acls";
import { KAFKA_USERS } from "../../contract/clients";
import { clientAcls } from "../../components/kafka/kafkaAcls";
import {
  CAMEL_LIVENESS_PATH,
  CAMEL_READINESS_PATH,
  INGEST_PATH,
  KAFKA_DELIVERY_TIMEOUT_MS,
  KAFKA_JAAS_CONFIG_ENV,
} from "../../contract/ingestGateway";
import { RAW_HEARTBEATS_TOPIC } from "../../contract/topics";
import { partitionForKey } from "../../ksql/ticks";
import { ACLS_ENFORCED, grantAcls } from "./kafka/acls";
import { scramTlsListener, scramUserArgs } from "./kafka/brokerConfig";
import { createTopicsReady } from "./kafka/admin";
import { startCluster, type KafkaTestCluster } from "./kafka/cluster";
import { missingKafkaJars } from "./kafka/paths";
import { makeBrokerTls, missingOpenssl, type TlsMaterial } from "./kafka/tls";
import { camelMetrics, missingGateway, type PostedHeartbeat, readRawHeartbeats, startGateway, type Gateway, type GatewayOptions } from "./ingest/gateway";
import { TEST_AUDIENCE, TEST_ISSUER, testIdp, type TestIdp } from "./ingest/tokens";

const missing = missingGateway() ?? missingKafkaJars() ?? missingOpenssl();
if (missing) console.warn(`[skipped] ingest gateway over TLS + SCRAM-SHA-512: ${missing}`);
const suite = missing ? describe.skip : describe;
// CI installs the gateway and has openssl: missing either there is a broken runner, not a reason to skip.
if (missing && process.env.CI === "true" && (missingGateway() ?? missingOpenssl())) {
  describe("ingest gateway over TLS: prerequisites", () => it("are installed (.ci/install-ingest-gateway.sh, openssl)", () => { throw new Error(`ingest gateway over TLS: ${missing}`); }));
}

/** The name clients dial and the broker certificate's only SAN (endpoint identification checks it). */
const BROKER_HOST = "localhost";
/** The KafkaUser the gateway's pod runs as (components/kafka/ingestGatewaySpecs.ts), with its ACLs from kafkaAcls.ts. */
const USER = KAFKA_USERS.bridge;
/** A second SCRAM user for reading the topic back over SASL_SSL (the gateway's user may only produce). */
const READER = "ingest-readback";
const READER_GROUP_PREFIX = "ingest-tls-readback";
const READER_ACLS: readonly Acl[] = [
  { resource: { type: "topic", name: RAW_HEARTBEATS_TOPIC, patternType: "literal" }, operations: ["Read", "Describe"] },
  { resource: { type: "group", name: READER_GROUP_PREFIX, patternType: "prefix" }, operations: ["Read", "Describe"] },
];
const LISTENER = "SASL_SSL";
const PARTITIONS = 12;
/** This suite's ports (issue 24's TLS run); the plaintext gateway suite uses the rest of 19600-19799. */
const PORTS: readonly [number, number] = [19700, 19799];
const CLUSTER_READY_MS = 300_000;
/** A refused write must come back as Camel's 503, well before Envoy's route timeout would turn it into a 504. */
const REFUSAL_BOUND_MS = KAFKA_DELIVERY_TIMEOUT_MS + 5_000;

/** Strimzi's User Operator writes a 32-character alphanumeric SCRAM password by default. */
const strimziPassword = () => randomBytes(48).toString("base64").replace(/[^A-Za-z0-9]/g, "").slice(0, 32);
/** The `sasl.jaas.config` key of a Strimzi KafkaUser Secret, byte for byte in shape. */
const strimziJaas = (user: string, password: string) => `org.apache.kafka.common.security.scram.ScramLoginModule required username="${user}" password="${password}";`;

type Heartbeat = PostedHeartbeat;
const hb = (user: string, video: string, seq: number): Heartbeat => ({ user_id: user, video_id: video, position_sec: seq * 5, event_ts: 1_764_990_000_000 + seq * 5000, sent_at: 1_764_990_000_000 + seq * 5000 + 700, seq });
const body = (records: readonly unknown[]) => JSON.stringify({ records: records.map((value) => ({ value })) });

suite("ingest gateway → Kafka over TLS + SCRAM-SHA-512 (the cluster's client settings) on a real broker", () => {
  let dir: string;
  let tls: TlsMaterial;
  let cluster: KafkaTestCluster;
  let idp: TestIdp;
  let admin: Admin;
  let gw: Gateway;
  const password = strimziPassword();
  const readerPassword = strimziPassword();

  const gatewayOptions = (bootstrapServers: string, jaas: string, awaitKafkaReady = true): GatewayOptions => ({
    bootstrapServers,
    issuer: TEST_ISSUER,
    audiences: [TEST_AUDIENCE],
    jwks: { kind: "file", path: idp.jwksFile },
    kafkaSecurity: { caFile: tls.caFile, jaasConfigEnv: KAFKA_JAAS_CONFIG_ENV },
    camelEnv: { [KAFKA_JAAS_CONFIG_ENV]: jaas },
    portRange: PORTS,
    awaitKafkaReady,
  });

  /** Status and body of one of Camel's health endpoints. */
  async function probe(g: Gateway, path: string): Promise<string> {
    const res = await fetch(`${g.camelManagementUrl}${path}`, { signal: AbortSignal.timeout(10_000) });
    return `${res.status} ${await res.text()}`;
  }

  /** A gateway that cannot use Kafka: live, not ready (the pod takes no traffic), and still answers 503 if asked. */
  async function expectNotReady(g: Gateway): Promise<void> {
    expect(await probe(g, CAMEL_LIVENESS_PATH)).toMatch(/^200 /);
    expect(await probe(g, CAMEL_READINESS_PATH)).toMatch(/^503 [\s\S]*KafkaProducer is not ready/);
  }

  async function post(g: Gateway, user: string, records: readonly Heartbeat[]): Promise<{ status: number; text: string; ms: number }> {
    const t0 = Date.now();
    const res = await fetch(`${g.url}${INGEST_PATH}`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${idp.token({ sub: user })}` },
      body: body(records),
      signal: AbortSignal.timeout(90_000),
    });
    return { status: res.status, text: await res.text(), ms: Date.now() - t0 };
  }

  async function topicSize(): Promise<number> {
    return (await admin.fetchTopicOffsets(RAW_HEARTBEATS_TOPIC)).reduce((n, o) => n + Number(o.high), 0);
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "watchpipe-ingest-tls-"));
    tls = makeBrokerTls(dir, BROKER_HOST);
    idp = testIdp(join(dir, "jwks.json"));
    cluster = await startCluster({
      nodes: 1,
      readyTimeoutMs: CLUSTER_READY_MS,
      extraListener: scramTlsListener(LISTENER, BROKER_HOST, tls.brokerKeystoreFile),
      // The credential exists before the broker first starts, as the User Operator's does before a client connects.
      formatArgs: scramUserArgs([{ name: USER, password }, { name: READER, password: readerPassword }]),
      // One broker: internal topics and defaults at RF 1 (the 3-broker suite covers acks=all with min ISR 2).
      extraConfig: {
        ...ACLS_ENFORCED,
        "default.replication.factor": 1,
        "min.insync.replicas": 1,
        "offsets.topic.replication.factor": 1,
        "transaction.state.log.replication.factor": 1,
        "transaction.state.log.min.isr": 1,
      },
    });
    await createTopicsReady(cluster.brokers, [{
      topic: RAW_HEARTBEATS_TOPIC,
      numPartitions: PARTITIONS,
      replicationFactor: 1,
      configEntries: [{ name: "min.insync.replicas", value: "1" }, { name: "message.timestamp.type", value: "LogAppendTime" }],
    }]);
    // The gateway's user gets exactly the cluster's ACLs for it (produce to heartbeats_raw; no IdempotentWrite).
    await grantAcls(cluster.brokers, USER, clientAcls().bridge);
    await grantAcls(cluster.brokers, READER, READER_ACLS);
    admin = new Kafka({ clientId: "ingest-tls-admin", brokers: [...cluster.brokers], logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    const t0 = Date.now();
    // Returns once Camel is ready: its producer authenticated to the broker before any request.
    gw = await startGateway(gatewayOptions(cluster.extraBootstrap!, strimziJaas(USER, password)));
    console.log(`gateway (SASL_SSL to ${cluster.extraBootstrap}) ready in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }, 600_000);

  afterAll(async () => {
    await admin?.disconnect();
    await gw?.stop();
    await cluster?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 120_000);

  it("writes a token's own batch over SASL_SSL: keyed user_id|video_id, stamped by the broker, subject carried; read back over SASL_SSL", async () => {
    const before = Date.now();
    const sent = [hb("u-tls", "v-1", 1), hb("u-tls", "v-1", 2), hb("u-tls", "v-2", 3)];
    const a = await post(gw, "u-tls", sent);
    expect(a.status, a.text).toBe(200);
    console.log(`first batch over SASL_SSL answered 200 in ${a.ms} ms`);
    const offsets = (JSON.parse(a.text) as { offsets: { partition: number; offset: number }[] }).offsets;
    expect(offsets.map((o) => o.partition)).toEqual(sent.map((h) => partitionForKey(`${h.user_id}|${h.video_id}`, PARTITIONS)));

    // The read-back client speaks only SASL_SSL too: same CA, the broker's advertised host name, its own SCRAM user.
    const kafka = new Kafka({
      clientId: "ingest-tls-readback",
      brokers: cluster.extraBootstrap!.split(","),
      ssl: { ca: [readFileSync(tls.caFile, "utf8")] },
      sasl: { mechanism: "scram-sha-512", username: READER, password: readerPassword },
      logLevel: logLevel.NOTHING,
    });
    const got = await readRawHeartbeats(kafka, `${READER_GROUP_PREFIX}-${Date.now()}`, sent.length);
    expect(got).toHaveLength(sent.length);
    for (const h of sent) {
      const r = got.find((g) => g.value.seq === h.seq);
      expect(r, `heartbeat seq ${h.seq}`).toBeDefined();
      expect(r!.key).toBe(`${h.user_id}|${h.video_id}`);
      expect(r!.partition).toBe(partitionForKey(r!.key, PARTITIONS));
      expect(r!.value).toEqual(h);
      expect(r!.sub).toBe("u-tls");
      expect(r!.timestamp).toBeGreaterThanOrEqual(before - 1000); // the broker's append time, not event_ts
    }
    // The JAAS line came from the environment through {{env:…}}; neither Camel nor the Kafka client logs the password.
    const log = readFileSync(gw.camelLog, "utf8");
    expect(log).toContain("security.protocol = SASL_SSL");
    expect(log).not.toContain(password);
  });

  it("enforces the ACLs it ran under: the gateway's user may produce to heartbeats_raw and nothing more", async () => {
    const asGateway = new Kafka({
      clientId: "ingest-tls-as-gateway",
      brokers: cluster.extraBootstrap!.split(","),
      ssl: { ca: [readFileSync(tls.caFile, "utf8")] },
      sasl: { mechanism: "scram-sha-512", username: USER, password },
      logLevel: logLevel.NOTHING,
      retry: { retries: 0 },
    }).admin();
    await asGateway.connect();
    try {
      const refused = await asGateway.createTopics({ topics: [{ topic: "gateway-may-not-create", numPartitions: 1, replicationFactor: 1 }] }).then(
        () => "created",
        // kafkajs wraps per-topic errors in an aggregate ("Topic creation errors"); their `type` is Kafka's error code.
        (e: Error & { type?: string; errors?: { type?: string }[] }) => e.errors?.map((x) => x.type).join(",") ?? e.type ?? e.message,
      );
      console.log(`gateway user creating a topic: ${refused}`);
      expect(refused).toMatch(/AUTHORIZATION_FAILED/);
    } finally {
      await asGateway.disconnect();
    }
  });

  it("is not ready with a wrong SCRAM password, answers 503 promptly if asked, writes nothing, and its log names the authentication failure", async () => {
    const sizeBefore = await topicSize();
    const bad = await startGateway(gatewayOptions(cluster.extraBootstrap!, strimziJaas(USER, `${password}-wrong`), false));
    try {
      const a = await post(bad, "u-tls", [hb("u-tls", "v-9", 90)]);
      console.log(`wrong password: ${a.status} in ${a.ms} ms`);
      expect(a.status, a.text).toBe(503);
      expect((JSON.parse(a.text) as { message: string }).message).toBe("kafka: write failed, retry the request");
      expect(a.ms).toBeLessThan(REFUSAL_BOUND_MS);
      const log = readFileSync(bad.camelLog, "utf8");
      expect(log).toMatch(/SaslAuthenticationException|Authentication failed/);
      expect(log).toMatch(/invalid credentials with SASL mechanism SCRAM-SHA-512/);
      expect(log).not.toContain(password);
      await expectNotReady(bad);
      const m = await camelMetrics(bad);
      expect([...m.entries()].find(([k]) => k.startsWith("watchpipe_ingest_refused_total") && k.includes('reason="kafka"'))?.[1]).toBe(1);
    } finally {
      await bad.stop();
    }
    expect(await topicSize()).toBe(sizeBefore);
  });

  it("refuses the broker when dialled by an address its certificate does not name (host-name checking stays on)", async () => {
    // The certificate names only BROKER_HOST: a TLS client checking names refuses 127.0.0.1 with the same CA.
    const port = cluster.nodes[0]!.extraPort!;
    const nodeTls = await new Promise<string>((resolve) => {
      const s = connect({ host: "127.0.0.1", port, ca: readFileSync(tls.caFile, "utf8") }, () => { s.end(); resolve("connected"); });
      s.once("error", (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
    });
    expect(nodeTls).toBe("ERR_TLS_CERT_ALTNAME_INVALID");
    const sizeBefore = await topicSize();
    const byIp = cluster.nodes.map((n) => `127.0.0.1:${n.extraPort!}`).join(",");
    const wrongName = await startGateway(gatewayOptions(byIp, strimziJaas(USER, password), false));
    try {
      const a = await post(wrongName, "u-tls", [hb("u-tls", "v-8", 80)]);
      console.log(`broker dialled by IP: ${a.status} in ${a.ms} ms`);
      expect(a.status, a.text).toBe(503);
      expect(a.ms).toBeLessThan(REFUSAL_BOUND_MS);
      expect(readFileSync(wrongName.camelLog, "utf8")).toMatch(/SslAuthenticationException - SSL handshake failed/);
      await expectNotReady(wrongName);
    } finally {
      await wrongName.stop();
    }
    expect(await topicSize()).toBe(sizeBefore);
  });
});
