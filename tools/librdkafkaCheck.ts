/**
 * Whether the optional librdkafka client (@confluentinc/kafka-javascript) built, as one line for `npm ci`'s output.
 * npm drops an optional dependency whose install script fails and says so only in its debug log; the load generator
 * then runs on kafkajs at about half the rate and the librdkafka durability tests skip. Pure: the loader and the npm
 * log are passed in (tools/check-librdkafka.ts supplies the real ones; test/librdkafkaCheck.test.ts fakes them).
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { EXIT_CHECK_FAILED, EXIT_OK } from "./exitCodes";

export type ClientLoad = { readonly ok: true; readonly version: string } | { readonly ok: false; readonly reason: string };

export interface NpmLog {
  readonly path: string;
  readonly text: string;
}

export interface CheckResult {
  readonly line: string;
  readonly code: number;
}

/** Where the one-line fix points: the script that installs the build's system packages, then a rebuild of the client. */
export const REBUILD_HINT = ". .ci/install-librdkafka-client.sh && npm rebuild @confluentinc/kafka-javascript (docs/loadgen.md)";
/** Cap on the log line quoted as the reason: the line is for a console, the full text is in the log. */
const MAX_REASON_CHARS = 240;

/** The npm log line that says why the client's install failed (the last one naming it with an error), if any. */
export function reasonFromNpmLog(text: string, pkg: string): string | undefined {
  const lines = text.split("\n").filter((l) => l.includes(pkg) && /fail|error|ERR!|gyp/i.test(l));
  const last = lines[lines.length - 1];
  if (last === undefined) return undefined;
  // npm's debug log prefixes "<n> <level> "; the rest is the message.
  const message = last.replace(/^\d+\s+\w+\s+/, "").trim();
  return message.length > MAX_REASON_CHARS ? `${message.slice(0, MAX_REASON_CHARS)}…` : message;
}

/** The verdict: one line, and exit 1 only when `ci` (a CI run must not lose the fast client silently). */
export function checkLibrdkafka(pkg: string, load: ClientLoad, ci: boolean, log: NpmLog | undefined): CheckResult {
  if (load.ok) return { line: `librdkafka client: ${pkg} loaded (librdkafka ${load.version}); loadgen uses it by default.`, code: EXIT_OK };
  const why = log === undefined ? undefined : reasonFromNpmLog(log.text, pkg);
  const where = log === undefined ? "npm's debug log was not found" : `npm's log: ${log.path}${why === undefined ? "" : ` says: ${why}`}`;
  const effect = "loadgen falls back to kafkajs (about half the rate) and the librdkafka durability tests skip";
  const verdict = ci ? "CI=true, so this fails the install" : "continuing without it";
  return {
    line: `librdkafka client NOT available: ${pkg} did not build or load (${load.reason}); ${where}; ${effect}; ${verdict}. Fix: ${REBUILD_HINT}.`,
    code: ci ? EXIT_CHECK_FAILED : EXIT_OK,
  };
}

/** npm's log directory as npm itself picks it: npm_config_logs_dir, else <cache>/_logs. */
export function npmLogsDir(env: Readonly<Record<string, string | undefined>>): string {
  return env.npm_config_logs_dir || join(env.npm_config_cache || join(homedir(), ".npm"), "_logs");
}

/** The newest npm debug log (during `npm ci`'s postinstall: the log of that very install), if any. */
export function newestNpmLog(dir: string): NpmLog | undefined {
  if (!existsSync(dir)) return undefined;
  const newest = readdirSync(dir).filter((f) => f.endsWith("-debug-0.log") || f.endsWith(".log")).sort().pop();
  if (newest === undefined) return undefined;
  const path = join(dir, newest);
  return { path, text: readFileSync(path, "utf8") };
}
