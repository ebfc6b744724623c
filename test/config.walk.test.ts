/**
 * "Invalid values fail before any resource is created", proven for every key: each key's documented boundaries
 * (min, max, each enum member, a value just outside each bound; generated from the schema by test/configWalk.ts)
 * are put into each stack's real config. A value `validateConfig` refuses (what loadConfig checks before any resource:
 * the schema, cross-key rules, charts read from disk) must be refused with a message naming the key; a value it
 * accepts must carry the whole program to the end under mocks, the way `pulumi preview` runs it.
 *
 * Accepted values share program runs: they are packed greedily into as few configs as still validate together (one
 * value per key per config), and only a config that fails is re-run value by value to name the culprit.
 */
import { describe, expect, it } from "vitest";
import { configJsonSchema, ConfigError, rawConfigOf, validateConfig } from "../config";
import { knownStacks } from "../tools/mockRun";
import { FREE_TEXT_KEYS, NOT_WALKED, probesOf, STRING_SAMPLES, withValue, type JsonSchema, type Probe } from "./configWalk";
import { ProgramError, runProgram, stackConfig } from "./harness";

const SCHEMA = configJsonSchema() as JsonSchema;
const NAMESPACE = "watchpipe";
/**
 * A loaded 2-core machine runs the program in 2-8 s (183-190 resources); a stack needs ~5-10 packed runs, plus one
 * per value of a config that fails.
 */
const WALK_TIMEOUT_MS = 600_000;
/** One run that takes this long is stuck (a loaded machine takes under 10 s), not slow. */
const RUN_STALL_MS = 60_000;

interface Verdict {
  readonly probe: Probe;
  readonly raw: Record<string, unknown>;
  readonly refused?: readonly string[];
}

function classify(stack: string, base: Readonly<Record<string, unknown>>, region: string, probe: Probe): Verdict {
  const raw = withValue(SCHEMA, base, probe.path, probe.value);
  try {
    validateConfig(raw, stack, NAMESPACE, region);
    return { probe, raw };
  } catch (err) {
    if (err instanceof ConfigError) return { probe, raw, refused: err.problems };
    throw err;
  }
}

/** The `watchpipe:<section>` overrides that turn the stack's config into `raw`. */
function overridesOf(base: Readonly<Record<string, unknown>>, raw: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(raw)) if (JSON.stringify(base[k]) !== JSON.stringify(v)) out[`${NAMESPACE}:${k}`] = v;
  return out;
}

/**
 * Greedy packing: each accepted probe joins the first config without its key that still validates with it,
 * preferring one with nothing else from its section: values of one section interact most (capacity's smallest peak
 * would hide its smallest partition budget), so they are kept apart where the number of configs allows.
 */
async function pack(stack: string, base: Readonly<Record<string, unknown>>, region: string, accepted: readonly Probe[]): Promise<{ raw: Record<string, unknown>; probes: Probe[] }[]> {
  const packs: { raw: Record<string, unknown>; probes: Probe[] }[] = [];
  for (const probe of accepted) {
    await new Promise((r) => setImmediate(r));
    let placed = false;
    const sameSectionLast = [...packs].sort((a, b) => Number(a.probes.some((q) => q.path[0] === probe.path[0])) - Number(b.probes.some((q) => q.path[0] === probe.path[0])));
    for (const p of sameSectionLast) {
      if (p.probes.some((q) => q.key === probe.key || q.key.startsWith(`${probe.key}.`) || probe.key.startsWith(`${q.key}.`))) continue;
      const raw = withValue(SCHEMA, p.raw, probe.path, probe.value);
      try {
        validateConfig(raw, stack, NAMESPACE, region);
      } catch {
        continue;
      }
      p.raw = raw;
      p.probes.push(probe);
      placed = true;
      break;
    }
    if (!placed) packs.push({ raw: withValue(SCHEMA, base, probe.path, probe.value), probes: [probe] });
  }
  return packs;
}

