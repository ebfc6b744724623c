/**
 * kube-prometheus-stack: the Prometheus Operator, Prometheus, Alertmanager, Grafana, kube-state-metrics and
 * node-exporter in one pinned chart. Values are a pure function (checked against the chart's values.yaml in
 * test/monitoring.test.ts).
 */

export const KUBE_PROMETHEUS_STACK_REPO = "https://prometheus-community.github.io/helm-charts";
export const KUBE_PROMETHEUS_STACK_CHART = "kube-prometheus-stack";
/** 88.5.3: Prometheus Operator v0.93.1 and Prometheus v3.14.0, the versions the CRDs and promtool tests use. */
export const KUBE_PROMETHEUS_STACK_VERSION = "88.5.3";
export const MONITORING_RELEASE_NAME = "watchpipe-monitoring";
/** The chart's appVersion; pinned explicitly so a values change cannot float the operator image. */
export const PROMETHEUS_OPERATOR_IMAGE_TAG = "v0.93.1";
/** The chart's default Prometheus image for 88.5.3; the promtool tests build the same version (v3.14.0). */
export const PROMETHEUS_IMAGE_TAG = "v3.14.0-distroless";
export const ALERTMANAGER_IMAGE_TAG = "v0.34.0";
/** Grafana loads every ConfigMap with this label (value "1") from any namespace as a dashboard. */
export const GRAFANA_DASHBOARD_LABEL = "grafana_dashboard";
/** Secret (in the monitoring namespace) with Grafana's admin user and password; the program generates it. */
export const GRAFANA_ADMIN_SECRET = "grafana-admin";
/** Prometheus stops keeping data beyond this share of its volume, so compaction never fills the disk. */
export const RETENTION_SIZE_SHARE = 0.85;

export interface MonitoringValuesArgs {
  readonly retentionDays: number;
  readonly storageGiB: number;
  readonly alertmanagerStorageGiB: number;
  readonly grafanaStorageGiB: number;
  readonly storageClassName: string;
}

const volumeClaim = (storageClassName: string, gib: number) => ({
  volumeClaimTemplate: {
    spec: { storageClassName, accessModes: ["ReadWriteOnce"], resources: { requests: { storage: `${gib}Gi` } } },
  },
});

export function monitoringValues(a: MonitoringValuesArgs) {
  return {
    crds: { enabled: true },
    windowsMonitoring: { enabled: false },
    prometheusOperator: {
      image: { tag: PROMETHEUS_OPERATOR_IMAGE_TAG },
      prometheusConfigReloader: { image: { tag: PROMETHEUS_OPERATOR_IMAGE_TAG } },
    },
    prometheus: {
      prometheusSpec: {
        image: { tag: PROMETHEUS_IMAGE_TAG },
        retention: `${a.retentionDays}d`,
        retentionSize: `${Math.floor(a.storageGiB * RETENTION_SIZE_SHARE)}GB`,
        storageSpec: volumeClaim(a.storageClassName, a.storageGiB),
        // Select monitors and rules from every namespace, not only those labelled with this release: the
        // pipeline's PodMonitors live beside the workloads they scrape.
        ruleSelectorNilUsesHelmValues: false,
        podMonitorSelectorNilUsesHelmValues: false,
        serviceMonitorSelectorNilUsesHelmValues: false,
        resources: { requests: { cpu: "1", memory: "8Gi" }, limits: { memory: "8Gi" } },
      },
    },
    alertmanager: {
      alertmanagerSpec: {
        image: { tag: ALERTMANAGER_IMAGE_TAG },
        storage: volumeClaim(a.storageClassName, a.alertmanagerStorageGiB),
      },
    },
    grafana: {
      enabled: true,
      admin: { existingSecret: GRAFANA_ADMIN_SECRET, userKey: "admin-user", passwordKey: "admin-password" },
      sidecar: { dashboards: { enabled: true, label: GRAFANA_DASHBOARD_LABEL, labelValue: "1", searchNamespace: "ALL" } },
      // `persistence` is the grafana subchart's own key (grafana chart values.yaml), passed through by this chart.
      persistence: { enabled: true, storageClassName: a.storageClassName, size: `${a.grafanaStorageGiB}Gi` },
    },
  };
}

/** Value paths the grafana subchart reads that kube-prometheus-stack's own values.yaml does not list. */
export const SUBCHART_VALUE_PATHS = ["grafana.persistence"] as const;
