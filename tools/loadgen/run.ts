/**
 * The load generator's driver: pulls records from the pure simulation, paces them, hands one batch at a time
 * to each lane (never two in flight on one lane), prints progress, and returns exact counts.
 */
import type { LoadgenConfig } from "./config";
import { describeSendError, type SendResult } from "./kafkaSender";
import { toRecords, type LoadRecord } from "./records";
import { createSimulation, mulberry32, nextHeartbeats } from "./simulate";
import { formatProgress, msUntilDue, recordsAllowed } from "./stats";

/** After a failed send a lane waits this long before trying again, so a down cluster is not hammered. */
export const FAILURE_BACKOFF_MS = 1_000;
/** Distinct error messages kept for the summary; the rest are counted. */
const MAX_ERROR_KINDS = 10;

export interface Lane {
  send(records: readonly LoadRecord[]): Promise<SendResult>;
  close(): Promise<void>;
}

export interface RunHooks {
  /** Called with the acknowledged records of every send (tests use it to know exactly what was acked). */
  readonly onAcked?: (records: readonly LoadRecord[]) => void;
  /** Called with the records of a send that were not acknowledged, and the error. */
  readonly onFailed?: (records: readonly LoadRecord[], error: Error) => void;
  /** Progress lines go here (default console.log). */
  readonly log?: (line: string) => void;
  /** Resolves/aborts the run early (Ctrl-C, or a test that has seen enough). */
  readonly signal?: AbortSignal;
  /** Event time of the first heartbeat (default: now). */
  readonly startTs?: number;
}

export interface RunSummary {
  readonly generated: number;
  readonly acked: number;
  readonly failed: number;
  readonly malformedAcked: number;
  readonly elapsedMs: number;
  /** Error message -> occurrences. */
  readonly errors: ReadonlyMap<string, number>;
}

export function formatSummary(s: RunSummary): string {
  const rate = s.elapsedMs > 0 ? ((s.acked * 1000) / s.elapsedMs).toFixed(0) : "0";
  const lines = [
    `done in ${(s.elapsedMs / 1000).toFixed(1)} s: generated ${s.generated}, acknowledged ${s.acked} ` +
      `(${s.malformedAcked} deliberately malformed), failed ${s.failed}, average ${rate} records/s`,
  ];
  for (const [msg, n] of s.errors) lines.push(`  ${n} x ${msg}`);
  return lines.join("\n");
}

export async function runLoad(cfg: LoadgenConfig, lanes: readonly Lane[], hooks: RunHooks = {}): Promise<RunSummary> {
  const log = hooks.log ?? ((l: string) => console.log(l));
  const sim = createSimulation({ viewers: cfg.viewers, videos: cfg.videos, seed: cfg.seed, startTs: hooks.startTs ?? Date.now() });
  const malformedRandom = mulberry32(cfg.seed ^ 0x5eed);
  const started = Date.now();
  const deadline = cfg.durationSec === null ? Number.POSITIVE_INFINITY : started + cfg.durationSec * 1000;
  let generated = 0;
  let acked = 0;
  let failed = 0;
  let malformedAcked = 0;
  const errors = new Map<string, number>();
  let windowStart = started;
  let windowAcked = 0;
  let windowLatencies: number[] = [];

  const done = (): boolean =>
    hooks.signal?.aborted === true || Date.now() >= deadline || (cfg.count !== null && generated >= cfg.count);

  const progress = (): void => {
    const now = Date.now();
    log(formatProgress({ elapsedMs: now - started, acked, failed, windowAcked, windowMs: now - windowStart, windowLatenciesMs: windowLatencies }));
    windowStart = now;
    windowAcked = 0;
    windowLatencies = [];
  };
  const timer = setInterval(progress, cfg.progressIntervalSec * 1000);

  const sleep = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      const t = setTimeout(resolve, ms);
      hooks.signal?.addEventListener("abort", () => {
        clearTimeout(t);
        resolve();
      }, { once: true });
    });

  const laneLoop = async (lane: Lane): Promise<void> => {
    while (!done()) {
      const remaining = cfg.count === null ? cfg.batchSize : Math.min(cfg.batchSize, cfg.count - generated);
      const allowed = recordsAllowed(cfg.rate, Date.now() - started, generated, remaining);
      if (allowed <= 0) {
        await sleep(Math.max(1, msUntilDue(cfg.rate, Date.now() - started, generated, Math.min(remaining, cfg.batchSize))));
        continue;
      }
      // Generating is synchronous, so lanes never interleave inside the simulation.
      const records = toRecords(nextHeartbeats(sim, allowed), generated, cfg.malformedShare, malformedRandom);
      generated += records.length;
      const res = await lane.send(records);
      acked += res.acked;
      failed += res.failed;
      windowAcked += res.acked;
      windowLatencies.push(res.latencyMs);
      for (const r of res.ackedRecords) if (r.malformed) malformedAcked++;
      if (res.ackedRecords.length > 0) hooks.onAcked?.(res.ackedRecords);
      if (res.failed > 0) {
        const error = res.error ?? new Error("send failed without an error");
        const msg = describeSendError(error);
        if (errors.has(msg) || errors.size < MAX_ERROR_KINDS) errors.set(msg, (errors.get(msg) ?? 0) + 1);
        else errors.set("(other errors)", (errors.get("(other errors)") ?? 0) + 1);
        const ackedSet = new Set(res.ackedRecords);
        hooks.onFailed?.(records.filter((r) => !ackedSet.has(r)), error);
        log(`send of ${res.failed} of ${records.length} records failed after ${res.latencyMs} ms: ${msg}`);
        await sleep(FAILURE_BACKOFF_MS);
      }
    }
  };

  try {
    await Promise.all(lanes.map(laneLoop));
  } finally {
    clearInterval(timer);
    progress();
  }
  return { generated, acked, failed, malformedAcked, elapsedMs: Date.now() - started, errors };
}
