/**
 * Pure checks of the public ingest path, shared by the CrossGuard pack (policy/policies.ts) and the tests:
 *
 * - an internet-facing ALB Ingress validates JWTs (https JWKS URL, issuer, an audience claim), forwards nothing over
 *   plain HTTP (JWT validation runs on HTTPS listeners only), and names a regional WAFv2 web ACL;
 * - every WAFv2 web ACL blocks oversize bodies, rate-limits per client IP and runs the AWS common rule set.
 *
 * Preview trap (GUIDE.md): reading a value that is unknown during preview makes CrossGuard downgrade the whole policy
 * to advisory. A fresh web ACL's ARN is unknown until it exists, so these checks never touch an unknown value
 * unguarded: {@link readKnown} says "unknown" instead, and the stack-level check then demands that the annotation is
 * computed from a web ACL of this stack (fail closed, never skipped).
 */
import {
  ALB_JWT_VALIDATION,
  ALB_LISTEN_PORTS,
  ALB_SCHEME,
  ALB_SSL_REDIRECT,
  ALB_WAFV2_ACL_ARN,
  AWS_COMMON_RULE_SET,
  WAF_ALB_BODY_INSPECTION_BYTES,
} from "./ingest";
import { isObject, type Props } from "./resourceChecks";
import { PLAYERS_PROVIDER, SMOKE_REFUSAL_REASON, smokeSubjectCondition } from "./smokeIssuer";

export const INGRESS_TYPE = "kubernetes:networking.k8s.io/v1:Ingress";
export const WEB_ACL_TYPE = "aws:wafv2/webAcl:WebAcl";
const REGIONAL_WEB_ACL_ARN = /^arn:aws[a-z-]*:wafv2:[a-z0-9-]+:[0-9]{12}:regional\/webacl\/[^/\s]+\/[^/\s]+$/;

export type Known = { readonly known: true; readonly value: unknown } | { readonly known: false };

/**
 * `obj[key]`, or `{known: false}` when reading it throws: CrossGuard's preview proxy throws on values that are not
 * known yet, and a plain object never throws on a read.
 */
export function readKnown(obj: unknown, key: string): Known {
  if (!isObject(obj)) return { known: true, value: undefined };
  try {
    return { known: true, value: obj[key] };
  } catch {
    return { known: false };
  }
}

const show = (value: unknown) => (value === undefined ? "nothing" : JSON.stringify(value));

