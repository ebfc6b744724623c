/**
 * The ingest gateway's configs (contract/ingestGateway.ts) as policies: Envoy trusts no subject a client sends, checks
 * issuer, audience and the configured claim, bounds the body and exposes one operation; Camel checks the whole
 * request before writing, keys by the session key, writes with acks=all + idempotence and counts every refusal it
 * documents. test/real/ingestGateway.test.ts runs the same configs on real Envoy, Camel and brokers.
 */
import { describe, expect, it } from "vitest";
import {
  AUTH_SUB_RECORD_HEADER,
  CAMEL_LIVENESS_PATH,
  CAMEL_READINESS_PATH,
  camelIngestProperties,
  camelIngestRoutes,
  DEFAULT_MAX_BODY_BYTES,
  DEFAULT_MAX_HEARTBEATS_PER_REQUEST,
  ENVOY_ROUTE_TIMEOUT_SEC,
  envoyGatewayConfig,
  INGEST_PATH,
  KAFKA_DELIVERY_TIMEOUT_MS,
  KAFKA_JAAS_CONFIG_ENV,
  refusalTable,
  REFUSED_METRIC,
  SUBJECT_HEADER,
  type EnvoyGatewayOptions,
} from "../contract/ingestGateway";
import { DEFAULT_MAX_BODY_BYTES as WAF_MAX_BODY_BYTES, maxHeartbeatsPerRequest } from "../contract/ingest";
import { DEFAULT_HEARTBEAT_LIMITS, HEARTBEATS_HEADER, heartbeatLimitProblems, heartbeatsPerPlayer, QUEUED_HEARTBEATS } from "../contract/ingestLimits";

const base: EnvoyGatewayOptions = {
  listenAddress: "0.0.0.0",
  listenPort: 8080,
  adminAddress: "127.0.0.1",
  adminPort: 9901,
  upstreamPort: 8081,
  issuer: "https://login.example.com/",
  audiences: ["watchpipe-player"],
  jwks: { kind: "remote", url: "https://login.example.com/.well-known/jwks.json" },
};

/** Depth-first search for objects having `key`. */
function find(node: unknown, key: string): Record<string, unknown>[] {
  if (Array.isArray(node)) return node.flatMap((n) => find(n, key));
  if (node === null || typeof node !== "object") return [];
  const obj = node as Record<string, unknown>;
  return [...(key in obj ? [obj] : []), ...Object.values(obj).flatMap((v) => find(v, key))];
}

function httpFilters(cfg: Record<string, unknown>): { name: string; typed_config: Record<string, unknown> }[] {
  return find(cfg, "http_filters")[0]!.http_filters as { name: string; typed_config: Record<string, unknown> }[];
}

