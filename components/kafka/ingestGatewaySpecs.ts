/**
 * Pure builders for the ingest gateway on Kubernetes (issue 24, docs/ingest.md "The gateway on the cluster"): one
 * pod = Envoy (verifies the player's token, copies its subject into a header) + Apache Camel (binds every heartbeat to
 * that subject, keys it by the session key, produces with acks=all + idempotence over TLS + SCRAM). Camel's HTTP
 * server binds 127.0.0.1 only, so the one way in is through Envoy's token check; the NetworkPolicy admits Envoy's port
 * and Camel's management port (health, metrics) and nothing else. The configs themselves come from
 * contract/ingestGateway.ts, the same builders the real-server suite and bench:ingest run.
 */
import { bootstrapAddress, KAFKA_USERS } from "../../contract/clients";
import {
  CAMEL_LIVENESS_PATH,
  CAMEL_READINESS_PATH,
  camelIngestProperties,
  camelIngestRoutes,
  DEFAULT_MAX_BODY_BYTES,
  DEFAULT_SUBJECT_CLAIM,
  envoyGatewayConfig,
  ENVOY_VERSION,
  CAMEL_RESOURCES,
  ENVOY_RESOURCES,
  GATEWAY_SCALE_DOWN_STABILIZATION_SEC,
  GATEWAY_TARGET_CPU_SHARE,
  INGEST_PATH,
  KAFKA_DELIVERY_TIMEOUT_MS,
  KAFKA_JAAS_CONFIG_ENV,
} from "../../contract/ingestGateway";
import type { JwtValidationSettings } from "../../contract/ingest";
import { SMOKE_AUDIENCE, SMOKE_JWKS_DIR, SMOKE_JWKS_FILE } from "../../contract/smokeIssuer";
import type { HeartbeatLimits } from "../../contract/ingestLimits";
import { mirrorImage, type ImageSourceSettings } from "../../contract/sources";
import { MONITORING_NAMESPACE_LABEL } from "./kafkaNetworkPolicySpecs";
import {
  containerSecurityContext,
  JAAS_SECRET_KEY,
  KAFKA_CA_FILE,
  kafkaCaVolume,
  kafkaCaVolumeMount,
  podDisruptionBudgetSpec,
  podSecurityContext,
  selectorLabels,
  workloadLabels,
  zoneSpread,
} from "../stream/streamingSpecs";

export const GATEWAY_APP = "ingest-gateway";
export const GATEWAY_SERVICE = GATEWAY_APP;
/** Envoy's listener: the port the Service and the ALB target. */
export const GATEWAY_HTTP_PORT = 8080;
/** Envoy's admin interface: loopback only (it can drain and stop Envoy). */
export const ENVOY_ADMIN_PORT = 9901;
/** Camel's HTTP server: loopback only, reached through Envoy alone. */
export const CAMEL_HTTP_PORT = 8081;
/** Camel's management server: /observe/health (probes, ALB health check) and /observe/metrics (Prometheus). */
export const CAMEL_MANAGEMENT_PORT = 9876;
/** The container port's name, which the gateway's PodMonitor scrapes (components/ops/monitorSpecs.ts). */
export const CAMEL_MANAGEMENT_PORT_NAME = "management";
/** The ALB's target health check: readiness (Kafka producer up), as the pod's readiness probe. */
export const CAMEL_HEALTH_PATH = CAMEL_READINESS_PATH;
export const CAMEL_METRICS_PATH = "/observe/metrics";
/** The Envoy project's own image of the version the suites run (CI installs the same release from PyPI). */
export const ENVOY_IMAGE = `envoyproxy/envoy:v${ENVOY_VERSION}`;
/** Where the ConfigMap (envoy.yaml, routes.yaml, application.properties) is mounted; the cluster CA is at KAFKA_CA_FILE. */
export const GATEWAY_CONFIG_DIR = "/etc/watchpipe/ingest";
/** Camel's runtime jars inside the gateway image (images/ingest-gateway/Dockerfile puts them there). */
export const GATEWAY_IMAGE_LIB_DIR = "/opt/watchpipe/ingest/lib";
/** The gateway's pod uid/gid (non-root; Envoy and the JRE image need no particular one). */
export const GATEWAY_UID = 10001;
/**
 * Envoy's in-flight requests finish before the pod goes: preStop waits this long for the ALB to stop sending (its
 * deregistration runs concurrently), then Envoy drains. The grace period covers it plus Camel's longest write.
 */
