/**
 * Small process helpers shared by the broker and Connect harnesses: free loopback ports, JVM children that are
 * always killed (even when a test throws or vitest exits), bounded waits that say what they waited for.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, openSync, readFileSync, existsSync } from "node:fs";
import * as net from "node:net";
import { kafkaClasspath } from "./paths";

/** Every harness server listens here and nowhere else. */
export const LOOPBACK = "127.0.0.1";
/** How much of a crashed JVM's log an error message quotes: enough for the exception, not a wall of text. */
const LOG_TAIL_CHARS = 3_000;
/** How often bounded waits re-check their condition. */
const POLL_INTERVAL_MS = 250;

const live = new Set<ChildProcess>();
let exitHookInstalled = false;

/** Kill every JVM we started when Node exits, however it exits: a leaked broker would hold ports and 512 MB. */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  const killAll = (): void => {
    for (const child of live) child.kill("SIGKILL");
  };
  process.on("exit", killAll);
  for (const sig of ["SIGINT", "SIGTERM"] as const) {
    process.once(sig, () => {
      killAll();
      process.exit(130);
    });
  }
}

/** Reserves `n` distinct free TCP ports on the loopback address (bind to port 0, read it, release it). */
export async function freePorts(n: number): Promise<number[]> {
  const servers: net.Server[] = [];
  try {
    const ports: number[] = [];
    for (let i = 0; i < n; i++) {
      const srv = net.createServer();
      servers.push(srv);
      await new Promise<void>((resolve, reject) => {
        srv.once("error", reject);
        srv.listen(0, LOOPBACK, () => resolve());
      });
      const addr = srv.address();
      if (addr === null || typeof addr === "string") throw new Error(`unexpected server address ${String(addr)}`);
      ports.push(addr.port);
    }
    return ports;
  } finally {
    await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  }
}

/** True when something accepts TCP connections on 127.0.0.1:port. */
export function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect({ host: LOOPBACK, port });
    sock.once("connect", () => {
      sock.destroy();
      resolve(true);
    });
    sock.once("error", () => resolve(false));
  });
}

/** An error that waitUntil must not retry: the thing awaited can no longer happen (process exited, FAILED). */
export class FatalWaitError extends Error {}

/** Polls `check` until it returns true or `timeoutMs` passes; the error names what was awaited. */
export async function waitUntil(what: string, timeoutMs: number, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError = "";
  while (Date.now() < deadline) {
    try {
      if (await check()) return;
    } catch (err) {
      if (err instanceof FatalWaitError) throw err;
      lastError = err instanceof Error ? err.message : String(err);
    }
    await new Promise((r) => setTimeout(r, POLL_INTERVAL_MS));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? ` (last error: ${lastError})` : ""}`);
}

export function tailLog(file: string): string {
  if (!existsSync(file)) return `(no log at ${file})`;
  const text = readFileSync(file, "utf8");
  return text.slice(-LOG_TAIL_CHARS);
}

export interface JvmSpec {
  /** Fully qualified main class on the Kafka classpath. */
  readonly mainClass: string;
  readonly args: readonly string[];
  /** -Xmx in MiB; -Xms is half of it. */
  readonly heapMb: number;
  /** stdout + stderr go here (Log4j is configured to write to the console). */
  readonly logFile: string;
  /** Log4j 2 configuration file for this JVM. */
  readonly log4jConfig: string;
  readonly extraJvmArgs?: readonly string[];
  /** Run as this OS user instead of ours (needs root), e.g. a node the test cuts off the network. */
  readonly runAs?: { readonly uid: number; readonly gid: number };
}

/** A running JVM started by the harness. */
export interface Jvm {
  readonly child: ChildProcess;
  /** Resolves with the exit code (or signal name) once the process is gone. */
  readonly exited: Promise<string>;
  isRunning(): boolean;
}

export function startJvm(spec: JvmSpec): Jvm {
  installExitHook();
  const fd = openSync(spec.logFile, "a");
  const child = spawn(
    "java",
    [
      `-Xmx${spec.heapMb}m`,
      `-Xms${Math.floor(spec.heapMb / 2)}m`,
      "-XX:+UseG1GC",
      "-Djava.awt.headless=true",
      `-Dlog4j2.configurationFile=${spec.log4jConfig}`,
      ...(spec.extraJvmArgs ?? []),
      "-cp",
      kafkaClasspath(),
      spec.mainClass,
      ...spec.args,
    ],
    { stdio: ["ignore", fd, fd], ...(spec.runAs === undefined ? {} : { uid: spec.runAs.uid, gid: spec.runAs.gid }) },
  );
  closeSync(fd);
  live.add(child);
  let running = true;
  const exited = new Promise<string>((resolve) => {
    child.once("exit", (code, signal) => {
      running = false;
      live.delete(child);
      resolve(signal ?? String(code));
    });
    child.once("error", (err) => {
      running = false;
      live.delete(child);
      resolve(`spawn error: ${err.message}`);
    });
  });
  return { child, exited, isRunning: () => running };
}

/** SIGTERM (Kafka's graceful, controlled shutdown) and wait; SIGKILL if it has not exited within `graceMs`. */
export async function stopJvm(jvm: Jvm, mode: "graceful" | "kill", graceMs: number): Promise<void> {
  if (!jvm.isRunning()) return;
  jvm.child.kill(mode === "kill" ? "SIGKILL" : "SIGTERM");
  const timer = setTimeout(() => jvm.child.kill("SIGKILL"), mode === "kill" ? 0 : graceMs);
  await jvm.exited;
  clearTimeout(timer);
}

/** Runs a JVM tool to completion (e.g. storage format) and throws with its output when it fails. */
export async function runJvmTool(spec: JvmSpec, timeoutMs: number): Promise<void> {
  const jvm = startJvm(spec);
  const timer = setTimeout(() => jvm.child.kill("SIGKILL"), timeoutMs);
  const status = await jvm.exited;
  clearTimeout(timer);
  if (status !== "0") {
    throw new Error(
      `${spec.mainClass} ${spec.args.join(" ")} exited with ${status}, expected 0. Output:\n${tailLog(spec.logFile)}`,
    );
  }
}

/** Log4j 2 config (properties format): INFO to the console, which startJvm sends to the JVM's log file. */
export const LOG4J2_CONSOLE_CONFIG = [
  "status = warn",
  "appender.console.type = Console",
  "appender.console.name = STDOUT",
  "appender.console.layout.type = PatternLayout",
  "appender.console.layout.pattern = [%d] %p %m (%c)%n",
  "rootLogger.level = INFO",
  "rootLogger.appenderRef.stdout.ref = STDOUT",
  // The state-change and request loggers are very chatty at INFO and say nothing a test needs.
  "logger.statechange.name = state.change.logger",
  "logger.statechange.level = WARN",
  "",
].join("\n");

/** Renders a Java .properties file; values are plain strings/numbers/booleans. */
export function renderProperties(props: Readonly<Record<string, string | number | boolean>>): string {
  return (
    Object.entries(props)
      .map(([k, v]) => `${k}=${String(v)}`)
      .join("\n") + "\n"
  );
}

/** Clock ticks per second of /proc/<pid>/stat's utime and stime (USER_HZ: 100 on Linux for every architecture). */
const USER_HZ = 100;

/** CPU seconds (user + system) a process has used, all its threads; 0 for one that is gone. */
export function cpuSecondsOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the command name (which may hold spaces): state is the 1st, utime the 12th, stime the 13th.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / USER_HZ;
  } catch {
    return 0;
  }
}
