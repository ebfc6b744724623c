/**
 * The monitoring stack (kube-prometheus-stack, pinned): its namespace, Grafana's admin Secret and the Helm release.
 * The namespace carries the label the Kafka namespace's metrics-scrape NetworkPolicy admits.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { releaseWait, type DeploySettings } from "../contract/readiness";
import {
  GRAFANA_ADMIN_SECRET,
  KUBE_PROMETHEUS_STACK_CHART,
  KUBE_PROMETHEUS_STACK_REPO,
  KUBE_PROMETHEUS_STACK_VERSION,
  MONITORING_RELEASE_NAME,
  monitoringValues,
  type MonitoringValuesArgs,
} from "./monitoringValues";

export interface MonitoringStackArgs extends MonitoringValuesArgs {
  readonly provider: k8s.Provider;
  readonly namespace: string;
  /** Labels on the namespace (the Kafka namespace's scrape policy admits namespaces labelled so). */
  readonly namespaceLabels: Readonly<Record<string, string>>;
  /** `watchpipe:deploy`: skip or bound the wait for the stack's pods. */
  readonly deploy?: DeploySettings;
}

/**
 * What the release waits for: the admission-webhook certificate Jobs, the Prometheus Operator, kube-state-metrics,
 * Grafana (with its volume) and a node-exporter pod on every node, then Prometheus and Alertmanager StatefulSets that
 * each provision a gp3 volume. A dozen images and three volumes take 5-10 min on fresh nodes: 15 min.
 */
export const MONITORING_RELEASE_TIMEOUT_SEC = 900;

export class MonitoringStack extends pulumi.ComponentResource {
  readonly namespace: k8s.core.v1.Namespace;
  readonly release: k8s.helm.v3.Release;

  constructor(name: string, args: MonitoringStackArgs, opts?: pulumi.ComponentResourceOptions) {
    super("watchpipe:operators:MonitoringStack", name, {}, opts);
    const k = { parent: this, provider: args.provider };
    this.namespace = new k8s.core.v1.Namespace(`${name}-namespace`, { metadata: { name: args.namespace, labels: { ...args.namespaceLabels } } }, k);
    const password = new random.RandomPassword(`${name}-grafana-admin`, { length: 32, special: false }, { parent: this });
    const secret = new k8s.core.v1.Secret(`${name}-grafana-admin`, {
      metadata: { name: GRAFANA_ADMIN_SECRET, namespace: this.namespace.metadata.name },
      stringData: { "admin-user": "admin", "admin-password": password.result },
    }, k);
    this.release = new k8s.helm.v3.Release(`${name}-release`, {
      name: MONITORING_RELEASE_NAME,
      chart: KUBE_PROMETHEUS_STACK_CHART,
      version: KUBE_PROMETHEUS_STACK_VERSION,
      repositoryOpts: { repo: KUBE_PROMETHEUS_STACK_REPO },
      namespace: this.namespace.metadata.name,
      values: monitoringValues(args),
      // CRs (PodMonitors, PrometheusRules) are created once the operator and its CRDs are up.
      ...releaseWait(MONITORING_RELEASE_TIMEOUT_SEC, args.deploy),
    }, { ...k, dependsOn: [secret] });
    this.registerOutputs({ namespace: this.namespace.metadata.name, release: this.release.status });
  }
}
