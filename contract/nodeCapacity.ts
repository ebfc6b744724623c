/**
 * What a worker node can actually hold, and whether the configured pods fit. Pure: config.ts calls it before any
 * resource exists, tests table-drive it.
 *
 * Allocatable = capacity − kube-reserved − the kubelet's hard eviction threshold, computed the way the EKS-optimized
 * AMI's bootstrap computes them (amazon-eks-ami, `templates/al2023/runtime/... nodeadm` kubelet config and the older
 * `files/bootstrap.sh`; https://github.com/awslabs/amazon-eks-ami):
 *
 * - max pods (VPC CNI, no prefix delegation) = ENIs × (IPv4 addresses per ENI − 1) + 2, from the AMI's
 *   `eni-max-pods.txt` (rows below);
 * - kube-reserved memory = 11 MiB × max pods + 255 MiB;
 * - kube-reserved CPU = 6 % of the first core + 1 % of the second + 0.5 % of the third and fourth + 0.25 % of every
 *   further core;
 * - eviction-hard `memory.available<100Mi`; no system-reserved on top of that.
 *
 * Then the DaemonSets every node of this program's clusters runs are subtracted (their requests, below).
 */

/** Per-node IPv4 pod limit of the VPC CNI without prefix delegation (amazon-eks-ami `eni-max-pods.txt`). */
export const ENI_MAX_PODS: Readonly<Record<string, number>> = {
  "t3.large": 35,
  "t3.xlarge": 58,
  "m6i.large": 29,
  "m6i.xlarge": 58,
  "m6i.2xlarge": 58,
  "m7i.large": 29,
  "m7i.xlarge": 58,
  "m7i.2xlarge": 58,
  "m7i.4xlarge": 234,
  "r7i.xlarge": 58,
  "r7i.2xlarge": 58,
};

/** The kubelet's hard eviction threshold on the EKS AMI: memory the scheduler can never hand out. */
export const EVICTION_HARD_MEMORY_MIB = 100;

/**
 * Requests of the DaemonSets on every node (EKS defaults of the add-ons the cluster component installs):
 * aws-node (VPC CNI) 25m; kube-proxy 100m; ebs-csi-node 3 containers × 10m / 40Mi; eks-pod-identity-agent none.
 */
export const DAEMONSET_REQUESTS: readonly { readonly name: string; readonly cpuMillis: number; readonly memoryMiB: number }[] = [
  { name: "aws-node", cpuMillis: 25, memoryMiB: 0 },
  { name: "kube-proxy", cpuMillis: 100, memoryMiB: 0 },
  { name: "ebs-csi-node", cpuMillis: 30, memoryMiB: 120 },
];

export interface NodeShape {
  readonly vcpu: number;
  readonly memoryGiB: number;
}

export interface Allocatable {
  readonly cpuMillis: number;
  readonly memoryMiB: number;
  readonly maxPods: number;
}

/** kube-reserved CPU of the EKS AMI for a node with `vcpu` cores, millicores. */
export function kubeReservedCpuMillis(vcpu: number): number {
  const steps: [cores: number, share: number][] = [[1, 0.06], [1, 0.01], [2, 0.005], [Infinity, 0.0025]];
  let left = vcpu;
  let reserved = 0;
  for (const [cores, share] of steps) {
    const here = Math.min(left, cores);
    reserved += here * 1000 * share;
    left -= here;
    if (left <= 0) break;
  }
  return reserved;
}

/** What the scheduler can place on one node of this shape for the workload pods (after DaemonSets). */
export function nodeAllocatable(shape: NodeShape, maxPods: number): Allocatable {
  const daemonCpu = DAEMONSET_REQUESTS.reduce((s, d) => s + d.cpuMillis, 0);
  const daemonMem = DAEMONSET_REQUESTS.reduce((s, d) => s + d.memoryMiB, 0);
  return {
    cpuMillis: Math.floor(shape.vcpu * 1000 - kubeReservedCpuMillis(shape.vcpu) - daemonCpu),
    memoryMiB: shape.memoryGiB * 1024 - (11 * maxPods + 255) - EVICTION_HARD_MEMORY_MIB - daemonMem,
    maxPods: maxPods - DAEMONSET_REQUESTS.length,
  };
}

/** "500m" → 500, "2" → 2000, "1.5" → 1500 millicores; undefined when it is not a CPU quantity. */
export function cpuMillis(quantity: string): number | undefined {
  const m = /^([0-9]+(?:\.[0-9]+)?)(m?)$/.exec(quantity);
  if (!m) return undefined;
  return m[2] === "m" ? Number(m[1]) : Number(m[1]) * 1000;
}

