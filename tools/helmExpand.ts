/**
 * `render --helm`: expand each Helm release of a render into the objects its chart creates, with `helm template`
 * and the exact values the program passes. Charts are read at run time from a local directory of unpacked charts
 * named `<chart>-<version>` (the team's `../shared/charts`, or --charts-dir): nothing is fetched, nothing is copied
 * into the repository. When helm or a chart is missing, the release stays unexpanded and the tool says why.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { parseAllDocuments } from "yaml";
import { HELM_RELEASE_TYPE, isObject } from "../contract/resourceChecks";
import type { RecordedResource } from "./mockRun";
import { redactSecret, unwrapSecret, type RenderedObject } from "./renderObjects";

type Json = Record<string, unknown>;

/** One release's outcome: its objects, or why it was not expanded. */
export type Expansion =
  | { readonly release: string; readonly namespace: string; readonly chart: string; readonly expanded: true; readonly objects: RenderedObject[] }
  | { readonly release: string; readonly namespace: string; readonly chart: string; readonly expanded: false; readonly reason: string };

/** `helm version --short` of the helm on PATH (or `helm`), or undefined when there is none. */
export function helmVersion(helm = "helm"): string | undefined {
  try {
    return execFileSync(helm, ["version", "--short"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
  } catch {
    return undefined;
  }
}

/** The unpacked chart directory for a release's chart ("oci://…/strimzi-kafka-operator", "yugabyte") and version. */
export function chartDirFor(chartsDir: string, chart: string, version: string): string {
  return join(chartsDir, `${basename(chart)}-${version}`);
}

/** Values as the provider would pass them: Pulumi secret wrappers removed (under mocks they hold mock values only). */
function plainValues(value: unknown): unknown {
  const v = unwrapSecret(value);
  if (Array.isArray(v)) return v.map(plainValues);
  if (!isObject(v)) return v;
  return Object.fromEntries(Object.entries(v).filter(([, x]) => x !== undefined).map(([k, x]) => [k, plainValues(x)]));
}

let throwawayCa: { certB64: string; keyB64: string } | undefined;

/**
 * Under mocks the program's TLS root CA is a placeholder (tools/mockRun.ts), which the YugabyteDB chart's
 * `buildCustomCert` cannot parse. For the render only, swap it for a throwaway CA made with openssl (valid one day,
 * PKCS#1 key as the chart expects); the certificates the chart derives from it land in Secrets, which are redacted.
 */
function withRenderableCa(values: unknown): unknown {
  if (!isObject(values) || !isObject(values.tls) || !isObject(values.tls.rootCA)) return values;
  const cert = values.tls.rootCA.cert;
  if (typeof cert !== "string" || !Buffer.from(cert, "base64").toString("utf8").includes("mock-")) return values;
  if (!throwawayCa) {
    const dir = mkdtempSync(join(tmpdir(), "watchpipe-ca-"));
    try {
      const [key, crt] = [join(dir, "ca.key"), join(dir, "ca.crt")];
      execFileSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", crt, "-days", "1", "-subj", "/CN=watchpipe-render-ca"], { stdio: "ignore" });
      const pkcs1 = execFileSync("openssl", ["rsa", "-in", key, "-traditional"], { stdio: ["ignore", "pipe", "ignore"] });
      throwawayCa = { certB64: readFileSync(crt).toString("base64"), keyB64: pkcs1.toString("base64") };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  return { ...values, tls: { ...values.tls, rootCA: { ...values.tls.rootCA, cert: throwawayCa.certB64, key: throwawayCa.keyB64 } } };
}

/** Parse `helm template` output into rendered objects under `<namespace>/helm-<release>/`, Secrets redacted. */
export function objectsOfTemplate(yamlText: string, release: string, namespace: string, urn: string): RenderedObject[] {
  const out: RenderedObject[] = [];
  for (const doc of parseAllDocuments(yamlText)) {
    const value = doc.toJS() as unknown;
    if (!isObject(value) || typeof value.kind !== "string") continue;
    const object = value.kind === "Secret" ? redactSecret(value) : value;
    const metadata = isObject(object.metadata) ? object.metadata : {};
    const ns = typeof metadata.namespace === "string" ? metadata.namespace : namespace;
    const name = String(metadata.name ?? "unnamed");
    const kind = String(object.kind);
    const file = `${kind.toLowerCase()}-${name}.yaml`.replace(/[^A-Za-z0-9._-]/g, "_");
    out.push({ path: `${ns}/helm-${release}/${file}`, namespace: ns, apiVersion: String(object.apiVersion), kind, name, urn, object: object as Json });
  }
  return out;
}

/** Expand every Helm release among `resources`. `helm` is the binary to run (PATH lookup by default). */
export function expandHelmReleases(resources: readonly RecordedResource[], chartsDir: string, helm = "helm"): Expansion[] {
  const releases = resources.filter((r) => r.type === HELM_RELEASE_TYPE);
  const version = helmVersion(helm);
  return releases.map((r): Expansion => {
    const inputs = r.inputs as Json;
    const release = String(inputs.name ?? r.name);
    const namespace = String(inputs.namespace ?? "default");
    const chart = String(inputs.chart ?? "");
    const chartVersion = String(inputs.version ?? "");
    const base = { release, namespace, chart: `${basename(chart)} ${chartVersion}` };
    if (version === undefined) return { ...base, expanded: false, reason: `${helm} is not on PATH (install helm v3 to expand charts)` };
    const dir = chartDirFor(chartsDir, chart, chartVersion);
    if (!existsSync(join(dir, "Chart.yaml"))) return { ...base, expanded: false, reason: `no unpacked chart at ${dir} (expected <chart>-<version>/Chart.yaml under --charts-dir)` };
    const tmp = mkdtempSync(join(tmpdir(), "watchpipe-helm-"));
    try {
      const valuesFile = join(tmp, "values.json");
      writeFileSync(valuesFile, JSON.stringify(withRenderableCa(plainValues(inputs.values ?? {}))));
      const args = ["template", release, dir, "--namespace", namespace, "--values", valuesFile];
      // Pulumi's helm Release installs the chart's crds/ unless skipCrds is set.
      if (inputs.skipCrds !== true) args.push("--include-crds");
      const text = execFileSync(helm, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], maxBuffer: 64 * 1024 * 1024 });
      return { ...base, expanded: true, objects: objectsOfTemplate(text, release, namespace, r.urn) };
    } catch (err) {
      const stderr = String((err as { stderr?: unknown }).stderr ?? (err as Error).message).trim().split("\n").slice(-3).join(" ");
      return { ...base, expanded: false, reason: `helm template failed: ${stderr}` };
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
}
