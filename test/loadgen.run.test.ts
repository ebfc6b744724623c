import { describe, expect, it } from "vitest";
import { parseLoadgenArgs, type LoadgenConfig } from "../tools/loadgen/config";
import type { SendResult } from "../tools/loadgen/kafkaSender";
import type { LoadRecord } from "../tools/loadgen/records";
import { formatSummary, runLoad, type Lane } from "../tools/loadgen/run";
import { formatProgress, median, msUntilDue, percentiles, recordsAllowed } from "../tools/loadgen/stats";

function cfg(argv: string[]): LoadgenConfig {
  const r = parseLoadgenArgs(["--bootstrap", "127.0.0.1:9092", ...argv], {});
  if (r.help) throw new Error("unexpected help");
  return r.config;
}

/** A lane that records what it was given and fails the sends listed in `failOn` (0-based call numbers). */
class FakeLane implements Lane {
  readonly batches: LoadRecord[][] = [];
  private inFlight = false;
  concurrentCalls = 0;
  constructor(private readonly failOn: ReadonlySet<number> = new Set()) {}
  async send(records: readonly LoadRecord[]): Promise<SendResult> {
    if (this.inFlight) this.concurrentCalls++;
    this.inFlight = true;
    const call = this.batches.length;
    this.batches.push([...records]);
    await new Promise((r) => setTimeout(r, 1));
    this.inFlight = false;
    if (this.failOn.has(call)) return { acked: 0, failed: records.length, ackedRecords: [], latencyMs: 1, error: new Error("broker gone") };
    return { acked: records.length, failed: 0, ackedRecords: records, latencyMs: 1 };
  }
  async close(): Promise<void> {}
}

describe("runLoad", () => {
  it("sends exactly --count records with unique sequence numbers, one send in flight per lane", async () => {
    const lanes = [new FakeLane(), new FakeLane(), new FakeLane()];
    const acked: number[] = [];
    const summary = await runLoad(cfg(["--count", "1003", "--batch-size", "100", "--producers", "3"]), lanes, {
      log: () => undefined,
      onAcked: (rs) => acked.push(...rs.map((r) => r.seq)),
    });
    expect(summary).toMatchObject({ generated: 1003, acked: 1003, failed: 0 });
    expect(new Set(acked).size).toBe(1003);
    expect(lanes.every((l) => l.concurrentCalls === 0)).toBe(true);
    expect(Math.max(...lanes.flatMap((l) => l.batches.map((b) => b.length)))).toBe(100);
  });

  it("counts failed sends, keeps going, and summarises the errors", async () => {
    const failed: number[] = [];
    const summary = await runLoad(cfg(["--count", "500", "--batch-size", "100", "--producers", "1"]), [new FakeLane(new Set([1]))], {
      log: () => undefined,
      onFailed: (rs) => failed.push(...rs.map((r) => r.seq)),
    });
    expect(summary).toMatchObject({ generated: 500, acked: 400, failed: 100 });
    expect(failed).toEqual(Array.from({ length: 100 }, (_, i) => 100 + i));
    expect(formatSummary(summary)).toMatch(/acknowledged 400 .*failed 100[\s\S]*1 x Error: broker gone/);
  }, 10_000);

  it("paces to --rate", async () => {
    const started = Date.now();
    const summary = await runLoad(cfg(["--count", "300", "--rate", "1000", "--batch-size", "50", "--producers", "2"]), [new FakeLane(), new FakeLane()], { log: () => undefined });
    const elapsed = Date.now() - started;
    expect(summary.acked).toBe(300);
    // 300 records at 1000/s cannot finish in much under 250 ms (the first batch is due at 50 ms).
    expect(elapsed).toBeGreaterThanOrEqual(240);
  });
});

describe("stats", () => {
  it("computes nearest-rank percentiles", () => {
    const xs = Array.from({ length: 100 }, (_, i) => 100 - i);
    expect(percentiles(xs, [50, 95, 99, 100])).toEqual([50, 95, 99, 100]);
    expect(percentiles([], [50])[0]).toBeNaN();
    expect(() => percentiles([1], [0])).toThrow(/percentile must be in \(0, 100\], got 0/);
  });

  it("paces: allows what is due and says how long to wait for the next batch", () => {
    expect(recordsAllowed(0, 0, 1_000_000, 500)).toBe(500);
    expect(recordsAllowed(1000, 1000, 400, 500)).toBe(500);
    expect(recordsAllowed(1000, 1000, 900, 500)).toBe(100);
    expect(recordsAllowed(1000, 1000, 1000, 500)).toBe(0);
    expect(msUntilDue(1000, 1000, 1000, 100)).toBe(100);
    expect(msUntilDue(0, 1000, 1000, 100)).toBe(0);
  });

  it("medians and progress lines", () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 2, 3])).toBe(2.5);
    expect(() => median([])).toThrow(/empty/);
    const line = formatProgress({ elapsedMs: 10_000, acked: 50_000, failed: 2, windowAcked: 25_000, windowMs: 5_000, windowLatenciesMs: [10, 20, 30] });
    expect(line).toBe("[10.0 s] acked 50000 failed 2 | rate 5.0k/s (avg 5.0k/s) | batch ack latency p50 20 ms, p95 30 ms, p99 30 ms");
  });
});
