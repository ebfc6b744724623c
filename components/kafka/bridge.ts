/**
 * HTTP ingest: a Strimzi KafkaBridge producing to heartbeats_raw, and on EKS an ALB Ingress in front of it that
 * forwards only `POST /topics/heartbeats_raw` (with a valid player JWT when configured, behind the WAF web ACL;
 * docs/ingest.md). On existing clusters (local) there is no load balancer: Strimzi's
 * ClusterIP Service `ingest-bridge-service` is the entry point (kubectl port-forward).
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { withAwait, type DeploySettings } from "../../contract/readiness";
import { type BridgeExposure, BRIDGE_SERVICE, bridgeIngressSpec, bridgeManifest } from "./kafkaBridgeSpecs";

export interface BridgeArgs {
  readonly provider: k8s.Provider;
  readonly namespace: string;
  readonly replicas: number;
  /** Set on EKS stacks: creates the ALB Ingress. Undefined on existing clusters. */
  readonly ingress?: BridgeExposure<pulumi.Input<string>> & { readonly controller: pulumi.Resource };
  /** The Kafka CR and the bridge's KafkaUser (its Secret must exist before the pods start). */
  readonly dependsOn: pulumi.Resource[];
  /** `watchpipe:deploy`: with waitForReady false the Ingress is created without waiting for its ALB (hostname empty until a refresh). */
  readonly deploy?: DeploySettings;
}

export class Bridge extends pulumi.ComponentResource {
  readonly bridge: k8s.apiextensions.CustomResource;
  readonly serviceName = BRIDGE_SERVICE;
  /** ALB hostname on EKS; undefined elsewhere. */
  readonly hostname?: pulumi.Output<string>;

  constructor(name: string, args: BridgeArgs, opts?: pulumi.ComponentResourceOptions) {
    super("watchpipe:kafka:Bridge", name, {}, opts);
    const k = { parent: this, provider: args.provider };
    this.bridge = new k8s.apiextensions.CustomResource(`${name}-bridge`, bridgeManifest(args.namespace, args.replicas), { ...k, dependsOn: args.dependsOn });
    if (args.ingress) {
      const spec = bridgeIngressSpec(args.namespace, args.ingress);
      const ingress = new k8s.networking.v1.Ingress(`${name}-ingress`, { ...spec, metadata: withAwait(spec.metadata, args.deploy) }, {
        ...k,
        dependsOn: [this.bridge, args.ingress.controller],
      });
      this.hostname = ingress.status.loadBalancer.ingress.apply((list) => list?.[0]?.hostname ?? "");
    }
    this.registerOutputs({ serviceName: this.serviceName, hostname: this.hostname });
  }
}
