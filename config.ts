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
import {
  GP3_BASELINE_IOPS,
  GP3_BASELINE_THROUGHPUT_MIBPS,
  GP3_MAX_IOPS,
  GP3_MAX_THROUGHPUT_MIBPS,
  GP3_MIBPS_PER_IOPS,
  INSTANCE_TYPES,
  isKnownInstanceType,
} from "./contract/instanceTypes";
import { isIpv4Cidr } from "./contract/cidr";
import { AWS_REGION, isPrivateCidr, MAX_VPC_PREFIX, MIN_PUBLIC_ACCESS_PREFIX, PRIVATE_RANGES } from "./contract/addresses";
import { ENI_MAX_PODS, podFitProblems, type PodGroup } from "./contract/nodeCapacity";
import type { AppSettings } from "./contract/settings";
import { closest } from "./contract/suggest";
import {
  DEFAULT_WAF_SETTINGS,
  JWT_BUILTIN_CLAIMS,
  JWT_CLAIM_FORMATS,
  JWT_MAX_ADDITIONAL_CLAIMS,
  JWT_MAX_CLAIM_VALUES,
  JWT_MAX_FIELD_CHARS,
  requestsPerPlayer,
  WAF_ALB_BODY_INSPECTION_BYTES,
  WAF_MAX_RATE_LIMIT,
  WAF_MIN_RATE_LIMIT,
  WAF_RATE_WINDOWS_SEC,
  maxHeartbeatsPerRequest,
} from "./contract/ingest";
import {
  DEFAULT_GATEWAY_MIN_REPLICAS,
  defaultGatewayMaxReplicas,
  DESIGN_PEAK_HEARTBEATS_PER_SEC,
  DEFAULT_MAX_BODY_BYTES as GATEWAY_MAX_BODY_BYTES,
  DEFAULT_MAX_HEARTBEATS_PER_REQUEST,
  DEFAULT_SUBJECT_CLAIM,
  GATEWAY_MAX_HEARTBEATS_CEILING,
  GATEWAY_POD_REQUESTS,
} from "./contract/ingestGateway";
import { DIGEST_REF, ECR_REPOSITORY, parseEcrRepository } from "./contract/gatewayImage";
import { EXAMPLE_VALUES_ENV, exampleValueProblems } from "./contract/exampleValues";
import { DEFAULT_HEARTBEAT_LIMITS, heartbeatLimitProblems } from "./contract/ingestLimits";
import {
  BACKUP_NAME_PREFIX, BACKUP_OBJECT_PATTERN, BACKUP_PREFIX, BACKUP_SUFFIX, DEFAULT_BACKUP_HOUR_UTC, DEFAULT_BACKUP_RETENTION_DAYS,
  DEFAULT_BACKUP_SCRATCH_GIB, MAX_RETENTION_DAYS, MIN_RETENTION_DAYS,
} from "./contract/backup";
import {
  DEFAULT_MAINTENANCE_EVERY_MIN, DEFAULT_PIECE_RETENTION_DAYS, DEFAULT_SEGMENT_RETENTION_DAYS, MAINTENANCE_EVERY_MIN_CHOICES,
  MAX_PIECE_RETENTION_DAYS, MAX_SEGMENT_RETENTION_DAYS, MIN_PIECE_RETENTION_DAYS,
} from "./contract/database";
import { CHART_KEYS, mirrorsImages, PINNED_CHART_VERSIONS, PUBLIC_REGISTRIES, REGISTRY_PREFIX, unmirroredRegistries } from "./contract/sources";
import { chartPinProblems } from "./contract/chartVersion";
import { DEFAULT_WAIT_FOR_READY, MAX_RELEASE_TIMEOUT_SEC, MIN_RELEASE_TIMEOUT_SEC } from "./contract/readiness";
import {
  DEFAULT_GRACE_PERIOD_SEC,
  DEFAULT_MAX_PLAYBACK_RATE,
  DEFAULT_SEEK_TOLERANCE_SEC,
  DEFAULT_SESSION_GAP_SEC,
  DEFAULT_TICK_INTERVAL_SEC,
  MAX_MAX_PLAYBACK_RATE,
  MIN_MAX_PLAYBACK_RATE,
  SQL_GRACE_PERIOD_SEC,
} from "./contract/sessionization";
import { partitionPlan } from "./contract/capacity";

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
/**
 * The only retention periods CloudWatch Logs accepts (PutRetentionPolicy): any other number passes a preview and
 * fails the log group's create at deploy time, after the VPC and its subnets exist.
 */
export const CLOUDWATCH_RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653] as const;
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
/**
 * Smallest broker volume accepted. Each partition replica keeps its active segment (up to segment.bytes, 1 GiB by
 * default) and time-based retention deletes only closed segments; with a few dozen replicas per broker a volume
 * below ~10 GiB fills up before retention can free anything. The local stack runs at this floor.
 */
export const MIN_BROKER_STORAGE_GIB = 10;
/** The most AZs the subnet layout has room for (components/subnets.ts MAX_AZS). */
export const MAX_AZ_COUNT = 6;
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
/**
 * Masters hold the system catalog and its Raft log, not table data: the chart's own default (storage.master.size
 * 10Gi) is ample. Before this key existed masters got the tservers' size (3 × 500 GiB of idle gp3 in prod).
 */
export const DEFAULT_YUGABYTE_MASTER_STORAGE_GIB = 10;
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

/**
 * Memory in bytes with an optional binary suffix. The general quantity's `m` (thousandths) is refused: "500m" of memory
 * is half a byte, and the heap sizes derived from memory (kafkaSpecs quantityToMiB) cannot read it.
 */
const MEMORY_QUANTITY = /^[0-9]+(\.[0-9]+)?(Ki|Mi|Gi|Ti)?$/;
const memoryQuantity = z.string().regex(MEMORY_QUANTITY, "expected a memory size like 512Mi, 4Gi or 1.5Gi (Ki, Mi, Gi, Ti or plain bytes; not 500m, which is thousandths of a byte)");
const resources = z.strictObject({ cpu: quantity, memory: memoryQuantity });

const vpcCidr = cidr
  .refine((v) => !isIpv4Cidr(v) || isPrivateCidr(v), {
    message: `expected private address space (RFC 1918: ${PRIVATE_RANGES.join(", ")}); a VPC on public addresses shadows those internet hosts. Use e.g. ${DEFAULT_VPC_CIDR}`,
    abort: true,
  })
  .refine((v) => !isIpv4Cidr(v) || Number(v.split("/")[1]) <= MAX_VPC_PREFIX, {
    message: `expected a /${MAX_VPC_PREFIX} or larger: each AZ gets an eighth of the VPC for nodes and pods (one VPC address per pod). Use e.g. ${DEFAULT_VPC_CIDR}`,
  });

/** An allow-list entry for the public API endpoint: a real CIDR, not (nearly) the whole internet. */
const accessCidr = cidr.refine((v) => !isIpv4Cidr(v) || Number(v.split("/")[1]) >= MIN_PUBLIC_ACCESS_PREFIX, {
  message: `expected your own network's CIDR (a /${MIN_PUBLIC_ACCESS_PREFIX} or narrower); a broader range opens the Kubernetes API endpoint to the internet`,
});

