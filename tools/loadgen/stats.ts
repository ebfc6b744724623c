/** Pure helpers for the load generator's progress lines: percentiles, pacing, formatting. */

/** Nearest-rank percentiles of `samples` (any order) for each p in `ps` (0 < p <= 100). Empty input -> NaN. */
export function percentiles(samples: readonly number[], ps: readonly number[]): number[] {
  if (samples.length === 0) return ps.map(() => Number.NaN);
  const sorted = [...samples].sort((a, b) => a - b);
  return ps.map((p) => {
    if (!(p > 0 && p <= 100)) throw new Error(`percentile must be in (0, 100], got ${p}`);
    const rank = Math.ceil((p / 100) * sorted.length);
    return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
  });
}

/**
 * How many records a paced run may have sent by `elapsedMs` at `ratePerSec` (0 = unlimited), minus what it
 * already sent, capped at `maxBatch`. A negative or zero answer means "wait".
 */
export function recordsAllowed(ratePerSec: number, elapsedMs: number, alreadySent: number, maxBatch: number): number {
  if (ratePerSec <= 0) return maxBatch;
  const due = Math.floor((ratePerSec * elapsedMs) / 1000) - alreadySent;
  return Math.min(maxBatch, due);
}

/** Milliseconds until one more batch of `batch` records is due at `ratePerSec`. */
export function msUntilDue(ratePerSec: number, elapsedMs: number, alreadySent: number, batch: number): number {
  if (ratePerSec <= 0) return 0;
  const dueAtMs = ((alreadySent + batch) * 1000) / ratePerSec;
  return Math.max(0, Math.ceil(dueAtMs - elapsedMs));
}

/** Median of a non-empty list (mean of the two middle values for even lengths). */
export function median(values: readonly number[]): number {
  if (values.length === 0) throw new Error("median of an empty list: expected at least one value");
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export function formatRate(perSec: number): string {
  return perSec >= 1000 ? `${(perSec / 1000).toFixed(1)}k/s` : `${perSec.toFixed(0)}/s`;
}

export interface ProgressSnapshot {
  readonly elapsedMs: number;
  readonly acked: number;
  readonly failed: number;
  /** Records acknowledged since the previous snapshot and how long that window was. */
  readonly windowAcked: number;
  readonly windowMs: number;
  /** Batch acknowledgement latencies (ms) in the window. */
  readonly windowLatenciesMs: readonly number[];
}

export function formatProgress(s: ProgressSnapshot): string {
  const [p50, p95, p99] = percentiles(s.windowLatenciesMs, [50, 95, 99]);
  const rate = s.windowMs > 0 ? (s.windowAcked * 1000) / s.windowMs : 0;
  const avg = s.elapsedMs > 0 ? (s.acked * 1000) / s.elapsedMs : 0;
  const lat = Number.isNaN(p50!) ? "latency n/a" : `batch ack latency p50 ${p50} ms, p95 ${p95} ms, p99 ${p99} ms`;
  return (
    `[${(s.elapsedMs / 1000).toFixed(1)} s] acked ${s.acked} failed ${s.failed} | ` +
    `rate ${formatRate(rate)} (avg ${formatRate(avg)}) | ${lat}`
  );
}

/**
 * Running totals of acknowledged and failed records, printed as a progress line (window rate and batch latency
 * percentiles) every interval and once more on {@link stop}.
 */
export class ProgressMeter {
  acked = 0;
  failed = 0;
  private windowStart: number;
  private windowAcked = 0;
  private windowLatencies: number[] = [];
  private readonly timer: ReturnType<typeof setInterval>;

  constructor(private readonly log: (line: string) => void, intervalSec: number, readonly started = Date.now()) {
    this.windowStart = started;
    this.timer = setInterval(() => this.report(), intervalSec * 1000);
  }

  /** One send's outcome. */
  record(acked: number, failed: number, latencyMs: number): void {
    this.acked += acked;
    this.failed += failed;
    this.windowAcked += acked;
    this.windowLatencies.push(latencyMs);
  }

  report(): void {
    const now = Date.now();
    this.log(formatProgress({
      elapsedMs: now - this.started,
      acked: this.acked,
      failed: this.failed,
      windowAcked: this.windowAcked,
      windowMs: now - this.windowStart,
      windowLatenciesMs: this.windowLatencies,
    }));
    this.windowStart = now;
    this.windowAcked = 0;
    this.windowLatencies = [];
  }

  /** Stop the timer and print the final line. */
  stop(): void {
    clearInterval(this.timer);
    this.report();
  }
}
