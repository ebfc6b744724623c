/**
 * Conservation of heartbeats (issue 21): every record written to `heartbeats_raw` must end in exactly one place —
 * counted in a piece (`watch_pieces.heartbeat_count`, which the database stitches into `watch_segments_v2`), in
 * `heartbeats_rejected` with a reason, or in ksqlDB's processing log (undecodable). Pure accounting over what was
 * read from those places; no I/O, no clock (tools/conservation/read.ts reads, tools/conserve.ts prints).
 *
 * Definitions (the numbers every report uses):
 * - viewer: `user_id|video_id` taken from the raw record's JSON value when both are strings, else the bucket
 *   {@link UNATTRIBUTED} (a record whose value cannot say whose it is; ksqlDB cannot say either).
 * - sent: DISTINCT heartbeats written to heartbeats_raw. A heartbeat is identified by (user_id, video_id, event_ts)
 *   when all three are present (a player re-sending the same heartbeat, an HTTP retry, a producer retry: counted
 *   once); a record without that identity counts once per record. Ticks (user `__tick__`) are not heartbeats.
 * - counted: the sum of `heartbeat_count` over the viewer's pieces in the database.
 * - rejected: distinct heartbeats in `heartbeats_rejected` (same identity rule), by reason prefix (the text before
 *   the first ':', e.g. `late`, `sent_at`, `key`, `position_sec`).
 * - undecodable: records the validation query could not decode, from the processing log. The log does not carry
 *   the record (ksql.logging.processing.rows.include is off), so they go to {@link UNATTRIBUTED}; two queries read
 *   heartbeats_raw and each logs the same record, so the figure is the largest count logged by any one query.
 * - balance = sent − counted − rejected − undecodable. lost = balance when > 0 (sent but found nowhere);
 *   double-counted = −balance when < 0 (found in more places, or counted more often, than it was sent). Per viewer
 *   a loss and a double count of the same size cancel; the per-run figures sum the per-viewer ones, so they only
 *   cancel inside one viewer.
 */
import { SESSION_KEY_SEPARATOR, TICK_USER_ID } from "../../contract/sessionization";
import { percentiles } from "../loadgen/stats";

/** Bucket for records whose value names no user and video (not JSON, an id missing or not a string). */
export const UNATTRIBUTED = "(unattributed)";
/** Run of a user id without a run separator. */
export const NO_RUN = "(no run)";
/** The default run of a user id: everything before its last '-' (`e2e-a-slow3m-u000042` -> `e2e-a-slow3m`). */
export function defaultRunOf(userId: string): string {
  const i = userId.lastIndexOf("-");
  return i > 0 ? userId.slice(0, i) : NO_RUN;
}

/** One record of heartbeats_raw as read back: its value bytes as UTF-8 (null for a null value), and its timestamp. */
export interface RawRecord {
  readonly value: string | null;
  /** The record timestamp, epoch ms (LogAppendTime on the program's topic: when the broker received it). */
  readonly timestamp: number;
}

/** One record of heartbeats_rejected (its JSON value, parsed). */
export interface RejectRecord {
  readonly user_id: string | null;
  readonly video_id: string | null;
  readonly event_ts: number | null;
  readonly reason: string;
}

/** One processing-log entry about a record of heartbeats_raw that could not be decoded. */
export interface UndecodableEntry {
  /** The logger: `processing.<query id>...`; entries are counted per query. */
  readonly logger: string;
}

/** The pieces of one viewer in the database. */
export interface PieceTotals {
  readonly user_id: string;
  readonly video_id: string;
  /** SUM(heartbeat_count). */
  readonly heartbeats: number;
  readonly pieces: number;
  /** MAX(updated_at) in epoch ms: when the viewer's last piece reached the database. */
  readonly lastWrittenMs: number;
}

