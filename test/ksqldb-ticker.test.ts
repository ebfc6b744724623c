/**
 * The session tick source: its records hit every `heartbeats` partition keyed exactly user_id|video_id, its producer
 * properties are durable and authenticated, its KafkaUser may only produce to heartbeats_raw, its pod reaches the
 * brokers' TLS port only, and its script (POSIX sh, run here with a stand-in producer that records what it reads)
 * feeds one long-lived producer and stops when that producer dies. The real producer against real brokers:
 * test/real/sessionTicker.test.ts.
 */
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync, chmodSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SessionTicker } from "../components/stream/sessionTicker";
import {
  NOW_TOKEN,
  SESSION_TICKER_IMAGE,
  sessionTickerDeploymentSpec,
  TICK_KEY_SEPARATOR,
  TICKER_ALIVE_FILE,
  TICKER_PID_FILE,
  tickerConfigMapData,
  tickerEnv,
  tickerLivenessCommand,
  tickerProducerProperties,
  tickerStaleAfterSec,
  tickRecordsTemplate,
} from "../components/stream/sessionTickerSpecs";
import { clientAcls, kafkaUserManifests } from "../components/kafka/kafkaAcls";
import { KAFKA_CA_FILE } from "../components/stream/streamingSpecs";
import { KAFKA_CLIENT_LABEL, KAFKA_TLS_PORT, KAFKA_USERS } from "../contract/clients";
import { RAW_HEARTBEATS_TOPIC } from "../contract/topics";
import { TICK_USER_ID } from "../contract/sessionization";
import { partitionForKey } from "../ksql/ticks";
import { containersOf, runComponents, stackAppConfig, STACKS } from "./ksqldb.mocks";

interface TickValue {
  user_id: string;
  video_id: string;
  position_sec: number;
  event_ts: number;
}

/** Lines of the console producer's keyed input (`key<TAB>value`) as key and parsed value. */
function parseLines(text: string, now?: string): { key: string; value: TickValue }[] {
  return text
    .trim()
    .split("\n")
    .map((line) => {
      const at = line.indexOf(TICK_KEY_SEPARATOR);
      const raw = now === undefined ? line.slice(at + 1) : line.slice(at + 1).replaceAll(NOW_TOKEN, now);
      return { key: line.slice(0, at), value: JSON.parse(raw) as TickValue };
    });
}

describe("tick records", () => {
  it.each([1, 3, 12, 60])("with %i partitions: one record per partition, each keyed onto its own partition", (n) => {
    const records = parseLines(tickRecordsTemplate(n), "1700000000000");
    expect(records).toHaveLength(n);
    const partitions = records.map((r) => partitionForKey(r.key, n));
    expect(new Set(partitions).size).toBe(n);
    for (const r of records) {
      // V000004 rejects a record whose key is not exactly user_id|video_id; the partitioner hashes those bytes.
      expect(r.key).toBe(`${r.value.user_id}|${r.value.video_id}`);
      expect(r.value.user_id).toBe(TICK_USER_ID);
      expect(r.value.event_ts).toBe(1_700_000_000_000);
      expect(r.value.position_sec).toBe(0);
    }
  });

  it("no key or value contains the separator a second time (the reader splits at the first tab)", () => {
    for (const line of tickRecordsTemplate(60).trim().split("\n")) expect(line.split(TICK_KEY_SEPARATOR)).toHaveLength(2);
  });
});

