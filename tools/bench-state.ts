/**
 * `npm run bench:state`: replays, for one viewer watching continuously (5 s heartbeats), the state-store and
 * changelog operations of the v1 design (SESSION window + COLLECT_LIST of every point, EMIT FINAL) and of the v2
 * design (30 s TUMBLING window + COLLECT_SET of that window's points, EMIT FINAL, RETENTION 6 h) and of V000006
 * (60 s HOPPING windows advancing by 30 s, so every heartbeat is written into two windows, with 50-character points),
 * and prints bytes written per heartbeat, the peak state held for one open session and the bytes of final windows
 * written to `heartbeat_sessions` per heartbeat, for sessions of 1 min, 20 min, 2 h and 24 h.
 * Not a test: prints figures (ksql/README.md, "Costs", quotes them).
 *
 * Byte model (what Kafka Streams writes for a ksqlDB aggregate; RocksDB's own write amplification not counted):
 * - store key: the KAFKA-format session key, plus 8+8 bytes (session end, start) for a session store or 8+4 bytes
 *   (window start, sequence number) for a window store;
 * - store value: Schema Registry header (5) + the Avro aggregate row (the group-by column copy and the list of
 *   points: block count, each string's length and characters, end marker) + 8 bytes of ValueAndTimestamp;
 * - changelog: the same key and value once more per write; a session merge also deletes the old session key
 *   (a tombstone: key only) from the store and the changelog;
 * - a heartbeat's own encoded size: its `heartbeats` record, Avro value (SR header, session_key, user_id, video_id,
 *   position_sec, event_ts, device_id) plus the key.
 * The ids are the load generator's (u000123, v01234, u000123-d1).
 */
import { userId, videoId } from "./loadgen/simulate";
import { COLLECT_SET_LIMIT, PIECE_WINDOW_SEC, WINDOW_RETENTION_SEC } from "../contract/sessionization";
import { encodePoint, encodeWindowPoint } from "../ksql/model/encoding";
import { HEARTBEAT_INTERVAL_SEC } from "../contract/topics";
import { parseCommandLine, runTool } from "./cli";
import { EXIT_CODES_HELP } from "./exitCodes";

/** v1's `ksql.functions.collect_list.limit` (6 h of points; the list stopped growing there). */
const V1_COLLECT_LIST_LIMIT = 4320;
/** v1's session store retention: 2 x gap + grace. */
const V1_RETENTION_SEC = 2 * 30 + 60;
const SESSION_LENGTHS: ReadonlyArray<readonly [string, number]> = [
  ["1 min", 60],
  ["20 min", 20 * 60],
  ["2 h", 2 * 3600],
  ["24 h", 24 * 3600],
];
/** Heartbeats per second the platform is sized for, and the share of a day a viewer is active (for rows per day). */
const PLATFORM_HEARTBEATS_PER_SEC = 100_000;

function varintLen(n: number): number {
  let len = 1;
  let v = n >= 0 ? 2 * n : -2 * n - 1; // Avro zig-zag
  while (v >= 128) {
    v = Math.floor(v / 128);
    len++;
  }
  return len;
}
const avroString = (s: string): number => varintLen(Buffer.byteLength(s)) + Buffer.byteLength(s);
const SR_HEADER = 5;
const TIMESTAMP = 8;

const user = userId(123);
const video = videoId(1234);
const key = `${user}|${video}`;
const keyBytes = Buffer.byteLength(key);
const POINT = encodePoint({ ts: 1_700_000_000_000, posMs: 1_234_567 }).length;
/** V000006's point: identity, arrival and played_at. */
const POINT_V6 = encodeWindowPoint({ eventTs: 1_700_000_000_000, posMs: 1_234_567, arrival: 1_700_000_000_200, playedAt: 1_700_000_000_200 }).length;

/** Avro aggregate row: the group-by column copy and an array of n points. */
function aggregateValue(points: number, pointLength = POINT): number {
  const list = points === 0 ? 1 : varintLen(points) + points * (varintLen(pointLength) + pointLength) + 1;
  return SR_HEADER + avroString(key) + list + TIMESTAMP;
}

const heartbeatBytes =
  keyBytes + SR_HEADER + avroString(key) + avroString(user) + avroString(video) + 8 + varintLen(1_700_000_000_000) + 1 + avroString(`${user}-d1`);

interface Cost {
  readonly writtenPerHeartbeat: number;
  readonly peakStateBytes: number;
  readonly peakEntries: number;
}