describe("heartbeat budgets (contract/ingestLimits.ts)", () => {
  it("derives the defaults from the design: 3 players' rate and an hour's queue per token, 50 players per address", () => {
    expect(heartbeatsPerPlayer(300)).toBe(60);
    expect(QUEUED_HEARTBEATS).toBe(720);
    expect(DEFAULT_HEARTBEAT_LIMITS).toEqual({ windowSec: 300, perToken: { heartbeatsPerWindow: 180, burst: 720 }, perIp: { heartbeatsPerWindow: 3000, burst: 36_000 } });
    expect(heartbeatLimitProblems(DEFAULT_HEARTBEAT_LIMITS, 15, "p")).toEqual([]);
  });

  it("refuses budgets that would refuse an honest player or a full request, naming the key, the expectation and the value", () => {
    const l = { windowSec: 60, perToken: { heartbeatsPerWindow: 11, burst: 10 }, perIp: { heartbeatsPerWindow: 5, burst: 14 } };
    expect(heartbeatLimitProblems(l, 15, "watchpipe:ingest.gateway.limits")).toEqual([
      "watchpipe:ingest.gateway.limits.perToken.heartbeatsPerWindow: one player sends 12 heartbeats per 60 s (one per 5 s), so a lower budget refuses an honest player; expected at least 12; got 11.",
      "watchpipe:ingest.gateway.limits.perToken.burst: the bucket must hold at least one window's heartbeats; expected at least watchpipe:ingest.gateway.limits.perToken.heartbeatsPerWindow (11); got 10.",
      "watchpipe:ingest.gateway.limits.perToken.burst: a full request (ingest.gateway.maxHeartbeatsPerRequest, 15) must fit the bucket or it is refused forever; expected at least 15; got 10.",
      "watchpipe:ingest.gateway.limits.perIp.heartbeatsPerWindow: one player sends 12 heartbeats per 60 s (one per 5 s), so a lower budget refuses an honest player; expected at least 12; got 5.",
      "watchpipe:ingest.gateway.limits.perIp.burst: a full request (ingest.gateway.maxHeartbeatsPerRequest, 15) must fit the bucket or it is refused forever; expected at least 15; got 14.",
      "watchpipe:ingest.gateway.limits.perIp.heartbeatsPerWindow: an address carries at least one player's token; expected at least watchpipe:ingest.gateway.limits.perToken.heartbeatsPerWindow (11); got 5.",
    ]);
  });

  it("counts after the token check and charges the count to a bucket per verified subject and per client address", () => {
    const cfg = envoyGatewayConfig({ ...base, limits: { windowSec: 300, perToken: { heartbeatsPerWindow: 180, burst: 720 }, perIp: { heartbeatsPerWindow: 3000, burst: 36_000 } }, trustedProxyHops: 1 });
    const filters = httpFilters(cfg);
    const lua = filters.find((f) => f.name === "envoy.filters.http.lua")!;
    expect(JSON.stringify(lua.typed_config)).toContain(`replace(\\"${HEARTBEATS_HEADER}\\"`);
    const rl = filters.find((f) => f.name === "envoy.filters.http.local_ratelimit")!.typed_config as {
      descriptors: { entries: { key: string }[]; token_bucket: { max_tokens: number; tokens_per_fill: number; fill_interval: string } }[];
      rate_limits: { actions: Record<string, unknown>[]; hits_addend: { format: string } }[];
    };
    expect(rl.descriptors).toEqual([
      { entries: [{ key: "subject" }], token_bucket: { max_tokens: 720, tokens_per_fill: 180, fill_interval: "300s" } },
      { entries: [{ key: "remote_address" }], token_bucket: { max_tokens: 36_000, tokens_per_fill: 3000, fill_interval: "300s" } },
    ]);
    expect(rl.rate_limits.map((r) => r.hits_addend.format)).toEqual([`%REQ(${HEARTBEATS_HEADER})%`, `%REQ(${HEARTBEATS_HEADER})%`]);
    expect(rl.rate_limits[0]!.actions).toEqual([{ request_headers: { header_name: SUBJECT_HEADER, descriptor_key: "subject" } }]);
    expect(rl.rate_limits[1]!.actions).toEqual([{ remote_address: {} }]);
    const hcm = find(cfg, "xff_num_trusted_hops")[0]!;
    expect({ use: hcm.use_remote_address, hops: hcm.xff_num_trusted_hops }).toEqual({ use: true, hops: 1 });
    expect(find(envoyGatewayConfig(base), "xff_num_trusted_hops")[0]!.xff_num_trusted_hops).toBe(0);
  });
});