export interface ViewerAccount {
  readonly viewer: string;
  readonly run: string;
  readonly sent: number;
  /** Copies beyond the first of a heartbeat sent more than once (not part of `sent`). */
  readonly resent: number;
  readonly counted: number;
  readonly pieces: number;
  readonly rejected: Readonly<Record<string, number>>;
  readonly undecodable: number;
  readonly lost: number;
  readonly doubleCounted: number;
  /** Last heartbeat's record timestamp (epoch ms); null when the viewer sent nothing. */
  readonly lastSentMs: number | null;
  /** When the viewer's last piece was written; null when none was. */
  readonly lastWrittenMs: number | null;
}

export interface RunAccount {
  readonly run: string;
  readonly viewers: number;
  readonly sent: number;
  readonly resent: number;
  readonly counted: number;
  readonly rejected: Readonly<Record<string, number>>;
  readonly undecodable: number;
  readonly lost: number;
  readonly doubleCounted: number;
  /** Viewers with a loss / a double count. */
  readonly viewersLosing: number;
  readonly viewersDoubleCounted: number;
  /** Last heartbeat to last piece in the database, over the run's viewers that have both (ms); null if none. */
  readonly delayP50Ms: number | null;
  readonly delayMaxMs: number | null;
}

export interface Conservation {
  readonly viewers: readonly ViewerAccount[];
  readonly runs: readonly RunAccount[];
  readonly total: RunAccount;
  /** True when nothing is lost and nothing double counted anywhere. */
  readonly balanced: boolean;
}

interface Identity {
  readonly viewer: string;
  /** null: no identity, the record counts on its own. */
  readonly key: string | null;
}

function isStr(v: unknown): v is string {
  return typeof v === "string";
}

function identityOf(user: unknown, video: unknown, eventTs: unknown): Identity {
  if (!isStr(user) || !isStr(video)) return { viewer: UNATTRIBUTED, key: null };
  const viewer = `${user}${SESSION_KEY_SEPARATOR}${video}`;
  return { viewer, key: typeof eventTs === "number" && Number.isFinite(eventTs) ? `${viewer}\u0000${eventTs}` : null };
}

/** Pure: what a raw record's value says about whose heartbeat it is (JSON that is not an object says nothing). */
export function rawIdentity(value: string | null): Identity & { readonly tick: boolean } {
  let parsed: unknown;
  try {
    parsed = value === null ? null : JSON.parse(value);
  } catch {
    parsed = null;
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) return { viewer: UNATTRIBUTED, key: null, tick: false };
  const o = parsed as Record<string, unknown>;
  return { ...identityOf(o.user_id, o.video_id, o.event_ts), tick: o.user_id === TICK_USER_ID };
}

/** Pure: the reason prefix a report groups rejects by (`late: ...` -> `late`). */
export function reasonPrefix(reason: string): string {
  const i = reason.indexOf(":");
  return (i < 0 ? reason : reason.slice(0, i)).trim() || "(no reason)";
}

/** Pure: undecodable records of heartbeats_raw: the largest count any one query logged. */
export function undecodableCount(entries: readonly UndecodableEntry[]): number {
  const perQuery = new Map<string, number>();
  for (const e of entries) {
    const query = /^processing\.([^.]+)/.exec(e.logger)?.[1] ?? e.logger;
    perQuery.set(query, (perQuery.get(query) ?? 0) + 1);
  }
  return Math.max(0, ...perQuery.values());
}

/**
 * Pure: processing-log entries about `rawTopic` from a ksqlDB server's own log (`... ERROR {"type":0,
 * "deserializationError":{...}} (processing.<query id>....)`): where the log4j configuration sends the processing
 * log to the console rather than to its topic (a server without the Kafka appender), this is the only record of it.
 */
export function undecodableFromServerLog(text: string, rawTopic: string): UndecodableEntry[] {
  const out: UndecodableEntry[] = [];
  for (const line of text.split("\n")) {
    const m = /\s(\{"type":0,.*\})\s+\((processing\.[^)\s]+)\)\s*$/.exec(line);
    if (m === null) continue;
    try {
      const e = JSON.parse(m[1]!) as { deserializationError?: { topic?: string } | null };
      if (e.deserializationError?.topic === rawTopic) out.push({ logger: m[2]! });
    } catch {
      // not a processing-log entry
    }
  }
  return out;
}

