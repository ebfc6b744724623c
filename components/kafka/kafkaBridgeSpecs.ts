/**
 * Pure builders for the HTTP ingest path: the Strimzi `KafkaBridge` (players POST heartbeats, the bridge produces
 * them to heartbeats_raw with acks=all + idempotence over TLS + SCRAM) and the ALB Ingress in front of it.
 */
import { bootstrapAddress, CLUSTER_CA_SECRET, KAFKA_CLIENT_LABEL, KAFKA_USERS } from "../../contract/clients";
import { PRODUCER_DURABILITY_CONFIG } from "../../contract/durability";
import { STRIMZI_API_VERSION } from "./kafkaSpecs";
import { RAW_HEARTBEATS_TOPIC } from "../../contract/topics";
import {
  ALB_CERTIFICATE_ARN,
  ALB_CONDITIONS_PREFIX,
  ALB_JWT_VALIDATION,
  ALB_LISTEN_PORTS,
  ALB_SCHEME,
  ALB_SSL_POLICY_ANNOTATION,
  ALB_SSL_REDIRECT,
  ALB_WAFV2_ACL_ARN,
  ALB_WAFV2_NONE,
  INGEST_METHOD,
  jwtValidationAnnotation,
  type JwtValidationSettings,
} from "../../contract/ingest";

/** KafkaBridge name; Strimzi derives `<name>-bridge` (Deployment) and `<name>-bridge-service` (ClusterIP) from it. */
export const BRIDGE_NAME = "ingest";
export const BRIDGE_SERVICE = `${BRIDGE_NAME}-bridge-service`;
/** Strimzi's default bridge HTTP port. */
export const BRIDGE_HTTP_PORT = 8080;
/** The bridge's management port (/healthy, /ready, /metrics since bridge 1.0; Strimzi 1.2.0 runs bridge 1.1.0). */
export const BRIDGE_MANAGEMENT_PORT = 8081;
/** Labels Strimzi puts on every pod of the bridge. */
export const BRIDGE_POD_SELECTOR = { "strimzi.io/kind": "KafkaBridge", "strimzi.io/cluster": BRIDGE_NAME } as const;
/** Container-port name Strimzi gives the management port; Prometheus scrapes /metrics there. */
export const BRIDGE_MANAGEMENT_PORT_NAME = "rest-api-mgmt";
/**
 * What the bridge's metrics endpoint exports (Strimzi Metrics Reporter allow list): its producer's metrics, the
 * send rate, errors and latency of what the players post. The consumer side is off, so Strimzi's consumer regex
 * is left out.
 */
export const BRIDGE_METRICS_ALLOW_LIST = ["kafka_producer_producer_metrics.*", "kafka_producer_kafka_metrics_count_count"] as const;
/** The only path the load balancer forwards: producing to the raw topic. Listing topics or consuming stays internal. */
export const BRIDGE_PUBLIC_PATH = `/topics/${RAW_HEARTBEATS_TOPIC}`;
/** A few ms of batching turns 100k single-record POSTs/s into efficient produce requests. */
const BRIDGE_LINGER_MS = 5;
/** lz4: cheap on CPU, ~2-3x on JSON heartbeats; saves broker disk and cross-AZ replication traffic. */
const BRIDGE_COMPRESSION = "lz4";
/**
 * Largest produce request (and so largest record) the bridge's producer sends: 256 KiB instead of Kafka's 1 MiB.
 * The bridge's HTTP server has no body limit of its own (the KafkaBridge CRD's `http` takes only port, cors and tls,
 * and `spec.config` refuses `http.*`); public bodies are bounded by the WAF body-size rule (4 KiB by default), this
 * bounds what any caller, internal ones included, can push into heartbeats_raw per record. Batches still fit: the
 * producer splits its sends to stay under it.
 */
export const BRIDGE_MAX_REQUEST_BYTES = 262_144;
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
        config: { ...PRODUCER_DURABILITY_CONFIG, "linger.ms": BRIDGE_LINGER_MS, "compression.type": BRIDGE_COMPRESSION, "max.request.size": BRIDGE_MAX_REQUEST_BYTES },
      },
      // Ingest only: the bridge user may not read anything, so the consumer endpoints are switched off too.
      consumer: { enabled: false },
      resources: BRIDGE_RESOURCES,
      metricsConfig: { type: "strimziMetricsReporter", values: { allowList: [...BRIDGE_METRICS_ALLOW_LIST] } },
      livenessProbe: { initialDelaySeconds: 15, periodSeconds: 10 },
      readinessProbe: { initialDelaySeconds: 10, periodSeconds: 5 },
      template: {
        pod: { metadata: { labels: { ...KAFKA_CLIENT_LABEL } }, enableServiceLinks: false },
        podDisruptionBudget: { maxUnavailable: 1 },
      },
    },
  };
}