/** "4Gi" → 4096, "512Mi" → 512, "1G" → 953.7 MiB; undefined when it is not a memory quantity. */
export function memoryMiB(quantity: string): number | undefined {
  const m = /^([0-9]+(?:\.[0-9]+)?)(Ki|Mi|Gi|Ti|k|M|G|T)?$/.exec(quantity);
  if (!m) return undefined;
  const factor: Record<string, number> = { Ki: 1 / 1024, Mi: 1, Gi: 1024, Ti: 1024 * 1024, k: 1e3 / 2 ** 20, M: 1e6 / 2 ** 20, G: 1e9 / 2 ** 20, T: 1e12 / 2 ** 20 };
  return Number(m[1]) * (m[2] ? factor[m[2]] : 1 / 2 ** 20);
}

/** A group of identical pods the configuration asks for. */
export interface PodGroup {
  /** Who the pod is, as a reader knows it: "Kafka broker". */
  readonly pod: string;
  /** The config key its requests come from: "kafka.brokerResources". */
  readonly key: string;
  readonly cpu: string;
  readonly memory: string;
  /** Pods per AZ that the program pins to that AZ (zone-spread StatefulSets, per-zone releases); 0 if unpinned. */
  readonly perAz: number;
  /** Pods of the group at their most (replicas; an HPA's maxReplicas); without it, perAz × AZs. */
  readonly count?: number;
}

export interface FitInputs {
  readonly instanceType: string;
  readonly shape: NodeShape;
  readonly maxPods: number;
  readonly maxNodesPerAz: number;
  readonly pods: readonly PodGroup[];
  /** AZs of the node groups: with it, every pod at its most must also fit the whole cluster at its max size. */
  readonly azCount?: number;
}

interface SizedPod {
  readonly pod: string;
  readonly cpu: number;
  readonly mem: number;
}

/** First-fit decreasing (by memory, then CPU) into at most `maxNodes` empty nodes: the nodes opened and the pods left over. */
function pack(pods: readonly SizedPod[], a: Allocatable, maxNodes: number): { nodes: number; unplaced: string[] } {
  const sorted = [...pods].sort((x, y) => y.mem - x.mem || y.cpu - x.cpu);
  const nodes: { cpu: number; mem: number; pods: number }[] = [];
  const unplaced: string[] = [];
  for (const pod of sorted) {
    let node = nodes.find((n) => n.cpu >= pod.cpu && n.mem >= pod.mem && n.pods >= 1);
    if (!node && nodes.length < maxNodes) {
      node = { cpu: a.cpuMillis, mem: a.memoryMiB, pods: a.maxPods };
      nodes.push(node);
    }
    if (!node) {
      unplaced.push(pod.pod);
      continue;
    }
    node.cpu -= pod.cpu;
    node.mem -= pod.mem;
    node.pods -= 1;
  }
  return { nodes: nodes.length, unplaced };
}

const gib = (mib: number) => (mib / 1024).toFixed(1);
const vcpu = (millis: number) => (millis / 1000).toFixed(2);

function describeNode(f: FitInputs, a: Allocatable): string {
  return `one ${f.instanceType} node (${f.shape.vcpu} vCPU, ${f.shape.memoryGiB} GiB) has ${vcpu(a.cpuMillis)} vCPU / ${gib(a.memoryMiB)} GiB allocatable after kube-reserved, eviction threshold and DaemonSets`;
}

/**
 * Problems (as `<key>: <message>` without the namespace) when a pod cannot fit on any node, or when one AZ's node
 * group at its max size cannot hold what is pinned to that AZ. Packing is first-fit decreasing by memory, which is
 * what the scheduler's default spreading approaches when nodes fill.
 */