function parseJson(text: unknown): unknown {
  if (typeof text !== "string") return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** The Ingress's annotations, or why they cannot be read. */
function annotationsOf(props: Props): { annotations: Props } | { problem: string } {
  const meta = readKnown(props, "metadata");
  const annotations = meta.known ? readKnown(meta.value, "annotations") : meta;
  if (!annotations.known) return { problem: "metadata.annotations are unknown during preview, so exposure, token validation and WAF cannot be verified; keep them known (fail closed)" };
  return { annotations: isObject(annotations.value) ? annotations.value : {} };
}

/** Is this an ALB Ingress (class `alb`)? */
export function isAlbIngress(type: string, props: Props): boolean {
  if (type !== INGRESS_TYPE) return false;
  const spec = readKnown(props, "spec");
  const cls = spec.known ? readKnown(spec.value, "ingressClassName") : spec;
  return !cls.known || cls.value === "alb";
}

/** "internet-facing", "internal", or "unknown" when preview cannot tell. */
export function albScheme(props: Props): string {
  const a = annotationsOf(props);
  if ("problem" in a) return "unknown";
  const scheme = readKnown(a.annotations, ALB_SCHEME);
  if (!scheme.known) return "unknown";
  // The controller's default scheme is internal.
  return typeof scheme.value === "string" ? scheme.value : "internal";
}

/** Problems of the `jwt-validation` annotation's JSON: https JWKS URL, issuer, and an `aud` claim. */
export function jwtAnnotationProblems(value: unknown): string[] {
  if (value === undefined) return [`${ALB_JWT_VALIDATION} is not set; expected {"jwksEndpoint","issuer","additionalClaims":[{"name":"aud",...}]} so only player tokens get through`];
  const jwt = parseJson(value);
  if (!isObject(jwt)) return [`${ALB_JWT_VALIDATION}: expected a JSON object; got ${show(value)}`];
  const problems: string[] = [];
  if (typeof jwt.jwksEndpoint !== "string" || !/^https:\/\/\S+$/.test(jwt.jwksEndpoint)) {
    problems.push(`${ALB_JWT_VALIDATION}: jwksEndpoint: expected an https:// URL; got ${show(jwt.jwksEndpoint)}`);
  }
  if (typeof jwt.issuer !== "string" || jwt.issuer.length === 0) {
    problems.push(`${ALB_JWT_VALIDATION}: issuer: expected the identity provider's issuer; got ${show(jwt.issuer)}`);
  }
  const claims = Array.isArray(jwt.additionalClaims) ? jwt.additionalClaims : [];
  const aud = claims.find((c) => isObject(c) && c.name === "aud");
  if (!isObject(aud) || !Array.isArray(aud.values) || aud.values.length === 0) {
    problems.push(`${ALB_JWT_VALIDATION}: additionalClaims: expected an "aud" claim with the player app's audience (otherwise any token of the issuer passes, e.g. one minted for another app); got ${show(jwt.additionalClaims)}`);
  }
  return problems;
}

/** Every listener is HTTPS, or HTTP only where ssl-redirect turns it into a redirect (no rule forwards on HTTP). */
export function listenerProblems(ports: unknown, sslRedirect: unknown): string[] {
  const parsed = parseJson(ports);
  if (!Array.isArray(parsed) || parsed.length === 0) return [`${ALB_LISTEN_PORTS}: expected a JSON list like [{"HTTPS":443}]; got ${show(ports)}`];
  const plain = parsed.filter((p) => isObject(p) && "HTTP" in p);
  if (plain.length && !sslRedirect) {
    return [`${ALB_LISTEN_PORTS}: ${show(ports)} forwards plain HTTP, where the ALB does not validate tokens; expected HTTPS only (or ${ALB_SSL_REDIRECT})`];
  }
  return [];
}

/** Problems of the web ACL annotation's value (known values only). */
export function wafAnnotationProblems(value: unknown): string[] {
  if (value === undefined) return [`${ALB_WAFV2_ACL_ARN} is not set; expected the ARN of the ingest's regional WAFv2 web ACL (rate limits, body size, common rule set)`];
  if (typeof value !== "string" || !REGIONAL_WEB_ACL_ARN.test(value)) {
    return [`${ALB_WAFV2_ACL_ARN}: expected a regional WAFv2 web ACL ARN (arn:aws:wafv2:<region>:<account>:regional/webacl/<name>/<id>); got ${show(value)}`];
  }
  return [];
}

/**
 * An ALB Ingress's problems: internet-facing needs token validation, HTTPS-only forwarding and a web ACL. An
 * unknown web ACL ARN is not a problem here; {@link ingressWafSourceProblems} covers it from the stack's graph.
 */
export function albIngressProblems(type: string, props: Props): string[] {
  if (!isAlbIngress(type, props)) return [];
  const a = annotationsOf(props);
  if ("problem" in a) return [a.problem];
  const scheme = albScheme(props);
  if (scheme === "unknown") return [`${ALB_SCHEME} is unknown during preview; keep it known so token validation and WAF can be enforced (fail closed)`];
  if (scheme !== "internet-facing") return [];
  const problems: string[] = [];
  const read = (key: string): Known => readKnown(a.annotations, key);
  const jwt = read(ALB_JWT_VALIDATION);
  problems.push(...(jwt.known ? jwtAnnotationProblems(jwt.value) : [`${ALB_JWT_VALIDATION} is unknown during preview; keep it known (fail closed)`]));
  const ports = read(ALB_LISTEN_PORTS);
  const redirect = read(ALB_SSL_REDIRECT);
  problems.push(...(ports.known && redirect.known ? listenerProblems(ports.value, redirect.value) : [`${ALB_LISTEN_PORTS} is unknown during preview; keep it known (fail closed)`]));
  if (!(ALB_WAFV2_ACL_ARN in a.annotations)) {
    problems.push(...wafAnnotationProblems(undefined));
  } else {
    const waf = read(ALB_WAFV2_ACL_ARN);
    if (waf.known) problems.push(...wafAnnotationProblems(waf.value));
  }
  return problems.map((p) => `internet-facing: ${p}`);
}

/** A stack resource as the stack-level check reads it. */
export interface GraphResource {
  readonly type: string;
  readonly urn: string;
  readonly name: string;
  readonly props: Props;
  /** URNs (the harness) or resources (the engine) each input property was computed from. */
  readonly metadataSources: readonly { readonly type: string; readonly urn: string }[];
}

/**
 * Stack-level fail-closed check: an internet-facing ALB Ingress whose web ACL ARN is not known yet (preview of a new
 * ACL) must compute its metadata from a WAFv2 web ACL of this stack, whose rules the resource policy checks.
 */
export function ingressWafSourceProblems(r: GraphResource): string[] {
  if (!isAlbIngress(r.type, r.props) || albScheme(r.props) !== "internet-facing") return [];
  const a = annotationsOf(r.props);
  if ("problem" in a || !(ALB_WAFV2_ACL_ARN in a.annotations)) return [];
  if (readKnown(a.annotations, ALB_WAFV2_ACL_ARN).known) return [];
  if (r.metadataSources.some((s) => s.type === WEB_ACL_TYPE)) return [];
  return [`internet-facing: ${ALB_WAFV2_ACL_ARN} is unknown during preview and does not come from a WAFv2 web ACL of this stack, so its rules cannot be checked; create the ACL in the program (components/aws/ingestFirewall.ts)`];
}

function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

function blocks(rule: Props): boolean {
  return isObject(rule.action) && isObject(rule.action.block);
}

/**
 * A WAFv2 web ACL's problems: regional scope, and blocking rules for body size (<= what WAF inspects behind an ALB,
 * oversize bodies matched), per-IP rate, and the AWS common rule set not overridden to count.
 */
export function webAclProblems(type: string, props: Props): string[] {
  if (type !== WEB_ACL_TYPE) return [];
  const problems: string[] = [];
  if (props.scope !== "REGIONAL") problems.push(`scope: expected REGIONAL (ALBs take regional web ACLs only); got ${show(props.scope)}`);
  const rules = list(props.rules).filter(isObject);
  const statementOf = (r: Props): Props => (isObject(r.statement) ? r.statement : {});

  const size = rules.find((r) => isObject(statementOf(r).sizeConstraintStatement));
  const sizeStmt = size ? (statementOf(size).sizeConstraintStatement as Props) : undefined;
  const body = sizeStmt && isObject(sizeStmt.fieldToMatch) && isObject(sizeStmt.fieldToMatch.body) ? sizeStmt.fieldToMatch.body : undefined;
  if (!size || !sizeStmt || !body) {
    problems.push("rules: expected a size-constraint rule on the request body; got none (an unbounded body reaches the bridge)");
  } else {
    if (!blocks(size)) problems.push(`rule ${show(size.name)}: expected action block; got ${show(size.action)}`);
    if (sizeStmt.comparisonOperator !== "GT") problems.push(`rule ${show(size.name)}: expected comparisonOperator GT; got ${show(sizeStmt.comparisonOperator)}`);
    if (typeof sizeStmt.size !== "number" || sizeStmt.size > WAF_ALB_BODY_INSPECTION_BYTES) {
      problems.push(`rule ${show(size.name)}: size: expected at most ${WAF_ALB_BODY_INSPECTION_BYTES} bytes (what WAF inspects behind an ALB); got ${show(sizeStmt.size)}`);
    }
    if (body.oversizeHandling !== "MATCH") {
      problems.push(`rule ${show(size.name)}: body.oversizeHandling: expected MATCH so bodies beyond WAF's inspection limit are blocked, not let through; got ${show(body.oversizeHandling)}`);
    }
  }

  const rate = rules.find((r) => {
    const s = statementOf(r).rateBasedStatement;
    return isObject(s) && s.aggregateKeyType === "IP";
  });
  if (!rate) problems.push("rules: expected a rate-based rule per client IP (aggregateKeyType IP); got none");
  else if (!blocks(rate)) problems.push(`rule ${show(rate.name)}: expected action block; got ${show(rate.action)}`);

  const common = rules.find((r) => {
    const s = statementOf(r).managedRuleGroupStatement;
    return isObject(s) && s.vendorName === AWS_COMMON_RULE_SET.vendorName && s.name === AWS_COMMON_RULE_SET.name;
  });
  if (!common) problems.push(`rules: expected the managed rule group ${AWS_COMMON_RULE_SET.vendorName}/${AWS_COMMON_RULE_SET.name}; got none`);
  else if (!isObject(common.overrideAction) || !isObject(common.overrideAction.none)) {
    problems.push(`rule ${show(common.name)}: overrideAction: expected {none: {}} so the group blocks; got ${show(common.overrideAction)} (count only monitors)`);
  }
  return problems;
}

// ---- The ingest gateway (issue 24): what makes a heartbeat's user the token's user -------------------------------

export const CONFIG_MAP_TYPE = "kubernetes:core/v1:ConfigMap";
/** Label value the gateway's objects carry (components/kafka/ingestGatewaySpecs.ts GATEWAY_APP). */
export const GATEWAY_APP_LABEL = "ingest-gateway";

/** A ConfigMap of the ingest gateway (by its app label). */
export function isGatewayConfigMap(type: string, props: Props): boolean {
  if (type !== CONFIG_MAP_TYPE) return false;
  const labels = isObject(props.metadata) && isObject(props.metadata.labels) ? props.metadata.labels : {};
  return labels["app.kubernetes.io/name"] === GATEWAY_APP_LABEL;
}

/** The Strimzi Kafka Bridge custom resource's type token. */
export const KAFKA_BRIDGE_TYPE = "kubernetes:kafka.strimzi.io/v1:KafkaBridge";

/**
 * One write path for players: where the ingest gateway is deployed (a ConfigMap of it in the stack), a Kafka Bridge
 * beside it would be a second HTTP path into heartbeats_raw that binds no identity. One problem per such Bridge.
 */
export function bridgeBesideGatewayProblems(resources: readonly { readonly type: string; readonly name: string; readonly props: Props }[]): { readonly name: string; readonly problem: string }[] {
  if (!resources.some((r) => isGatewayConfigMap(r.type, r.props))) return [];
  return resources
    .filter((r) => r.type === KAFKA_BRIDGE_TYPE)
    .map((r) => ({
      name: r.name,
      problem: "a Kafka Bridge is deployed beside the ingest gateway: a second way into heartbeats_raw that binds no token's subject; players post through the gateway and the session ticker produces as its own KafkaUser, so remove the Bridge (kafkaPlatform creates none with ingest.gateway)",
    }));
}

const filterNames = (envoy: unknown): string[] => {
  const text = JSON.stringify(envoy);
  return [...text.matchAll(/"name":"(envoy\.filters\.http\.[a-z_]+)"/g)].map((m) => m[1] ?? "");
};

/** The gateway ConfigMap's files: Envoy's bootstrap parsed (it is JSON), the others as text (empty when absent). */
type GatewayFiles = { readonly envoy: unknown; readonly text: (key: string) => string } | { readonly problem: string };

function gatewayFiles(props: Props): GatewayFiles {
  const data = isObject(props.data) ? props.data : {};
  const text = (key: string): string => (typeof data[key] === "string" ? data[key] : "");
  try {
    return { envoy: JSON.parse(text("envoy.yaml")) as unknown, text };
  } catch {
    return { problem: "data[envoy.yaml]: expected Envoy's bootstrap as JSON (contract/ingestGateway.ts envoyGatewayConfig); got something else" };
  }
}

/**
 * The gateway's ConfigMap binds identity: Envoy strips any client copy of the subject header, then verifies every
 * request's token and copies the subject claim into that header, and routes to Camel last; Camel's HTTP server
 * listens on loopback only (so Envoy is the one way in); the route compares each heartbeat's user_id with that header
 * before anything is produced, and produces with acks=all + idempotence over SASL_SSL.
 */
export function gatewayConfigProblems(props: Props, subjectHeader: string): string[] {
  const files = gatewayFiles(props);
  if ("problem" in files) return [files.problem];
  const { envoy, text } = files;
  const problems: string[] = [];
  const filters = filterNames(envoy);
  const order = ["envoy.filters.http.header_mutation", "envoy.filters.http.jwt_authn", "envoy.filters.http.router"];
  const positions = order.map((f) => filters.indexOf(f));
  if (positions.some((p) => p < 0) || !(positions[0]! < positions[1]! && positions[1]! < positions[2]!) || filters[filters.length - 1] !== order[2]) {
    problems.push(`data[envoy.yaml]: http filters: expected header_mutation, then jwt_authn, with the router last; got ${filters.join(", ") || "none"}`);
  }
  const envoyText = JSON.stringify(envoy);
  if (!envoyText.includes(`"remove":"${subjectHeader}"`)) problems.push(`data[envoy.yaml]: expected the header_mutation filter to remove a client's ${subjectHeader}; it does not`);
  const jwt = jwtAuthnOf(envoy);
  const providers = Object.entries(jwt.providers);
  const withoutSubject = providers.filter(([, p]) => !claimHeaders(p).some((c) => c.header === subjectHeader));
  if (providers.length === 0 || withoutSubject.length > 0) {
    problems.push(`data[envoy.yaml]: expected jwt_authn to copy the subject claim into ${subjectHeader} for every provider; it does not for ${withoutSubject.map(([n]) => n).join(", ") || "(no providers)"}`);
  }
  // One rule on every path, requiring one provider or any of several (the players' and the deploy smoke issuer).
  const one = /^\{"provider_name":"[^"]+"\}$/;
  const any = /^\{"requires_any":\{"requirements":\[\{"provider_name":"[^"]+"\}(,\{"provider_name":"[^"]+"\})*\]\}\}$/;
  const rule = jwt.rules.length === 1 && isObject(jwt.rules[0]) ? jwt.rules[0] : undefined;
  const requires = rule ? JSON.stringify(rule.requires) : "";
  if (!rule || JSON.stringify(rule.match) !== '{"prefix":"/"}' || !(one.test(requires) || any.test(requires))) {
    problems.push(`data[envoy.yaml]: expected jwt_authn to require a verified token on every path (one rule, prefix "/"); got another rule set`);
  }
  const properties = text("application.properties");
  if (!/^camel\.server\.host=127\.0\.0\.1$/m.test(properties)) problems.push("data[application.properties]: camel.server.host: expected 127.0.0.1 (Camel reached through Envoy only); got another or none");
  if (!/^camel\.component\.kafka\.securityProtocol=SASL_SSL$/m.test(properties)) problems.push("data[application.properties]: camel.component.kafka.securityProtocol: expected SASL_SSL; got another or none");
  const routes = text("routes.yaml");
  if (!routes.includes(`\${body[value][user_id]} != \${header.${subjectHeader}}`)) problems.push(`data[routes.yaml]: expected every heartbeat's user_id compared with ${subjectHeader} before producing; no such check`);
  if (!/"requestRequiredAcks":\s*"all"/.test(routes) || !/"enableIdempotence":\s*true/.test(routes)) problems.push('data[routes.yaml]: the Kafka endpoint: expected requestRequiredAcks "all" and enableIdempotence true');
  return problems;
}

