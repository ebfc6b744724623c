/**
 * The one command-line convention of every tool here (README.md, "Exit codes"; test/cli.test.ts checks each npm
 * script that is a tool):
 *
 * - `--help`/`-h` prints the usage and exits 0 before anything starts (no server, no benchmark, no connection);
 * - an unknown flag or a missing argument is exit 2 naming it;
 * - a refused or unresolvable connection is exit 2 naming the endpoint, with no stack trace;
 * - any other failure is exit 1 with one line (set WATCHPIPE_DEBUG=1 to see the stack).
 */
import { parseArgs, type ParseArgsConfig } from "node:util";
import { ConnectionError, EXIT_CHECK_FAILED, EXIT_OK, EXIT_USAGE_OR_CONNECTION, exitCodeOf, UsageError } from "./exitCodes";

type Options = NonNullable<ParseArgsConfig["options"]>;

export interface CliSpec<O extends Options> {
  /** The tool's name in messages (`bench-state: unknown flag --x`). */
  readonly name: string;
  /** The full --help text; it must contain EXIT_CODES_HELP. */
  readonly help: string;
  /** Flags besides --help. */
  readonly options: O;
  readonly allowPositionals?: boolean;
}

const HELP_OPTION = { help: { type: "boolean", short: "h" } } as const;

export type Parsed<O extends Options> = ReturnType<typeof parseArgs<{ options: O & typeof HELP_OPTION; allowPositionals: true; strict: true }>>;

/**
 * Parse argv strictly. Returns undefined after printing the help when --help is given (the caller returns at once);
 * throws UsageError naming an unknown flag or a flag missing its value.
 */
export function parseCommandLine<O extends Options>(spec: CliSpec<O>, argv: readonly string[], print: (text: string) => void = (t) => process.stdout.write(t)): Parsed<O> | undefined {
  // --help wins over everything else on the line, even an unknown flag: asking for usage never fails.
  if (argv.includes("--help") || argv.includes("-h")) {
    print(spec.help.endsWith("\n") ? spec.help : `${spec.help}\n`);
    return undefined;
  }
  try {
    return parseArgs({ args: [...argv], options: { ...spec.options, ...HELP_OPTION }, allowPositionals: true, strict: true }) as Parsed<O>;
  } catch (err) {
    throw new UsageError(usageMessageOf(err));
  }
}

/** node:util's parse errors, reworded to name the flag and point at --help. */
function usageMessageOf(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const unknown = /Unknown option '([^']+)'/.exec(message);
  if (unknown) return `unknown flag ${unknown[1]}; see --help for the flags this tool takes`;
  const positional = /Unexpected argument '([^']+)'/.exec(message);
  if (positional) return `unexpected argument '${positional[1]}'; see --help`;
  return `${message.split("\n")[0]}; see --help`;
}

/** Error codes of a connection that did not happen (refused, no such host, nothing listening, timed out). */
const CONNECTION_CODES = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH", "ECONNRESET", "ETIMEDOUT"]);

/**
 * The endpoint of a connection failure anywhere in `err` (its cause chain, an AggregateError's errors), as
 * `host:port`, or undefined when `err` is not one. Node's socket errors carry address/port (or hostname).
 */
export function refusedEndpoint(err: unknown, depth = 0): string | undefined {
  if (err === null || typeof err !== "object" || depth > 5) return undefined;
  if (err instanceof ConnectionError) return err.endpoint;
  const e = err as { code?: unknown; address?: unknown; hostname?: unknown; port?: unknown; broker?: unknown; cause?: unknown; errors?: unknown };
  // kafkajs's connection errors name the broker (host:port) and carry the socket's code.
  if (typeof e.code === "string" && CONNECTION_CODES.has(e.code) && typeof e.broker === "string") return e.broker;
  if (typeof e.code === "string" && CONNECTION_CODES.has(e.code)) {
    const host = typeof e.address === "string" ? e.address : typeof e.hostname === "string" ? e.hostname : undefined;
    if (host !== undefined) return e.port !== undefined ? `${host}:${String(e.port)}` : host;
  }
  for (const inner of [e.cause, ...(Array.isArray(e.errors) ? e.errors : [])]) {
    const found = refusedEndpoint(inner, depth + 1);
    if (found !== undefined) return found;
  }
  return undefined;
}

/** The exit code for an error a tool's main() threw: usage and refused connections are 2, anything else 1. */
export function toolExitCode(err: unknown): number {
  if (refusedEndpoint(err) !== undefined) return EXIT_USAGE_OR_CONNECTION;
  return exitCodeOf(err);
}

/** The one line a tool prints for an error its main() threw. */
export function toolErrorLine(name: string, err: unknown): string {
  const endpoint = refusedEndpoint(err);
  const message = err instanceof Error ? err.message : String(err);
  if (err instanceof ConnectionError) return `${name}: ${message}`;
  if (endpoint !== undefined) return `${name}: cannot connect to ${endpoint}: ${message}. Is the service running and is the address right?`;
  return `${name}: ${message}`;
}

/**
 * Run a tool's main(): its returned code (or 0) is the exit code; a thrown error is printed as one line and mapped
 * by {@link toolExitCode}. Exits the process (open sockets or a server's exit hook must not keep it alive).
 */
export function runTool(name: string, main: () => Promise<number | void> | number | void): void {
  const fail = (err: unknown): never => {
    process.stderr.write(`${toolErrorLine(name, err)}\n`);
    if (process.env.WATCHPIPE_DEBUG === "1" && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
    process.exit(toolExitCode(err) || EXIT_CHECK_FAILED);
  };
  // A rejection nobody awaits (a throw inside a Pulumi apply under mocks, a socket error) would otherwise end the
  // process with node's stack trace: report it as the tool's failure instead.
  process.on("unhandledRejection", fail);
  Promise.resolve()
    .then(main)
    .then((code) => process.exit(code ?? (typeof process.exitCode === "number" ? process.exitCode : EXIT_OK)), fail);
}
