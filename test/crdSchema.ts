/**
 * Validate custom resources against the operators' own CRD schemas in ../shared/crds (Strimzi 1.2.0, YugabyteDB
 * Kubernetes Operator), the way the API server would, plus one thing it would only do silently: an unknown field is
 * an ERROR here. Kubernetes prunes unknown fields from structural schemas without complaint, so a misspelled or
 * moved Strimzi field would deploy and simply be ignored; this check turns that into a failing test.
 *
 * Checked: apiVersion/kind are served by a CRD; types, required, enum, minimum/maximum, minItems/maxItems, patterns,
 * oneOf/anyOf; no unknown fields in any object schema that lists `properties` (unless it carries
 * `x-kubernetes-preserve-unknown-fields` or `additionalProperties`); `x-kubernetes-int-or-string` accepts an integer
 * or a string; metadata labels/annotations are string maps.
 * Not checked: `x-kubernetes-validations` (CEL rules need an API server) and string `format`s (Kubernetes only
 * enforces a few; the CRDs here use `int` and `date-time` only in status).
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import Ajv, { type ErrorObject, type ValidateFunction } from "ajv";
import { parseAllDocuments } from "yaml";
import { assertSharedPresent, SHARED_DIR } from "./sharedRefs";

/** CRD files we validate against, relative to ../shared/crds. Directories mean "every *.yaml in it". */
export const CRD_SOURCES = [
  "strimzi-1.2.0",
  "yugabyte-k8s-operator/concatenated_crd.yaml",
  // PodMonitor, PrometheusRule, ...: the CRDs kube-prometheus-stack 88.5.3 installs (operators/monitoringValues.ts).
  "prometheus-operator-0.93.1",
] as const;

/** JSON-schema fragment as it appears in a CRD (open-ended by nature). */
type Schema = Record<string, unknown>;

interface CrdVersion {
  readonly group: string;
  readonly version: string;
  readonly kind: string;
  readonly file: string;
  readonly schema: Schema;
}

/** ObjectMeta fields a manifest may set; everything else in metadata is server-populated. */
const METADATA_SCHEMA: Schema = {
  type: "object",
  additionalProperties: false,
  properties: {
    name: { type: "string", minLength: 1, maxLength: 253, pattern: "^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$" },
    generateName: { type: "string" },
    namespace: { type: "string", minLength: 1, maxLength: 63, pattern: "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$" },
    labels: { type: "object", additionalProperties: { type: "string" } },
    annotations: { type: "object", additionalProperties: { type: "string" } },
    finalizers: { type: "array", items: { type: "string" } },
    ownerReferences: { type: "array", items: { type: "object" } },
  },
};

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Rewrite a CRD schema into a strict JSON schema: close every object that lists `properties`, and spell out
 * int-or-string. oneOf/anyOf/allOf/not branches are value validations in a structural schema (they restate fields
 * declared at the level above), so they are left as they are: closing them would reject valid objects.
 */
export function strictSchema(schema: Schema): Schema {
  const out: Schema = { ...schema };
  // Treating the whole pattern as case-insensitive when `(?i)` appears in it is at most more lenient than RE2.
  if (typeof out.pattern === "string" && out.pattern.includes("(?i)")) out.pattern = caseInsensitivePattern(out.pattern.replaceAll("(?i)", ""));
  if (out["x-kubernetes-int-or-string"] === true && out.anyOf === undefined && out.oneOf === undefined) {
    delete out.type;
    out.anyOf = [{ type: "integer" }, { type: "string" }];
  }
  if (isObject(out.properties)) {
    out.properties = Object.fromEntries(Object.entries(out.properties).map(([key, sub]) => [key, isObject(sub) ? strictSchema(sub) : sub]));
    const open = out["x-kubernetes-preserve-unknown-fields"] === true || out.additionalProperties !== undefined;
    if (!open) out.additionalProperties = false;
  }
  if (isObject(out.additionalProperties)) out.additionalProperties = strictSchema(out.additionalProperties);
  if (isObject(out.items)) out.items = strictSchema(out.items);
  return out;
}

/**
 * The API server evaluates CRD patterns with Go's RE2, whose `(?i)` flag JavaScript patterns lack (the Prometheus
 * Operator CRDs use it, e.g. for `onError`): spell every letter as both cases, `ab` → `[aA][bB]`.
 */
export function caseInsensitivePattern(pattern: string): string {
  let out = "";
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === "\\") {
      out += c + (pattern[i + 1] ?? "");
      i++;
    } else if (c === "[" && !inClass) {
      inClass = true;
      out += c;
    } else if (c === "]" && inClass) {
      inClass = false;
      out += c;
    } else if (/[a-z]/i.test(c)) {
      const both = c.toLowerCase() + c.toUpperCase();
      out += inClass ? both : `[${both}]`;
    } else {
      out += c;
    }
  }
  return out;
}

function crdFiles(): string[] {
  const root = join(SHARED_DIR, "crds");
  return CRD_SOURCES.flatMap((source) => {
    if (source.endsWith(".yaml")) return [join(root, source)];
    return readdirSync(join(root, source))
      .filter((f) => f.endsWith(".yaml"))
      .sort()
      .map((f) => join(root, source, f));
  });
}

