import { describe, expect, it } from "vitest";
import { parseLoadgenArgs, type LoadgenConfig } from "../tools/loadgen/config";
import type { SendResult } from "../tools/loadgen/kafkaSender";
import type { LoadRecord } from "../tools/loadgen/records";
import { formatSummary, LINGER_MS, QUEUE_LIMIT_BATCHES, runLoad, type Lane } from "../tools/loadgen/run";
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
  /** While set, sends wait for it: a lane stuck on a slow or dead broker. */
  gate: Promise<void> | null = null;
  constructor(private readonly failOn: ReadonlySet<number> = new Set()) {}
  async send(records: readonly LoadRecord[]): Promise<SendResult> {
    if (this.inFlight) this.concurrentCalls++;
    this.inFlight = true;
    const call = this.batches.length;
    this.batches.push([...records]);
    await new Promise((r) => setTimeout(r, 1));
    if (this.gate !== null) await this.gate;
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

describe("runLoad with partition-owning lanes (laneOf)", () => {
  /** Stands in for createPartitionedKafkaLanes's router: users spread over the lanes by their number. */
  const laneOf = (lanes: number) => (key: string) => Number(key.slice(1)) % lanes;

  it("sends every record through the lane that owns its key, exactly once, one send in flight per lane", async () => {
    const lanes = [new FakeLane(), new FakeLane(), new FakeLane()];
    const acked: number[] = [];
    const summary = await runLoad(cfg(["--count", "3000", "--batch-size", "100", "--viewers", "50"]), lanes, {
      log: () => undefined,
      laneOf: laneOf(3),
      onAcked: (rs) => acked.push(...rs.map((r) => r.seq)),
    });
    expect(summary).toMatchObject({ generated: 3000, acked: 3000, failed: 0 });
    expect(new Set(acked).size).toBe(3000);
    lanes.forEach((lane, i) => {
      const keys = lane.batches.flat().map((r) => r.key);
      expect(keys.length).toBeGreaterThan(0);
      expect(keys.every((k) => laneOf(3)(k) === i), `lane ${i} got another lane's key`).toBe(true);
      expect(lane.concurrentCalls).toBe(0);
      expect(Math.max(...lane.batches.map((b) => b.length))).toBeLessThanOrEqual(100);
    });
  });

  it("bounds the queues: a stuck lane holds generation back instead of piling up records, then the run completes", async () => {
    const stuck = new FakeLane();
    const other = new FakeLane();
    let release = (): void => undefined;
    stuck.gate = new Promise((r) => (release = r));
    const run = runLoad(cfg(["--count", "20000", "--batch-size", "100", "--viewers", "40"]), [stuck, other], { log: () => undefined, laneOf: laneOf(2) });
    await new Promise((r) => setTimeout(r, 300));
    const sentByOtherWhileStuck = other.batches.flat().length;
    // The stuck lane's queue fills to QUEUE_LIMIT_BATCHES batches (plus the one in flight) and generation stops;
    // the other lane gets about as many (half of all records are its), never the whole run.
    expect(sentByOtherWhileStuck).toBeGreaterThan(0);
    expect(sentByOtherWhileStuck).toBeLessThanOrEqual((QUEUE_LIMIT_BATCHES + 3) * 100);
    stuck.gate = null;
    release();
    expect(await run).toMatchObject({ generated: 20000, acked: 20000, failed: 0 });
  });

  it("sends a partial batch once it has lingered, so a paced run does not wait for full batches", async () => {
    const lane = new FakeLane();
    const started = Date.now();
    const summary = await runLoad(cfg(["--rate", "1000", "--duration", "0.4", "--batch-size", "1000"]), [lane], { log: () => undefined, laneOf: () => 0 });
    const sizes = lane.batches.map((b) => b.length);
    expect(sizes.length).toBeGreaterThanOrEqual(5);
    expect(Math.max(...sizes)).toBeLessThan(1000);
    // ~400 records due in 400 ms, sent in linger-sized pieces (~LINGER_MS worth each, give or take timer slack).
    expect(Math.max(...sizes)).toBeLessThanOrEqual(LINGER_MS * 4);
    expect(summary.acked).toBe(sizes.reduce((a, b) => a + b, 0));
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it("on abort counts only what was handed to a send: generated = acked + failed", async () => {
    const abort = new AbortController();
    const lines: string[] = [];
    setTimeout(() => abort.abort(), 100);
    const summary = await runLoad(cfg(["--duration", "60", "--batch-size", "50"]), [new FakeLane(new Set([2])), new FakeLane()], {
      log: (l) => lines.push(l),
      laneOf: laneOf(2),
      signal: abort.signal,
    });
    expect(summary.acked).toBeGreaterThan(0);
    expect(summary.generated).toBe(summary.acked + summary.failed);
    expect(summary.elapsedMs).toBeLessThan(5_000);
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
