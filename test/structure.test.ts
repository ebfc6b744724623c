/**
 * Imports flow one way (README.md, "Layout"): index.ts → components → (operators, ksql, connectors, contract);
 * config.ts → contract; tools → (contract, ksql, connectors); policy → contract; contract → nothing of the project.
 * This test reads every TypeScript file's imports (static, re-exports, dynamic, require) and fails naming the file,
 * the import and the rule it breaks.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = join(__dirname, "..");
const SKIP_DIRS = new Set(["node_modules", ".git", "bin", "render", "out", ".cache"]);

type Layer = "index" | "config" | "contract" | "components" | "operators" | "ksql" | "connectors" | "tools" | "policy" | "test" | "other";

/** The layer a repository path belongs to. */
export function layerOf(path: string): Layer {
  if (path === "index.ts") return "index";
  if (path === "config.ts") return "config";
  const top = path.split("/")[0] ?? "";
  const layers: readonly Layer[] = ["contract", "components", "operators", "ksql", "connectors", "tools", "policy", "test"];
  return layers.find((l) => l === top) ?? "other";
}

/** Layers each layer may import (itself included where listed). */
const ALLOWED: Record<Layer, readonly Layer[]> = {
  contract: ["contract"],
  config: ["contract"],
  operators: ["operators", "contract"],
  ksql: ["ksql", "contract"],
  connectors: ["connectors", "contract"],
  components: ["components", "operators", "ksql", "connectors", "contract"],
  index: ["config", "components"],
  policy: ["policy", "contract"],
  tools: ["tools", "contract", "ksql", "connectors"],
  test: ["index", "config", "contract", "components", "operators", "ksql", "connectors", "tools", "policy", "test", "other"],
  other: ["contract", "config", "other"],
};

/**
 * Two kinds of tool step outside the runtime tools' floor, on purpose and nowhere else: the evaluators run the whole
 * program under Pulumi mocks the way `pulumi preview` would (so they read config and load index.ts), and the
 * benchmarks start the same throwaway servers the real-service tests use.
 */
const TOOL_EXCEPTIONS: readonly { readonly files: RegExp; readonly may: RegExp; readonly why: string }[] = [
  { files: /^tools\/(mockRun|plan|planModel|planReport|render|renderObjects)\.ts$/, may: /^(config|index)\.ts$/, why: "evaluators run the program under mocks" },
  { files: /^tools\/bench-[\w-]+\.ts$/, may: /^test\/real\/(kafka|pg|ingest)\//, why: "benchmarks start the real-service harness" },
];

/** Packages only the Pulumi layer may load: the shared floors and the runtime tools stay free of them. */
const PULUMI_PACKAGE = /^@pulumi\//;
const PULUMI_FREE: readonly Layer[] = ["contract", "ksql", "connectors"];

export interface ImportEdge {
  readonly from: string;
  readonly specifier: string;
  /** Repository path of the imported file, for relative specifiers. */
  readonly to?: string;
}

/** Problems with one import, empty when it follows the rules. */
export function importProblems(edge: ImportEdge): string[] {
  const fromLayer = layerOf(edge.from);
  if (edge.to === undefined) {
    if (PULUMI_PACKAGE.test(edge.specifier) && PULUMI_FREE.includes(fromLayer)) {
      return [`${edge.from} imports ${edge.specifier}: ${fromLayer}/ must not load Pulumi (it is shared by the runtime tools); move the Pulumi part into components/`];
    }
    return [];
  }
  const toLayer = layerOf(edge.to);
  if (ALLOWED[fromLayer].includes(toLayer)) return [];
  if (fromLayer === "tools" && TOOL_EXCEPTIONS.some((e) => e.files.test(edge.from) && e.may.test(edge.to ?? ""))) return [];
  return [`${edge.from} imports ${edge.to}: ${fromLayer === "index" || fromLayer === "config" ? edge.from : `${fromLayer}/`} may import only ${ALLOWED[fromLayer].map((l) => (l === "index" || l === "config" ? `${l}.ts` : `${l}/`)).join(", ")}; move the shared part into contract/ or pass it in as an argument`];
}

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir)) {
    if (SKIP_DIRS.has(entry)) continue;
    const full = join(dir, entry);
    if (statSync(full).isDirectory()) out.push(...sourceFiles(full));
    else if (/\.(ts|mts)$/.test(entry) && !entry.endsWith(".d.ts")) out.push(relative(ROOT, full));
  }
  return out;
}

