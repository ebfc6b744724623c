/**
 * The ingest gateway (issue 24, docs/ingest.md): Envoy verifies each player's token and Camel binds every heartbeat
 * to its subject, keys it by the session key and produces it to heartbeats_raw (acks=all, idempotence, TLS + SCRAM
 * as the bridge's KafkaUser). On EKS the ALB Ingress forwards POST /topics/heartbeats_raw here instead of to the
 * Kafka Bridge. Specs: components/kafka/ingestGatewaySpecs.ts.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as tls from "@pulumi/tls";
import { SMOKE_AUDIENCE, SMOKE_JWKS_FILE, smokeJwks, smokeKid } from "../../contract/smokeIssuer";
import { withAwait, type DeploySettings } from "../../contract/readiness";
import { contentHash } from "../stream/ksqlMigrationsSpecs";
import { workloadLabels } from "../stream/streamingSpecs";
import { type BridgeExposure, bridgeIngressSpec } from "./kafkaBridgeSpecs";
import {
  CAMEL_HEALTH_PATH,
  CAMEL_MANAGEMENT_PORT,
  GATEWAY_APP,
  GATEWAY_HTTP_PORT,
  GATEWAY_SERVICE,
  gatewayConfigData,
  gatewayDeploymentSpec,
  gatewayHpaSpec,
  gatewayNetworkPolicySpec,
  gatewayPdbSpec,
  gatewayServiceSpec,
  GATEWAY_SMOKE_JWKS_APP,
  GATEWAY_SMOKE_JWKS_SECRET,
  type IngestGatewaySpecArgs,
} from "./ingestGatewaySpecs";

export interface IngestGatewayArgs extends Omit<IngestGatewaySpecArgs, "behindLoadBalancer"> {
  readonly provider: k8s.Provider;
  /** VPC CIDRs the ALB's ip targets are reached from; empty on an existing cluster (no ALB). */
  readonly sourceCidrs: readonly string[];
  /** Set on EKS stacks: the ALB Ingress forwards the players' path here. */
  readonly ingress?: BridgeExposure<pulumi.Input<string>> & { readonly controller: pulumi.Resource };
  /** The Kafka CR, the producer's KafkaUser (its Secret) and the raw topic. */
  readonly dependsOn: pulumi.Resource[];
  readonly deploy?: DeploySettings;
}

export class IngestGateway extends pulumi.ComponentResource {
  readonly serviceName = GATEWAY_SERVICE;
  /** The Service's port: Envoy's listener (what the ALB and a port-forward reach). */
  readonly port = GATEWAY_HTTP_PORT;
  readonly deployment: k8s.apps.v1.Deployment;
  /** ALB hostname on EKS; undefined elsewhere. */
  readonly hostname?: pulumi.Output<string>;
  /** What the deploy smoke test signs its tokens with (contract/smokeIssuer.ts); undefined when the issuer is off. */
  readonly smoke?: {
    readonly issuer: string;
    readonly audience: string;
    readonly kid: pulumi.Output<string>;
    /** SEC1 PEM of the P-256 key: a secret output. */
    readonly privateKeyPem: pulumi.Output<string>;
  };

  constructor(name: string, args: IngestGatewayArgs, opts?: pulumi.ComponentResourceOptions) {
    super("watchpipe:kafka:IngestGateway", name, {}, opts);
    const k = { parent: this, provider: args.provider };
    const labels = workloadLabels(GATEWAY_APP, false);
    const meta = (n: string) => ({ name: n, namespace: args.namespace, labels });
    const specArgs = { ...args, behindLoadBalancer: args.ingress !== undefined };
    const data = gatewayConfigData(specArgs);
    // Hash-named so a changed route, token setting or batch size rolls the pods (a ConfigMap edit alone would not).
    const configMapName = `${GATEWAY_APP}-${contentHash(data)}`;
    const configMap = new k8s.core.v1.ConfigMap(`${name}-config`, { metadata: meta(configMapName), data }, { ...k, dependsOn: args.dependsOn });
    // The deploy smoke issuer's key: generated here, kept in the stack's state as a secret; its public half is the
    // JWKS Envoy's second provider reads from its own Secret (unknown until the key exists, so not in the ConfigMap above).
    const smokeDeps: pulumi.Resource[] = [];
    let kid: pulumi.Output<string> | undefined;
    if (args.smoke) {
      const key = new tls.PrivateKey(`${name}-smoke-key`, { algorithm: "ECDSA", ecdsaCurve: "P256" }, { parent: this });
      kid = key.publicKeyPem.apply(smokeKid);
      // A Secret, though the JWKS is public: it is unknown until the key exists, and the pack's mandatory checks read
      // every ConfigMap's data (an unknown there fails a first preview closed); a Secret may carry generated values.
      const jwks = new k8s.core.v1.Secret(`${name}-smoke-jwks`, {
        metadata: { name: GATEWAY_SMOKE_JWKS_SECRET, namespace: args.namespace, labels: workloadLabels(GATEWAY_SMOKE_JWKS_APP, false) },
        stringData: { [SMOKE_JWKS_FILE]: key.publicKeyPem.apply(smokeJwks) },
      }, k);
      smokeDeps.push(jwks);
      this.smoke = { issuer: args.smoke.issuer, audience: SMOKE_AUDIENCE, kid, privateKeyPem: pulumi.secret(key.privateKeyPem) };
    }
    // The HPA owns spec.replicas once it runs; a later `pulumi up` must not reset it to the floor.
    this.deployment = new k8s.apps.v1.Deployment(`${name}-deployment`, {
      metadata: withAwait(meta(GATEWAY_APP), args.deploy),
      spec: gatewayDeploymentSpec(specArgs, configMapName, kid),
    }, { ...k, dependsOn: [...args.dependsOn, configMap, ...smokeDeps], ignoreChanges: ["spec.replicas"] });
    // Awaited like the Deployment (the provider waits for a Service's endpoints), so waitForReady false skips it too.
    const service = new k8s.core.v1.Service(`${name}-service`, { metadata: withAwait(meta(GATEWAY_SERVICE), args.deploy), spec: gatewayServiceSpec() }, k);
    new k8s.networking.v1.NetworkPolicy(`${name}-network-policy`, { metadata: meta(GATEWAY_APP), spec: gatewayNetworkPolicySpec(args.sourceCidrs) }, k);
    new k8s.autoscaling.v2.HorizontalPodAutoscaler(`${name}-hpa`, { metadata: meta(GATEWAY_APP), spec: gatewayHpaSpec(specArgs) }, { ...k, dependsOn: [this.deployment] });
    new k8s.policy.v1.PodDisruptionBudget(`${name}-pdb`, { metadata: meta(GATEWAY_APP), spec: gatewayPdbSpec() }, k);
    if (args.ingress) {
      const spec = bridgeIngressSpec(args.namespace, args.ingress, { service: GATEWAY_SERVICE, port: GATEWAY_HTTP_PORT, healthPath: CAMEL_HEALTH_PATH, healthPort: CAMEL_MANAGEMENT_PORT });
      const ingress = new k8s.networking.v1.Ingress(`${name}-ingress`, { ...spec, metadata: withAwait(spec.metadata, args.deploy) }, {
        ...k,
        dependsOn: [service, this.deployment, args.ingress.controller],
      });
      this.hostname = ingress.status.loadBalancer.ingress.apply((list) => list?.[0]?.hostname ?? "");
    }
    this.registerOutputs({ serviceName: this.serviceName, hostname: this.hostname });
  }
}
