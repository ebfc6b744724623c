/**
 * Durability and security checks over one recorded Kubernetes resource (`{ type, inputs }`, as the test harness and
 * CrossGuard's `ResourceValidationArgs` both provide). Pure: each returns a list of problems, empty when compliant,
 * each naming the resource, the field, the expected and the actual value. Used by test/kafka*.test.ts and meant for
 * the policy pack (policy/) so the rules are written once.
 */
import { ACL_WILDCARD_ALLOW_LIST } from "./acls";
import { MIN_INSYNC_REPLICAS, REPLICATION_FACTOR } from "./durability";

export interface ResourceLike {
  readonly type: string;
  readonly name?: string;
  // Provider inputs are untyped by nature; every access below is guarded.
  readonly inputs: Record<string, unknown>;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);
const obj = (v: unknown): Obj => (isObj(v) ? v : {});
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

/** `kubernetes:kafka.strimzi.io/v1:KafkaTopic` → `KafkaTopic` for Strimzi types, else undefined. */
export function strimziKind(type: string): string | undefined {
  const m = /^kubernetes:kafka\.strimzi\.io\/[^:]+:(\w+)$/.exec(type);
  return m?.[1];
}

function label(r: ResourceLike): string {
  const meta = obj(r.inputs.metadata);
  return `${String(r.inputs.kind ?? r.type)} ${String(meta.name ?? r.name ?? "(unnamed)")}`;
}

/** Config values arrive as numbers or strings ("2"); compare numerically. */
function num(v: unknown): number {
  return typeof v === "number" ? v : typeof v === "string" ? Number(v) : Number.NaN;
}

/** Every listener encrypts (tls: true) and authenticates (SCRAM-SHA-512 or mTLS). */
export function listenerProblems(r: ResourceLike): string[] {
  if (strimziKind(r.type) !== "Kafka") return [];
  const listeners = arr(obj(obj(r.inputs.spec).kafka).listeners).map(obj);
  if (listeners.length === 0) return [`${label(r)}: spec.kafka.listeners: expected at least one TLS listener; got none.`];
  return listeners.flatMap((l) => {
    const out: string[] = [];
    if (l.tls !== true) out.push(`${label(r)}: listener "${String(l.name)}": expected tls: true; got ${JSON.stringify(l.tls)}. Plaintext listeners are not allowed.`);
    const auth = obj(l.authentication).type;
    if (auth !== "scram-sha-512" && auth !== "tls") {
      out.push(`${label(r)}: listener "${String(l.name)}": expected authentication scram-sha-512 (or tls); got ${JSON.stringify(auth)}.`);
    }
    return out;
  });
}

/** Broker config: no auto-created topics, durable defaults from the first deploy, authorization on. */
export function brokerDurabilityProblems(r: ResourceLike): string[] {
  if (strimziKind(r.type) !== "Kafka") return [];
  const kafka = obj(obj(r.inputs.spec).kafka);
  const config = obj(kafka.config);
  const out: string[] = [];
  const at = (key: string) => `${label(r)}: spec.kafka.config["${key}"]`;
  if (config["auto.create.topics.enable"] !== false && config["auto.create.topics.enable"] !== "false") {
    out.push(`${at("auto.create.topics.enable")}: expected false (topics are KafkaTopic CRs with RF ${REPLICATION_FACTOR}); got ${JSON.stringify(config["auto.create.topics.enable"])}.`);
  }
  for (const key of ["default.replication.factor", "offsets.topic.replication.factor", "transaction.state.log.replication.factor"]) {
    if (!(num(config[key]) >= REPLICATION_FACTOR)) out.push(`${at(key)}: expected >= ${REPLICATION_FACTOR}; got ${JSON.stringify(config[key])}.`);
  }
  for (const key of ["min.insync.replicas", "transaction.state.log.min.isr"]) {
    if (!(num(config[key]) >= MIN_INSYNC_REPLICAS)) out.push(`${at(key)}: expected >= ${MIN_INSYNC_REPLICAS}; got ${JSON.stringify(config[key])}.`);
  }
  if (config["unclean.leader.election.enable"] === true || config["unclean.leader.election.enable"] === "true") {
    out.push(`${at("unclean.leader.election.enable")}: expected false (an unclean leader loses acknowledged writes); got true.`);
  }
  if (obj(kafka.authorization).type === undefined) out.push(`${label(r)}: spec.kafka.authorization: expected simple authorization; got none.`);
  return out;
}