export const GATEWAY_PRESTOP_SLEEP_SEC = 15;
export const GATEWAY_TERMINATION_GRACE_SEC = GATEWAY_PRESTOP_SLEEP_SEC + Math.ceil(KAFKA_DELIVERY_TIMEOUT_MS / 1000) + 15;
/** The HPA keeps average CPU at this share of the request: the "≤ 50 % CPU" at 100,000 heartbeats/s. */
export const GATEWAY_TARGET_CPU_PERCENT = GATEWAY_TARGET_CPU_SHARE * 100;

export { CAMEL_RESOURCES, ENVOY_RESOURCES };

export interface IngestGatewaySpecArgs {
  readonly namespace: string;
  /** The gateway image (Camel's runtime on a JRE; images/ingest-gateway), pinned by digest. */
  readonly image: string;
  readonly jwt: JwtValidationSettings;
  readonly subjectClaim?: string | undefined;
  readonly maxHeartbeatsPerRequest: number;
  readonly minReplicas: number;
  readonly maxReplicas: number;
  /** Heartbeat budgets per token subject and per client IP, per pod (contract/ingestLimits.ts). */
  readonly limits: HeartbeatLimits;
  /**
   * Whether players arrive through the ALB: then Envoy takes the client's address for the per-IP budget from the
   * X-Forwarded-For entry the ALB appends (the peer is the ALB); otherwise from the peer itself.
   */
  readonly behindLoadBalancer: boolean;
  /** `watchpipe:images`: the registry mirror for Envoy's public image. */
  readonly images?: ImageSourceSettings | undefined;
  /**
   * The deploy smoke issuer (contract/smokeIssuer.ts), trusted beside the players' provider; its JWKS is mounted from
   * {@link GATEWAY_SMOKE_JWKS_SECRET}. Undefined: the players' provider alone.
   */
  readonly smoke?: { readonly issuer: string } | undefined;
}

/**
 * The Secret holding the smoke issuer's JWKS (public, but generated in the same run: unknown at a first preview, so
 * kept out of the hash-named ConfigMap and out of any ConfigMap the pack reads).
 */
export const GATEWAY_SMOKE_JWKS_SECRET = `${GATEWAY_APP}-smoke-jwks`;
/** Its app label: not the gateway's, so nothing selects or checks it as the gateway's config. */
export const GATEWAY_SMOKE_JWKS_APP = GATEWAY_SMOKE_JWKS_SECRET;
/** Pod annotation carrying the smoke key's kid: a new key rolls the pods, so Envoy reads the new JWKS. */
export const SMOKE_KID_ANNOTATION = "watchpipe.io/smoke-kid";

/** ConfigMap data: Envoy's bootstrap, Camel's route and its properties (keys are file names in GATEWAY_CONFIG_DIR). */
export function gatewayConfigData(a: IngestGatewaySpecArgs): Record<string, string> {
  const envoy = envoyGatewayConfig({
    listenAddress: "0.0.0.0",
    listenPort: GATEWAY_HTTP_PORT,
    adminAddress: "127.0.0.1",
    adminPort: ENVOY_ADMIN_PORT,
    upstreamPort: CAMEL_HTTP_PORT,
    issuer: a.jwt.issuer,
    audiences: a.jwt.audience,
    jwks: { kind: "remote", url: a.jwt.jwksUrl },
    subjectClaim: a.subjectClaim ?? DEFAULT_SUBJECT_CLAIM,
    maxBodyBytes: DEFAULT_MAX_BODY_BYTES,
    limits: a.limits,
    trustedProxyHops: a.behindLoadBalancer ? 1 : 0,
    ...(a.smoke ? { smoke: { issuer: a.smoke.issuer, audiences: [SMOKE_AUDIENCE], jwksFile: `${SMOKE_JWKS_DIR}/${SMOKE_JWKS_FILE}` } } : {}),
  });
  const props = camelIngestProperties({
    routesFile: `${GATEWAY_CONFIG_DIR}/routes.yaml`,
    bootstrapServers: bootstrapAddress(a.namespace),
    httpPort: CAMEL_HTTP_PORT,
    managementPort: CAMEL_MANAGEMENT_PORT,
    kafkaSecurity: { caFile: KAFKA_CA_FILE, jaasConfigEnv: KAFKA_JAAS_CONFIG_ENV },
  });
  return {
    // JSON is YAML: Envoy reads a .yaml bootstrap, and JSON keeps the builder's output byte-for-byte.
    "envoy.yaml": JSON.stringify(envoy, null, 2),
    "routes.yaml": JSON.stringify(camelIngestRoutes({ maxHeartbeats: a.maxHeartbeatsPerRequest, ...(a.smoke ? { smokeScope: { playersIssuer: a.jwt.issuer } } : {}) }), null, 2),
    "application.properties": Object.entries(props).map(([k, v]) => `${k}=${v}`).join("\n") + "\n",
  };
}

