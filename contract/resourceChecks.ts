/**
 * Pure checks behind the CrossGuard policies. Each takes plain resource properties (what `pulumi preview` sends the
 * pack, and what the mock harness records) and returns problem messages; an empty list means compliant. They know
 * nothing about @pulumi/policy, so tests, the render tool and the pack itself share them.
 *
 * The thresholds are not restated here: they come from contract/durability.ts, the one source of truth the
 * program and the unit tests use.
 */
import { MIN_INSYNC_REPLICAS, REPLICATION_FACTOR, SASL_MECHANISM } from "./durability";
import { imagePinProblem } from "./kafkaPolicies";

export type Props = Record<string, unknown>;

export function isObject(value: unknown): value is Props {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function obj(value: unknown): Props {
  return isObject(value) ? value : {};
}

function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

/** Numbers arrive as numbers from typed inputs and as strings from env vars and properties files. */
function asNumber(value: unknown): number | undefined {
  if (typeof value === "number") return value;
  if (typeof value === "string" && /^-?\d+$/.test(value.trim())) return Number(value.trim());
  return undefined;
}

function asBool(value: unknown): boolean | undefined {
  if (typeof value === "boolean") return value;
  if (typeof value === "string" && /^(true|false)$/i.test(value.trim())) return value.trim().toLowerCase() === "true";
  return undefined;
}

const show = (value: unknown) => (value === undefined ? "nothing" : JSON.stringify(value));

// ---- Kubernetes type tokens ---------------------------------------------------------------------------------------

/** `kubernetes:apps/v1:Deployment` → { group: "apps", version: "v1", kind: "Deployment" }; core group is "core". */
export interface K8sType {
  readonly group: string;
  readonly version: string;
  readonly kind: string;
}

export function k8sType(type: string): K8sType | undefined {
  const m = /^kubernetes:(?:(.+)\/)?([^/:]+):([A-Za-z0-9]+)$/.exec(type);
  if (!m) return undefined;
  return { group: m[1] ?? "core", version: m[2], kind: m[3] };
}

/** Strimzi's API group: every Kafka custom resource. */
export const STRIMZI_GROUP = "kafka.strimzi.io";
/** Pulumi's type token for a Helm release (values are in `values`; chart templates are expanded by the provider). */
export const HELM_RELEASE_TYPE = "kubernetes:helm.sh/v3:Release";
/** What a Release without `timeout` waits for its resources (@pulumi/kubernetes): one slow image pull exceeds it. */
export const PROVIDER_RELEASE_TIMEOUT_SEC = 300;

/**
 * A Helm release that waits must say how long: without `timeout` it gets the provider's 300 s, which a cold node or a
 * slow registry exceeds ("context deadline exceeded" on a real cluster, and every dependant skipped).
 */
export function releaseWaitProblems(props: Props): string[] {
  if (props.skipAwait === true) return [];
  const timeout = props.timeout;
  if (typeof timeout === "number" && Number.isInteger(timeout) && timeout > 0) return [];
  return [
    `waits for its resources with no timeout of its own (got ${JSON.stringify(timeout)}): Helm then gives up after the provider's ${PROVIDER_RELEASE_TIMEOUT_SEC} s. Set timeout (seconds) sized from what the release starts, or skipAwait (watchpipe:deploy.waitForReady false).`,
  ];
}

/** Kinds that are objects the API server keeps as-is but a cluster operator treats as workloads. */
const WORKLOAD_KINDS = new Set(["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob", "Pod"]);

/** Every pod spec inside a workload object (CronJob → job template → pod template). */
export function podSpecs(kind: string, props: Props): Props[] {
  if (!WORKLOAD_KINDS.has(kind)) return [];
  const spec = obj(props.spec);
  if (kind === "Pod") return [spec];
  if (kind === "CronJob") return [obj(obj(obj(obj(spec.jobTemplate).spec).template).spec)];
  return [obj(obj(spec.template).spec)];
}

export interface Container {
  readonly name: string;
  readonly image: unknown;
  readonly env: Props[];
}

export function containersOf(podSpec: Props): Container[] {
  return [...list(podSpec.initContainers), ...list(podSpec.containers)].filter(isObject).map((c) => ({
    name: String(c.name ?? "(unnamed)"),
    image: c.image,
    env: list(c.env).filter(isObject),
  }));
}

// ---- images ------------------------------------------------------------------------------------------------------

/**
 * Image references anywhere in a custom resource spec or Helm values: string values under a key named `image`
 * (any case), and `{repository, tag}` objects the way charts spell them. The pin rule itself is D's
 * `imagePinProblem` (contract/kafkaPolicies.ts), the one the unit tests use. `skipTopLevelImage` leaves out a
 * top-level `image` string that another check already covers (Strimzi `spec.image`).
 */
export function nestedImageProblems(value: unknown, path = "", skipTopLevelImage = false): string[] {
  if (Array.isArray(value)) return value.flatMap((v, i) => nestedImageProblems(v, `${path}[${i}]`));
  if (!isObject(value)) return [];
  const problems: string[] = [];
  if (typeof value.repository === "string" && "tag" in value && /image/i.test(path.split(".").pop() ?? "")) {
    const tag = typeof value.tag === "string" || typeof value.tag === "number" ? String(value.tag).trim() : "";
    const problem = imagePinProblem(tag ? `${value.repository}:${tag}` : value.repository, path);
    if (problem) problems.push(problem);
  }
  for (const [key, v] of Object.entries(value)) {
    const at = path ? `${path}.${key}` : key;
    if (key.toLowerCase() === "image" && typeof v === "string") {
      if (skipTopLevelImage) continue;
      const problem = imagePinProblem(v, at);
      if (problem) problems.push(problem);
    } else {
      problems.push(...nestedImageProblems(v, at));
    }
  }
  return problems;
}

// ---- plaintext secrets -------------------------------------------------------------------------------------------

/** Names that hold credentials. */
const SECRET_NAME = /(password|passwd|secret|token|api[-_.]?key|private[-_.]?key|credential|jaas[-_.]?config)/i;
/**
 * Names that merely point at a credential or configure how to fetch one: a Secret's name, a file path, a key inside
 * a Secret, a switch, a class (Kafka `config.providers.secrets.class` names the provider that reads Secrets).
 */
const REFERENCE_NAME = /(secret[-_.]?name|secret[-_.]?ref|secretkeyref|existing[-_.]?secret|^config\.providers\.|_name$|[-_.]file$|[-_.]path$|[-_.]location$|[-_.]dir$|[-_.]type$|[-_.]mechanism$|[-_.]enabled?$|[-_.]key$|[-_.]class$)/i;
/** Values that refer to a secret instead of holding it: Kubernetes `$(VAR)` expansion, config providers `${...}`. */
const REFERENCE_VALUE = /^(\$\([A-Za-z_][A-Za-z0-9_]*\)|\$\{[^}]+\})$/;
/** A literal password inside a value: JAAS `password="x"` or a properties line `...password=x`. */
const INLINE_PASSWORD = /password\s*=\s*"?([^"\s;]+)"?/i;

