/**
 * Where Strimzi's build pod pushes the Kafka Connect image. On EKS: an ECR repository this program owns (scan on
 * push, immutable tags, lifecycle policy) and an IAM role the build pod's service account assumes through IRSA, so
 * no registry key exists anywhere. On an existing cluster: the registry from `watchpipe:connect.imageRegistry`.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { irsaTrustPolicy } from "../../contract/irsa";
import { CONNECT_BUILD_SERVICE_ACCOUNT, CONNECT_IMAGE_NAME, ecrLifecyclePolicy, ecrPushPolicy } from "./connectSpecs";

export interface ConnectImageArgs {
  /** EKS: OIDC provider of the cluster; absent on an existing cluster. */
  readonly irsa?: { readonly oidcProviderArn: pulumi.Input<string>; readonly oidcProviderUrl: pulumi.Input<string> };
  /** Existing cluster: registry prefix such as localhost:5001/watchpipe. */
  readonly imageRegistry?: string;
  readonly kafkaNamespace: string;
  /** Stack name: ECR repository names are account-wide, so each stack gets its own. */
  readonly stack: string;
  readonly tags: Record<string, string>;
}

export class ConnectImage extends pulumi.ComponentResource {
  /** Image name without tag: `<registry>/<repo>`. */
  readonly repository: pulumi.Output<string>;
  /** IAM role for the build service account (EKS only). */
  readonly buildRoleArn?: pulumi.Output<string>;

  constructor(name: string, args: ConnectImageArgs, opts?: pulumi.ComponentResourceOptions) {
    super("watchpipe:connect:ConnectImage", name, {}, opts);
    const self = { parent: this };
    if (!args.irsa) {
      if (!args.imageRegistry) {
        throw new Error("watchpipe:connect.imageRegistry: an existing cluster needs a registry for the Connect image (e.g. localhost:5001/watchpipe); got nothing.");
      }
      this.repository = pulumi.output(`${args.imageRegistry.replace(/\/$/, "")}/${CONNECT_IMAGE_NAME}`);
      this.registerOutputs({ repository: this.repository });
      return;
    }
    const repo = new aws.ecr.Repository(`${name}-repo`, {
      name: `${CONNECT_IMAGE_NAME}-${args.stack}`,
      imageTagMutability: "IMMUTABLE",
      imageScanningConfiguration: { scanOnPush: true },
      encryptionConfigurations: [{ encryptionType: "AES256" }],
      // Keep images when someone deletes the stack by mistake: running pods may still pull them.
      forceDelete: false,
      tags: { ...args.tags, Name: `${name}-repo` },
    }, self);
    new aws.ecr.LifecyclePolicy(`${name}-lifecycle`, { repository: repo.name, policy: ecrLifecyclePolicy() }, self);

    const serviceAccount = `system:serviceaccount:${args.kafkaNamespace}:${CONNECT_BUILD_SERVICE_ACCOUNT}`;
    const role = new aws.iam.Role(`${name}-build-role`, {
      description: "Strimzi Kafka Connect build pod: push the Connect image to its ECR repository (IRSA)",
      assumeRolePolicy: pulumi
        .all([args.irsa.oidcProviderArn, args.irsa.oidcProviderUrl])
        .apply(([arn, url]) => JSON.stringify(irsaTrustPolicy(arn, url, serviceAccount))),
      tags: args.tags,
    }, self);
    new aws.iam.RolePolicy(`${name}-build-push`, {
      role: role.id,
      policy: repo.arn.apply((arn) => JSON.stringify(ecrPushPolicy(arn))),
    }, self);
    this.repository = repo.repositoryUrl;
    this.buildRoleArn = role.arn;
    this.registerOutputs({ repository: this.repository, buildRoleArn: this.buildRoleArn });
  }
}