export interface BridgeExposure<Arn = string> {
  readonly exposure: "internal" | "internet-facing";
  readonly certificateArn?: string | undefined;
  /** Token validation on the HTTPS listener; required when internet-facing. */
  readonly jwt?: JwtValidationSettings | undefined;
  /** The regional WAFv2 web ACL in front of the ALB (an Output in the program, a string in tests). */
  readonly wafAclArn?: Arn | undefined;
}

/** What the ALB forwards to: the Service (its name keys the POST-only condition) and where targets answer health checks. */
export interface AlbBackend {
  readonly service: string;
  readonly port: number;
  readonly healthPath: string;
  readonly healthPort: number;
}

/** The Kafka Bridge: Strimzi's Service; bridge 1.x serves /healthy only on its management port (8081). */
export const BRIDGE_BACKEND: AlbBackend = { service: BRIDGE_SERVICE, port: BRIDGE_HTTP_PORT, healthPath: "/healthy", healthPort: BRIDGE_MANAGEMENT_PORT };

/** HTTPS only: with tokens in play, port 80 would invite players to send their bearer token in clear text. */
const HTTPS_ONLY = JSON.stringify([{ HTTPS: 443 }]);

/**
 * ALB annotations. Internal without a certificate: HTTP inside the VPC. With a certificate: HTTPS (80 redirects to
 * 443, where nothing is forwarded). With token validation: HTTPS only, every forwarded request carries a valid JWT.
 * Always: only POST reaches the bridge, health checks go to its management port, and the web ACL when given (`none`
 * otherwise, which detaches one attached earlier).
 */
export function albAnnotations<Arn = string>(e: BridgeExposure<Arn>, backend: AlbBackend = BRIDGE_BACKEND): Record<string, string | Arn> {
  if (e.exposure === "internet-facing" && !e.certificateArn) {
    throw new Error("bridge.certificateArn: an internet-facing bridge serves HTTPS only; got no certificate. Set it or use exposure \"internal\".");
  }
  if (e.exposure === "internet-facing" && !e.jwt) {
    throw new Error("ingest.jwt: an internet-facing bridge must validate player tokens on the ALB; got no JWT settings. Set ingest.jwt or use exposure \"internal\".");
  }
  if (e.jwt && !e.certificateArn) {
    throw new Error("bridge.certificateArn: the ALB validates tokens only on HTTPS listeners; ingest.jwt is set but no certificate is.");
  }
  const base: Record<string, string | Arn> = {
    [ALB_SCHEME]: e.exposure,
    // ip targets: the ALB sends straight to the pods (the Service is ClusterIP).
    "alb.ingress.kubernetes.io/target-type": "ip",
    "alb.ingress.kubernetes.io/healthcheck-path": backend.healthPath,
    "alb.ingress.kubernetes.io/healthcheck-port": String(backend.healthPort),
    "alb.ingress.kubernetes.io/backend-protocol": "HTTP",
    // The rule forwarding the raw-topic path also requires POST: GET on the same path (topic metadata) gets the
    // ALB's default 404, as does every other path.
    [`${ALB_CONDITIONS_PREFIX}${backend.service}`]: JSON.stringify([{ field: "http-request-method", httpRequestMethodConfig: { values: [INGEST_METHOD] } }]),
  };
  // Without an ACL of this stack the ALB is told to carry none (an absent annotation would keep an earlier one).
  base[ALB_WAFV2_ACL_ARN] = e.wafAclArn ?? ALB_WAFV2_NONE;
  if (!e.certificateArn) {
    return { ...base, [ALB_LISTEN_PORTS]: JSON.stringify([{ HTTP: 80 }]) };
  }
  const tls = { [ALB_CERTIFICATE_ARN]: e.certificateArn, [ALB_SSL_POLICY_ANNOTATION]: ALB_SSL_POLICY };
  if (e.jwt) {
    return { ...base, ...tls, [ALB_LISTEN_PORTS]: HTTPS_ONLY, [ALB_JWT_VALIDATION]: JSON.stringify(jwtValidationAnnotation(e.jwt)) };
  }
  return { ...base, ...tls, [ALB_LISTEN_PORTS]: JSON.stringify([{ HTTP: 80 }, { HTTPS: 443 }]), [ALB_SSL_REDIRECT]: "443" };
}

/** The Ingress (class alb) that exposes only {@link BRIDGE_PUBLIC_PATH}, to the bridge or another backend (the ingest gateway). */
export function bridgeIngressSpec<Arn = string>(namespace: string, e: BridgeExposure<Arn>, backend: AlbBackend = BRIDGE_BACKEND) {
  return {
    metadata: { name: BRIDGE_NAME, namespace, annotations: albAnnotations(e, backend) },
    spec: {
      ingressClassName: "alb",
      rules: [
        {
          http: {
            paths: [
              { path: BRIDGE_PUBLIC_PATH, pathType: "Exact", backend: { service: { name: backend.service, port: { number: backend.port } } } },
            ],
          },
        },
      ],
    },
  };
}