/** v1: every heartbeat extends the session: delete the old session key, put the whole list under the new one. */
function v1(sessionSec: number): Cost {
  const n = Math.floor(sessionSec / HEARTBEAT_INTERVAL_SEC) + 1;
  const storeKey = keyBytes + 16;
  let written = 0;
  let points = 0;
  for (let i = 0; i < n; i++) {
    if (points > 0) written += 2 * storeKey; // tombstone for the merged session: store delete + changelog
    points = Math.min(points + 1, V1_COLLECT_LIST_LIMIT);
    written += 2 * (storeKey + aggregateValue(points)); // store put + changelog record
  }
  return { writtenPerHeartbeat: written / n, peakStateBytes: storeKey + aggregateValue(points), peakEntries: 1 };
}

/** v2: each heartbeat rewrites its window's (short) list; emitted windows stay in the store for RETENTION. */
function v2(sessionSec: number, windowSec = PIECE_WINDOW_SEC): Cost {
  const n = Math.floor(sessionSec / HEARTBEAT_INTERVAL_SEC) + 1;
  const storeKey = keyBytes + 12;
  const perWindow = Math.max(1, Math.floor(windowSec / HEARTBEAT_INTERVAL_SEC));
  let written = 0;
  const held: number[] = []; // final size of each window still in the store
  let inWindow = 0;
  for (let i = 0; i < n; i++) {
    if (inWindow === perWindow) {
      held.push(storeKey + aggregateValue(inWindow));
      inWindow = 0;
    }
    inWindow = Math.min(inWindow + 1, COLLECT_SET_LIMIT);
    written += 2 * (storeKey + aggregateValue(inWindow));
  }
  held.push(storeKey + aggregateValue(inWindow));
  const kept = held.slice(-Math.ceil(WINDOW_RETENTION_SEC / windowSec));
  return { writtenPerHeartbeat: written / n, peakStateBytes: kept.reduce((a, b) => a + b, 0), peakEntries: kept.length };
}

interface HoppingCost extends Cost {
  /** Bytes of final windows (key + value) written to heartbeat_sessions, per heartbeat. */
  readonly emittedPerHeartbeat: number;
}

/**
 * V000006: windows of 2 x hop advancing by the hop; a heartbeat at t is written into every window holding it (two),
 * each write rewriting that window's list of 50-character points. Emitted windows stay for RETENTION as in v2.
 */
function v6(sessionSec: number, hopSec = PIECE_WINDOW_SEC): HoppingCost {
  const n = Math.floor(sessionSec / HEARTBEAT_INTERVAL_SEC) + 1;
  const storeKey = keyBytes + 12;
  const counts = new Map<number, number>(); // window start (s) -> points
  let written = 0;
  for (let i = 0; i < n; i++) {
    const t = i * HEARTBEAT_INTERVAL_SEC;
    for (let s = Math.max(0, Math.floor((t - hopSec) / hopSec) * hopSec); s <= t; s += hopSec) {
      if (t >= s + 2 * hopSec) continue;
      const c = Math.min((counts.get(s) ?? 0) + 1, COLLECT_SET_LIMIT);
      counts.set(s, c);
      written += 2 * (storeKey + aggregateValue(c, POINT_V6));
    }
  }
  const finals = [...counts.values()].map((c) => storeKey + aggregateValue(c, POINT_V6));
  const kept = finals.slice(-Math.ceil(WINDOW_RETENTION_SEC / hopSec));
  const emitted = [...counts.values()].reduce((a, c) => a + keyBytes + 16 + aggregateValue(c, POINT_V6) - TIMESTAMP, 0);
  return { writtenPerHeartbeat: written / n, peakStateBytes: kept.reduce((a, b) => a + b, 0), peakEntries: kept.length, emittedPerHeartbeat: emitted / n };
}

/** v2's final windows on heartbeat_sessions, per heartbeat (to compare with V000006's). */
function v2Emitted(sessionSec: number): number {
  const n = Math.floor(sessionSec / HEARTBEAT_INTERVAL_SEC) + 1;
  const perWindow = Math.floor(PIECE_WINDOW_SEC / HEARTBEAT_INTERVAL_SEC);
  let bytes = 0;
  for (let left = n; left > 0; left -= perWindow) bytes += keyBytes + 16 + aggregateValue(Math.min(perWindow, left)) - TIMESTAMP;
  return bytes / n;
}

const kb = (b: number): string => (b >= 1e6 ? `${(b / 1e6).toFixed(2)} MB` : b >= 1e3 ? `${(b / 1e3).toFixed(1)} KB` : `${Math.round(b)} B`);
const pad = (s: string, n: number): string => s.padEnd(n);

const HELP = `Usage: npm run bench:state

Replays one viewer's state-store and changelog writes for the v1 (SESSION window + COLLECT_LIST) and v2 (${PIECE_WINDOW_SEC} s
TUMBLING window + COLLECT_SET) sessionization designs and prints bytes written per heartbeat and peak state per open
session for 1 min, 20 min, 2 h and 24 h sessions, then the window-size trade-off. A byte model: no server is started.

${EXIT_CODES_HELP}`;

