/**
 * Limits that count heartbeats, not requests (issue 24): with batching, a request carries 1 to N heartbeats, so the
 * WAF's per-token and per-IP request rules let one client send N times more than they say. The gateway's Envoy
 * counts the heartbeats of every request and charges them to two token buckets: one per verified token subject and
 * one per client IP. A request that would overdraw either is answered 429 before Camel or Kafka see it.
 *
 *   - Counting: a Lua filter counts the records of the (already buffered) body and sets {@link HEARTBEATS_HEADER},
 *     replacing any copy a client sent; the local rate limit filter charges that many tokens (`hits_addend`). Camel
 *     refuses a request whose records outnumber the header (a body written to dodge the count, e.g. a JSON key
 *     spelled with escapes), so what Kafka receives was always charged in full.
 *   - Buckets: per pod, one per subject and one per client IP, created on first use and forgotten least recently used
 *     first beyond {@link DEFAULT_TRACKED_CLIENTS}. A forgotten bucket comes back full: an honest player may get a fresh
 *     budget, an abusive one stays recently used and keeps its empty bucket.
 *   - Per pod: the ALB spreads one client's requests over the pods, so one client can reach up to `replicas` times
 *     the budget before every pod refuses it. The WAF's per-token request rule (internet-facing ALBs) still bounds
 *     requests across pods; an exact cluster-wide heartbeat budget needs a shared rate limit service.
 *
 * Pure; no Pulumi. The Envoy filters are built here and placed by envoyGatewayConfig (contract/ingestGateway.ts).
 */
import { DEFAULT_PLAYERS_PER_IP, TOKEN_RETRY_HEADROOM } from "./ingest";
import { MAX_LATENESS_SEC } from "./sessionization";
import { HEARTBEAT_INTERVAL_SEC } from "./topics";

/** Request header the gateway's Envoy sets to the number of heartbeats in the body; Camel checks it. */
export const HEARTBEATS_HEADER = "x-watchpipe-heartbeats";
/** Envoy stat prefix of the limit: `heartbeat_limit.http_local_rate_limit.rate_limited` counts its 429s (seen on Envoy 1.40). */
export const LIMIT_STAT_PREFIX = "heartbeat_limit";
/** The 429's body (Envoy's own, kept: clients and dashboards match on it). */
export const LIMITED_BODY = "local_rate_limited";

export interface HeartbeatBucket {
  /** Heartbeats added to the bucket every window (the sustained rate). */
  readonly heartbeatsPerWindow: number;
  /** Bucket size: how many heartbeats one client may send at once (a queue flushed after being offline). */
  readonly burst: number;
}

export interface HeartbeatLimits {
  readonly windowSec: number;
  readonly perToken: HeartbeatBucket;
  readonly perIp: HeartbeatBucket;
}

/** The window the defaults are stated in (the WAF's default rate window). */
export const DEFAULT_LIMIT_WINDOW_SEC = 300;
/** One player's heartbeats in `windowSec` at the design cadence (one per 5 s): 60 per 300 s. */
export function heartbeatsPerPlayer(windowSec: number): number {
  return Math.ceil(windowSec / HEARTBEAT_INTERVAL_SEC);
}
/**
 * A player back online flushes its queue: at most {@link MAX_LATENESS_SEC} of heartbeats count (older ones are
 * rejected as late), 720 at one per 5 s. The burst lets that queue through at once, so it lands before it is late.
 */
export const QUEUED_HEARTBEATS = Math.ceil(MAX_LATENESS_SEC / HEARTBEAT_INTERVAL_SEC);

/**
 * Per token: 3 players' worth sustained (180 per 300 s, the WAF token rule's factor for retries and flushes) and
 * one hour's queue at once (720). Per IP: 50 players sharing an address (households, offices, small CGNAT pools),
 * each with the same sustained rate and queue: 3,000 per 300 s, 36,000 at once.
 */
export const DEFAULT_HEARTBEAT_LIMITS: HeartbeatLimits = {
  windowSec: DEFAULT_LIMIT_WINDOW_SEC,
  perToken: { heartbeatsPerWindow: TOKEN_RETRY_HEADROOM * heartbeatsPerPlayer(DEFAULT_LIMIT_WINDOW_SEC), burst: QUEUED_HEARTBEATS },
  perIp: { heartbeatsPerWindow: DEFAULT_PLAYERS_PER_IP * heartbeatsPerPlayer(DEFAULT_LIMIT_WINDOW_SEC), burst: DEFAULT_PLAYERS_PER_IP * QUEUED_HEARTBEATS },
};

/** Buckets each pod keeps per kind (subjects, IPs); least recently used ones are forgotten beyond it. */
export const DEFAULT_TRACKED_CLIENTS = 100_000;

/**
 * Problems with a limits setting, each naming the key (under `prefix`), the expectation and the value: a budget
 * below one honest player's, a burst below the sustained rate or below one full request.
 */
