/**
 * Mandatory policies never skip in preview (issue 15).
 *
 * During `pulumi preview` the engine hands a policy its resource's inputs with every value that depends on a
 * not-yet-created resource replaced by a sentinel string, behind a proxy that throws `UnknownValueError` when a
 * policy reads one; @pulumi/policy then downgrades that policy to an advisory "can't run … during preview" — a
 * mandatory check silently skipped. This wrapper runs each check on the inputs WITHOUT the proxy and decides per
 * unknown value whether the check's verdict depends on it:
 *
 * - it replaces each unknown, one at a time, with a set of probe values (an unpinned image, a literal credential, a
 *   plaintext protocol, a replication factor of 1, flipped booleans, objects holding those) and runs the check again;
 * - if any probe changes the problems reported, the check reads that value: it FAILS CLOSED with a violation naming
 *   the resource, the path and what to change (keep the field known; pass generated values by reference);
 * - otherwise the unknown is irrelevant to this check (a generated CA in a field no rule reads) and the check's own
 *   problems are reported as usual.
 *
 * The program keeps the fields the pack checks known (images, replicas, listeners, TLS switches; generated
 * certificates as Output leaves of a known Helm values object or in Secrets), so a preview of a new stack passes and
 * a change that folds an unknown into a checked field fails.
 */
import type { ReportViolation } from "@pulumi/policy";
import * as proxyModule from "@pulumi/policy/proxy";

/**
 * @pulumi/policy's sentinels and proxy key are runtime exports its typings mark internal; they are the exact values
 * the engine's preview inputs carry (tests build engine-shaped inputs from the same module).
 */
const internals = proxyModule as unknown as Readonly<Record<
  "getSpecialProxyTarget" | "unknownStringValue" | "unknownBooleanValue" | "unknownNumberValue" | "unknownArrayValue" | "unknownAssetValue" | "unknownArchiveValue" | "unknownObjectValue",
  string
>>;
const getSpecialProxyTarget = internals.getSpecialProxyTarget;

/** The sentinels the engine (and @pulumi/policy) use for values unknown during preview. */
export const UNKNOWN_SENTINELS: readonly string[] = [
  internals.unknownStringValue, internals.unknownBooleanValue, internals.unknownNumberValue, internals.unknownArrayValue,
  internals.unknownAssetValue, internals.unknownArchiveValue, internals.unknownObjectValue,
];
/** What the engine sends for any unknown value (the wire protocol has one sentinel; policies see it as a string). */
export const UNKNOWN = internals.unknownStringValue;

export function isUnknown(value: unknown): boolean {
  return typeof value === "string" && UNKNOWN_SENTINELS.includes(value);
}

type Path = readonly (string | number)[];

/** The plain object behind @pulumi/policy's unknown-checking proxy (or the value itself when it is not one). */
export function unproxied<T>(value: T): T {
  if (typeof value === "object" && value !== null) {
    const target = (value as Record<string, unknown>)[getSpecialProxyTarget];
    if (target !== undefined) return target as T;
  }
  return value;
}

/** Every path holding an unknown sentinel. */
export function unknownPaths(value: unknown, at: Path = []): Path[] {
  const v = unproxied(value);
  if (isUnknown(v)) return [at];
  if (Array.isArray(v)) return v.flatMap((x, i) => unknownPaths(x, [...at, i]));
  if (typeof v === "object" && v !== null) return Object.entries(v).flatMap(([k, x]) => unknownPaths(x, [...at, k]));
  return [];
}

/** A deep copy with the value at each listed path replaced (the rest of the tree is shared-nothing plain data). */
function replaced(value: unknown, replacements: ReadonlyMap<string, unknown>, at: Path = []): unknown {
  const key = JSON.stringify(at);
  if (replacements.has(key)) return replacements.get(key);
  const v = unproxied(value);
  if (Array.isArray(v)) return v.map((x, i) => replaced(x, replacements, [...at, i]));
  if (typeof v === "object" && v !== null) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, replaced(x, replacements, [...at, k])]));
  return v;
}

