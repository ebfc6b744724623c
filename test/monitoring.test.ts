/**
 * Monitoring as policies: prod renders the pinned kube-prometheus-stack, the PodMonitors, the PrometheusRule and the
 * dashboards, each custom resource valid against the Prometheus Operator 0.93.1 CRDs and every Helm value a path the
 * 88.5.3 chart knows; every alert links a runbook section that exists; every metric a rule or panel queries is in the
 * catalogue (components/ops/metrics.ts) that test:real checks on real brokers and Connect; the NetworkPolicies admit
 * the Prometheus pods only, on metrics ports only.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { alertRuleGroups, RUNBOOKS } from "../components/ops/alertRules";
import { CONNECT_JMX_EXPORTER_RULES } from "../components/ops/connectMetrics";
import { dashboardJson, dashboards } from "../components/ops/dashboards";
import { METRICS, metricNamesIn, type MetricSource } from "../components/ops/metrics";
import { KSQLDB_JMX_EXPORTER_RULES } from "../components/ops/ksqldbMetrics";
import { SCHEMA_REGISTRY_JMX_EXPORTER_RULES } from "../components/ops/schemaRegistryMetrics";
import { KAFKA_JMX_EXPORTER_RULES } from "../components/kafka/kafkaMetrics";
import { KUBE_PROMETHEUS_STACK_VERSION, monitoringValues, PROMETHEUS_IMAGE_TAG, SUBCHART_VALUE_PATHS } from "../operators/monitoringValues";
import { parseConfig } from "../config";
import { CASE_ARGS } from "./alerts/cases";
import { validateCustomResource } from "./crdSchema";
import { runProgram, type ProgramRun } from "./harness";
import { chartDefaults, unknownValuePaths } from "./helmValues";
import { PROMETHEUS_VERSION } from "./monitoringTools";
import { SHARED_DIR } from "./sharedRefs";
import { describeWithShared } from "./withShared";

const ROOT = join(__dirname, "..");
const CHART_DIR = join(SHARED_DIR, "charts", "kube-prometheus-stack-88.5.3");
const rules = alertRuleGroups(CASE_ARGS).flatMap((g) => g.rules);
const panels = dashboards({ kafkaNamespace: "kafka", yugabyteNamespace: "yugabyte" }).flatMap((d) => d.panels);

/** Every metric name queried by a rule or a panel. */
export function queriedMetricNames(): string[] {
  const exprs = [...rules.map((r) => r.expr), ...panels.flatMap((p) => p.queries.map((q) => q.expr))];
  return [...new Set(exprs.flatMap(metricNamesIn))].sort();
}

describe("metric names", () => {
  it("the extractor finds metric names and ignores functions, labels, durations and keywords", () => {
    expect(metricNamesIn('sum by (pod) (rate(a_total{x="y", z=~"b|c"}[5m])) / on (topic) group_left sum(b) > 2 and c offset 5m or vector(0)')).toEqual(["a_total", "b", "c"]);
  });

  it("every name a rule or panel queries is in the catalogue, and every catalogue entry is queried", () => {
    const queried = queriedMetricNames();
    expect(queried.filter((n) => !(n in METRICS)), "add these to components/ops/metrics.ts with their source").toEqual([]);
    expect(Object.keys(METRICS).filter((n) => !queried.includes(n)), "unused catalogue entries").toEqual([]);
  });

  it("broker, Connect, ksqlDB and Schema Registry names come from our JMX exporter rules (lowercased name templates)", () => {
    const rulesOf: Partial<Record<MetricSource, string>> = {
      "kafka-broker": KAFKA_JMX_EXPORTER_RULES,
      "kafka-connect": CONNECT_JMX_EXPORTER_RULES,
      ksqldb: KSQLDB_JMX_EXPORTER_RULES,
      "schema-registry": SCHEMA_REGISTRY_JMX_EXPORTER_RULES,
    };
    for (const [name, info] of Object.entries(METRICS)) {
      const rulesText = rulesOf[info.source];
      if (rulesText === undefined) continue;
      const templates = [...rulesText.matchAll(/name: (\S+)/g)].map((m) => m[1]!);
      const matches = templates.some((t) => new RegExp(`^${t.replace(/\$\d/g, "[a-z_-]+")}$`).test(name.replace(/-/g, "_")));
      expect(matches, `${name}: no ${info.source} JMX rule produces it`).toBe(true);
    }
  });
});

