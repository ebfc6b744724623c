/**
 * `--set <path>=<value>` for the tools that run the program under mocks (`npm run plan`): change one stack config
 * value without editing Pulumi.<stack>.yaml. The path is dotted under the project's namespace (`ingest.gateway.
 * minReplicas`), or starts with a namespaced key (`aws:region`); the value is JSON when it parses as JSON, else a
 * string. Nested values are merged into the stack's own object, so `--set ingest.gateway={...}` keeps the stack's
 * `ingest.waf`. Pure: the caller passes the stack file's config and gets the top-level keys to override.
 */
import { isObject } from "../contract/resourceChecks";

const NAMESPACE = "watchpipe";

/** One `--set` argument as its top-level key, the path inside it and the value. */
export function parseSet(arg: string): { key: string; path: string[]; value: unknown } {
  const eq = arg.indexOf("=");
  const path = eq > 0 ? arg.slice(0, eq).split(".") : [];
  if (eq <= 0 || path.some((p) => p === "")) {
    throw new Error(`--set ${JSON.stringify(arg)}: expected <path>=<value>, e.g. --set capacity.peakEventsPerSec=20000 or --set 'ingest.gateway={"image":"…@sha256:…"}'`);
  }
  const text = arg.slice(eq + 1);
  let value: unknown = text;
  try {
    value = JSON.parse(text);
  } catch {
    // Not JSON: the value is the string as written (an image reference, a region).
  }
  const [head, ...rest] = path as [string, ...string[]];
  return { key: head.includes(":") ? head : `${NAMESPACE}:${head}`, path: rest, value };
}

/** Set `value` at `path` inside a copy of `base`, merging objects into objects. */
function setIn(base: unknown, path: readonly string[], value: unknown): unknown {
  if (path.length === 0) return isObject(base) && isObject(value) ? { ...base, ...Object.fromEntries(Object.entries(value).map(([k, v]) => [k, setIn(base[k], [], v)])) } : value;
  const [head, ...rest] = path as [string, ...string[]];
  const obj = isObject(base) ? base : {};
  return { ...obj, [head]: setIn(obj[head], rest, value) };
}

/** The top-level config keys `--set` arguments change, each merged into the stack file's value. */
export function configOverrides(fileConfig: Readonly<Record<string, unknown>>, sets: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const arg of sets) {
    const { key, path, value } = parseSet(arg);
    out[key] = setIn(key in out ? out[key] : fileConfig[key], path, value);
  }
  return out;
}
