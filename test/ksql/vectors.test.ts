import { describe, expect, it } from "vitest";
import { REJECTIONS, reasonText } from "../../ksql/model/validate";
import { migrationDefines, migrationFiles, renderStatements } from "../../ksql/migrations";
import {
  COLLECT_SET_LIMIT,
  DEFAULT_SESSIONIZATION_PARAMS,
  PIECE_WINDOW_SEC,
  SQL_GRACE_PERIOD_SEC,
  WINDOW_RETENTION_SEC,
  MAX_EVENT_TS_MS,
  MAX_FUTURE_SKEW_SEC,
  MAX_ID_LENGTH,
  MAX_POSITION_SEC,
  SESSION_KEY_SEPARATOR,
  TICK_USER_ID,
} from "../../contract/sessionization";
import { loadVectors, runVectorThroughModel, vectorFileText, VECTORS_DIR } from "../../ksql/vectors";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { KSQL_CREATED_TOPICS } from "../../contract/topics";

const vectors = loadVectors();
/** Any valid shape: these tests look at the SQL the variables land in, not at a stack's topics. */
const ANY_SINK_TOPICS = { heartbeats: { partitions: 1, retentionMs: 1 }, rejected: { partitions: 1, retentionMs: 1 }, segments: { partitions: 1, retentionMs: 1 } };

describe("ksql-test-runner vectors, run through the reference model", () => {
  it("exist for every semantic rule and for validation", () => {
    const names = vectors.map((v) => v.name);
    const rules = ["continuous", "seek", "pause", "silence", "interleaved", "out_of_order", "late", "duplicates", "quiet", "validation"];
    rules.push("playback_2x", "playback_1_5x", "playback_0_5x", "24h", "pause_with_heartbeats", "stream_time_jump");
    for (const rule of rules) {
      expect(names.some((n) => n.includes(rule)), `a vector for ${rule}`).toBe(true);
    }
  });

  for (const v of vectors) {
    it(`${v.name}: the model writes exactly output.json`, () => {
      expect(v.outputs.length, "a vector must expect some output").toBeGreaterThan(0);
      const outputs = runVectorThroughModel(v.inputs, DEFAULT_SESSIONIZATION_PARAMS);
      expect(outputs).toEqual(v.outputs);
      // Byte for byte too: ksql-test-runner compares JSON-format values literally (DOUBLE 1.0, not 1).
      expect(readFileSync(path.join(VECTORS_DIR, v.name, "output.json"), "utf8")).toBe(vectorFileText({ outputs }));
    });
  }
});

describe("the migrations and the model agree on the contract", () => {
  const sql = migrationFiles().map((f) => f.content).join("\n");
  // V000003 upgraded V000001's two queries in place; the rules in force are the latest file that writes the rejects.
  const validation = migrationFiles().filter((f) => f.content.includes("STREAM heartbeats_rejected")).at(-1)?.content ?? "";
  it("the latest validation migration's three copies of the CASE (valid filter, reject reason, reject filter) are identical", () => {
    // ksqlDB has no CTEs and a WHERE cannot name a SELECT alias, so the rule list is written three times; an
    // intermediate stream would cost one more full copy of the raw topic at 100,000 records/s.
    const cases = [...validation.matchAll(/CASE\s+(WHEN[\s\S]*?)\bEND\b/g)].map((m) => m[1].replace(/\s+/g, " ").trim());
    expect(cases).toHaveLength(3);
    expect(new Set(cases).size).toBe(1);
    expect(cases[0].split(" WHEN ").length).toBe(Object.keys(REJECTIONS).length);
  });
  it("every reject reason of the model is written verbatim by that migration (SQL quotes doubled)", () => {
    expect(validation).toMatch(/^CREATE OR REPLACE STREAM heartbeats WITH/m);
    for (const r of Object.values(REJECTIONS)) expect(validation).toContain(`'${reasonText(r).replace(/'/g, "''")}'`);
  });
  it("V000003 restates V000001's rules and adds only the NUL rules", () => {
    const v1 = migrationFiles()[0]!.content;
    const whens = (sql: string) => [...sql.matchAll(/^\s*WHEN .*$/gm)].map((m) => m[0].trim());
    const added = whens(validation).filter((w) => !whens(v1).includes(w));
    expect(added.sort()).toEqual([
      "WHEN INSTR(user_id, CHR(0)) > 0 THEN 'user_id: expected no NUL (U+0000) character'",
      "WHEN INSTR(video_id, CHR(0)) > 0 THEN 'video_id: expected no NUL (U+0000) character'",
    ].flatMap((w) => [w, w, w]).sort());
    expect(whens(v1).every((w) => whens(validation).includes(w))).toBe(true);
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
    expect(migrationFiles().map((f) => f.version)).toEqual([1, 2, 3]);
    const rendered = renderStatements(DEFAULT_SESSIONIZATION_PARAMS, { heartbeatPartitions: 1, replicas: 1, sinkTopics: ANY_SINK_TOPICS });
    expect(rendered).not.toMatch(/\$\{/);
    expect(rendered).toContain("<= 30000\n");
    expect(rendered).toContain("<= 2000 * (");
  });
  it("WINDOW clauses hold literal numbers only (ksqlDB substitutes no variables there), equal to ksql/params.ts", () => {
    const windows = [...sql.matchAll(/WINDOW\s+\w+\s*\(([^)]*)\)/g)].map((m) => m[1]);
    expect(windows).toHaveLength(1);
    expect(windows[0]).not.toContain("${");
    expect(windows[0]).toBe(
      `SIZE ${PIECE_WINDOW_SEC * 1000} MILLISECONDS, RETENTION ${WINDOW_RETENTION_SEC * 1000} MILLISECONDS, GRACE PERIOD ${SQL_GRACE_PERIOD_SEC * 1000} MILLISECONDS`,
    );
    expect(sql).toContain(`WINDOW_SIZE = '${PIECE_WINDOW_SEC * 1000} MILLISECONDS'`);
    expect(COLLECT_SET_LIMIT).toBeGreaterThan((PIECE_WINDOW_SEC / 5) * 10);
  });
  it("a grace period other than the SQL's literal is refused, naming the option", () => {
    expect(() => migrationDefines({ ...DEFAULT_SESSIONIZATION_PARAMS, gracePeriodSec: 90 }, { heartbeatPartitions: 3, sinkTopics: ANY_SINK_TOPICS })).toThrow(
      /sessionization.gracePeriodSec: expected 60 .*got 90/,
    );
  });
  it("the piece split (REDUCE) is written once", () => {
    expect(sql.match(/\bREDUCE\(/g)).toHaveLength(1);
  });
  it("topics the SQL creates itself set PARTITIONS and REPLICAS; into the program's topics it states their partitions and retention", () => {
    const creates = [...sql.matchAll(/CREATE (?:TABLE|STREAM) IF NOT EXISTS \w+ WITH \(([^;]*?)\) AS/g)].map((m) => m[1]);
    expect(creates.length).toBe(5);
    expect(sql).not.toMatch(/COLLECT_LIST|SESSION \(/);
    for (const w of creates) {
      if (KSQL_CREATED_TOPICS.some((t) => w.includes(`'${t}'`))) expect(w).toMatch(/PARTITIONS = \$\{sessionsPartitions\}[\s\S]*REPLICAS = \$\{replicas\}/);
      else expect(w).toMatch(/PARTITIONS = \$\{\w+Partitions\},\s*RETENTION_MS = \$\{\w+RetentionMs\}/);
    }
  });
});
