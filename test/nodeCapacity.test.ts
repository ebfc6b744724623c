import { describe, expect, it } from "vitest";
import { INSTANCE_TYPES } from "../contract/instanceTypes";
import { cpuMillis, ENI_MAX_PODS, kubeReservedCpuMillis, memoryMiB, nodeAllocatable, podFitProblems } from "../contract/nodeCapacity";

describe("node allocatable follows the EKS AMI's reserve formula", () => {
  it("every instance type the config accepts has a max-pods row", () => {
    expect(Object.keys(ENI_MAX_PODS).sort()).toEqual(Object.keys(INSTANCE_TYPES).sort());
  });

  it.each([
    // vCPU, kube-reserved millicores: 6 % of core 1, 1 % of core 2, 0.5 % of cores 3-4, 0.25 % beyond.
    [1, 60],
    [2, 70],
    [4, 80],
    [8, 90],
    [16, 110],
  ])("%i vCPU reserve %i m", (vcpu, reserved) => {
    expect(kubeReservedCpuMillis(vcpu)).toBeCloseTo(reserved, 6);
  });

  it.each([
    // type, cpu m, memory MiB: capacity − kube-reserved (11 MiB × max pods + 255) − 100 Mi eviction − DaemonSets (155 m, 120 Mi).
    ["m7i.large", 1775, 8192 - (11 * 29 + 255) - 100 - 120],
    ["m7i.xlarge", 3765, 16384 - (11 * 58 + 255) - 100 - 120],
    ["m7i.2xlarge", 7755, 32768 - (11 * 58 + 255) - 100 - 120],
    ["m7i.4xlarge", 15735, 65536 - (11 * 234 + 255) - 100 - 120],
  ])("%s: %i m CPU, %i MiB for workload pods", (type, cpu, mem) => {
    const a = nodeAllocatable(INSTANCE_TYPES[type], ENI_MAX_PODS[type]);
    expect(a.cpuMillis).toBe(cpu);
    expect(a.memoryMiB).toBe(mem);
  });
});

describe("quantities", () => {
  it.each([["500m", 500], ["2", 2000], ["1.5", 1500], ["2Gi", undefined]])("cpu %s -> %s", (q, m) => expect(cpuMillis(q as string)).toBe(m));
  it.each([["4Gi", 4096], ["512Mi", 512], ["1Ti", 1048576], ["1G", 1e9 / 2 ** 20], ["lots", undefined]])("memory %s -> %s", (q, m) => expect(memoryMiB(q as string)).toBe(m));
});

describe("podFitProblems", () => {
  const base = { instanceType: "m7i.xlarge", shape: INSTANCE_TYPES["m7i.xlarge"], maxPods: ENI_MAX_PODS["m7i.xlarge"] };
  it("accepts pods that fit and pinned sets that pack", () => {
    const pods = [
      { pod: "Kafka broker", key: "kafka.brokerResources", cpu: "1", memory: "4Gi", perAz: 1 },
      { pod: "YugabyteDB tserver", key: "yugabyte.tserverResources", cpu: "1", memory: "4Gi", perAz: 1 },
    ];
    expect(podFitProblems({ ...base, maxNodesPerAz: 1, pods })).toEqual([]);
  });
  it("packs per AZ at max nodes: two 8 GiB pods need two xlarge nodes", () => {
    const pods = [{ pod: "Kafka broker", key: "kafka.brokerResources", cpu: "1", memory: "8Gi", perAz: 2 }];
    expect(podFitProblems({ ...base, maxNodesPerAz: 2, pods })).toEqual([]);
    expect(podFitProblems({ ...base, maxNodesPerAz: 1, pods })).toEqual([
      "cluster.nodesPerAz.max: each AZ must hold 2 × Kafka broker (cpu 1 / memory 8Gi) = 2.00 vCPU / 16.0 GiB, but 1 × m7i.xlarge (3.77 vCPU / 14.9 GiB allocatable each) leaves Kafka broker unscheduled. " +
        "Raise cluster.nodesPerAz.max, use a larger cluster.nodeInstanceType or lower the requests.",
    ]);
  });
  it("with the AZ count, every pod at its most (unpinned ones at their replicas or HPA ceiling) must fit the whole cluster at its max size", () => {
    const pods = [
      { pod: "Kafka broker", key: "kafka.brokerResources", cpu: "1", memory: "4Gi", perAz: 1 },
      // 3 vCPU each on 3.77 vCPU nodes: one per node.
      { pod: "ksqlDB server", key: "ksqldb.resources", cpu: "3", memory: "4Gi", perAz: 0, count: 4 },
      { pod: "ingest gateway (Envoy + Camel)", key: "ingest.gateway.maxReplicas", cpu: "1250m", memory: "1152Mi", perAz: 0, count: 6 },
    ];
    // 2 AZs × 4 nodes = 8: 4 for the ksqlDB servers (0.77 vCPU left on each), the rest hold the 2 brokers and 6 gateway pods; 6 nodes leave 2 gateway pods over.
    expect(podFitProblems({ ...base, maxNodesPerAz: 4, pods, azCount: 2 })).toEqual([]);
    expect(podFitProblems({ ...base, maxNodesPerAz: 3, pods, azCount: 2 })).toEqual([
      "cluster.nodesPerAz.max: at their most the pods request 2 × Kafka broker (cpu 1 / memory 4Gi), 4 × ksqlDB server (cpu 3 / memory 4Gi), 6 × ingest gateway (Envoy + Camel) (cpu 1250m / memory 1152Mi) = 21.50 vCPU / 30.8 GiB, " +
        "but 2 AZs × 3 × m7i.xlarge (3.77 vCPU / 14.9 GiB allocatable each) leave 2 × ingest gateway (Envoy + Camel) unscheduled. Raise cluster.nodesPerAz.max, use a larger cluster.nodeInstanceType or lower the replicas or requests.",
    ]);
    // Without the AZ count only the per-AZ packing of pinned pods is checked, as before.
    expect(podFitProblems({ ...base, maxNodesPerAz: 3, pods })).toEqual([]);
  });
  it("a pod exactly at the node's nominal memory does not fit (reserve is real)", () => {
    const pods = [{ pod: "ksqlDB server", key: "ksqldb.resources", cpu: "1", memory: "16Gi", perAz: 0 }];
    expect(podFitProblems({ ...base, maxNodesPerAz: 3, pods })).toEqual([
      "ksqldb.resources: a ksqlDB server pod requests cpu 1 / memory 16Gi, but one m7i.xlarge node (4 vCPU, 16 GiB) has 3.77 vCPU / 14.9 GiB allocatable after kube-reserved, eviction threshold and DaemonSets; " +
        "it can never be scheduled. Use a larger cluster.nodeInstanceType or lower ksqldb.resources.",
    ]);
  });
});