/**
 * The Deployment's spec: Envoy and Camel side by side; the ConfigMap's name (hash-named) rolls the pods on change.
 * `smokeKid` (with `a.smoke`): the smoke key's kid, an annotation so a new key rolls them too.
 */
export function gatewayDeploymentSpec<K = string>(a: IngestGatewaySpecArgs, configMapName: string, smokeKid?: K) {
  const user = KAFKA_USERS.bridge;
  const smoke = a.smoke !== undefined;
  return {
    // The HPA owns the replica count; this is the count before the HPA exists.
    replicas: a.minReplicas,
    selector: { matchLabels: selectorLabels(GATEWAY_APP) },
    strategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: "25%" } },
    template: {
      metadata: {
        labels: workloadLabels(GATEWAY_APP, true),
        annotations: {
          "prometheus.io/scrape": "true", "prometheus.io/port": String(CAMEL_MANAGEMENT_PORT), "prometheus.io/path": CAMEL_METRICS_PATH,
          ...(smoke && smokeKid !== undefined ? { [SMOKE_KID_ANNOTATION]: smokeKid } : {}),
        },
      },
      spec: {
        automountServiceAccountToken: false,
        enableServiceLinks: false,
        terminationGracePeriodSeconds: GATEWAY_TERMINATION_GRACE_SEC,
        securityContext: podSecurityContext(GATEWAY_UID),
        topologySpreadConstraints: [zoneSpread(GATEWAY_APP)],
        containers: [
          {
            name: "envoy",
            image: mirrorImage(ENVOY_IMAGE, a.images ?? {}),
            // No hot restart: it needs shared memory, and a pod restarts by being replaced.
            args: ["-c", `${GATEWAY_CONFIG_DIR}/envoy.yaml`, "-l", "warning", "--drain-time-s", String(GATEWAY_PRESTOP_SLEEP_SEC), "--disable-hot-restart"],
            ports: [{ name: "http", containerPort: GATEWAY_HTTP_PORT, protocol: "TCP" }],
            resources: ENVOY_RESOURCES,
            securityContext: containerSecurityContext(true),
            readinessProbe: { tcpSocket: { port: GATEWAY_HTTP_PORT }, periodSeconds: 5 },
            livenessProbe: { tcpSocket: { port: GATEWAY_HTTP_PORT }, initialDelaySeconds: 10, periodSeconds: 10 },
            // The ALB keeps sending for a few seconds after the pod is marked terminating.
            lifecycle: { preStop: { sleep: { seconds: GATEWAY_PRESTOP_SLEEP_SEC } } },
            volumeMounts: [
              { name: "config", mountPath: GATEWAY_CONFIG_DIR, readOnly: true },
              ...(smoke ? [{ name: "smoke-jwks", mountPath: SMOKE_JWKS_DIR, readOnly: true }] : []),
            ],
          },
          {
            name: "camel",
            image: a.image,
            command: ["java"],
            args: ["-XX:MaxRAMPercentage=75", "-XX:+UseG1GC", "-cp", `${GATEWAY_IMAGE_LIB_DIR}/*:${GATEWAY_CONFIG_DIR}`, "org.apache.camel.main.Main"],
            ports: [{ name: CAMEL_MANAGEMENT_PORT_NAME, containerPort: CAMEL_MANAGEMENT_PORT, protocol: "TCP" }],
            env: [
              // Strimzi's KafkaUser Secret carries the ready-made JAAS line; the properties read it as {{env:…}}.
              { name: KAFKA_JAAS_CONFIG_ENV, valueFrom: { secretKeyRef: { name: user, key: JAAS_SECRET_KEY } } },
            ],
            resources: CAMEL_RESOURCES,
            securityContext: containerSecurityContext(true),
            // Ready only once its Kafka producer is (a wrong SCRAM password keeps it out of the Service and the ALB);
            // live while the JVM and routes run, so a broker outage does not restart it.
            readinessProbe: { httpGet: { path: CAMEL_READINESS_PATH, port: CAMEL_MANAGEMENT_PORT }, periodSeconds: 5 },
            livenessProbe: { httpGet: { path: CAMEL_LIVENESS_PATH, port: CAMEL_MANAGEMENT_PORT }, initialDelaySeconds: 60, periodSeconds: 10, failureThreshold: 6 },
            // Stops after Envoy stopped taking requests, so a write in flight is answered.
            lifecycle: { preStop: { sleep: { seconds: GATEWAY_PRESTOP_SLEEP_SEC + 5 } } },
            volumeMounts: [
              { name: "config", mountPath: GATEWAY_CONFIG_DIR, readOnly: true },
              kafkaCaVolumeMount(),
              { name: "tmp", mountPath: "/tmp" },
            ],
          },
        ],
        volumes: [
          { name: "config", configMap: { name: configMapName } },
          ...(smoke ? [{ name: "smoke-jwks", secret: { secretName: GATEWAY_SMOKE_JWKS_SECRET } }] : []),
          kafkaCaVolume(),
          { name: "tmp", emptyDir: { sizeLimit: "64Mi" } },
        ],
      },
    },
  };
}