/** Runs the program; undefined when it completes, else what failed and after how many resources. */
async function failureOf(stack: string, base: Readonly<Record<string, unknown>>, raw: Readonly<Record<string, unknown>>): Promise<string | undefined> {
  if (process.env.WALK_TRACE) process.stderr.write(`walk ${stack}: ${JSON.stringify(overridesOf(base, raw)).slice(0, 400)}\n`);
  let timer: NodeJS.Timeout | undefined;
  // A throw inside an apply does not reject the run: the outputs that depend on it never settle. Bound the wait.
  const stalled = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`did not finish in ${RUN_STALL_MS / 1000} s: a value threw inside an apply (see the unhandled rejections)`)), RUN_STALL_MS);
  });
  try {
    await Promise.race([runProgram(stack, overridesOf(base, raw)), stalled]);
    return undefined;
  } catch (err) {
    if (err instanceof ProgramError) return `after ${err.resources.length} resources: ${err.reason instanceof Error ? err.reason.message : String(err.reason)}`;
    if (err instanceof Error && err.message.startsWith("did not finish")) return err.message;
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

const show = (p: Probe) => `${p.key}=${JSON.stringify(p.value)} (${p.bound})`;

describe("the config walk covers every key", () => {
  it("every key is walked or listed with a reason", () => {
    const unclassified: string[] = [];
    const probes = probesOf(SCHEMA, unclassified);
    expect(unclassified, "keys the walk cannot generate values for: list them in test/configWalk.ts").toEqual([]);
    expect(probes.length).toBeGreaterThan(100);
    // The lists name only keys that exist (a renamed key must not leave a stale entry that walks nothing).
    const keys = new Set(probes.map((p) => p.path.map((s, i) => (typeof s === "number" || (i === 1 && p.path[0] === "charts") ? "*" : s)).join(".")));
    for (const k of [...Object.keys(STRING_SAMPLES), ...FREE_TEXT_KEYS]) expect(keys.has(k), `${k} is listed but not in the schema`).toBe(true);
    for (const k of Object.keys(NOT_WALKED)) {
      const found = k.split(".").reduce<JsonSchema[]>((nodes, seg) => nodes.flatMap((n) => [n, ...(n.oneOf ?? n.anyOf ?? [])]).flatMap((n) => (n.properties?.[seg] ? [n.properties[seg]] : [])), [SCHEMA]);
      expect(found.length, `${k} is listed in NOT_WALKED but is not in the schema`).toBeGreaterThan(0);
    }
  });
});

describe.each(knownStacks())("stack %s: every boundary value is refused up front or completes the program", (stack) => {
  it("walks the schema's boundaries through validateConfig and the program", async () => {
    const flat = stackConfig(stack);
    const base = rawConfigOf(flat);
    const region = flat["aws:region"] ?? "us-east-1";
    const verdicts: Verdict[] = [];
    for (const p of probesOf(SCHEMA)) {
      verdicts.push(classify(stack, base, region, p));
      // Let the worker answer vitest between validations: hundreds in a row starve its messages on a loaded machine.
      if (verdicts.length % 25 === 0) await new Promise((r) => setImmediate(r));
    }

    // Outside a bound: refused, naming the key or the object that holds it.
    const outside = verdicts.filter((v) => !v.probe.inBounds);
    const slipped = outside.filter((v) => v.refused === undefined).map((v) => show(v.probe));
    expect(slipped, "values outside the schema's bounds that validateConfig accepted").toEqual([]);
    const unnamed = outside.filter((v) => {
      const prefixes = v.probe.path.map((_, i) => `${NAMESPACE}:${v.probe.path.slice(0, i + 1).join(".")}`);
      return !v.refused!.some((m) => prefixes.some((k) => m.startsWith(k)));
    });
    expect(unnamed.map((v) => `${show(v.probe)}: ${v.refused!.join(" | ")}`), "refusals that do not name the key").toEqual([]);

    // Inside the bounds and accepted: the whole program runs.
    // A value the stack already has is covered by every run; it needs no place of its own.
    const accepted = verdicts.filter((v) => v.probe.inBounds && v.refused === undefined && JSON.stringify(v.raw) !== JSON.stringify(base)).map((v) => v.probe);
    const packs = await pack(stack, base, region, accepted);
    const failures: string[] = [];
    let runs = 0;
    const run = (raw: Readonly<Record<string, unknown>>) => {
      runs++;
      return failureOf(stack, base, raw);
    };
    /** Halve a failing set until each failing value is found alone (a half that does not validate is tried value by value). */
    const bisect = async (probes: readonly Probe[], failure: string): Promise<void> => {
      if (probes.length === 1) {
        failures.push(`${show(probes[0])}: ${failure}`);
        return;
      }
      const halves = [probes.slice(0, probes.length >> 1), probes.slice(probes.length >> 1)];
      let found = false;
      for (const half of halves) {
        const raw = half.reduce((r, p) => withValue(SCHEMA, r, p.path, p.value), base);
        let valid = true;
        try {
          validateConfig(raw, stack, NAMESPACE, region);
        } catch {
          valid = false;
        }
        if (!valid) {
          for (const p of half) {
            const alone = await run(withValue(SCHEMA, base, p.path, p.value));
            if (alone !== undefined) {
              failures.push(`${show(p)}: ${alone}`);
              found = true;
            }
          }
          continue;
        }
        const f = await run(raw);
        if (f !== undefined) {
          await bisect(half, f);
          found = true;
        }
      }
      if (!found) failures.push(`only together: ${probes.map(show).join(", ")}: ${failure}`);
    };
    for (const p of packs) {
      const f = await run(p.raw);
      if (f !== undefined) await bisect(p.probes, f);
    }
    console.log(`stack ${stack}: ${verdicts.length} probes, ${outside.length} outside the bounds (all refused), ${verdicts.length - outside.length - accepted.length} in bounds but refused by cross-key rules, ${accepted.length} accepted in ${packs.length} packed configs (${runs} program runs), ${failures.length} failed mid-program`);
    expect(failures, "accepted values that fail in the middle of the program: refuse them in config.ts or make the program take them").toEqual([]);
  }, WALK_TIMEOUT_MS);
});