describe("Envoy in front of the ingest", () => {
  it("removes any client copy of the subject header before the token is verified, and sets it only from the verified claim", () => {
    const names = httpFilters(envoyGatewayConfig(base)).map((f) => f.name);
    expect(names).toEqual([
      "envoy.filters.http.header_mutation", "envoy.filters.http.buffer", "envoy.filters.http.jwt_authn",
      "envoy.filters.http.lua", "envoy.filters.http.local_ratelimit", "envoy.filters.http.router",
    ]);
    const strip = find(envoyGatewayConfig(base), "request_mutations")[0]!.request_mutations;
    // The issuer header too: with the smoke issuer on, Camel scopes tokens by it (test/smokeIssuer.test.ts).
    expect(strip).toEqual([{ remove: SUBJECT_HEADER }, { remove: "x-watchpipe-iss" }, { remove: HEARTBEATS_HEADER }]);
  });

  it("verifies issuer and audience, does not forward the token, and copies the configured claim (default sub)", () => {
    const provider = find(envoyGatewayConfig(base), "claim_to_headers")[0]!;
    expect(provider).toMatchObject({ issuer: base.issuer, audiences: base.audiences, forward: false, claim_to_headers: [{ header_name: SUBJECT_HEADER, claim_name: "sub" }] });
    const custom = find(envoyGatewayConfig({ ...base, subjectClaim: "player_id" }), "claim_to_headers")[0]!;
    expect(custom.claim_to_headers).toEqual([{ header_name: SUBJECT_HEADER, claim_name: "player_id" }]);
    const rules = find(envoyGatewayConfig(base), "rules").find((r) => Array.isArray(r.rules) && find(r.rules, "requires").length > 0)!;
    expect(rules.rules).toEqual([{ match: { prefix: "/" }, requires: { provider_name: "players" } }]);
  });

  it("fetches a remote JWKS over TLS with the host's name checked, and refuses a plain-HTTP JWKS URL or no audience", () => {
    const jwks = find(envoyGatewayConfig(base), "remote_jwks")[0]!.remote_jwks as { http_uri: { uri: string; cluster: string } };
    expect(jwks.http_uri.uri).toBe("https://login.example.com/.well-known/jwks.json");
    const cluster = find(envoyGatewayConfig(base), "transport_socket").find((c) => c.name === jwks.http_uri.cluster)!;
    expect(find(cluster, "sni")[0]!.sni).toBe("login.example.com");
    expect(JSON.stringify(cluster)).toContain('"exact":"login.example.com"');
    expect(() => envoyGatewayConfig({ ...base, jwks: { kind: "remote", url: "http://login.example.com/jwks" } })).toThrow(/jwks\.url: .*https.*got http:\/\/login/);
    expect(() => envoyGatewayConfig({ ...base, audiences: [] })).toThrow(/audiences: .*got none/);
  });

  it("routes only POST to the ingest path, bounds the body, and sends it to Camel on loopback", () => {
    const cfg = envoyGatewayConfig(base);
    const routes = find(cfg, "routes")[0]!.routes;
    expect(routes).toEqual([{ match: { path: INGEST_PATH, headers: [{ name: ":method", string_match: { exact: "POST" } }] }, route: { cluster: "camel", timeout: `${ENVOY_ROUTE_TIMEOUT_SEC}s` } }]);
    // Envoy never answers 504 for a write Camel is still making (a retry would then write it twice).
    expect(ENVOY_ROUTE_TIMEOUT_SEC * 1000).toBeGreaterThan(KAFKA_DELIVERY_TIMEOUT_MS + 10_000);
    expect(find(cfg, "max_request_bytes")[0]!.max_request_bytes).toBe(DEFAULT_MAX_BODY_BYTES);
    expect(DEFAULT_MAX_BODY_BYTES).toBeGreaterThanOrEqual(2 * WAF_MAX_BODY_BYTES);
    const camel = find(cfg, "load_assignment").find((c) => c.name === "camel")!;
    expect(find(camel, "socket_address")[0]!.socket_address).toEqual({ address: "127.0.0.1", port_value: 8081 });
  });
});

