/**
 * The figures README.md states that a tool computes stay what the tool computes today: resource counts (as
 * `npm run plan` counts them, under mocks), the capacity model's partition table (contract/capacity.ts), the capacity
 * plan's bytes and resource use at prod's peak (contract/loadPlan.ts, as `npm run plan` prints them) and the smoke
 * test's default wait. Measured figures (timings, benchmark rates, test counts) are history with a date and are not
 * checked here.
 *
 * A figure is current when the computed value, rounded to the decimals the README shows, is the number shown. A stale
 * line fails with the line number and the whole replacement line, so updating it after a merge is a paste.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import type { AppConfig } from "../config";
import { partitionPlan } from "../contract/capacity";
import { SINK_UPSERTS_PER_TASK_PER_SEC, YSQL_SINK_SLOWDOWN } from "../contract/loadPlan";
import { DEFAULT_GRACE_PERIOD_SEC, DEFAULT_SEEK_TOLERANCE_SEC, DEFAULT_SESSION_GAP_SEC, worstCaseCloseDelaySec } from "../contract/sessionization";
import { knownStacks } from "../tools/mockRun";
import { designHeadroom, loadInputsFor, stackLoadPlan } from "../tools/planModel";
import { tallyResources } from "../tools/renderObjects";
import { SINK_MARGIN_SEC } from "../tools/smoke/config";
import { stackPeakPlan } from "../tools/planReport";
import { pricesFor } from "../tools/prices";
import { GATEWAY_SETS, stackConfigWith } from "./gatewayStack";
import { runProgram } from "./harness";

const ROOT = join(__dirname, "..");
/** Three whole-program runs under mocks on a shared 2-core machine. */
const RUNS_TIMEOUT_MS = 120_000;

/** Numbers as prose and tables write them (1,000 / 0.25 / 25), not inside words (m7i.2xlarge, gp3, V003). */
const NUMBER = /(?<![\w.])\d[\d,]*(?:\.\d+)?(?![\w])/g;

/** One line's derived figures: where they are and what they must be, in the order they appear. */
interface Figure {
  readonly what: string;
  /** Finds the line (exactly one line of the file must match). */
  readonly anchor: RegExp;
  /** Table rows: the cells (0 = first) whose numbers are compared; the label cell usually holds assumptions. */
  readonly cells?: readonly number[];
  /** Prose: the part of the line whose numbers are compared (the first match of this pattern). */
  readonly span?: RegExp;
  readonly values: readonly number[];
}

function decimalsOf(shown: string): number {
  return shown.includes(".") ? shown.split(".")[1].length : 0;
}

function format(value: number, like: string): string {
  const d = decimalsOf(like);
  const fixed = value.toFixed(d);
  if (!like.includes(",") && !(Math.abs(value) >= 1000 && like.replace(/\D/g, "").length >= 4)) return fixed;
  const [int, frac] = fixed.split(".");
  return `${int.replace(/\B(?=(\d{3})+(?!\d))/g, ",")}${frac !== undefined ? `.${frac}` : ""}`;
}

const parse = (shown: string) => Number(shown.replace(/,/g, ""));

/** The stale figures of one line, and the line as it should read; undefined when current. */
function check(line: string, figure: Figure): { fixed: string; changes: string[] } | string | undefined {
  const parts: { text: string; compared: boolean }[] = [];
  if (figure.cells !== undefined) {
    const cells = line.split(/(?<!\\)\|/);
    // cells[0] is the text before the first pipe; table cell k is cells[k + 1].
    cells.forEach((c, i) => parts.push({ text: (i > 0 ? "|" : "") + c, compared: figure.cells!.includes(i - 1) }));
  } else {
    const m = figure.span!.exec(line);
    if (!m) return `the span ${String(figure.span)} is not in the line`;
    parts.push({ text: line.slice(0, m.index), compared: false }, { text: m[0], compared: true }, { text: line.slice(m.index + m[0].length), compared: false });
  }
  let k = 0;
  const changes: string[] = [];
  const fixed = parts.map((p) => (!p.compared ? p.text : p.text.replace(NUMBER, (shown) => {
    const value = figure.values[k++];
    if (value === undefined) return shown;
    const want = format(value, shown);
    if (parse(want) === parse(shown)) return shown;
    changes.push(`${shown} → ${want}`);
    return want;
  }))).join("");
  if (k !== figure.values.length) return `${figure.values.length} figures expected in the compared part, found ${k}: the line's shape changed; update the figure list in test/readmeFigures.test.ts`;
  return changes.length > 0 ? { fixed, changes } : undefined;
}