/** jwt_authn's providers and rules in Envoy's bootstrap (empty when there is no such filter). */
function jwtAuthnOf(envoy: unknown): { providers: Record<string, Props>; rules: unknown[] } {
  let found: Props | undefined;
  const walk = (v: unknown): void => {
    if (found) return;
    if (Array.isArray(v)) v.forEach(walk);
    else if (isObject(v)) {
      if (v.name === "envoy.filters.http.jwt_authn" && isObject(v.typed_config)) found = v.typed_config;
      else Object.values(v).forEach(walk);
    }
  };
  walk(envoy);
  const providers = found && isObject(found.providers) ? found.providers : {};
  return {
    providers: Object.fromEntries(Object.entries(providers).filter((e): e is [string, Props] => isObject(e[1]))),
    rules: found && Array.isArray(found.rules) ? found.rules : [],
  };
}

/** A provider's claim_to_headers as {header, claim} pairs. */
function claimHeaders(provider: Props): { header: unknown; claim: unknown }[] {
  return list(provider.claim_to_headers).filter(isObject).map((c) => ({ header: c.header_name, claim: c.claim_name }));
}

/**
 * The deploy smoke issuer stays scoped (contract/smokeIssuer.ts): when jwt_authn trusts any provider beside the
 * players' one, Envoy strips a client's issuer header, every provider copies its verified `iss` into it, and Camel's
 * route refuses ({@link SMOKE_REFUSAL_REASON}) a request whose issuer is not the players' (or is missing) and whose
 * subject lacks the smoke prefix. Fail closed: a second provider without all three is a violation, whatever its name.
 */
