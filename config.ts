/**
 * The one place stack configuration is read. Every key is typed, every default is a named constant, and the whole
 * configuration is validated before index.ts creates any resource: a bad value fails `pulumi preview` with a message
 * naming the key, the expected and the actual value, and what to change.
 *
 * `parseConfig` is pure (tests call it with plain objects); `loadConfig` reads `pulumi.Config` and calls it.
 */
import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { MIN_INSYNC_REPLICAS, REPLICATION_FACTOR } from "./contract/durability";
import { INSTANCE_TYPES, isKnownInstanceType } from "./contract/instanceTypes";
import { isIpv4Cidr } from "./contract/cidr";
import type { AppSettings } from "./contract/settings";
import {
  DEFAULT_GRACE_PERIOD_SEC,
  DEFAULT_SEEK_TOLERANCE_SEC,
  DEFAULT_SESSION_GAP_SEC,
  DEFAULT_TICK_INTERVAL_SEC,
} from "./contract/sessionization";

/** Config namespace: keys are `watchpipe:<section>` in Pulumi.<stack>.yaml. */
export const CONFIG_NAMESPACE = "watchpipe";

export const ENVIRONMENTS = ["dev", "prod", "local"] as const;
export type Environment = (typeof ENVIRONMENTS)[number];

// ---- defaults (each a named constant with the reason) ------------------------------------------------------------

/** Three AZs: Kafka RF 3 and YugabyteDB RF 3 place one replica per zone and survive losing a zone. */
export const DEFAULT_AZ_COUNT = 3;
/** A /16 leaves room for 3 × (/19 private + /20 public) subnets and later growth. */
export const DEFAULT_VPC_CIDR = "10.40.0.0/16";
/** Flow logs are for incident forensics; 30 days covers a monthly review. */
export const DEFAULT_FLOW_LOG_RETENTION_DAYS = 30;
/** EKS versions are pinned: an unplanned control-plane upgrade is an outage risk. 1.34 is in standard support. */
export const DEFAULT_KUBERNETES_VERSION = "1.34";
/** 8 vCPU / 32 GiB fits one Kafka broker or one YugabyteDB tserver per node with room for the rest. */
export const DEFAULT_NODE_INSTANCE_TYPE = "m7i.2xlarge";
/** Root volume per node: images and logs only, data lives on PersistentVolumes. */
export const DEFAULT_NODE_DISK_GIB = 50;
/** Namespaces every stack creates its workloads in. */
export const DEFAULT_KAFKA_NAMESPACE = "kafka";
/** Kafka version the Strimzi 1.2.0 operator runs (KRaft only). */
export const DEFAULT_KAFKA_BROKERS = 3;
export const DEFAULT_KAFKA_CONTROLLERS = 3;
/** Broker log volume: 100k × ~250 B/s ≈ 25 MB/s; 24 h of raw data × RF 3 / 3 brokers ≈ 2.2 TB per broker at peak. */
export const DEFAULT_BROKER_STORAGE_GIB = 2500;
export const DEFAULT_CONTROLLER_STORAGE_GIB = 20;
/** Raw JSON is replayable input: keep a day so a bad deploy of the SQL can be reprocessed. */
export const DEFAULT_RAW_RETENTION_HOURS = 24;
/** Validated heartbeats: a week for reprocessing sessionization changes. */
export const DEFAULT_HEARTBEATS_RETENTION_HOURS = 168;
/** Segments are in YugabyteDB; a week in Kafka lets the sink be replayed. */
export const DEFAULT_SEGMENTS_RETENTION_HOURS = 168;
/** Rejects are for debugging producers; two weeks spans a release cycle. */
export const DEFAULT_REJECTED_RETENTION_HOURS = 336;
/** The product's design peak. */
export const DEFAULT_PEAK_EVENTS_PER_SEC = 100_000;
/** A JSON heartbeat with ids and a device is ~200-250 bytes; sized for the upper end. */
export const DEFAULT_AVG_EVENT_BYTES = 250;
/** Budget per partition, well under what one partition sustains (~10 MB/s), so a hot partition still has room. */
export const DEFAULT_PARTITION_BUDGET_MBPS = 2;
/** Consumer parallelism the design needs: ksqlDB stream threads across replicas, Connect tasks. */
export const DEFAULT_CONSUMER_PARALLELISM = 12;
export const DEFAULT_BRIDGE_REPLICAS = 2;
export const DEFAULT_SCHEMA_REGISTRY_REPLICAS = 2;
export const DEFAULT_KSQLDB_REPLICAS = 2;
/** RocksDB state for session windows; see ksql/README.md for the state estimate. */
export const DEFAULT_KSQLDB_STORAGE_GIB = 100;
export const DEFAULT_CONNECT_REPLICAS = 2;
/** One sink task per ksqlDB output partition is the most the sink can use. */
export const DEFAULT_CONNECT_TASKS_MAX = 6;
export const DEFAULT_YUGABYTE_REPLICATION_FACTOR = 3;
export const DEFAULT_YUGABYTE_STORAGE_GIB = 500;
/** One tserver per AZ: RF 3 puts one replica of every tablet in each zone. */
export const DEFAULT_YUGABYTE_TSERVERS = 3;
/** A Connect worker runs a few sink tasks; the JDBC driver and batches need little heap (half of this). */
export const DEFAULT_CONNECT_RESOURCES = { cpu: "2", memory: "4Gi" } as const;

