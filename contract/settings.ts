/**
 * The shape of a validated stack configuration, section by section. config.ts reads and validates
 * `watchpipe:*` keys into exactly this shape (it fails to compile if its schema drifts from it); components declare
 * the narrow slice they take in these terms, so they never import config.ts. See README.md, "Configuration
 * reference", for meanings and defaults.
 */

import type { JwtClaim, WafSettings } from "./ingest";
import type { HeartbeatLimits } from "./ingestLimits";
import type { DeploySettings } from "./readiness";
import type { ChartSourceSettings, ImageSourceSettings } from "./sources";

export type Environment = "dev" | "prod" | "local";

/** CPU and memory as Kubernetes quantities (`"500m"`, `"4Gi"`). */
export interface ResourceSettings {
  readonly cpu: string;
  readonly memory: string;
}

/** Where and for whom the stack runs. */
export interface StackSettings {
  readonly environment: Environment;
  readonly owner: string;
  /** Pulumi `protect` (and retain-on-delete) on the resources that hold data. */
  readonly protectData: boolean;
  readonly stack: string;
  readonly project: string;
  readonly region: string;
}

export interface NetworkSettings {
  readonly cidr: string;
  readonly azCount: number;
  readonly natGatewayPerAz: boolean;
  readonly flowLogRetentionDays: number;
}

export interface EksClusterSettings {
  readonly mode: "eks";
  readonly kubernetesVersion: string;
  readonly adminRoleArn: string;
  readonly publicAccessCidrs: string[];
  readonly nodeInstanceType: string;
  readonly nodesPerAz: { readonly min: number; readonly desired: number; readonly max: number };
  readonly nodeDiskGiB: number;
  readonly volumeReclaimPolicy: "Retain" | "Delete";
  readonly volumeThroughputMiBps: number;
  readonly volumeIops: number;
}

export interface ExistingClusterSettings {
  readonly mode: "existing";
  readonly storageClass: string;
  readonly kubeconfigContext?: string | undefined;
}

export type ClusterSettings = EksClusterSettings | ExistingClusterSettings;

export interface KafkaSettings {
  readonly namespace: string;
  readonly nodePools: "dedicated" | "dual-role";
  readonly brokers: number;
  readonly controllers: number;
  readonly brokerStorageGiB: number;
  readonly controllerStorageGiB: number;
  readonly brokerResources: ResourceSettings;
  readonly controllerResources: ResourceSettings;
  readonly replicationFactor: number;
  readonly minInsyncReplicas: number;
  readonly rackAwareness: boolean;
  readonly retentionHours: {
    readonly raw: number;
    readonly heartbeats: number;
    readonly segments: number;
    readonly rejected: number;
  };
}

/** Inputs of the partition capacity model (contract/capacity.ts). */
export interface CapacitySettings {
  readonly peakEventsPerSec: number;
  readonly avgEventBytes: number;
  readonly partitionBudgetMBps: number;
  readonly consumerParallelism: number;
}

export interface BridgeSettings {
  readonly replicas: number;
  readonly exposure: "internal" | "internet-facing";
  readonly certificateArn?: string | undefined;
}

/** Who may write through the public ingest path and how much (contract/ingest.ts, docs/ingest.md). */
export interface IngestSettings {
  /** Token validation on the ALB; required when `bridge.exposure` is internet-facing. */
  readonly jwt?: {
    readonly jwksUrl: string;
    readonly issuer: string;
    readonly audience: string[];
    readonly claims: JwtClaim[];
  } | undefined;
  /** The WAFv2 web ACL's limits (EKS stacks; local has no load balancer). */
  readonly waf: WafSettings;
  /**
   * The ingest gateway (Envoy + Camel, docs/ingest.md): when set, it replaces the Kafka Bridge as the players' path
   * and binds every heartbeat to its token's subject. Needs `jwt` (Envoy verifies the tokens itself).
   */
  readonly gateway?: IngestGatewaySettings | undefined;
}

export interface IngestGatewaySettings {
  /** The gateway image built from images/ingest-gateway, pinned by digest. */
  readonly image: string;
  /** JWT claim naming the user. */
  readonly subjectClaim: string;
  readonly maxHeartbeatsPerRequest: number;
  /** HPA bounds. */
  readonly minReplicas: number;
  readonly maxReplicas: number;
  /** Heartbeat budgets per token subject and per client IP, per gateway pod (contract/ingestLimits.ts). */
  readonly limits: HeartbeatLimits;
  /**
   * Trust the stack's deploy smoke issuer beside the players' provider (contract/smokeIssuer.ts): its tokens may write
   * smoke-* users only. Unset: on for dev and local, off for prod.
   */
  readonly smokeIssuer: boolean;
}

