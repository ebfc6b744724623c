/**
 * Boundary probes generated from the config schema (config.ts `configJsonSchema`): for every key, the values at and
 * just outside its documented bounds, every enum member, both booleans. test/config.walk.test.ts puts each probe
 * through `validateConfig` (config.ts: what loadConfig refuses before any resource) and, when accepted, through the
 * whole program under mocks.
 *
 * What JSON Schema cannot say (a `refine`, a regex) the walk cannot invent: string keys need an entry in
 * {@link STRING_SAMPLES} (values the key accepts) or {@link FREE_TEXT_KEYS}, and keys that are maps or
 * discriminators are in {@link NOT_WALKED} with the reason. {@link unclassifiedKeys} names any key in none of them,
 * so a new string key fails the test until someone says how to walk it.
 */
import { INSTANCE_TYPES } from "../contract/instanceTypes";

/** One JSON Schema node as zod's `toJSONSchema` writes it (only the fields the walk reads). */
export interface JsonSchema {
  readonly type?: string;
  readonly properties?: Record<string, JsonSchema>;
  readonly required?: readonly string[];
  readonly items?: JsonSchema;
  readonly anyOf?: readonly JsonSchema[];
  readonly oneOf?: readonly JsonSchema[];
  readonly enum?: readonly (string | number)[];
  readonly const?: string | number;
  readonly minimum?: number;
  readonly maximum?: number;
  readonly exclusiveMinimum?: number;
  readonly exclusiveMaximum?: number;
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly minItems?: number;
  readonly maxItems?: number;
  readonly pattern?: string;
  readonly default?: unknown;
  readonly additionalProperties?: boolean | JsonSchema;
  readonly propertyNames?: JsonSchema;
}

/** One value to try at one key. `inBounds`: the schema's own bounds accept it (cross-key rules may still refuse it). */
export interface Probe {
  /** Dotted key as config messages print it after `watchpipe:` (array elements as `.0`). */
  readonly key: string;
  readonly path: readonly (string | number)[];
  readonly value: unknown;
  readonly bound: string;
  readonly inBounds: boolean;
}

/** zod writes an int with no upper bound as maximum 2^53 - 1: not a documented bound, and no value to deploy. */
const NO_MAXIMUM = Number.MAX_SAFE_INTEGER;

/**
 * Accepted values of string keys whose rule JSON Schema does not carry (a regex a sample cannot be derived from, a
 * refine). Keys are dotted paths with `*` for an array element. Each list is walked whole; its first value is the
 * sample used where the key's parent object has to be built.
 */
export const STRING_SAMPLES: Readonly<Record<string, readonly string[]>> = {
  "network.cidr": ["10.0.0.0/16", "10.60.0.0/22", "172.16.0.0/12", "192.168.0.0/16"],
  "cluster.kubernetesVersion": ["1.28", "1.34", "1.39"],
  "cluster.adminRoleArn": ["arn:aws:iam::123456789012:role/platform-admin", "arn:aws-us-gov:iam::123456789012:role/path/to/admin"],
  "cluster.publicAccessCidrs.*": ["203.0.113.0/24", "198.51.100.7/32"],
  "cluster.nodeInstanceType": Object.keys(INSTANCE_TYPES),
  "bridge.certificateArn": ["arn:aws:acm:us-east-1:123456789012:certificate/12345678-1234-1234-1234-123456789012"],
  "ingest.jwt.jwksUrl": ["https://id.example.com/.well-known/jwks.json", "https://id.example.com:8443"],
  "ingest.gateway.image": [
    `123456789012.dkr.ecr.us-east-1.amazonaws.com/watchpipe-ingest-gateway@sha256:${"0".repeat(64)}`,
    `registry.example.com:5000/team/ingest@sha256:${"f".repeat(64)}`,
    "111122223333.dkr.ecr.us-east-1.amazonaws.com/watchpipe-ingest-gateway",
  ],
  "charts.*.repo": ["oci://registry.example.com/charts", "https://charts.example.com/stable"],
  // The version strings a chart's Chart.yaml carries: plain, v-prefixed with a build, a pre-release.
  "charts.*.acceptVersion": ["1.2.0", "v2.25.1-b1", "2026.1.0-rc.1"],
  "images.mirror": ["registry.example.com/mirror", "registry.example.com:5000"],
  "monitoring.runbookBaseUrl": ["https://wiki.example.com/runbooks", "http://runbooks.internal"],
  "backup.restoreFrom": ["watchpipe-20261202T031700Z.sql.gz"],
  "yugabyte.operatorChart.repo": ["oci://registry.example.com/charts", "https://charts.yugabyte.com"],
  "yugabyte.operatorChart.version": ["2026.1.0", "v2.25.1-b1"],
  ...Object.fromEntries(
    ["kafka.brokerResources", "kafka.controllerResources", "ksqldb.resources", "connect.resources", "yugabyte.masterResources", "yugabyte.tserverResources"].flatMap((k) => [
      // Every form a Kubernetes quantity takes: millicores, whole and fractional cores; binary suffixes, plain bytes.
      [`${k}.cpu`, ["250m", "1", "2.5", "16"]],
      [`${k}.memory`, ["4Gi", "512Mi", "1.5Gi", "1Ti", "4194304Ki", "8589934592"]],
    ]),
  ),
};