export function isSecretName(name: string): boolean {
  return SECRET_NAME.test(name) && !REFERENCE_NAME.test(name);
}

/**
 * True when a string value holds a literal credential: a value with an inline `password=` is judged by that
 * password (a `$(VAR)` or `${provider:...}` reference is fine, whatever the key is called); any other non-empty,
 * non-reference value is a credential when its key is named like one.
 */
function literalCredential(name: string, value: unknown): boolean {
  if (typeof value !== "string" || value.trim() === "") return false;
  if (REFERENCE_VALUE.test(value.trim())) return false;
  const inline = INLINE_PASSWORD.exec(value);
  if (inline) return !inline[1].startsWith("${") && !inline[1].startsWith("$(");
  return isSecretName(name);
}

/** Env vars with a literal credential `value` (they must use `valueFrom.secretKeyRef`). */
export function envSecretProblems(kind: string, props: Props): string[] {
  return podSpecs(kind, props).flatMap((spec) =>
    containersOf(spec).flatMap((c) =>
      c.env
        .filter((e) => literalCredential(String(e.name ?? ""), e.value))
        .map((e) => `container ${c.name}: env ${String(e.name)} holds a literal credential; use valueFrom.secretKeyRef to a Secret`),
    ),
  );
}

/** ConfigMap keys named like credentials, and values carrying an inline password. */
export function configMapSecretProblems(props: Props): string[] {
  const data = { ...obj(props.data) };
  return Object.entries(data)
    .filter(([key, value]) => literalCredential(key, value))
    .map(([key]) => `ConfigMap key ${key} holds a literal credential; move it to a Secret and mount or reference it`);
}