export function gatewaySmokeIssuerProblems(props: Props, subjectHeader: string, issuerHeader: string): string[] {
  const files = gatewayFiles(props);
  if ("problem" in files) return [files.problem];
  const { providers } = jwtAuthnOf(files.envoy);
  const others = Object.keys(providers).filter((n) => n !== PLAYERS_PROVIDER);
  if (others.length === 0) return [];
  const problems: string[] = [];
  const players = providers[PLAYERS_PROVIDER];
  if (!players || typeof players.issuer !== "string") {
    return [`data[envoy.yaml]: jwt_authn trusts ${others.join(", ")} but has no "${PLAYERS_PROVIDER}" provider with an issuer, so Camel cannot tell players' tokens from the others; expected the players' provider named ${PLAYERS_PROVIDER}`];
  }
  if (!JSON.stringify(files.envoy).includes(`"remove":"${issuerHeader}"`)) problems.push(`data[envoy.yaml]: expected the header_mutation filter to remove a client's ${issuerHeader}; it does not`);
  for (const [name, p] of Object.entries(providers)) {
    if (!claimHeaders(p).some((c) => c.header === issuerHeader && c.claim === "iss")) {
      problems.push(`data[envoy.yaml]: jwt_authn provider ${name}: expected claim_to_headers to copy the verified iss into ${issuerHeader} (Camel scopes tokens by it); it does not`);
    }
  }
  const routes = files.text("routes.yaml");
  let condition: string;
  try {
    condition = smokeSubjectCondition(players.issuer, subjectHeader);
  } catch (err) {
    return [...problems, `data[envoy.yaml]: ${(err as Error).message}`];
  }
  if (!routes.includes(JSON.stringify(condition)) || !new RegExp(`"tags\\.reason":\\s*"${SMOKE_REFUSAL_REASON}"`).test(routes)) {
    problems.push(`data[routes.yaml]: jwt_authn trusts ${others.join(", ")} beside ${PLAYERS_PROVIDER}; expected the route to refuse (${SMOKE_REFUSAL_REASON}) any request whose ${issuerHeader} is not ${players.issuer} unless its subject has the smoke prefix; no such check`);
  }
  return problems;
}

