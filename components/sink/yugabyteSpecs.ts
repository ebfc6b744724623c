/**
 * Pure builders for the YugabyteDB component: the `yugabyte` chart's values per release, the operator's YBUniverse
 * spec, and the Kubernetes objects both installers share (YSQL service, PodDisruptionBudgets, NetworkPolicies).
 * No Pulumi resources here: tests, the policy pack and the render tool call these directly.
 */
import { PIPELINE_DATABASE } from "../../connectors/schema";
import { mirrorRepository, PINNED_CHART_VERSIONS, type ImageSourceSettings } from "../../contract/sources";

/** Chart repository, name and version (pinned: a chart bump changes StatefulSets and must be a reviewed change). */
export const YUGABYTE_CHART = { repo: "https://charts.yugabyte.com", chart: "yugabyte", version: PINNED_CHART_VERSIONS.yugabyte } as const;
/** The image the 2026.1.0 chart ships with (its appVersion); the schema Job uses the same image for `ysqlsh`. */
export const YUGABYTE_IMAGE = { repository: "yugabytedb/yugabyte", tag: "2026.1.0.1-b1" } as const;
/** YSQL (PostgreSQL wire protocol) port. */
export const YSQL_PORT = 5433;
/** YSQL superuser the chart/operator sets the password of; only the schema Job logs in as it. */
export const YSQL_ADMIN_USER = "yugabyte";
/**
 * The JDBC sink's own login role: connectors/schema/V003__sink_role.sql creates it with CONNECT, USAGE on public and
 * SELECT/INSERT/UPDATE on watch_segments, nothing else. The SQL file spells the same name (tested).
 */
export const YSQL_SINK_USER = "watchpipe_sink";
/** Database the helm installer creates for the pipeline (the operator has no such field: it uses `yugabyte`). */
export { PIPELINE_DATABASE } from "../../connectors/schema";
/** The operator's universe always has the default database only. */
export const DEFAULT_YSQL_DATABASE = "yugabyte";
/** Secret (yugabyte namespace only) holding the YSQL superuser's password. */
export const CREDENTIALS_SECRET = "yugabyte-ysql-credentials";
/** The chart (`authCredentials.ysql.passwordSecretName`) and the operator (`ysqlPassword`) both require this key. */
export const PASSWORD_KEY = "ysqlPassword";
/**
 * Secret holding the sink role's password: in the yugabyte namespace for the schema Job (which sets it) and in the
 * Kafka namespace for Connect (which logs in with it). The superuser's Secret stays in the yugabyte namespace only.
 */
export const SINK_CREDENTIALS_SECRET = "watchpipe-sink-ysql-credentials";
export const SINK_PASSWORD_KEY = "password";
/**
 * Secret (yugabyte and kafka namespaces) with the universe's root CA certificate. The certificate is public, but it is
 * generated in the same run, so its value is unknown during preview: in a Secret it is passed by reference (clients
 * mount it by name) and the policy pack's ConfigMap checks never meet an unknown value (issue 15).
 */
export const CA_SECRET = "yugabyte-root-ca";
export const CA_KEY = "ca.crt";
/** Our own ClusterIP service over every zone's tservers: one stable YSQL host whatever the installer names things. */
export const YSQL_SERVICE = "yb-ysql";
/** Pod label value of tservers/masters under the chart's new naming style (the operator uses it too). */
export const TSERVER_APP = "yb-tserver";
export const MASTER_APP = "yb-master";
/** Label the schema Job's pods carry (NetworkPolicy and `kubectl logs -l`). */
export const SCHEMA_JOB_LABEL = { "watchpipe.io/role": "db-schema" } as const;
/** Labels Strimzi puts on Kafka Connect pods; the yugabyte NetworkPolicy admits exactly these on 5433. */
export const CONNECT_POD_LABEL = { "strimzi.io/kind": "KafkaConnect" } as const;
/** Kubernetes' well-known zone label (the EKS node groups are one per AZ). */
export const ZONE_LABEL = "topology.kubernetes.io/zone";
/** Cluster DNS suffix (the chart's `domainName` default). */
export const CLUSTER_DOMAIN = "cluster.local";
/** The chart caps names at 43 chars and appends up to 20; keep release names short. */
const MAX_RELEASE_NAME = 40;

