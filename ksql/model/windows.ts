/**
 * One partition of the pre-aggregation, following Kafka Streams' KStreamWindowAggregate with
 * EmitStrategy.onWindowClose over a RocksDB time-ordered window store (what ksqlDB's `WINDOW HOPPING ... EMIT FINAL`
 * compiles to; checked in apache/kafka AbstractKStreamTimeWindowAggregateProcessor, TimeWindows.windowsFor,
 * AbstractDualSchemaRocksDBSegmentedBytesStore, RocksDbIndexedTimeOrderedWindowBytesStoreSupplier):
 * - stream time = max record timestamp seen by the processor; since V000004 that is the arrival time (the broker's
 *   LogAppendTime on heartbeats_raw, `rowtime`), which does not run backwards within a partition; closeTime =
 *   streamTime − grace;
 * - windows have size S and advance A (V000006: S = 60 s, A = 30 s; S = A is a tumbling window). A record belongs
 *   to every window [s, s + S) with s a multiple of A, s >= 0 and s <= ts < s + S (windowsFor: no window starts
 *   before 0). For each of them on its own: the record is dropped as late iff s + S <= closeTime, otherwise its
 *   item is added to that window (COLLECT_SET: distinct, at most `collectSetLimit` items) and the window is written
 *   to the store, whose own stream time becomes max(store time, s);
 * - after every record (dropped ones too) the close check runs, at most once per `emitIntervalMs` of wall-clock
 *   time: if closeTime advanced past the last emit close time and the windows containing closeTime − S differ from
 *   those containing max(0, lastEmit − S), the store is range fetched for window starts in
 *   [max(0, lastEmit − S) + 1, closeTime − S] (all from 0 the first time) and those windows are emitted in store
 *   order (start, then key bytes); lastEmit = closeTime;
 * - retention: the store returns only windows with start >= storeTime − retention. A window still waiting to be
 *   emitted when the store's time runs more than retention past its start is never emitted (counted in lostWindows).
 *   The write happens before the close check, so one record that moves stream time that far hides it.
 * Emitted windows can never be updated again (any record for them is late), so the model forgets them.
 */
import { COLLECT_SET_LIMIT, SESSION_KEY_SEPARATOR, TICK_USER_ID, KSTREAMS_EMIT_INTERVAL_MS } from "../../contract/sessionization";
import { encodeWindowPoint, positionToMs } from "./encoding";
import { arrivalOf, playedAt, type ValidHeartbeat } from "./validate";

/** The item ticks contribute to COLLECT_SET: empty, so a tick window stays small; ticks never yield pieces. */
export const TICK_ITEM = "";

/** Kafka's ConsumerRecord.NO_TIMESTAMP: nothing seen yet. */
const NO_TIMESTAMP = -1;

export interface WindowParamsMs {
  /** Window size S. */
  readonly windowMs: number;
  /** Advance A (hop); defaults to the size (tumbling). */
  readonly advanceMs?: number;
  readonly graceMs: number;
  readonly retentionMs: number;
  readonly collectSetLimit?: number;
  /**
   * Wall-clock throttle of the close check (Kafka Streams default 1000 ms). 0 checks on every record. With a
   * positive interval, pass each record's wall-clock time to `process`.
   */
  readonly emitIntervalMs?: number;
}

/** A final window as the EMIT FINAL table writes it (record timestamp = latest record timestamp in the window). */
export interface EmittedWindow {
  readonly key: string;
  readonly start: number;
  readonly end: number;
  /** start + advance: the window owns the records that arrived at or after this (V000006's cutoff). */
  readonly ownedFrom: number;
  readonly timestamp: number;
  /** Distinct items in arrival order (COLLECT_SET). */
  readonly items: readonly string[];
}

interface OpenWindow {
  readonly key: string;
  readonly start: number;
  readonly items: string[];
  readonly seen: Set<string>;
  timestamp: number;
}

export function sessionKey(userId: string, videoId: string): string {
  return userId + SESSION_KEY_SEPARATOR + videoId;
}

export function isTickKey(key: string): boolean {
  return key.startsWith(TICK_USER_ID + SESSION_KEY_SEPARATOR);
}

/** The store's order within one start: the key's serialized bytes (KAFKA format: UTF-8), unsigned. */
function compareKeys(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"));
}

export class PartitionWindower {
  private readonly byStart = new Map<number, Map<string, OpenWindow>>(); // windows not emitted yet
  private readonly starts: number[] = []; // keys of byStart, ascending
  private openCount = 0;
  private streamTime = NO_TIMESTAMP;
  private storeTime = NO_TIMESTAMP;
  private lastEmitCloseTime = NO_TIMESTAMP;
  private nextTimeToEmit = 0;
  private readonly limit: number;
  private readonly interval: number;
  private readonly advance: number;
  /** Records dropped as late from their first (owning) window: never counted (Kafka's dropped-records metric). */
  droppedLate = 0;
  /** Windows that were never emitted because the store's retention passed them first. */
  lostWindows = 0;