interface Acc {
  sent: number;
  resent: number;
  rejected: Map<string, number>;
  lastSentMs: number | null;
}

export interface ConservationInput {
  readonly raw: Iterable<RawRecord>;
  readonly rejects: Iterable<RejectRecord>;
  readonly undecodable: readonly UndecodableEntry[];
  readonly pieces: readonly PieceTotals[];
  /** Maps a viewer's user_id to its run; default {@link defaultRunOf}. */
  readonly runOf?: (userId: string) => string;
  /** Keep only the runs this accepts (the unattributed bucket is a run too); default every run. */
  readonly keepRun?: (run: string) => boolean;
}

function sumRecords(rs: readonly Readonly<Record<string, number>>[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of rs) for (const [k, n] of Object.entries(r)) out[k] = (out[k] ?? 0) + n;
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => a.localeCompare(b)));
}

function totalOf(rec: Readonly<Record<string, number>>): number {
  return Object.values(rec).reduce((a, b) => a + b, 0);
}

function runAccount(run: string, vs: readonly ViewerAccount[]): RunAccount {
  const delays = vs.filter((v) => v.lastSentMs !== null && v.lastWrittenMs !== null).map((v) => v.lastWrittenMs! - v.lastSentMs!);
  const [p50, max] = delays.length === 0 ? [null, null] : percentiles(delays, [50, 100]);
  const sum = (f: (v: ViewerAccount) => number): number => vs.reduce((a, v) => a + f(v), 0);
  return {
    run,
    viewers: vs.filter((v) => v.viewer !== UNATTRIBUTED).length,
    sent: sum((v) => v.sent),
    resent: sum((v) => v.resent),
    counted: sum((v) => v.counted),
    rejected: sumRecords(vs.map((v) => v.rejected)),
    undecodable: sum((v) => v.undecodable),
    lost: sum((v) => v.lost),
    doubleCounted: sum((v) => v.doubleCounted),
    viewersLosing: vs.filter((v) => v.lost > 0).length,
    viewersDoubleCounted: vs.filter((v) => v.doubleCounted > 0).length,
    delayP50Ms: p50 ?? null,
    delayMaxMs: max ?? null,
  };
}

/** Pure: the conservation of every viewer and run. */
export function conserve(input: ConservationInput): Conservation {
  const runOf = input.runOf ?? defaultRunOf;
  const accs = new Map<string, Acc>();
  const acc = (viewer: string): Acc => {
    let a = accs.get(viewer);
    if (a === undefined) {
      a = { sent: 0, resent: 0, rejected: new Map(), lastSentMs: null };
      accs.set(viewer, a);
    }
    return a;
  };

  const seen = new Set<string>();
  for (const r of input.raw) {
    const id = rawIdentity(r.value);
    if (id.tick) continue;
    const a = acc(id.viewer);
    a.lastSentMs = Math.max(a.lastSentMs ?? r.timestamp, r.timestamp);
    if (id.key !== null && seen.has(id.key)) {
      a.resent++;
      continue;
    }
    if (id.key !== null) seen.add(id.key);
    a.sent++;
  }

  const rejectedSeen = new Set<string>();
  for (const r of input.rejects) {
    const id = identityOf(r.user_id, r.video_id, r.event_ts);
    if (r.user_id === TICK_USER_ID) continue;
    if (id.key !== null) {
      if (rejectedSeen.has(id.key)) continue;
      rejectedSeen.add(id.key);
    }
    const m = acc(id.viewer).rejected;
    const p = reasonPrefix(r.reason);
    m.set(p, (m.get(p) ?? 0) + 1);
  }

  const undecodable = undecodableCount(input.undecodable);
  if (undecodable > 0) acc(UNATTRIBUTED);
  const pieces = new Map<string, PieceTotals>();
  for (const p of input.pieces) {
    const viewer = `${p.user_id}${SESSION_KEY_SEPARATOR}${p.video_id}`;
    pieces.set(viewer, p);
    acc(viewer);
  }

  const viewers: ViewerAccount[] = [...accs.entries()]
    .map(([viewer, a]): ViewerAccount => {
      const p = pieces.get(viewer);
      const rejected = Object.fromEntries([...a.rejected.entries()].sort(([x], [y]) => x.localeCompare(y)));
      const und = viewer === UNATTRIBUTED ? undecodable : 0;
      const counted = p?.heartbeats ?? 0;
      const balance = a.sent - counted - totalOf(rejected) - und;
      const user = viewer === UNATTRIBUTED ? "" : viewer.slice(0, viewer.indexOf(SESSION_KEY_SEPARATOR));
      return {
        viewer,
        run: viewer === UNATTRIBUTED ? UNATTRIBUTED : runOf(user),
        sent: a.sent,
        resent: a.resent,
        counted,
        pieces: p?.pieces ?? 0,
        rejected,
        undecodable: und,
        lost: Math.max(balance, 0),
        doubleCounted: Math.max(-balance, 0),
        lastSentMs: a.lastSentMs,
        lastWrittenMs: p?.lastWrittenMs ?? null,
      };
    })
    .filter((v) => input.keepRun === undefined || input.keepRun(v.run))
    .sort((x, y) => x.run.localeCompare(y.run) || x.viewer.localeCompare(y.viewer));

  const byRun = new Map<string, ViewerAccount[]>();
  for (const v of viewers) byRun.set(v.run, [...(byRun.get(v.run) ?? []), v]);
  const runs = [...byRun.entries()].map(([run, vs]) => runAccount(run, vs));
  const total = runAccount("(all)", viewers);
  return { viewers, runs, total, balanced: total.lost === 0 && total.doubleCounted === 0 };
}

