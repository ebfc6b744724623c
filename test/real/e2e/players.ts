/**
 * Pure: the players of one end-to-end scenario and when each heartbeat reaches Kafka. Viewers behave as the load
 * generator simulates them (tools/loadgen/simulate.ts: seeks, pauses, device switches, next video); on top of that
 * each population has a device clock skew and a delivery pattern:
 *   - the device stamps event_ts and sent_at on ITS clock: true time + skew;
 *   - live: sent when played; delayed: every heartbeat sent `delayMs` after it was played (mobile retries);
 *   - offline: heartbeats played in [fromMs, toMs) of the scenario are queued and sent at once at toMs (a burst);
 *   - resendShare: that share of heartbeats is sent a second time 1-3 s later, same body (an HTTP retry);
 *   - malformedShare: that share is replaced by a malformed record (tools/loadgen/records.ts kinds).
 * Every record is keyed by its session key user_id|video_id, as every producer we ship keys heartbeats_raw.
 * User ids are `<scenario>-<population>-u000042`, so a viewer's run (tools/conservation) is `<scenario>-<population>`.
 */
import { HEARTBEAT_INTERVAL_SEC, type Heartbeat } from "../../../contract/topics";
import { SESSION_KEY_SEPARATOR } from "../../../contract/sessionization";
import { createSimulation, mulberry32, nextHeartbeats } from "../../../tools/loadgen/simulate";
import { heartbeatJson, MALFORMED_KINDS, malformedValue } from "../../../tools/loadgen/records";

export type Delivery =
  | { readonly kind: "live" }
  | { readonly kind: "delayed"; readonly delayMs: number }
  | { readonly kind: "offline"; readonly fromMs: number; readonly toMs: number };

export interface Population {
  readonly name: string;
  readonly viewers: number;
  /** Device clock minus true time, ms (negative: the clock is slow). */
  readonly skewMs: number;
  readonly delivery: Delivery;
  readonly resendShare?: number;
  readonly malformedShare?: number;
}

/**
 * Malformed records whose fate the conservation check can tell: undecodable ones name no viewer (not JSON), the rest
 * decode and are rejected. A value that is JSON with string ids but fails ksqlDB's decoding (a number field holding
 * text) would be counted undecodable without a viewer while its viewer waits for it: the processing log does not
 * carry the record (tools/conservation/accounting.ts), so it is left out here.
 */
export const E2E_MALFORMED_KINDS = ["not_json", "missing_user_id", "negative_position", "missing_event_ts", "empty_object"] as const satisfies readonly (typeof MALFORMED_KINDS)[number][];

export interface ScenarioPlayers {
  /** Scenario id, e.g. `e2e-a`: the first part of every user id. */
  readonly scenario: string;
  /** True time (epoch ms) the scenario starts; heartbeats are played in [startMs, startMs + durationMs). */
  readonly startMs: number;
  readonly durationMs: number;
  readonly populations: readonly Population[];
  readonly seed: number;
  /** Video catalogue size per population. */
  readonly videos: number;
}

/** One record to produce at `atMs` (true wall time). */
export interface ScheduledSend {
  readonly atMs: number;
  readonly key: string;
  readonly value: string;
}

/** A heartbeat as the player sends it: the contract's fields plus the player's send time on its own clock. */
export interface SentHeartbeat extends Heartbeat {
  readonly sent_at: number;
}

/** A retry resends the same body this long after the first send (uniform in [min, max]). */
const RESEND_MIN_MS = 1_000;
const RESEND_MAX_MS = 3_000;

/** Pure: when a heartbeat played at true time `t` is sent. */
export function sendTime(d: Delivery, t: number, startMs: number): number {
  if (d.kind === "delayed") return t + d.delayMs;
  if (d.kind === "offline" && t >= startMs + d.fromMs && t < startMs + d.toMs) return startMs + d.toMs;
  return t;
}

/** Pure: every heartbeat each population plays in the scenario, in true time (the simulation's event_ts). */
function played(spec: ScenarioPlayers, pop: Population, index: number): Heartbeat[] {
  const sim = createSimulation({ viewers: pop.viewers, videos: spec.videos, seed: spec.seed + index * 7919, startTs: spec.startMs });
  const end = spec.startMs + spec.durationMs;
  const perViewer = Math.ceil(spec.durationMs / (HEARTBEAT_INTERVAL_SEC * 1000)) + 1;
  return nextHeartbeats(sim, pop.viewers * perViewer)
    .filter((h) => h.event_ts < end)
    .map((h) => ({ ...h, user_id: `${spec.scenario}-${pop.name}-${h.user_id}` }));
}

/** Pure: the scenario's records in send order. */
export function scheduleScenario(spec: ScenarioPlayers): ScheduledSend[] {
  const out: ScheduledSend[] = [];
  spec.populations.forEach((pop, i) => {
    const random = mulberry32(spec.seed * 31 + i);
    for (const h of played(spec, pop, i)) {
      const at = sendTime(pop.delivery, h.event_ts, spec.startMs);
      const hb: SentHeartbeat = { ...h, event_ts: h.event_ts + pop.skewMs, sent_at: at + pop.skewMs };
      const key = `${hb.user_id}${SESSION_KEY_SEPARATOR}${hb.video_id}`;
      if ((pop.malformedShare ?? 0) > 0 && random() < pop.malformedShare!) {
        const kind = E2E_MALFORMED_KINDS[Math.floor(random() * E2E_MALFORMED_KINDS.length)]!;
        out.push({ atMs: at, key, value: malformedValue(hb, kind) });
        continue;
      }
      const value = sentHeartbeatJson(hb);
      out.push({ atMs: at, key, value });
      if ((pop.resendShare ?? 0) > 0 && random() < pop.resendShare!) {
        out.push({ atMs: at + RESEND_MIN_MS + Math.floor(random() * (RESEND_MAX_MS - RESEND_MIN_MS)), key, value });
      }
    }
  });
  return out.sort((a, b) => a.atMs - b.atMs);
}

/** Pure: the JSON a player sends (the contract's fields, then sent_at). */
export function sentHeartbeatJson(hb: SentHeartbeat): string {
  const { sent_at: sentAt, ...rest } = hb;
  return `${heartbeatJson(rest).slice(0, -1)},"sent_at":${sentAt}}`;
}

/** Pure: the user ids of a scenario's population (every viewer, whether it sent or not). */
export function usersOf(spec: ScenarioPlayers): string[] {
  return spec.populations.flatMap((p) => Array.from({ length: p.viewers }, (_, i) => `${spec.scenario}-${p.name}-u${String(i).padStart(6, "0")}`));
}