/** Every topic: replicas >= 3 and min.insync.replicas >= 2 explicitly on the topic. */
export function topicDurabilityProblems(r: ResourceLike): string[] {
  if (strimziKind(r.type) !== "KafkaTopic") return [];
  const spec = obj(r.inputs.spec);
  const out: string[] = [];
  if (!(num(spec.replicas) >= REPLICATION_FACTOR)) out.push(`${label(r)}: spec.replicas: expected >= ${REPLICATION_FACTOR}; got ${JSON.stringify(spec.replicas)}.`);
  const minIsr = obj(spec.config)["min.insync.replicas"];
  if (!(num(minIsr) >= MIN_INSYNC_REPLICAS)) out.push(`${label(r)}: spec.config["min.insync.replicas"]: expected >= ${MIN_INSYNC_REPLICAS}; got ${JSON.stringify(minIsr)}.`);
  return out;
}

/** A Java-client producer config: acks=all and enable.idempotence=true. `where` names it in messages. */
export function producerConfigProblems(config: Obj, where: string): string[] {
  const out: string[] = [];
  if (String(config.acks) !== "all" && String(config.acks) !== "-1") out.push(`${where}: acks: expected "all"; got ${JSON.stringify(config.acks)}.`);
  if (config["enable.idempotence"] !== true && config["enable.idempotence"] !== "true") {
    out.push(`${where}: enable.idempotence: expected true; got ${JSON.stringify(config["enable.idempotence"])}.`);
  }
  return out;
}

/** KafkaBridge producer settings (and a bridge must have its producer config spelled out). */
export function bridgeProducerProblems(r: ResourceLike): string[] {
  if (strimziKind(r.type) !== "KafkaBridge") return [];
  const producer = obj(obj(r.inputs.spec).producer);
  if (producer.enabled === false) return [];
  return producerConfigProblems(obj(producer.config), `${label(r)}: spec.producer.config`);
}

/** KafkaUser ACLs: no `*` resource and no prefix pattern unless allow-listed in kafkaAcls.ts. */
export function aclWildcardProblems(r: ResourceLike): string[] {
  if (strimziKind(r.type) !== "KafkaUser") return [];
  const user = String(obj(r.inputs.metadata).name);
  const acls = arr(obj(obj(r.inputs.spec).authorization).acls).map(obj);
  return acls.flatMap((acl) => {
    const res = obj(acl.resource);
    const type = String(res.type);
    if (type === "cluster") return [];
    const name = String(res.name ?? "");
    const patternType = res.patternType === "prefix" ? "prefix" : "literal";
    const wide = name === "*" || name === "" || patternType === "prefix";
    if (!wide) return [];
    const allowed = ACL_WILDCARD_ALLOW_LIST.some((a) => a.user === user && a.type === type && a.name === name && a.patternType === patternType);
    return allowed ? [] : [`${label(r)}: ACL on ${type} "${name}" (${patternType}) is a wildcard; add it to ACL_WILDCARD_ALLOW_LIST with a reason, or name the resource.`];
  });
}

/** An image reference with an explicit tag (not latest) or a digest. */
export function imagePinProblem(image: string, where: string): string | undefined {
  if (/@sha256:[0-9a-f]{64}$/.test(image)) return undefined;
  const lastSegment = image.split("/").pop() ?? image;
  const tag = lastSegment.includes(":") ? lastSegment.split(":").pop() : undefined;
  if (!tag) return `${where}: image "${image}" has no tag; pin an exact version.`;
  if (tag === "latest" || tag === "main" || tag === "master") return `${where}: image "${image}" uses the moving tag "${tag}"; pin an exact version.`;
  return undefined;
}

/** Every container image in a pod-bearing workload (Deployment, StatefulSet, Job, ...), or a Strimzi `image` field. */
export function imageProblems(r: ResourceLike): string[] {
  const images: { image: unknown; where: string }[] = [];
  const collect = (podSpec: Obj, prefix: string) => {
    for (const key of ["containers", "initContainers"]) {
      arr(podSpec[key]).map(obj).forEach((c, i) => images.push({ image: c.image, where: `${label(r)}: ${prefix}.${key}[${i}]` }));
    }
  };
  const spec = obj(r.inputs.spec);
  if (isObj(spec.template)) collect(obj(obj(spec.template).spec), "spec.template.spec");
  if (isObj(obj(spec.jobTemplate).spec)) collect(obj(obj(obj(obj(spec.jobTemplate).spec).template).spec), "spec.jobTemplate.spec.template.spec");
  if (strimziKind(r.type) && typeof spec.image === "string") images.push({ image: spec.image, where: `${label(r)}: spec.image` });
  return images.flatMap(({ image, where }) => {
    if (typeof image !== "string") return [`${where}: expected an image reference; got ${JSON.stringify(image)}.`];
    const p = imagePinProblem(image, where);
    return p ? [p] : [];
  });
}

/** All of the above for one resource. */
export function kafkaResourceProblems(r: ResourceLike): string[] {
  return [
    ...listenerProblems(r),
    ...brokerDurabilityProblems(r),
    ...topicDurabilityProblems(r),
    ...bridgeProducerProblems(r),
    ...aclWildcardProblems(r),
    ...imageProblems(r),
  ];
}
