/**
 * README.md's configuration table cannot drift from the schema: every key the schema accepts has a row and every row
 * is a key, enum columns name exactly the allowed values, defaults are the schema's, and each stack column shows
 * what that stack's yaml parses to.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { documentedKeys, parseConfig, rawConfigOf, type AppConfig } from "../config";

const ROOT = join(__dirname, "..");
const STACKS = ["dev", "prod", "local"] as const;
/** Cells that stand for a value instead of spelling it: not applicable, the default, the AWS documentation example. */
const PLACEHOLDERS = new Set(["—", "default", "example"]);

interface Row {
  readonly key: string;
  readonly type: string;
  readonly default: string;
  readonly stacks: Record<(typeof STACKS)[number], string>;
}

function tableRows(): Row[] {
  const readme = readFileSync(join(ROOT, "README.md"), "utf8");
  const section = readme.slice(readme.indexOf("## Configuration reference"));
  const lines = section.split("\n");
  const start = lines.findIndex((l) => l.startsWith("| Key |"));
  const rows: Row[] = [];
  for (const line of lines.slice(start + 2)) {
    if (!line.startsWith("|")) break;
    // Split on unescaped pipes (types use `a` \| `b`).
    const cells = line.slice(1, -1).split(/(?<!\\)\|/).map((c) => c.trim().replace(/\\\|/g, "|"));
    const [key, type, dflt, dev, prod, local] = cells;
    rows.push({ key: key.replace(/`/g, ""), type, default: dflt, stacks: { dev, prod, local } });
  }
  return rows;
}

function stackConfig(stack: string): { cfg: AppConfig; region: unknown } {
  const file = parse(readFileSync(join(ROOT, `Pulumi.${stack}.yaml`), "utf8")) as { config: Record<string, unknown> };
  const flat = Object.fromEntries(Object.entries(file.config).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)]));
  const region = file.config["aws:region"];
  return { cfg: parseConfig(rawConfigOf(flat), stack, "watchpipe", typeof region === "string" ? region : undefined), region };
}

function valueAt(cfg: AppConfig, key: string): unknown {
  return key.split(".").reduce<unknown>((v, k) => (typeof v === "object" && v !== null ? (v as Record<string, unknown>)[k] : undefined), cfg);
}

const rows = tableRows();
const docs = documentedKeys();

describe("README configuration table matches the schema", () => {
  it("has one row per schema key (plus aws:region), in any order, and no row for a key the schema lacks", () => {
    expect(rows.map((r) => r.key).filter((k) => k !== "aws:region").sort()).toEqual(docs.map((d) => d.key).sort());
  });

  it.each(docs.filter((d) => d.values))("$key: the Type column names exactly the allowed values and the stack columns use only them", (doc) => {
    const row = rows.find((r) => r.key === doc.key)!;
    const named = [...row.type.matchAll(/`([^`]+)`|(?:^|\| )(\d+)(?= |$)/g)].map((m) => m[1] ?? m[2]);
    for (const v of doc.values!) expect(named, `${doc.key} Type column`).toContain(String(v));
    for (const stack of STACKS) {
      const cell = row.stacks[stack];
      if (PLACEHOLDERS.has(cell)) continue;
      expect(doc.values!.map(String), `${doc.key} ${stack} column`).toContain(cell);
    }
  });

  it.each(docs.filter((d) => ["string", "number", "boolean"].includes(typeof d.default)))("$key: the Default column is the schema's default", (doc) => {
    const row = rows.find((r) => r.key === doc.key)!;
    expect(row.default).toBe(`\`${String(doc.default)}\``);
  });

  it.each(STACKS)("the %s column shows what Pulumi.%s.yaml parses to (scalar keys)", (stack) => {
    const { cfg, region } = stackConfig(stack);
    const wrong: string[] = [];
    for (const row of rows) {
      const cell = row.stacks[stack];
      if (PLACEHOLDERS.has(cell)) continue;
      const value = row.key === "aws:region" ? region : valueAt(cfg, row.key);
      if (!["string", "number", "boolean"].includes(typeof value)) continue;
      if (cell !== String(value)) wrong.push(`${row.key}: README says ${cell}, Pulumi.${stack}.yaml gives ${String(value)}`);
    }
    expect(wrong).toEqual([]);
  });
});
