/**
 * Turn the resources the program registers (under mocks) into the Kubernetes objects it would apply, one YAML file
 * per object, grouped by namespace. Pure: tools/render.ts writes the files, tests read the same objects.
 *
 * - Typed Kubernetes resources and CustomResources render as the object the provider sends (apiVersion, kind,
 *   metadata, spec/data).
 * - A Helm release renders as a `helm.sh/v3 Release` object with its chart, version and values: the chart's
 *   templates are NOT expanded (that needs the chart and `helm template`), so the objects a chart creates are absent.
 * - Other Kubernetes-provider components (yaml ConfigGroup, Chart v4…) render as the Pulumi resource with its inputs.
 * - Secret `data`/`stringData` values are redacted (keys stay so reviewers see the shape); inside other values
 *   Pulumi marks secret, credential-named leaves and key/certificate blobs are redacted.
 */
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { stringify } from "yaml";
import { HELM_RELEASE_TYPE, isObject, isSecretName, k8sType } from "../contract/resourceChecks";
import type { RecordedResource } from "./mockRun";

export const REDACTED = "<redacted>";
/** The signature key Pulumi uses to mark a serialized secret value. */
const PULUMI_SECRET_SIG = "4dabf18193072939515e22adb298388d";
/** Directory for cluster-scoped objects (namespaces, StorageClasses, ClusterRoles…). */
export const CLUSTER_SCOPED_DIR = "_cluster";
/** Annotation carrying the render tool's notes (auto-naming, unexpanded charts). Never applied to a cluster. */
export const NOTE_ANNOTATION = "render.watchpipe.io/note";

export interface RenderedObject {
  /** Relative path: `<namespace>/<kind>-<name>.yaml`. */
  readonly path: string;
  readonly namespace: string | undefined;
  readonly apiVersion: string;
  readonly kind: string;
  readonly name: string;
  /** The Pulumi resource it came from. */
  readonly urn: string;
  readonly object: Record<string, unknown>;
}

type Json = Record<string, unknown>;

/** The value inside a Pulumi secret wrapper, or the value itself. */
export function unwrapSecret(value: unknown): unknown {
  return isObject(value) && PULUMI_SECRET_SIG in value ? value.value : value;
}

/** A PEM block or a long base64 blob (certificates, keys, keystores). */
const BLOB = /-----BEGIN [A-Z ]+-----|^[A-Za-z0-9+/=\r\n]{64,}$/;

/**
 * Inside a value Pulumi marks secret (often a whole Helm values object because one leaf came from a secret),
 * keep the structure and plain settings, redact every leaf that could be the secret: credential-named keys, PEM
 * blocks and base64 blobs. Under mocks no generated secret exists (random passwords and keys are mock values), and
 * a config secret arrives as ciphertext, so this only decides what a reviewer sees.
 */
function cleanSecretSubtree(value: unknown, key: string): unknown {
  if (Array.isArray(value)) return value.map((v) => cleanSecretSubtree(v, key));
  if (isObject(value)) {
    if (PULUMI_SECRET_SIG in value) return cleanSecretSubtree(value.value, key);
    return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined).map(([k, v]) => [k, cleanSecretSubtree(v, k)]));
  }
  if (typeof value === "string" && (isSecretName(key) || BLOB.test(value))) return REDACTED;
  return value;
}

/** Deep copy with Pulumi secret values redacted (see above) and undefined dropped (YAML cannot say "undefined"). */
function clean(value: unknown, key = ""): unknown {
  if (Array.isArray(value)) return value.map((v) => clean(v, key));
  if (!isObject(value)) return value;
  if (PULUMI_SECRET_SIG in value) return cleanSecretSubtree(value.value, key);
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined).map(([k, v]) => [k, clean(v, k)]));
}

/** The keys of a Secret's data map, looking through a Pulumi secret wrapper. */
function secretKeys(map: unknown): string[] {
  const inner = isObject(map) && PULUMI_SECRET_SIG in map ? map.value : map;
  return isObject(inner) ? Object.keys(inner) : [];
}

/**
 * Secret values redacted, keys kept (including keys whose value is not known under mocks, such as a generated
 * password), so reviewers see which keys a Secret carries.
 */
export function redactSecret(secret: Json): Json {
  const out: Json = { ...secret };
  for (const field of ["data", "stringData"]) {
    if (secret[field] !== undefined) out[field] = Object.fromEntries(secretKeys(secret[field]).map((k) => [k, REDACTED]));
  }
  return out;
}

function withNote(metadata: Json, note: string): Json {
  const annotations = isObject(metadata.annotations) ? metadata.annotations : {};
  return { ...metadata, annotations: { ...annotations, [NOTE_ANNOTATION]: note } };
}

/** The object one Kubernetes resource would apply, or undefined for non-Kubernetes resources and providers. */
export function objectOf(resource: RecordedResource): Json | undefined {
  const t = k8sType(resource.type);
  if (!t) return undefined;
  const isSecret = resource.inputs.kind === "Secret" || (t.group === "core" && t.kind === "Secret");
  const inputs = clean(isSecret ? redactSecret(resource.inputs) : resource.inputs) as Json;
  if (resource.type === HELM_RELEASE_TYPE) {
    const { name, namespace, values, chart, version, repositoryOpts, ...rest } = inputs;
    return {
      apiVersion: "helm.sh/v3",
      kind: "Release",
      metadata: withNote({ name: name ?? resource.name, namespace }, "Helm release as Pulumi passes it: chart templates are not expanded here"),
      spec: clean({ chart, version, repositoryOpts, ...rest, values: values ?? {} }),
    };
  }
  const apiVersion = typeof inputs.apiVersion === "string" ? inputs.apiVersion : t.group === "core" ? t.version : `${t.group}/${t.version}`;
  const kind = typeof inputs.kind === "string" ? inputs.kind : t.kind;
  if (typeof inputs.apiVersion !== "string" && !("spec" in inputs || "data" in inputs || "metadata" in inputs)) {
    // A provider-side component (yaml/v2 ConfigGroup, helm/v4 Chart): show what it was given.
    return { apiVersion: "pulumi.com/v1", kind, metadata: withNote({ name: resource.name }, `Pulumi ${resource.type} component; its objects are expanded by the provider at deploy`), spec: inputs };
  }
  let metadata = isObject(inputs.metadata) ? inputs.metadata : {};
  if (typeof metadata.name !== "string") {
    metadata = withNote({ ...metadata, name: resource.name }, `no metadata.name: Pulumi auto-names it "${resource.name}-<random suffix>" at deploy`);
  }
  return { ...inputs, apiVersion, kind, metadata };
}