describe("the ticker's producer and KafkaUser", () => {
  it("produces with acks=all, idempotence and unbounded retries within a delivery timeout, over SASL_SSL + SCRAM-SHA-512", () => {
    const p = tickerProducerProperties();
    expect(p).toMatchObject({
      acks: "all",
      "enable.idempotence": "true",
      retries: "2147483647",
      "delivery.timeout.ms": "120000",
      "security.protocol": "SASL_SSL",
      "sasl.mechanism": "SCRAM-SHA-512",
      "ssl.truststore.type": "PEM",
      "ssl.truststore.location": KAFKA_CA_FILE,
      "ssl.endpoint.identification.algorithm": "https",
    });
    expect(Number(p["max.in.flight.requests.per.connection"])).toBeLessThanOrEqual(5);
  });

  it("reads its JAAS line from the environment at start: the ConfigMap holds no credential", () => {
    const p = tickerProducerProperties();
    expect(p["sasl.jaas.config"]).toBe("${env:KAFKA_SASL_JAAS_CONFIG}");
    expect(p["config.providers.env.class"]).toBe("org.apache.kafka.common.config.provider.EnvVarConfigProvider");
    const props = tickerConfigMapData({ namespace: "kafka", heartbeatPartitions: 3, tickIntervalSec: 10 })["producer.properties"];
    expect(props).not.toMatch(/password/i);
    expect(props).toContain("sasl.jaas.config=${env:KAFKA_SASL_JAAS_CONFIG}\n");
  });

  it("its KafkaUser may write (and describe) heartbeats_raw and nothing else: no group, no other topic, no cluster right", () => {
    expect(clientAcls().sessionTicker).toEqual([
      { resource: { type: "topic", name: RAW_HEARTBEATS_TOPIC, patternType: "literal" }, operations: ["Write", "Describe"] },
    ]);
    const user = kafkaUserManifests("kafka").find((u) => u.client === "sessionTicker")!.manifest;
    expect(user.metadata.name).toBe(KAFKA_USERS.sessionTicker);
    expect(user.spec.authentication).toEqual({ type: "scram-sha-512" });
    expect(user.spec.authorization.acls).toEqual([
      { type: "allow", resource: { type: "topic", name: RAW_HEARTBEATS_TOPIC, patternType: "literal" }, operations: ["Write", "Describe"] },
    ]);
  });
});

describe.each(STACKS)("session ticker on the %s stack", (stack) => {
  it("runs one non-root pod of the pinned Strimzi Kafka image as its KafkaUser, config in a hash-named ConfigMap", async () => {
    const c = stackAppConfig(stack);
    const run = await runComponents((provider) => {
      new SessionTicker("session-ticker", {
        namespace: c.kafka.namespace,
        heartbeatPartitions: 6,
        tickIntervalSec: c.sessionization.tickIntervalSec,
        provider,
        dependsOn: [],
      });
    });
    const deployment = run.one("kubernetes:apps/v1:Deployment");
    const [container] = containersOf(deployment);
    const pod = deployment.inputs.spec.template.spec;
    expect(deployment.inputs.spec.replicas).toBe(1);
    expect(container.image).toBe(SESSION_TICKER_IMAGE);
    expect(SESSION_TICKER_IMAGE).toBe("quay.io/strimzi/kafka:1.2.0-kafka-4.3.1");
    expect(pod.securityContext.runAsNonRoot).toBe(true);
    expect(pod.securityContext.runAsUser).toBeGreaterThan(0);
    expect(container.securityContext.readOnlyRootFilesystem).toBe(true);
    expect(pod.enableServiceLinks).toBe(false);
    expect(deployment.inputs.spec.template.metadata.labels).toMatchObject(KAFKA_CLIENT_LABEL);
    expect(container.env).toContainEqual({ name: "INTERVAL_SEC", value: String(c.sessionization.tickIntervalSec) });
    expect(container.env).toContainEqual({ name: "BOOTSTRAP_SERVERS", value: `events-kafka-bootstrap.${c.kafka.namespace}.svc:${KAFKA_TLS_PORT}` });
    expect(container.env).toContainEqual({ name: "KAFKA_SASL_JAAS_CONFIG", valueFrom: { secretKeyRef: { name: "session-ticker", key: "sasl.jaas.config" } } });
    expect(pod.volumes).toContainEqual({ name: "kafka-ca", secret: { secretName: "events-cluster-ca-cert", items: [{ key: "ca.crt", path: "ca.crt" }] } });
    expect(container.livenessProbe.exec.command.join(" ")).toContain(`kill -0 "$(cat ${TICKER_PID_FILE})"`);
    expect(container.livenessProbe.exec.command.join(" ")).toContain(TICKER_ALIVE_FILE);
    const cm = run.one("kubernetes:core/v1:ConfigMap");
    expect(cm.inputs.metadata.name).toMatch(/^session-ticker-[0-9a-f]{10}$/);
    expect(pod.volumes.find((v: { configMap?: { name: string } }) => v.configMap)?.configMap.name).toBe(cm.inputs.metadata.name);
  });

  it("its pod may reach the brokers' TLS port and DNS, nothing else", async () => {
    const c = stackAppConfig(stack);
    const run = await runComponents((provider) => {
      new SessionTicker("session-ticker", { namespace: c.kafka.namespace, heartbeatPartitions: 6, tickIntervalSec: 10, provider, dependsOn: [] });
    });
    const spec = run.one("kubernetes:networking.k8s.io/v1:NetworkPolicy").inputs.spec;
    expect(spec.podSelector).toEqual({ matchLabels: { "app.kubernetes.io/name": "session-ticker" } });
    expect(spec.policyTypes).toEqual(["Egress"]);
    expect(spec.egress).toEqual([
      { to: [{ podSelector: { matchLabels: { "strimzi.io/cluster": "events", "strimzi.io/kind": "Kafka" } } }], ports: [{ protocol: "TCP", port: KAFKA_TLS_PORT }] },
      {
        to: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kube-system" } }, podSelector: { matchLabels: { "k8s-app": "kube-dns" } } }],
        ports: [{ protocol: "UDP", port: 53 }, { protocol: "TCP", port: 53 }],
      },
    ]);
  });
});