const IMPORT = /(?:\bfrom\s*|\bimport\s*\(\s*|\brequire\s*\(\s*|^\s*import\s+)(["'])([^"']+)\1/gm;

function resolveRelative(from: string, specifier: string, files: ReadonlySet<string>): string | undefined {
  const base = relative(ROOT, resolve(ROOT, dirname(from), specifier));
  return [`${base}.ts`, join(base, "index.ts"), base].find((c) => files.has(c));
}

function edgesOf(file: string, files: ReadonlySet<string>): ImportEdge[] {
  // Comments may quote import lines; strip them before matching.
  const text = readFileSync(join(ROOT, file), "utf8").replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "");
  const edges: ImportEdge[] = [];
  for (const m of text.matchAll(IMPORT)) {
    const specifier = m[2]!;
    const to = specifier.startsWith(".") ? resolveRelative(file, specifier, files) : undefined;
    edges.push(to === undefined ? { from: file, specifier } : { from: file, specifier, to });
  }
  return edges;
}

/** Packages that only load inside the test runner: vitest throws when a plain `tsx` process loads it. */
const TEST_RUNNER_PACKAGE = /^(vitest|@vitest\/)/;

/**
 * Problems for every file a tool loads, transitively, that imports the test runner. The benchmarks import the
 * real-service harness under test/real/, and `npm run bench:*` runs them with tsx, not vitest: one `expect` in a
 * shared helper breaks every benchmark that reaches it.
 */
export function testRunnerInToolsProblems(edges: readonly ImportEdge[]): string[] {
  const out = new Map<string, ImportEdge[]>();
  for (const e of edges) out.set(e.from, [...(out.get(e.from) ?? []), e]);
  const problems: string[] = [];
  for (const tool of [...out.keys()].filter((f) => layerOf(f) === "tools")) {
    const seen = new Set<string>([tool]);
    const via = new Map<string, string>();
    const queue = [tool];
    while (queue.length > 0) {
      const file = queue.shift()!;
      for (const e of out.get(file) ?? []) {
        if (e.to === undefined) {
          if (TEST_RUNNER_PACKAGE.test(e.specifier) && file !== tool) {
            problems.push(`${file} imports ${e.specifier} and ${tool} loads it (via ${pathTo(file, via, tool)}); tools run outside the test runner: throw an Error instead of expect()`);
          } else if (TEST_RUNNER_PACKAGE.test(e.specifier)) {
            problems.push(`${tool} imports ${e.specifier}; tools run outside the test runner`);
          }
        } else if (!seen.has(e.to)) {
          seen.add(e.to);
          via.set(e.to, file);
          queue.push(e.to);
        }
      }
    }
  }
  return [...new Set(problems)];
}

function pathTo(file: string, via: ReadonlyMap<string, string>, root: string): string {
  const chain = [file];
  for (let f = via.get(file); f !== undefined && f !== root; f = via.get(f)) chain.unshift(f);
  return [root, ...chain].join(" → ");
}

describe("import direction", () => {
  const files = sourceFiles(ROOT);
  const fileSet = new Set(files);

  it("finds the program's layers", () => {
    for (const layer of ["contract", "components", "operators", "ksql", "connectors", "tools", "policy"] as const) {
      expect(files.some((f) => layerOf(f) === layer), `no .ts file under ${layer}/`).toBe(true);
    }
    expect(fileSet.has("index.ts") && fileSet.has("config.ts")).toBe(true);
  });

  it("every relative import resolves to a file in the repository", () => {
    const unresolved = files.flatMap((f) => edgesOf(f, fileSet)).filter((e) => e.specifier.startsWith(".") && e.to === undefined);
    expect(unresolved.map((e) => `${e.from}: ${e.specifier}`)).toEqual([]);
  });

  it("no file imports against the direction", () => {
    const problems = files.flatMap((f) => edgesOf(f, fileSet)).flatMap(importProblems);
    expect(problems).toEqual([]);
  });

  it("no module a tool loads imports the test runner (tools run with tsx, not vitest)", () => {
    const problems = testRunnerInToolsProblems(files.flatMap((f) => edgesOf(f, fileSet)));
    expect(problems).toEqual([]);
  });

  it("names the chain when a tool reaches vitest through a shared helper", () => {
    const problems = testRunnerInToolsProblems([
      { from: "tools/bench-x.ts", specifier: "../test/real/pg/helper", to: "test/real/pg/helper.ts" },
      { from: "test/real/pg/helper.ts", specifier: "./inner", to: "test/real/pg/inner.ts" },
      { from: "test/real/pg/inner.ts", specifier: "vitest" },
      { from: "test/real/other.test.ts", specifier: "vitest" },
    ]);
    expect(problems).toEqual([
      "test/real/pg/inner.ts imports vitest and tools/bench-x.ts loads it (via tools/bench-x.ts → test/real/pg/helper.ts → test/real/pg/inner.ts); tools run outside the test runner: throw an Error instead of expect()",
    ]);
  });

  it.each([
    [{ from: "tools/loadgen/run.ts", specifier: "../../components/kafka/kafkaSpecs", to: "components/kafka/kafkaSpecs.ts" }, "tools/ may import only tools/, contract/, ksql/, connectors/"],
    [{ from: "config.ts", specifier: "./components/aws/subnets", to: "components/aws/subnets.ts" }, "config.ts may import only contract/"],
    [{ from: "contract/topics.ts", specifier: "../config", to: "config.ts" }, "contract/ may import only contract/"],
    [{ from: "operators/strimzi.ts", specifier: "../components/aws/clusterSpecs", to: "components/aws/clusterSpecs.ts" }, "operators/ may import only operators/, contract/"],
    [{ from: "policy/policies.ts", specifier: "../components/kafka/kafkaAcls", to: "components/kafka/kafkaAcls.ts" }, "policy/ may import only policy/, contract/"],
    [{ from: "components/kafka/kafka.ts", specifier: "../../config", to: "config.ts" }, "components/ may import only"],
    [{ from: "tools/loadgen/main.ts", specifier: "../../index", to: "index.ts" }, "tools/ may import only"],
    [{ from: "contract/capacity.ts", specifier: "@pulumi/pulumi" }, "contract/ must not load Pulumi"],
    [{ from: "ksql/model.ts", specifier: "@pulumi/kubernetes" }, "ksql/ must not load Pulumi"],
  ])("refuses %o", (edge, message) => {
    const problems = importProblems(edge);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain(message);
  });

  it.each([
    { from: "tools/plan.ts", specifier: "../config", to: "config.ts" },
    { from: "tools/mockRun.ts", specifier: "../index", to: "index.ts" },
    { from: "tools/bench-produce.ts", specifier: "../test/real/kafka/cluster", to: "test/real/kafka/cluster.ts" },
    { from: "components/stream/ksqldb.ts", specifier: "../../ksql/migrations", to: "ksql/migrations.ts" },
    { from: "index.ts", specifier: "./components/kafka/kafkaPlatform", to: "components/kafka/kafkaPlatform.ts" },
  ])("allows %o", (edge) => {
    expect(importProblems(edge)).toEqual([]);
  });
});
