/**
 * What a `kubectl` command line expects to exist: the namespace, the objects it names (kind + name), the label
 * selectors it lists by, the container it reads logs of, the Service/pod port it forwards to, and the data key a
 * jsonpath reads. Pure: words in, references out; test/docs/clusterInventory.ts says whether each one exists.
 */
import type { Word } from "./shellWords";

/** kubectl's short names and plurals → the kind. Lower case; only kinds the program (or its operators) creates. */
const KIND_ALIASES: Readonly<Record<string, string>> = {
  ...aliases("Pod", "po", "pod", "pods"),
  ...aliases("Service", "svc", "service", "services"),
  ...aliases("Secret", "secret", "secrets"),
  ...aliases("ConfigMap", "cm", "configmap", "configmaps"),
  ...aliases("Deployment", "deploy", "deployment", "deployments"),
  ...aliases("StatefulSet", "sts", "statefulset", "statefulsets"),
  ...aliases("Job", "job", "jobs"),
  ...aliases("CronJob", "cj", "cronjob", "cronjobs"),
  ...aliases("PersistentVolumeClaim", "pvc", "pvcs", "persistentvolumeclaim", "persistentvolumeclaims"),
  ...aliases("ServiceAccount", "sa", "serviceaccount", "serviceaccounts"),
  ...aliases("NetworkPolicy", "netpol", "networkpolicy", "networkpolicies"),
  ...aliases("Ingress", "ing", "ingress", "ingresses"),
  ...aliases("Kafka", "kafka", "kafkas", "k"),
  ...aliases("KafkaNodePool", "knp", "kafkanodepool", "kafkanodepools"),
  ...aliases("KafkaTopic", "kt", "kafkatopic", "kafkatopics"),
  ...aliases("KafkaUser", "ku", "kafkauser", "kafkausers"),
  ...aliases("KafkaConnect", "kc", "kafkaconnect", "kafkaconnects"),
  ...aliases("KafkaConnector", "kctr", "kafkaconnector", "kafkaconnectors"),
  ...aliases("KafkaBridge", "kb", "kafkabridge", "kafkabridges"),
  ...aliases("PodMonitor", "podmonitor", "podmonitors"),
  ...aliases("PrometheusRule", "prometheusrule", "prometheusrules"),
};
/** Kinds without a namespace: a command on them needs no `-n`. */
export const CLUSTER_SCOPED = new Set(["Node", "Namespace", "StorageClass", "CustomResourceDefinition", "ClusterRole", "ClusterRoleBinding", "PersistentVolume"]);
const CLUSTER_ALIASES: Readonly<Record<string, string>> = {
  ...aliases("Node", "no", "node", "nodes"),
  ...aliases("Namespace", "ns", "namespace", "namespaces"),
  ...aliases("StorageClass", "sc", "storageclass", "storageclasses"),
  ...aliases("CustomResourceDefinition", "crd", "crds", "customresourcedefinition", "customresourcedefinitions"),
  ...aliases("PersistentVolume", "pv", "pvs", "persistentvolume", "persistentvolumes"),
};

function aliases(kind: string, ...names: string[]): Record<string, string> {
  return Object.fromEntries(names.map((n) => [n, kind]));
}

/** The kind a kubectl resource word names (`svc`, `deployments`, `kafkatopic.kafka.strimzi.io`), or undefined. */
export function kindOf(word: string): string | undefined {
  const base = word.toLowerCase().split(".")[0];
  return KIND_ALIASES[base] ?? CLUSTER_ALIASES[base];
}

/** Verbs whose arguments are `TYPE[/NAME]` or `TYPE NAME…`. */
const RESOURCE_VERBS = new Set(["get", "describe", "delete", "edit", "annotate", "label", "patch", "scale", "wait", "explain", "rollout"]);
/** Verbs whose first argument is a pod (or TYPE/NAME resolving to pods). */
const POD_VERBS = new Set(["logs", "exec", "attach", "cp", "debug"]);
/** Flags that take a value as the next word (without `=`). */
const VALUE_FLAGS = new Set(["-n", "--namespace", "-l", "--selector", "-o", "--output", "-c", "--container", "--context", "--kubeconfig", "-f", "--filename", "--image", "--from", "--since", "--tail", "--field-selector", "--type", "--timeout", "--for", "--replicas", "--restart", "--overrides"]);

/** One thing a kubectl command expects to exist. */
export type KubectlRef =
  | { readonly what: "namespace"; readonly namespace: string }
  | { readonly what: "object"; readonly kind: string; readonly name: string; readonly namespace?: string }
  | { readonly what: "selector"; readonly kind: string; readonly selector: string; readonly namespace?: string }
  | { readonly what: "container"; readonly kind: string; readonly name: string; readonly container: string; readonly namespace?: string }
  | { readonly what: "port"; readonly kind: string; readonly name: string; readonly port: string; readonly namespace?: string }
  | { readonly what: "dataKey"; readonly kind: string; readonly name: string; readonly key: string; readonly namespace?: string };

export interface KubectlParse {
  readonly verb: string;
  readonly refs: KubectlRef[];
  /** The command names namespaced objects but passes no `-n`/`--namespace`. */
  readonly missingNamespace: boolean;
  /** Words the parse could not resolve (shell variables it does not know), as written. */
  readonly unresolved: string[];
}

