/**
 * Every object a stack would have in its cluster, as far as a kubectl command can name it: what the program applies
 * (tools/renderObjects.ts), what its Helm charts create (tools/helmExpand.ts, `helm template`), what the Strimzi
 * operator creates from our custom resources, and the pods and Jobs the workloads start. Pure: objects in,
 * inventory out.
 *
 * The Strimzi part follows the operator's documented naming for the resources we create (Strimzi 1.2.0): for Kafka
 * `<c>` the `<c>-kafka-bootstrap`/`<c>-kafka-brokers` Services and the CA Secrets, pods `<c>-<pool>-<id>` with role
 * labels and their `data-…` claims; for KafkaBridge `<b>` the `<b>-bridge` Deployment and `<b>-bridge-service`; for
 * KafkaConnect `<k>` pods `<k>-connect-<i>` and the `<k>-connect-api` Service; for KafkaUser `<u>` the Secret `<u>`.
 * Every claim gets the dynamically provisioned PersistentVolume it binds (`pvc-<uid>`).
 */
import { isObject } from "../../contract/resourceChecks";
import type { RenderedObject } from "../../tools/renderObjects";

type Json = Record<string, unknown>;

export interface InventoryObject {
  readonly kind: string;
  readonly namespace: string | undefined;
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  /** Pods and pod-owning objects: container names (init containers included). */
  readonly containers: readonly string[];
  /** Services: port numbers and names; pods and workloads: container port numbers and names. */
  readonly ports: readonly string[];
  /** Secrets and ConfigMaps: data keys. */
  readonly dataKeys: readonly string[];
  /** Where it comes from: "program", "chart <release>", "operator", "workload". */
  readonly origin: string;
}

const obj = (v: unknown): Json => (isObject(v) ? v : {});
const arr = (v: unknown): Json[] => (Array.isArray(v) ? v.filter(isObject) : []);
const strMap = (v: unknown): Record<string, string> => Object.fromEntries(Object.entries(obj(v)).map(([k, x]) => [k, String(x)]));

function entry(kind: string, namespace: string | undefined, name: string, origin: string, more: Partial<InventoryObject> = {}): InventoryObject {
  return { kind, namespace, name, labels: {}, containers: [], ports: [], dataKeys: [], origin, ...more };
}

/** Containers and container ports of a pod spec. */
function podParts(spec: Json): { containers: string[]; ports: string[] } {
  const all = [...arr(spec.containers), ...arr(spec.initContainers)];
  return {
    containers: all.map((c) => String(c.name)),
    ports: all.flatMap((c) => arr(c.ports).flatMap((p) => [String(p.containerPort), ...(p.name !== undefined ? [String(p.name)] : [])])),
  };
}