export type Topology = "multi-zone" | "single";

export interface Resources {
  readonly cpu: string;
  readonly memory: string;
}

export interface UniverseSizing {
  readonly replicationFactor: 1 | 3;
  readonly topology: Topology;
  /** Total tservers across all zones. */
  readonly tservers: number;
  readonly masterResources: Resources;
  readonly tserverResources: Resources;
  /** Per tserver (table data). */
  readonly storageGiB: number;
  /** Per master (system catalog and its Raft log only). */
  readonly masterStorageGiB: number;
  readonly storageClassName: string;
}

/** A release (one per zone in multi-zone, one in single) and how many masters/tservers it runs. */
export interface ReleasePlan {
  readonly index: number;
  readonly releaseName: string;
  readonly masters: number;
  readonly tservers: number;
}

function fail(option: string, expected: string, actual: unknown, fix: string): never {
  throw new Error(`yugabyte: ${option} must be ${expected}, got ${JSON.stringify(actual)}; ${fix}`);
}

/**
 * Release names: `yugabyte` (single) or `yugabyte-az<N>` (multi-zone). They contain the chart name, so the chart's
 * fullname is the release name itself, and every object name it derives (`<release>-yb-master-0`) is predictable.
 */
export function releaseName(topology: Topology, index: number): string {
  const name = topology === "single" ? "yugabyte" : `yugabyte-az${index}`;
  if (name.length > MAX_RELEASE_NAME) fail("release name", `at most ${MAX_RELEASE_NAME} chars`, name, "shorten it");
  return name;
}

/**
 * How masters and tservers spread over releases. Multi-zone: one master per zone (RF = number of zones, so losing a
 * zone keeps a master quorum and a majority of every tablet's replicas) and tservers evenly per zone.
 */
export function releasePlan(sizing: UniverseSizing, zoneCount: number): ReleasePlan[] {
  const rf = sizing.replicationFactor;
  if (sizing.tservers < rf) fail("yugabyte.tservers", `>= replicationFactor (${rf})`, sizing.tservers, "each tablet needs RF tservers");
  if (sizing.topology === "single") {
    return [{ index: 0, releaseName: releaseName("single", 0), masters: rf, tservers: sizing.tservers }];
  }
  if (zoneCount !== rf) {
    fail("the number of zones", `equal to yugabyte.replicationFactor (${rf}) for multi-zone`, zoneCount, "set network.azCount to 3 and replicationFactor to 3");
  }
  if (sizing.tservers % zoneCount !== 0) {
    fail("yugabyte.tservers", `a multiple of the zone count (${zoneCount})`, sizing.tservers, "so every zone holds the same share of data");
  }
  return Array.from({ length: zoneCount }, (_, i) => ({
    index: i,
    releaseName: releaseName("multi-zone", i),
    masters: 1,
    tservers: sizing.tservers / zoneCount,
  }));
}

/** `--master_addresses`: every master of every release, as the chart's new naming style names them. */
export function masterAddresses(plan: readonly ReleasePlan[], namespace: string, domain: string = CLUSTER_DOMAIN): string {
  return plan
    .flatMap((r) => Array.from({ length: r.masters }, (_, i) => `${r.releaseName}-yb-master-${i}.${r.releaseName}-yb-masters.${namespace}.svc.${domain}:7100`))
    .join(",");
}

/** Requests = limits (Guaranteed QoS: a database is the last thing the kubelet should evict or throttle unevenly). */
function podResources(r: Resources) {
  if (!/^[0-9]+(Gi|G)$/.test(r.memory)) {
    fail("memory", "whole Gi/G like 4Gi (the chart derives memory_limit_hard_bytes from it)", r.memory, "use an integer amount of Gi");
  }
  return { requests: { cpu: r.cpu, memory: r.memory }, limits: { cpu: r.cpu, memory: r.memory } };
}

/**
 * `S` is `string` for tests and a Pulumi Input in the component: generated values (the CA, AZ names) stay leaves of
 * a known values object, so images, replicas and TLS switches are known during preview and the policy pack's
 * mandatory checks see them (a values object that is one Output is wholly unknown until the CA exists).
 */
