/**
 * Monitoring for the pipeline: the pinned kube-prometheus-stack (mode `stack`) or nothing but our objects for a
 * Prometheus Operator that already runs (mode `existing`); then PodMonitors beside each scraped workload, the
 * PrometheusRule with the alert groups, the dashboards as Grafana-sidecar ConfigMaps, and NetworkPolicies letting
 * only the Prometheus pods reach the metrics ports the namespaces' default-deny policies close.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { AppSettings } from "../../contract/settings";
import { MonitoringStack } from "../../operators/monitoring";
import { GRAFANA_DASHBOARD_LABEL } from "../../operators/monitoringValues";
import { STRIMZI_NAMESPACE } from "../../operators/strimziValues";
import { MONITORING_NAMESPACE_LABEL } from "../kafka/kafkaNetworkPolicySpecs";
import type { KubernetesTarget } from "../aws/platform";
import { alertRuleGroups, type AlertRuleArgs } from "./alertRules";
import { dashboardJson, dashboards } from "./dashboards";
import { type IngestPath, podMonitorManifests, prometheusRuleManifest, scrapeNetworkPolicies } from "./monitorSpecs";

export interface MonitoringArgs {
  readonly provider: k8s.Provider;
  readonly settings: AppSettings["monitoring"];
  readonly storageClassName: string;
  readonly kafkaNamespace: string;
  readonly yugabyteNamespace: string;
  readonly strimziNamespace: string;
  /** The players' HTTP path, scraped: the Kafka Bridge or the ingest gateway; unset: the Bridge. */
  readonly ingest?: IngestPath;
  readonly rules: Omit<AlertRuleArgs, "kafkaNamespace" | "yugabyteNamespace" | "runbookBaseUrl">;
  /** The workloads' namespaces must exist before monitors go into them. */
  readonly dependsOn: pulumi.Resource[];
  /** `watchpipe:deploy`: skip or bound the kube-prometheus-stack release's wait. */
  readonly deploy?: AppSettings["deploy"];
}

export class Monitoring extends pulumi.ComponentResource {
  readonly namespace: string;
  readonly stack?: MonitoringStack;

  constructor(name: string, args: MonitoringArgs, opts?: pulumi.ComponentResourceOptions) {
    super("watchpipe:ops:Monitoring", name, {}, opts);
    const k = { parent: this, provider: args.provider };
    const s = args.settings;
    this.namespace = s.namespace;
    if (s.mode === "stack") {
      this.stack = new MonitoringStack(`${name}-stack`, {
        provider: args.provider,
        namespace: s.namespace,
        namespaceLabels: { ...MONITORING_NAMESPACE_LABEL },
        retentionDays: s.retentionDays,
        storageGiB: s.storageGiB,
        alertmanagerStorageGiB: s.alertmanagerStorageGiB,
        grafanaStorageGiB: s.grafanaStorageGiB,
        storageClassName: args.storageClassName,
        ...(args.deploy ? { deploy: args.deploy } : {}),
      }, { parent: this });
    }
    // Custom resources need the operator's CRDs: wait for the release when we install it.
    const crdsReady = this.stack ? [this.stack.release] : [];
    const dependsOn = [...args.dependsOn, ...crdsReady];
    const labels = { ...s.selectorLabels, "app.kubernetes.io/part-of": "watchpipe" };

    const groups = alertRuleGroups({ ...args.rules, kafkaNamespace: args.kafkaNamespace, yugabyteNamespace: args.yugabyteNamespace, runbookBaseUrl: s.runbookBaseUrl });
    new k8s.apiextensions.CustomResource(`${name}-rules`, prometheusRuleManifest("watchpipe-alerts", s.namespace, labels, groups), { ...k, dependsOn });

    const targets = { kafkaNamespace: args.kafkaNamespace, yugabyteNamespace: args.yugabyteNamespace, strimziNamespace: args.strimziNamespace, labels, ingest: args.ingest };
    for (const pm of podMonitorManifests(targets)) {
      new k8s.apiextensions.CustomResource(`${name}-${pm.metadata.name}`, pm, { ...k, dependsOn });
    }
    for (const np of scrapeNetworkPolicies({ ...targets, monitoringNamespace: s.namespace })) {
      new k8s.networking.v1.NetworkPolicy(`${name}-${np.metadata.name}`, np, { ...k, dependsOn: args.dependsOn });
    }
    for (const d of dashboards({ kafkaNamespace: args.kafkaNamespace, yugabyteNamespace: args.yugabyteNamespace })) {
      new k8s.core.v1.ConfigMap(`${name}-dashboard-${d.uid}`, {
        metadata: { name: `${d.uid}-dashboard`, namespace: s.namespace, labels: { ...labels, [GRAFANA_DASHBOARD_LABEL]: "1" } },
        data: { [`${d.uid}.json`]: JSON.stringify(dashboardJson(d)) },
      }, { ...k, dependsOn: crdsReady.length ? crdsReady : [] });
    }
    this.registerOutputs({ namespace: this.namespace });
  }
}

export type MonitoringSettingsSlice = Pick<AppSettings, "monitoring" | "kafka" | "yugabyte" | "sessionization" | "database"> & Partial<Pick<AppSettings, "deploy">>;

/** Monitoring as the stack configures it, or nothing when `monitoring.enabled` is false. */
export function monitoringFromConfig(config: MonitoringSettingsSlice, target: KubernetesTarget, dependsOn: pulumi.Resource[], ingest: IngestPath = "bridge"): Monitoring | undefined {
  if (!config.monitoring.enabled) return undefined;
  return new Monitoring("monitoring", {
    provider: target.provider,
    settings: config.monitoring,
    storageClassName: target.storageClassName,
    kafkaNamespace: config.kafka.namespace,
    yugabyteNamespace: config.yugabyte.namespace,
    strimziNamespace: STRIMZI_NAMESPACE,
    ingest,
    rules: {
      brokers: config.kafka.brokers,
      tservers: config.yugabyte.tservers,
      // A session closes gap + grace after its last heartbeat; ksqlDB or the sink more than one more gap behind
      // doubles that delay, which is what the close-delay budget allows.
      lagBudgetSec: config.sessionization.sessionGapSec,
      maintenanceEveryMinutes: config.database.maintenanceEveryMinutes,
    },
    dependsOn,
    ...(config.deploy ? { deploy: config.deploy } : {}),
  });
}