/** Monitoring lives apart from the workloads it watches, so a namespace-wide change there cannot blind it. */
export const DEFAULT_MONITORING_NAMESPACE = "monitoring";
/** Two weeks of metrics covers an incident review after a long weekend; older trends belong in long-term storage. */
export const DEFAULT_METRICS_RETENTION_DAYS = 15;
/** ~1.5 M active series at ~2 bytes/sample, 30 s scrapes, 15 days ≈ 100 GiB with headroom for compaction. */
export const DEFAULT_METRICS_STORAGE_GIB = 150;
/** Alertmanager keeps silences and notification state only. */
export const DEFAULT_ALERTMANAGER_STORAGE_GIB = 5;
/** Grafana's SQLite (users, annotations); dashboards come from ConfigMaps. */
export const DEFAULT_GRAFANA_STORAGE_GIB = 5;
/** The label this program's PodMonitors/ServiceMonitors/PrometheusRules carry and the Prometheus selects on. */
export const DEFAULT_MONITORING_SELECTOR_LABELS = { "watchpipe.io/monitoring": "watchpipe" } as const;
/** Where the alerts' runbook links point: this repository's docs/runbooks/ as the code host renders it. */
export const DEFAULT_RUNBOOK_BASE_URL = "https://github.com/watchpipe/watchpipe/blob/main/docs/runbooks";
const KUBERNETES_VERSION = /^1\.(2[89]|3[0-9])$/;
const QUANTITY = /^[0-9]+(\.[0-9]+)?(m|Ki|Mi|Gi|Ti)?$/;
const ROLE_ARN = /^arn:aws[a-z-]*:iam::[0-9]{12}:role\/[\w+=,.@/-]+$/;
const CERT_ARN = /^arn:aws[a-z-]*:acm:[a-z0-9-]+:[0-9]{12}:certificate\/[0-9a-f-]+$/;

const cidr = z.string().refine(isIpv4Cidr, { message: "expected an IPv4 CIDR like 10.40.0.0/16 (network address, prefix 0-32)" });
const instanceType = z.string().refine(isKnownInstanceType, {
  message: `expected a known instance type (${Object.keys(INSTANCE_TYPES).join(", ")})`,
});
const quantity = z.string().regex(QUANTITY, "expected a Kubernetes quantity like 2, 500m, 8Gi");
const positiveInt = z.number().int().min(1);

const resources = z.strictObject({ cpu: quantity, memory: quantity });

const networkSchema = z.strictObject({
  cidr: cidr.default(DEFAULT_VPC_CIDR),
  azCount: z.number().int().min(2).max(6).default(DEFAULT_AZ_COUNT),
  natGatewayPerAz: z.boolean().default(true),
  flowLogRetentionDays: positiveInt.default(DEFAULT_FLOW_LOG_RETENTION_DAYS),
});

