/** Worker-thread planning for the load generator: pure functions only (the threads themselves run in test/real). */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseLoadgenArgs, type LoadgenConfig } from "../tools/loadgen/config";
import { createKeyPartitioner } from "../tools/loadgen/kafkaSender";
import type { RunSummary } from "../tools/loadgen/run";
import { userId } from "../tools/loadgen/simulate";
import { mergeSummaries, planWorkers, WORKER_PROGRESS_OFF_SEC, workerConfig, workerRunId } from "../tools/loadgen/workers";

function cfg(argv: string[]): LoadgenConfig {
  const r = parseLoadgenArgs(["--bootstrap", "127.0.0.1:9092", ...argv], {});
  if (r.help) throw new Error("unexpected help");
  return r.config;
}

describe("planWorkers", () => {
  it("gives every partition to exactly one worker and every viewer to the worker owning its partition", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 1, max: 24 }),
        fc.integer({ min: 1, max: 400 }),
        (workers, partitions, viewers) => {
          const partitionOf = createKeyPartitioner("heartbeats_raw", partitions);
          const plans = planWorkers({ workers, partitions, viewers, rate: 0, count: null, partitionOf });
          const owner = new Map<number, number>();
          for (const p of plans) for (const part of p.partitions) {
            expect(owner.has(part), `partition ${part} owned twice`).toBe(false);
            owner.set(part, p.index);
          }
          const seen = new Set<number>();
          for (const p of plans) {
            for (const v of p.viewerIndexes) {
              expect(owner.get(partitionOf(userId(v)))).toBe(p.index);
              seen.add(v);
            }
          }
          // Every viewer is simulated by some worker: no audience is silently dropped.
          expect(seen.size).toBe(viewers);
          expect(plans.length).toBeLessThanOrEqual(Math.min(workers, partitions));
        },
      ),
      { numRuns: 200 },
    );
  });

  it("splits --count exactly and --rate in proportion to viewers", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 100_000 }), fc.integer({ min: 1, max: 500 }), (workers, count, viewers) => {
        const partitionOf = createKeyPartitioner("t", 12);
        const plans = planWorkers({ workers, partitions: 12, viewers, rate: 1000, count, partitionOf });
        expect(plans.reduce((n, p) => n + (p.count ?? 0), 0)).toBe(count);
        expect(plans.reduce((n, p) => n + p.rate, 0)).toBeCloseTo(1000 * (plans.reduce((n, p) => n + p.viewerIndexes.length, 0) / viewers), 6);
        for (const p of plans) expect(p.count).toBeGreaterThan(0);
      }),
      { numRuns: 200 },
    );
  });

  it("drops a worker that would have no records, instead of starting an idle thread", () => {
    const partitionOf = createKeyPartitioner("t", 12);
    const plans = planWorkers({ workers: 2, partitions: 12, viewers: 10_000, rate: 0, count: 1, partitionOf });
    expect(plans).toHaveLength(1);
    expect(plans[0]!.count).toBe(1);
  });
});

describe("worker config, run ids and summaries", () => {
  it("gives each worker its share of rate, count and lanes, and switches its own progress timer off", () => {
    const base = cfg(["--rate", "1000", "--count", "900", "--producers", "12", "--workers", "2"]);
    const w = workerConfig(base, { index: 1, partitions: [1, 3], viewerIndexes: [0, 1], rate: 400, count: 360 }, 2);
    expect(w).toMatchObject({ rate: 400, count: 360, producers: 6, workers: 1, topic: base.topic, batchSize: base.batchSize });
    // A delay past 2^31-1 ms makes Node fire the timer at once (we saw a flood of progress lines).
    expect(WORKER_PROGRESS_OFF_SEC * 1000).toBeLessThanOrEqual(2 ** 31 - 1);
    expect(WORKER_PROGRESS_OFF_SEC).toBeGreaterThan(86_400);
  });

  it("keeps sequence headers unique across workers", () => {
    expect(workerRunId("ab12", 0)).not.toBe(workerRunId("ab12", 1));
    expect(`${workerRunId("ab12", 1)}:5`).toBe("ab12-w1:5");
  });

  it("merges summaries: sums counts and errors, elapsed is the slowest worker", () => {
    const a: RunSummary = { generated: 10, acked: 8, failed: 2, malformedAcked: 1, elapsedMs: 900, errors: new Map([["boom", 1]]) };
    const b: RunSummary = { generated: 5, acked: 5, failed: 0, malformedAcked: 0, elapsedMs: 1200, errors: new Map([["boom", 2], ["bang", 1]]) };
    expect(mergeSummaries([a, b])).toEqual({ generated: 15, acked: 13, failed: 2, malformedAcked: 1, elapsedMs: 1200, errors: new Map([["boom", 3], ["bang", 1]]) });
  });

  it("accepts --workers only in kafka mode", () => {
    expect(cfg(["--workers", "3"]).workers).toBe(3);
    expect(cfg([]).workers).toBe(1);
    expect(() => cfg(["--workers", "0"])).toThrow(/--workers must be an integer >= 1, got "0"/);
    expect(() => parseLoadgenArgs(["--mode", "bridge", "--bridge-url", "http://127.0.0.1:1", "--workers", "2"], {})).toThrow(/--workers 2 needs --mode kafka/);
  });
});
