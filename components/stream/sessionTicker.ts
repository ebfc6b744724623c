/**
 * The tick source: a one-pod Deployment whose single long-lived producer writes one tick heartbeat per `heartbeats`
 * partition to heartbeats_raw every `sessionization.tickIntervalSec`, so sessions on quiet partitions still close
 * (EMIT FINAL needs stream time to advance). It produces straight to Kafka as its own KafkaUser (TLS + SCRAM, Write
 * on heartbeats_raw only), and its pod may reach the brokers' TLS port and DNS only. Specs:
 * components/stream/sessionTickerSpecs.ts.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { KAFKA_CLUSTER_NAME, KAFKA_TLS_PORT } from "../../contract/clients";
import { withAwait, type DeploySettings } from "../../contract/readiness";
import { contentHash } from "./ksqlMigrationsSpecs";
import {
  SESSION_TICKER_APP,
  sessionTickerDeploymentSpec,
  sessionTickerEgressPolicySpec,
  type SessionTickerSpecArgs,
  tickerConfigMapData,
} from "./sessionTickerSpecs";
import { workloadLabels } from "./streamingSpecs";

export interface SessionTickerArgs extends SessionTickerSpecArgs {
  readonly provider: k8s.Provider;
  /**
   * The ticker's KafkaUser (its Secret must exist before the pod starts), the raw topic, and the migrations Job
   * (ticks before the SQL exists only queue up).
   */
  readonly dependsOn: pulumi.Input<pulumi.Resource>[];
  /** `watchpipe:deploy`: with waitForReady false the provider creates these objects without awaiting them. */
  readonly deploy?: DeploySettings;
}

export class SessionTicker extends pulumi.ComponentResource {
  readonly deployment: k8s.apps.v1.Deployment;

  constructor(name: string, args: SessionTickerArgs, opts?: pulumi.ComponentResourceOptions) {
    super("watchpipe:sessionTicker:SessionTicker", name, {}, opts);
    const k = { parent: this, provider: args.provider };
    const labels = workloadLabels(SESSION_TICKER_APP, false);
    const data = tickerConfigMapData(args);
    // Hash-named so a new partition count, script or property rolls the pod (a ConfigMap edit alone would not).
    const configMapName = `${SESSION_TICKER_APP}-${contentHash(data)}`;
    const configMap = new k8s.core.v1.ConfigMap(
      `${name}-config`,
      { metadata: { name: configMapName, namespace: args.namespace, labels }, data },
      { ...k, dependsOn: args.dependsOn },
    );
    const egress = new k8s.networking.v1.NetworkPolicy(
      `${name}-egress`,
      { metadata: { name: `${SESSION_TICKER_APP}-egress`, namespace: args.namespace, labels }, spec: sessionTickerEgressPolicySpec(KAFKA_CLUSTER_NAME, KAFKA_TLS_PORT) },
      { ...k, dependsOn: args.dependsOn },
    );
    this.deployment = new k8s.apps.v1.Deployment(
      `${name}-deployment`,
      { metadata: withAwait({ name: SESSION_TICKER_APP, namespace: args.namespace, labels }, args.deploy), spec: sessionTickerDeploymentSpec(args, configMapName) },
      { ...k, dependsOn: [...args.dependsOn, configMap, egress] },
    );
    this.registerOutputs({});
  }
}