describe("Camel's ingest route", () => {
  const routes = camelIngestRoutes({ maxHeartbeats: 6 });
  const text = JSON.stringify(routes);

  it("sizes the default batch to the WAF body limit", () => {
    expect(DEFAULT_MAX_HEARTBEATS_PER_REQUEST).toBe(maxHeartbeatsPerRequest(WAF_MAX_BODY_BYTES, 250));
  });

  it("checks size and every record's user_id against the verified subject before the split that writes", () => {
    const steps = find(routes, "doTry")[0]!.doTry as { steps: Record<string, unknown>[] };
    const kinds = steps.steps.map((s) => Object.keys(s)[0]);
    const firstSplit = kinds.indexOf("split");
    const writeSplit = kinds.lastIndexOf("split");
    expect(firstSplit).toBeLessThan(writeSplit);
    const check = JSON.stringify(steps.steps[firstSplit]);
    expect(check).toContain(`\${body[value][user_id]} != \${header.${SUBJECT_HEADER}}`);
    expect(check).not.toContain("kafka:");
    expect(JSON.stringify(steps.steps.slice(0, firstSplit))).toContain("${body[records].size()} > 6");
    expect(JSON.stringify(steps.steps[writeSplit])).toContain("kafka:heartbeats_raw");
  });

  it("writes each record keyed user_id|video_id, with the subject header, acks=all and idempotence", () => {
    const kafka = find(routes, "to").map((t) => t.to as { uri: string; parameters?: Record<string, unknown> }).find((t) => t.uri.startsWith("kafka:"))!;
    expect(kafka).toEqual({ uri: "kafka:heartbeats_raw", parameters: { requestRequiredAcks: "all", enableIdempotence: true, recordMetadata: true } });
    expect(text).toContain('"name":"kafka.KEY","simple":"${body[value][user_id]}|${body[value][video_id]}"');
    expect(text).toContain(`"name":"${AUTH_SUB_RECORD_HEADER}"`);
  });

  it("counts every refusal reason it documents under one metric", () => {
    // With the deploy smoke issuer on (its reason exists only then).
    const counted = find(camelIngestRoutes({ maxHeartbeats: 6, smokeScope: { playersIssuer: "https://login.example.com/" } }), "to").map((t) => t.to as { uri: string; parameters?: Record<string, string> })
      .filter((t) => t.uri === `micrometer:counter:${REFUSED_METRIC}`).map((t) => t.parameters?.["tags.reason"]);
    const documented = refusalTable(6).map((r) => /reason="(\w+)"/.exec(r.metric)?.[1]).filter((r): r is string => r !== undefined);
    expect(new Set(counted)).toEqual(new Set(documented));
  });

  it("listens on loopback only (Envoy is the one way in) and serves metrics apart", () => {
    const p = camelIngestProperties({ routesFile: "/etc/ingest/routes.yaml", bootstrapServers: "b:9092", httpPort: 8081, managementPort: 9876 });
    expect(p).toMatchObject({ "camel.server.host": "127.0.0.1", "camel.server.port": "8081", "camel.management.port": "9876", "camel.management.metricsEnabled": "true" });
  });

  it("is ready only while its Kafka producer can reach a broker (producer health check on); liveness stays apart", () => {
    const p = camelIngestProperties({ routesFile: "/etc/ingest/routes.yaml", bootstrapServers: "b:9092", httpPort: 8081, managementPort: 9876 });
    expect(p).toMatchObject({ "camel.management.healthCheckEnabled": "true", "camel.health.producersEnabled": "true" });
    // Two distinct probes, neither the aggregate /observe/health (which would tie liveness to Kafka).
    expect(new Set([CAMEL_READINESS_PATH, CAMEL_LIVENESS_PATH, "/observe/health"]).size).toBe(3);
    expect(CAMEL_READINESS_PATH).toMatch(/^\/observe\/health\/ready$/);
  });

  it("reaches the brokers over TLS + SCRAM-SHA-512 with the cluster CA and host-name checks, the JAAS line only from the environment", () => {
    const base = { routesFile: "/etc/ingest/routes.yaml", bootstrapServers: "b:9093", httpPort: 8081, managementPort: 9876 };
    const secure = camelIngestProperties({ ...base, kafkaSecurity: { caFile: "/etc/ca/ca.crt", jaasConfigEnv: KAFKA_JAAS_CONFIG_ENV } });
    // Exactly what test/real/ingestGatewayTls.test.ts ran against a SASL_SSL broker (Camel 4.18, kafka-clients 3.9.1).
    expect(Object.fromEntries(Object.entries(secure).filter(([k]) => /^camel\.component\.kafka\.(security|sasl|ssl)/.test(k)))).toEqual({
      "camel.component.kafka.securityProtocol": "SASL_SSL",
      "camel.component.kafka.saslMechanism": "SCRAM-SHA-512",
      "camel.component.kafka.saslJaasConfig": "{{env:KAFKA_SASL_JAAS_CONFIG}}",
      "camel.component.kafka.sslTruststoreType": "PEM",
      "camel.component.kafka.sslTruststoreLocation": "/etc/ca/ca.crt",
      "camel.component.kafka.sslEndpointAlgorithm": "https",
    });
    expect(Object.values(secure).join("\n")).not.toMatch(/password=/);
    const plain = camelIngestProperties(base);
    expect(Object.keys(plain).filter((k) => /^camel\.component\.kafka\.(security|sasl|ssl)/.test(k))).toEqual([]);
  });
});

describe("refusal table", () => {
  it("names a 4xx for every client mistake and a 503 only for Kafka", () => {
    const rows = refusalTable(15);
    expect(rows.filter((r) => r.status >= 500).map((r) => r.case)).toEqual(["Kafka unavailable"]);
    expect(rows.find((r) => r.case === "heartbeat of another user")).toMatchObject({ status: 403 });
    expect(rows.find((r) => r.case === "oversize batch")?.reason).toBe("records: at most 15 heartbeats per request, got n");
  });
});