export interface HelmValuesArgs<S = string> {
  readonly sizing: UniverseSizing;
  readonly plan: ReleasePlan;
  readonly namespace: string;
  /** `masterAddresses(...)` over all releases; multi-zone only. */
  readonly masterAddresses?: string;
  /** Multi-zone only. */
  readonly placement?: { readonly cloud: string; readonly region: string; readonly zone: S };
  /** Base64 of the PEM root CA certificate and of its PKCS#1 key (the chart signs every node cert with it). */
  readonly rootCA: { readonly certB64: S; readonly keyB64: S };
  /** The first release sets the password and creates the database (its post-install hook); others only enforce auth. */
  readonly setCredentials: boolean;
  /** `watchpipe:images`: the registry mirror to pull from (unset: the public registry). */
  readonly images?: ImageSourceSettings;
}

/**
 * Values for one release of the `yugabyte` chart. Every path exists in the chart's values.yaml (tested), except
 * keys inside gflags maps, which the chart passes through verbatim as server flags.
 */
export function helmValues<S = string>(a: HelmValuesArgs<S>): Record<string, unknown> {
  const multi = a.sizing.topology === "multi-zone";
  if (multi && (a.masterAddresses === undefined || a.placement === undefined)) {
    fail("multi-zone release values", "given masterAddresses and placement", { masterAddresses: a.masterAddresses, placement: a.placement }, "pass both");
  }
  const size = `${a.sizing.storageGiB}Gi`;
  const masterSize = `${a.sizing.masterStorageGiB}Gi`;
  const placement = a.placement
    ? { placement_cloud: a.placement.cloud, placement_region: a.placement.region, placement_zone: a.placement.zone }
    : {};
  return {
    Image: { repository: mirrorRepository(YUGABYTE_IMAGE.repository, a.images), tag: YUGABYTE_IMAGE.tag },
    // New naming style: object names carry the release name, so several releases share one namespace.
    oldNamingStyle: false,
    replicas: { master: a.plan.masters, tserver: a.plan.tservers, totalMasters: a.sizing.replicationFactor },
    storage: {
      ephemeral: false,
      master: { count: 1, size: masterSize, storageClass: a.sizing.storageClassName },
      tserver: { count: 1, size, storageClass: a.sizing.storageClassName },
    },
    resource: { master: podResources(a.sizing.masterResources), tserver: podResources(a.sizing.tserverResources) },
    // No LoadBalancer services (the chart's default exposes YSQL and the UIs publicly); clients use YSQL_SERVICE.
    enableLoadBalancer: false,
    // The yugabyted UI sidecar is not needed and would be one more listener.
    yugabytedUi: { enabled: false },
    // The chart's PDB is per release (and absent with isMultiAz); we create universe-wide ones instead.
    useOldPodDisruptionBudget: false,
    tls: {
      enabled: true,
      nodeToNode: true,
      clientToServer: true,
      insecure: false,
      certManager: { enabled: false },
      rootCA: { cert: a.rootCA.certB64, key: a.rootCA.keyB64 },
    },
    // The password comes from a Secret (never a value); the chart's hook sets it and creates the database.
    ...(a.setCredentials
      ? { authCredentials: { ysql: { user: YSQL_ADMIN_USER, database: PIPELINE_DATABASE, passwordSecretName: CREDENTIALS_SECRET } } }
      : {}),
    gflags: {
      master: { ...placement },
      // Every release enforces password auth, also those that do not run the credentials hook.
      tserver: { ...placement, ysql_enable_auth: "true" },
    },
    podSecurityContext: { enabled: true, runAsNonRoot: true },
    ...(multi ? { isMultiAz: true, AZ: a.placement?.zone, masterAddresses: a.masterAddresses, nodeSelector: { [ZONE_LABEL]: a.placement?.zone } } : {}),
  };
}

export interface UniverseSpecArgs {
  readonly sizing: UniverseSizing;
  /** Multi-zone: the zones to place nodes in. */
  readonly zones?: readonly string[];
}