/** String keys any non-empty text is valid for (within their length bounds): walked at their length bounds. */
export const FREE_TEXT_KEYS: readonly string[] = [
  "owner",
  "cluster.kubeconfigContext",
  "cluster.storageClass",
  "kafka.namespace",
  "ingest.jwt.issuer",
  "ingest.jwt.audience.*",
  "ingest.jwt.claims.*.name",
  "ingest.jwt.claims.*.values.*",
  "ingest.gateway.subjectClaim",
  "connect.imageRegistry",
  "yugabyte.namespace",
  "yugabyte.operatorChart.chart",
  "charts.*.path",
  "monitoring.namespace",
];

/** Keys the walk does not generate values for, with why; everything under them is skipped. */
export const NOT_WALKED: Readonly<Record<string, string>> = {
  "cluster.mode": "the discriminator: switching it swaps the whole cluster section; each stack walks the keys of its own mode",
  "monitoring.selectorLabels": "a free-form label map (no bounds to walk); its only rule (non-empty) is in test/config.test.ts",
  "images.registries": "a map keyed by registry host; refused without images.mirror unless every registry is listed (test/sources.test.ts)",
};

/** The samples' key with `*` for array indexes and chart names (charts.strimzi.repo → charts.*.repo). */
export function patternOf(path: readonly (string | number)[]): string {
  return path.map((p, i) => (typeof p === "number" || (i === 1 && path[0] === "charts") ? "*" : p)).join(".");
}

function options(s: JsonSchema): readonly JsonSchema[] | undefined {
  return s.oneOf ?? s.anyOf;
}

/** A value the schema accepts at `s` (used to build a parent object that the stack file does not have). */
export function sampleOf(s: JsonSchema, path: readonly (string | number)[]): unknown {
  if (s.default !== undefined) return s.default;
  const samples = STRING_SAMPLES[patternOf(path)];
  if (samples) return samples[0];
  const alts = options(s);
  if (alts) return sampleOf(alts[0], path);
  if (s.const !== undefined) return s.const;
  if (s.enum) return s.enum[0];
  switch (s.type) {
    case "integer":
    case "number":
      return s.minimum ?? (s.exclusiveMinimum !== undefined ? s.exclusiveMinimum + 1 : 1);
    case "boolean":
      return true;
    case "string":
      return "a".repeat(Math.max(1, s.minLength ?? 1));
    case "array":
      return Array.from({ length: Math.max(1, s.minItems ?? 1) }, (_, i) => sampleOf(s.items ?? {}, [...path, i]));
    case "object": {
      const out: Record<string, unknown> = {};
      for (const k of s.required ?? []) out[k] = sampleOf(s.properties?.[k] ?? {}, [...path, k]);
      return out;
    }
    default:
      return undefined;
  }
}

function numberProbes(s: JsonSchema, push: (value: unknown, bound: string, inBounds: boolean) => void): void {
  const int = s.type === "integer";
  const step = int ? 1 : 0.001;
  if (s.minimum !== undefined) {
    push(s.minimum, "min", true);
    push(s.minimum - step, "min - 1", false);
  } else if (s.exclusiveMinimum !== undefined) {
    push(s.exclusiveMinimum + step, "just above the exclusive min", true);
    push(s.exclusiveMinimum, "the exclusive min", false);
  }
  if (s.maximum !== undefined && s.maximum < NO_MAXIMUM) {
    push(s.maximum, "max", true);
    push(s.maximum + step, "max + 1", false);
  }
  if (int) push((s.minimum ?? s.exclusiveMinimum ?? 0) + 1.5, "not an integer", false);
  push("1", "a string", false);
}

/**
 * Every probe of the schema, depth first. `unclassified` collects string keys with neither samples nor a free-text
 * entry (the test fails on them).
 */
