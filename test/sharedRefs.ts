/**
 * Where the upstream reference material (CRDs, chart values.yaml files) lives and what a test does when it is
 * missing. The files sit beside the checkout as `../shared` and are read at test time, never copied into the repo.
 *
 * Kept free of vitest imports so tools outside the test runner can use the validators that depend on it.
 */
import { existsSync } from "node:fs";
import { isAbsolute, join, resolve } from "node:path";

/** The repository root (this file lives in test/). */
export const REPO_ROOT = join(__dirname, "..");
/**
 * `../shared` relative to the repository, as the team guide defines it. WATCHPIPE_SHARED_DIR overrides it (e.g. to
 * check that the suites skip, or fail under CI=true, when the files are absent).
 */
export const SHARED_DIR = resolve(REPO_ROOT, process.env.WATCHPIPE_SHARED_DIR ?? join("..", "shared"));

/**
 * A path relative to the repository root (e.g. "../shared/charts/x/values.yaml"), or an absolute path. A path under
 * `../shared/` resolves under SHARED_DIR, so WATCHPIPE_SHARED_DIR moves every reference file, not only the check.
 */
export function repoPath(path: string): string {
  if (isAbsolute(path)) return path;
  const shared = /^\.\.[/\\]shared[/\\](.*)$/.exec(path);
  return shared ? join(SHARED_DIR, shared[1]) : resolve(REPO_ROOT, path);
}

/** Why the reference material cannot be used, or undefined when it is there. */
export function sharedMissingReason(): string | undefined {
  if (existsSync(join(SHARED_DIR, "crds")) && existsSync(join(SHARED_DIR, "charts"))) return undefined;
  return `the reference CRDs and chart values (${SHARED_DIR}/crds, ${SHARED_DIR}/charts) are not beside this checkout`;
}

/** True when CI=true: missing reference material is then a failure, not a skip. */
export function isCi(): boolean {
  return process.env.CI === "true";
}

/** Throw a message that names the missing directory and how to fix it (used by the validators themselves). */
export function assertSharedPresent(what: string): void {
  const reason = sharedMissingReason();
  if (reason) {
    throw new Error(`${what} needs ../shared: ${reason}. Check out the shared reference files next to the repository (as ../shared) and rerun.`);
  }
}
