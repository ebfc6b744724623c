/**
 * Cutting one local process off the network without killing it. Every node of the test cluster talks over
 * loopback, so a network namespace would need every other node re-addressed; instead the node to isolate runs as
 * its own OS user and an iptables rule drops every loopback packet that user's sockets send: its replies to clients
 * and peers, and its own requests to the other nodes. The process keeps running with its state; removing the rule
 * heals the partition, and TCP retransmits what was in flight.
 *
 * Needs root (to run a process as another user and change iptables) and Debian's `iptables` package.
 */
import { execFileSync, spawnSync } from "node:child_process";

/** The OS user an isolatable node runs as. */
export const ISOLATED_OS_USER = "watchpipe-isolated";

export interface OsIdentity {
  readonly uid: number;
  readonly gid: number;
}

/** Why isolation cannot run here, or null when it can. */
export function isolationUnavailable(): string | null {
  if (process.getuid === undefined || process.getuid() !== 0) return "cutting a broker off needs root (run as another OS user + iptables)";
  const probe = spawnSync("iptables", ["-S", "OUTPUT"], { encoding: "utf8" });
  if (probe.error !== undefined || probe.status !== 0) {
    return `iptables is not usable (${probe.error?.message ?? probe.stderr.trim()}); install Debian's iptables package`;
  }
  return null;
}

/** The isolated user's uid/gid, creating the (system, no home, no shell) user on first use. */
export function isolatedIdentity(): OsIdentity {
  const exists = spawnSync("id", ["-u", ISOLATED_OS_USER]).status === 0;
  if (!exists) execFileSync("useradd", ["--system", "--no-create-home", "--shell", "/usr/sbin/nologin", ISOLATED_OS_USER]);
  const uid = Number(execFileSync("id", ["-u", ISOLATED_OS_USER]).toString().trim());
  const gid = Number(execFileSync("id", ["-g", ISOLATED_OS_USER]).toString().trim());
  return { uid, gid };
}

/** The rule, as arguments after -I/-D/-C: loopback packets sent by the user's sockets are dropped. */
function ruleArgs(uid: number): string[] {
  return ["OUTPUT", "-o", "lo", "-m", "owner", "--uid-owner", String(uid), "-j", "DROP"];
}

function ruleActive(uid: number): boolean {
  return spawnSync("iptables", ["-C", ...ruleArgs(uid)]).status === 0;
}

/** Cuts every process of `uid` off loopback. Idempotent. */
export function cutOff(uid: number): void {
  if (!ruleActive(uid)) execFileSync("iptables", ["-I", ...ruleArgs(uid)]);
}

/** Heals {@link cutOff}. Idempotent; also removes duplicates a crashed run may have left. */
export function heal(uid: number): void {
  while (ruleActive(uid)) execFileSync("iptables", ["-D", ...ruleArgs(uid)]);
}
