/**
 * Pure builders for Schema Registry: its properties (as cp-image env vars), the Deployment, Service, PDB and
 * NetworkPolicy specs. `components/stream/schemaRegistry.ts` wraps them in resources.
 */
import { mirrorImage, type ImageSourceSettings } from "../../contract/sources";
import type { types } from "@pulumi/kubernetes";
import { bootstrapAddress, KAFKA_USERS, SCHEMA_REGISTRY_GROUP_ID } from "../../contract/clients";
import { CONSUMER_ISOLATION_LEVEL, MIN_INSYNC_REPLICAS, PRODUCER_DURABILITY_CONFIG, REPLICATION_FACTOR } from "../../contract/durability";
import {
  containerSecurityContext,
  CP_UID,
  type EnvVar,
  heapOpts,
  httpProbe,
  JAAS_SECRET_KEY,
  kafkaCaVolume,
  kafkaCaVolumeMount,
  kafkaClientSecurityProps,
  podSecurityContext,
  prefixed,
  propertiesToEnv,
  propertyToEnvName,
  SCHEMA_REGISTRY_IMAGE,
  secretEnv,
  selectorLabels,
  workloadLabels,
  zoneSpread,
} from "./streamingSpecs";
import { SCHEMAS_TOPIC } from "../../contract/topics";
import { jmxAgentJavaOption, jmxAgentPodParts } from "../ops/jmxAgentSpecs";
import { SCHEMA_REGISTRY_METRICS_CONFIG_KEY } from "../ops/schemaRegistryMetrics";

/** App label, Deployment and Service name. The Service name is what clients put in their URLs. */
export const SCHEMA_REGISTRY_APP = "schema-registry";
/** Schema Registry's default REST port; every client config (ksqlDB, Connect converters) assumes it. */
export const SCHEMA_REGISTRY_PORT = 8081;
/** Env prefix the cp-schema-registry image turns into properties. */
export const SR_ENV_PREFIX = "SCHEMA_REGISTRY_";

/**
 * Default compatibility for every subject. BACKWARD_TRANSITIVE: a consumer on the newest schema can read every
 * version still in Kafka, so adding a field (ksqlDB emits every value column as an optional field with a null
 * default) is accepted, while a type change or a new required field is refused at registration time, i.e. when the
 * migration Job runs, instead of breaking the sink mid-stream. Transitive because topics keep a week of data and a
 * replay reads several schema versions with the newest reader, not only the previous one.
 */
export const SCHEMA_COMPATIBILITY = "backward_transitive";

/** Small service: it caches schemas in memory; 1 GiB holds many thousands of schemas. */
export const SCHEMA_REGISTRY_RESOURCES = {
  requests: { cpu: "250m", memory: "1Gi" },
  limits: { memory: "1Gi" },
} as const;
/** Half the container for the heap: the rest is metaspace, threads and Jetty buffers. */
export const SCHEMA_REGISTRY_HEAP_PERCENT = 50;

export interface SchemaRegistrySpecArgs {
  /** `watchpipe:images`: the registry mirror to pull from (unset: the public registry). */
  readonly images?: ImageSourceSettings;
  readonly namespace: string;
  readonly replicas: number;
}

/** In-cluster URL ksqlDB and Connect use. */
export function schemaRegistryUrl(namespace: string): string {
  return `http://${SCHEMA_REGISTRY_APP}.${namespace}.svc:${SCHEMA_REGISTRY_PORT}`;
}

/**
 * Every non-secret Schema Registry property. `kafkastore.*` settings reach the store's producer, consumer and admin
 * client (KafkaStore passes `originalsWithPrefix("kafkastore.")` to them).
 */
export function schemaRegistryProperties(namespace: string): Record<string, string> {
  return {
    listeners: `http://0.0.0.0:${SCHEMA_REGISTRY_PORT}`,
    "schema.registry.group.id": SCHEMA_REGISTRY_GROUP_ID,
    "schema.compatibility.level": SCHEMA_COMPATIBILITY,
    "kafkastore.bootstrap.servers": bootstrapAddress(namespace),
    "kafkastore.topic": SCHEMAS_TOPIC,
    // The topic is a KafkaTopic created before SR starts; these only matter if SR ever has to create it itself.
    "kafkastore.topic.replication.factor": String(REPLICATION_FACTOR),
    "kafkastore.topic.config.min.insync.replicas": String(MIN_INSYNC_REPLICAS),
    ...prefixed("kafkastore.", kafkaClientSecurityProps()),
    // SR forces acks=-1 and idempotence on its store producer already; stating them keeps the policy checkable.
    ...prefixed("kafkastore.", Object.fromEntries(Object.entries(PRODUCER_DURABILITY_CONFIG).map(([k, v]) => [k, String(v)]))),
    // _schemas has no transactional writers, so this reads the same data; kept uniform with every other consumer.
    "kafkastore.isolation.level": CONSUMER_ISOLATION_LEVEL,
  };
}