/**
 * Credential-named keys with literal string values anywhere in a custom resource spec or Helm values. An object
 * that names a Secret (`secretName`, `secretKeyRef`, `existingSecret`, `valueFrom`) is a reference: its keys are
 * keys *inside* that Secret (Strimzi's `passwordSecret: {secretName, password: "password"}`), so it is skipped.
 */
export function nestedSecretProblems(value: unknown, path = ""): string[] {
  if (Array.isArray(value)) return value.flatMap((v, i) => nestedSecretProblems(v, `${path}[${i}]`));
  if (!isObject(value)) return [];
  const keys = Object.keys(value);
  if (keys.some((k) => /^(secretName|secretKeyRef|existingSecret|valueFrom|secretRef)$/i.test(k))) return [];
  return Object.entries(value).flatMap(([key, v]) => {
    const at = path ? `${path}.${key}` : key;
    if (literalCredential(key, v)) return [`${at} holds a literal credential; reference a Kubernetes Secret instead`];
    return nestedSecretProblems(v, at);
  });
}

// ---- Kafka durability and transport ------------------------------------------------------------------------------

/**
 * Problems in one Kafka client/broker/topic property. `key` is the Java property name (`min.insync.replicas`) or
 * an env var name in the Confluent image convention (`KSQL_KSQL_STREAMS_REPLICATION_FACTOR`), normalised here.
 * Durability: replication factors >= {@link REPLICATION_FACTOR} (or -1 = the broker default, which is that),
 * min.insync.replicas >= {@link MIN_INSYNC_REPLICAS}, acks=all, idempotence on, no unclean leader election.
 * Transport: security.protocol SASL_SSL (or SSL), never PLAINTEXT / SASL_PLAINTEXT; SASL mechanism as in durability.ts.
 */
export function kafkaPropertyProblem(key: string, value: unknown): string | undefined {
  const name = key.toLowerCase().replace(/_/g, ".");
  const n = asNumber(value);
  if (/(replication\.factor|topic\.replicas)$/.test(name) && n !== undefined && n !== -1 && n < REPLICATION_FACTOR) {
    return `${key}=${show(value)}: expected a replication factor of at least ${REPLICATION_FACTOR} (or -1 for the broker default); a lower one loses data when a broker dies`;
  }
  if (/min\.insync\.replicas$|state\.log\.min\.isr$/.test(name) && n !== undefined && n < MIN_INSYNC_REPLICAS) {
    return `${key}=${show(value)}: expected at least ${MIN_INSYNC_REPLICAS} so an acknowledged write survives a broker loss`;
  }
  if (/(^|\.)acks$/.test(name) && value !== undefined && !["all", "-1"].includes(String(value).toLowerCase())) {
    return `${key}=${show(value)}: expected acks=all; anything less acknowledges writes a single broker loss can erase`;
  }
  if (/enable\.idempotence$/.test(name) && asBool(value) === false) {
    return `${key}=false: expected true so producer retries cannot duplicate or reorder records`;
  }
  if (/unclean\.leader\.election\.enable$/.test(name) && asBool(value) === true) {
    return `${key}=true: expected false; an out-of-sync replica becoming leader silently drops acknowledged writes`;
  }
  if (/(^|\.)security\.protocol$/.test(name) && typeof value === "string" && !["SASL_SSL", "SSL"].includes(value.toUpperCase())) {
    return `${key}=${show(value)}: expected SASL_SSL (TLS with ${SASL_MECHANISM}); the brokers expose no plaintext listener`;
  }
  if (/(^|\.)sasl\.mechanism$/.test(name) && typeof value === "string" && value.toUpperCase() !== SASL_MECHANISM) {
    return `${key}=${show(value)}: expected ${SASL_MECHANISM}, the only mechanism the listeners accept`;
  }
  return undefined;
}

