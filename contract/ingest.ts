/**
 * The public ingest path's limits and vocabulary, shared by config.ts (validation), the ingest components (ALB
 * annotations, the WAFv2 web ACL) and the CrossGuard pack. No Pulumi here. docs/ingest.md explains what is enforced
 * where.
 *
 * Sizing from the design load: a player sends one heartbeat every {@link HEARTBEAT_INTERVAL_SEC} s, one record per
 * POST. Over WAF's default 300 s rate window that is 300 / 5 = 60 requests per player.
 */
import { HEARTBEAT_INTERVAL_SEC } from "./topics";

// ---- ALB (AWS Load Balancer Controller 3.5.0) annotation names ---------------------------------------------------

export const ALB_ANNOTATION_PREFIX = "alb.ingress.kubernetes.io";
export const ALB_SCHEME = `${ALB_ANNOTATION_PREFIX}/scheme`;
export const ALB_LISTEN_PORTS = `${ALB_ANNOTATION_PREFIX}/listen-ports`;
export const ALB_SSL_REDIRECT = `${ALB_ANNOTATION_PREFIX}/ssl-redirect`;
export const ALB_CERTIFICATE_ARN = `${ALB_ANNOTATION_PREFIX}/certificate-arn`;
export const ALB_SSL_POLICY_ANNOTATION = `${ALB_ANNOTATION_PREFIX}/ssl-policy`;
/** JSON `{jwksEndpoint, issuer, additionalClaims?}`; the controller attaches it to HTTPS listener rules only. */
export const ALB_JWT_VALIDATION = `${ALB_ANNOTATION_PREFIX}/jwt-validation`;
/** A regional WAFv2 web ACL ARN; absent or empty leaves the ALB's WAF as it is, `none` detaches it. */
export const ALB_WAFV2_ACL_ARN = `${ALB_ANNOTATION_PREFIX}/wafv2-acl-arn`;
/**
 * The annotation value that detaches any web ACL. An ALB without its own ACL says so explicitly: leaving the
 * annotation out would keep an ACL attached earlier (an ALB that was internet-facing, or one attached by hand) and
 * keep billing every request it inspects.
 */
export const ALB_WAFV2_NONE = "none";
/** `conditions.<serviceName>`: extra match conditions (here: the HTTP method) for that backend's rules. */
export const ALB_CONDITIONS_PREFIX = `${ALB_ANNOTATION_PREFIX}/conditions.`;

// ---- JWT validation limits (ELBv2 JwtValidationActionConfig) -----------------------------------------------------

/** Issuer, JWKS URL and every claim value: at most 256 characters each. */
export const JWT_MAX_FIELD_CHARS = 256;
/** Additional claims per action, and values per claim: at most 10. */
export const JWT_MAX_ADDITIONAL_CLAIMS = 10;
export const JWT_MAX_CLAIM_VALUES = 10;
/** The ALB always checks these itself (exp, iss; nbf and iat when present); they may not be listed again. */
export const JWT_BUILTIN_CLAIMS = ["exp", "iss", "nbf", "iat"] as const;
export const JWT_CLAIM_FORMATS = ["single-string", "string-array", "space-separated-values"] as const;
export type JwtClaimFormat = (typeof JWT_CLAIM_FORMATS)[number];

export interface JwtClaim {
  readonly name: string;
  readonly format: JwtClaimFormat;
  readonly values: string[];
}

/** What the ALB checks on every request: signature (RS256, keys from the JWKS URL), issuer, expiry, audience, claims. */
export interface JwtValidationSettings {
  /** HTTPS URL of the identity provider's JSON Web Key Set. */
  readonly jwksUrl: string;
  /** Expected `iss` claim. */
  readonly issuer: string;
  /** Accepted `aud` values (the player app's audience); checked as a string-array claim. */
  readonly audience: readonly string[];
  /** Further claims to require (e.g. `scope` containing `heartbeat:write`). */
  readonly claims: readonly JwtClaim[];
}