export function probesOf(root: JsonSchema, unclassified: string[] = []): Probe[] {
  const out: Probe[] = [];
  const seen = new Set<string>();
  const walk = (s: JsonSchema, path: readonly (string | number)[]): void => {
    const key = path.join(".");
    const pattern = patternOf(path);
    if (pattern in NOT_WALKED) return;
    const push = (value: unknown, bound: string, inBounds: boolean): void => {
      const id = `${key}=${JSON.stringify(value)}`;
      if (seen.has(id)) return;
      seen.add(id);
      out.push({ key, path, value, bound, inBounds });
    };
    const alts = options(s);
    if (alts) {
      const objects = alts.filter((a) => a.type === "object");
      if (objects.length === alts.length) {
        for (const o of objects) walk(o, path);
        return;
      }
      // A union of literals (WAF rate windows): each member is an enum member.
      for (const a of alts) if (a.const !== undefined) push(a.const, `member ${a.const}`, true);
      push(-1, "not a member", false);
      return;
    }
    if (s.enum) {
      for (const v of s.enum) push(v, `member ${JSON.stringify(v)}`, true);
      push(typeof s.enum[0] === "number" ? 2 : "not-a-member", "not a member", false);
      return;
    }
    if (s.const !== undefined) {
      if (!(pattern in NOT_WALKED)) unclassified.push(`${pattern} (a constant)`);
      return;
    }
    switch (s.type) {
      case "object":
        if (s.properties) for (const [k, child] of Object.entries(s.properties)) walk(child, [...path, k]);
        else unclassified.push(`${pattern} (a map)`);
        return;
      case "integer":
      case "number":
        numberProbes(s, push);
        return;
      case "boolean":
        push(true, "true", true);
        push(false, "false", true);
        push("yes", "not a boolean", false);
        return;
      case "array": {
        const min = s.minItems ?? 0;
        const item = (n: number) => Array.from({ length: n }, (_, i) => sampleOf(s.items ?? {}, [...path, i]));
        push(item(Math.max(min, 1)), min > 0 ? "min items" : "one item", true);
        if (min > 0) push(item(min - 1), "min items - 1", false);
        if (s.maxItems !== undefined) {
          push(item(s.maxItems), "max items", true);
          push(item(s.maxItems + 1), "max items + 1", false);
        }
        if (s.items) walk(s.items, [...path, 0]);
        return;
      }
      case "string": {
        const samples = STRING_SAMPLES[pattern];
        if (samples) {
          for (const v of samples) push(v, "sample", true);
          push("", "empty", false);
          if (s.maxLength !== undefined) push(`${samples[0]}${"x".repeat(s.maxLength)}`, "longer than max", false);
        } else if (FREE_TEXT_KEYS.includes(pattern)) {
          const min = s.minLength ?? 0;
          push("a".repeat(Math.max(min, 1)), "shortest", true);
          if (min > 0) push("", "min length - 1", false);
          if (s.maxLength !== undefined) {
            push("a".repeat(s.maxLength), "max length", true);
            push("a".repeat(s.maxLength + 1), "max length + 1", false);
          }
        } else {
          unclassified.push(`${pattern} (a string: add values to STRING_SAMPLES or the key to FREE_TEXT_KEYS in test/configWalk.ts)`);
        }
        push(7, "a number", false);
        return;
      }
      default:
        unclassified.push(`${pattern} (type ${s.type ?? "unknown"})`);
    }
  };
  for (const [k, child] of Object.entries(root.properties ?? {})) walk(child, [k]);
  return out;
}

/** The schema node at `path` (through unions: the first option that has the key). */
function nodeAt(root: JsonSchema, path: readonly (string | number)[]): JsonSchema | undefined {
  let s: JsonSchema | undefined = root;
  for (const p of path) {
    if (s === undefined) return undefined;
    const alts = options(s);
    const candidates: readonly JsonSchema[] = alts ?? [s];
    s = typeof p === "number" ? candidates.find((c) => c.items)?.items : candidates.find((c) => c.properties?.[p])?.properties?.[p];
  }
  return s;
}

/**
 * `raw` with `value` set at `path`; parents the stack does not have are built from samples (an absent ingest.jwt is
 * sampled whole before one of its keys is set). Returns a new object; `raw` is not changed.
 */
export function withValue(root: JsonSchema, raw: Readonly<Record<string, unknown>>, path: readonly (string | number)[], value: unknown): Record<string, unknown> {
  const copy = structuredClone(raw) as Record<string, unknown>;
  let node: Record<string | number, unknown> = copy;
  for (let i = 0; i < path.length - 1; i++) {
    const p = path[i];
    if (typeof node[p] !== "object" || node[p] === null) {
      const parentNode = nodeAt(root, path.slice(0, i + 1));
      // A union of object shapes (a chart's {repo} or {path}): build the shape that has the key being set.
      const parent = options(parentNode ?? {})?.find((o) => o.properties?.[String(path[i + 1])]) ?? parentNode;
      const sample = parent ? sampleOf(parent, path.slice(0, i + 1)) : {};
      node[p] = typeof sample === "object" && sample !== null ? structuredClone(sample) : typeof path[i + 1] === "number" ? [] : {};
    }
    node = node[p] as Record<string | number, unknown>;
  }
  node[path[path.length - 1]] = value;
  return copy;
}
