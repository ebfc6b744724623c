/**
 * Tick keys. Ticks are heartbeats of the reserved user TICK_USER_ID written to heartbeats_raw every tick interval
 * with event_ts = now. V000001 re-keys every heartbeat by its session key (user_id|video_id, KAFKA format = UTF-8
 * bytes), so a tick lands on the `heartbeats` partition the default partitioner picks for that key. For each
 * partition this module finds a tick video_id whose key hashes there, so one tick per partition advances stream
 * time everywhere and quiet partitions still close their sessions.
 */
import { SESSION_KEY_SEPARATOR, TICK_USER_ID } from "../contract/sessionization";

/** Kafka's Utils.murmur2: 32-bit MurmurHash2 with Kafka's seed, over the key bytes. */
export function murmur2(data: Uint8Array): number {
  const seed = 0x9747b28c;
  const m = 0x5bd1e995;
  const r = 24;
  const length = data.length;
  let h = (seed ^ length) | 0;
  const whole = length & ~3;
  for (let i = 0; i < whole; i += 4) {
    let k = data[i] | (data[i + 1] << 8) | (data[i + 2] << 16) | (data[i + 3] << 24);
    k = Math.imul(k, m);
    k ^= k >>> r;
    k = Math.imul(k, m);
    h = Math.imul(h, m) ^ k;
  }
  const tail = length - whole;
  if (tail === 3) h ^= data[whole + 2] << 16;
  if (tail >= 2) h ^= data[whole + 1] << 8;
  if (tail >= 1) {
    h ^= data[whole];
    h = Math.imul(h, m);
  }
  h ^= h >>> 13;
  h = Math.imul(h, m);
  h ^= h >>> 15;
  return h | 0;
}

/** Kafka's default partitioner for a keyed record: toPositive(murmur2(key bytes)) % partitions. */
export function partitionForKey(key: string, partitions: number): number {
  return (murmur2(Buffer.from(key, "utf8")) & 0x7fffffff) % partitions;
}

export interface TickKey {
  readonly partition: number;
  readonly user_id: string;
  readonly video_id: string;
  /** The session key (user_id|video_id) the tick carries on `heartbeats`. */
  readonly key: string;
}

/** Upper bound on candidate ids tried per run; with n partitions about n·ln(n) candidates are needed. */
const MAX_CANDIDATES = 10_000_000;

/**
 * For each partition 0..n-1 the first tick video_id (`p<partition>-<k>`, k = 0, 1, ...) whose session key hashes to
 * that partition. Deterministic, so the ticker and any check compute the same keys.
 */
export function tickKeysForPartitions(n: number): TickKey[] {
  if (!Number.isInteger(n) || n < 1 || n > 100_000) {
    throw new Error(`tickKeysForPartitions: partitions must be an integer in 1..100000, got ${n}`);
  }
  const out: TickKey[] = [];
  for (let p = 0; p < n; p++) {
    let found: TickKey | undefined;
    for (let k = 0; k < MAX_CANDIDATES && found === undefined; k++) {
      const video = `p${p}-${k}`;
      const key = TICK_USER_ID + SESSION_KEY_SEPARATOR + video;
      if (partitionForKey(key, n) === p) found = { partition: p, user_id: TICK_USER_ID, video_id: video, key };
    }
    if (found === undefined) throw new Error(`tickKeysForPartitions: no key for partition ${p} of ${n} in ${MAX_CANDIDATES} tries`);
    out.push(found);
  }
  return out;
}
