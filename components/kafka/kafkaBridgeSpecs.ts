/**
 * Pure builders for the HTTP ingest path: the Strimzi `KafkaBridge` (players POST heartbeats, the bridge produces
 * them to heartbeats_raw with acks=all + idempotence over TLS + SCRAM) and the ALB Ingress in front of it.
 */
import { bootstrapAddress, CLUSTER_CA_SECRET, KAFKA_CLIENT_LABEL, KAFKA_USERS } from "../../contract/clients";
import { PRODUCER_DURABILITY_CONFIG } from "../../contract/durability";
import { STRIMZI_API_VERSION } from "./kafkaSpecs";
import { RAW_HEARTBEATS_TOPIC } from "../../contract/topics";

/** KafkaBridge name; Strimzi derives `<name>-bridge` (Deployment) and `<name>-bridge-service` (ClusterIP) from it. */
export const BRIDGE_NAME = "ingest";
export const BRIDGE_SERVICE = `${BRIDGE_NAME}-bridge-service`;
/** Strimzi's default bridge HTTP port. */
export const BRIDGE_HTTP_PORT = 8080;
/** The only path the load balancer forwards: producing to the raw topic. Listing topics or consuming stays internal. */
export const BRIDGE_PUBLIC_PATH = `/topics/${RAW_HEARTBEATS_TOPIC}`;
/** A few ms of batching turns 100k single-record POSTs/s into efficient produce requests. */
const BRIDGE_LINGER_MS = 5;
/** lz4: cheap on CPU, ~2-3x on JSON heartbeats; saves broker disk and cross-AZ replication traffic. */
const BRIDGE_COMPRESSION = "lz4";
/** The bridge is a thin HTTP→Kafka proxy; 1 CPU / 1 GiB per replica carries several thousand requests/s. */
const BRIDGE_RESOURCES = { requests: { cpu: "500m", memory: "1Gi" }, limits: { memory: "1Gi" } };
/** TLS policy for an internet-facing ALB: TLS 1.2+ with TLS 1.3 ciphers. */
export const ALB_SSL_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06";

export function bridgeManifest(namespace: string, replicas: number) {
  const user = KAFKA_USERS.bridge;
  return {
    apiVersion: STRIMZI_API_VERSION,
    kind: "KafkaBridge",
    metadata: { name: BRIDGE_NAME, namespace },
    spec: {
      replicas,
      bootstrapServers: bootstrapAddress(namespace),
      tls: { trustedCertificates: [{ secretName: CLUSTER_CA_SECRET, certificate: "ca.crt" }] },
      authentication: { type: "scram-sha-512", username: user, passwordSecret: { secretName: user, password: "password" } },
      http: { port: BRIDGE_HTTP_PORT },
      producer: {
        enabled: true,
        config: { ...PRODUCER_DURABILITY_CONFIG, "linger.ms": BRIDGE_LINGER_MS, "compression.type": BRIDGE_COMPRESSION },
      },
      // Ingest only: the bridge user may not read anything, so the consumer endpoints are switched off too.
      consumer: { enabled: false },
      resources: BRIDGE_RESOURCES,
      livenessProbe: { initialDelaySeconds: 15, periodSeconds: 10 },
      readinessProbe: { initialDelaySeconds: 10, periodSeconds: 5 },
      template: {
        pod: { metadata: { labels: { ...KAFKA_CLIENT_LABEL } }, enableServiceLinks: false },
        podDisruptionBudget: { maxUnavailable: 1 },
      },
    },
  };
}

export interface BridgeExposure {
  readonly exposure: "internal" | "internet-facing";
  readonly certificateArn?: string;
}

/** ALB annotations: internal or internet-facing; with a certificate HTTPS only (80 redirects to 443). */
export function albAnnotations(e: BridgeExposure): Record<string, string> {
  const base: Record<string, string> = {
    "alb.ingress.kubernetes.io/scheme": e.exposure,
    // ip targets: the ALB sends straight to bridge pods (the Strimzi Service is ClusterIP).
    "alb.ingress.kubernetes.io/target-type": "ip",
    "alb.ingress.kubernetes.io/healthcheck-path": "/healthy",
    "alb.ingress.kubernetes.io/backend-protocol": "HTTP",
  };
  if (!e.certificateArn) {
    if (e.exposure === "internet-facing") {
      throw new Error("bridge.certificateArn: an internet-facing bridge serves HTTPS only; got no certificate. Set it or use exposure \"internal\".");
    }
    return { ...base, "alb.ingress.kubernetes.io/listen-ports": JSON.stringify([{ HTTP: 80 }]) };
  }
  return {
    ...base,
    "alb.ingress.kubernetes.io/listen-ports": JSON.stringify([{ HTTP: 80 }, { HTTPS: 443 }]),
    "alb.ingress.kubernetes.io/ssl-redirect": "443",
    "alb.ingress.kubernetes.io/certificate-arn": e.certificateArn,
    "alb.ingress.kubernetes.io/ssl-policy": ALB_SSL_POLICY,
  };
}

/** The Ingress (class alb) that exposes only {@link BRIDGE_PUBLIC_PATH}. */
export function bridgeIngressSpec(namespace: string, e: BridgeExposure) {
  return {
    metadata: { name: BRIDGE_NAME, namespace, annotations: albAnnotations(e) },
    spec: {
      ingressClassName: "alb",
      rules: [
        {
          http: {
            paths: [
              { path: BRIDGE_PUBLIC_PATH, pathType: "Exact", backend: { service: { name: BRIDGE_SERVICE, port: { number: BRIDGE_HTTP_PORT } } } },
            ],
          },
        },
      ],
    },
  };
}