/** `YBUniverse` spec (operator.yugabyte.io/v1alpha1): same sizing, TLS both ways, YSQL auth from the password Secret. */
export function ybUniverseSpec(a: UniverseSpecArgs): Record<string, unknown> {
  const s = a.sizing;
  const gib = s.storageGiB;
  return {
    universeName: "watchpipe",
    numNodes: s.tservers,
    replicationFactor: s.replicationFactor,
    ybSoftwareVersion: YUGABYTE_IMAGE.tag,
    enableYSQL: true,
    enableYSQLAuth: true,
    ysqlPassword: { secretName: CREDENTIALS_SECRET },
    enableYCQL: false,
    enableNodeToNodeEncrypt: true,
    enableClientToNodeEncrypt: true,
    enableLoadBalancer: false,
    deviceInfo: { volumeSize: gib, numVolumes: 1, storageClass: s.storageClassName },
    masterDeviceInfo: { volumeSize: s.masterStorageGiB, numVolumes: 1, storageClass: s.storageClassName },
    kubernetesOverrides: {
      resource: { master: podResources(s.masterResources), tserver: podResources(s.tserverResources) },
    },
    ...(a.zones && a.zones.length > 0 ? { zoneFilter: [...a.zones] } : {}),
  };
}

/** ClusterIP service over every tserver of the universe, YSQL port only. */
export function ysqlServiceSpec(namespace: string) {
  return {
    metadata: { name: YSQL_SERVICE, namespace, labels: { "app.kubernetes.io/part-of": "watchpipe" } },
    spec: {
      type: "ClusterIP",
      selector: { "app.kubernetes.io/name": TSERVER_APP },
      ports: [{ name: "tcp-ysql-port", port: YSQL_PORT, targetPort: YSQL_PORT, protocol: "TCP" }],
    },
  };
}

/** In-cluster DNS name of the YSQL service. */
export function ysqlHost(namespace: string, domain: string = CLUSTER_DOMAIN): string {
  return `${YSQL_SERVICE}.${namespace}.svc.${domain}`;
}

/**
 * Universe-wide PDBs: at most one master and one tserver down at a time (RF 3 keeps quorum with one replica
 * missing). With RF 1 nothing can be spared, but blocking node drains forever on a dev box is worse: allow one.
 */
export function podDisruptionBudgetSpecs(namespace: string) {
  return [MASTER_APP, TSERVER_APP].map((app) => ({
    metadata: { name: `${app}-pdb`, namespace },
    spec: { maxUnavailable: 1, selector: { matchLabels: { "app.kubernetes.io/name": app } } },
  }));
}

/**
 * NetworkPolicies for the yugabyte namespace: deny all ingress, then allow pods of this namespace (masters,
 * tservers, the schema Job, the operator) to talk to each other, and Kafka Connect pods from the Kafka namespace to
 * reach YSQL (5433) only.
 */
export function networkPolicySpecs(namespace: string, kafkaNamespace: string) {
  const ns = (name: string) => ({ "kubernetes.io/metadata.name": name });
  return [
    {
      metadata: { name: "default-deny-ingress", namespace },
      spec: { podSelector: {}, policyTypes: ["Ingress"] },
    },
    {
      metadata: { name: "allow-intra-namespace", namespace },
      spec: { podSelector: {}, policyTypes: ["Ingress"], ingress: [{ from: [{ podSelector: {} }] }] },
    },
    {
      metadata: { name: "allow-schema-job-to-ysql", namespace },
      spec: {
        podSelector: { matchLabels: { "app.kubernetes.io/name": TSERVER_APP } },
        policyTypes: ["Ingress"],
        ingress: [{ from: [{ podSelector: { matchLabels: { ...SCHEMA_JOB_LABEL } } }], ports: [{ protocol: "TCP", port: YSQL_PORT }] }],
      },
    },
    {
      metadata: { name: "allow-kafka-connect-to-ysql", namespace },
      spec: {
        podSelector: { matchLabels: { "app.kubernetes.io/name": TSERVER_APP } },
        policyTypes: ["Ingress"],
        ingress: [{
          from: [{ namespaceSelector: { matchLabels: ns(kafkaNamespace) }, podSelector: { matchLabels: { ...CONNECT_POD_LABEL } } }],
          ports: [{ protocol: "TCP", port: YSQL_PORT }],
        }],
      },
    },
  ];
}
