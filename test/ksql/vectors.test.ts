import { describe, expect, it } from "vitest";
import { REJECTIONS, reasonText } from "../../ksql/model/validate";
import { migrationDefines, migrationFiles, renderStatements } from "../../ksql/migrations";
import {
  DEFAULT_SESSIONIZATION_PARAMS,
  MAX_EVENT_TS_MS,
  MAX_FUTURE_SKEW_SEC,
  MAX_ID_LENGTH,
  MAX_POSITION_SEC,
  SESSION_KEY_SEPARATOR,
  TICK_USER_ID,
} from "../../contract/sessionization";
import { loadVectors, runVectorThroughModel } from "../../ksql/vectors";
import { KSQL_CREATED_TOPICS } from "../../contract/topics";

const vectors = loadVectors();

describe("ksql-test-runner vectors, run through the reference model", () => {
  it("exist for every semantic rule and for validation", () => {
    const names = vectors.map((v) => v.name);
    for (const rule of ["continuous", "seek", "pause", "silence", "interleaved", "out_of_order", "late", "duplicates", "quiet", "validation"]) {
      expect(names.some((n) => n.includes(rule)), `a vector for ${rule}`).toBe(true);
    }
  });

  for (const v of vectors) {
    it(`${v.name}: the model writes exactly output.json`, () => {
      expect(v.outputs.length, "a vector must expect some output").toBeGreaterThan(0);
      expect(runVectorThroughModel(v.inputs, DEFAULT_SESSIONIZATION_PARAMS)).toEqual(v.outputs);
    });
  }
});

describe("the migrations and the model agree on the contract", () => {
  const sql = migrationFiles().map((f) => f.content).join("\n");
  it("V000001's three copies of the validation CASE (valid filter, reject reason, reject filter) are identical", () => {
    // ksqlDB has no CTEs and a WHERE cannot name a SELECT alias, so the rule list is written three times; an
    // intermediate stream would cost one more full copy of the raw topic at 100,000 records/s.
    const v1 = migrationFiles().find((f) => f.name.startsWith("V000001"))?.content ?? "";
    const cases = [...v1.matchAll(/CASE\s+(WHEN[\s\S]*?)\bEND\b/g)].map((m) => m[1].replace(/\s+/g, " ").trim());
    expect(cases).toHaveLength(3);
    expect(new Set(cases).size).toBe(1);
    expect(cases[0].split(" WHEN ").length).toBe(Object.keys(REJECTIONS).length);
  });
  it("every reject reason of the model is written verbatim by V000001 (SQL quotes doubled)", () => {
    for (const r of Object.values(REJECTIONS)) expect(sql).toContain(`'${reasonText(r).replace(/'/g, "''")}'`);
  });
  it("the SQL's literal limits are the model's constants", () => {
    expect(sql).toContain(`LEN(user_id) > ${MAX_ID_LENGTH}`);
    expect(sql).toContain(`position_sec <= ${MAX_POSITION_SEC}`);
    expect(sql).toContain(`event_ts > ${MAX_EVENT_TS_MS}`);
    expect(sql).toContain(`event_ts > ROWTIME + ${MAX_FUTURE_SKEW_SEC * 1000}`);
    expect(sql).toContain(`'${TICK_USER_ID}'`);
    expect(sql).toContain(`CONCAT(user_id, '${SESSION_KEY_SEPARATOR}', video_id)`);
  });
  it("versions are 1..n and rendering leaves no unresolved ${...}", () => {
    expect(migrationFiles().map((f) => f.version)).toEqual([1, 2]);
    const rendered = renderStatements(DEFAULT_SESSIONIZATION_PARAMS, { heartbeatPartitions: 1, replicas: 1 });
    expect(rendered).not.toMatch(/\$\{/);
    expect(rendered).toContain("WINDOW SESSION (30000 MILLISECONDS, RETENTION 120000 MILLISECONDS, GRACE PERIOD 60000 MILLISECONDS)");
    expect(rendered).toContain("<= 10000\n");
  });
  it("every variable the SQL references is defined, and every define is used", () => {
    const defines = migrationDefines(DEFAULT_SESSIONIZATION_PARAMS, { heartbeatPartitions: 12 });
    const used = new Set([...sql.matchAll(/\$\{(\w+)\}/g)].map((m) => m[1]));
    expect([...used].sort()).toEqual(Object.keys(defines).sort());
    expect(defines.replicas).toBe("3");
  });
  it("the segment split (REDUCE) is written once", () => {
    expect(sql.match(/\bREDUCE\(/g)).toHaveLength(1);
  });
  it("topics the SQL creates itself set PARTITIONS and REPLICAS; the others reuse existing topics", () => {
    const creates = [...sql.matchAll(/CREATE (?:TABLE|STREAM) IF NOT EXISTS \w+ WITH \(([^;]*?)\) AS/g)].map((m) => m[1]);
    expect(creates.length).toBe(5);
    for (const w of creates) {
      if (KSQL_CREATED_TOPICS.some((t) => w.includes(`'${t}'`))) expect(w).toMatch(/PARTITIONS = \$\{sessionsPartitions\}[\s\S]*REPLICAS = \$\{replicas\}/);
      else expect(w).not.toContain("PARTITIONS");
    }
  });
});