const eksSchema = z.strictObject({
  mode: z.literal("eks"),
  kubernetesVersion: z.string().regex(KUBERNETES_VERSION, "expected a pinned minor version like 1.34").default(DEFAULT_KUBERNETES_VERSION),
  adminRoleArn: z.string().regex(ROLE_ARN, "expected an IAM role ARN like arn:aws:iam::123456789012:role/platform-admin"),
  publicAccessCidrs: z.array(cidr).min(1, "list at least one CIDR allowed to reach the public API endpoint"),
  nodeInstanceType: instanceType.default(DEFAULT_NODE_INSTANCE_TYPE),
  nodesPerAz: z
    .strictObject({ min: z.number().int().min(0), desired: z.number().int().min(0), max: positiveInt })
    .default({ min: 1, desired: 2, max: 4 }),
  nodeDiskGiB: z.number().int().min(20).default(DEFAULT_NODE_DISK_GIB),
  /** Retain keeps EBS volumes when a PVC is deleted (prod); Delete cleans them up (dev). */
  volumeReclaimPolicy: z.enum(["Retain", "Delete"]).default("Retain"),
});

const existingSchema = z.strictObject({
  mode: z.literal("existing"),
  /** kubeconfig context to deploy to; empty means the current context. */
  kubeconfigContext: z.string().min(1).optional(),
  /** StorageClass for every PersistentVolumeClaim (kind: standard, k3d: local-path, minikube: standard). */
  storageClass: z.string().min(1).default("standard"),
});

const clusterSchema = z.discriminatedUnion("mode", [eksSchema, existingSchema]);

const kafkaSchema = z.strictObject({
  namespace: z.string().min(1).default(DEFAULT_KAFKA_NAMESPACE),
  /** dedicated: separate controller and broker pools (prod); dual-role: each node is both (dev, local). */
  nodePools: z.enum(["dedicated", "dual-role"]).default("dedicated"),
  brokers: positiveInt.default(DEFAULT_KAFKA_BROKERS),
  controllers: positiveInt.default(DEFAULT_KAFKA_CONTROLLERS),
  brokerStorageGiB: positiveInt.default(DEFAULT_BROKER_STORAGE_GIB),
  controllerStorageGiB: positiveInt.default(DEFAULT_CONTROLLER_STORAGE_GIB),
  brokerResources: resources.default({ cpu: "4", memory: "16Gi" }),
  controllerResources: resources.default({ cpu: "1", memory: "2Gi" }),
  replicationFactor: positiveInt.default(REPLICATION_FACTOR),
  minInsyncReplicas: positiveInt.default(MIN_INSYNC_REPLICAS),
  /** Rack awareness + zone spread; off for local clusters whose nodes carry no zone label. */
  rackAwareness: z.boolean().default(true),
  retentionHours: z
    .strictObject({
      raw: positiveInt.default(DEFAULT_RAW_RETENTION_HOURS),
      heartbeats: positiveInt.default(DEFAULT_HEARTBEATS_RETENTION_HOURS),
      segments: positiveInt.default(DEFAULT_SEGMENTS_RETENTION_HOURS),
      rejected: positiveInt.default(DEFAULT_REJECTED_RETENTION_HOURS),
    })
    .default({
      raw: DEFAULT_RAW_RETENTION_HOURS,
      heartbeats: DEFAULT_HEARTBEATS_RETENTION_HOURS,
      segments: DEFAULT_SEGMENTS_RETENTION_HOURS,
      rejected: DEFAULT_REJECTED_RETENTION_HOURS,
    }),
});

const capacitySchema = z.strictObject({
  peakEventsPerSec: positiveInt.default(DEFAULT_PEAK_EVENTS_PER_SEC),
  avgEventBytes: positiveInt.default(DEFAULT_AVG_EVENT_BYTES),
  partitionBudgetMBps: z.number().positive().default(DEFAULT_PARTITION_BUDGET_MBPS),
  consumerParallelism: positiveInt.default(DEFAULT_CONSUMER_PARALLELISM),
});

