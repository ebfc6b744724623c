/**
 * Pieces shared by the Confluent Platform workloads (Schema Registry, ksqlDB, the ksql-migrations Job) and the tick
 * source: pinned images, the pod security baseline, the Kafka client security settings and the mapping from Java
 * properties to the environment variables the cp images render into their properties file.
 *
 * Pure functions returning plain objects: the components, the tests and the policy pack all use them.
 */
import type { types } from "@pulumi/kubernetes";
import { CLUSTER_CA_SECRET, KAFKA_CLIENT_LABEL } from "../../contract/clients";
import { SASL_MECHANISM } from "../../contract/durability";
import { CP_VERSION } from "../../contract/confluent";

/** Confluent Platform release for Schema Registry and ksqlDB: one constant, in contract/ (the vector script reads it). */
export { CP_VERSION };
export const SCHEMA_REGISTRY_IMAGE = `confluentinc/cp-schema-registry:${CP_VERSION}`;
/** The Confluent Platform ksqlDB image also ships `ksql-migrations`, so the migrations Job runs the same build. */
export const KSQLDB_IMAGE = `confluentinc/cp-ksqldb-server:${CP_VERSION}`;
/** curl 8.21.0 (June 2026), the newest curl/curl-container release; Alpine-based, so it has a POSIX sh too. */
export const CURL_IMAGE = "curlimages/curl:8.21.0";

/** The cp images run as `appuser`, uid/gid 1000 (cp-base-java-micro's APP_UID/APP_GID). */
export const CP_UID = 1000;
/**
 * curlimages/curl declares `USER curl_user` by name, which Kubernetes cannot check against runAsNonRoot; the Alpine
 * `adduser -S` gives it uid 100 in group curl_group (gid 101). Pinning the numbers makes runAsNonRoot verifiable.
 */
export const CURL_UID = 100;
export const CURL_GID = 101;

/** Where the Strimzi cluster CA certificate is mounted in every Kafka client pod. */
export const KAFKA_CA_DIR = "/etc/watchpipe/kafka-ca";
/** Kafka clients read it as a PEM truststore (KIP-651), so no JKS conversion or truststore password is needed. */
export const KAFKA_CA_FILE = `${KAFKA_CA_DIR}/ca.crt`;
/** Key of the Strimzi-generated KafkaUser Secret that holds the complete SCRAM JAAS line (username and password). */
export const JAAS_SECRET_KEY = "sasl.jaas.config";
/** Volume name of the CA mount in every pod spec we build. */
export const KAFKA_CA_VOLUME = "kafka-ca";

/** Labels on the pods of one workload; every Kafka client also carries KAFKA_CLIENT_LABEL for the brokers' policy. */
export function workloadLabels(app: string, kafkaClient: boolean): Record<string, string> {
  return {
    "app.kubernetes.io/name": app,
    "app.kubernetes.io/part-of": "watchpipe",
    "app.kubernetes.io/managed-by": "pulumi",
    ...(kafkaClient ? KAFKA_CLIENT_LABEL : {}),
  };
}

/** Just the selector part of {@link workloadLabels}: selectors are immutable, so they use the one stable label. */
export function selectorLabels(app: string): Record<string, string> {
  return { "app.kubernetes.io/name": app };
}

/**
 * Kafka client settings for TLS + SCRAM-SHA-512 against the Strimzi listener, without the secret part: the JAAS line
 * comes from the KafkaUser Secret through a secretKeyRef (see {@link secretEnv}). Hostname verification stays on
 * (the Java default `https`): Strimzi's broker certificates carry the bootstrap and per-broker service names.
 */
export function kafkaClientSecurityProps(): Record<string, string> {
  return {
    "security.protocol": "SASL_SSL",
    "sasl.mechanism": SASL_MECHANISM,
    "ssl.truststore.type": "PEM",
    "ssl.truststore.location": KAFKA_CA_FILE,
    "ssl.endpoint.identification.algorithm": "https",
  };
}

/** Prefix every key of a property map (e.g. Schema Registry's `kafkastore.`). */
export function prefixed(prefix: string, props: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(props).map(([k, v]) => [prefix + k, v]));
}

// ---- cp image environment mapping ------------------------------------------------------------------------------

/**
 * The cp images' `ub render-template` turns `<PREFIX><NAME>` env vars into properties: in NAME a single `_` becomes
 * `.`, `__` becomes `_`, `___` becomes `-`, then lower-case. A single `_` is only recognised between two
 * non-underscore characters, matched left to right without overlap (regex `[^_]_[^_]`), so a one-letter segment
 * ("a.b.c") does not survive the trip; {@link propertyToEnvName} refuses such names.
 */
export function envNameToProperty(envPrefix: string, envName: string): string {
  if (!envName.startsWith(envPrefix)) {
    throw new Error(`envNameToProperty: ${envName} does not start with the prefix ${envPrefix}`);
  }
  const name = envName.slice(envPrefix.length);
  const singles = name.replace(/[^_]_[^_]/g, (m) => m.replace("_", "."));
  return singles.replace(/___/g, "-").replace(/__/g, "_").toLowerCase();
}

