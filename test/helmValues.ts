/**
 * Check Helm values we set against a chart's own values.yaml. Helm ignores a value the templates never read, so a
 * misspelled or outdated key deploys silently with the default; this lists such keys instead.
 *
 * Rules: every leaf path we set must exist in values.yaml. Where the chart leaves a place open (a `{}` map, a null
 * default, or an array) any sub-keys or items are accepted, because the chart passes them through. A key that only
 * appears commented out in values.yaml is unknown here: pass it in `allow` with a comment saying where the chart
 * documents it.
 */
import { readFileSync } from "node:fs";
import { parse } from "yaml";
import { assertSharedPresent, repoPath } from "./sharedRefs";

export interface UnknownValueOptions {
  /** Paths (or path prefixes) accepted although values.yaml lacks them, e.g. "image.imagePullSecrets". */
  readonly allow?: readonly string[];
}

const parsedCharts = new Map<string, unknown>();

/** The chart's default values, parsed once per path. */
export function chartDefaults(valuesYamlPath: string): unknown {
  const file = repoPath(valuesYamlPath);
  if (file.includes("/shared/")) assertSharedPresent("unknownValuePaths");
  let parsed = parsedCharts.get(file);
  if (parsed === undefined) {
    parsed = parse(readFileSync(file, "utf8")) ?? {};
    parsedCharts.set(file, parsed);
  }
  return parsed;
}

function isMap(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function join(path: string, key: string): string {
  const part = /^[A-Za-z0-9_-]+$/.test(key) ? key : `[${JSON.stringify(key)}]`;
  if (!path) return part;
  return part.startsWith("[") ? `${path}${part}` : `${path}.${part}`;
}

/** Every leaf path under `value` (an empty map or a scalar is a leaf). */
function leafPaths(value: unknown, path: string): string[] {
  if (!isMap(value) || Object.keys(value).length === 0) return [path];
  return Object.entries(value).flatMap(([k, v]) => leafPaths(v, join(path, k)));
}

/** True where the chart accepts anything below: `{}`, null/`~`, or an array default. */
function isOpen(chartValue: unknown): boolean {
  return chartValue === null || Array.isArray(chartValue) || (isMap(chartValue) && Object.keys(chartValue).length === 0);
}

function walk(ours: unknown, chart: unknown, path: string, out: string[]): void {
  if (isOpen(chart)) return;
  if (isMap(chart)) {
    if (!isMap(ours)) return; // a scalar replacing a map is a type question, not an unknown path
    for (const [k, v] of Object.entries(ours)) {
      const child = join(path, k);
      if (!(k in chart)) out.push(...leafPaths(v, child));
      else walk(v, chart[k], child, out);
    }
    return;
  }
  // The chart's default is a scalar: setting sub-keys under it means the path does not exist.
  if (isMap(ours) && Object.keys(ours).length > 0) out.push(...leafPaths(ours, path));
}

function allowed(path: string, allow: readonly string[]): boolean {
  return allow.some((a) => path === a || path.startsWith(`${a}.`) || path.startsWith(`${a}[`));
}

/**
 * Value paths in `values` that the chart's values.yaml does not have. `valuesYamlPath` is relative to the repository
 * root (e.g. "../shared/charts/strimzi-kafka-operator-1.2.0/values.yaml") or absolute.
 */
export function unknownValuePaths(values: unknown, valuesYamlPath: string, options: UnknownValueOptions = {}): string[] {
  const out: string[] = [];
  walk(values, chartDefaults(valuesYamlPath), "", out);
  return out.filter((p) => !allowed(p, options.allow ?? []));
}
