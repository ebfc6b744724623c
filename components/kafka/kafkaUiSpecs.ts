/**
 * Pure builders for Kafka UI (kafbat/kafka-ui): read-only mode, a read-only Kafka user, TLS + SCRAM from the Secrets
 * Strimzi generates, ClusterIP only (reach it with kubectl port-forward).
 */
import { mirrorImage, type ImageSourceSettings } from "../../contract/sources";
import { bootstrapAddress, CLUSTER_CA_SECRET, KAFKA_CLIENT_LABEL, KAFKA_CLUSTER_NAME, KAFKA_USERS } from "../../contract/clients";
import { SASL_MECHANISM } from "../../contract/durability";

/** kafbat/kafka-ui v1.5.0 (the maintained fork of provectus/kafka-ui; tag verified in the kafbat/kafka-ui releases). */
export const KAFKA_UI_IMAGE = "ghcr.io/kafbat/kafka-ui:v1.5.0";
export const KAFKA_UI_APP = "kafka-ui";
export const KAFKA_UI_PORT = 8080;
/** The image's user is a named alpine system user; a numeric uid lets the kubelet enforce runAsNonRoot. */
const KAFKA_UI_UID = 10001;
const CA_MOUNT = "/etc/kafka-ca";
/** One replica: an operator tool, not on the data path. */
const KAFKA_UI_REPLICAS = 1;
const KAFKA_UI_RESOURCES = { requests: { cpu: "100m", memory: "512Mi" }, limits: { memory: "768Mi" } };

export function kafkaUiLabels() {
  return { app: KAFKA_UI_APP, ...KAFKA_CLIENT_LABEL };
}

export function kafkaUiDeploymentSpec(namespace: string, images?: ImageSourceSettings) {
  const env = [
    { name: "KAFKA_CLUSTERS_0_NAME", value: KAFKA_CLUSTER_NAME },
    { name: "KAFKA_CLUSTERS_0_BOOTSTRAPSERVERS", value: bootstrapAddress(namespace) },
    // Read-only mode: no topic creation, deletion, config change or message production from the UI.
    { name: "KAFKA_CLUSTERS_0_READONLY", value: "true" },
    { name: "KAFKA_CLUSTERS_0_PROPERTIES_SECURITY_PROTOCOL", value: "SASL_SSL" },
    { name: "KAFKA_CLUSTERS_0_PROPERTIES_SASL_MECHANISM", value: SASL_MECHANISM },
    { name: "KAFKA_CLUSTERS_0_PROPERTIES_SASL_JAAS_CONFIG", valueFrom: { secretKeyRef: { name: KAFKA_USERS.kafkaUi, key: "sasl.jaas.config" } } },
    { name: "KAFKA_CLUSTERS_0_PROPERTIES_SSL_TRUSTSTORE_TYPE", value: "PEM" },
    { name: "KAFKA_CLUSTERS_0_PROPERTIES_SSL_TRUSTSTORE_LOCATION", value: `${CA_MOUNT}/ca.crt` },
    // Configuration comes from here only; the UI must not be able to add clusters or credentials at runtime.
    { name: "DYNAMIC_CONFIG_ENABLED", value: "false" },
    { name: "JAVA_OPTS", value: "-XX:MaxRAMPercentage=70" },
  ];
  const probe = (initialDelaySeconds: number) => ({
    httpGet: { path: "/actuator/health", port: KAFKA_UI_PORT },
    initialDelaySeconds,
    periodSeconds: 10,
    timeoutSeconds: 5,
  });
  return {
    replicas: KAFKA_UI_REPLICAS,
    selector: { matchLabels: { app: KAFKA_UI_APP } },
    template: {
      metadata: { labels: kafkaUiLabels() },
      spec: {
        enableServiceLinks: false,
        automountServiceAccountToken: false,
        securityContext: { runAsNonRoot: true, runAsUser: KAFKA_UI_UID, runAsGroup: KAFKA_UI_UID, seccompProfile: { type: "RuntimeDefault" } },
        containers: [
          {
            name: KAFKA_UI_APP,
            image: mirrorImage(KAFKA_UI_IMAGE, images),
            ports: [{ name: "http", containerPort: KAFKA_UI_PORT }],
            env,
            resources: KAFKA_UI_RESOURCES,
            readinessProbe: probe(20),
            livenessProbe: probe(60),
            securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } },
            volumeMounts: [
              { name: "cluster-ca", mountPath: CA_MOUNT, readOnly: true },
              { name: "tmp", mountPath: "/tmp" },
            ],
          },
        ],
        volumes: [
          { name: "cluster-ca", secret: { secretName: CLUSTER_CA_SECRET, items: [{ key: "ca.crt", path: "ca.crt" }] } },
          { name: "tmp", emptyDir: {} },
        ],
      },
    },
  };
}

export function kafkaUiServiceSpec() {
  return {
    type: "ClusterIP",
    selector: { app: KAFKA_UI_APP },
    ports: [{ name: "http", port: KAFKA_UI_PORT, targetPort: KAFKA_UI_PORT }],
  };
}