/**
 * The gateway's ConfigMap counts heartbeats, not requests (contract/ingestLimits.ts): Envoy drops a client's count
 * header, counts the body's heartbeats after the token check (Lua) and charges them, with hits_addend from that
 * header, to a bucket per verified subject and one per client address (local_ratelimit), before the router; Camel
 * refuses a request with more records than were counted.
 */
export function gatewayLimitProblems(props: Props, subjectHeader: string, heartbeatsHeader: string): string[] {
  const files = gatewayFiles(props);
  if ("problem" in files) return [files.problem];
  const { envoy, text } = files;
  const problems: string[] = [];
  const filters = filterNames(envoy);
  const at = (f: string) => filters.indexOf(`envoy.filters.http.${f}`);
  if (!(at("jwt_authn") >= 0 && at("jwt_authn") < at("lua") && at("lua") < at("local_ratelimit") && at("local_ratelimit") < at("router"))) {
    problems.push(`data[envoy.yaml]: http filters: expected jwt_authn, then lua (counts heartbeats), then local_ratelimit (charges them), before the router; got ${filters.join(", ") || "none"}`);
  }
  const compact = JSON.stringify(envoy);
  if (!compact.includes(`"remove":"${heartbeatsHeader}"`)) problems.push(`data[envoy.yaml]: expected the header_mutation filter to remove a client's ${heartbeatsHeader}; it does not`);
  const charge = `"hits_addend":{"format":"%REQ(${heartbeatsHeader})%"}`;
  const bySubject = `{"actions":[{"request_headers":{"header_name":"${subjectHeader}","descriptor_key":"subject"}}],${charge}}`;
  const byAddress = `{"actions":[{"remote_address":{}}],${charge}}`;
  if (!compact.includes(bySubject)) problems.push(`data[envoy.yaml]: local_ratelimit: expected a budget per ${subjectHeader} charged ${heartbeatsHeader} heartbeats per request; none`);
  if (!compact.includes(byAddress)) problems.push(`data[envoy.yaml]: local_ratelimit: expected a budget per client address charged ${heartbeatsHeader} heartbeats per request; none`);
  const routes = text("routes.yaml");
  if (!routes.includes(`\${body[records].size()} > \${headerAs(${heartbeatsHeader}, Integer)}`)) {
    problems.push(`data[routes.yaml]: expected the route to refuse more records than ${heartbeatsHeader} counted; no such check`);
  }
  return problems;
}