/** Every problem in a map of Kafka properties (a Strimzi `config`, a properties file, env vars). */
export function kafkaPropertiesProblems(properties: Props, where: string): string[] {
  return Object.entries(properties).flatMap(([key, value]) => {
    const problem = kafkaPropertyProblem(key, value);
    return problem ? [`${where}: ${problem}`] : [];
  });
}

/** `a.b=c` lines of a Java properties text (comments and blanks skipped). */
export function parseProperties(text: string): Props {
  const out: Props = {};
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#") || line.startsWith("!")) continue;
    const m = /^([^=:\s]+)\s*[=:]\s*(.*)$/.exec(line);
    if (m) out[m[1]] = m[2];
  }
  return out;
}

/** Strimzi client CRs (KafkaConnect, KafkaBridge, KafkaMirrorMaker2): TLS trust and authentication configured. */
export function kafkaClientCrProblems(kind: string, props: Props): string[] {
  const spec = obj(props.spec);
  const problems: string[] = [];
  const clusters = kind === "KafkaMirrorMaker2" ? list(spec.clusters).filter(isObject) : [spec];
  for (const c of clusters) {
    const label = kind === "KafkaMirrorMaker2" ? `cluster ${String(c.alias ?? "?")}` : "spec";
    if (!isObject(c.tls)) problems.push(`${label}.tls is not set; expected trustedCertificates from the cluster CA secret (TLS only)`);
    const auth = obj(c.authentication).type;
    if (auth === undefined) problems.push(`${label}.authentication is not set; expected type ${SASL_MECHANISM.toLowerCase()}`);
  }
  return problems;
}

/** Kafka properties in Strimzi client CRs: KafkaConnect `config`, KafkaBridge `producer`/`consumer`/`adminClient` config. */
export function kafkaClientCrConfigProblems(kind: string, props: Props): string[] {
  const spec = obj(props.spec);
  if (kind === "KafkaBridge") {
    // The producer part is D's bridgeProducerProblems (acks, idempotence, spelled out); the rest is read here.
    const producer = Object.fromEntries(Object.entries(obj(obj(spec.producer).config)).filter(([k]) => k !== "acks" && k !== "enable.idempotence"));
    return [
      ...kafkaPropertiesProblems(producer, "spec.producer.config"),
      ...["consumer", "adminClient"].flatMap((part) => kafkaPropertiesProblems(obj(obj(spec[part]).config), `spec.${part}.config`)),
    ];
  }
  if (kind === "KafkaMirrorMaker2") {
    return list(spec.clusters).filter(isObject).flatMap((c, i) => kafkaPropertiesProblems(obj(c.config), `spec.clusters[${i}].config`));
  }
  return kafkaPropertiesProblems(obj(spec.config), "spec.config");
}

/** Kafka properties carried by workloads: Confluent-style env vars. */
export function workloadKafkaProblems(kind: string, props: Props): string[] {
  return podSpecs(kind, props).flatMap((spec) =>
    containersOf(spec).flatMap((c) => {
      const env: Props = Object.fromEntries(c.env.filter((e) => typeof e.value === "string").map((e) => [String(e.name), e.value]));
      return kafkaPropertiesProblems(env, `container ${c.name} env`);
    }),
  );
}

/** Kafka properties carried by ConfigMaps: `*.properties` files and flat keys. */
export function configMapKafkaProblems(props: Props): string[] {
  return Object.entries(obj(props.data)).flatMap(([key, value]) => {
    if (typeof value !== "string") return [];
    if (/\n/.test(value) || key.endsWith(".properties")) return kafkaPropertiesProblems(parseProperties(value), `ConfigMap ${key}`);
    const problem = kafkaPropertyProblem(key, value);
    return problem ? [`ConfigMap ${problem}`] : [];
  });
}

// ---- AWS ---------------------------------------------------------------------------------------------------------

