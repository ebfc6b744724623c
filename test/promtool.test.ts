/**
 * Every alert rule, unit-tested with Prometheus's own rule engine: `promtool check rules` on the rendered
 * PrometheusRule groups, then `promtool test rules` per alert on the synthetic series of test/alerts/cases.ts: the
 * rule fires (with the expected labels and rendered annotations) on its failure and stays silent on healthy or
 * transient series. promtool comes from .ci/install-monitoring-tools.sh (Go module proxy, Prometheus v3.14.0, the
 * version kube-prometheus-stack 88.5.3 runs); without it these tests skip locally and fail under CI=true.
 */
import { execFile, execFileSync } from "node:child_process";
import { promisify } from "node:util";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { alertRuleGroups, type AlertRule } from "../components/ops/alertRules";
import { ALERT_CASES, CASE_ARGS, type AlertCase } from "./alerts/cases";
import { missingTools, PROMTOOL } from "./monitoringTools";
import { isCi } from "./sharedRefs";

/**
 * One `promtool test rules` run (one alert's scenarios, evaluated minute by minute: up to 1,800 steps for the backup
 * and certificate cases). The issue saw such a case pass vitest's 30 s default on a loaded 2-core machine, so each
 * gets 4× that; promtool is killed at this bound and the test names the alert, so a hang fails with a reason.
 */
const PROMTOOL_CASE_TIMEOUT_MS = 120_000;
/** Room for vitest after promtool is killed, so the test's own message (not a bare timeout) is what fails. */
const KILL_MARGIN_MS = 10_000;
const execFileAsync = promisify(execFile);

const groups = alertRuleGroups(CASE_ARGS);
const rules = groups.flatMap((g) => g.rules);
const ruleByName = new Map(rules.map((r) => [r.alert, r]));

/** `{{ $labels.x }}` is the only template the rules use (see components/ops/alertRules.ts). */
function render(text: string, labels: Readonly<Record<string, string>>): string {
  return text.replace(/\{\{\s*\$labels\.(\w+)\s*\}\}/g, (_, k: string) => labels[k] ?? "");
}

/** One promtool test file for an alert: one test group per scenario. */
export function promtoolTests(rule: AlertRule, c: AlertCase, rulesFile: string): unknown {
  return {
    rule_files: [rulesFile],
    evaluation_interval: "1m",
    tests: c.scenarios.map((s) => ({
      name: `${c.alert}: ${s.why}`,
      interval: "1m",
      input_series: s.series.map((x) => ({ series: x.series, values: x.values })),
      alert_rule_test: [{
        eval_time: `${s.evalMinutes}m`,
        alertname: c.alert,
        exp_alerts: s.firing.map((labels) => {
          const all = { ...labels, ...rule.labels };
          return {
            exp_labels: all,
            exp_annotations: Object.fromEntries(Object.entries(rule.annotations).map(([k, v]) => [k, render(v, all)])),
          };
        }),
      }],
    })),
  };
}

describe("alert rule test coverage (no promtool needed)", () => {
  it("every rule has a case that fires and one that stays silent, and every case names a rule", () => {
    for (const r of rules) {
      const c = ALERT_CASES.find((x) => x.alert === r.alert);
      expect(c, `no promtool case for ${r.alert} in test/alerts/cases.ts`).toBeDefined();
      expect(c!.scenarios.some((s) => s.firing.length > 0), `${r.alert}: no firing scenario`).toBe(true);
      expect(c!.scenarios.some((s) => s.firing.length === 0), `${r.alert}: no silent scenario`).toBe(true);
    }
    for (const c of ALERT_CASES) expect(ruleByName.has(c.alert), `case for unknown alert ${c.alert}`).toBe(true);
  });
});

const missing = missingTools([PROMTOOL]);
const suite = missing && !isCi() ? describe.skip : describe;
if (missing && !isCi()) console.warn(`[skipped] promtool rule tests: ${missing}`);

suite("promtool (Prometheus v3.14.0 rule engine)", () => {
  const dir = mkdtempSync(join(tmpdir(), "watchpipe-promtool-"));
  const rulesFile = join(dir, "rules.yaml");
  writeFileSync(rulesFile, stringify({ groups }));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("is installed", () => {
    expect(missing, "CI=true needs promtool: run .ci/install-monitoring-tools.sh first").toBeUndefined();
  });

  it("checks the rendered rules (syntax, PromQL, durations; lint on)", () => {
    const out = execFileSync(PROMTOOL, ["check", "rules", "--lint=all", "--lint-fatal", rulesFile], { encoding: "utf8" });
    expect(out).toContain(`${rules.length} rules found`);
  });

  it.each(ALERT_CASES.map((c) => [c.alert, c] as const))("%s fires on its failure and stays silent otherwise", async (alert, c) => {
    const file = join(dir, `${alert}.test.yaml`);
    writeFileSync(file, stringify(promtoolTests(ruleByName.get(alert)!, c, rulesFile)));
    // Asynchronous: a synchronous child blocks the event loop, so vitest could not even report the timeout.
    const started = performance.now();
    try {
      await execFileAsync(PROMTOOL, ["test", "rules", file], { encoding: "utf8", timeout: PROMTOOL_CASE_TIMEOUT_MS });
    } catch (err) {
      const e = err as { stdout?: string; stderr?: string; killed?: boolean };
      const why = e.killed ? `did not finish within ${PROMTOOL_CASE_TIMEOUT_MS / 1000} s (killed)` : "failed";
      throw new Error(`promtool test rules ${why} for ${alert} after ${((performance.now() - started) / 1000).toFixed(1)} s:\n${e.stdout ?? ""}${e.stderr ?? ""}`);
    }
  }, PROMTOOL_CASE_TIMEOUT_MS + KILL_MARGIN_MS);
});