/** Pure: "late 3, position_sec 1" (or "0"). */
export function formatReasons(rejected: Readonly<Record<string, number>>): string {
  const parts = Object.entries(rejected).filter(([, n]) => n > 0).map(([k, n]) => `${k} ${n}`);
  return parts.length === 0 ? "0" : parts.join(", ");
}

function seconds(ms: number | null): string {
  return ms === null ? "-" : (ms / 1000).toFixed(1);
}

/** Pure: a fixed-width text table, first row the header. */
export function textTable(rows: readonly (readonly string[])[]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? "").length)));
  return rows.map((r) => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join("  ").trimEnd()).join("\n");
}

const RUN_HEADER = ["run", "viewers", "sent", "resent", "counted", "rejected (by reason)", "undecodable", "lost", "double-counted", "delay p50 s", "delay max s"] as const;

function runRow(r: RunAccount): string[] {
  return [r.run, String(r.viewers), String(r.sent), String(r.resent), String(r.counted), formatReasons(r.rejected), String(r.undecodable), String(r.lost), String(r.doubleCounted), seconds(r.delayP50Ms), seconds(r.delayMaxMs)];
}

/** Pure: the per-run table (and the total). */
export function formatRuns(c: Conservation): string {
  return textTable([[...RUN_HEADER], ...c.runs.map(runRow), runRow(c.total)]);
}

/**
 * Pure: the per-viewer table. `all` false lists only viewers that are out of balance (lost or double counted), at
 * most `limit` of them, and says how many more there are.
 */
export function formatViewers(c: Conservation, all: boolean, limit: number): string {
  const chosen = all ? c.viewers : c.viewers.filter((v) => v.lost > 0 || v.doubleCounted > 0);
  if (chosen.length === 0) return "every viewer balances: sent = counted + rejected + undecodable";
  const shown = chosen.slice(0, limit);
  const table = textTable([
    ["viewer", "run", "sent", "resent", "counted", "pieces", "rejected (by reason)", "undecodable", "lost", "double-counted"],
    ...shown.map((v) => [v.viewer, v.run, String(v.sent), String(v.resent), String(v.counted), String(v.pieces), formatReasons(v.rejected), String(v.undecodable), String(v.lost), String(v.doubleCounted)]),
  ]);
  return chosen.length > shown.length ? `${table}\n... and ${chosen.length - shown.length} more viewers` : table;
}