const bridgeSchema = z.strictObject({
  replicas: positiveInt.default(DEFAULT_BRIDGE_REPLICAS),
  /** internal: an internal ALB (default); internet-facing: a public ALB with TLS (needs certificateArn). */
  exposure: z.enum(["internal", "internet-facing"]).default("internal"),
  certificateArn: z.string().regex(CERT_ARN, "expected an ACM certificate ARN").optional(),
});

const sessionizationSchema = z.strictObject({
  sessionGapSec: positiveInt.default(DEFAULT_SESSION_GAP_SEC),
  gracePeriodSec: z.number().int().min(0).default(DEFAULT_GRACE_PERIOD_SEC),
  seekToleranceSec: z.number().positive().default(DEFAULT_SEEK_TOLERANCE_SEC),
  tickIntervalSec: positiveInt.default(DEFAULT_TICK_INTERVAL_SEC),
});

const schemaRegistrySchema = z.strictObject({ replicas: positiveInt.default(DEFAULT_SCHEMA_REGISTRY_REPLICAS) });

const ksqldbSchema = z.strictObject({
  replicas: positiveInt.default(DEFAULT_KSQLDB_REPLICAS),
  storageGiB: positiveInt.default(DEFAULT_KSQLDB_STORAGE_GIB),
  resources: resources.default({ cpu: "4", memory: "16Gi" }),
});

const connectSchema = z.strictObject({
  replicas: positiveInt.default(DEFAULT_CONNECT_REPLICAS),
  tasksMax: positiveInt.default(DEFAULT_CONNECT_TASKS_MAX),
  resources: resources.default({ ...DEFAULT_CONNECT_RESOURCES }),
  /** Where the Connect image with plugins is pushed; required on `local` (e.g. a kind registry), ECR on EKS. */
  imageRegistry: z.string().min(1).optional(),
});

const yugabyteSchema = z.strictObject({
  namespace: z.string().min(1).default("yugabyte"),
  installer: z.enum(["helm", "operator"]).default("helm"),
  /** Where the YugabyteDB Kubernetes Operator chart lives (it is not published in a Helm repository). */
  operatorChart: z.strictObject({ repo: z.string().min(1), chart: z.string().min(1), version: z.string().min(1) }).optional(),
  replicationFactor: z.union([z.literal(1), z.literal(3)]).default(DEFAULT_YUGABYTE_REPLICATION_FACTOR),
  /**
   * multi-zone: one Helm release per AZ (prod); single: one release holding all replicas (dev, local). Unset, it is
   * multi-zone on EKS and single on an existing cluster (whose nodes may carry no zone labels).
   */
  topology: z.enum(["multi-zone", "single"]).optional(),
  masterResources: resources.default({ cpu: "2", memory: "4Gi" }),
  tserverResources: resources.default({ cpu: "4", memory: "16Gi" }),
  storageGiB: positiveInt.default(DEFAULT_YUGABYTE_STORAGE_GIB),
  /** Total tservers; multi-zone spreads them evenly over the zones. */
  tservers: positiveInt.default(DEFAULT_YUGABYTE_TSERVERS),
});

const monitoringSchema = z.strictObject({
  enabled: z.boolean().default(false),
  mode: z.enum(["stack", "existing"]).default("stack"),
  namespace: z.string().min(1).default(DEFAULT_MONITORING_NAMESPACE),
  retentionDays: positiveInt.default(DEFAULT_METRICS_RETENTION_DAYS),
  storageGiB: positiveInt.default(DEFAULT_METRICS_STORAGE_GIB),
  alertmanagerStorageGiB: positiveInt.default(DEFAULT_ALERTMANAGER_STORAGE_GIB),
  grafanaStorageGiB: positiveInt.default(DEFAULT_GRAFANA_STORAGE_GIB),
  selectorLabels: z
    .record(z.string().min(1), z.string().min(1))
    .refine((m) => Object.keys(m).length > 0, { message: "expected at least one label, e.g. {\"watchpipe.io/monitoring\": \"watchpipe\"}" })
    .default({ ...DEFAULT_MONITORING_SELECTOR_LABELS }),
  runbookBaseUrl: z.string().regex(/^https?:\/\/\S+[^/]$/, "expected an http(s) URL without a trailing slash").default(DEFAULT_RUNBOOK_BASE_URL),
});