/** Every served version of every CRD in {@link CRD_SOURCES}. */
function loadCrds(): Map<string, CrdVersion> {
  assertSharedPresent("validateCustomResource");
  const found = new Map<string, CrdVersion>();
  for (const file of crdFiles()) {
    for (const doc of parseAllDocuments(readFileSync(file, "utf8"))) {
      const crd: unknown = doc.toJS();
      if (!isObject(crd) || crd.kind !== "CustomResourceDefinition" || !isObject(crd.spec)) continue;
      const spec = crd.spec;
      const group = String(spec.group);
      const kind = String(isObject(spec.names) ? spec.names.kind : "");
      const versions = Array.isArray(spec.versions) ? spec.versions.filter(isObject) : [];
      for (const v of versions) {
        if (v.served !== true) continue;
        const perVersion = isObject(v.schema) ? v.schema.openAPIV3Schema : undefined;
        const legacy = isObject(spec.validation) ? spec.validation.openAPIV3Schema : undefined;
        const schema = perVersion ?? legacy;
        if (!isObject(schema)) throw new Error(`CRD ${String(group)}/${String(v.name)} ${kind} in ${file} has no openAPIV3Schema; expected one per served version.`);
        found.set(key(`${group}/${String(v.name)}`, kind), { group, version: String(v.name), kind, file, schema });
      }
    }
  }
  return found;
}

function key(apiVersion: string, kind: string): string {
  return `${apiVersion}::${kind}`;
}

let crds: Map<string, CrdVersion> | undefined;
const validators = new Map<string, ValidateFunction>();
// strict: false because CRDs carry `x-kubernetes-*` keywords ajv does not know; validateFormats: false, see header.
const ajv = new Ajv({ allErrors: true, strict: false, validateFormats: false, verbose: true });

function validatorFor(crd: CrdVersion): ValidateFunction {
  const id = key(`${crd.group}/${crd.version}`, crd.kind);
  let validate = validators.get(id);
  if (!validate) {
    const strict = strictSchema(crd.schema);
    const properties = isObject(strict.properties) ? strict.properties : {};
    // The API server owns apiVersion, kind and metadata whatever the CRD's schema declares (the YBUniverse CRD's
    // schema omits apiVersion and kind); apiVersion/kind were matched to this CRD above.
    validate = ajv.compile({
      ...strict,
      properties: { ...properties, apiVersion: { type: "string" }, kind: { type: "string" }, metadata: METADATA_SCHEMA },
    });
    validators.set(id, validate);
  }
  return validate;
}

/** apiVersion → kinds the loaded CRDs serve, e.g. for a test that lists what it can validate. */
export function servedKinds(): string[] {
  crds ??= loadCrds();
  return [...crds.values()].map((c) => `${c.group}/${c.version} ${c.kind}`).sort();
}

/** True when an apiVersion belongs to a CRD group we have a schema for (kafka.strimzi.io, operator.yugabyte.io). */
export function isKnownCustomResourceGroup(apiVersion: string): boolean {
  crds ??= loadCrds();
  const group = apiVersion.split("/")[0];
  return [...crds.values()].some((c) => c.group === group);
}

/** `spec.kafka.listeners[0].port` from ajv's `/spec/kafka/listeners/0/port`. */
function displayPath(instancePath: string): string {
  const parts = instancePath.split("/").slice(1).map((p) => p.replace(/~1/g, "/").replace(/~0/g, "~"));
  return parts.reduce((acc, p) => (/^\d+$/.test(p) ? `${acc}[${p}]` : acc ? `${acc}.${p}` : p), "") || "(root)";
}

function describeError(e: ErrorObject): string {
  const at = displayPath(e.instancePath);
  const got = JSON.stringify(e.data);
  switch (e.keyword) {
    case "additionalProperties": {
      const parent = e.parentSchema as Schema | undefined;
      const allowed = parent && isObject(parent.properties) ? Object.keys(parent.properties).join(", ") : "none";
      const field = String((e.params as { additionalProperty: string }).additionalProperty);
      return `${at}: unknown field "${field}" (Kubernetes would silently drop it); the CRD allows: ${allowed}. Fix the spelling or move it to where the CRD defines it.`;
    }
    case "required":
      return `${at}: missing required field "${String((e.params as { missingProperty: string }).missingProperty)}".`;
    case "enum":
      return `${at}: expected one of ${JSON.stringify((e.params as { allowedValues: unknown[] }).allowedValues)}; got ${got}.`;
    case "type":
      return `${at}: expected type ${String((e.params as { type: string }).type)}; got ${got}.`;
    default:
      return `${at}: ${e.message ?? e.keyword}; got ${got}.`;
  }
}

/**
 * Validate one custom resource (apiVersion, kind, metadata, spec). Returns human-readable errors, empty when valid.
 * Throws when ../shared is missing (callers skip or fail, see test/withShared.ts).
 */
export function validateCustomResource(obj: unknown): string[] {
  crds ??= loadCrds();
  if (!isObject(obj)) return [`expected a custom resource object; got ${JSON.stringify(obj)}.`];
  const apiVersion = String(obj.apiVersion);
  const kind = String(obj.kind);
  const meta = isObject(obj.metadata) ? obj.metadata : {};
  const label = `${kind} ${meta.namespace ? `${String(meta.namespace)}/` : ""}${String(meta.name ?? "(unnamed)")}`;
  const crd = crds.get(key(apiVersion, kind));
  if (!crd) {
    const sameKind = [...crds.values()].filter((c) => c.kind === kind).map((c) => `${c.group}/${c.version}`);
    const hint = sameKind.length ? `this kind is served as ${sameKind.join(", ")}` : `no CRD in ${CRD_SOURCES.join(", ")} defines kind ${kind}`;
    return [`${label}: apiVersion "${apiVersion}" kind "${kind}" is not served by the reference CRDs; ${hint}.`];
  }
  const validate = validatorFor(crd);
  if (validate(obj)) return [];
  const messages = (validate.errors ?? []).map((e) => `${label}: ${describeError(e)}`);
  return [...new Set(messages)];
}