const networkSchema = z.strictObject({
  cidr: vpcCidr.default(DEFAULT_VPC_CIDR),
  /** Shape only; "at least 2" and prod's "exactly 3" are cross-field rules so each gets its own message. */
  azCount: z.number().int().min(1).max(MAX_AZ_COUNT).default(DEFAULT_AZ_COUNT),
  natGatewayPerAz: z.boolean().default(true),
  flowLogRetentionDays: positiveInt
    .refine((d) => (CLOUDWATCH_RETENTION_DAYS as readonly number[]).includes(d), {
      message: `expected a retention CloudWatch Logs accepts: ${CLOUDWATCH_RETENTION_DAYS.join(", ")} (days)`,
    })
    .default(DEFAULT_FLOW_LOG_RETENTION_DAYS),
});

const eksSchema = z.strictObject({
  mode: z.literal("eks"),
  kubernetesVersion: z.string().regex(KUBERNETES_VERSION, "expected a pinned minor version like 1.34").default(DEFAULT_KUBERNETES_VERSION),
  adminRoleArn: z.string().regex(ROLE_ARN, "expected an IAM role ARN like arn:aws:iam::123456789012:role/platform-admin"),
  publicAccessCidrs: z.array(accessCidr).min(1, "list at least one CIDR allowed to reach the public API endpoint"),
  nodeInstanceType: instanceType.default(DEFAULT_NODE_INSTANCE_TYPE),
  nodesPerAz: z
    .strictObject({ min: z.number().int().min(0), desired: z.number().int().min(0), max: positiveInt })
    .default({ min: 1, desired: 2, max: 4 }),
  nodeDiskGiB: z.number().int().min(20).default(DEFAULT_NODE_DISK_GIB),
  /** Retain keeps EBS volumes when a PVC is deleted (prod); Delete cleans them up (dev). */
  volumeReclaimPolicy: z.enum(["Retain", "Delete"]).default("Retain"),
  /** Provisioned gp3 throughput and IOPS of every persistent volume (gp3's baseline is free; more is billed). */
  volumeThroughputMiBps: z.number().int().min(GP3_BASELINE_THROUGHPUT_MIBPS).max(GP3_MAX_THROUGHPUT_MIBPS).default(GP3_BASELINE_THROUGHPUT_MIBPS),
  volumeIops: z.number().int().min(GP3_BASELINE_IOPS).max(GP3_MAX_IOPS).default(GP3_BASELINE_IOPS),
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
  brokerStorageGiB: z
    .number()
    .int()
    .min(MIN_BROKER_STORAGE_GIB, `expected at least ${MIN_BROKER_STORAGE_GIB} (GiB): every partition replica keeps an active segment of up to 1 GiB that retention cannot delete`)
    .default(DEFAULT_BROKER_STORAGE_GIB),
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

/** An https URL with a host (the ALB fetches the JWKS over TLS and accepts nothing else). */
const HTTPS_URL = /^https:\/\/[A-Za-z0-9.-]+(:[0-9]+)?(\/[^\s]*)?$/;
const jwtField = z.string().min(1).max(JWT_MAX_FIELD_CHARS);
const jwtValues = z.array(jwtField).min(1).max(JWT_MAX_CLAIM_VALUES);

/** Token validation on the ALB (contract/ingest.ts): defaults none; required for an internet-facing bridge. */
const jwtSchema = z.strictObject({
  jwksUrl: z.string().max(JWT_MAX_FIELD_CHARS).regex(HTTPS_URL, `expected the identity provider's JWKS URL, https:// and at most ${JWT_MAX_FIELD_CHARS} characters`),
  issuer: jwtField,
  /** The `aud` values a player token must carry (one of them). */
  audience: jwtValues,
  claims: z.array(z.strictObject({ name: jwtField, format: z.enum(JWT_CLAIM_FORMATS), values: jwtValues })).default([]),
});

/** WAFv2 limits; the defaults are sized from the design load in contract/ingest.ts. */
const wafSchema = z.strictObject({
  rateLimitPerIp: z.number().int().min(WAF_MIN_RATE_LIMIT).max(WAF_MAX_RATE_LIMIT).default(DEFAULT_WAF_SETTINGS.rateLimitPerIp),
  rateLimitPerToken: z.number().int().min(WAF_MIN_RATE_LIMIT).max(WAF_MAX_RATE_LIMIT).default(DEFAULT_WAF_SETTINGS.rateLimitPerToken),
  rateWindowSec: z
    .union(WAF_RATE_WINDOWS_SEC.map((w) => z.literal(w)) as [z.ZodLiteral<60>, z.ZodLiteral<120>, z.ZodLiteral<300>, z.ZodLiteral<600>], {
      message: `expected one of WAF's rate windows: ${WAF_RATE_WINDOWS_SEC.join(", ")} (seconds)`,
    })
    .default(DEFAULT_WAF_SETTINGS.rateWindowSec),
  maxBodyBytes: z
    .number()
    .int()
    .min(1)
    .max(WAF_ALB_BODY_INSPECTION_BYTES, `WAF inspects at most the first ${WAF_ALB_BODY_INSPECTION_BYTES} bytes of a body behind an ALB`)
    .default(DEFAULT_WAF_SETTINGS.maxBodyBytes),
});

/** One heartbeat budget: refilled by heartbeatsPerWindow every limits.windowSec, holding at most burst. */
function heartbeatBucketSchema(d: { heartbeatsPerWindow: number; burst: number }) {
  return z.strictObject({ heartbeatsPerWindow: positiveInt.default(d.heartbeatsPerWindow), burst: positiveInt.default(d.burst) }).prefault({});
}

/** The ingest gateway (contract/ingestGateway.ts); absent: the Kafka Bridge stays the players' path. */
const gatewaySchema = z.strictObject({
  /** Ours (images/ingest-gateway): a digest reference, or the ECR repository the ingest-image workflow pushes to (contract/gatewayImage.ts). */
  image: z.string().refine((v) => DIGEST_REF.test(v) || ECR_REPOSITORY.test(v), "expected the ingest gateway image (images/ingest-gateway, built by .github/workflows/ingest-image.yml) as an ECR repository (<account>.dkr.ecr.<region>.amazonaws.com/<name>: the program deploys the digest of this checkout's build) or pinned by digest (<registry>/<repository>@sha256:<64 hex digits>)"),
  subjectClaim: jwtField.default(DEFAULT_SUBJECT_CLAIM),
  maxHeartbeatsPerRequest: positiveInt.max(GATEWAY_MAX_HEARTBEATS_CEILING).default(DEFAULT_MAX_HEARTBEATS_PER_REQUEST),
  minReplicas: positiveInt.default(DEFAULT_GATEWAY_MIN_REPLICAS),
  /** Unset: sized to capacity.peakEventsPerSec (defaultGatewayMaxReplicas; 59 at the 100,000/s design peak). */
  maxReplicas: positiveInt.optional(),
  /** Heartbeat budgets per token subject and per client IP (contract/ingestLimits.ts; defaults there). */
  limits: z.strictObject({
    windowSec: positiveInt.default(DEFAULT_HEARTBEAT_LIMITS.windowSec),
    perToken: heartbeatBucketSchema(DEFAULT_HEARTBEAT_LIMITS.perToken),
    perIp: heartbeatBucketSchema(DEFAULT_HEARTBEAT_LIMITS.perIp),
  }).prefault({}),
  /**
   * Trust the deploy smoke issuer (contract/smokeIssuer.ts; docs/ingest.md): the stack's own ES256 key, whose tokens
   * may write smoke-* users only. Unset: on for dev and local, off for prod (see defaultSmokeIssuer).
   */
  smokeIssuer: z.boolean().optional(),
});

const ingestSchema = z.strictObject({
  jwt: jwtSchema.optional(),
  waf: wafSchema.prefault({}),
  gateway: gatewaySchema.optional(),
});

const GRACE_MESSAGE =
  `expected ${SQL_GRACE_PERIOD_SEC}: the SQL's GRACE PERIOD is that literal (ksql/migrations/V000002; ksqlDB takes no variables in a WINDOW clause), so another grace period needs a new ksqlDB migration first`;

const sessionizationSchema = z.strictObject({
  sessionGapSec: positiveInt.default(DEFAULT_SESSION_GAP_SEC),
  /**
   * The GRACE PERIOD is a literal in ksql/migrations/V000002 (ksqlDB takes no variables in a WINDOW clause): any
   * other value would only fail later, at the ksqlDB migration, so it is refused here until a migration carries it.
   */
  gracePeriodSec: z
    .number()
    .int()
    .min(SQL_GRACE_PERIOD_SEC, GRACE_MESSAGE)
    .max(SQL_GRACE_PERIOD_SEC, GRACE_MESSAGE)
    .default(DEFAULT_GRACE_PERIOD_SEC),
  seekToleranceSec: z.number().positive().default(DEFAULT_SEEK_TOLERANCE_SEC),
  tickIntervalSec: positiveInt.default(DEFAULT_TICK_INTERVAL_SEC),
  /** Fastest playback that is still one continuous segment (playhead seconds per second); 1 to 16. */
  maxPlaybackRate: z.number().min(MIN_MAX_PLAYBACK_RATE).max(MAX_MAX_PLAYBACK_RATE).default(DEFAULT_MAX_PLAYBACK_RATE),
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

/** The operator chart's location and pin, as operators/yugabyte.ts validateOperatorChart checks them at install. */
const OPERATOR_CHART_REPO = /^(https|oci):\/\/\S+$/;
const EXACT_CHART_VERSION = /^v?\d+\.\d+\.\d+([-.][0-9A-Za-z.-]+)?$/;

const yugabyteSchema = z.strictObject({
  namespace: z.string().min(1).default("yugabyte"),
  installer: z.enum(["helm", "operator"]).default("helm"),
  /** Where the YugabyteDB Kubernetes Operator chart lives (it is not published in a Helm repository). */
  operatorChart: z
    .strictObject({
      repo: z.string().regex(OPERATOR_CHART_REPO, "expected an https:// or oci:// chart location"),
      chart: z.string().min(1),
      version: z.string().regex(EXACT_CHART_VERSION, "expected an exact chart version like 2026.1.0 (a range would let `pulumi up` move the operator)"),
    })
    .optional(),
  replicationFactor: z
    .literal([1, 3], { error: "expected 1 (one copy: dev and local only) or 3 (one replica per AZ, survives losing a zone)" })
    .default(DEFAULT_YUGABYTE_REPLICATION_FACTOR),
  /**
   * multi-zone: one Helm release per AZ (prod); single: one release holding all replicas (dev, local). Unset, it is
   * multi-zone on EKS and single on an existing cluster (whose nodes may carry no zone labels).
   */
  topology: z.enum(["multi-zone", "single"]).optional(),
  masterResources: resources.default({ cpu: "2", memory: "4Gi" }),
  tserverResources: resources.default({ cpu: "4", memory: "16Gi" }),
  /** Per tserver: table data. */
  storageGiB: positiveInt.default(DEFAULT_YUGABYTE_STORAGE_GIB),
  /** Per master: system catalog and its Raft log only. */
  masterStorageGiB: positiveInt.default(DEFAULT_YUGABYTE_MASTER_STORAGE_GIB),
  /** Total tservers; multi-zone spreads them evenly over the zones. */
  tservers: positiveInt.default(DEFAULT_YUGABYTE_TSERVERS),
});

// ---- chart and image sources (issue 15): mirrors and air-gapped clusters --------------------------------------------

const CHART_REPO = /^(oci|https):\/\/[^\s/]+(\/[^\s]*)?$/;
/** One chart's override: a repository serving the same chart name and version, or a local chart directory/archive. */
const chartSourceSchema = z.union([
  z.strictObject({ repo: z.string().regex(CHART_REPO, "expected an oci:// registry path or an https:// Helm repository URL, e.g. oci://registry.corp/charts") }),
  z.strictObject({
    path: z.string().min(1, "expected a local chart directory or .tgz path"),
    // Checked against the chart's Chart.yaml in loadConfig; exact, like the pins it stands in for.
    acceptVersion: z.string().regex(/^v?\d+\.\d+\.\d+([-+.][0-9A-Za-z.-]+)?$/, "expected the exact version string the chart's Chart.yaml carries, e.g. \"0.1.1\"").optional(),
  }),
], { error: "expected {repo: \"oci://…\" | \"https://…\"} or {path: \"<chart dir or .tgz>\", acceptVersion?: \"<version>\"}" });
const chartsSchema = z.strictObject(Object.fromEntries(CHART_KEYS.map((k) => [k, chartSourceSchema.optional()])) as Record<(typeof CHART_KEYS)[number], z.ZodOptional<typeof chartSourceSchema>>);
const registryPrefix = z.string().regex(REGISTRY_PREFIX, "expected a registry prefix like registry.corp/mirror (host[:port][/path], no scheme, no tag, no trailing slash)");
const imagesSchema = z.strictObject({
  /** Serves every upstream registry under `<mirror>/<upstream host>/…`. */
  mirror: registryPrefix.optional(),
  /** Per-upstream prefixes (ECR pull-through cache rules); they win over `mirror`. */
  registries: z.partialRecord(z.enum(PUBLIC_REGISTRIES, { error: `expected one of the registries the program pulls from: ${PUBLIC_REGISTRIES.join(", ")}` }), registryPrefix).optional(),
});

// ---- readiness waits (issue 22) -----------------------------------------------------------------------------------

const deploySchema = z.strictObject({
  waitForReady: z.boolean().default(DEFAULT_WAIT_FOR_READY),
  releaseTimeoutSec: z.number().int(`expected whole seconds`).min(MIN_RELEASE_TIMEOUT_SEC).max(MAX_RELEASE_TIMEOUT_SEC).optional(),
});

// ---- monitoring (issue 14) -----------------------------------------------------------------------------------------

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

// ---- backup (issue 14) ---------------------------------------------------------------------------------------------

const backupSchema = z.strictObject({
  enabled: z.boolean().default(false),
  hourUtc: z.number().int().min(0).max(23).default(DEFAULT_BACKUP_HOUR_UTC),
  retentionDays: z.number().int().min(MIN_RETENTION_DAYS).max(MAX_RETENTION_DAYS).default(DEFAULT_BACKUP_RETENTION_DAYS),
  scratchGiB: positiveInt.default(DEFAULT_BACKUP_SCRATCH_GIB),
  restoreFrom: z.string().regex(BACKUP_OBJECT_PATTERN, `expected a backup's file name like ${BACKUP_NAME_PREFIX}20261202T031700Z${BACKUP_SUFFIX} (list them with aws s3 ls s3://<backupBucket output>/${BACKUP_PREFIX})`).optional(),
});

// ---- database retention and maintenance (issue 23) ------------------------------------------------------------------

const databaseSchema = z.strictObject({
  pieceRetentionDays: z.number().int().min(MIN_PIECE_RETENTION_DAYS).max(MAX_PIECE_RETENTION_DAYS).default(DEFAULT_PIECE_RETENTION_DAYS),
  segmentRetentionDays: z.number().int().min(MIN_PIECE_RETENTION_DAYS).max(MAX_SEGMENT_RETENTION_DAYS).default(DEFAULT_SEGMENT_RETENTION_DAYS),
  maintenanceEveryMinutes: z
    .number()
    .int()
    .refine((v) => (MAINTENANCE_EVERY_MIN_CHOICES as readonly number[]).includes(v), {
      message: `expected one of ${MAINTENANCE_EVERY_MIN_CHOICES.join(", ")} (a divisor of 60, so the cron schedule fires evenly)`,
    })
    .default(DEFAULT_MAINTENANCE_EVERY_MIN),
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
  ingest: ingestSchema.prefault({}),
  sessionization: sessionizationSchema.prefault({}),
  schemaRegistry: schemaRegistrySchema.prefault({}),
  ksqldb: ksqldbSchema.prefault({}),
  connect: connectSchema.prefault({}),
  yugabyte: yugabyteSchema.prefault({}),
  charts: chartsSchema.prefault({}),
  images: imagesSchema.prefault({}),
  deploy: deploySchema.prefault({}),
  monitoring: monitoringSchema.prefault({}),
  backup: backupSchema.prefault({}),
  database: databaseSchema.prefault({}),
});

type ParsedConfig = z.infer<typeof rootSchema>;
/** The validated configuration, with defaults that depend on other keys filled in. */
type ParsedGateway = NonNullable<ParsedConfig["ingest"]["gateway"]>;
export type AppConfig = Omit<ParsedConfig, "yugabyte" | "ingest"> & {
  readonly yugabyte: ParsedConfig["yugabyte"] & { readonly topology: "multi-zone" | "single" };
  readonly ingest: Omit<ParsedConfig["ingest"], "gateway"> & { readonly gateway?: (Omit<ParsedGateway, "smokeIssuer"> & { readonly maxReplicas: number; readonly smokeIssuer: boolean }) | undefined };
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

// ---- unknown keys ---------------------------------------------------------------------------------------------------

/** The parts of zod's internal schema definition the key walk reads (zod 4 `_zod.def`). */
interface SchemaDef {
  readonly type: string;
  readonly shape?: Record<string, z.ZodType>;
  readonly innerType?: z.ZodType;
  readonly options?: readonly z.ZodType[];
  readonly element?: z.ZodType;
  readonly values?: readonly unknown[];
}

function defOf(schema: z.ZodType): SchemaDef {
  return (schema as unknown as { _zod: { def: SchemaDef } })._zod.def;
}

/** Strip default/prefault/optional wrappers. */
function unwrap(schema: z.ZodType): z.ZodType {
  let s = schema;
  for (let d = defOf(s); d.innerType && ["default", "prefault", "optional", "nullable", "readonly"].includes(d.type); d = defOf(s)) s = d.innerType;
  return s;
}

/**
 * Rules of the public ingest path (docs/ingest.md): who may write (JWT on the ALB) and how much (WAF limits). Each
 * message names the key, the expected and the actual value.
 */
export function ingestConfigProblems(cfg: Pick<AppConfig, "bridge" | "ingest" | "cluster"> & Partial<Pick<AppConfig, "capacity">>): string[] {
  const problems: string[] = [];
  const ns = CONFIG_NAMESPACE;
  const jwt = cfg.ingest.jwt;
  if (cfg.bridge.exposure === "internet-facing" && !jwt) {
    problems.push(`${ns}:ingest.jwt: an internet-facing bridge must validate player tokens on the ALB (anyone on the internet could otherwise write heartbeats for any user); expected {jwksUrl, issuer, audience}; got nothing. Set it or use bridge.exposure "internal".`);
  }
  const gateway = cfg.ingest.gateway;
  if (jwt && cfg.cluster.mode !== "eks" && !gateway) {
    problems.push(`${ns}:ingest.jwt: without ingest.gateway, tokens are validated by the ALB, which only EKS stacks have (cluster.mode "eks"); got cluster.mode ${show(cfg.cluster.mode)}. Remove ingest.jwt on this stack, or set ingest.gateway (its Envoy verifies tokens on any cluster).`);
  }
  if (gateway && !jwt) {
    problems.push(`${ns}:ingest.jwt: the ingest gateway binds each heartbeat to its token's subject, so it must know how to verify tokens; expected {jwksUrl, issuer, audience}; got nothing. Set ingest.jwt or remove ingest.gateway.`);
  }
  if (gateway && gateway.minReplicas > gateway.maxReplicas) {
    problems.push(`${ns}:ingest.gateway.minReplicas: expected at most ingest.gateway.maxReplicas (${gateway.maxReplicas}); got ${gateway.minReplicas}.`);
  }
  const ecr = gateway ? parseEcrRepository(gateway.image) : undefined;
  if (ecr && cfg.cluster.mode !== "eks") {
    problems.push(`${ns}:ingest.gateway.image: an ECR repository is looked up with AWS credentials, which only EKS stacks use (this stack makes no AWS call); expected a digest reference (<registry>/<repository>@sha256:<64 hex digits>) on cluster.mode ${show(cfg.cluster.mode)}; got ${show(gateway?.image)}.`);
  }
  if (gateway) problems.push(...heartbeatLimitProblems(gateway.limits, gateway.maxHeartbeatsPerRequest, `${ns}:ingest.gateway.limits`));
  if (gateway && cfg.capacity) {
    // The batch must fit the body limit in front of the gateway: Envoy's own, and the WAF's where a web ACL inspects.
    const limits = [{ key: "the gateway's body limit", bytes: GATEWAY_MAX_BODY_BYTES }, ...(cfg.bridge.exposure === "internet-facing" ? [{ key: "ingest.waf.maxBodyBytes", bytes: cfg.ingest.waf.maxBodyBytes }] : [])];
    for (const limit of limits) {
      const fits = maxHeartbeatsPerRequest(limit.bytes, cfg.capacity.avgEventBytes);
      if (gateway.maxHeartbeatsPerRequest > fits) {
        problems.push(`${ns}:ingest.gateway.maxHeartbeatsPerRequest: ${limit.key} (${limit.bytes} bytes) holds at most ${fits} heartbeats of capacity.avgEventBytes ${cfg.capacity.avgEventBytes}, so a full batch would be refused as too large; expected at most ${fits}; got ${gateway.maxHeartbeatsPerRequest}.`);
      }
    }
  }
  // (internet-facing without a certificate is already reported by crossFieldProblems)
  if (jwt && cfg.cluster.mode === "eks" && !cfg.bridge.certificateArn && cfg.bridge.exposure !== "internet-facing") {
    problems.push(`${ns}:bridge.certificateArn: the ALB validates tokens only on HTTPS listeners, so ingest.jwt needs an ACM certificate; got nothing.`);
  }
  if (jwt) {
    const total = 1 + jwt.claims.length;
    if (total > JWT_MAX_ADDITIONAL_CLAIMS) {
      problems.push(`${ns}:ingest.jwt.claims: the ALB checks at most ${JWT_MAX_ADDITIONAL_CLAIMS} additional claims and the audience is one of them; expected at most ${JWT_MAX_ADDITIONAL_CLAIMS - 1}; got ${jwt.claims.length}.`);
    }
    jwt.claims.forEach((claim, i) => {
      const key = `${ns}:ingest.jwt.claims[${i}]`;
      if ((JWT_BUILTIN_CLAIMS as readonly string[]).includes(claim.name)) {
        problems.push(`${key}.name: the ALB always validates ${JWT_BUILTIN_CLAIMS.join(", ")} itself and refuses them as additional claims; got ${show(claim.name)}. Remove this claim.`);
      }
      if (claim.name === "aud") {
        problems.push(`${key}.name: the audience is configured by ingest.jwt.audience; got ${show(claim.name)}. Move its values there.`);
      }
      if (claim.format === "space-separated-values" && claim.values.some((v) => /\s/.test(v))) {
        problems.push(`${key}.values: space-separated-values are matched one word each, so a value may not contain spaces; got ${show(claim.values)}.`);
      }
    });
  }
  const waf = cfg.ingest.waf;
  const perPlayer = requestsPerPlayer(waf.rateWindowSec);
  for (const key of ["rateLimitPerIp", "rateLimitPerToken"] as const) {
    if (waf[key] < perPlayer) {
      problems.push(`${ns}:ingest.waf.${key}: one player alone sends ${perPlayer} heartbeats per ${waf.rateWindowSec} s window (one every 5 s), so a lower limit blocks honest players; expected at least ${perPlayer}; got ${waf[key]}.`);
    }
  }
  return problems;
}

/** Rules for the monitoring and backup sections (kept apart so the list above stays readable). */
function operationsProblems(cfg: Pick<AppConfig, "environment" | "cluster" | "monitoring" | "backup">): string[] {
  const problems: string[] = [];
  const ns = CONFIG_NAMESPACE;
  // Prod off EKS is refused above already; these rules apply to the prod that can exist.
  if (cfg.environment === "prod" && cfg.cluster.mode === "eks" && !cfg.monitoring.enabled) {
    problems.push(`${ns}:monitoring.enabled: prod must be monitored (alerts on FAILED sink tasks, lost brokers, full disks); got false. Set it to true.`);
  }
  if (cfg.environment === "prod" && cfg.cluster.mode === "eks" && !cfg.backup.enabled) {
    problems.push(`${ns}:backup.enabled: prod must back up YugabyteDB (royalties are paid from it); got false. Set it to true.`);
  }
  if (cfg.backup.enabled && cfg.cluster.mode !== "eks") {
    problems.push(`${ns}:backup.enabled: backups go to an S3 bucket this program creates with an IRSA role, so they need cluster.mode "eks"; got cluster.mode ${show(cfg.cluster.mode)}. Set backup.enabled to false (back up an existing cluster's database with its own tooling).`);
  }
  if (cfg.backup.restoreFrom !== undefined && !cfg.backup.enabled) {
    problems.push(`${ns}:backup.restoreFrom: restores read the stack's backup bucket, which exists only with backup.enabled true; got restoreFrom ${show(cfg.backup.restoreFrom)} with backup.enabled false.`);
  }
  return problems;
}

/**
 * The object keys the schema accepts at `path`, for "did you mean". `raw` is the input at the same place: a
 * discriminated union (cluster) offers the keys of the variant its discriminator selects, or of all variants.
 */
function knownKeysAt(schema: z.ZodType, path: readonly PropertyKey[], raw: unknown): string[] {
  let s = unwrap(schema);
  let value = raw;
  for (let i = 0; ; i++) {
    const d = defOf(s);
    if (d.type === "union" && d.options) {
      const objects = d.options.map(unwrap).filter((o) => defOf(o).shape);
      const picked = objects.filter((o) => {
        const mode = defOf(o).shape?.mode;
        return mode !== undefined && typeof value === "object" && value !== null && defOf(unwrap(mode)).values?.includes((value as Record<string, unknown>).mode);
      });
      const candidates = picked.length ? picked : objects;
      if (i === path.length) return [...new Set(candidates.flatMap((o) => Object.keys(defOf(o).shape ?? {})))];
      const next = candidates.map((o) => defOf(o).shape?.[String(path[i])]).find((x) => x !== undefined);
      if (!next) return [];
      s = unwrap(next);
    } else if (i === path.length) {
      return Object.keys(d.shape ?? {});
    } else if (d.shape) {
      const next = d.shape[String(path[i])];
      if (!next) return [];
      s = unwrap(next);
    } else if (d.element) {
      s = unwrap(d.element);
    } else {
      return [];
    }
    value = typeof value === "object" && value !== null ? (value as Record<string, unknown>)[String(path[i])] : undefined;
  }
}

/** `watchpipe:kafak: unknown key; did you mean watchpipe:kafka? …` for one unknown key at `path`. */
export function unknownKeyProblem(path: readonly PropertyKey[], key: string, known: readonly string[]): string {
  const full = path.length ? `${keyOf(path)}.${key}` : `${CONFIG_NAMESPACE}:${key}`;
  const near = closest(key, known);
  const sibling = (k: string) => (path.length ? `${keyOf(path)}.${k}` : `${CONFIG_NAMESPACE}:${k}`);
  const hint = near ? `did you mean ${sibling(near)}? ` : "";
  return `${full}: unknown key; ${hint}expected one of ${known.join(", ")} (README.md, "Configuration reference").`;
}

// ---- cross-field rules --------------------------------------------------------------------------------------------

type Section = keyof typeof rootSchema.shape;
type ValidatedConfig = Omit<AppConfig, "stack" | "project">;

/** A rule over several keys: runs only when every section it reads passed its own shape check. */
interface Rule {
  readonly reads: readonly (Section | "region")[];
  check(cfg: ValidatedConfig): string | string[] | undefined;
}

const ns = CONFIG_NAMESPACE;

/**
 * The pods the configuration sizes, with the pods each AZ must hold (zone-pinned: zonal EBS volumes, per-zone releases).
 * The ingest gateway counts at its HPA ceiling (the most it can run), or at `gatewayReplicas` when given (what its HPA
 * runs at a given load: `npm run plan` prices the nodes at the peak's count).
 */
export function configuredPods(cfg: Pick<ValidatedConfig, "kafka" | "yugabyte" | "ksqldb" | "connect" | "network"> & Partial<Pick<ValidatedConfig, "ingest">>, gatewayReplicas?: number): PodGroup[] {
  const k = cfg.kafka;
  const yb = cfg.yugabyte;
  const zones = cfg.network.azCount;
  // Strimzi places node pools with a DoNotSchedule zone spread; their PVCs then keep each broker in its zone.
  const kafkaPerAz = (n: number) => (k.rackAwareness ? Math.ceil(n / zones) : 0);
  const multi = yb.topology === "multi-zone";
  const pods: PodGroup[] = [
    { pod: k.nodePools === "dedicated" ? "Kafka broker" : "Kafka broker (dual-role)", key: "kafka.brokerResources", ...k.brokerResources, perAz: kafkaPerAz(k.brokers), count: k.brokers },
  ];
  if (k.nodePools === "dedicated") pods.push({ pod: "KRaft controller", key: "kafka.controllerResources", ...k.controllerResources, perAz: kafkaPerAz(k.controllers), count: k.controllers });
  pods.push(
    { pod: "YugabyteDB tserver", key: "yugabyte.tserverResources", ...yb.tserverResources, perAz: multi ? yb.tservers / yb.replicationFactor : 0, count: yb.tservers },
    { pod: "YugabyteDB master", key: "yugabyte.masterResources", ...yb.masterResources, perAz: multi ? 1 : 0, count: yb.replicationFactor },
    { pod: "ksqlDB server", key: "ksqldb.resources", ...cfg.ksqldb.resources, perAz: 0, count: cfg.ksqldb.replicas },
    { pod: "Kafka Connect worker", key: "connect.resources", ...cfg.connect.resources, perAz: 0, count: cfg.connect.replicas },
  );
  const gateway = cfg.ingest?.gateway;
  if (gateway) pods.push({ pod: "ingest gateway (Envoy + Camel)", key: "ingest.gateway.maxReplicas", ...GATEWAY_POD_REQUESTS, perAz: 0, count: gatewayReplicas ?? gateway.maxReplicas });
  return pods;
}

const RULES: readonly Rule[] = [
  {
    reads: ["environment", "cluster"],
    check: (c) => (c.environment === "prod" && c.cluster.mode !== "eks" ? `${ns}:cluster.mode: prod must run on its own EKS cluster; got ${show(c.cluster.mode)}. Set it to "eks".` : undefined),
  },
  {
    reads: ["cluster", "region"],
    check: (c) =>
      c.cluster.mode === "eks" && !AWS_REGION.test(c.region)
        ? `aws:region: expected an AWS region code like us-east-1 or eu-west-1 (area-direction-number); got ${show(c.region)}. Set aws:region in the stack file.`
        : undefined,
  },
  {
    reads: ["environment", "cluster", "network"],
    check: (c) => {
      if (c.cluster.mode !== "eks") return undefined;
      const out: string[] = [];
      if (c.environment === "prod" && c.network.azCount !== 3) {
        out.push(`${ns}:network.azCount: prod must span exactly 3 availability zones (one Kafka and YugabyteDB replica per zone); got ${c.network.azCount}. Set it to 3.`);
      } else if (c.network.azCount < 2) {
        out.push(`${ns}:network.azCount: EKS needs subnets in at least 2 availability zones; got ${c.network.azCount}. Use 3 (the default).`);
      }
      if (c.environment === "prod" && !c.network.natGatewayPerAz) {
        out.push(`${ns}:network.natGatewayPerAz: prod needs one NAT gateway per AZ so losing a zone does not cut the others off; got false. Set it to true.`);
      }
      return out;
    },
  },
  {
    reads: ["cluster"],
    check: (c) => {
      if (c.cluster.mode !== "eks") return undefined;
      const n = c.cluster.nodesPerAz;
      return n.min <= n.desired && n.desired <= n.max ? undefined : `${ns}:cluster.nodesPerAz: expected min <= desired <= max; got ${show(n)}.`;
    },
  },
  {
    reads: ["kafka"],
    check: ({ kafka: k }) => {
      const out: string[] = [];
      if (k.minInsyncReplicas >= k.replicationFactor) {
        out.push(`${ns}:kafka.minInsyncReplicas: must be less than kafka.replicationFactor (${k.replicationFactor}) or a single broker outage stops all writes; got ${k.minInsyncReplicas}. Use ${k.replicationFactor - 1}.`);
      }
      if (k.replicationFactor < REPLICATION_FACTOR) out.push(`${ns}:kafka.replicationFactor: must be at least ${REPLICATION_FACTOR} (durability policy); got ${k.replicationFactor}.`);
      if (k.minInsyncReplicas < MIN_INSYNC_REPLICAS) {
        out.push(`${ns}:kafka.minInsyncReplicas: must be at least ${MIN_INSYNC_REPLICAS} so an acknowledged write survives a broker loss; got ${k.minInsyncReplicas}.`);
      }
      if (k.replicationFactor > k.brokers) {
        out.push(`${ns}:kafka.replicationFactor: cannot exceed kafka.brokers (${k.brokers}); got ${k.replicationFactor}. Raise kafka.brokers or lower the replication factor.`);
      }
      if (k.nodePools === "dedicated" && k.controllers % 2 === 0) out.push(`${ns}:kafka.controllers: a KRaft quorum needs an odd number of controllers; got ${k.controllers}. Use 3 (or 5).`);
      return out;
    },
  },
  {
    reads: ["environment", "kafka"],
    check: (c) => (c.environment === "prod" && c.kafka.nodePools !== "dedicated" ? `${ns}:kafka.nodePools: prod runs dedicated controllers; got ${show(c.kafka.nodePools)}. Set it to "dedicated".` : undefined),
  },
  {
    reads: ["bridge"],
    check: (c) =>
      c.bridge.exposure === "internet-facing" && !c.bridge.certificateArn
        ? `${ns}:bridge.certificateArn: an internet-facing bridge serves HTTPS only and needs an ACM certificate ARN; got nothing. Set it or use exposure "internal".`
        : undefined,
  },
  {
    // Prod's own azCount rule already demands 3 zones; this one covers dev-like EKS stacks.
    reads: ["environment", "cluster", "network", "yugabyte"],
    check: (c) =>
      c.cluster.mode === "eks" && c.environment !== "prod" && c.yugabyte.topology === "multi-zone" && c.network.azCount !== c.yugabyte.replicationFactor
        ? `${ns}:yugabyte.topology: multi-zone runs one master per AZ, so network.azCount (${c.network.azCount}) must equal yugabyte.replicationFactor (${c.yugabyte.replicationFactor}).`
        : undefined,
  },
  {
    reads: ["cluster", "yugabyte"],
    check: (c) =>
      c.yugabyte.topology === "multi-zone" && c.cluster.mode !== "eks"
        ? `${ns}:yugabyte.topology: "multi-zone" places one release per AWS AZ and needs cluster.mode "eks"; got cluster.mode ${show(c.cluster.mode)}. Set yugabyte.topology to "single".`
        : undefined,
  },
  {
    reads: ["yugabyte"],
    check: ({ yugabyte: yb }) => {
      const out: string[] = [];
      if (yb.topology === "multi-zone" && yb.tservers % yb.replicationFactor !== 0) {
        out.push(`${ns}:yugabyte.tservers: multi-zone spreads tservers evenly over ${yb.replicationFactor} zones; got ${yb.tservers}. Use a multiple of ${yb.replicationFactor}.`);
      }
      if (yb.tservers < yb.replicationFactor) out.push(`${ns}:yugabyte.tservers: must be at least yugabyte.replicationFactor (${yb.replicationFactor}); got ${yb.tservers}.`);
      for (const [key, r] of [["masterResources", yb.masterResources], ["tserverResources", yb.tserverResources]] as const) {
        if (!/^[0-9]+(Gi|G)$/.test(r.memory)) {
          out.push(`${ns}:yugabyte.${key}.memory: the chart derives the server's hard memory limit from whole Gi; got ${show(r.memory)}. Use e.g. "4Gi".`);
        }
      }
      if (yb.installer === "operator" && !yb.operatorChart) out.push(`${ns}:yugabyte.operatorChart: installer "operator" needs the chart location {repo, chart, version}; got nothing.`);
      return out;
    },
  },
  {
    reads: ["connect"],
    check: (c) =>
      /^[0-9]+(Gi|Mi)$/.test(c.connect.resources.memory) ? undefined : `${ns}:connect.resources.memory: expected Gi or Mi (the heap is derived from it); got ${show(c.connect.resources.memory)}.`,
  },
  {
    reads: ["environment", "yugabyte"],
    check: (c) =>
      c.environment === "prod" && (c.yugabyte.replicationFactor !== 3 || c.yugabyte.topology !== "multi-zone")
        ? `${ns}:yugabyte: prod needs replicationFactor 3 over a multi-zone topology; got replicationFactor ${c.yugabyte.replicationFactor}, topology ${show(c.yugabyte.topology)}.`
        : undefined,
  },
  {
    reads: ["cluster", "connect"],
    check: (c) =>
      c.cluster.mode === "existing" && !c.connect.imageRegistry
        ? `${ns}:connect.imageRegistry: on an existing cluster the Kafka Connect image needs a registry to push to (e.g. "localhost:5001/watchpipe" for a kind registry); got nothing.`
        : undefined,
  },
  {
    reads: ["images"],
    check: ({ images }) => {
      const unmirrored = unmirroredRegistries(images);
      return unmirrored.length > 0
        ? `${ns}:images.registries: without images.mirror every registry the program pulls from needs a prefix; missing ${unmirrored.join(", ")} (of ${PUBLIC_REGISTRIES.join(", ")}); got ${show(images.registries)}. Add them or set images.mirror.`
        : undefined;
    },
  },
  {
    reads: ["environment", "cluster", "monitoring", "backup"],
    check: (c) => operationsProblems(c),
  },
  {
    // A segment is built from its pieces and amended by late ones: dropping it while its pieces stay would leave
    // pieces no report counts and make a late piece re-open a segment that no longer exists.
    reads: ["database"],
    check: ({ database: d }) =>
      d.segmentRetentionDays < d.pieceRetentionDays
        ? `${ns}:database.segmentRetentionDays: must be at least database.pieceRetentionDays (${d.pieceRetentionDays}); segments are built from pieces and must outlive them; got ${d.segmentRetentionDays}. Raise it or lower pieceRetentionDays.`
        : undefined,
  },
  {
    // The kube-prometheus-stack chart and its images have no mirror wiring yet: refuse the combination rather than
    // pull from public registries on a cluster that is meant to use only its mirror.
    reads: ["images", "charts", "monitoring"],
    check: ({ images, charts, monitoring }) =>
      monitoring.enabled && monitoring.mode === "stack" && (mirrorsImages(images) || Object.keys(charts).length > 0)
        ? `${ns}:monitoring.mode: the bundled monitoring stack (kube-prometheus-stack) is not served from images.mirror or charts yet; with a mirror set, expected "existing" (an in-cluster Prometheus you mirror yourself; the program adds only its monitors, rules and dashboards) or monitoring.enabled false; got "stack".`
        : undefined,
  },
  {
    reads: ["cluster"],
    check: ({ cluster: k }) =>
      k.mode === "eks" && k.volumeThroughputMiBps > k.volumeIops * GP3_MIBPS_PER_IOPS
        ? `${ns}:cluster.volumeThroughputMiBps: gp3 allows at most ${GP3_MIBPS_PER_IOPS} MiB/s per IOPS, so at most ${k.volumeIops * GP3_MIBPS_PER_IOPS} with volumeIops ${k.volumeIops}; got ${k.volumeThroughputMiBps}. Raise volumeIops or lower the throughput.`
        : undefined,
  },
  {
    // The partition plan refuses a topic of more than MAX_PARTITIONS_PER_TOPIC partitions; say so before any resource.
    reads: ["capacity"],
    check: ({ capacity }) => {
      try {
        partitionPlan(capacity);
        return undefined;
      } catch (err) {
        return `${ns}:capacity.partitionBudgetMBps: ${(err as Error).message} Got ${JSON.stringify(capacity)}.`;
      }
    },
  },
  {
    reads: ["sessionization"],
    check: ({ sessionization: s }) =>
      s.seekToleranceSec >= s.sessionGapSec ? `${ns}:sessionization.seekToleranceSec: must be smaller than sessionGapSec (${s.sessionGapSec}); got ${s.seekToleranceSec}.` : undefined,
  },
  {
    // Only EKS nodes are known; an existing cluster's nodes are whatever it has.
    reads: ["cluster", "network", "kafka", "yugabyte", "ksqldb", "connect", "ingest"],
    check: (c) => {
      if (c.cluster.mode !== "eks") return undefined;
      const type = c.cluster.nodeInstanceType;
      return podFitProblems({
        instanceType: type,
        shape: INSTANCE_TYPES[type],
        maxPods: ENI_MAX_PODS[type],
        maxNodesPerAz: c.cluster.nodesPerAz.max,
        pods: configuredPods(c),
        azCount: c.network.azCount,
      }).map((p) => `${ns}:${p}`);
    },
  },
];

/** Rules that span keys, applied to a config whose sections are valid. Each returns an actionable message. */
export function crossFieldProblems(cfg: ValidatedConfig, valid: ReadonlySet<Section | "region"> = new Set([...Object.keys(rootSchema.shape) as Section[], "region"])): string[] {
  return RULES.filter((r) => r.reads.every((s) => valid.has(s))).flatMap((r) => r.check(cfg) ?? []);
}

/**
 * Validate raw stack configuration. Throws {@link ConfigError} listing every problem at once: unknown keys (with a
 * did-you-mean), each section's shape problems, and every cross-key rule whose sections are themselves valid. Never
 * returns a partly valid config. `stack` names the stack in messages; `environment` defaults to the stack name when
 * that is one of dev/prod/local. `region` is `aws:region`.
 */
export function parseConfig(raw: RawConfig, stack: string, project = "watchpipe", region = "us-east-1"): AppConfig {
  const input: Record<string, unknown> = { ...raw };
  if (input.environment === undefined && (ENVIRONMENTS as readonly string[]).includes(stack)) input.environment = stack;
  const problems: string[] = [];
  const unknownTop = Object.keys(input).filter((k) => !(k in rootSchema.shape));
  for (const key of unknownTop) problems.push(unknownKeyProblem([], key, CONFIG_KEYS));

  const data: Record<string, unknown> = {};
  const valid = new Set<Section | "region">(["region"]);
  for (const [section, schema] of Object.entries(rootSchema.shape) as [Section, z.ZodType][]) {
    const parsed = schema.safeParse(input[section], { reportInput: true });
    if (parsed.success) {
      data[section] = parsed.data;
      valid.add(section);
      continue;
    }
    for (const issue of parsed.error.issues) {
      const path = [section, ...issue.path];
      if (issue.code === "unrecognized_keys") {
        const known = knownKeysAt(rootSchema, path, input);
        for (const key of issue.keys) problems.push(unknownKeyProblem(path, key, known));
        continue;
      }
      // A discriminator issue carries the whole object as input; show the offending field.
      const last = issue.path[issue.path.length - 1];
      const value = "input" in issue ? issue.input : undefined;
      const field = last !== undefined && typeof value === "object" && value !== null && !Array.isArray(value) && String(last) in value;
      const got = !("input" in issue) ? "an invalid value" : show(field ? (value as Record<string, unknown>)[String(last)] : value);
      problems.push(`${keyOf(path)}: ${issue.message}; got ${got}.`);
    }
  }
  const parsedYb = data.yugabyte as ParsedConfig["yugabyte"] | undefined;
  const parsedCluster = data.cluster as ParsedConfig["cluster"] | undefined;
  if (parsedYb) {
    // Unset topology depends on the cluster: multi-zone on EKS, single elsewhere (an invalid cluster: assume single).
    data.yugabyte = { ...parsedYb, topology: parsedYb.topology ?? (parsedCluster?.mode === "eks" ? "multi-zone" : "single") };
  }
  const parsedIngest = data.ingest as ParsedConfig["ingest"] | undefined;
  const gateway = parsedIngest?.gateway;
  if (parsedIngest && gateway) {
    // Unset, the HPA ceiling follows this stack's peak (an invalid capacity: the design peak).
    const peak = (data.capacity as ParsedConfig["capacity"] | undefined)?.peakEventsPerSec ?? DESIGN_PEAK_HEARTBEATS_PER_SEC;
    const smokeIssuer = gateway.smokeIssuer ?? defaultSmokeIssuer(data.environment);
    data.ingest = { ...parsedIngest, gateway: { ...gateway, maxReplicas: gateway.maxReplicas ?? defaultGatewayMaxReplicas(peak, gateway.minReplicas), smokeIssuer } };
  }
  const partial = { ...data, region } as ValidatedConfig;
  problems.push(...crossFieldProblems(partial, valid));
  // The ingest rules read three sections (and capacity for the batch size, when it is valid); run them only when all three are valid (as every cross-key rule does).
  if (valid.has("bridge") && valid.has("ingest") && valid.has("cluster")) problems.push(...ingestConfigProblems(valid.has("capacity") ? partial : { bridge: partial.bridge, ingest: partial.ingest, cluster: partial.cluster }));
  if (problems.length) throw new ConfigError(stack, problems);
  return { ...partial, stack, project };
}

/**
 * `ingest.gateway.smokeIssuer` when unset: on for dev and local (the deploy workflow's smoke posts through the
 * gateway with it), off for prod: there the key would be one more credential, held by every deploy, that writes into
 * the production topics (smoke-* users only, but still writes), so prod trusts it only when its config says
 * `smokeIssuer: true` itself. An unknown environment counts as prod.
 */
export function defaultSmokeIssuer(environment: unknown): boolean {
  return environment === "dev" || environment === "local";
}

/** Every top-level key `parseConfig` accepts. */
export const CONFIG_KEYS = Object.keys(rootSchema.shape);

/**
 * The schema as JSON Schema (input side: keys with defaults are optional), for tools and tests that walk every key's
 * bounds and enum members without reading zod internals. Cross-key rules and `refine` checks are not in it.
 */
export function configJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(rootSchema, { io: "input", unrepresentable: "any" }) as Record<string, unknown>;
}

/** One documented key: `owner` or `kafka.brokers`, its allowed values when it is an enum, its default if any. */
export interface KeyDoc {
  readonly key: string;
  readonly values?: readonly (string | number)[];
  readonly default?: unknown;
}

function docOf(key: string, schema: z.ZodType): KeyDoc {
  const d = defOf(unwrap(schema));
  const entries = (d as { entries?: Record<string, string> }).entries;
  const values = d.type === "enum" && entries ? Object.values(entries) : d.type === "literal" ? (d.values as (string | number)[]) : undefined;
  const parsed = schema.safeParse(undefined);
  return { key, ...(values ? { values } : {}), ...(parsed.success && parsed.data !== undefined ? { default: parsed.data } : {}) };
}

/**
 * The keys README.md's configuration table documents, from the schema: top-level scalars and every key of each
 * section (both cluster variants), with enum values and defaults. test/readme.test.ts checks the table against it.
 */
export function documentedKeys(): KeyDoc[] {
  const out: KeyDoc[] = [];
  for (const [section, schema] of Object.entries(rootSchema.shape) as [string, z.ZodType][]) {
    const d = defOf(unwrap(schema));
    const objects = d.type === "union" && d.options ? d.options.map(unwrap) : d.shape ? [unwrap(schema)] : [];
    if (objects.length === 0) {
      out.push(docOf(section, schema));
      continue;
    }
    const byKey = new Map<string, KeyDoc>();
    for (const o of objects) {
      for (const [key, child] of Object.entries(defOf(o).shape ?? {})) {
        const doc = docOf(`${section}.${key}`, child);
        const earlier = byKey.get(key);
        // A key in both cluster variants (mode): its allowed values are the union of theirs.
        byKey.set(key, earlier?.values && doc.values ? { ...earlier, values: [...earlier.values, ...doc.values] } : (earlier ?? doc));
      }
    }
    out.push(...byKey.values());
  }
  return out;
}

/**
 * The `watchpipe:*` keys of a flat Pulumi config map (`{"watchpipe:kafka": "{...}", "aws:region": "us-east-1"}`),
 * values parsed: structured keys arrive as JSON text, plain ones as bare strings ("prod"). Every `watchpipe:` key is
 * kept, known or not, so a misspelt one fails validation instead of being ignored.
 */
export function rawConfigOf(all: Readonly<Record<string, string>>): Record<string, unknown> {
  const raw: Record<string, unknown> = {};
  const prefix = `${CONFIG_NAMESPACE}:`;
  for (const [fullKey, text] of Object.entries(all)) {
    if (!fullKey.startsWith(prefix)) continue;
    const key = fullKey.slice(prefix.length);
    try {
      raw[key] = JSON.parse(text);
    } catch {
      raw[key] = text;
    }
  }
  return raw;
}

/**
 * Read and validate this stack's configuration. Call once, first thing in index.ts. Besides {@link validateConfig},
 * refuses the committed example values (an example role, certificate, IdP or repository would otherwise fail halfway
 * through a deploy) unless {@link EXAMPLE_VALUES_ENV} is `allow`; all problems are reported together.
 */
export function loadConfig(): AppConfig {
  const raw = rawConfigOf(pulumi.runtime.allConfig());
  const region = new pulumi.Config("aws").get("region") ?? "us-east-1";
  const stack = pulumi.getStack();
  const examples = process.env[EXAMPLE_VALUES_ENV] === "allow" ? [] : exampleValueProblems(raw, CONFIG_NAMESPACE, stack);
  try {
    const config = validateConfig(raw, stack, pulumi.getProject(), region);
    if (examples.length === 0) return config;
  } catch (err) {
    if (!(err instanceof ConfigError) || examples.length === 0) throw err;
    throw new ConfigError(stack, [...err.problems, ...examples]);
  }
  throw new ConfigError(stack, examples);
}

/**
 * Everything refused before any resource exists: {@link parseConfig}'s schema and cross-key rules, then the charts
 * taken from disk (`charts.<key>.path`), whose Chart.yaml must be readable and carry the pinned (or accepted) version.
 */
export function validateConfig(raw: RawConfig, stack: string, project = "watchpipe", region = "us-east-1"): AppConfig {
  const config = parseConfig(raw, stack, project, region);
  // A local chart is installed at whatever version its Chart.yaml says: read it now, before any resource exists.
  const chartProblems = chartPinProblems(config.charts, PINNED_CHART_VERSIONS, undefined, CONFIG_NAMESPACE);
  if (chartProblems.length) throw new ConfigError(config.stack, chartProblems);
  return config;
}