/** ClusterIP Service: Envoy's port only (the ALB uses ip targets; Camel's ports are not published). */
export function gatewayServiceSpec() {
  return {
    type: "ClusterIP",
    selector: selectorLabels(GATEWAY_APP),
    ports: [{ name: "http", port: GATEWAY_HTTP_PORT, targetPort: GATEWAY_HTTP_PORT, protocol: "TCP" }],
  };
}

/**
 * Who reaches the gateway pods: Envoy's port from the VPC (the ALB's ip targets) and pods of this namespace; Camel's
 * management port from the VPC (ALB health checks) and the monitoring namespace. Camel's HTTP port listens on
 * loopback, so no policy can open it; Envoy's admin port likewise.
 */
export function gatewayNetworkPolicySpec(sourceCidrs: readonly string[]) {
  const vpc = sourceCidrs.map((cidr) => ({ ipBlock: { cidr } }));
  return {
    podSelector: { matchLabels: selectorLabels(GATEWAY_APP) },
    policyTypes: ["Ingress"],
    ingress: [
      { from: [...vpc, { podSelector: {} }], ports: [{ protocol: "TCP", port: GATEWAY_HTTP_PORT }] },
      {
        from: [...vpc, { namespaceSelector: { matchLabels: { ...MONITORING_NAMESPACE_LABEL } } }],
        ports: [{ protocol: "TCP", port: CAMEL_MANAGEMENT_PORT }],
      },
    ],
  };
}

/** HPA on CPU: replicas follow load, each pod at about GATEWAY_TARGET_CPU_PERCENT of its request. */
export function gatewayHpaSpec(a: Pick<IngestGatewaySpecArgs, "minReplicas" | "maxReplicas">) {
  return {
    scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: GATEWAY_APP },
    minReplicas: a.minReplicas,
    maxReplicas: a.maxReplicas,
    metrics: [{ type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: GATEWAY_TARGET_CPU_PERCENT } } }],
    behavior: {
      // Scale out at once on a surge (evening peak, a backlog flush); scale in slowly so a dip does not thrash.
      scaleUp: { stabilizationWindowSeconds: 0, policies: [{ type: "Percent", value: 100, periodSeconds: 30 }] },
      scaleDown: { stabilizationWindowSeconds: GATEWAY_SCALE_DOWN_STABILIZATION_SEC, policies: [{ type: "Percent", value: 20, periodSeconds: 60 }] },
    },
  };
}

/** At most one pod down in a voluntary disruption (node drain, upgrade). */
export function gatewayPdbSpec() {
  return podDisruptionBudgetSpec(GATEWAY_APP);
}

/** The path the ALB forwards (POST only, by the ALB's condition annotation keyed by the Service name). */
export const GATEWAY_PUBLIC_PATH = INGEST_PATH;