/** The annotation's JSON body (field names as the controller parses them). */
export interface JwtValidationAnnotation {
  readonly jwksEndpoint: string;
  readonly issuer: string;
  readonly additionalClaims: readonly JwtClaim[];
}

/** The audience becomes one more additional claim, so the ALB rejects tokens minted for other apps. */
export function jwtValidationAnnotation(jwt: JwtValidationSettings): JwtValidationAnnotation {
  return {
    jwksEndpoint: jwt.jwksUrl,
    issuer: jwt.issuer,
    additionalClaims: [{ name: "aud", format: "string-array", values: [...jwt.audience] }, ...jwt.claims],
  };
}

// ---- WAFv2 limits --------------------------------------------------------------------------------------------------

/** WAF rate-based rules count over one of these windows (seconds). */
export const WAF_RATE_WINDOWS_SEC = [60, 120, 300, 600] as const;
export type WafRateWindowSec = (typeof WAF_RATE_WINDOWS_SEC)[number];
/** WAF's default window, and ours. */
export const DEFAULT_WAF_RATE_WINDOW_SEC: WafRateWindowSec = 300;
/** The smallest limit a rate-based rule accepts. */
export const WAF_MIN_RATE_LIMIT = 10;
export const WAF_MAX_RATE_LIMIT = 2_000_000_000;
/**
 * WAF sees at most the first 8 KiB of a request body behind an ALB (the limit cannot be raised for ALBs). A body-size
 * rule above it could never match on content, so the configured limit must not exceed it; bodies larger than what WAF
 * inspected are treated as matching (oversize handling MATCH), i.e. blocked.
 */
export const WAF_ALB_BODY_INSPECTION_BYTES = 8192;

/**
 * Players sharing one public IP (households, offices, carrier-grade NAT on mobile networks). 50 is headroom for a
 * busy office or a small CGNAT pool; larger carriers can exceed it, which is why the per-token rule below exists.
 */
export const DEFAULT_PLAYERS_PER_IP = 50;
/** A player's requests per rate window at the design cadence: 300 s / 5 s = 60. */
export function requestsPerPlayer(windowSec: number): number {
  return Math.ceil(windowSec / HEARTBEAT_INTERVAL_SEC);
}
/** Per client IP per 300 s: 50 players × 60 requests = 3,000 (≈ 10 requests/s from one address). */
export const DEFAULT_RATE_LIMIT_PER_IP = DEFAULT_PLAYERS_PER_IP * requestsPerPlayer(DEFAULT_WAF_RATE_WINDOW_SEC);
/**
 * Per bearer token per 300 s: 3 × 60 = 180. One player needs 60; the factor 3 covers retries after errors and a
 * flush of queued heartbeats after a reconnect. It also bounds how much one (stolen or abused) token can inject.
 */
export const TOKEN_RETRY_HEADROOM = 3;
export const DEFAULT_RATE_LIMIT_PER_TOKEN = TOKEN_RETRY_HEADROOM * requestsPerPlayer(DEFAULT_WAF_RATE_WINDOW_SEC);
/**
 * Largest request body accepted: 4 KiB. One heartbeat is ~250 B of JSON (contract/capacity's average event size),
 * ~300 B inside the bridge's `{"records":[{"value":…}]}` envelope, so 4 KiB carries ~13 queued heartbeats (a minute
 * offline) and nothing a player legitimately sends is larger.
 */
export const DEFAULT_MAX_BODY_BYTES = 4096;
/** The AWS managed rule group every web ACL in front of the ingest runs (SQLi/XSS/LFI/bad bots/size restrictions). */
export const AWS_COMMON_RULE_SET = { vendorName: "AWS", name: "AWSManagedRulesCommonRuleSet" } as const;
/** The header the token travels in; the per-token rate rule keys on it. */
export const TOKEN_HEADER = "authorization";