const rootSchema = z.strictObject({
  environment: z.enum(ENVIRONMENTS),
  owner: z.string().min(1, "name the owning team, e.g. platform-team"),
  /** Pulumi `protect` on Kafka and YugabyteDB resources: deletion or replacement needs a deliberate unprotect. */
  protectData: z.boolean().default(true),
  network: networkSchema.prefault({}),
  cluster: clusterSchema,
  kafka: kafkaSchema.prefault({}),
  capacity: capacitySchema.prefault({}),
  bridge: bridgeSchema.prefault({}),
  sessionization: sessionizationSchema.prefault({}),
  schemaRegistry: schemaRegistrySchema.prefault({}),
  ksqldb: ksqldbSchema.prefault({}),
  connect: connectSchema.prefault({}),
  yugabyte: yugabyteSchema.prefault({}),
  monitoring: monitoringSchema.prefault({}),
});

type ParsedConfig = z.infer<typeof rootSchema>;
/** The validated configuration, with defaults that depend on other keys filled in. */
export type AppConfig = Omit<ParsedConfig, "yugabyte"> & {
  readonly yugabyte: ParsedConfig["yugabyte"] & { readonly topology: "multi-zone" | "single" };
  readonly stack: string;
  readonly project: string;
  readonly region: string;
};
// config.ts validates into the contract's AppSettings (components are typed against it): a schema change that drifts
// from contract/settings.ts fails to compile here.
type SameShape<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const configMatchesSettings: SameShape<AppConfig, AppSettings> = true;
void configMatchesSettings;
export type ClusterConfig = AppConfig["cluster"];
export type EksClusterConfig = Extract<ClusterConfig, { mode: "eks" }>;
export type KafkaConfig = AppConfig["kafka"];
export type NetworkConfig = AppConfig["network"];

/** Raw configuration as read from the stack: `watchpipe:<key>` values (objects already parsed from YAML). */
export type RawConfig = Readonly<Record<string, unknown>>;

export class ConfigError extends Error {
  constructor(readonly stackName: string, readonly problems: readonly string[]) {
    super(
      `Invalid stack configuration for stack "${stackName}" (nothing was created):\n` +
        problems.map((p) => `  - ${p}`).join("\n") +
        `\nFix the keys above in Pulumi.${stackName}.yaml (see README.md, "Configuration reference").`,
    );
    this.name = "ConfigError";
  }
}

function keyOf(path: readonly PropertyKey[]): string {
  const [section, ...rest] = path.map(String);
  return `${CONFIG_NAMESPACE}:${section}${rest.length ? "." + rest.join(".") : ""}`;
}

function show(value: unknown): string {
  return value === undefined ? "nothing (key missing)" : JSON.stringify(value);
}