describe("alert rules", () => {
  it("every rule has a severity, a summary, a description and a runbook link to a section that exists", () => {
    for (const r of rules) {
      expect(["critical", "warning"]).toContain(r.labels.severity);
      expect(r.annotations.summary.length).toBeGreaterThan(10);
      const m = /^https:\/\/runbooks\.example\/docs\/runbooks\/([\w-]+\.md)#([\w-]+)$/.exec(r.annotations.runbook_url);
      expect(m, `${r.alert}: runbook_url ${r.annotations.runbook_url}`).not.toBeNull();
      const file = join(ROOT, "docs", "runbooks", m![1]!);
      expect(existsSync(file), `${r.alert}: ${file} missing`).toBe(true);
      const anchors = readFileSync(file, "utf8").split("\n").filter((l) => l.startsWith("#"))
        .map((l) => l.replace(/^#+\s*/, "").toLowerCase().replace(/[^\w\s-]/g, "").trim().replace(/\s+/g, "-"));
      expect(anchors, `${r.alert}: no heading for #${m![2]} in ${m![1]}`).toContain(m![2]);
    }
    expect(new Set(Object.values(RUNBOOKS)).size).toBe(Object.values(RUNBOOKS).length);
  });

  it("alert names are unique and cover the issue's list", () => {
    const names = rules.map((r) => r.alert);
    expect(new Set(names).size).toBe(names.length);
    for (const required of [
      "KafkaOfflinePartitions", "KafkaUnderReplicatedPartitions", "KafkaIsrShrinking", "DataVolumeFilling", "KsqldbLagBeyondCloseBudget",
      "KsqldbQueryNotRunning", "KsqldbProcessingLogErrors", "ConnectTaskFailed", "SinkDeadLetterQueueGrowing", "SessionTickerDown",
      "SessionsNotClosing", "YugabyteTserverDown", "KafkaCertificateExpiring",
    ]) expect(names).toContain(required);
  });
});

describe("dashboards", () => {
  it("render to Grafana JSON with unique uids and panel ids, every panel with a query", () => {
    const ds = dashboards({ kafkaNamespace: "kafka", yugabyteNamespace: "yugabyte" });
    expect(new Set(ds.map((d) => d.uid)).size).toBe(ds.length);
    for (const d of ds) {
      const json = dashboardJson(d);
      expect(new Set(json.panels.map((p) => p.id)).size).toBe(json.panels.length);
      for (const p of json.panels) expect(p.targets.length, `${d.uid}: ${p.title}`).toBeGreaterThan(0);
    }
    expect(ds.map((d) => d.uid)).toEqual(["watchpipe-pipeline", "watchpipe-brokers", "watchpipe-kraft", "watchpipe-connect", "watchpipe-ksqldb", "watchpipe-yugabyte"]);
  });
});

describe("monitoring config", () => {
  const base = { owner: "t", cluster: { mode: "existing" as const }, connect: { imageRegistry: "localhost:5001/w" } };
  it("defaults off, validates the runbook URL, and prod refuses monitoring off", () => {
    const cfg = parseConfig(base, "local");
    expect(cfg.monitoring).toMatchObject({ enabled: false, mode: "stack", namespace: "monitoring", retentionDays: 15 });
    expect(() => parseConfig({ ...base, monitoring: { runbookBaseUrl: "https://x/docs/" } }, "local")).toThrow(/monitoring.runbookBaseUrl/);
    const prod = { ...base, cluster: { mode: "eks", adminRoleArn: "arn:aws:iam::111122223333:role/a", publicAccessCidrs: ["203.0.113.0/24"] }, yugabyte: { topology: "multi-zone" } };
    expect(() => parseConfig(prod, "prod")).toThrow(/monitoring.enabled: prod must be monitored/);
  });
});

describeWithShared("kube-prometheus-stack values and Prometheus Operator CRs", () => {
  it("every value path exists in the 88.5.3 chart's values.yaml", () => {
    const values = monitoringValues({ retentionDays: 15, storageGiB: 150, alertmanagerStorageGiB: 5, grafanaStorageGiB: 5, storageClassName: "gp3" });
    expect(unknownValuePaths(values, `${CHART_DIR}/values.yaml`, { allow: SUBCHART_VALUE_PATHS })).toEqual([]);
  });

  it("pins the chart whose Prometheus the promtool tests build", () => {
    const chart = parse(readFileSync(join(CHART_DIR, "Chart.yaml"), "utf8")) as { version: string; appVersion: string };
    expect(chart.version).toBe(KUBE_PROMETHEUS_STACK_VERSION);
    const defaults = chartDefaults(`${CHART_DIR}/values.yaml`) as { prometheus: { prometheusSpec: { image: { tag: string } } } };
    expect(defaults.prometheus.prometheusSpec.image.tag).toBe(PROMETHEUS_IMAGE_TAG);
    expect(PROMETHEUS_IMAGE_TAG).toBe(`v${PROMETHEUS_VERSION}-distroless`);
  });

  describe("prod stack under mocks", () => {
    let run: ProgramRun;
    beforeAll(async () => {
      run = await runProgram("prod");
    }, 120_000);

    it("installs the pinned chart into the monitoring namespace", () => {
      const release = run.resources.find((r) => r.type === "kubernetes:helm.sh/v3:Release" && r.inputs.chart === "kube-prometheus-stack");
      expect(release?.inputs).toMatchObject({ version: KUBE_PROMETHEUS_STACK_VERSION, namespace: "monitoring" });
    });

    it("every PodMonitor and PrometheusRule validates against the Prometheus Operator CRDs", () => {
      const crs = run.resources.filter((r) => r.type.startsWith("kubernetes:monitoring.coreos.com/"));
      expect(crs.map((r) => r.inputs.kind).sort()).toEqual([...Array<string>(9).fill("PodMonitor"), "PrometheusRule"]);
      for (const cr of crs) expect(validateCustomResource(cr.inputs), cr.name).toEqual([]);
    });

    it("the rule shipped is the rule promtool tested (same builder, prod's arguments)", () => {
      const rule = run.resources.find((r) => r.inputs.kind === "PrometheusRule")!;
      const shipped = (rule.inputs.spec.groups as { rules: { alert: string }[] }[]).flatMap((g) => g.rules.map((x) => x.alert));
      expect(shipped).toEqual(rules.map((r) => r.alert));
    });

    it("six dashboards are Grafana-sidecar ConfigMaps holding valid JSON", () => {
      const maps = run.ofType("kubernetes:core/v1:ConfigMap").filter((c) => c.inputs.metadata?.labels?.grafana_dashboard === "1");
      expect(maps).toHaveLength(6);
      for (const m of maps) for (const v of Object.values(m.inputs.data as Record<string, string>)) expect(() => JSON.parse(v) as unknown).not.toThrow();
    });

    it("scrape NetworkPolicies admit only Prometheus pods of the monitoring namespace, on metrics ports", () => {
      const nps = run.ofType("kubernetes:networking.k8s.io/v1:NetworkPolicy").filter((n) => String(n.inputs.metadata?.name).startsWith("allow-prometheus-to-"));
      // Five: the ingest gateway's own NetworkPolicy admits the monitoring namespace on Camel's management port.
      expect(nps.length).toBe(5);
      for (const np of nps) {
        const ingress = np.inputs.spec.ingress as { from: unknown[]; ports: { port: number }[] }[];
        expect(ingress).toHaveLength(1);
        expect(ingress[0]!.from).toEqual([{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "monitoring" } }, podSelector: { matchLabels: { "app.kubernetes.io/name": "prometheus" } } }]);
        expect(ingress[0]!.ports.map((p) => p.port).every((p) => [9404, 8081, 7000, 9000].includes(p))).toBe(true);
      }
    });

    it("prod runs no Bridge: the ingest gateway's PodMonitor scrapes Camel's metrics on the management port its NetworkPolicy admits", () => {
      expect(run.resources.find((r) => r.inputs.kind === "KafkaBridge")).toBeUndefined();
      expect(run.resources.find((r) => r.inputs.kind === "PodMonitor" && r.inputs.metadata.name === "kafka-bridge")).toBeUndefined();
      const pm = run.resources.find((r) => r.inputs.kind === "PodMonitor" && r.inputs.metadata.name === "ingest-gateway")!;
      expect(pm.inputs.spec.podMetricsEndpoints[0]).toMatchObject({ port: "management", path: "/observe/metrics" });
      expect(pm.inputs.spec.selector.matchLabels).toEqual(run.one("kubernetes:apps/v1:Deployment", "ingest-gateway-deployment").inputs.spec.selector.matchLabels);
      const camel = (run.one("kubernetes:apps/v1:Deployment", "ingest-gateway-deployment").inputs.spec.template.spec.containers as { name: string; ports: { name: string; containerPort: number }[] }[]).find((c) => c.name === "camel")!;
      const port = camel.ports.find((p) => p.name === "management")!.containerPort;
      const policy = run.one("kubernetes:networking.k8s.io/v1:NetworkPolicy", "ingest-gateway-network-policy");
      const admitted = (policy.inputs.spec.ingress as { from: { namespaceSelector?: unknown }[]; ports: { port: number }[] }[])
        .filter((rule) => JSON.stringify(rule.from).includes("monitoring")).flatMap((rule) => rule.ports.map((p) => p.port));
      expect(admitted).toContain(port);
    });

    it("Connect exports metrics through the JMX exporter with our rules", () => {
      const connect = run.resources.find((r) => r.inputs.kind === "KafkaConnect")!;
      expect(connect.inputs.spec.metricsConfig).toEqual({ type: "jmxPrometheusExporter", valueFrom: { configMapKeyRef: { name: "watchpipe-connect-metrics", key: "connect-metrics-config.yml" } } });
    });
  });
});

describe("local stack", () => {
  it("creates no monitoring unless enabled", async () => {
    const run = await runProgram("local");
    expect(run.resources.filter((r) => r.type.startsWith("kubernetes:monitoring.coreos.com/"))).toEqual([]);
  }, 120_000);
});
