/**
 * One SCRAM-SHA-512 KafkaUser per client with least-privilege ACLs (components/kafka/kafkaAcls.ts). The User Operator
 * generates each password into a Secret named after the user in the Kafka namespace; no credential passes through
 * Pulumi state or outputs.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { KafkaClient } from "../../contract/clients";
import { kafkaUserManifests } from "./kafkaAcls";

export interface KafkaUsersArgs {
  readonly provider: k8s.Provider;
  readonly namespace: string;
  /** The Kafka CR (the User Operator runs in its entity operator). */
  readonly dependsOn: pulumi.Resource[];
}

export class KafkaUsers extends pulumi.ComponentResource {
  readonly users = {} as Record<KafkaClient, k8s.apiextensions.CustomResource>;

  constructor(name: string, args: KafkaUsersArgs, opts?: pulumi.ComponentResourceOptions) {
    super("watchpipe:kafka:KafkaUsers", name, {}, opts);
    for (const { client, manifest } of kafkaUserManifests(args.namespace)) {
      this.users[client] = new k8s.apiextensions.CustomResource(`${name}-${manifest.metadata.name}`, manifest, {
        parent: this,
        provider: args.provider,
        dependsOn: args.dependsOn,
      });
    }
    this.registerOutputs({ users: Object.keys(this.users) });
  }
}
