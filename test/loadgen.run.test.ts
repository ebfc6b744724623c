import { describe, expect, it } from "vitest";
import { parseLoadgenArgs, type LoadgenConfig } from "../tools/loadgen/config";
import type { SendResult } from "../tools/loadgen/kafkaSender";
import type { LoadRecord } from "../tools/loadgen/records";
import { formatSummary, QUEUE_LIMIT_BATCHES, runLoad, STALLED_SEND_MS, type Lane } from "../tools/loadgen/run";
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
  const laneOf = (lanes: number) => (key: string) => Number(key.split("|")[0]!.slice(1)) % lanes;

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

  it("bounds the queues: lanes that are moving but slow hold generation back instead of piling up records", async () => {
    const slow = new FakeLane();
    const other = new FakeLane();
    let release = (): void => undefined;
    slow.gate = new Promise((r) => (release = r));
    const run = runLoad(cfg(["--count", "20000", "--batch-size", "100", "--viewers", "40"]), [slow, other], { log: () => undefined, laneOf: laneOf(2) });
    // Well inside STALLED_SEND_MS: the gated lane counts as busy, not stalled, so its full queue is backpressure.
    await new Promise((r) => setTimeout(r, STALLED_SEND_MS / 4));
    const sentByOther = other.batches.flat().length;
    expect(sentByOther).toBeGreaterThan(0);
    expect(sentByOther).toBeLessThanOrEqual((QUEUE_LIMIT_BATCHES + 3) * 100);
    slow.gate = null;
    release();
    expect(await run).toMatchObject({ generated: 20000, acked: 20000, failed: 0 });
  });

  it("no head-of-line stall: a lane stuck on a dead leader does not pause the other lanes; nothing is lost when it recovers", async () => {
    const stuck = new FakeLane();
    const other = new FakeLane();
    let release = (): void => undefined;
    stuck.gate = new Promise((r) => (release = r));
    const stuckForMs = STALLED_SEND_MS + 1_500;
    const rate = 2_000;
    const otherAckTimes: number[] = [];
    const started = Date.now();
    const acked = new Set<number>();
    const lanes = [stuck, other];
    const run = runLoad(cfg(["--rate", String(rate), "--duration", String((stuckForMs + 1_000) / 1000), "--batch-size", "50", "--viewers", "40"]), lanes, {
      log: () => undefined,
      laneOf: laneOf(2),
      onAcked: (rs) => {
        for (const r of rs) acked.add(r.seq);
        if (rs.length > 0 && laneOf(2)(rs[0]!.key) === 1) for (let i = 0; i < rs.length; i++) otherAckTimes.push(Date.now() - started);
      },
    });
    await new Promise((r) => setTimeout(r, stuckForMs));
    stuck.gate = null;
    release();
    const summary = await run;
    // The other lane's share is half the rate. In the last second of the stall (the stuck lane is well past
    // STALLED_SEND_MS) it must keep sending; before the fix it got nothing once the stuck lane's queue was full. The
    // bound is a quarter of its share, not most of it: a loaded machine slows the fake lanes too, and 0 is the failure.
    const windowStart = stuckForMs - 1_000;
    const inWindow = otherAckTimes.filter((t) => t >= windowStart && t < stuckForMs).length;
    expect(inWindow).toBeGreaterThan(0.25 * (rate / 2));
    expect(summary.failed).toBe(0);
    expect(summary.generated).toBe(summary.acked);
    expect(acked.size).toBe(summary.acked);
    // The stuck lane caught up on what queued behind it.
    expect(stuck.batches.flat().length).toBeGreaterThan(0.3 * (rate / 2) * (stuckForMs / 1000));
  }, 15_000);

  it("the stall buffer is bounded: once stalled lanes hold that much, generation pauses for everyone", async () => {
    const stuck = new FakeLane();
    const other = new FakeLane();
    let release = (): void => undefined;
    stuck.gate = new Promise((r) => (release = r));
    const buffer = 2_000;
    const run = runLoad(cfg(["--count", "30000", "--batch-size", "100", "--viewers", "40"]), [stuck, other], {
      log: () => undefined,
      laneOf: laneOf(2),
      stalledLanesBufferRecords: buffer,
    });
    await new Promise((r) => setTimeout(r, STALLED_SEND_MS + 700));
    const sentByOther = other.batches.flat().length;
    // Past the stall threshold the other lane carried on, but only until the stuck lane's queue used up the
    // buffer: the stuck lane holds its limit plus the buffer, the other lane about as many (half of all records).
    expect(sentByOther).toBeGreaterThan((QUEUE_LIMIT_BATCHES + 1) * 100);
    expect(sentByOther).toBeLessThanOrEqual(QUEUE_LIMIT_BATCHES * 100 + buffer + 1_000);
    stuck.gate = null;
    release();
    expect(await run).toMatchObject({ generated: 30000, acked: 30000, failed: 0 });
  }, 30_000);

  it("sends a partial batch once it has lingered, so a paced run does not wait for full batches", async () => {
    const lane = new FakeLane();
    const started = Date.now();
    const summary = await runLoad(cfg(["--rate", "1000", "--duration", "0.4", "--batch-size", "1000"]), [lane], { log: () => undefined, laneOf: () => 0 });
    const sizes = lane.batches.map((b) => b.length);
    // ~400 records due in 400 ms against a 1,000-record batch: they leave in several partial batches (each about one
    // linger's worth on an idle machine; without the linger, one batch of 400 at the end). How many, and how large,
    // depends on timer slack, so only "more than one, none full" is asserted: the older size and count bounds failed
    // once with real-service suites loading the machine.
    expect(sizes.length).toBeGreaterThanOrEqual(2);
    expect(Math.max(...sizes)).toBeLessThan(1000);
    expect(summary.acked).toBe(sizes.reduce((a, b) => a + b, 0));
    expect(Date.now() - started).toBeLessThan(10_000);
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