export function heartbeatLimitProblems(l: HeartbeatLimits, maxHeartbeatsPerRequest: number, prefix: string): string[] {
  const problems: string[] = [];
  const player = heartbeatsPerPlayer(l.windowSec);
  for (const [kind, b] of [["perToken", l.perToken], ["perIp", l.perIp]] as const) {
    const key = `${prefix}.${kind}`;
    if (b.heartbeatsPerWindow < player) {
      problems.push(`${key}.heartbeatsPerWindow: one player sends ${player} heartbeats per ${l.windowSec} s (one per ${HEARTBEAT_INTERVAL_SEC} s), so a lower budget refuses an honest player; expected at least ${player}; got ${b.heartbeatsPerWindow}.`);
    }
    if (b.burst < b.heartbeatsPerWindow) {
      problems.push(`${key}.burst: the bucket must hold at least one window's heartbeats; expected at least ${key}.heartbeatsPerWindow (${b.heartbeatsPerWindow}); got ${b.burst}.`);
    }
    if (b.burst < maxHeartbeatsPerRequest) {
      problems.push(`${key}.burst: a full request (ingest.gateway.maxHeartbeatsPerRequest, ${maxHeartbeatsPerRequest}) must fit the bucket or it is refused forever; expected at least ${maxHeartbeatsPerRequest}; got ${b.burst}.`);
    }
  }
  if (l.perIp.heartbeatsPerWindow < l.perToken.heartbeatsPerWindow) {
    problems.push(`${prefix}.perIp.heartbeatsPerWindow: an address carries at least one player's token; expected at least ${prefix}.perToken.heartbeatsPerWindow (${l.perToken.heartbeatsPerWindow}); got ${l.perIp.heartbeatsPerWindow}.`);
  }
  return problems;
}

/**
 * The Lua that counts a request's heartbeats: one per `"value":` key in the buffered body (the produce body is
 * `{"records":[{"value":{…}}, …]}`), at least 1, so a request of nothing still costs. A client that writes a key the
 * count misses is refused by Camel (records outnumber the header), never under-charged.
 */
export const COUNT_HEARTBEATS_LUA = [
  "function envoy_on_request(handle)",
  "  local n = 0",
  "  local body = handle:body()",
  "  if body ~= nil then",
  "    local text = body:getBytes(0, body:length())",
  "    for _ in string.gmatch(text, '\"value\"%s*:') do n = n + 1 end",
  "  end",
  "  if n < 1 then n = 1 end",
  `  handle:headers():replace("${HEARTBEATS_HEADER}", tostring(n))`,
  "end",
].join("\n");

const typed = (type: string, config: Record<string, unknown>) => ({ "@type": `type.googleapis.com/${type}`, ...config });

const bucket = (heartbeats: number, windowSec: number, burst: number) => ({ max_tokens: burst, tokens_per_fill: heartbeats, fill_interval: `${windowSec}s` });

/** Descriptor keys the two rate_limits actions produce. */
export const SUBJECT_DESCRIPTOR = "subject";
export const CLIENT_IP_DESCRIPTOR = "remote_address";

/**
 * Envoy's two filters, in order: count (Lua), then charge (local rate limit). They go after jwt_authn (the subject
 * header is the verified one) and after the body buffer (the count sees the whole body).
 */
export function heartbeatLimitFilters(l: HeartbeatLimits, subjectHeader: string, trackedClients: number = DEFAULT_TRACKED_CLIENTS): Record<string, unknown>[] {
  const charge = { format: `%REQ(${HEARTBEATS_HEADER})%` };
  return [
    {
      name: "envoy.filters.http.lua",
      typed_config: typed("envoy.extensions.filters.http.lua.v3.Lua", { default_source_code: { inline_string: COUNT_HEARTBEATS_LUA } }),
    },
    {
      name: "envoy.filters.http.local_ratelimit",
      typed_config: typed("envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit", {
        stat_prefix: LIMIT_STAT_PREFIX,
        // The filter-wide bucket is required; it never binds (the HPA sizes the pods, not this).
        token_bucket: { max_tokens: 1_000_000_000, tokens_per_fill: 1_000_000_000, fill_interval: "1s" },
        filter_enabled: { default_value: { numerator: 100, denominator: "HUNDRED" } },
        filter_enforced: { default_value: { numerator: 100, denominator: "HUNDRED" } },
        max_dynamic_descriptors: trackedClients,
        descriptors: [
          { entries: [{ key: SUBJECT_DESCRIPTOR }], token_bucket: bucket(l.perToken.heartbeatsPerWindow, l.windowSec, l.perToken.burst) },
          { entries: [{ key: CLIENT_IP_DESCRIPTOR }], token_bucket: bucket(l.perIp.heartbeatsPerWindow, l.windowSec, l.perIp.burst) },
        ],
        rate_limits: [
          { actions: [{ request_headers: { header_name: subjectHeader, descriptor_key: SUBJECT_DESCRIPTOR } }], hits_addend: charge },
          { actions: [{ remote_address: {} }], hits_addend: charge },
        ],
      }),
    },
  ];
}
