/**
 * Metric names proven on real servers: three KRaft nodes (broker + controller) and a Kafka Connect worker run with
 * the JMX exporter java agent (Maven Central, 1.0.1) and the exact exporter rules the cluster gets
 * (components/kafka/kafkaMetrics.ts, components/ops/connectMetrics.ts); a real Prometheus v3.14.0 (Go module proxy)
 * on 127.0.0.1 scrapes them and loads the alert rules. Every catalogued name from brokers, controllers, Connect and
 * Prometheus itself must exist there, and every rule must evaluate without error. Traffic first: per-topic, sink-task
 * and consumer-lag metrics only exist once records flow (a FileStreamSink connector consumes a topic).
 *
 * Tools come from .ci/install-monitoring-tools.sh; missing ones skip locally and fail under CI=true.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync, openSync, closeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Kafka, logLevel } from "kafkajs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { alertRuleGroups } from "../../components/ops/alertRules";
import { CONNECT_JMX_EXPORTER_RULES } from "../../components/ops/connectMetrics";
import { METRICS, SOURCES_PROVEN_HERE } from "../../components/ops/metrics";
import { KAFKA_JMX_EXPORTER_RULES } from "../../components/kafka/kafkaMetrics";
import { CASE_ARGS } from "../alerts/cases";
import { JMX_EXPORTER_AGENT, missingTools, PROMETHEUS } from "../monitoringTools";
import { createTopicsReady } from "./kafka/admin";
import { startCluster, type KafkaTestCluster } from "./kafka/cluster";
import { startConnectWorker, type ConnectWorker } from "./kafka/connect";
import { freePorts, tailLog, waitUntil } from "./kafka/jvm";
import { missingKafkaJars } from "./kafka/paths";

const missing = missingTools([PROMETHEUS, JMX_EXPORTER_AGENT]) ?? missingKafkaJars() ?? undefined;
const isCi = process.env.CI === "true";
if (missing && !isCi) console.warn(`[skipped] metric names on real servers: ${missing}`);
const suite = missing && !isCi ? describe.skip : describe;

/** Topics the pipeline's rules name, so their per-topic series exist. */
const TOPICS = ["heartbeats_raw", "heartbeats", "watch_segments", "watch_segments_dlq"];
const SINK = "monitoring-file-sink";
/** Scrape faster than production (30 s) so the test does not wait; a JMX scrape of a busy broker can take seconds. */
const SCRAPE_INTERVAL = "5s";

