/** Kafka UI: a read-only browser for topics, consumer lag and brokers. ClusterIP only; see README for port-forward. */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { withAwait, type DeploySettings } from "../../contract/readiness";
import type { ImageSourceSettings } from "../../contract/sources";
import { KAFKA_UI_APP, kafkaUiDeploymentSpec, kafkaUiLabels, kafkaUiServiceSpec } from "./kafkaUiSpecs";

export interface KafkaUiArgs {
  readonly provider: k8s.Provider;
  readonly namespace: string;
  /** The Kafka CR and the kafka-ui KafkaUser (its Secret is mounted). */
  readonly dependsOn: pulumi.Resource[];
  /** `watchpipe:images`: the registry mirror to pull from. */
  readonly images?: ImageSourceSettings;
  /** `watchpipe:deploy`: with waitForReady false the provider creates these objects without awaiting them. */
  readonly deploy?: DeploySettings;
}

export class KafkaUi extends pulumi.ComponentResource {
  readonly serviceName = KAFKA_UI_APP;

  constructor(name: string, args: KafkaUiArgs, opts?: pulumi.ComponentResourceOptions) {
    super("watchpipe:kafka:KafkaUi", name, {}, opts);
    const k = { parent: this, provider: args.provider, dependsOn: args.dependsOn };
    const metadata = withAwait({ name: KAFKA_UI_APP, namespace: args.namespace, labels: kafkaUiLabels() }, args.deploy);
    new k8s.apps.v1.Deployment(`${name}-deployment`, { metadata, spec: kafkaUiDeploymentSpec(args.namespace, args.images) }, k);
    new k8s.core.v1.Service(`${name}-service`, { metadata, spec: kafkaUiServiceSpec() }, k);
    this.registerOutputs({ serviceName: this.serviceName });
  }
}
