/**
 * tools/planDiff.ts (planDiffMarkdown in tools/planReport.ts): the PR cost table compares a head plan with its base line by line, and shows the head alone
 * when there is no base.
 */
import { describe, expect, it } from "vitest";
import { planDiffMarkdown, type PlanCost, type PlanReport } from "../tools/planReport";

const line = (item: string, monthly: number) => ({ item, quantity: 1, unit: "x", unitPrice: monthly, monthly });

function plan(lines: ReturnType<typeof line>[], ok = true): PlanReport {
  const total = lines.reduce((s, l) => s + l.monthly, 0);
  const cost = { lines, total, perMillionHeartbeats: total / 9126, heartbeatsPerDay: 300e6 } as unknown as PlanCost;
  return { stack: "prod", cost, verdict: { ok, costUnavailable: null } } as unknown as PlanReport;
}

describe("plan cost diff", () => {
  it("matches lines by item: changed, removed (— in head) and added (— in base), with the total's change", () => {
    const base = plan([line("EKS control plane", 73), line("WAFv2 requests inspected", 5475.6)]);
    const head = plan([line("EKS control plane", 73), line("ALB LCUs", 56.36)]);
    const md = planDiffMarkdown(head, base).split("\n");
    expect(md[0]).toBe("### Monthly cost: stack prod");
    expect(md).toContain("| EKS control plane | $73.00 | $73.00 |  |");
    expect(md).toContain("| ALB LCUs | — | $56.36 | +$56.36 |");
    expect(md).toContain("| WAFv2 requests inspected | $5,475.60 | — | −$5,475.60 |");
    expect(md).toContain("| **total** | $5,548.60 | **$129.36** | −$5,419.24 |");
    expect(md.at(-1)).toBe("Per million heartbeats: $0.01 (300 M heartbeats/day). Verdict: ok.");
  });

  it("matches a line whose parenthesised detail changed (6 → 7 volume sets) and shows the head's wording", () => {
    const md = planDiffMarkdown(plan([line("EBS gp3 persistent volumes (7 sets)", 780)]), plan([line("EBS gp3 persistent volumes (6 sets)", 767.2)]));
    expect(md).toContain("| EBS gp3 persistent volumes (7 sets) | $767.20 | $780.00 | +$12.80 |");
    expect(md).not.toContain("6 sets");
  });

  it("without a base shows the head alone, and says so", () => {
    const md = planDiffMarkdown(plan([line("KMS keys", 2)], false));
    expect(md).toContain("### Monthly cost: stack prod (no base plan to compare)");
    expect(md).toContain("| KMS keys | — | $2.00 | +$2.00 |");
    expect(md).toContain("| **total** | — | **$2.00** |  |");
    expect(md).toMatch(/Verdict: FAILED\.$/);
  });
});