/**
 * Probes for one unknown value: each trips a different family of rule (pinning, credentials under credential-named
 * keys, transport, replication, open CIDRs, switches). The first one is the neutral stand-in.
 *
 * Not probed: a credential spelled inline in text (`password=…` inside a value). That rule is about literals, and a
 * literal is known by definition: an unknown value comes from another resource's output, and the same policy checks
 * its resolved text during `pulumi up`. Probing it would make every generated value anywhere fail closed.
 */
export const PROBES: readonly unknown[] = [
  "",
  "probe/unpinned",
  "probe/image:latest",
  "probe-literal-credential",
  "PLAINTEXT",
  "security.protocol=PLAINTEXT\nmin.insync.replicas=1\nreplication.factor=1\nacks=1\n",
  "0.0.0.0/0",
  "1",
  1,
  0,
  -2,
  true,
  false,
];

/**
 * Structure probes for any unknown: lists and objects the Kafka, ACL and network rules read (listeners, ACLs,
 * CIDR lists). They hold no image or credential, which a nested computed value never is in this program (images are
 * pinned constants, credentials live in Secrets).
 */
export const STRUCTURE_PROBES: readonly unknown[] = [
  ["0.0.0.0/0"],
  [{ resource: { type: "topic", name: "*", patternType: "prefix" }, operations: ["All"], host: "*", type: "plain", tls: false, port: 9092 }],
  { type: "plain", tls: false },
];

/** An unknown WHOLE input property (`values`, `spec`, `data`) may stand for any object: probed with these too. */
export const OBJECT_PROBES: readonly unknown[] = [
  { image: "probe/image:latest", password: "probe-literal-credential", repository: "probe/unpinned", tag: "latest", "security.protocol": "PLAINTEXT" },
  [{ image: "probe/image:latest", password: "probe-literal-credential", type: "plain", tls: false, cidrBlocks: ["0.0.0.0/0"] }],
];

function pathText(path: Path): string {
  return path.map((p) => (typeof p === "number" ? `[${p}]` : `.${p}`)).join("") || "(the whole input)";
}

/** The problems `check` reports for `props`, as a sorted list (order is not a verdict). */
function verdict(check: (props: Record<string, unknown>, report: ReportViolation) => void, props: unknown): string[] {
  const found: string[] = [];
  check(props as Record<string, unknown>, (message) => found.push(String(message)));
  return found.sort();
}

/**
 * Run `check` on inputs that may hold unknowns (see the file comment). `subject` names the resource in messages.
 * Returns the violations to report.
 */
export function checkFailClosed(
  policyName: string,
  subject: string,
  props: unknown,
  check: (props: Record<string, unknown>, report: ReportViolation) => void,
): string[] {
  const unknowns = unknownPaths(props);
  if (unknowns.length === 0) return verdict(check, unproxied(props));
  const neutral = new Map(unknowns.map((p) => [JSON.stringify(p), PROBES[0]]));
  const base = verdict(check, replaced(props, neutral));
  const blocking: string[] = [];
  for (const path of unknowns) {
    const key = JSON.stringify(path);
    const probes = [...PROBES.slice(1), ...STRUCTURE_PROBES, ...(path.length <= 1 ? OBJECT_PROBES : [])];
    const depends = probes.some((probe) => {
      const probed = verdict(check, replaced(props, new Map([...neutral, [key, probe]])));
      return probed.length !== base.length || probed.some((m, i) => m !== base[i]);
    });
    if (depends) {
      blocking.push(
        `${subject}: ${policyName} checks ${pathText(path)}, whose value is unknown during preview (it comes from a resource not created yet); ` +
          "a mandatory policy fails closed rather than skip. Keep that field known: pass generated values by reference (a Secret name) " +
          "or as an Output leaf outside the fields this policy reads.",
      );
    }
  }
  return blocking.length > 0 ? blocking : base;
}