suite("metric names on real brokers and Connect (JMX exporter agent + Prometheus)", () => {
  const dir = mkdtempSync(join(tmpdir(), "watchpipe-monitoring-"));
  let cluster: KafkaTestCluster | undefined;
  let connect: ConnectWorker | undefined;
  let prometheus: ChildProcess | undefined;
  let promUrl = "";
  const promLog = join(dir, "prometheus.log");

  beforeAll(async () => {
    expect(missing, "CI=true needs the monitoring tools: run .ci/install-monitoring-tools.sh").toBeUndefined();
    const brokerRules = join(dir, "kafka-metrics.yml");
    const connectRules = join(dir, "connect-metrics.yml");
    writeFileSync(brokerRules, KAFKA_JMX_EXPORTER_RULES);
    writeFileSync(connectRules, CONNECT_JMX_EXPORTER_RULES);
    const [p1, p2, p3, pc, pp] = (await freePorts(5)) as [number, number, number, number, number];
    const brokerPorts = [p1, p2, p3];
    const agent = (port: number, rules: string) => `-javaagent:${JMX_EXPORTER_AGENT}=127.0.0.1:${port}:${rules}`;

    cluster = await startCluster({ jvmArgsFor: (id) => [agent(brokerPorts[id - 1]!, brokerRules)] });
    const kafka = new Kafka({ clientId: "monitoring-test", brokers: [...cluster.brokers], logLevel: logLevel.NOTHING, retry: { retries: 10 } });
    await createTopicsReady(cluster.brokers, TOPICS.map((topic) => ({ topic, numPartitions: 3, replicationFactor: 3 })));
    const producer = kafka.producer();
    await producer.connect();
    for (const topic of TOPICS) {
      await producer.send({ topic, acks: -1, messages: Array.from({ length: 50 }, (_, i) => ({ key: `k${i}`, value: `v${i}` })) });
    }
    await producer.disconnect();

    connect = await startConnectWorker({ bootstrap: cluster.bootstrap, extraJvmArgs: [agent(pc, connectRules)] });
    await connect.createConnector(SINK, {
      "connector.class": "org.apache.kafka.connect.file.FileStreamSinkConnector",
      "tasks.max": "1",
      topics: "watch_segments",
      file: join(dir, "sink.out"),
      "key.converter": "org.apache.kafka.connect.storage.StringConverter",
      "value.converter": "org.apache.kafka.connect.storage.StringConverter",
      "errors.tolerance": "all",
      "errors.deadletterqueue.topic.name": "watch_segments_dlq",
      "errors.deadletterqueue.topic.replication.factor": "3",
    });
    await connect.waitForConnectorRunning(SINK, { minTasks: 1 });

    const config = {
      global: { scrape_interval: SCRAPE_INTERVAL, evaluation_interval: SCRAPE_INTERVAL },
      rule_files: [join(dir, "rules.yml")],
      scrape_configs: [
        {
          job_name: "kafka",
          static_configs: brokerPorts.map((port, i) => ({
            targets: [`127.0.0.1:${port}`],
            labels: { namespace: CASE_ARGS.kafkaNamespace, pod: `node-${i + 1}`, watchpipe_component: "kafka-broker" },
          })),
        },
        {
          job_name: "connect",
          static_configs: [{ targets: [`127.0.0.1:${pc}`], labels: { namespace: CASE_ARGS.kafkaNamespace, pod: "connect-0", watchpipe_component: "kafka-connect" } }],
        },
      ],
    };
    writeFileSync(join(dir, "rules.yml"), stringify({ groups: alertRuleGroups(CASE_ARGS) }));
    writeFileSync(join(dir, "prometheus.yml"), stringify(config));
    promUrl = `http://127.0.0.1:${pp}`;
    const fd = openSync(promLog, "a");
    prometheus = spawn(PROMETHEUS, [
      `--config.file=${join(dir, "prometheus.yml")}`,
      `--storage.tsdb.path=${join(dir, "tsdb")}`,
      `--web.listen-address=127.0.0.1:${pp}`,
    ], { stdio: ["ignore", fd, fd] });
    closeSync(fd);
    await waitUntil("Prometheus ready", 60_000, async () => (await fetch(`${promUrl}/-/ready`)).ok);
  }, 420_000);

  afterAll(async () => {
    prometheus?.kill("SIGTERM");
    await connect?.stop();
    await cluster?.stop();
    rmSync(dir, { recursive: true, force: true });
  }, 120_000);

  async function namesInPrometheus(): Promise<Set<string>> {
    const body = (await (await fetch(`${promUrl}/api/v1/label/__name__/values`)).json()) as { data: string[] };
    return new Set(body.data);
  }

  it("every catalogued broker, controller, Connect and Prometheus metric name exists on the real servers", async () => {
    const expected = Object.entries(METRICS).filter(([, m]) => SOURCES_PROVEN_HERE.includes(m.source)).map(([n]) => n).sort();
    let absent: string[] = expected;
    try {
      await waitUntil("every catalogued name scraped", 120_000, async () => {
        const names = await namesInPrometheus();
        absent = expected.filter((n) => !names.has(n));
        return absent.length === 0;
      });
    } catch {
      // fall through to the assertion, which names what is missing
    }
    expect(absent, `names missing on the real servers (Prometheus log: ${tailLog(promLog).slice(-500)})`).toEqual([]);
    console.log(`[monitoring] ${expected.length} metric names proven on real brokers/Connect: ${expected.join(", ")}`);
  }, 180_000);

  it("all targets are up and every alert rule evaluates without error in the real Prometheus", async () => {
    await waitUntil("rules evaluated", 60_000, async () => {
      const body = (await (await fetch(`${promUrl}/api/v1/rules`)).json()) as { data: { groups: { rules: { health: string; lastError?: string; name: string }[] }[] } };
      const rules = body.data.groups.flatMap((g) => g.rules);
      return rules.length > 0 && rules.every((r) => r.health === "ok");
    });
    let up: string[] = [];
    await waitUntil("all four targets up", 90_000, async () => {
      const body = (await (await fetch(`${promUrl}/api/v1/query?query=up`)).json()) as { data: { result: { value: [number, string] }[] } };
      up = body.data.result.map((r) => r.value[1]);
      return up.length === 4 && up.every((v) => v === "1");
    }).catch(() => undefined);
    expect(up).toEqual(["1", "1", "1", "1"]);
    // A healthy cluster with a running sink: none of the Kafka/Connect alerts may be pending or firing. A scrape taken
    // while the brokers were still electing a controller can leave one pending for an evaluation or two; it must clear.
    let kafkaOrConnect: string[] = [];
    await waitUntil("no Kafka/Connect alert pending or firing", 60_000, async () => {
      const alerts = (await (await fetch(`${promUrl}/api/v1/alerts`)).json()) as { data: { alerts: { labels: { alertname: string }; state: string }[] } };
      kafkaOrConnect = alerts.data.alerts
        .filter((a) => /^(Kafka(Offline|UnderMin|UnderReplicated|NoActive)|Connect)/.test(a.labels.alertname))
        .map((a) => `${a.labels.alertname} ${a.state}`);
      return kafkaOrConnect.length === 0;
    }).catch(() => undefined);
    expect(kafkaOrConnect).toEqual([]);
  }, 200_000);
});