/** A committed stack's validated config, as the plan reads it. */
const stackSettings = (name: string): AppConfig => stackConfigWith(name);

/** Capacity model rows: peak, MB/s, partitions the bytes need, partitions, MB/s per partition, headroom at the design peak. */
function capacityRow(stack: string, withDesignHeadroom: boolean): Figure {
  const c = stackSettings(stack).capacity;
  const p = partitionPlan(c);
  const h = designHeadroom(c);
  return {
    what: `capacity model, ${stack}`,
    anchor: new RegExp(`^\\| ${stack} \\| [\\d,]+ \\| `),
    cells: [1, 2, 3, 4, 6, 7],
    values: [c.peakEventsPerSec, p.peakMBps, p.throughputPartitions, p.partitions, p.perPartitionPeakMBps, ...(withDesignHeadroom ? [h.headroom] : [])],
  };
}

function loadPlanRows(): Figure[] {
  const plan = stackLoadPlan(stackSettings("prod"));
  const topic = (name: string) => plan.topics.find((t) => t.topic === name)!;
  const res = (name: string) => plan.resources.find((r) => r.resource === name)!;
  const topicRow = (name: string): Figure => {
    const t = topic(name);
    return { what: `capacity plan, ${name}`, anchor: new RegExp(`^\\| ${name.replace(/[-/]/g, "\\$&")} \\(`), cells: [1, 2, 3], values: [t.bytesPerHeartbeat, t.peakBytesPerSec / 1e6, t.retainedBytes / 1e9] };
  };
  /** `anchor`: where the row's label itself carries a plan figure (the sink's per-task rate), match its start only. */
  const resourceRow = (label: string, names: string[], anchor = new RegExp(`^\\| ${label.replace(/[()/+]/g, "\\$&")} \\|`)): Figure => {
    const rs = names.map(res);
    return {
      what: `capacity plan, ${label}`,
      anchor,
      cells: [1, 2, 3],
      values: [...rs.map((r) => r.used), rs[0].capacity, ...rs.map((r) => Math.round(r.utilization * 100))],
    };
  };
  const total = plan.topics.reduce((a, t) => ({ b: a.b + t.bytesPerHeartbeat, r: a.r + t.retainedBytes }), { b: 0, r: 0 });
  return [
    ...plan.topics.map((t) => topicRow(t.topic)),
    { what: "capacity plan, total", anchor: /^\| \*\*total\*\* \|/, cells: [1, 2, 3], values: [total.b, plan.leaderBytesPerSec / 1e6, total.r / 1e12] },
    resourceRow("broker volume writes", ["broker volume write throughput"]),
    resourceRow("broker volume IOPS (64 KiB writes)", ["broker volume write IOPS"]),
    resourceRow("broker volume space, retention full", ["broker volume space (retention full)"]),
    resourceRow("broker network in / out", ["broker network in", "broker network out"]),
    resourceRow("ksqlDB volume writes (RocksDB, ×10 write amplification assumed)", ["ksqlDB volume write throughput"]),
    resourceRow("ksqlDB volume IOPS", ["ksqlDB volume write IOPS"]),
    resourceRow("ksqlDB state (active + standby, ×1.5 space amplification assumed)", ["ksqlDB volume space (state)"]),
    resourceRow("ksqlDB server CPU", ["ksqlDB server CPU"], /^\| ksqlDB server CPU \(/),
    resourceRow("sink upserts", ["sink upserts"], /^\| sink upserts \(/),
    resourceRow("YugabyteDB volume space", ["YugabyteDB volume space (retention full)"], /^\| YugabyteDB volume space \(/),
    {
      what: "capacity plan, sink upserts label (per-task rate, YSQL slowdown, tasks)",
      anchor: /^\| sink upserts \(/,
      span: /\([\d,]+\/s per task[^|]*\)/,
      values: [SINK_UPSERTS_PER_TASK_PER_SEC, YSQL_SINK_SLOWDOWN, loadInputsFor(stackSettings("prod")).sink.tasks],
    },
  ];
}

/** Peak scaling rows: a stack planned with the gateway on (`plan --set`), its HPA pods, nodes and extra node cost. */
function peakRow(stack: string): Figure {
  const p = stackPeakPlan(stackConfigWith(stack, GATEWAY_SETS), pricesFor("us-east-1"));
  const g = p.gateway!;
  const n = p.nodes!;
  return {
    what: `peak scaling, ${stack} + gateway`,
    anchor: new RegExp(`^\\| ${stack} \\+ gateway \\|`),
    cells: [1, 2, 3, 4, 5, 6, 7, 8],
    values: [p.peakHeartbeatsPerSec, g.atPeak.pods, g.unbatchedAtPeak!.podsNeeded, g.maxReplicas, g.atAverage.pods, n.atAverage.total, n.atPeak.total, n.desired, n.extraNodeHoursPerMonth, n.extraMonthlyByHour!, n.extraMonthlyAllDay!],
  };
}

const counts = new Map<string, number>();

describe("README figures a tool computes are the tool's current answer", () => {
  beforeAll(async () => {
    for (const stack of knownStacks()) counts.set(stack, tallyResources((await runProgram(stack)).resources).registered);
  }, RUNS_TIMEOUT_MS);

  it("every derived figure in README.md is current (a stale line fails with its replacement)", () => {
    const lines = readFileSync(join(ROOT, "README.md"), "utf8").split("\n");
    const figures: Figure[] = [
      {
        what: "resources under mocks (npm run plan's count)",
        anchor: /^Under mocks the program registers /,
        span: /registers [\d,]+ Pulumi resources for prod, [\d,]+ for dev and [\d,]+ for local/,
        values: ["prod", "dev", "local"].map((s) => counts.get(s)!),
      },
      capacityRow("prod", true),
      capacityRow("dev", true),
      // local is a kind/k3d cluster: the design peak is not its question, the README shows "—" there.
      capacityRow("local", false),
      ...loadPlanRows(),
      peakRow("prod"),
      peakRow("dev"),
      (() => {
        const n = stackPeakPlan(stackConfigWith("prod", GATEWAY_SETS), pricesFor("us-east-1")).nodes!;
        return {
          what: "peak scaling, prod's extra nodes in prose",
          anchor: /^Prod at 15 per POST needs /,
          span: /needs \d+ m7i\.2xlarge above its \d+ for about an hour a day \(\$[\d,.]+ a month; \$[\d,.]+ if kept all/,
          values: [n.extraAtPeak, n.desired, n.extraMonthlyByHour!, n.extraMonthlyAllDay!],
        };
      })(),
      {
        what: "smoke's default wait",
        anchor: /It waits up to the worst-case close delay \+/,
        span: /close delay \+ \d+ s \(\d+ s by default\)/,
        values: [SINK_MARGIN_SEC, Math.ceil(worstCaseCloseDelaySec({ sessionGapSec: DEFAULT_SESSION_GAP_SEC, gracePeriodSec: DEFAULT_GRACE_PERIOD_SEC, seekToleranceSec: DEFAULT_SEEK_TOLERANCE_SEC }) + SINK_MARGIN_SEC)],
      },
    ];
    const stale: string[] = [];
    for (const f of figures) {
      const at = lines.flatMap((l, i) => (f.anchor.test(l) ? [i] : []));
      if (at.length !== 1) {
        stale.push(`${f.what}: ${at.length} lines of README.md match ${String(f.anchor)}, expected 1 (the line was removed or reworded: update test/readmeFigures.test.ts)`);
        continue;
      }
      const result = check(lines[at[0]], f);
      if (typeof result === "string") stale.push(`README.md:${at[0] + 1} (${f.what}): ${result}`);
      else if (result !== undefined) stale.push(`README.md:${at[0] + 1} (${f.what}): ${result.changes.join(", ")}; replace the line with:\n${result.fixed}`);
    }
    expect(stale, "README figures differ from what the tools compute now").toEqual([]);
  });
});