function printFigures(): void {
  console.log(`heartbeat's own encoded size (Avro value + key on \`heartbeats\`): ${heartbeatBytes} B; point ${POINT} characters`);
  console.log(`v1 = SESSION window (gap 30 s) + COLLECT_LIST (limit ${V1_COLLECT_LIST_LIMIT}), retention ${V1_RETENTION_SEC} s`);
  console.log(`v2 = TUMBLING ${PIECE_WINDOW_SEC} s + COLLECT_SET, retention ${WINDOW_RETENTION_SEC / 3600} h\n`);
  console.log(
    `${pad("session", 8)} ${pad("v1 B/hb", 10)} ${pad("(x hb)", 8)} ${pad("v2 B/hb", 9)} ${pad("(x hb)", 7)} ${pad("v1 peak/session", 16)} ${pad("v2 peak/session", 24)}`,
  );
  for (const [name, sec] of SESSION_LENGTHS) {
    const a = v1(sec);
    const b = v2(sec);
    console.log(
      `${pad(name, 8)} ${pad(Math.round(a.writtenPerHeartbeat).toString(), 10)} ${pad(`${(a.writtenPerHeartbeat / heartbeatBytes).toFixed(1)}x`, 8)} ` +
        `${pad(Math.round(b.writtenPerHeartbeat).toString(), 9)} ${pad(`${(b.writtenPerHeartbeat / heartbeatBytes).toFixed(1)}x`, 7)} ` +
        `${pad(kb(a.peakStateBytes), 16)} ${pad(`${kb(b.peakStateBytes)} (${b.peakEntries} windows)`, 24)}`,
    );
  }

  console.log(`\nwindow size trade-off (v2, 2 h session; pieces = rows into the database at ${PLATFORM_HEARTBEATS_PER_SEC.toLocaleString("en")} heartbeats/s):`);
  console.log(`${pad("window", 8)} ${pad("B/hb", 6)} ${pad("(x hb)", 7)} ${pad("store+changelog MB/s", 21)} ${pad("pieces/s", 9)} pieces/day`);
  for (const w of [20, 30, 60]) {
    const c = v2(7200, w);
    const piecesPerSec = PLATFORM_HEARTBEATS_PER_SEC / (w / HEARTBEAT_INTERVAL_SEC);
    console.log(
      `${pad(`${w} s`, 8)} ${pad(Math.round(c.writtenPerHeartbeat).toString(), 6)} ${pad(`${(c.writtenPerHeartbeat / heartbeatBytes).toFixed(1)}x`, 7)} ` +
        `${pad(((c.writtenPerHeartbeat * PLATFORM_HEARTBEATS_PER_SEC) / 1e6).toFixed(1), 21)} ${pad(Math.round(piecesPerSec).toString(), 9)} ${(piecesPerSec * 86400 / 1e9).toFixed(2)} billion`,
    );
  }
  console.log(`\nV000006 = HOPPING ${2 * PIECE_WINDOW_SEC} s advancing by ${PIECE_WINDOW_SEC} s + COLLECT_SET of ${POINT_V6}-character points, retention ${WINDOW_RETENTION_SEC / 3600} h`);
  console.log(`${pad("session", 8)} ${pad("v6 B/hb", 9)} ${pad("(x v2)", 7)} ${pad("v6 peak/session", 24)} ${pad("sessions topic B/hb v2 -> v6", 29)}`);
  for (const [name, sec] of SESSION_LENGTHS) {
    const b = v2(sec);
    const c = v6(sec);
    console.log(
      `${pad(name, 8)} ${pad(Math.round(c.writtenPerHeartbeat).toString(), 9)} ${pad(`${(c.writtenPerHeartbeat / b.writtenPerHeartbeat).toFixed(1)}x`, 7)} ` +
        `${pad(`${kb(c.peakStateBytes)} (${c.peakEntries} windows)`, 24)} ${Math.round(v2Emitted(sec))} -> ${Math.round(c.emittedPerHeartbeat)} (${(c.emittedPerHeartbeat / v2Emitted(sec)).toFixed(1)}x)`,
    );
  }
  const v1At = (sec: number): string => ((v1(sec).writtenPerHeartbeat * PLATFORM_HEARTBEATS_PER_SEC) / 1e6).toFixed(0);
  console.log(`\nv1 at ${PLATFORM_HEARTBEATS_PER_SEC.toLocaleString("en")} heartbeats/s: ${v1At(1200)} MB/s (20 min sessions), ${v1At(7200)} MB/s (2 h sessions) of store+changelog writes`);
}

runTool("bench-state", () => {
  // Flags first: --help or a typo must never print figures as if the run had been asked for.
  if (parseCommandLine({ name: "bench-state", help: HELP, options: {} }, process.argv.slice(2)) === undefined) return;
  printFigures();
});