/** `-n x`, `--namespace=x`, `-lkey=v`, … → [flag, value]. */
function splitFlag(words: readonly Word[], i: number): { flag: string; value?: Word; consumed: number } {
  const w = words[i].text;
  const eq = w.indexOf("=");
  if (w.startsWith("--") && eq > 0) return { flag: w.slice(0, eq), value: { text: w.slice(eq + 1), unresolved: words[i].unresolved }, consumed: 1 };
  if (/^-[nlco]./.test(w)) return { flag: w.slice(0, 2), value: { text: w.slice(2), unresolved: words[i].unresolved }, consumed: 1 };
  if (VALUE_FLAGS.has(w) && i + 1 < words.length) return { flag: w, value: words[i + 1], consumed: 2 };
  return { flag: w, consumed: 1 };
}

/** `{.data.ca\.crt}` → "ca.crt"; undefined for any other jsonpath. */
function jsonpathDataKey(output: string): string | undefined {
  const m = /^jsonpath=\{\.(?:data|stringData)\.((?:[^.}\\]|\\.)+)\}$/.exec(output);
  return m?.[1].replace(/\\\./g, ".");
}

/** Parse the words of one `kubectl …` command (words[0] is `kubectl`). */
export function parseKubectl(words: readonly Word[]): KubectlParse {
  const dd = words.findIndex((w) => w.text === "--");
  const own = dd < 0 ? words.slice(1) : words.slice(1, dd);
  const positional: Word[] = [];
  let namespace: Word | undefined;
  const selectors: Word[] = [];
  let container: string | undefined;
  let output: string | undefined;
  let from: string | undefined;
  for (let i = 0; i < own.length;) {
    if (!own[i].text.startsWith("-") || own[i].text === "-") { positional.push(own[i]); i++; continue; }
    const { flag, value, consumed } = splitFlag(own, i);
    i += consumed;
    if (value === undefined) continue;
    if (flag === "-n" || flag === "--namespace") namespace = value;
    else if (flag === "-l" || flag === "--selector") selectors.push(value);
    else if (flag === "-c" || flag === "--container") container = value.text;
    else if (flag === "-o" || flag === "--output") output = value.text;
    else if (flag === "--from") from = value.text;
  }
  const verb = positional[0]?.text ?? "";
  const args = positional.slice(1);
  // Words that name something that must exist; a new object's name (`create job … NAME`, `run NAME`) need not.
  const naming = verb === "create" || verb === "run" ? [] : positional;
  const unresolved = [...new Set([...naming, ...(namespace ? [namespace] : []), ...selectors].flatMap((w) => w.unresolved))];
  const ns = namespace?.text;
  const refs: KubectlRef[] = [];
  if (ns !== undefined) refs.push({ what: "namespace", namespace: ns });
  const scoped = (kind: string) => (CLUSTER_SCOPED.has(kind) ? {} : ns !== undefined ? { namespace: ns } : {});
  let namesNamespaced = false;
  const object = (kind: string, name: string): void => {
    if (!CLUSTER_SCOPED.has(kind)) namesNamespaced = true;
    refs.push({ what: "object", kind, name, ...scoped(kind) });
  };

  if (RESOURCE_VERBS.has(verb) || (verb === "create" && from !== undefined) || verb === "port-forward") {
    const targets = verb === "rollout" ? args.slice(1) : verb === "create" ? [] : args;
    const resourceWords = verb === "port-forward" ? targets.slice(0, 1) : targets;
    let kinds: string[] = [];
    for (const w of resourceWords) {
      const slash = w.text.indexOf("/");
      if (slash > 0) {
        const kind = kindOf(w.text.slice(0, slash));
        if (kind) object(kind, w.text.slice(slash + 1));
        else if (verb === "port-forward") object("Pod", w.text);
      } else if (kinds.length === 0) {
        kinds = w.text.split(",").map(kindOf).filter((k): k is string => k !== undefined);
        if (verb === "port-forward") { object("Pod", w.text); kinds = []; }
        else if (kinds.length > 0 && !kinds.every((k) => CLUSTER_SCOPED.has(k))) namesNamespaced = true;
      } else if (!/=/.test(w.text) && kinds.length === 1) {
        object(kinds[0], w.text);
      }
    }
    for (const sel of selectors) for (const kind of kinds) refs.push({ what: "selector", kind, selector: sel.text, ...scoped(kind) });
    if (verb === "create" && from !== undefined) {
      const [kindWord, name] = from.split("/");
      const kind = kindOf(kindWord);
      if (kind && name) object(kind, name);
    }
    if (verb === "port-forward") {
      const target = refs.find((r): r is Extract<KubectlRef, { what: "object" }> => r.what === "object");
      for (const p of targets.slice(1)) {
        const remote = p.text.split(":").pop() ?? "";
        if (target && remote !== "") refs.push({ what: "port", kind: target.kind, name: target.name, port: remote, ...scoped(target.kind) });
      }
    }
    const key = output === undefined ? undefined : jsonpathDataKey(output);
    const single = refs.filter((r): r is Extract<KubectlRef, { what: "object" }> => r.what === "object");
    if (key !== undefined && single.length === 1) refs.push({ what: "dataKey", kind: single[0].kind, name: single[0].name, key, ...scoped(single[0].kind) });
  } else if (POD_VERBS.has(verb)) {
    namesNamespaced = true;
    const target = args[0];
    if (target !== undefined) {
      const slash = target.text.indexOf("/");
      const kind = slash > 0 ? kindOf(target.text.slice(0, slash)) : "Pod";
      const name = slash > 0 ? target.text.slice(slash + 1) : target.text;
      if (kind) {
        object(kind, name);
        if (container !== undefined) refs.push({ what: "container", kind, name, container, ...scoped(kind) });
      }
    } else {
      for (const sel of selectors) refs.push({ what: "selector", kind: "Pod", selector: sel.text, ...scoped("Pod") });
    }
  } else if (verb === "run") {
    namesNamespaced = true;
  }
  return { verb, refs, missingNamespace: namesNamespaced && ns === undefined, unresolved };
}