  constructor(private readonly p: WindowParamsMs) {
    this.limit = p.collectSetLimit ?? COLLECT_SET_LIMIT;
    this.interval = p.emitIntervalMs ?? 0;
    this.advance = p.advanceMs ?? p.windowMs;
    if (!(this.advance > 0 && this.advance <= p.windowMs && p.windowMs % this.advance === 0)) {
      throw new Error(`PartitionWindower: advanceMs must divide windowMs (${p.windowMs}) and be > 0, got ${this.advance}`);
    }
  }

  /** Starts of the windows holding time t, ascending (Kafka's TimeWindows.windowsFor: none before 0). */
  private startsFor(t: number): number[] {
    const A = this.advance;
    const out: number[] = [];
    for (let s = Math.floor(Math.max(0, t - this.p.windowMs + A) / A) * A; s <= t; s += A) out.push(s);
    return out;
  }

  /** Feeds one valid heartbeat (arrival order); returns the windows this record made final. */
  process(hb: ValidHeartbeat, wallClockMs = 0): EmittedWindow[] {
    const key = sessionKey(hb.user_id, hb.video_id);
    const ts = arrivalOf(hb);
    const item =
      hb.user_id === TICK_USER_ID ? TICK_ITEM : encodeWindowPoint({ eventTs: hb.event_ts, posMs: positionToMs(hb.position_sec), arrival: ts, playedAt: playedAt(hb) });
    this.streamTime = Math.max(this.streamTime, ts);
    const closeTime = this.streamTime - this.p.graceMs;
    this.startsFor(ts).forEach((start, i) => {
      if (start + this.p.windowMs > closeTime) this.add(key, start, item, ts);
      else if (i === 0) this.droppedLate++;
    });
    return this.maybeEmit(closeTime, wallClockMs);
  }

  private add(key: string, start: number, item: string, ts: number): void {
    let bucket = this.byStart.get(start);
    if (bucket === undefined) {
      bucket = new Map();
      this.byStart.set(start, bucket);
      let at = this.starts.length;
      while (at > 0 && this.starts[at - 1] > start) at--;
      this.starts.splice(at, 0, start);
    }
    let w = bucket.get(key);
    if (w === undefined) {
      w = { key, start, items: [], seen: new Set(), timestamp: ts };
      bucket.set(key, w);
      this.openCount++;
    } else {
      w.timestamp = Math.max(w.timestamp, ts);
    }
    if (w.items.length < this.limit && !w.seen.has(item)) {
      w.items.push(item);
      w.seen.add(item);
    }
    this.storeTime = Math.max(this.storeTime, start);
  }

  /**
   * End of input: emits every window still readable in the store, as a gentle flush would (ticks advancing stream
   * time step by step). Windows the retention already hid stay lost.
   */
  closeAll(): EmittedWindow[] {
    return this.take(Number.MAX_SAFE_INTEGER);
  }

  /** Windows currently held and not yet emitted. */
  get openWindows(): number {
    return this.openCount;
  }

  private maybeEmit(closeTime: number, now: number): EmittedWindow[] {
    if (now < this.nextTimeToEmit) return [];
    this.nextTimeToEmit = now + this.interval;
    if (!(this.lastEmitCloseTime === NO_TIMESTAMP || this.lastEmitCloseTime < closeTime)) return [];
    const S = this.p.windowMs;
    const upper = closeTime - S;
    if (upper < 0) return [];
    const lower = this.lastEmitCloseTime === NO_TIMESTAMP ? 0 : Math.max(0, this.lastEmitCloseTime - S) + 1;
    if (this.lastEmitCloseTime !== NO_TIMESTAMP && this.startsFor(upper).join() === this.startsFor(lower - 1).join()) return [];
    this.lastEmitCloseTime = closeTime;
    return this.take(upper);
  }

  /** Emits (and forgets) windows with start <= upper, in store order; hidden ones are lost. */
  private take(upper: number): EmittedWindow[] {
    const minVisible = this.storeTime - this.p.retentionMs;
    const out: EmittedWindow[] = [];
    while (this.starts.length > 0 && this.starts[0] <= upper) {
      const start = this.starts.shift() as number;
      const bucket = this.byStart.get(start) ?? new Map<string, OpenWindow>();
      this.byStart.delete(start);
      this.openCount -= bucket.size;
      if (start < minVisible) {
        this.lostWindows += bucket.size;
        continue;
      }
      const due = [...bucket.values()].sort((a, b) => compareKeys(a.key, b.key));
      for (const w of due) out.push({ key: w.key, start, end: start + this.p.windowMs, ownedFrom: start + this.advance, timestamp: w.timestamp, items: w.items });
    }
    return out;
  }
}

/** The engine's defaults for the throttle, for callers that model wall-clock time. */
export const DEFAULT_EMIT_INTERVAL_MS = KSTREAMS_EMIT_INTERVAL_MS;
