/**
 * The load generator's driver. One generator pulls records from the pure simulation at the paced rate and
 * routes each to its lane's queue (by partition, when the lanes own partitions; otherwise one shared queue).
 * Each lane sends from its queue, one batch at a time (never two in flight on one lane): a full batch as soon
 * as there is one, a partial one once its oldest record has waited LINGER_MS, like the Java producer's linger.ms.
 * Queues are bounded (QUEUE_LIMIT_BATCHES) so a slow cluster holds back generation instead of growing memory, as
 * the Java producer blocks when buffer.memory is full. A lane whose send is stuck (a dead leader: the request waits
 * out its timeout, ~12 s with the defaults) does not hold back the others: once stalled (STALLED_SEND_MS) its queue
 * may grow past the limit into a shared, bounded stall buffer (STALLED_LANES_BUFFER_RECORDS), and generation
 * pauses only when that is full. Prints progress and returns exact counts.
 */
import type { LoadgenConfig, Mode } from "./config";
import { describeSendError, type SendResult } from "./kafkaSender";
import { toRecords, type LoadRecord } from "./records";
import { createSimulation, mulberry32, nextHeartbeats } from "./simulate";
import { msUntilDue, ProgressMeter, recordsAllowed } from "./stats";

/** After a failed send a lane waits this long before trying again, so a down cluster is not hammered. */
export const FAILURE_BACKOFF_MS = 1_000;
/** Distinct error messages kept for the summary; the rest are counted. */
const MAX_ERROR_KINDS = 10;
/** A partial batch goes out once its oldest record has waited this long (paced runs; max rate fills batches). */
export const LINGER_MS = 20;
/** A lane's queue may hold this many batches before generation pauses: enough slack that one slow send does not idle the other lanes (2 did, measurably). */
export const QUEUE_LIMIT_BATCHES = 4;
/** Upper bound on one idle wait; waits normally end early when records are queued or space is freed. */
const IDLE_WAIT_MS = 50;
/**
 * A lane whose send has been in flight this long (or that is backing off after a failure) is stalled, not busy:
 * batch acks take ~100 ms p50 here and well under a second at p99 even at max rate on a loaded machine, while a
 * request to a killed leader waits out the whole request timeout. A stalled lane's full queue stops holding back
 * generation for the other lanes (issue 13: one lane on a dead leader paused every lane for ~12 s).
 */
export const STALLED_SEND_MS = 1_000;
/**
 * Records that stalled lanes may hold in total beyond their own queue limit before generation pauses anyway (the
 * memory bound): one of 12 lanes stalled for 15 s at 200k records/s is 250k records, ~40 MB of values.
 */
export const STALLED_LANES_BUFFER_RECORDS = 250_000;

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
  /**
   * Which lane sends a record with this key (lanes that own partitions: createPartitionedKafkaLanes's laneOf).
   * Without it every lane takes from one shared queue.
   */
  readonly laneOf?: (key: string) => number;
  /** Simulate only these viewers (a worker thread's share); default all. */
  readonly viewerIndexes?: readonly number[];
  /** Called with every send's result (worker threads report progress to the main thread with it). */
  readonly onResult?: (res: SendResult) => void;
  /** Overrides STALLED_LANES_BUFFER_RECORDS (tests use a small one). */
  readonly stalledLanesBufferRecords?: number;
}

/** Wakes everyone waiting when something changed; each waiter also wakes after its own timeout. */
export class Wakeup {
  private waiters: (() => void)[] = [];
  wait(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== done);
        resolve();
      }, Math.max(1, ms));
      const done = (): void => {
        clearTimeout(t);
        resolve();
      };
      this.waiters.push(done);
    });
  }
  notifyAll(): void {
    const ws = this.waiters;
    this.waiters = [];
    for (const w of ws) w();
  }
}