/** `aws:eks/cluster:Cluster`: Secrets envelope-encrypted with a KMS key. */
export function eksEncryptionProblems(props: Props): string[] {
  const config = props.encryptionConfig;
  const entries = Array.isArray(config) ? config.filter(isObject) : isObject(config) ? [config] : [];
  const ok = entries.some((e) => list(e.resources).includes("secrets") && typeof obj(e.provider).keyArn === "string" && String(obj(e.provider).keyArn) !== "");
  return ok ? [] : [`encryptionConfig is ${show(config)}; expected { provider: { keyArn: <KMS key ARN> }, resources: ["secrets"] }`];
}

const OPEN_CIDRS = new Set(["0.0.0.0/0", "::/0"]);

/** Public API endpoint without a CIDR allow-list (the default is the whole internet). */
export function eksEndpointProblems(publicAccess: unknown, cidrs: unknown): string[] {
  if (publicAccess === false) return [];
  const allowed = list(cidrs).map(String);
  if (allowed.length === 0) return ["the public API endpoint is on with no publicAccessCidrs (AWS then allows 0.0.0.0/0); list your CIDRs or turn public access off"];
  const open = allowed.filter((c) => OPEN_CIDRS.has(c));
  return open.length ? [`publicAccessCidrs contains ${open.join(", ")}; expected only your own CIDRs`] : [];
}

/** `aws:kms/key:Key`: rotation on for symmetric keys (asymmetric and HMAC keys cannot rotate). */
export function kmsRotationProblems(props: Props): string[] {
  const spec = String(props.customerMasterKeySpec ?? props.keySpec ?? "SYMMETRIC_DEFAULT");
  if (spec !== "SYMMETRIC_DEFAULT") return [];
  return asBool(props.enableKeyRotation) === true ? [] : [`enableKeyRotation is ${show(props.enableKeyRotation)}; expected true (yearly automatic rotation)`];
}

/** `aws:ec2/launchTemplate:LaunchTemplate`: IMDSv2 only, hop limit 1, no public IP on any interface. */
export function launchTemplateProblems(props: Props): string[] {
  const meta = obj(props.metadataOptions);
  const problems: string[] = [];
  if (meta.httpTokens !== "required") problems.push(`metadataOptions.httpTokens is ${show(meta.httpTokens)}; expected "required" (IMDSv2 only)`);
  const hops = asNumber(meta.httpPutResponseHopLimit);
  if (hops === undefined || hops > 1) problems.push(`metadataOptions.httpPutResponseHopLimit is ${show(meta.httpPutResponseHopLimit)}; expected 1 so pods cannot reach the node's instance credentials`);
  for (const [i, ni] of list(props.networkInterfaces).filter(isObject).entries()) {
    if (asBool(ni.associatePublicIpAddress) === true) problems.push(`networkInterfaces[${i}].associatePublicIpAddress is true; nodes get no public IP`);
  }
  return problems;
}

/** Security groups and rules: no ingress from anywhere. Returns one message per open rule. */
export function openIngressProblems(type: string, props: Props): string[] {
  const openIn = (rule: Props) => [...list(rule.cidrBlocks), ...list(rule.ipv6CidrBlocks), rule.cidrIpv4, rule.cidrIpv6].map(String).filter((c) => OPEN_CIDRS.has(c));
  const describe = (rule: Props, open: string[]) => `ingress ${String(rule.protocol ?? rule.ipProtocol ?? "?")} ${String(rule.fromPort ?? "?")}-${String(rule.toPort ?? "?")} from ${open.join(", ")}; expected only known CIDRs or security groups`;
  switch (type) {
    case "aws:ec2/securityGroup:SecurityGroup":
      return list(props.ingress).filter(isObject).flatMap((r) => { const o = openIn(r); return o.length ? [describe(r, o)] : []; });
    case "aws:ec2/securityGroupRule:SecurityGroupRule": {
      if (props.type !== "ingress") return [];
      const o = openIn(props);
      return o.length ? [describe(props, o)] : [];
    }
    case "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": {
      const o = openIn(props);
      return o.length ? [describe(props, o)] : [];
    }
    default:
      return [];
  }
}