export interface SessionizationSettings {
  readonly sessionGapSec: number;
  readonly gracePeriodSec: number;
  readonly seekToleranceSec: number;
  readonly tickIntervalSec: number;
  readonly maxPlaybackRate: number;
}

export interface SchemaRegistrySettings {
  readonly replicas: number;
}

export interface KsqldbSettings {
  readonly replicas: number;
  readonly storageGiB: number;
  readonly resources: ResourceSettings;
}

export interface ConnectSettings {
  readonly replicas: number;
  readonly tasksMax: number;
  readonly resources: ResourceSettings;
  readonly imageRegistry?: string | undefined;
}

export interface YugabyteSettings {
  readonly namespace: string;
  readonly installer: "helm" | "operator";
  readonly replicationFactor: 3 | 1;
  readonly masterResources: ResourceSettings;
  readonly tserverResources: ResourceSettings;
  /** Per tserver: table data. */
  readonly storageGiB: number;
  /** Per master: system catalog and its Raft log only. */
  readonly masterStorageGiB: number;
  readonly tservers: number;
  readonly operatorChart?: { readonly repo: string; readonly chart: string; readonly version: string } | undefined;
  /** Filled in by config.ts from the cluster mode when not set. */
  readonly topology: "multi-zone" | "single";
}

/**
 * Metrics, alerts and dashboards (`watchpipe:monitoring`). `stack` installs the pinned kube-prometheus-stack chart in
 * `namespace`; `existing` installs nothing and only adds this pipeline's monitors, rules and dashboards for a
 * Prometheus Operator already running there, which must select objects labelled `selectorLabels`.
 */
export interface MonitoringSettings {
  readonly enabled: boolean;
  readonly mode: "stack" | "existing";
  readonly namespace: string;
  /** Prometheus TSDB retention in days, and the size cap (GiB) it enforces before the volume fills. */
  readonly retentionDays: number;
  readonly storageGiB: number;
  readonly alertmanagerStorageGiB: number;
  readonly grafanaStorageGiB: number;
  readonly selectorLabels: Readonly<Record<string, string>>;
  /** Where docs/runbooks/ is browsable; every alert links `<runbookBaseUrl>/<file>.md#<anchor>`. */
  readonly runbookBaseUrl: string;
}

/**
 * YugabyteDB backups (`watchpipe:backup`, EKS only): a daily logical dump at `hourUtc`:17 to the stack's S3 bucket
 * (SSE-KMS, versioned), expired after `retentionDays`; `scratchGiB` is the volume the dump is written to before
 * upload. `restoreFrom` names a backup in that bucket to load into the (empty) database before the schema Job runs.
 */
export interface BackupSettings {
  readonly enabled: boolean;
  readonly hourUtc: number;
  readonly retentionDays: number;
  readonly scratchGiB: number;
  readonly restoreFrom?: string | undefined;
}

/**
 * The database's retention and maintenance (`watchpipe:database`, contract/database.ts): pieces are kept
 * `pieceRetentionDays`, closed segments `segmentRetentionDays` (day partitions dropped after that), and the
 * maintenance CronJob runs every `maintenanceEveryMinutes`.
 */
export interface DatabaseSettings {
  readonly pieceRetentionDays: number;
  readonly segmentRetentionDays: number;
  readonly maintenanceEveryMinutes: number;
}

/** The whole validated configuration. */
export interface AppSettings extends StackSettings {
  readonly network: NetworkSettings;
  readonly cluster: ClusterSettings;
  readonly kafka: KafkaSettings;
  readonly capacity: CapacitySettings;
  readonly bridge: BridgeSettings;
  readonly ingest: IngestSettings;
  readonly sessionization: SessionizationSettings;
  readonly schemaRegistry: SchemaRegistrySettings;
  readonly ksqldb: KsqldbSettings;
  readonly connect: ConnectSettings;
  readonly yugabyte: YugabyteSettings;
  /** `watchpipe:charts`: per-chart repository or local path overrides (contract/sources.ts). */
  readonly charts: ChartSourceSettings;
  /** `watchpipe:images`: registry mirror for every image the program and its charts deploy (contract/sources.ts). */
  readonly images: ImageSourceSettings;
  /** `watchpipe:deploy`: readiness waits and Helm release timeouts (contract/readiness.ts). */
  readonly deploy: DeploySettings;
  readonly monitoring: MonitoringSettings;
  readonly backup: BackupSettings;
  readonly database: DatabaseSettings;
}