/** Records waiting for one lane (or for all lanes, when shared), and since when the oldest has waited. */
class LaneQueue {
  private items: LoadRecord[] = [];
  oldestSince = 0;
  get length(): number {
    return this.items.length;
  }
  push(r: LoadRecord, now: number): void {
    if (this.items.length === 0) this.oldestSince = now;
    this.items.push(r);
  }
  take(max: number, now: number): LoadRecord[] {
    const batch = this.items.length <= max ? this.items : this.items.slice(0, max);
    this.items = this.items.length <= max ? [] : this.items.slice(max);
    // What is left came in while the previous batch filled; count its wait from now.
    this.oldestSince = now;
    return batch;
  }
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

/** What a run was pointed at, for {@link summaryJson}. */
export interface RunTarget {
  readonly runId: string;
  readonly mode: Mode;
  readonly client: "librdkafka" | "kafkajs" | null;
  readonly target: string;
  readonly topic: string;
  readonly exitCode: number;
}

/** Pure: the final summary as one JSON-ready object (`loadgen --json`), the same figures {@link formatSummary} prints. */
export function summaryJson(s: RunSummary, t: RunTarget): Record<string, unknown> {
  return {
    ...t,
    generated: s.generated,
    acked: s.acked,
    failed: s.failed,
    malformedAcked: s.malformedAcked,
    elapsedMs: Math.round(s.elapsedMs),
    recordsPerSec: s.elapsedMs > 0 ? Math.round((s.acked * 1000) / s.elapsedMs) : 0,
    errors: Object.fromEntries(s.errors),
  };
}

export async function runLoad(cfg: LoadgenConfig, lanes: readonly Lane[], hooks: RunHooks = {}): Promise<RunSummary> {
  if (lanes.length === 0) throw new Error("runLoad needs at least one lane, got 0");
  const log = hooks.log ?? ((l: string) => console.log(l));
  const sim = createSimulation({
    viewers: cfg.viewers,
    videos: cfg.videos,
    seed: cfg.seed,
    startTs: hooks.startTs ?? Date.now(),
    ...(hooks.viewerIndexes === undefined ? {} : { viewerIndexes: hooks.viewerIndexes }),
  });
  const malformedRandom = mulberry32(cfg.seed ^ 0x5eed);
  const started = Date.now();
  const deadline = cfg.durationSec === null ? Number.POSITIVE_INFINITY : started + cfg.durationSec * 1000;
  /** Records taken from the simulation (queued or sent); `generated` in the summary counts those handed to a send. */
  let produced = 0;
  let generated = 0;
  let generatorDone = false;
  let malformedAcked = 0;
  const errors = new Map<string, number>();

  const laneOf = hooks.laneOf;
  const queues = laneOf === undefined ? [new LaneQueue()] : lanes.map(() => new LaneQueue());
  const queueLimit = QUEUE_LIMIT_BATCHES * cfg.batchSize * (laneOf === undefined ? lanes.length : 1);
  const stallBuffer = hooks.stalledLanesBufferRecords ?? STALLED_LANES_BUFFER_RECORDS;
  /** Per queue: when its lane's current send started (null: not sending), and until when it backs off after a failure. */
  const sendingSince: (number | null)[] = queues.map(() => null);
  const backoffUntil: number[] = queues.map(() => 0);
  const isStalled = (i: number, now: number): boolean => {
    const since = sendingSince[i] ?? null;
    return (since !== null && now - since >= STALLED_SEND_MS) || now < backoffUntil[i]!;
  };
  /**
   * Generation waits while a lane that is moving has a full queue (backpressure), or while
   * stalled lanes hold more than the stall buffer beyond their limits. A single shared queue has no head-of-line
   * problem (any lane takes from it), so only its limit counts.
   */
  const mustHoldGeneration = (): boolean => {
    if (laneOf === undefined) return queues[0]!.length >= queueLimit;
    const now = Date.now();
    let overflow = 0;
    for (let i = 0; i < queues.length; i++) {
      const n = queues[i]!.length;
      if (n < queueLimit) continue;
      if (!isStalled(i, now)) return true;
      overflow += n - queueLimit;
    }
    return overflow >= stallBuffer;
  };
  const recordsQueued = new Wakeup();
  const spaceFreed = new Wakeup();
  const wakeAll = (): void => {
    recordsQueued.notifyAll();
    spaceFreed.notifyAll();
  };
  hooks.signal?.addEventListener("abort", wakeAll, { once: true });

  /** Abort or deadline: stop generating and stop sending (records still queued are never sent, nor counted). */
  const stopped = (): boolean => hooks.signal?.aborted === true || Date.now() >= deadline;

  const meter = new ProgressMeter(log, cfg.progressIntervalSec, started);

  // The abort listener goes when the timer fires: paced runs sleep hundreds of times a second, and listeners left
  // behind pile up on the signal (Node warned "MaxListenersExceededWarning ... 11 abort listeners").
  const sleep = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      const onAbort = (): void => {
        clearTimeout(t);
        resolve();
      };
      const t = setTimeout(() => {
        hooks.signal?.removeEventListener("abort", onAbort);
        resolve();
      }, ms);
      hooks.signal?.addEventListener("abort", onAbort, { once: true });
    });

  const generate = async (): Promise<void> => {
    try {
      while (!stopped() && (cfg.count === null || produced < cfg.count)) {
        if (mustHoldGeneration()) {
          await spaceFreed.wait(IDLE_WAIT_MS);
          continue;
        }
        const want = cfg.count === null ? cfg.batchSize : Math.min(cfg.batchSize, cfg.count - produced);
        const allowed = recordsAllowed(cfg.rate, Date.now() - started, produced, want);
        if (allowed <= 0) {
          // Wake when a linger's worth is due, not a whole batch: at low rates lanes send what lingered.
          const step = Math.min(want, Math.max(1, Math.ceil((cfg.rate * LINGER_MS) / 1000)));
          await sleep(Math.max(1, msUntilDue(cfg.rate, Date.now() - started, produced, step)));
          continue;
        }
        const now = Date.now();
        const records = toRecords(nextHeartbeats(sim, allowed), produced, cfg.malformedShare, malformedRandom, cfg.delivery);
        produced += records.length;
        if (laneOf === undefined) for (const r of records) queues[0]!.push(r, now);
        else for (const r of records) queues[laneOf(r.key)]!.push(r, now);
        recordsQueued.notifyAll();
        // Let lanes start sending (and their acks be handled) between generated batches.
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    } finally {
      generatorDone = true;
      recordsQueued.notifyAll();
    }
  };

  const account = (records: readonly LoadRecord[], res: SendResult): Error | null => {
    meter.record(res.acked, res.failed, res.latencyMs);
    hooks.onResult?.(res);
    for (const r of res.ackedRecords) if (r.malformed) malformedAcked++;
    if (res.ackedRecords.length > 0) hooks.onAcked?.(res.ackedRecords);
    if (res.failed === 0) return null;
    const error = res.error ?? new Error("send failed without an error");
    const msg = describeSendError(error);
    if (errors.has(msg) || errors.size < MAX_ERROR_KINDS) errors.set(msg, (errors.get(msg) ?? 0) + 1);
    else errors.set("(other errors)", (errors.get("(other errors)") ?? 0) + 1);
    const ackedSet = new Set(res.ackedRecords);
    hooks.onFailed?.(records.filter((r) => !ackedSet.has(r)), error);
    log(`send of ${res.failed} of ${records.length} records failed after ${res.latencyMs} ms: ${msg}`);
    return error;
  };

  const laneLoop = async (lane: Lane, qi: number): Promise<void> => {
    const queue = queues[qi]!;
    while (!stopped()) {
      const now = Date.now();
      const lingered = now - queue.oldestSince >= LINGER_MS;
      if (queue.length === 0 && generatorDone) return;
      if (queue.length < cfg.batchSize && !(queue.length > 0 && (lingered || generatorDone))) {
        await recordsQueued.wait(queue.length > 0 ? LINGER_MS - (now - queue.oldestSince) : IDLE_WAIT_MS);
        continue;
      }
      const records = queue.take(cfg.batchSize, now);
      spaceFreed.notifyAll();
      generated += records.length;
      // Shared queue: several lanes send from it at once; the stall state is tracked only for owned queues.
      if (laneOf !== undefined) sendingSince[qi] = Date.now();
      const res = await lane.send(records);
      sendingSince[qi] = null;
      if (account(records, res) !== null) {
        backoffUntil[qi] = Date.now() + FAILURE_BACKOFF_MS;
        await sleep(FAILURE_BACKOFF_MS);
      }
    }
  };

  try {
    await Promise.all([generate(), ...lanes.map((lane, i) => laneLoop(lane, laneOf === undefined ? 0 : i))]);
  } finally {
    meter.stop();
    hooks.signal?.removeEventListener("abort", wakeAll);
  }
  const unsent = queues.reduce((n, q) => n + q.length, 0);
  if (unsent > 0) log(`stopped with ${unsent} generated records still queued; they were not sent and are not counted`);
  return { generated, acked: meter.acked, failed: meter.failed, malformedAcked, elapsedMs: Date.now() - started, errors };
}