/** The objects one rendered object stands for: itself, plus the pods/Jobs a workload starts. */
function fromRendered(o: RenderedObject): InventoryObject[] {
  const object = o.object;
  const metadata = obj(object.metadata);
  const spec = obj(object.spec);
  const origin = o.path.includes("/helm-") ? `chart ${o.path.split("/")[1].slice("helm-".length)}` : "program";
  const labels = strMap(metadata.labels);
  const ns = o.namespace;
  const out: InventoryObject[] = [];
  switch (o.kind) {
    case "Service":
      out.push(entry("Service", ns, o.name, origin, { labels, ports: arr(spec.ports).flatMap((p) => [String(p.port), ...(p.name !== undefined ? [String(p.name)] : [])]) }));
      break;
    case "Secret":
    case "ConfigMap":
      out.push(entry(o.kind, ns, o.name, origin, { labels, dataKeys: [...Object.keys(obj(object.data)), ...Object.keys(obj(object.stringData)), ...Object.keys(obj(object.binaryData))] }));
      break;
    case "StatefulSet":
    case "Deployment":
    case "Job": {
      const template = obj(spec.template);
      const parts = podParts(obj(template.spec));
      out.push(entry(o.kind, ns, o.name, origin, { labels, ...parts }));
      const podLabels = strMap(obj(template.metadata).labels);
      const replicas = o.kind === "StatefulSet" ? Number(spec.replicas ?? 1) : 1;
      for (let i = 0; i < replicas; i++) {
        const name = o.kind === "StatefulSet" ? `${o.name}-${i}` : `${o.name}-<generated>`;
        out.push(entry("Pod", ns, name, "workload", { labels: podLabels, ...parts }));
      }
      for (const claim of o.kind === "StatefulSet" ? arr(spec.volumeClaimTemplates) : []) {
        for (let i = 0; i < replicas; i++) {
          out.push(entry("PersistentVolumeClaim", ns, `${String(obj(claim.metadata).name)}-${o.name}-${i}`, "workload", { labels: podLabels }));
        }
      }
      break;
    }
    case "CronJob": {
      const jobTemplate = obj(spec.jobTemplate);
      const template = obj(obj(jobTemplate.spec).template);
      const parts = podParts(obj(template.spec));
      out.push(entry("CronJob", ns, o.name, origin, { labels, ...parts }));
      // Jobs it starts carry the job template's labels and are named <cronjob>-<schedule time>.
      out.push(entry("Job", ns, `${o.name}-<scheduled>`, "workload", { labels: strMap(obj(jobTemplate.metadata).labels), ...parts }));
      out.push(entry("Pod", ns, `${o.name}-<scheduled>-<generated>`, "workload", { labels: strMap(obj(template.metadata).labels), ...parts }));
      break;
    }
    default:
      out.push(entry(o.kind, ns, o.name, origin, { labels }));
  }
  return [...out, ...strimziObjects(o)];
}

/** What the Strimzi operator creates from one of our custom resources (see the file comment). */
function strimziObjects(o: RenderedObject): InventoryObject[] {
  const spec = obj(o.object.spec);
  const ns = o.namespace;
  const labels = strMap(obj(o.object.metadata).labels);
  const op = (kind: string, name: string, more: Partial<InventoryObject> = {}) => entry(kind, ns, name, "operator", more);
  const strimzi = (cluster: string, kind: string, name: string, extra: Record<string, string> = {}) => ({ "strimzi.io/cluster": cluster, "strimzi.io/kind": kind, "strimzi.io/name": name, ...extra });
  switch (o.kind) {
    case "Kafka": {
      const c = o.name;
      const listenerPorts = arr(obj(spec.kafka).listeners).flatMap((l) => [String(l.port), ...(l.name !== undefined ? [String(l.name)] : [])]);
      const caKeys = ["ca.crt", "ca.p12", "ca.password"];
      const out = [
        op("Service", `${c}-kafka-bootstrap`, { ports: ["9091", ...listenerPorts] }),
        op("Service", `${c}-kafka-brokers`, { ports: ["9090", "9091", ...listenerPorts] }),
        op("Secret", `${c}-cluster-ca-cert`, { dataKeys: caKeys }),
        op("Secret", `${c}-clients-ca-cert`, { dataKeys: caKeys }),
        op("Secret", `${c}-cluster-ca`, { dataKeys: ["ca.key"] }),
        op("Secret", `${c}-clients-ca`, { dataKeys: ["ca.key"] }),
      ];
      if (isObject(spec.entityOperator)) out.push(op("Deployment", `${c}-entity-operator`, { labels: strimzi(c, "Kafka", `${c}-entity-operator`), containers: ["topic-operator", "user-operator"] }));
      if (isObject(spec.kafkaExporter)) {
        const l = strimzi(c, "Kafka", `${c}-kafka-exporter`);
        out.push(op("Deployment", `${c}-kafka-exporter`, { labels: l, containers: [`${c}-kafka-exporter`] }), op("Pod", `${c}-kafka-exporter-<generated>`, { labels: l, containers: [`${c}-kafka-exporter`] }));
      }
      return out;
    }
    case "KafkaNodePool": {
      const c = labels["strimzi.io/cluster"] ?? "";
      const roles = (Array.isArray(spec.roles) ? spec.roles : []).map(String);
      const replicas = Number(spec.replicas ?? 0);
      const poolLabels = strimzi(c, "Kafka", `${c}-kafka`, { "strimzi.io/pool-name": o.name });
      const out: InventoryObject[] = [];
      for (let i = 0; i < replicas; i++) {
        // Node ids are assigned by the operator across pools; the pod name carries `<id>`, not a fixed number here.
        const pod = `${c}-${o.name}-<id>`;
        out.push(op("Pod", pod, { labels: { ...poolLabels, "strimzi.io/broker-role": String(roles.includes("broker")), "strimzi.io/controller-role": String(roles.includes("controller")) }, containers: ["kafka"] }));
        out.push(op("PersistentVolumeClaim", `data-${pod}`, { labels: poolLabels }));
      }
      return out;
    }
    case "KafkaBridge": {
      const b = o.name;
      const l = strimzi(b, "KafkaBridge", `${b}-bridge`);
      const port = String(obj(spec.http).port ?? 8080);
      return [
        op("Deployment", `${b}-bridge`, { labels: l, containers: [`${b}-bridge`], ports: [port] }),
        op("Pod", `${b}-bridge-<generated>`, { labels: l, containers: [`${b}-bridge`], ports: [port] }),
        op("Service", `${b}-bridge-service`, { labels: l, ports: [port, "rest-api"] }),
      ];
    }
    case "KafkaConnect": {
      const k = o.name;
      const l = strimzi(k, "KafkaConnect", `${k}-connect`);
      const pods = Array.from({ length: Number(spec.replicas ?? 1) }, (_, i) => op("Pod", `${k}-connect-${i}`, { labels: l, containers: [`${k}-connect`], ports: ["8083", "rest-api"] }));
      return [...pods, op("Service", `${k}-connect-api`, { labels: l, ports: ["8083", "rest-api"] })];
    }
    case "KafkaUser": {
      const scram = obj(spec.authentication).type === "scram-sha-512";
      return [op("Secret", o.name, { dataKeys: scram ? ["password", "sasl.jaas.config"] : ["ca.crt", "user.crt", "user.key", "user.p12", "user.password"] })];
    }
    default:
      return [];
  }
}

