import { describe, expect, it } from "vitest";
import { REJECTIONS, reasonText } from "../../ksql/model/validate";
import { effectiveStatements, migrationDefines, migrationFiles, renderStatements, splitStatements } from "../../ksql/migrations";
import {
  COLLECT_SET_LIMIT,
  DEFAULT_SESSIONIZATION_PARAMS,
  PIECE_WINDOW_SEC,
  SQL_GRACE_PERIOD_SEC,
  WINDOW_RETENTION_SEC,
  MAX_EVENT_TS_MS,
  MAX_LATENESS_SEC,
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
    // V000004: arrival time, sent_at, keys.
    rules.push("clock_slow", "clock_fast", "clock_minus_2h", "clock_plus_2h", "offline_burst", "late_every_heartbeat", "late_over_1h", "no_sent_at", "key_mismatch", "catch_up");
    // V000006: a heartbeat's identity, hopping windows, the player's clock for distance.
    rules.push("retry_same_window_counts_once", "retry_next_window_counts_once", "retry_after_25s_counts_once", "retry_after_90s_counts_twice");
    rules.push("duplicate_without_sent_at_counts_once", "burst_without_sent_at_keeps_length", "arrival_jitter_does_not_split");
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
  // The rules in force are the latest file that writes the rejects (V000004 replaced V000001-V000003's queries).
  const validation = migrationFiles().filter((f) => f.content.includes("STREAM IF NOT EXISTS heartbeats_rejected") || f.content.includes("STREAM heartbeats_rejected")).at(-1)?.content ?? "";
  const v4 = migrationFiles().find((f) => f.version === 4)?.content ?? "";
  // What runs once every migration applied (V000004 dropped and recreated everything): the rules below look at it.
  const live = effectiveStatements(migrationFiles()).map((st) => `${st.sql};`).join("\n");
  it("the latest validation migration's three copies of the CASE (valid filter, reject reason, reject filter) are identical", () => {
    // ksqlDB has no CTEs and a WHERE cannot name a SELECT alias, so the rule list is written three times; an
    // intermediate stream would cost one more full copy of the raw topic at 100,000 records/s.
    expect(validation).toBe(v4);
    const cases = [...validation.matchAll(/\(?CASE\s+(WHEN user_id IS NULL[\s\S]*?)\bEND\b/g)].map((m) => m[1].replace(/\s+/g, " ").trim());
    expect(cases).toHaveLength(3);
    expect(new Set(cases).size).toBe(1);
    // One WHEN per reject rule, plus the sent_at IS NULL guard that ends the CASE (valid) before any sent_at rule.
    expect(cases[0].split(" WHEN ").length).toBe(Object.keys(REJECTIONS).length + 1);
    expect(cases[0]).toContain("WHEN sent_at IS NULL THEN CAST(NULL AS STRING) WHEN sent_at < 0");
  });
  it("every reject reason of the model is written verbatim by that migration (SQL quotes doubled), in the model's order", () => {
    const texts = Object.values(REJECTIONS).map((r) => `'${reasonText(r).replace(/'/g, "''")}'`);
    for (const t of texts) expect(validation).toContain(t);
    const firstCase = validation.slice(validation.indexOf("WHERE (CASE"));
    const positions = texts.map((t) => firstCase.indexOf(t));
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
  });
  it("V000004 keeps V000003's field rules, drops the record-timestamp rule and adds key, sent_at and late", () => {
    const v3 = migrationFiles()[2]!.content;
    const whens = (text: string) => [...new Set([...text.matchAll(/^\s*WHEN .* THEN .*$/gm)].map((m) => m[0].trim()))];
    const added = whens(v4).filter((w) => !whens(v3).includes(w));
    const removed = whens(v3).filter((w) => !whens(v4).includes(w));
    expect(removed).toEqual(["WHEN event_ts > ROWTIME + 30000 THEN 'event_ts: expected at most 30 s after the record timestamp'"]);
    expect(added.map((w) => /THEN '(\w+):/.exec(w)?.[1] ?? "guard").sort()).toEqual(["guard", "key", "key", "late", "sent_at", "sent_at", "sent_at"]);
    expect(v4).toContain(`WHEN sent_at > event_ts + ${MAX_LATENESS_SEC * 1000} THEN 'late:`);
    expect(splitStatements(v4).join("\n")).not.toMatch(/PARTITION BY/);
    expect(v4).toContain("session_key STRING KEY");
    expect(v4).toContain("CASE WHEN sent_at IS NULL THEN ROWTIME ELSE ROWTIME - (sent_at - event_ts) END AS played_at");
  });
  it("the SQL's literal limits are the model's constants", () => {
    expect(sql).toContain(`LEN(user_id) > ${MAX_ID_LENGTH}`);
    expect(sql).toContain(`position_sec <= ${MAX_POSITION_SEC}`);
    expect(sql).toContain(`event_ts > ${MAX_EVENT_TS_MS}`);
    expect(v4).toContain(`sent_at > ${MAX_EVENT_TS_MS}`);
    expect(sql).toContain(`'${TICK_USER_ID}'`);
    expect(v4).toContain(`CONCAT(user_id, '${SESSION_KEY_SEPARATOR}', video_id)`);
  });
  it("versions are 1..n and rendering leaves no unresolved ${...}", () => {
    expect(migrationFiles().map((f) => f.version)).toEqual([1, 2, 3, 4, 5, 6]);
    const rendered = renderStatements(DEFAULT_SESSIONIZATION_PARAMS, { heartbeatPartitions: 1, replicas: 1, sinkTopics: ANY_SINK_TOPICS });
    expect(rendered).not.toMatch(/\$\{/);
    expect(rendered).toContain("<= 30000\n");
    expect(rendered).toContain("<= 2000 * (");
  });
  it("WINDOW clauses hold literal numbers only (ksqlDB substitutes no variables there), equal to ksql/params.ts", () => {
    const windows = [...live.matchAll(/WINDOW\s+\w+\s*\(([^)]*)\)/g)].map((m) => m[1]);
    expect(windows).toHaveLength(1);
    expect(windows[0]).not.toContain("${");
    // V000006: hopping windows twice the half a window owns, advancing by that half.
    expect(live).toMatch(/WINDOW HOPPING \(/);
    expect(windows[0]).toBe(
      `SIZE ${2 * PIECE_WINDOW_SEC * 1000} MILLISECONDS, ADVANCE BY ${PIECE_WINDOW_SEC * 1000} MILLISECONDS, RETENTION ${WINDOW_RETENTION_SEC * 1000} MILLISECONDS, GRACE PERIOD ${SQL_GRACE_PERIOD_SEC * 1000} MILLISECONDS`,
    );
    expect(live).toContain(`WINDOW_TYPE = 'HOPPING',\n  WINDOW_SIZE = '${2 * PIECE_WINDOW_SEC * 1000} MILLISECONDS'`);
    // The REDUCE's cutoff between a window's older and newer half is the same literal.
    expect(live).toContain(`WINDOWSTART + ${PIECE_WINDOW_SEC * 1000} AS STRING`);
    // A 60 s window holds 12 points of a 5 s player; the limit leaves room for copies and fast clients.
    expect(COLLECT_SET_LIMIT).toBeGreaterThan(((2 * PIECE_WINDOW_SEC) / 5) * 10);
  });
  it("a grace period other than the SQL's literal is refused, naming the option", () => {
    expect(() => migrationDefines({ ...DEFAULT_SESSIONIZATION_PARAMS, gracePeriodSec: 90 }, { heartbeatPartitions: 3, sinkTopics: ANY_SINK_TOPICS })).toThrow(
      /sessionization.gracePeriodSec: expected 60 .*got 90/,
    );
  });
  it("the piece split (REDUCE) is written once", () => {
    expect(live.match(/\bREDUCE\(/g)).toHaveLength(1);
  });
  it("topics the SQL creates itself set PARTITIONS and REPLICAS; into the program's topics it states their partitions and retention", () => {
    const creates = [...live.matchAll(/CREATE (?:TABLE|STREAM) IF NOT EXISTS \w+ WITH \(([^;]*?)\) AS/g)].map((m) => m[1]);
    expect(creates.length).toBe(6);
    expect(live).not.toMatch(/COLLECT_LIST|SESSION \(/);
    for (const w of creates) {
      expect(w).not.toMatch(/TIMESTAMP\s*=/);
      if (KSQL_CREATED_TOPICS.some((t) => w.includes(`'${t}'`))) expect(w).toMatch(/PARTITIONS = \$\{sessionsPartitions\}[\s\S]*REPLICAS = \$\{replicas\}/);
      else expect(w).toMatch(/PARTITIONS = \$\{\w+Partitions\},\s*RETENTION_MS = \$\{\w+RetentionMs\}/);
    }
  });
});

describe("the statements in force after the migration chain (what ksql-test-runner executes)", () => {
  it("are V000004's validation (three CREATEs), V000005's late copy, then V000006's four sessionization CREATEs", () => {
    const live = effectiveStatements(migrationFiles());
    expect(live.map((st) => st.file)).toEqual([
      ...Array<string>(3).fill("V000004__arrival_time.sql"),
      "V000005__late_rejects_topic.sql",
      ...Array<string>(4).fill("V000006__dedupe_heartbeats.sql"),
    ]);
    const creates = (i: number) => splitStatements(migrationFiles()[i]!.content).filter((st) => st.startsWith("CREATE"));
    expect(live.map((st) => st.sql)).toEqual([...creates(3).slice(0, 3), ...creates(4), ...creates(5)]);
    expect(splitStatements(migrationFiles()[3]!.content).filter((st) => st.startsWith("DROP"))).toHaveLength(7);
    // V000006 drops exactly the four sources it recreates, downstream first; V000005's reader of heartbeats_rejected stays.
    const v6 = splitStatements(migrationFiles()[5]!.content);
    expect(v6.filter((st) => st.startsWith("DROP"))).toEqual([
      "DROP STREAM IF EXISTS watch_pieces",
      "DROP STREAM IF EXISTS watch_pieces_encoded",
      "DROP STREAM IF EXISTS heartbeat_windows_final",
      "DROP TABLE IF EXISTS heartbeat_windows",
    ]);
    expect(v6[0]).toBe("SET 'auto.offset.reset' = 'latest'");
  });
  it("a DROP removes the source, CREATE OR REPLACE takes its place, SET is left to the live cluster", () => {
    const f = (version: number, content: string) => ({ name: `V00000${version}__t.sql`, version, content });
    const live = effectiveStatements([
      f(1, "CREATE STREAM IF NOT EXISTS a (x INT) WITH (KAFKA_TOPIC = 'a');\nCREATE STREAM IF NOT EXISTS b AS SELECT * FROM a;\n-- a comment; with a semicolon\nCREATE STREAM IF NOT EXISTS c AS SELECT * FROM b;\n"),
      f(2, "CREATE OR REPLACE STREAM b AS SELECT x FROM a;\nSET 'auto.offset.reset' = 'latest';\nDROP STREAM IF EXISTS c;\n"),
    ]);
    expect(live.map((st) => st.sql)).toEqual(["CREATE STREAM IF NOT EXISTS a (x INT) WITH (KAFKA_TOPIC = 'a')", "CREATE OR REPLACE STREAM b AS SELECT x FROM a"]);
    expect(() => effectiveStatements([f(1, "TERMINATE ALL;")])).toThrow(/not understood/);
    expect(() => effectiveStatements([f(1, "DROP STREAM x;")])).toThrow(/no earlier migration created/);
  });
  it("the rendered statements file holds no SET, DROP or unresolved variable", () => {
    const rendered = renderStatements(DEFAULT_SESSIONIZATION_PARAMS, { heartbeatPartitions: 1, replicas: 1, sinkTopics: ANY_SINK_TOPICS });
    expect(rendered).not.toMatch(/^(SET|DROP)\b/m);
    expect(rendered).not.toMatch(/\$\{/);
    expect(rendered.match(/;\n/g)).toHaveLength(8);
  });
});
