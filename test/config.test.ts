import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { ConfigError, parseConfig, rawConfigOf, type RawConfig } from "../config";
import { isIpv4Cidr } from "../contract/cidr";

const ROOT = join(__dirname, "..");
const TOP_KEYS = "environment, owner, protectData, network, cluster, kafka, capacity, bridge, ingest, sessionization, schemaRegistry, ksqldb, connect, yugabyte, charts, images, deploy, monitoring, backup, database";
const KAFKA_KEYS =
  "namespace, nodePools, brokers, controllers, brokerStorageGiB, controllerStorageGiB, brokerResources, controllerResources, replicationFactor, minInsyncReplicas, rackAwareness, retentionHours";
const NODE_M7I_LARGE = "one m7i.large node (2 vCPU, 8 GiB) has 1.77 vCPU / 7.2 GiB allocatable after kube-reserved, eviction threshold and DaemonSets";

/** The stack's real yaml, as `watchpipe:`-less keys, the way loadConfig hands them to parseConfig. */
function stackRaw(stack: string): Record<string, unknown> {
  const file = parse(readFileSync(join(ROOT, `Pulumi.${stack}.yaml`), "utf8")) as { config: Record<string, unknown> };
  const raw: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(file.config)) {
    if (key.startsWith("watchpipe:")) raw[key.slice("watchpipe:".length)] = value;
  }
  return raw;
}

/** Merge one section's keys into a stack's config. */
function withSection(stack: string, section: string, patch: Record<string, unknown> | unknown): RawConfig {
  const raw = stackRaw(stack);
  const current = raw[section];
  raw[section] = typeof patch === "object" && patch !== null && typeof current === "object" ? { ...(current as object), ...patch } : patch;
  return raw;
}

function problemsOf(raw: RawConfig, stack: string, region?: string): string[] {
  try {
    parseConfig(raw, stack, "watchpipe", region);
  } catch (err) {
    if (err instanceof ConfigError) return [...err.problems];
    throw err;
  }
  return [];
}

describe("every committed stack file is valid", () => {
  it.each(["dev", "prod", "local"])("Pulumi.%s.yaml parses without problems", (stack) => {
    expect(problemsOf(stackRaw(stack), stack)).toEqual([]);
  });
});