export interface WafSettings {
  /** Requests per client IP per window before WAF blocks that IP for the rest of the window. */
  readonly rateLimitPerIp: number;
  /** Requests per bearer token per window (counted only when JWT validation is on). */
  readonly rateLimitPerToken: number;
  readonly rateWindowSec: WafRateWindowSec;
  /** Largest request body in bytes (<= {@link WAF_ALB_BODY_INSPECTION_BYTES}). */
  readonly maxBodyBytes: number;
}

export const DEFAULT_WAF_SETTINGS: WafSettings = {
  rateLimitPerIp: DEFAULT_RATE_LIMIT_PER_IP,
  rateLimitPerToken: DEFAULT_RATE_LIMIT_PER_TOKEN,
  rateWindowSec: DEFAULT_WAF_RATE_WINDOW_SEC,
  maxBodyBytes: DEFAULT_MAX_BODY_BYTES,
};

/** Rule names in the web ACL (also its CloudWatch metric names). Never rename: dashboards and alarms key on them. */
export const WAF_RULE_NAMES = {
  bodySize: "ingest-body-size",
  ratePerIp: "ingest-rate-per-ip",
  ratePerToken: "ingest-rate-per-token",
  commonRuleSet: "aws-common-rule-set",
} as const;

/**
 * Whether the ingest ALB gets the WAFv2 web ACL: only when it is internet-facing. An internal ALB is reached from
 * the VPC alone, by a front tier that runs its own WAF or by our own services; WAF bills every request it inspects
 * (the largest line of the plan at the design volume), so an ACL there would cost the most and stop nothing.
 */
export function ingestNeedsWebAcl(exposure: "internal" | "internet-facing"): boolean {
  return exposure === "internet-facing";
}

/** The only HTTP method the ALB forwards to the bridge. */
export const INGEST_METHOD = "POST";

// ---- Requests on the wire: what one POST carries, and what batching changes ------------------------------------------

/** `{"records":[]}`: the bridge's produce body around its records. */
export const BRIDGE_BODY_ENVELOPE_BYTES = 14;
/** `{"value":…},` around each heartbeat in that body (no key: the validation step keys by session). */
export const BRIDGE_RECORD_ENVELOPE_BYTES = 12;
/**
 * Request line and headers of a player's POST without a token: path, Host, Content-Type
 * `application/vnd.kafka.json.v2+json`, Content-Length, a browser-sized User-Agent (the common rule set refuses
 * requests without one). An estimate from those header values, not a capture.
 */
export const REQUEST_HEADER_BYTES = 300;
/** `Authorization: Bearer <JWT>`: an RS256 token with a handful of claims is ~800 characters. An estimate. */
export const BEARER_TOKEN_HEADER_BYTES = 850;
/** Status line and headers of the bridge's 200 answer (through the ALB). An estimate. */
export const RESPONSE_HEADER_BYTES = 150;
/** `{"offsets":[]}` plus one `{"partition":N,"offset":N},` per record in the bridge's answer. */
export const RESPONSE_BODY_ENVELOPE_BYTES = 14;
export const RESPONSE_OFFSET_BYTES = 32;
/**
 * The ALB's idle timeout (the AWS default; the program sets no `idle_timeout.timeout_seconds` attribute). A player
 * that POSTs less often than this loses its keep-alive connection between requests and opens a new one each time.
 */
export const ALB_IDLE_TIMEOUT_SEC = 60;
/**
 * How long a player's keep-alive connection lasts before it is replaced anyway (app backgrounded, network change,
 * browser pool recycling, playback ending). An assumption, not a measurement: it sets the ALB's new-connection rate.
 */
export const ASSUMED_CONNECTION_LIFETIME_SEC = 300;
/**
 * Heartbeats per POST the plan shows beside one per POST: six (30 s of viewing). The oldest waits 25 s, well within
 * the 60 s grace period sessionization allows late heartbeats, the request interval stays under the ALB's idle
 * timeout (connections are reused), and the body (~1.6 KiB) stays far below the WAF's 4 KiB limit.
 */
