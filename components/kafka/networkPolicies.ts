/** The Kafka namespace's NetworkPolicies (see kafkaNetworkPolicySpecs.ts for what each admits and why). */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { bridgeIngressPolicySpec, defaultDenyIngressSpec, metricsScrapePolicySpec } from "./kafkaNetworkPolicySpecs";

export interface KafkaNetworkPoliciesArgs {
  readonly provider: k8s.Provider;
  readonly namespace: string;
  /**
   * CIDRs the load balancer reaches the bridge from (the VPC); empty on clusters without one; undefined when no
   * Bridge is deployed (the ingest gateway's stacks), so no policy names its pods.
   */
  readonly bridgeSourceCidrs: readonly string[] | undefined;
  readonly dependsOn: pulumi.Resource[];
}

export class KafkaNetworkPolicies extends pulumi.ComponentResource {
  constructor(name: string, args: KafkaNetworkPoliciesArgs, opts?: pulumi.ComponentResourceOptions) {
    super("watchpipe:kafka:KafkaNetworkPolicies", name, {}, opts);
    const k = { parent: this, provider: args.provider, dependsOn: args.dependsOn };
    const policy = (suffix: string, spec: k8s.types.input.networking.v1.NetworkPolicySpec) =>
      new k8s.networking.v1.NetworkPolicy(`${name}-${suffix}`, { metadata: { name: suffix, namespace: args.namespace }, spec }, k);
    policy("default-deny-ingress", defaultDenyIngressSpec());
    if (args.bridgeSourceCidrs) policy("bridge-http", bridgeIngressPolicySpec(args.bridgeSourceCidrs));
    policy("metrics-scrape", metricsScrapePolicySpec());
    this.registerOutputs({});
  }
}