describe("invalid configuration fails with the key, the expected and the actual value", () => {
  const cases: { name: string; stack: string; raw: () => RawConfig; region?: string; problem: string | string[] }[] = [
    // Unknown keys at every level, with a did-you-mean when one is close (issue 12, item 1).
    {
      name: "a misspelt top-level section (kafak)",
      stack: "dev",
      raw: () => ({ ...stackRaw("dev"), kafak: { brokers: 3 } }),
      problem: `watchpipe:kafak: unknown key; did you mean watchpipe:kafka? expected one of ${TOP_KEYS} (README.md, "Configuration reference").`,
    },
    {
      name: "a misspelt top-level section (yugabyt)",
      stack: "dev",
      raw: () => ({ ...stackRaw("dev"), yugabyt: { storageGiB: 50 } }),
      problem: `watchpipe:yugabyt: unknown key; did you mean watchpipe:yugabyte? expected one of ${TOP_KEYS} (README.md, "Configuration reference").`,
    },
    {
      name: "an unknown top-level key with nothing close",
      stack: "dev",
      raw: () => ({ ...stackRaw("dev"), warpdrive: true }),
      problem: `watchpipe:warpdrive: unknown key; expected one of ${TOP_KEYS} (README.md, "Configuration reference").`,
    },
    {
      name: "an image mirror with the bundled (unmirrored) monitoring stack",
      stack: "dev",
      raw: () => ({ ...stackRaw("dev"), images: { mirror: "registry.corp.example/mirror" } }),
      problem: 'watchpipe:monitoring.mode: the bundled monitoring stack (kube-prometheus-stack) is not served from images.mirror or charts yet; with a mirror set, expected "existing" (an in-cluster Prometheus you mirror yourself; the program adds only its monitors, rules and dashboards) or monitoring.enabled false; got "stack".',
    },
    {
      name: "a misspelt key of the eks cluster variant",
      stack: "prod",
      raw: () => withSection("prod", "cluster", { nodeInstanceTyp: "m7i.large" }),
      problem:
        'watchpipe:cluster.nodeInstanceTyp: unknown key; did you mean watchpipe:cluster.nodeInstanceType? expected one of mode, kubernetesVersion, adminRoleArn, publicAccessCidrs, nodeInstanceType, nodesPerAz, nodeDiskGiB, volumeReclaimPolicy, volumeThroughputMiBps, volumeIops (README.md, "Configuration reference").',
    },
    {
      name: "a misspelt key of the existing cluster variant",
      stack: "local",
      raw: () => withSection("local", "cluster", { storageclass: "standard" }),
      problem: 'watchpipe:cluster.storageclass: unknown key; did you mean watchpipe:cluster.storageClass? expected one of mode, kubeconfigContext, storageClass (README.md, "Configuration reference").',
    },
    {
      name: "a misspelt key three levels down",
      stack: "dev",
      raw: () => withSection("dev", "kafka", { retentionHours: { rawz: 12 } }),
      problem: 'watchpipe:kafka.retentionHours.rawz: unknown key; did you mean watchpipe:kafka.retentionHours.raw? expected one of raw, heartbeats, segments, rejected (README.md, "Configuration reference").',
    },
    // Values that were accepted without a word (item 3).
    {
      name: "a region that is not one (us-east1)",
      stack: "dev",
      raw: () => stackRaw("dev"),
      region: "us-east1",
      problem: 'aws:region: expected an AWS region code like us-east-1 or eu-west-1 (area-direction-number); got "us-east1". Set aws:region in the stack file.',
    },
    {
      name: "a VPC on public address space",
      stack: "dev",
      raw: () => withSection("dev", "network", { cidr: "8.8.0.0/16" }),
      problem:
        'watchpipe:network.cidr: expected private address space (RFC 1918: 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16); a VPC on public addresses shadows those internet hosts. Use e.g. 10.40.0.0/16; got "8.8.0.0/16".',
    },
    {
      name: "the API endpoint open to the internet",
      stack: "prod",
      raw: () => withSection("prod", "cluster", { publicAccessCidrs: ["0.0.0.0/0"] }),
      problem: `watchpipe:cluster.publicAccessCidrs.0: expected your own network's CIDR (a /8 or narrower); a broader range opens the Kubernetes API endpoint to the internet; got "0.0.0.0/0".`,
    },
    {
      name: "a 1 GiB broker volume",
      stack: "dev",
      raw: () => withSection("dev", "kafka", { brokerStorageGiB: 1 }),
      problem: "watchpipe:kafka.brokerStorageGiB: expected at least 10 (GiB): every partition replica keeps an active segment of up to 1 GiB that retention cannot delete; got 1.",
    },
    // Messages that keep their key and say what is allowed (item 4).
    {
      name: "a /24 VPC (too small for the subnet layout), named as network.cidr",
      stack: "dev",
      raw: () => withSection("dev", "network", { cidr: "10.50.0.0/24" }),
      problem: 'watchpipe:network.cidr: expected a /22 or larger: each AZ gets an eighth of the VPC for nodes and pods (one VPC address per pod). Use e.g. 10.40.0.0/16; got "10.50.0.0/24".',
    },
    {
      name: "YugabyteDB replication factor 2",
      stack: "dev",
      raw: () => withSection("dev", "yugabyte", { replicationFactor: 2 }),
      problem: "watchpipe:yugabyte.replicationFactor: expected 1 (one copy: dev and local only) or 3 (one replica per AZ, survives losing a zone); got 2.",
    },
    {
      name: "prod with one AZ gets the prod rule, not a bare bound",
      stack: "prod",
      raw: () => withSection("prod", "network", { azCount: 1 }),
      // And prod's pods at their most (the gateway at its HPA ceiling too) need its three AZs' nodes: one AZ's cannot hold them.
      problem: [
        "watchpipe:network.azCount: prod must span exactly 3 availability zones (one Kafka and YugabyteDB replica per zone); got 1. Set it to 3.",
        "watchpipe:cluster.nodesPerAz.max: at their most the pods request 3 × Kafka broker (cpu 4 / memory 16Gi), 3 × KRaft controller (cpu 1 / memory 2Gi), 3 × YugabyteDB tserver (cpu 4 / memory 16Gi), 3 × YugabyteDB master (cpu 2 / memory 4Gi), 18 × ksqlDB server (cpu 6 / memory 16Gi), 3 × Kafka Connect worker (cpu 2 / memory 4Gi), 59 × ingest gateway (Envoy + Camel) (cpu 1250m / memory 1152Mi) = 220.75 vCPU / 480.4 GiB, but 1 AZs × 11 × m7i.2xlarge (7.75 vCPU / 30.9 GiB allocatable each) leave 7 × ksqlDB server, 3 × Kafka broker, 3 × YugabyteDB tserver, 3 × YugabyteDB master, 3 × Kafka Connect worker, 51 × ingest gateway (Envoy + Camel) unscheduled. Raise cluster.nodesPerAz.max, use a larger cluster.nodeInstanceType or lower the replicas or requests.",
      ],
    },
    {
      name: "dev with one AZ",
      stack: "dev",
      raw: () => withSection("dev", "network", { azCount: 1 }),
      problem: [
        "watchpipe:network.azCount: EKS needs subnets in at least 2 availability zones; got 1. Use 3 (the default).",
        "watchpipe:cluster.nodesPerAz.max: at their most the pods request 3 × Kafka broker (dual-role) (cpu 1 / memory 4Gi), 3 × YugabyteDB tserver (cpu 1 / memory 4Gi), 3 × YugabyteDB master (cpu 500m / memory 1Gi), 2 × ksqlDB server (cpu 2500m / memory 4Gi), 1 × Kafka Connect worker (cpu 1 / memory 2Gi), 4 × ingest gateway (Envoy + Camel) (cpu 1250m / memory 1152Mi) = 18.50 vCPU / 41.5 GiB, but 1 AZs × 4 × m7i.xlarge (3.77 vCPU / 14.9 GiB allocatable each) leave 3 × ingest gateway (Envoy + Camel), 1 × YugabyteDB master unscheduled. Raise cluster.nodesPerAz.max, use a larger cluster.nodeInstanceType or lower the replicas or requests.",
      ],
    },
    {
      name: "an unknown cluster mode shows the mode, not the whole object",
      stack: "dev",
      raw: () => withSection("dev", "cluster", { mode: "ek" }),
      problem: "watchpipe:cluster.mode: Invalid discriminator value. Expected 'eks' | 'existing'; got \"ek\".",
    },
    {
      name: "a shape error does not hide cross-key errors of other sections",
      stack: "prod",
      raw: () => ({ ...withSection("prod", "network", { azCount: "three" }), kafka: { ...(stackRaw("prod").kafka as object), minInsyncReplicas: 3 } }),
      problem: [
        'watchpipe:network.azCount: Invalid input: expected number, received string; got "three".',
        "watchpipe:kafka.minInsyncReplicas: must be less than kafka.replicationFactor (3) or a single broker outage stops all writes; got 3. Use 2.",
      ],
    },
    // Pods must fit the nodes (item 2).
    {
      name: "prod on m7i.large nodes: no sized pod fits",
      stack: "prod",
      raw: () => withSection("prod", "cluster", { nodeInstanceType: "m7i.large" }),
      problem: [
        `watchpipe:kafka.brokerResources: a Kafka broker pod requests cpu 4 / memory 16Gi, but ${NODE_M7I_LARGE}; it can never be scheduled. Use a larger cluster.nodeInstanceType or lower kafka.brokerResources.`,
        `watchpipe:yugabyte.tserverResources: a YugabyteDB tserver pod requests cpu 4 / memory 16Gi, but ${NODE_M7I_LARGE}; it can never be scheduled. Use a larger cluster.nodeInstanceType or lower yugabyte.tserverResources.`,
        `watchpipe:yugabyte.masterResources: a YugabyteDB master pod requests cpu 2 / memory 4Gi, but ${NODE_M7I_LARGE}; it can never be scheduled. Use a larger cluster.nodeInstanceType or lower yugabyte.masterResources.`,
        `watchpipe:ksqldb.resources: a ksqlDB server pod requests cpu 6 / memory 16Gi, but ${NODE_M7I_LARGE}; it can never be scheduled. Use a larger cluster.nodeInstanceType or lower ksqldb.resources.`,
        `watchpipe:connect.resources: a Kafka Connect worker pod requests cpu 2 / memory 4Gi, but ${NODE_M7I_LARGE}; it can never be scheduled. Use a larger cluster.nodeInstanceType or lower connect.resources.`,
      ],
    },
    {
      name: "one node per AZ cannot hold what is pinned to the AZ",
      stack: "prod",
      raw: () => withSection("prod", "cluster", { nodesPerAz: { min: 1, desired: 1, max: 1 } }),
      problem:
        "watchpipe:cluster.nodesPerAz.max: each AZ must hold 1 × Kafka broker (cpu 4 / memory 16Gi), 1 × KRaft controller (cpu 1 / memory 2Gi), 1 × YugabyteDB tserver (cpu 4 / memory 16Gi), 1 × YugabyteDB master (cpu 2 / memory 4Gi) = 11.00 vCPU / 38.0 GiB, " +
        "but 1 × m7i.2xlarge (7.75 vCPU / 30.9 GiB allocatable each) leaves YugabyteDB tserver unscheduled. Raise cluster.nodesPerAz.max, use a larger cluster.nodeInstanceType or lower the requests.",
    },
    {
      name: "prod with fewer than 3 AZs",
      stack: "prod",
      raw: () => withSection("prod", "network", { azCount: 2 }),
      problem: [
        "watchpipe:network.azCount: prod must span exactly 3 availability zones (one Kafka and YugabyteDB replica per zone); got 2. Set it to 3.",
        "watchpipe:cluster.nodesPerAz.max: at their most the pods request 3 × Kafka broker (cpu 4 / memory 16Gi), 3 × KRaft controller (cpu 1 / memory 2Gi), 3 × YugabyteDB tserver (cpu 4 / memory 16Gi), 3 × YugabyteDB master (cpu 2 / memory 4Gi), 18 × ksqlDB server (cpu 6 / memory 16Gi), 3 × Kafka Connect worker (cpu 2 / memory 4Gi), 59 × ingest gateway (Envoy + Camel) (cpu 1250m / memory 1152Mi) = 220.75 vCPU / 480.4 GiB, but 2 AZs × 11 × m7i.2xlarge (7.75 vCPU / 30.9 GiB allocatable each) leave 2 × YugabyteDB tserver, 2 × Kafka Connect worker, 40 × ingest gateway (Envoy + Camel) unscheduled. Raise cluster.nodesPerAz.max, use a larger cluster.nodeInstanceType or lower the replicas or requests.",
      ],
    },
    {
      name: "Kafka min ISR equal to the replication factor",
      stack: "dev",
      raw: () => withSection("dev", "kafka", { minInsyncReplicas: 3 }),
      problem: "watchpipe:kafka.minInsyncReplicas: must be less than kafka.replicationFactor (3) or a single broker outage stops all writes; got 3. Use 2.",
    },
    {
      name: "replication factor larger than the broker count",
      stack: "dev",
      raw: () => withSection("dev", "kafka", { replicationFactor: 5, minInsyncReplicas: 2 }),
      problem: "watchpipe:kafka.replicationFactor: cannot exceed kafka.brokers (3); got 5. Raise kafka.brokers or lower the replication factor.",
    },
    {
      name: "an unknown instance size",
      stack: "prod",
      raw: () => withSection("prod", "cluster", { nodeInstanceType: "m7i.2xlarg" }),
      problem: 'watchpipe:cluster.nodeInstanceType: expected a known instance type (t3.large, t3.xlarge, m6i.large, m6i.xlarge, m6i.2xlarge, m7i.large, m7i.xlarge, m7i.2xlarge, m7i.4xlarge, r7i.xlarge, r7i.2xlarge); got "m7i.2xlarg".',
    },
    {
      name: "a malformed VPC CIDR",
      stack: "dev",
      raw: () => withSection("dev", "network", { cidr: "10.50.0.0/33" }),
      problem: 'watchpipe:network.cidr: expected an IPv4 CIDR like 10.40.0.0/16 (network address, prefix 0-32); got "10.50.0.0/33".',
    },
    {
      name: "a malformed API access CIDR",
      stack: "prod",
      raw: () => withSection("prod", "cluster", { publicAccessCidrs: ["203.0.113.7/24"] }),
      problem: 'watchpipe:cluster.publicAccessCidrs.0: expected an IPv4 CIDR like 10.40.0.0/16 (network address, prefix 0-32); got "203.0.113.7/24".',
    },
    {
      name: "prod with a single NAT gateway",
      stack: "prod",
      raw: () => withSection("prod", "network", { natGatewayPerAz: false }),
      problem: "watchpipe:network.natGatewayPerAz: prod needs one NAT gateway per AZ so losing a zone does not cut the others off; got false. Set it to true.",
    },
    {
      name: "prod on an existing cluster",
      stack: "prod",
      raw: () => ({
        ...stackRaw("prod"),
        cluster: { mode: "existing", storageClass: "gp2" },
        connect: { ...(stackRaw("prod").connect as object), imageRegistry: "registry.example.com/watchpipe" },
      }),
      problem: [
        'watchpipe:cluster.mode: prod must run on its own EKS cluster; got "existing". Set it to "eks".',
        'watchpipe:yugabyte.topology: "multi-zone" places one release per AWS AZ and needs cluster.mode "eks"; got cluster.mode "existing". Set yugabyte.topology to "single".',
        'watchpipe:backup.enabled: backups go to an S3 bucket this program creates with an IRSA role, so they need cluster.mode "eks"; got cluster.mode "existing". Set backup.enabled to false (back up an existing cluster\'s database with its own tooling).',
        'watchpipe:ingest.gateway.image: an ECR repository is looked up with AWS credentials, which only EKS stacks use (this stack makes no AWS call); expected a digest reference (<registry>/<repository>@sha256:<64 hex digits>) on cluster.mode "existing"; got "111122223333.dkr.ecr.us-east-1.amazonaws.com/watchpipe-ingest-gateway".',
      ],
    },
    {
      name: "a misspelt key",
      stack: "dev",
      raw: () => withSection("dev", "kafka", { brokerz: 3 }),
      problem: `watchpipe:kafka.brokerz: unknown key; did you mean watchpipe:kafka.brokers? expected one of ${KAFKA_KEYS} (README.md, "Configuration reference").`,
    },
    {
      name: "a missing required key",
      stack: "dev",
      raw: () => {
        const raw = stackRaw("dev");
        delete raw.owner;
        return raw;
      },
      problem: "watchpipe:owner: Invalid input: expected string, received undefined; got nothing (key missing).",
    },
    {
      name: "an even number of KRaft controllers",
      stack: "prod",
      raw: () => withSection("prod", "kafka", { controllers: 4 }),
      problem: "watchpipe:kafka.controllers: a KRaft quorum needs an odd number of controllers; got 4. Use 3 (or 5).",
    },
    {
      name: "an internet-facing bridge without a certificate",
      stack: "prod",
      // With token validation set, so the certificate is the one thing missing (test/ingest.config.test.ts covers ingest.jwt).
      raw: () => ({ ...withSection("prod", "bridge", { exposure: "internet-facing", certificateArn: undefined }), ingest: { jwt: { jwksUrl: "https://id.example.com/.well-known/jwks.json", issuer: "https://id.example.com/", audience: ["watchpipe-player"] } } }),
      problem: "watchpipe:bridge.certificateArn: an internet-facing bridge serves HTTPS only and needs an ACM certificate ARN; got nothing. Set it or use exposure \"internal\".",
    },
    {
      name: "a negative grace period",
      stack: "dev",
      raw: () => withSection("dev", "sessionization", { gracePeriodSec: -5 }),
      problem: "watchpipe:sessionization.gracePeriodSec: expected 60: the SQL's GRACE PERIOD is that literal (ksql/migrations/V000002; ksqlDB takes no variables in a WINDOW clause), so another grace period needs a new ksqlDB migration first; got -5.",
    },
    {
      name: "a max playback rate below normal speed",
      stack: "dev",
      raw: () => withSection("dev", "sessionization", { maxPlaybackRate: 0.5 }),
      problem: "watchpipe:sessionization.maxPlaybackRate: Too small: expected number to be >=1; got 0.5.",
    },
    {
      name: "gp3 throughput beyond what the IOPS allow",
      stack: "prod",
      raw: () => withSection("prod", "cluster", { volumeThroughputMiBps: 1000, volumeIops: 3000 }),
      problem: "watchpipe:cluster.volumeThroughputMiBps: gp3 allows at most 0.25 MiB/s per IOPS, so at most 750 with volumeIops 3000; got 1000. Raise volumeIops or lower the throughput.",
    },
    {
      name: "gp3 throughput above the volume maximum",
      stack: "prod",
      raw: () => withSection("prod", "cluster", { volumeThroughputMiBps: 2000 }),
      problem: "watchpipe:cluster.volumeThroughputMiBps: Too big: expected number to be <=1000; got 2000.",
    },
    // Backups (issue 14).
    {
      name: "prod without backups",
      stack: "prod",
      raw: () => withSection("prod", "backup", { enabled: false }),
      problem: "watchpipe:backup.enabled: prod must back up YugabyteDB (royalties are paid from it); got false. Set it to true.",
    },
    {
      name: "backups on an existing cluster",
      stack: "local",
      raw: () => withSection("local", "backup", { enabled: true }),
      problem: 'watchpipe:backup.enabled: backups go to an S3 bucket this program creates with an IRSA role, so they need cluster.mode "eks"; got cluster.mode "existing". Set backup.enabled to false (back up an existing cluster\'s database with its own tooling).',
    },
    {
      name: "a restore without backups",
      stack: "dev",
      raw: () => withSection("dev", "backup", { enabled: false, restoreFrom: "watchpipe-20261202T031700Z.sql.gz" }),
      problem: 'watchpipe:backup.restoreFrom: restores read the stack\'s backup bucket, which exists only with backup.enabled true; got restoreFrom "watchpipe-20261202T031700Z.sql.gz" with backup.enabled false.',
    },
    {
      name: "a restore naming something that is not a backup",
      stack: "dev",
      raw: () => withSection("dev", "backup", { restoreFrom: "s3://bucket/yugabyte/latest" }),
      problem: 'watchpipe:backup.restoreFrom: expected a backup\'s file name like watchpipe-20261202T031700Z.sql.gz (list them with aws s3 ls s3://<backupBucket output>/yugabyte/); got "s3://bucket/yugabyte/latest".',
    },
    {
      name: "a backup hour past 23 and no retention",
      stack: "dev",
      raw: () => withSection("dev", "backup", { hourUtc: 24, retentionDays: 0 }),
      problem: [
        "watchpipe:backup.hourUtc: Too big: expected number to be <=23; got 24.",
        "watchpipe:backup.retentionDays: Too small: expected number to be >=1; got 0.",
      ],
    },
    {
      name: "segments kept for less time than the pieces they are built from",
      stack: "dev",
      raw: () => withSection("dev", "database", { pieceRetentionDays: 14, segmentRetentionDays: 10 }),
      problem: "watchpipe:database.segmentRetentionDays: must be at least database.pieceRetentionDays (14); segments are built from pieces and must outlive them; got 10. Raise it or lower pieceRetentionDays.",
    },
    {
      name: "database retention out of bounds and an interval cron cannot fire evenly",
      stack: "dev",
      raw: () => withSection("dev", "database", { pieceRetentionDays: 91, segmentRetentionDays: 1001, maintenanceEveryMinutes: 7 }),
      problem: [
        "watchpipe:database.pieceRetentionDays: Too big: expected number to be <=90; got 91.",
        "watchpipe:database.segmentRetentionDays: Too big: expected number to be <=1000; got 1001.",
        "watchpipe:database.maintenanceEveryMinutes: expected one of 1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30, 60 (a divisor of 60, so the cron schedule fires evenly); got 7.",
      ],
    },
    {
      name: "an unknown database key",
      stack: "dev",
      raw: () => withSection("dev", "database", { pieceRetentionDay: 7 }),
      problem: "watchpipe:database.pieceRetentionDay: unknown key; did you mean watchpipe:database.pieceRetentionDays? expected one of pieceRetentionDays, segmentRetentionDays, maintenanceEveryMinutes (README.md, \"Configuration reference\").",
    },
  ];

  it.each(cases)("$name", ({ raw, stack, region, problem }) => {
    expect(problemsOf(raw(), stack, region)).toEqual(Array.isArray(problem) ? problem : [problem]);
  });

  it("reports every problem at once and says nothing was created", () => {
    const raw = withSection("prod", "network", { azCount: 2, natGatewayPerAz: false });
    expect(() => parseConfig(raw, "prod")).toThrowError(
      'Invalid stack configuration for stack "prod" (nothing was created):\n' +
        "  - watchpipe:network.azCount: prod must span exactly 3 availability zones (one Kafka and YugabyteDB replica per zone); got 2. Set it to 3.\n" +
        "  - watchpipe:network.natGatewayPerAz: prod needs one NAT gateway per AZ so losing a zone does not cut the others off; got false. Set it to true.\n" +
        "  - watchpipe:cluster.nodesPerAz.max: at their most the pods request 3 × Kafka broker (cpu 4 / memory 16Gi), 3 × KRaft controller (cpu 1 / memory 2Gi), 3 × YugabyteDB tserver (cpu 4 / memory 16Gi), 3 × YugabyteDB master (cpu 2 / memory 4Gi), 18 × ksqlDB server (cpu 6 / memory 16Gi), 3 × Kafka Connect worker (cpu 2 / memory 4Gi), 59 × ingest gateway (Envoy + Camel) (cpu 1250m / memory 1152Mi) = 220.75 vCPU / 480.4 GiB, but 2 AZs × 11 × m7i.2xlarge (7.75 vCPU / 30.9 GiB allocatable each) leave 2 × YugabyteDB tserver, 2 × Kafka Connect worker, 40 × ingest gateway (Envoy + Camel) unscheduled. Raise cluster.nodesPerAz.max, use a larger cluster.nodeInstanceType or lower the replicas or requests.\n" +
        'Fix the keys above in Pulumi.prod.yaml (see README.md, "Configuration reference").',
    );
  });
});