/**
 * The PersistentVolume each claim binds: the classes the program uses provision dynamically, and the external
 * provisioners name the volume `pvc-<claim uid>` (cluster-scoped, so no namespace).
 */
function boundVolumes(claims: readonly InventoryObject[]): InventoryObject[] {
  return claims.filter((o) => o.kind === "PersistentVolumeClaim").map(() => entry("PersistentVolume", undefined, "pvc-<uid>", "provisioner"));
}

/** The whole inventory of a stack from its rendered objects (program and chart objects alike). */
export function inventoryOf(objects: readonly RenderedObject[]): InventoryObject[] {
  const all = objects.flatMap(fromRendered);
  return [...all, ...boundVolumes(all)];
}

/** A name as written in a doc, with `<placeholder>` parts, as a regex; inventory placeholders match anything too. */
function nameMatches(written: string, actual: string): boolean {
  const pattern = (s: string) => s.split(/<[^>]*>/).map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join(".+");
  return new RegExp(`^${pattern(written)}$`).test(actual) || new RegExp(`^${pattern(actual)}$`).test(written);
}

/** `a=b,c!=d,e` against labels. */
export function selectorMatches(selector: string, labels: Readonly<Record<string, string>>): boolean {
  return selector.split(",").every((term) => {
    const m = /^([^!=]+)(!=|==|=)?(.*)$/.exec(term.trim());
    if (!m) return false;
    const [, key, op, value] = m;
    if (op === undefined) return key in labels;
    return op === "!=" ? labels[key] !== value : labels[key] === value;
  });
}

export interface Lookup {
  readonly kind: string;
  readonly name?: string;
  readonly namespace?: string;
  readonly selector?: string;
}

/** Objects of the inventory a reference names. */
export function find(inventory: readonly InventoryObject[], ref: Lookup): InventoryObject[] {
  return inventory.filter(
    (o) =>
      o.kind === ref.kind &&
      (ref.namespace === undefined || o.namespace === ref.namespace) &&
      (ref.name === undefined || nameMatches(ref.name, o.name)) &&
      (ref.selector === undefined || selectorMatches(ref.selector, o.labels)),
  );
}