/** Rules that span keys, applied after the shape is valid. Each returns an actionable message or nothing. */
export function crossFieldProblems(cfg: Omit<AppConfig, "stack" | "project" | "region">): string[] {
  const problems: string[] = [];
  const k = cfg.kafka;
  const ns = CONFIG_NAMESPACE;
  if (cfg.environment === "prod" && cfg.cluster.mode !== "eks") {
    problems.push(`${ns}:cluster.mode: prod must run on its own EKS cluster; got ${show(cfg.cluster.mode)}. Set it to "eks".`);
  }
  if (cfg.cluster.mode === "eks") {
    if (cfg.environment === "prod" && cfg.network.azCount !== 3) {
      problems.push(`${ns}:network.azCount: prod must span exactly 3 availability zones (one Kafka and YugabyteDB replica per zone); got ${cfg.network.azCount}. Set it to 3.`);
    }
    if (cfg.environment === "prod" && !cfg.network.natGatewayPerAz) {
      problems.push(`${ns}:network.natGatewayPerAz: prod needs one NAT gateway per AZ so losing a zone does not cut the others off; got false. Set it to true.`);
    }
    const n = cfg.cluster.nodesPerAz;
    if (!(n.min <= n.desired && n.desired <= n.max)) {
      problems.push(`${ns}:cluster.nodesPerAz: expected min <= desired <= max; got ${show(n)}.`);
    }
  }
  if (k.minInsyncReplicas >= k.replicationFactor) {
    problems.push(`${ns}:kafka.minInsyncReplicas: must be less than kafka.replicationFactor (${k.replicationFactor}) or a single broker outage stops all writes; got ${k.minInsyncReplicas}. Use ${k.replicationFactor - 1}.`);
  }
  if (k.replicationFactor < REPLICATION_FACTOR) {
    problems.push(`${ns}:kafka.replicationFactor: must be at least ${REPLICATION_FACTOR} (durability policy); got ${k.replicationFactor}.`);
  }
  if (k.minInsyncReplicas < MIN_INSYNC_REPLICAS) {
    problems.push(`${ns}:kafka.minInsyncReplicas: must be at least ${MIN_INSYNC_REPLICAS} so an acknowledged write survives a broker loss; got ${k.minInsyncReplicas}.`);
  }
  if (k.replicationFactor > k.brokers) {
    problems.push(`${ns}:kafka.replicationFactor: cannot exceed kafka.brokers (${k.brokers}); got ${k.replicationFactor}. Raise kafka.brokers or lower the replication factor.`);
  }
  if (k.nodePools === "dedicated" && k.controllers % 2 === 0) {
    problems.push(`${ns}:kafka.controllers: a KRaft quorum needs an odd number of controllers; got ${k.controllers}. Use 3 (or 5).`);
  }
  if (cfg.environment === "prod" && k.nodePools !== "dedicated") {
    problems.push(`${ns}:kafka.nodePools: prod runs dedicated controllers; got ${show(k.nodePools)}. Set it to "dedicated".`);
  }
  if (cfg.bridge.exposure === "internet-facing" && !cfg.bridge.certificateArn) {
    problems.push(`${ns}:bridge.certificateArn: an internet-facing bridge serves HTTPS only and needs an ACM certificate ARN; got nothing. Set it or use exposure "internal".`);
  }
  const yb = cfg.yugabyte;
  // Prod's own azCount rule above already demands 3 zones; this one covers dev-like EKS stacks.
  if (cfg.cluster.mode === "eks" && cfg.environment !== "prod" && yb.topology === "multi-zone" && cfg.network.azCount !== yb.replicationFactor) {
    problems.push(`${ns}:yugabyte.topology: multi-zone runs one master per AZ, so network.azCount (${cfg.network.azCount}) must equal yugabyte.replicationFactor (${yb.replicationFactor}).`);
  }
  if (yb.topology === "multi-zone" && cfg.cluster.mode !== "eks") {
    problems.push(`${ns}:yugabyte.topology: "multi-zone" places one release per AWS AZ and needs cluster.mode "eks"; got cluster.mode ${show(cfg.cluster.mode)}. Set yugabyte.topology to "single".`);
  }
  if (yb.topology === "multi-zone" && yb.tservers % yb.replicationFactor !== 0) {
    problems.push(`${ns}:yugabyte.tservers: multi-zone spreads tservers evenly over ${yb.replicationFactor} zones; got ${yb.tservers}. Use a multiple of ${yb.replicationFactor}.`);
  }
  if (yb.tservers < yb.replicationFactor) {
    problems.push(`${ns}:yugabyte.tservers: must be at least yugabyte.replicationFactor (${yb.replicationFactor}); got ${yb.tservers}.`);
  }
  for (const [key, r] of [["masterResources", yb.masterResources], ["tserverResources", yb.tserverResources]] as const) {
    if (!/^[0-9]+(Gi|G)$/.test(r.memory)) {
      problems.push(`${ns}:yugabyte.${key}.memory: the chart derives the server's hard memory limit from whole Gi; got ${show(r.memory)}. Use e.g. "4Gi".`);
    }
  }
  if (!/^[0-9]+(Gi|Mi)$/.test(cfg.connect.resources.memory)) {
    problems.push(`${ns}:connect.resources.memory: expected Gi or Mi (the heap is derived from it); got ${show(cfg.connect.resources.memory)}.`);
  }
  if (cfg.yugabyte.installer === "operator" && !cfg.yugabyte.operatorChart) {
    problems.push(`${ns}:yugabyte.operatorChart: installer "operator" needs the chart location {repo, chart, version}; got nothing.`);
  }
  if (cfg.environment === "prod" && (cfg.yugabyte.replicationFactor !== 3 || cfg.yugabyte.topology !== "multi-zone")) {
    problems.push(`${ns}:yugabyte: prod needs replicationFactor 3 over a multi-zone topology; got replicationFactor ${cfg.yugabyte.replicationFactor}, topology ${show(cfg.yugabyte.topology)}.`);
  }
  if (cfg.cluster.mode === "existing" && !cfg.connect.imageRegistry) {
    problems.push(`${ns}:connect.imageRegistry: on an existing cluster the Kafka Connect image needs a registry to push to (e.g. "localhost:5001/watchpipe" for a kind registry); got nothing.`);
  }
  if (cfg.sessionization.seekToleranceSec >= cfg.sessionization.sessionGapSec) {
    problems.push(`${ns}:sessionization.seekToleranceSec: must be smaller than sessionGapSec (${cfg.sessionization.sessionGapSec}); got ${cfg.sessionization.seekToleranceSec}.`);
  }
  problems.push(...operationsProblems(cfg));
  return problems;
}