describe("defaults", () => {
  it("fill every optional section from named constants", () => {
    const cfg = parseConfig({ owner: "team", cluster: { mode: "existing" }, connect: { imageRegistry: "localhost:5001/x" } }, "local");
    expect(cfg.environment).toBe("local");
    expect(cfg.kafka.replicationFactor).toBe(3);
    expect(cfg.kafka.minInsyncReplicas).toBe(2);
    expect(cfg.network.azCount).toBe(3);
    expect(cfg.capacity.peakEventsPerSec).toBe(100_000);
    expect(cfg.cluster).toEqual({ mode: "existing", storageClass: "standard" });
  });

  it("give YugabyteDB masters their own small volume (the chart's 10Gi), not the tservers' size", () => {
    const prod = parseConfig(stackRaw("prod"), "prod");
    expect(prod.yugabyte.storageGiB).toBe(800);
    expect(prod.yugabyte.masterStorageGiB).toBe(10);
    expect(parseConfig(withSection("prod", "yugabyte", { masterStorageGiB: 20 }), "prod").yugabyte.masterStorageGiB).toBe(20);
  });
});

describe("loadConfig reads every watchpipe: key the stack has, known or not", () => {
  it("keeps unknown keys (so they fail) and ignores other namespaces", () => {
    expect(rawConfigOf({ "watchpipe:kafak": '{"brokers":3}', "watchpipe:environment": "dev", "aws:region": "us-east-1" })).toEqual({ kafak: { brokers: 3 }, environment: "dev" });
  });
});

describe("isIpv4Cidr", () => {
  it.each([
    ["10.40.0.0/16", true],
    ["0.0.0.0/0", true],
    ["203.0.113.0/24", true],
    ["192.168.1.1/32", true],
    ["10.40.0.0/33", false],
    ["10.40.1.0/16", false],
    ["256.0.0.0/8", false],
    ["10.40.0.0", false],
    ["10.40.0/16", false],
    ["not-a-cidr", false],
  ])("%s -> %s", (value, expected) => {
    expect(isIpv4Cidr(value)).toBe(expected);
  });
});