/**
 * The script as the ConfigMap carries it, with a stand-in for kafka-console-producer.sh: a sh script that writes its
 * pid and arguments and copies its input to files (or dies after reading a given number of lines).
 */
describe("the tick script feeding one long-lived producer (stand-in producer)", () => {
  const PARTITIONS = 6;
  let dir: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "session-ticker-"));
    const data = tickerConfigMapData({ namespace: "kafka", heartbeatPartitions: PARTITIONS, tickIntervalSec: 1 });
    for (const [name, text] of Object.entries(data)) writeFileSync(join(dir, name), text);
    writeFileSync(
      join(dir, "producer.sh"),
      `#!/bin/sh
echo $$ > "${dir}/producer-pid"
printf '%s\\n' "$@" > "${dir}/producer-args"
: > "${dir}/producer-input"
n=0
while IFS= read -r line; do
  printf '%s\\n' "$line" >> "${dir}/producer-input"
  n=$((n + 1))
  if [ -n "\${DIE_AFTER:-}" ] && [ "$n" -ge "$DIE_AFTER" ]; then exit 3; fi
done
exit 0
`,
    );
    chmodSync(join(dir, "producer.sh"), 0o755);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  function runScript(extra: Record<string, string>, timeoutMs = 30_000): Promise<{ code: number; out: string; ms: number }> {
    const env = {
      ...tickerEnv({ namespace: "kafka", heartbeatPartitions: PARTITIONS, tickIntervalSec: 1 }),
      RECORDS_FILE: join(dir, "records.tsv"),
      PROPERTIES_FILE: join(dir, "producer.properties"),
      PRODUCER_BIN: join(dir, "producer.sh"),
      ALIVE_FILE: join(dir, "alive"),
      PID_FILE: join(dir, "pid"),
      PATH: "/usr/bin:/bin",
      ...extra,
    };
    const t0 = Date.now();
    return new Promise((resolve) => {
      execFile("sh", [join(dir, "tick.sh")], { env, timeout: timeoutMs }, (error, stdout, stderr) => {
        resolve({ code: error ? (typeof error.code === "number" ? error.code : 1) : 0, out: stdout + stderr, ms: Date.now() - t0 });
      });
    });
  }

  it("hands the producer one keyed line per partition per tick, event_ts = now, then EOF after TICKS ticks", async () => {
    const before = Date.now();
    const r = await runScript({ TICKS: "3" });
    expect(r.code, r.out).toBe(0);
    const lines = parseLines(readFileSync(join(dir, "producer-input"), "utf8"));
    expect(lines).toHaveLength(3 * PARTITIONS);
    for (let t = 0; t < 3; t++) {
      const tick = lines.slice(t * PARTITIONS, (t + 1) * PARTITIONS);
      expect(new Set(tick.map((l) => partitionForKey(l.key, PARTITIONS)))).toEqual(new Set([0, 1, 2, 3, 4, 5]));
      expect(new Set(tick.map((l) => l.value.event_ts)).size).toBe(1);
    }
    for (const l of lines) {
      expect(l.key).toBe(`${l.value.user_id}|${l.value.video_id}`);
      expect(l.value.event_ts).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000);
      expect(l.value.event_ts).toBeLessThanOrEqual(Date.now());
    }
    // One producer for the whole run, with the cluster's bootstrap, the raw topic, the properties and keyed input.
    expect(readFileSync(join(dir, "producer-args"), "utf8").trim().split("\n")).toEqual([
      "--bootstrap-server", "events-kafka-bootstrap.kafka.svc:9093",
      "--topic", RAW_HEARTBEATS_TOPIC,
      "--command-config", join(dir, "producer.properties"),
      "--reader-property", "parse.key=true",
    ]);
    expect(readFileSync(join(dir, "pid"), "utf8").trim()).toBe(readFileSync(join(dir, "producer-pid"), "utf8").trim());
    expect(existsSync(join(dir, "alive"))).toBe(true);
    expect(r.out).toMatch(new RegExp(`tick 3: ${PARTITIONS} records to the producer at event_ts \\d{13}`));
  });

  it("exits 1 within about one interval when the producer dies, naming it (the pod restarts)", async () => {
    const r = await runScript({ DIE_AFTER: String(PARTITIONS + 1) });
    expect(r.code, r.out).toBe(1);
    expect(r.out).toContain("the producer exited (status 3); exiting so the pod restarts it");
    expect(r.ms).toBeLessThan(15_000);
  });

  it("the liveness command fails on a dead producer or a stale loop, passes on a live one with a fresh tick", async () => {
    const pidFile = join(dir, "probe-pid");
    const aliveFile = join(dir, "probe-alive");
    const [cmd, ...args] = tickerLivenessCommand(10, pidFile, aliveFile);
    const probe = () => new Promise<number>((resolve) => execFile(cmd, args, (error) => resolve(error ? 1 : 0)));
    writeFileSync(pidFile, String(process.pid));
    writeFileSync(aliveFile, "");
    expect(await probe()).toBe(0);
    const stale = new Date(Date.now() - tickerStaleAfterSec(10) * 1000 - 5000);
    utimesSync(aliveFile, stale, stale);
    expect(await probe()).toBe(1);
    writeFileSync(aliveFile, "");
    expect(await probe()).toBe(0);
    // A pid that does not exist: the producer is gone though the loop's file is fresh.
    writeFileSync(pidFile, "4194303");
    expect(await probe()).toBe(1);
  });

  it("the Deployment's probe is that command, started after one stale period", () => {
    const spec = sessionTickerDeploymentSpec({ namespace: "kafka", heartbeatPartitions: PARTITIONS, tickIntervalSec: 10 }, "cm") as {
      template: { spec: { containers: { livenessProbe: { exec: { command: string[] }; initialDelaySeconds: number } }[] } };
    };
    const probe = spec.template.spec.containers[0].livenessProbe;
    expect(probe.exec.command).toEqual(tickerLivenessCommand(10));
    expect(probe.initialDelaySeconds).toBe(tickerStaleAfterSec(10));
  });
});