function fileName(kind: string, name: string): string {
  return `${kind.toLowerCase()}-${name}.yaml`.replace(/[^A-Za-z0-9._-]/g, "_");
}

/** Every Kubernetes object of a program run, with the path it is written to. Throws on two objects per path. */
export function renderObjects(resources: readonly RecordedResource[]): RenderedObject[] {
  const rendered: RenderedObject[] = [];
  const byPath = new Map<string, RenderedObject>();
  for (const resource of resources) {
    const object = objectOf(resource);
    if (!object) continue;
    const metadata = object.metadata as Json;
    const namespace = typeof metadata.namespace === "string" ? metadata.namespace : undefined;
    const kind = String(object.kind);
    const name = String(metadata.name);
    const path = `${namespace ?? CLUSTER_SCOPED_DIR}/${fileName(kind, name)}`;
    const entry: RenderedObject = { path, namespace, apiVersion: String(object.apiVersion), kind, name, urn: resource.urn, object };
    const clash = byPath.get(path);
    if (clash) {
      throw new Error(`two Kubernetes objects render to ${path}: ${clash.urn} and ${resource.urn}; expected unique kind/name per namespace. Rename one of the resources.`);
    }
    byPath.set(path, entry);
    rendered.push(entry);
  }
  return rendered.sort((a, b) => a.path.localeCompare(b.path));
}

/** The YAML text of one rendered object, with a header naming where it came from. */
export function toYaml(entry: RenderedObject, stack: string): string {
  const header = `# ${entry.kind} ${entry.namespace ? `${entry.namespace}/` : ""}${entry.name}: rendered under mocks from stack "${stack}" (${entry.urn})\n`;
  return header + stringify(entry.object, { lineWidth: 0, aliasDuplicateObjects: false });
}

/** A render directory carries this marker so a re-render may replace it and nothing else is ever deleted. */
export const RENDER_MARKER = ".watchpipe-render";

/**
 * Write rendered objects under `out` (absolute). A directory from an earlier render is replaced; any other
 * non-empty directory is refused, so a typo in --out never deletes someone's files.
 */
export function writeRender(out: string, objects: readonly RenderedObject[], stack: string): void {
  if (existsSync(out) && readdirSync(out).length > 0) {
    if (!existsSync(join(out, RENDER_MARKER))) {
      throw new Error(`--out ${out} is a non-empty directory that no earlier render made (no ${RENDER_MARKER} file); expected a new or previously rendered directory. Choose another --out or empty it.`);
    }
    rmSync(out, { recursive: true });
  }
  mkdirSync(out, { recursive: true });
  for (const entry of objects) {
    const file = join(out, entry.path);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, toYaml(entry, stack));
  }
  writeFileSync(join(out, RENDER_MARKER), `stack ${stack}\n`);
}

/**
 * What a program run registers, counted one way for every tool (render and plan print {@link describeTally}), so
 * their numbers mean the same thing. `pulumi preview` counts every one of these plus the stack itself.
 */
export interface ResourceTally {
  /** Every resource registered: components, providers and custom resources (the stack itself is not included). */
  readonly registered: number;
  /** ComponentResources (and remote components such as eks.Cluster under mocks): grouping, nothing is created. */
  readonly components: number;
  /** Provider instances (pulumi:providers:*). */
  readonly providers: number;
  /** Custom resources of the kubernetes provider: each is one Kubernetes object in the render. */
  readonly kubernetes: number;
  /** Every other custom resource: AWS, random, tls. */
  readonly other: number;
  /** Kubernetes objects in the render (equal to `kubernetes`: a Helm release is one Release object until expanded). */
  readonly kubernetesObjects: number;
}

export function tallyResources(resources: readonly RecordedResource[]): ResourceTally {
  const providers = resources.filter((r) => r.type.startsWith("pulumi:providers:")).length;
  const custom = resources.filter((r) => r.custom && !r.type.startsWith("pulumi:providers:"));
  const kubernetes = custom.filter((r) => k8sType(r.type) !== undefined).length;
  return {
    registered: resources.length,
    components: resources.filter((r) => !r.custom && !r.type.startsWith("pulumi:providers:")).length,
    providers,
    kubernetes,
    other: custom.length - kubernetes,
    kubernetesObjects: renderObjects(resources).length,
  };
}

/** The one counts line: "137 Pulumi resources (… ) → 64 Kubernetes objects". */
export function describeTally(t: ResourceTally): string {
  return (
    `${t.registered} Pulumi resources (${t.other} cloud/other + ${t.kubernetes} Kubernetes resources, ${t.components} components, ${t.providers} ${t.providers === 1 ? "provider" : "providers"}; ` +
    `\`pulumi preview\` adds 1 for the stack) → ${t.kubernetesObjects} Kubernetes objects (one per Kubernetes resource; each Helm release is one object until expanded)`
  );
}
