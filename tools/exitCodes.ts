/**
 * The one exit-code convention of every command-line tool here (README.md, "Exit codes"):
 *
 * - 0: it did what was asked and every check passed;
 * - 1: a check failed (invalid stack config, segments that do not match, a record not acknowledged, a failed query);
 * - 2: the tool could not do its job: a usage error (unknown flag, missing argument, unreadable input) or a service
 *   it needs could not be reached (Kafka, the bridge, the database).
 */
export const EXIT_OK = 0;
export const EXIT_CHECK_FAILED = 1;
export const EXIT_USAGE_OR_CONNECTION = 2;

/** The line each tool's --help prints. */
export const EXIT_CODES_HELP = "Exit codes: 0 ok, 1 a check failed, 2 usage error or a service could not be reached.";

/** A bad command line: the tool prints the message (and its usage) and exits {@link EXIT_USAGE_OR_CONNECTION}. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/**
 * A service the tool needs could not be reached: the tool prints the message (which names `endpoint`) and exits
 * {@link EXIT_USAGE_OR_CONNECTION}. Throw it where the tool first connects, with the underlying error as `cause`.
 */
export class ConnectionError extends Error {
  constructor(readonly endpoint: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "ConnectionError";
  }
}

/** The exit code for an error a tool's main() threw: usage (UsageError, a node:util parseArgs error) or a failure. */
export function exitCodeOf(err: unknown): number {
  const code = (err as { code?: unknown } | null)?.code;
  if (err instanceof UsageError || err instanceof ConnectionError || (typeof code === "string" && code.startsWith("ERR_PARSE_ARGS"))) return EXIT_USAGE_OR_CONNECTION;
  return EXIT_CHECK_FAILED;
}
