/**
 * One partition of the session-window aggregation, following Kafka Streams' KStreamSessionWindowAggregate with
 * EmitStrategy.onWindowClose (what ksqlDB's `WINDOW SESSION ... EMIT FINAL` compiles to):
 * - stream time = max event time seen on the partition (every record counts, dropped ones too);
 * - closeTime = streamTime − grace − gap;
 * - a record merges with every session of its key whose [start, end] touches [ts − gap, ts + gap] (inclusive);
 * - it is dropped when the merged session's end < closeTime;
 * - after each record, sessions with end <= closeTime − 1 not emitted before are emitted (end, key, start order),
 *   and stay in the store: a later record can still extend the last one (see README, "Emission").
 * COLLECT_LIST keeps at most `collectListLimit` items per session (ksqlDB's aggregate/merge truncation).
 */
import { COLLECT_LIST_LIMIT, SESSION_KEY_SEPARATOR, TICK_USER_ID } from "../../contract/sessionization";
import { encodePoint, positionToMs } from "./encoding";
import type { ValidHeartbeat } from "./validate";

/** The item ticks contribute to COLLECT_LIST: empty, so a tick session stays small; ticks never yield segments. */
export const TICK_ITEM = "";

export interface SessionParamsMs {
  readonly gapMs: number;
  readonly graceMs: number;
  readonly collectListLimit?: number;
}

/** A final session as the EMIT FINAL table writes it (record timestamp = window end). */
export interface EmittedSession {
  readonly key: string;
  readonly start: number;
  readonly end: number;
  readonly items: readonly string[];
}

interface Session {
  readonly key: string;
  start: number;
  end: number;
  items: string[];
  live: boolean; // false once merged into another session (lazy deletion from the queues)
}

/** Kafka's ConsumerRecord.NO_TIMESTAMP: no record seen yet. */
const NO_TIMESTAMP = -1;

export function sessionKey(userId: string, videoId: string): string {
  return userId + SESSION_KEY_SEPARATOR + videoId;
}

export function isTickKey(key: string): boolean {
  return key.startsWith(TICK_USER_ID + SESSION_KEY_SEPARATOR);
}

function compareForEmit(a: Session, b: Session): number {
  return a.end - b.end || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0) || a.start - b.start;
}

/** Binary min-heap of sessions awaiting emission, ordered like the time-ordered session store's range fetch. */
class EmitQueue {
  private readonly heap: Session[] = [];
  push(s: Session): void {
    const h = this.heap;
    h.push(s);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (compareForEmit(h[i], h[parent]) >= 0) break;
      [h[i], h[parent]] = [h[parent], h[i]];
      i = parent;
    }
  }
  peek(): Session | undefined {
    return this.heap[0];
  }
  pop(): Session | undefined {
    const h = this.heap;
    const top = h[0];
    const last = h.pop();
    if (h.length > 0 && last !== undefined) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && compareForEmit(h[l], h[m]) < 0) m = l;
        if (r < h.length && compareForEmit(h[r], h[m]) < 0) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m], h[i]];
        i = m;
      }
    }
    return top;
  }
  get size(): number {
    return this.heap.length;
  }
}

export class PartitionSessionizer {
  private readonly byKey = new Map<string, Session[]>(); // per key, sorted by start (sessions never overlap)
  private readonly pending = new EmitQueue();
  private readonly emittedFifo: Session[] = []; // emitted, still mergeable; in end order
  private emittedHead = 0;
  private streamTime = NO_TIMESTAMP;
  private lastEmitCloseTime = NO_TIMESTAMP;
  private readonly limit: number;
  /** Records dropped as late (Kafka's dropped-records metric). */
  droppedLate = 0;

  constructor(private readonly p: SessionParamsMs) {
    this.limit = p.collectListLimit ?? COLLECT_LIST_LIMIT;
  }

  /** Feeds one valid heartbeat (arrival order); returns the sessions this record made final. */
  process(hb: ValidHeartbeat): EmittedSession[] {
    const key = sessionKey(hb.user_id, hb.video_id);
    const item = hb.user_id === TICK_USER_ID ? TICK_ITEM : encodePoint({ ts: hb.event_ts, posMs: positionToMs(hb.position_sec) });
    const ts = hb.event_ts;
    this.streamTime = Math.max(this.streamTime, ts);
    const closeTime = this.streamTime - this.p.graceMs - this.p.gapMs;

    const list = this.byKey.get(key) ?? [];
    const merged = list.filter((s) => s.end >= ts - this.p.gapMs && s.start <= ts + this.p.gapMs);
    let start = ts;
    let end = ts;
    for (const s of merged) {
      start = Math.min(start, s.start);
      end = Math.max(end, s.end);
    }
    if (end < closeTime) {
      this.droppedLate++;
    } else {
      let items: string[];
      if (merged.length === 1) {
        items = merged[0].items; // merge([], one) == one: reuse instead of copying (same contents)
      } else {
        items = [];
        for (const s of merged) {
          const room = this.limit - items.length;
          for (let i = 0; i < Math.min(room, s.items.length); i++) items.push(s.items[i]);
        }
      }
      if (items.length < this.limit) items.push(item);
      for (const s of merged) s.live = false;
      const session: Session = { key, start, end, items, live: true };
      const kept = list.filter((s) => s.live);
      let at = kept.findIndex((s) => s.start > start);
      if (at < 0) at = kept.length;
      kept.splice(at, 0, session);
      this.byKey.set(key, kept);
      this.pending.push(session);
    }
    return this.emitClosed(closeTime);
  }

  /** End of input: emits every session not emitted yet, as if stream time jumped past all of them. */
  closeAll(): EmittedSession[] {
    return this.emitClosed(Number.MAX_SAFE_INTEGER);
  }

  /** Sessions currently held (open or emitted-but-still-mergeable): the model's view of the state store. */
  get storedSessions(): number {
    let n = 0;
    for (const l of this.byKey.values()) n += l.length;
    return n;
  }

  private emitClosed(closeTime: number): EmittedSession[] {
    // Kafka: emit only when closeTime advanced, over [max(0, lastEmit), closeTime - 1].
    if (!(this.lastEmitCloseTime === NO_TIMESTAMP || this.lastEmitCloseTime < closeTime)) return [];
    const upper = closeTime - 1;
    if (upper < 0) return [];
    const out: EmittedSession[] = [];
    for (let s = this.pending.peek(); s !== undefined && s.end <= upper; s = this.pending.peek()) {
      this.pending.pop();
      if (!s.live) continue;
      out.push({ key: s.key, start: s.start, end: s.end, items: [...s.items] });
      this.emittedFifo.push(s);
    }
    this.lastEmitCloseTime = closeTime;
    this.purge(closeTime);
    return out;
  }

  /**
   * Drops emitted sessions no accepted record can reach any more: an accepted record has ts >= closeTime and merges
   * only sessions with end >= ts − gap. The SQL keeps them longer (RETENTION = 2 × gap + grace), which changes
   * nothing observable.
   */
  private purge(closeTime: number): void {
    const f = this.emittedFifo;
    while (this.emittedHead < f.length && f[this.emittedHead].end < closeTime - this.p.gapMs) {
      const s = f[this.emittedHead++];
      if (!s.live) continue;
      s.live = false;
      const kept = (this.byKey.get(s.key) ?? []).filter((x) => x.live);
      if (kept.length === 0) this.byKey.delete(s.key);
      else this.byKey.set(s.key, kept);
    }
    if (this.emittedHead > 4096 && this.emittedHead * 2 > f.length) {
      f.splice(0, this.emittedHead);
      this.emittedHead = 0;
    }
  }
}
