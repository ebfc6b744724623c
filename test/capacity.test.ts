import { describe, expect, it } from "vitest";
import { parseConfig } from "../config";
import { MAX_PARTITIONS_PER_TOPIC, partitionPlan, PARTITION_MULTIPLE, sessionStatePlan, WINDOW_POINT_CHARS } from "../contract/capacity";
import { WINDOW_POINT_LENGTH } from "../ksql/model/encoding";
import { stackConfig } from "./harness";

/** Config values as loadConfig sees them: JSON where it parses, plain text otherwise. */
function jsonOrText(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

const base = { peakEventsPerSec: 100_000, avgEventBytes: 250, partitionBudgetMBps: 2, consumerParallelism: 12 };

describe("partitionPlan", () => {
  // peak MB/s = events × bytes / 1e6; throughput partitions = ceil(peak / budget); ×1.5 growth; max with
  // parallelism; rounded up to a multiple of 3.
  it.each([
    { name: "design peak", inputs: base, partitions: 21, throughputPartitions: 13, limitedBy: "throughput" },
    { name: "dev (5k/s): parallelism wins", inputs: { ...base, peakEventsPerSec: 5_000 }, partitions: 12, throughputPartitions: 1, limitedBy: "parallelism" },
    { name: "local (1k/s)", inputs: { ...base, peakEventsPerSec: 1_000 }, partitions: 12, throughputPartitions: 1, limitedBy: "parallelism" },
    { name: "larger events", inputs: { ...base, avgEventBytes: 1_000 }, partitions: 75, throughputPartitions: 50, limitedBy: "throughput" },
    { name: "bigger per-partition budget", inputs: { ...base, partitionBudgetMBps: 5 }, partitions: 12, throughputPartitions: 5, limitedBy: "parallelism" },
    { name: "parallelism not a multiple of 3", inputs: { ...base, peakEventsPerSec: 10, consumerParallelism: 7 }, partitions: 9, throughputPartitions: 1, limitedBy: "parallelism" },
  ])("$name → $partitions partitions", ({ inputs, partitions, throughputPartitions, limitedBy }) => {
    const plan = partitionPlan(inputs);
    expect(plan.partitions).toBe(partitions);
    expect(plan.throughputPartitions).toBe(throughputPartitions);
    expect(plan.limitedBy).toBe(limitedBy);
    expect(plan.partitions % PARTITION_MULTIPLE).toBe(0);
    expect(plan.partitions).toBeGreaterThanOrEqual(inputs.consumerParallelism);
    // Every plan leaves at least the growth headroom at the per-partition budget.
    expect(plan.perPartitionPeakMBps).toBeLessThanOrEqual(inputs.partitionBudgetMBps);
    expect(plan.headroom).toBeGreaterThanOrEqual(1);
  });

  it("reports the design-peak figures the README quotes", () => {
    const plan = partitionPlan(base);
    expect(plan.peakMBps).toBe(25);
    expect(plan.perPartitionPeakMBps).toBeCloseTo(25 / 21, 6);
    expect(plan.headroom).toBeCloseTo(42 / 25, 6);
  });

  it.each([
    ["peakEventsPerSec", 0],
    ["avgEventBytes", -1],
    ["partitionBudgetMBps", Number.NaN],
    ["consumerParallelism", 0],
  ] as const)("rejects %s = %s naming the key", (key, value) => {
    expect(() => partitionPlan({ ...base, [key]: value })).toThrow(`capacity.${key}: expected a positive number`);
  });

  it("refuses a plan beyond the per-topic partition ceiling", () => {
    expect(() => partitionPlan({ ...base, peakEventsPerSec: 10_000_000 })).toThrow(`more than the ${MAX_PARTITIONS_PER_TOPIC}`);
  });

  it.each([
    ["prod", 21],
    ["dev", 12],
    ["local", 12],
  ])("the %s stack's capacity config plans %i partitions", (stack, partitions) => {
    const raw = Object.fromEntries(
      Object.entries(stackConfig(stack))
        .filter(([k]) => k.startsWith("watchpipe:"))
        .map(([k, v]) => [k.slice("watchpipe:".length), jsonOrText(v)]),
    );
    expect(partitionPlan(parseConfig(raw, stack).capacity).partitions).toBe(partitions);
  });
});

describe("sessionStatePlan (ksqlDB window store and changelog)", () => {
  // V000004: 30 s tumbling windows of 24-character points.
  const v4 = {
    heartbeatsPerSec: 100_000, heartbeatIntervalSec: 5, windowSec: 30, hopSec: 30, pointChars: 24, retentionSec: 6 * 3600,
    changelogExtraRetentionSec: 3600, sessionKeyBytes: 14, replicationFactor: 3,
  };
  // V000006 (what the plan models): 60 s windows hopping by 30 s, 50-character points.
  const v6 = { ...v4, windowSec: 60, pointChars: 50 };
  // V000004: bytes per write = mean over n = 1..6 points of (14 + 12 + 5 + 1 + 14 + list(n) + 8), list(n) = 1 + 25n + 1;
  // store = windows/s × retention × final window (n = 6: 206 B) = 16,667 × 21,600 × 206 B = 74.16 GB.
  // V000006: mean over n = 1..12 of (54 + 2 + 51n) = 387.5 B, written into 2 windows, store and changelog: 1,550 B
  // (bench:state replays 1,545 for a 2 h session, whose first and last windows are part-filled); one window closes
  // per key and 30 s hop holding 12 points (668 B): 16,667 × 21,600 × 668 B = 240.5 GB.
  it.each([
    { name: "V000004 design peak, 30 s windows", inputs: v4, perHb: 287, changelogMBps: 14.3, brokerMBps: 43, piecesPerDay: 1.44e9, storeGB: 74.16 },
    { name: "V000004, 20 s windows", inputs: { ...v4, windowSec: 20, hopSec: 20 }, perHb: 237, changelogMBps: 11.8, brokerMBps: 35.5, piecesPerDay: 2.16e9, storeGB: 84.24 },
    { name: "V000004, 60 s windows", inputs: { ...v4, windowSec: 60, hopSec: 60 }, perHb: 437, changelogMBps: 21.8, brokerMBps: 65.5, piecesPerDay: 0.72e9, storeGB: 64.08 },
    { name: "V000006 design peak, 60 s hopping by 30 s", inputs: v6, perHb: 1550, changelogMBps: 77.5, brokerMBps: 232.5, piecesPerDay: 1.44e9, storeGB: 240.48 },
    { name: "V000006 dev (5k/s)", inputs: { ...v6, heartbeatsPerSec: 5_000 }, perHb: 1550, changelogMBps: 3.875, brokerMBps: 11.625, piecesPerDay: 0.072e9, storeGB: 12.02 },
  ])("$name: $perHb B per heartbeat", ({ inputs, perHb, changelogMBps, brokerMBps, piecesPerDay, storeGB }) => {
    const p = sessionStatePlan(inputs);
    expect(Math.round(p.bytesPerHeartbeat)).toBe(perHb);
    expect(p.changelogBytesPerSec / 1e6).toBeCloseTo(changelogMBps, 0);
    expect(p.brokerChangelogBytesPerSec / 1e6).toBeCloseTo(brokerMBps, 0);
    expect(p.piecesPerDay).toBeCloseTo(piecesPerDay, -6);
    expect(p.storeBytes / 1e9).toBeCloseTo(storeGB, 0);
    expect(p.brokerChangelogBytes).toBeCloseTo((p.storeBytes * (inputs.retentionSec + 3600) / inputs.retentionSec) * 3, -3);
  });
  it("a hopping window doubles the writes per heartbeat, not the windows closed or the pieces", () => {
    const a = sessionStatePlan({ ...v6, hopSec: 60 });
    const b = sessionStatePlan(v6);
    expect(b.windowsPerHeartbeat).toBe(2);
    expect(b.bytesPerHeartbeat).toBe(2 * a.bytesPerHeartbeat);
    expect(b.windowsPerSec).toBe(2 * a.windowsPerSec);
    expect(b.windowsPerSec).toBeCloseTo(sessionStatePlan(v4).windowsPerSec, 6);
  });
  it("the point width is V000006's (ksql/model/encoding.ts)", () => {
    expect(WINDOW_POINT_CHARS).toBe(WINDOW_POINT_LENGTH);
  });
  it("bytes per heartbeat do not depend on load or retention, only on the window", () => {
    const a = sessionStatePlan(v6);
    expect(sessionStatePlan({ ...v6, heartbeatsPerSec: 1 }).bytesPerHeartbeat).toBe(a.bytesPerHeartbeat);
    expect(sessionStatePlan({ ...v6, retentionSec: 3600 }).bytesPerHeartbeat).toBe(a.bytesPerHeartbeat);
  });
  it("refuses a hop shorter than the heartbeat interval, and a window that is not a whole number of hops", () => {
    expect(() => sessionStatePlan({ ...v4, windowSec: 2, hopSec: 2 })).toThrow(/hopSec \(2\) must be >= heartbeatIntervalSec \(5\)/);
    expect(() => sessionStatePlan({ ...v6, windowSec: 45 })).toThrow(/windowSec \(45\) must be a whole multiple of hopSec \(30\)/);
  });
});