export function podFitProblems(f: FitInputs): string[] {
  const a = nodeAllocatable(f.shape, f.maxPods);
  const problems: string[] = [];
  const sized = f.pods.map((p) => ({ ...p, cpuM: cpuMillis(p.cpu), memM: memoryMiB(p.memory) }));
  for (const p of sized) {
    if (p.cpuM === undefined || p.memM === undefined) continue; // the quantity check reports these
    if (p.cpuM > a.cpuMillis || p.memM > a.memoryMiB) {
      problems.push(
        `${p.key}: a ${p.pod} pod requests cpu ${p.cpu} / memory ${p.memory}, but ${describeNode(f, a)}; it can never be scheduled. ` +
          `Use a larger cluster.nodeInstanceType or lower ${p.key}.`,
      );
    }
  }
  if (problems.length) return problems;

  const pinned = sized.filter((p) => p.perAz > 0 && p.cpuM !== undefined && p.memM !== undefined);
  const pods = pinned.flatMap((p) => Array.from({ length: p.perAz }, () => ({ pod: p.pod, cpu: p.cpuM!, mem: p.memM! })));
  const { unplaced } = pack(pods, a, f.maxNodesPerAz);
  if (unplaced.length) {
    const totalCpu = pods.reduce((s, p) => s + p.cpu, 0);
    const totalMem = pods.reduce((s, p) => s + p.mem, 0);
    const what = pinned.map((p) => `${p.perAz} × ${p.pod} (cpu ${p.cpu} / memory ${p.memory})`).join(", ");
    problems.push(
      `cluster.nodesPerAz.max: each AZ must hold ${what} = ${vcpu(totalCpu)} vCPU / ${gib(totalMem)} GiB, but ${f.maxNodesPerAz} × ${f.instanceType} ` +
        `(${vcpu(a.cpuMillis)} vCPU / ${gib(a.memoryMiB)} GiB allocatable each) leaves ${[...new Set(unplaced)].join(", ")} unscheduled. ` +
        `Raise cluster.nodesPerAz.max, use a larger cluster.nodeInstanceType or lower the requests.`,
    );
  }
  if (problems.length || f.azCount === undefined) return problems;

  // The whole cluster at its max size must hold every pod at its most, the unpinned ones (ksqlDB, Connect, the
  // gateway at its HPA ceiling) too: otherwise `pulumi up` succeeds and pods stay Pending at the peak.
  const zones = f.azCount;
  const all = sized
    .filter((p) => p.cpuM !== undefined && p.memM !== undefined)
    .map((p) => ({ ...p, n: p.count ?? p.perAz * zones }))
    .filter((p) => p.n > 0);
  const every = all.flatMap((p) => Array.from({ length: p.n }, () => ({ pod: p.pod, cpu: p.cpuM!, mem: p.memM! })));
  const left = pack(every, a, zones * f.maxNodesPerAz).unplaced;
  if (left.length) {
    const totalCpu = every.reduce((s, p) => s + p.cpu, 0);
    const totalMem = every.reduce((s, p) => s + p.mem, 0);
    const what = all.map((p) => `${p.n} × ${p.pod} (cpu ${p.cpu} / memory ${p.memory})`).join(", ");
    const counts = [...left.reduce((m, x) => m.set(x, (m.get(x) ?? 0) + 1), new Map<string, number>())].map(([x, n]) => `${n} × ${x}`).join(", ");
    problems.push(
      `cluster.nodesPerAz.max: at their most the pods request ${what} = ${vcpu(totalCpu)} vCPU / ${gib(totalMem)} GiB, but ${zones} AZs × ${f.maxNodesPerAz} × ${f.instanceType} ` +
        `(${vcpu(a.cpuMillis)} vCPU / ${gib(a.memoryMiB)} GiB allocatable each) leave ${counts} unscheduled. ` +
        `Raise cluster.nodesPerAz.max, use a larger cluster.nodeInstanceType or lower the replicas or requests.`,
    );
  }
  return problems;
}

export interface NodesPerAzInputs {
  readonly shape: NodeShape;
  readonly maxPods: number;
  readonly azCount: number;
  /** Every pod group at the count it runs at (PodGroup.count, else perAz × AZs). */
  readonly pods: readonly PodGroup[];
}

export interface NodesPerAz {
  /** Nodes each AZ's node group needs to hold its share, in AZ order. */
  readonly perAz: readonly number[];
  readonly total: number;
  /** Pods of each AZ's share, in AZ order. */
  readonly podsPerAz: readonly number[];
  /** Pods no node of this shape can hold (their requests exceed one node's allocatable). */
  readonly unplaceable: readonly string[];
}

/**
 * Nodes per AZ for pods at the given counts, with the same first-fit-decreasing packing {@link podFitProblems} checks
 * with. Each group's pods are dealt round-robin over the AZs (what Strimzi's and the charts' zone spread and the
 * scheduler's default topology spread do), each group starting one AZ after the previous group's last pod so the
 * remainders do not all land in the first AZ; then each AZ is packed into as many empty nodes as it takes.
 */
export function nodesPerAz(f: NodesPerAzInputs): NodesPerAz {
  const a = nodeAllocatable(f.shape, f.maxPods);
  const zones: SizedPod[][] = Array.from({ length: f.azCount }, () => []);
  let next = 0;
  const unplaceable: string[] = [];
  for (const p of f.pods) {
    const cpu = cpuMillis(p.cpu);
    const mem = memoryMiB(p.memory);
    if (cpu === undefined || mem === undefined) continue; // the quantity check reports these
    const n = p.count ?? p.perAz * f.azCount;
    if (n > 0 && (cpu > a.cpuMillis || mem > a.memoryMiB)) {
      unplaceable.push(`${n} × ${p.pod}`);
      continue;
    }
    for (let i = 0; i < n; i++) {
      zones[next]!.push({ pod: p.pod, cpu, mem });
      next = (next + 1) % f.azCount;
    }
  }
  const perAz = zones.map((pods) => pack(pods, a, Infinity).nodes);
  return { perAz, total: perAz.reduce((s, n) => s + n, 0), podsPerAz: zones.map((z) => z.length), unplaceable };
}