export const PLAN_BATCH_HEARTBEATS = 6;

export interface IngestRequestInputs {
  /** Heartbeats per second arriving at the ALB. */
  readonly heartbeatsPerSec: number;
  /** Heartbeats per POST (1 = today's players). */
  readonly heartbeatsPerRequest: number;
  /** One heartbeat's JSON, bytes (capacity.avgEventBytes). */
  readonly eventBytes: number;
  /** The request carries a bearer token (the ALB validates JWTs). */
  readonly withToken: boolean;
}

export interface IngestRequests {
  readonly heartbeatsPerRequest: number;
  readonly requestsPerSec: number;
  /** The POST body: envelope + records. */
  readonly bodyBytes: number;
  /** Request (line, headers, body) plus response (headers, body): what the ALB processes per request. */
  readonly bytesPerRequest: number;
  /** What the ALB processes per second, both directions. */
  readonly processedBytesPerSec: number;
  /** Players online (one heartbeat every {@link HEARTBEAT_INTERVAL_SEC} s each): one keep-alive connection each. */
  readonly players: number;
  /** Seconds between one player's POSTs. */
  readonly requestIntervalSec: number;
  /** Connections open at once, and opened per second (every request when the interval exceeds the idle timeout). */
  readonly activeConnections: number;
  readonly newConnectionsPerSec: number;
  /** Seconds the oldest heartbeat of a batch waits in the player before it is sent. */
  readonly oldestHeartbeatWaitSec: number;
}

/** Request rate, bytes and connections of the ingest ALB for a heartbeat rate and batch size. Pure arithmetic. */
export function ingestRequests(i: IngestRequestInputs): IngestRequests {
  const n = i.heartbeatsPerRequest;
  if (!(Number.isInteger(n) && n >= 1)) throw new Error(`ingestRequests: heartbeatsPerRequest must be an integer >= 1; got ${String(n)}`);
  const requestsPerSec = i.heartbeatsPerSec / n;
  const bodyBytes = BRIDGE_BODY_ENVELOPE_BYTES + n * (i.eventBytes + BRIDGE_RECORD_ENVELOPE_BYTES);
  const requestBytes = REQUEST_HEADER_BYTES + (i.withToken ? BEARER_TOKEN_HEADER_BYTES : 0) + bodyBytes;
  const responseBytes = RESPONSE_HEADER_BYTES + RESPONSE_BODY_ENVELOPE_BYTES + n * RESPONSE_OFFSET_BYTES;
  const players = i.heartbeatsPerSec * HEARTBEAT_INTERVAL_SEC;
  const requestIntervalSec = n * HEARTBEAT_INTERVAL_SEC;
  const keptAlive = requestIntervalSec < ALB_IDLE_TIMEOUT_SEC;
  return {
    heartbeatsPerRequest: n,
    requestsPerSec,
    bodyBytes,
    bytesPerRequest: requestBytes + responseBytes,
    processedBytesPerSec: requestsPerSec * (requestBytes + responseBytes),
    players,
    requestIntervalSec,
    // Without keep-alive a connection lives for about one request; one second is a generous bound for TLS + POST.
    activeConnections: keptAlive ? players : requestsPerSec,
    newConnectionsPerSec: keptAlive ? players / ASSUMED_CONNECTION_LIFETIME_SEC : requestsPerSec,
    oldestHeartbeatWaitSec: (n - 1) * HEARTBEAT_INTERVAL_SEC,
  };
}

/** The most heartbeats one POST may carry under a body limit (the WAF's maxBodyBytes). */
export function maxHeartbeatsPerRequest(maxBodyBytes: number, eventBytes: number): number {
  return Math.floor((maxBodyBytes - BRIDGE_BODY_ENVELOPE_BYTES) / (eventBytes + BRIDGE_RECORD_ENVELOPE_BYTES));
}
