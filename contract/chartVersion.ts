/**
 * The version a chart on disk carries: `watchpipe:charts.<name>.path` points at an unpacked chart directory or a
 * `.tgz` archive, and Helm installs whatever version that Chart.yaml says (the Release's `version` is ignored for a
 * local chart). config.ts reads it before any resource exists and refuses a chart that is not the pinned version.
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { parse } from "yaml";
import type { ChartKey, ChartSourceSettings } from "./sources";

/** A tar header block; names and sizes live at fixed offsets (POSIX ustar). */
const TAR_BLOCK = 512;

/** Chart.yaml of an unpacked chart directory, or the top-level `<chart>/Chart.yaml` member of a .tgz. */
export function readChartYaml(path: string): string {
  if (!existsSync(path)) throw new Error(`no such file or directory: ${path}`);
  if (statSync(path).isDirectory()) {
    const file = join(path, "Chart.yaml");
    if (!existsSync(file)) throw new Error(`${path} is a directory without Chart.yaml (not an unpacked chart)`);
    return readFileSync(file, "utf8");
  }
  const tar = gunzipSync(readFileSync(path));
  for (let at = 0; at + TAR_BLOCK <= tar.length;) {
    const header = tar.subarray(at, at + TAR_BLOCK);
    const name = header.subarray(0, 100).toString("utf8").replace(/\0.*$/s, "");
    if (name === "") break;
    const prefix = header.subarray(345, 500).toString("utf8").replace(/\0.*$/s, "");
    const size = parseInt(header.subarray(124, 136).toString("utf8").replace(/\0.*$/s, "").trim() || "0", 8);
    const full = prefix ? `${prefix}/${name}` : name;
    if (/^[^/]+\/Chart\.yaml$/.test(full)) return tar.subarray(at + TAR_BLOCK, at + TAR_BLOCK + size).toString("utf8");
    at += TAR_BLOCK + Math.ceil(size / TAR_BLOCK) * TAR_BLOCK;
  }
  throw new Error(`${path} has no <chart>/Chart.yaml member (not a packaged chart)`);
}

/** The `version` field of the chart at `path`. */
export function readChartVersion(path: string): string {
  const doc = parse(readChartYaml(path)) as { version?: unknown } | null;
  if (typeof doc?.version !== "string" && typeof doc?.version !== "number") throw new Error(`${path}: Chart.yaml has no version field`);
  return String(doc.version);
}

/**
 * One problem per local chart that is not the version the program pins (or, with `acceptVersion`, the version the
 * stack explicitly accepts instead). `read` is {@link readChartVersion}; tests pass their own.
 */
export function chartPinProblems(
  charts: ChartSourceSettings,
  pins: Readonly<Record<ChartKey, string>>,
  read: (path: string) => string = readChartVersion,
  ns = "watchpipe",
): string[] {
  const out: string[] = [];
  for (const [key, source] of Object.entries(charts) as [ChartKey, ChartSourceSettings[ChartKey]][]) {
    if (!source || !("path" in source)) continue;
    const at = `${ns}:charts.${key}.path`;
    let found: string;
    try {
      found = read(source.path);
    } catch (err) {
      out.push(`${at}: expected a chart directory or .tgz of ${key} ${pins[key]}; could not read its Chart.yaml (${(err as Error).message}). Fix the path or remove charts.${key}.`);
      continue;
    }
    const expected = source.acceptVersion ?? pins[key];
    if (found === expected) continue;
    out.push(
      source.acceptVersion
        ? `${at}: Chart.yaml says version ${found}, but charts.${key}.acceptVersion accepts ${source.acceptVersion}; Helm would install ${found}. Point the path at the chart you accepted, or set acceptVersion to ${JSON.stringify(found)} after checking it.`
        : `${at}: the program pins ${key} ${pins[key]}, but Chart.yaml at ${source.path} says version ${found}; Helm would install ${found} silently. Use the ${pins[key]} chart, or, if this checkout of ${pins[key]} carries another version string (an unreleased source tree), set charts.${key}.acceptVersion: ${JSON.stringify(found)} to accept it explicitly.`,
    );
  }
  return out;
}