/** Inverse of {@link envNameToProperty}; throws when the image would not map the name back to the same property. */
export function propertyToEnvName(envPrefix: string, property: string): string {
  if (!/^[a-z0-9._-]+$/.test(property)) {
    throw new Error(`propertyToEnvName: "${property}" has characters the cp images cannot express as an env var name (allowed: a-z 0-9 . _ -). Use a mounted properties file for it.`);
  }
  const env = envPrefix + property.replace(/_/g, "__").replace(/-/g, "___").replace(/\./g, "_").toUpperCase();
  const back = envNameToProperty(envPrefix, env);
  if (back !== property) {
    throw new Error(`propertyToEnvName: "${property}" would reach the image as "${back}" via ${env} (one-letter segments do not survive the mapping). Use a mounted properties file for it.`);
  }
  return env;
}

/** A container env entry: a plain value or a reference to a Secret key (never the secret's value). */
export type EnvVar =
  | { readonly name: string; readonly value: string }
  | { readonly name: string; readonly valueFrom: { readonly secretKeyRef: { readonly name: string; readonly key: string } } }
  | { readonly name: string; readonly valueFrom: { readonly fieldRef: { readonly fieldPath: string } } };

/** Plain (non-secret) properties as cp-image env vars, sorted by name so the rendered spec is stable. */
export function propertiesToEnv(envPrefix: string, props: Record<string, string>): EnvVar[] {
  return Object.keys(props)
    .sort()
    .map((p) => ({ name: propertyToEnvName(envPrefix, p), value: props[p] }));
}

/** A property whose value comes from a Secret key, e.g. `sasl.jaas.config` from the KafkaUser Secret. */
export function secretEnv(envPrefix: string, property: string, secretName: string, key: string): EnvVar {
  return { name: propertyToEnvName(envPrefix, property), valueFrom: { secretKeyRef: { name: secretName, key } } };
}

// ---- pod building blocks ----------------------------------------------------------------------------------------

/** Pod-level security: non-root with a fixed uid, the runtime's default seccomp profile, fsGroup for volumes. */
export function podSecurityContext(uid: number, gid: number = uid): types.input.core.v1.PodSecurityContext {
  return {
    runAsNonRoot: true,
    runAsUser: uid,
    runAsGroup: gid,
    fsGroup: gid,
    seccompProfile: { type: "RuntimeDefault" },
  };
}

/**
 * Container-level security. The root filesystem stays writable for the cp images: their entrypoint renders the
 * properties file into /etc/<component> at start.
 */
export function containerSecurityContext(readOnlyRootFilesystem: boolean): types.input.core.v1.SecurityContext {
  return {
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem,
    capabilities: { drop: ["ALL"] },
  };
}

/** The cluster CA Secret as a volume (only `ca.crt`, never the CA key, which lives in a different Secret). */
export function kafkaCaVolume(): types.input.core.v1.Volume {
  return { name: KAFKA_CA_VOLUME, secret: { secretName: CLUSTER_CA_SECRET, items: [{ key: "ca.crt", path: "ca.crt" }] } };
}

export function kafkaCaVolumeMount(): types.input.core.v1.VolumeMount {
  return { name: KAFKA_CA_VOLUME, mountPath: KAFKA_CA_DIR, readOnly: true };
}

/** An HTTP probe on the named container port. */
export function httpProbe(path: string, port: string, periodSeconds: number, failureThreshold: number, timeoutSeconds = 5): types.input.core.v1.Probe {
  return { httpGet: { path, port }, periodSeconds, failureThreshold, timeoutSeconds };
}

/**
 * A PodDisruptionBudget that lets a drain take one pod at a time. maxUnavailable (not minAvailable) so a
 * single-replica dev stack can still be drained instead of blocking node upgrades forever.
 */
export function podDisruptionBudgetSpec(app: string): types.input.policy.v1.PodDisruptionBudgetSpec {
  return { maxUnavailable: 1, selector: { matchLabels: selectorLabels(app) } };
}

/**
 * Ingress for one workload's HTTP port from pods in its own namespace only (the Kafka namespace holds exactly our
 * Kafka clients); the namespace's default-deny policy blocks everything else.
 */
export function sameNamespaceIngressPolicySpec(app: string, port: number): types.input.networking.v1.NetworkPolicySpec {
  return {
    podSelector: { matchLabels: selectorLabels(app) },
    policyTypes: ["Ingress"],
    ingress: [{ from: [{ podSelector: {} }], ports: [{ protocol: "TCP", port }] }],
  };
}

/** Prefer one pod per zone; `ScheduleAnyway` so clusters without zone labels (local) still schedule. */
export function zoneSpread(app: string): types.input.core.v1.TopologySpreadConstraint {
  return {
    maxSkew: 1,
    topologyKey: "topology.kubernetes.io/zone",
    whenUnsatisfiable: "ScheduleAnyway",
    labelSelector: { matchLabels: selectorLabels(app) },
  };
}

/** JVM heap as a share of the container memory limit; the rest is metaspace, direct buffers and (ksqlDB) RocksDB. */
export function heapOpts(percentOfLimit: number): string {
  if (!(percentOfLimit > 0 && percentOfLimit < 100)) {
    throw new Error(`heapOpts: expected a percentage in (0, 100), got ${percentOfLimit}`);
  }
  return `-XX:InitialRAMPercentage=${percentOfLimit} -XX:MaxRAMPercentage=${percentOfLimit}`;
}