/** Rules for the monitoring section (kept apart so the list above stays readable). */
function operationsProblems(cfg: Omit<AppConfig, "stack" | "project" | "region">): string[] {
  const problems: string[] = [];
  const ns = CONFIG_NAMESPACE;
  // Prod off EKS is refused above already; these two rules apply to the prod that can exist.
  if (cfg.environment === "prod" && cfg.cluster.mode === "eks" && !cfg.monitoring.enabled) {
    problems.push(`${ns}:monitoring.enabled: prod must be monitored (alerts on FAILED sink tasks, lost brokers, full disks); got false. Set it to true.`);
  }
  return problems;
}

/**
 * Validate raw stack configuration. Throws {@link ConfigError} listing every problem; never returns a partly valid
 * config. `stack` names the stack in messages; `environment` defaults to the stack name when that is one of
 * dev/prod/local.
 */
export function parseConfig(raw: RawConfig, stack: string, project = "watchpipe", region = "us-east-1"): AppConfig {
  const input: Record<string, unknown> = { ...raw };
  if (input.environment === undefined && (ENVIRONMENTS as readonly string[]).includes(stack)) input.environment = stack;
  const parsed = rootSchema.safeParse(input, { reportInput: true });
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      if (issue.code === "unrecognized_keys") {
        const where = issue.path.length ? keyOf(issue.path) + "." : `${CONFIG_NAMESPACE}:`;
        return `${issue.keys.map((key) => where + key).join(", ")}: unknown key; check the spelling against README.md's configuration reference.`;
      }
      const got = "input" in issue ? show(issue.input) : "an invalid value";
      return `${keyOf(issue.path)}: ${issue.message}; got ${got}.`;
    });
    throw new ConfigError(stack, problems);
  }
  const data = parsed.data;
  const topology = data.yugabyte.topology ?? (data.cluster.mode === "eks" ? "multi-zone" : "single");
  const cfg: AppConfig = { ...data, yugabyte: { ...data.yugabyte, topology }, stack, project, region };
  const problems = crossFieldProblems(cfg);
  if (problems.length) throw new ConfigError(stack, problems);
  return cfg;
}

/** Every top-level key `parseConfig` accepts. */
export const CONFIG_KEYS = Object.keys(rootSchema.shape);

/** Read and validate this stack's configuration. Call once, first thing in index.ts. */
export function loadConfig(): AppConfig {
  const cfg = new pulumi.Config(CONFIG_NAMESPACE);
  const raw: Record<string, unknown> = {};
  for (const key of CONFIG_KEYS) {
    // Structured keys arrive as JSON text, plain ones as bare strings ("prod"); booleans and numbers as JSON.
    const text = cfg.get(key);
    if (text === undefined) continue;
    try {
      raw[key] = JSON.parse(text);
    } catch {
      raw[key] = text;
    }
  }
  const region = new pulumi.Config("aws").get("region") ?? "us-east-1";
  return parseConfig(raw, pulumi.getStack(), pulumi.getProject(), region);
}