/** The container's env: the properties, the JAAS line from the KafkaUser Secret, the pod IP as host.name. */
export function schemaRegistryEnv(namespace: string): EnvVar[] {
  return [
    ...propertiesToEnv(SR_ENV_PREFIX, schemaRegistryProperties(namespace)),
    secretEnv(SR_ENV_PREFIX, `kafkastore.${JAAS_SECRET_KEY}`, KAFKA_USERS.schemaRegistry, JAAS_SECRET_KEY),
    // Instances forward writes to the elected leader at host.name: the pod IP is reachable from the other pods.
    { name: propertyToEnvName(SR_ENV_PREFIX, "host.name"), valueFrom: { fieldRef: { fieldPath: "status.podIP" } } },
    // Read by the start script, not a property (it also lands in the file as `heap.opts`, which SR ignores).
    { name: "SCHEMA_REGISTRY_HEAP_OPTS", value: heapOpts(SCHEMA_REGISTRY_HEAP_PERCENT) },
    // Extra JVM flags for the start script: the metrics agent (lands in the file as `opts` too, also ignored).
    { name: "SCHEMA_REGISTRY_OPTS", value: jmxAgentJavaOption(SCHEMA_REGISTRY_METRICS_CONFIG_KEY) },
  ];
}

/** Deployment spec: stateless (the store is the `_schemas` topic), spread over zones, rolled one pod at a time. */
/** ConfigMap with the JMX exporter rules (components/ops/schemaRegistryMetrics.ts). */
export const SCHEMA_REGISTRY_METRICS_CONFIG_MAP = "schema-registry-metrics";

export function schemaRegistryDeploymentSpec(args: SchemaRegistrySpecArgs): types.input.apps.v1.DeploymentSpec {
  const labels = workloadLabels(SCHEMA_REGISTRY_APP, true);
  const agent = jmxAgentPodParts({ rulesConfigMap: SCHEMA_REGISTRY_METRICS_CONFIG_MAP, rulesKey: SCHEMA_REGISTRY_METRICS_CONFIG_KEY, ...(args.images ? { images: args.images } : {}) });
  return {
    replicas: args.replicas,
    selector: { matchLabels: selectorLabels(SCHEMA_REGISTRY_APP) },
    strategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
    template: {
      metadata: { labels },
      spec: {
        // A Service named schema-registry would inject SCHEMA_REGISTRY_PORT, which the image rejects and exits on.
        enableServiceLinks: false,
        automountServiceAccountToken: false,
        securityContext: podSecurityContext(CP_UID),
        topologySpreadConstraints: [zoneSpread(SCHEMA_REGISTRY_APP)],
        initContainers: [agent.initContainer],
        containers: [
          {
            name: SCHEMA_REGISTRY_APP,
            image: mirrorImage(SCHEMA_REGISTRY_IMAGE, args.images),
            ports: [{ name: "http", containerPort: SCHEMA_REGISTRY_PORT, protocol: "TCP" }, agent.port],
            env: schemaRegistryEnv(args.namespace),
            resources: SCHEMA_REGISTRY_RESOURCES,
            securityContext: containerSecurityContext(false),
            volumeMounts: [kafkaCaVolumeMount(), ...agent.volumeMounts],
            // Waits for the brokers and reads _schemas before the REST server answers: allow up to 5 minutes.
            startupProbe: httpProbe("/", "http", 5, 60),
            // /subjects needs the store, so a pod that lost Kafka leaves the Service until it recovers.
            readinessProbe: httpProbe("/subjects", "http", 10, 3),
            livenessProbe: httpProbe("/", "http", 20, 3),
          },
        ],
        volumes: [kafkaCaVolume(), ...agent.volumes],
      },
    },
  };
}

export function schemaRegistryServiceSpec(): types.input.core.v1.ServiceSpec {
  return {
    type: "ClusterIP",
    selector: selectorLabels(SCHEMA_REGISTRY_APP),
    ports: [{ name: "http", port: SCHEMA_REGISTRY_PORT, targetPort: "http", protocol: "TCP" }],
  };
}
