/**
 * The ksql-migrations Job: the applied-migration guard (ksql/migrations.sha256), the Job and ConfigMap it runs, and
 * its two scripts executed for real: the wait loop with curl against a loopback HTTP server standing in for
 * ksqlDB's /healthcheck, the apply script with a stand-in `ksql-migrations` on PATH that records every call.
 */
import { execFile } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KSQL_MIGRATIONS_STREAM, KSQL_MIGRATIONS_TABLE } from "../contract/clients";
import { KsqlMigrations, ksqlMigrationsSpecArgs } from "../components/stream/ksqlMigrations";
import {
  applyScript,
  contentHash,
  defineArguments,
  manifestLine,
  manifestProblems,
  migrationsConfigMapData,
  migrationsJobSpec,
  migrationsProperties,
  migrationsResourceName,
  parseManifest,
  waitScript,
} from "../components/stream/ksqlMigrationsSpecs";
import { CURL_IMAGE, KSQLDB_IMAGE } from "../components/stream/streamingSpecs";
import { migrationDefines, migrationFiles, substitute } from "../ksql/migrations";
import { ksqlSinkTopics, pipelineTopicPlans } from "../components/kafka/kafkaTopicSpecs";
import { DEFAULT_SESSIONIZATION_PARAMS } from "../contract/sessionization";
import { containersOf, describeWithCurl, runComponents, stackAppConfig, STACKS } from "./ksqldb.mocks";
import { ROOT } from "./harness";

const MANIFEST = join(ROOT, "ksql", "migrations.sha256");
const URL = "http://ksqldb.kafka.svc:8088";

describe("applied ksql migrations never change (ksql/migrations.sha256)", () => {
  const files = migrationFiles();

  it("every migration file matches its recorded SHA-256, in version order, none unrecorded", () => {
    const problems = manifestProblems(files, parseManifest(readFileSync(MANIFEST, "utf8")));
    expect(problems, problems.join("\n")).toEqual([]);
    expect(files.length).toBeGreaterThan(0);
  });

  it("flags an edited migration and says to write a new file instead", () => {
    const edited = files.map((f, i) => (i === 0 ? { ...f, content: f.content + "\n-- tweak" } : f));
    const problems = manifestProblems(edited, files.map((f) => parseManifest(manifestLine(f))[0]));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(new RegExp(`${files[0].name} changed after it was recorded.*new file V0+${files.length + 1}__`));
  });

  it("flags a new, unrecorded migration with the exact line to append", () => {
    const added = [...files, { name: "V999999__later.sql", content: "SELECT 1;" }];
    const problems = manifestProblems(added, files.map((f) => parseManifest(manifestLine(f))[0]));
    expect(problems).toEqual([expect.stringContaining(manifestLine(added[added.length - 1]))]);
  });

  it("flags a deleted migration and an entry out of version order", () => {
    const manifest = files.map((f) => parseManifest(manifestLine(f))[0]);
    expect(manifestProblems(files.slice(1), manifest).join("\n")).toMatch(/missing from ksql\/migrations\/.*restore it/);
    if (manifest.length > 1) expect(manifestProblems(files, [...manifest].reverse()).join("\n")).toMatch(/only ever appended/);
    expect(() => parseManifest("nothex  V000001__x.sql")).toThrow(/line 1: expected/);
  });
});

describe("ksql-migrations Job spec", () => {
  const SINK = ksqlSinkTopics(pipelineTopicPlans(stackAppConfig("prod")));
  const args = ksqlMigrationsSpecArgs(URL, DEFAULT_SESSIONIZATION_PARAMS, 12, SINK);
  const data = migrationsConfigMapData(args);

  it("configures the metadata stream/table we own, 3 replicas for its topics and the mounted migrations dir", () => {
    const props = migrationsProperties(URL);
    expect(props["ksql.server.url"]).toBe(URL);
    expect(props["ksql.migrations.stream.name"]).toBe(KSQL_MIGRATIONS_STREAM);
    expect(props["ksql.migrations.table.name"]).toBe(KSQL_MIGRATIONS_TABLE);
    expect(props["ksql.migrations.topic.replicas"]).toBe("3");
    expect(data["ksql-migrations.properties"]).toContain(`ksql.migrations.dir.override=/etc/watchpipe/ksql-migrations/migrations\n`);
  });

  it("ships every migration file unchanged and mounts it under migrations/", () => {
    const spec = migrationsJobSpec(args, "cm") as { template: { spec: { volumes: { configMap: { items: { key: string; path: string }[] } }[] } } };
    const items = spec.template.spec.volumes[0].configMap.items;
    for (const f of migrationFiles()) {
      expect(data[f.name]).toBe(f.content);
      expect(items).toContainEqual({ key: f.name, path: `migrations/${f.name}` });
    }
  });

  it("passes every define of the stack to apply", () => {
    const defines = migrationDefines(DEFAULT_SESSIONIZATION_PARAMS, { heartbeatPartitions: 12, sinkTopics: SINK });
    for (const [k, v] of Object.entries(defines)) expect(data["apply-migrations.sh"]).toContain(`--define ${k}=${v}`);
    expect(() => defineArguments({ bad: "1; rm -rf /" })).toThrow(/plain value/);
  });

  it("gets a new name whenever a migration is added or a define changes, and keeps it otherwise", () => {
    const name = migrationsResourceName(data);
    expect(name).toMatch(/^ksql-migrations-[0-9a-f]{10}$/);
    expect(migrationsResourceName(migrationsConfigMapData(ksqlMigrationsSpecArgs(URL, DEFAULT_SESSIONIZATION_PARAMS, 12, SINK)))).toBe(name);
    const added = migrationsConfigMapData({ ...args, files: [...args.files, { name: "V999999__later.sql", content: "SELECT 1;" }] });
    expect(migrationsResourceName(added)).not.toBe(name);
    const otherGap = migrationsConfigMapData(ksqlMigrationsSpecArgs(URL, { ...DEFAULT_SESSIONIZATION_PARAMS, sessionGapSec: 45 }, 12, SINK));
    expect(contentHash(otherGap)).not.toBe(contentHash(data));
  });

  it.each(STACKS)("on %s: a Job and ConfigMap of the same hashed name; pinned images; non-root; bounded", async (stack) => {
    const c = stackAppConfig(stack);
    const run = await runComponents((provider) => {
      new KsqlMigrations("ksql-migrations", { namespace: c.kafka.namespace, ksqldbUrl: URL, sessionization: c.sessionization, heartbeatPartitions: 12, sinkTopics: SINK, provider, dependsOn: [] });
    });
    const job = run.one("kubernetes:batch/v1:Job");
    const cm = run.one("kubernetes:core/v1:ConfigMap");
    expect(job.inputs.metadata.name).toBe(cm.inputs.metadata.name);
    expect(job.inputs.spec.template.spec.volumes[0].configMap.name).toBe(cm.inputs.metadata.name);
    const [wait, apply] = containersOf(job);
    expect(wait.image).toBe(CURL_IMAGE);
    expect(apply.image).toBe(KSQLDB_IMAGE);
    expect(wait.securityContext.runAsUser).toBeGreaterThan(0);
    expect(job.inputs.spec.template.spec.securityContext.runAsNonRoot).toBe(true);
    expect(job.inputs.spec.template.spec.enableServiceLinks).toBe(false);
    expect(job.inputs.spec.backoffLimit).toBeGreaterThan(0);
    expect(job.inputs.spec.activeDeadlineSeconds).toBeGreaterThan(0);
    expect(job.inputs.spec.ttlSecondsAfterFinished, "a TTL would delete the Job under Pulumi and recreate it on the next up").toBeUndefined();
    expect(job.inputs.metadata.annotations["pulumi.com/replaceUnready"], "a Job that failed once is re-run by the next up").toBe("true");
  });
});

// ---- the scripts, executed --------------------------------------------------------------------------------------

function run(cmd: string, args: string[], env: Record<string, string>): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { env, timeout: 30_000 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
      resolve({ code, out: stdout + stderr });
    });
  });
}

describe("the apply script (bash, stand-in ksql-migrations)", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "ksql-migrations-"));
    // Records each call; `info` fails until initialize-metadata ran; FAIL_<COMMAND>=1 makes a command fail.
    writeFileSync(
      join(dir, "ksql-migrations"),
      `#!/bin/sh
cmd="$3"
echo "$*" >> "$STATE_DIR/calls"
case "$cmd" in
  info) [ -f "$STATE_DIR/initialized" ] || { echo "Failed to verify existence of migrations metadata" >&2; exit 1; } ;;
  initialize-metadata) [ "\${FAIL_INIT:-0}" = 1 ] && exit 1; [ -f "$STATE_DIR/initialized" ] && exit 1; touch "$STATE_DIR/initialized" ;;
  apply) [ "\${FAIL_APPLY:-0}" = 1 ] && exit 1 ;;
esac
exit 0
`,
    );
    chmodSync(join(dir, "ksql-migrations"), 0o755);
    writeFileSync(join(dir, "apply.sh"), applyScript(defineArguments({ sessionGapMs: "30000", replicas: "3" })));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const env = (extra: Record<string, string> = {}) => ({ PATH: `${dir}:/usr/bin:/bin`, STATE_DIR: dir, ...extra });
  const calls = () => readFileSync(join(dir, "calls"), "utf8").trim().split("\n").map((l) => l.split(" ")[2]);

  it("first run: initializes the metadata once, then applies with the defines", async () => {
    const r = await run("bash", [join(dir, "apply.sh")], env());
    expect(r.code, r.out).toBe(0);
    expect(calls()).toEqual(["info", "initialize-metadata", "apply", "info"]);
    expect(readFileSync(join(dir, "calls"), "utf8")).toContain("apply --all --define replicas=3 --define sessionGapMs=30000");
  });

  it("second run: does not initialize again (initialize-metadata is not idempotent) and applies (a no-op upstream)", async () => {
    rmSync(join(dir, "calls"));
    const r = await run("bash", [join(dir, "apply.sh")], env());
    expect(r.code, r.out).toBe(0);
    expect(calls()).toEqual(["info", "apply", "info"]);
    expect(r.out).toContain("metadata present, not initializing again");
  });

  it("a failed apply fails the Job", async () => {
    const r = await run("bash", [join(dir, "apply.sh")], env({ FAIL_APPLY: "1" }));
    expect(r.code).not.toBe(0);
  });

  it("a failed initialize fails the Job with the repair instruction", async () => {
    rmSync(join(dir, "initialized"));
    const r = await run("bash", [join(dir, "apply.sh")], env({ FAIL_INIT: "1" }));
    expect(r.code).toBe(1);
    expect(r.out).toContain(`DROP STREAM ${KSQL_MIGRATIONS_STREAM};`);
  });
});

describeWithCurl("the wait script (sh + real curl against a loopback stand-in for /healthcheck)", () => {
  let server: Server;
  let url: string;
  let dir: string;
  const answers: { status: number; body: string }[] = [];
  let requests = 0;

  beforeAll(async () => {
    server = createServer((req, res) => {
      requests++;
      const a = req.url === "/healthcheck" ? (answers.shift() ?? { status: 200, body: '{"isHealthy":false}' }) : { status: 404, body: "" };
      res.writeHead(a.status, { "content-type": "application/json" }).end(a.body);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    dir = mkdtempSync(join(tmpdir(), "ksql-wait-"));
    writeFileSync(join(dir, "wait.sh"), waitScript());
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  it("waits through 503 and isHealthy=false, succeeds on isHealthy=true", async () => {
    answers.push(
      { status: 503, body: '{"message":"KSQL is not yet ready to serve requests."}' },
      { status: 200, body: '{"isHealthy":false,"details":{"kafka":{"isHealthy":false}}}' },
      { status: 200, body: '{"isHealthy":true,"details":{"metastore":{"isHealthy":true},"kafka":{"isHealthy":true}}}' },
    );
    requests = 0;
    const r = await run("sh", [join(dir, "wait.sh")], { PATH: "/usr/bin:/bin", KSQLDB_URL: url, WAIT_TIMEOUT_SEC: "20", WAIT_POLL_SEC: "0" });
    expect(r.code, r.out).toBe(0);
    expect(requests).toBe(3);
    expect(r.out).toMatch(/waiting for ksqlDB .*check 1/);
    expect(r.out).toMatch(/healthy after \d+s \(3 checks\)/);
  });

  it("gives up after the time limit with an error naming the URL and what to check", async () => {
    const r = await run("sh", [join(dir, "wait.sh")], { PATH: "/usr/bin:/bin", KSQLDB_URL: url, WAIT_TIMEOUT_SEC: "1", WAIT_POLL_SEC: "1" });
    expect(r.code).toBe(1);
    expect(r.out).toContain(`ERROR: ksqlDB at ${url}/healthcheck not healthy`);
    expect(r.out).toContain("kubectl");
  });
});

describe("the migrations write into the program's topics exactly as their KafkaTopics declare them", () => {
  // ksqlDB refuses a CREATE … AS SELECT into an existing topic whose partitions or retention differ from what it
  // would choose (the source topic's unless the WITH clause names them): the migrations Job would fail on the first
  // deploy. So every such statement must state the KafkaTopic's own partitions and retention.ms, for every stack.
  const asSelect = /CREATE\s+(?:OR\s+REPLACE\s+)?(?:STREAM|TABLE)\s+(?:IF\s+NOT\s+EXISTS\s+)?\w+\s+WITH\s*\(([^)]*)\)\s*AS\s+SELECT/gi;
  const prop = (withClause: string, name: string) => new RegExp(`\\b${name}\\s*=\\s*'?([^',\\s]+)'?`, "i").exec(withClause)?.[1];

  it.each(STACKS)("on %s", (stack) => {
    const cfg = stackAppConfig(stack);
    const plans = pipelineTopicPlans(cfg);
    // Every file as ksql-migrations applies it (not only the statements in force: V000001-V000003 run first).
    const defines = migrationDefines(cfg.sessionization, { heartbeatPartitions: plans[0].partitions, sinkTopics: ksqlSinkTopics(plans) });
    const sql = migrationFiles().map((f) => substitute(f.content, defines)).join("\n");
    const checked: string[] = [];
    for (const m of sql.matchAll(asSelect)) {
      const topic = prop(m[1], "KAFKA_TOPIC");
      const plan = plans.find((p) => p.topicName === topic);
      if (plan === undefined) continue; // a topic the SQL creates itself
      checked.push(topic!);
      expect({ topic, partitions: prop(m[1], "PARTITIONS"), retentionMs: prop(m[1], "RETENTION_MS") }).toEqual({
        topic,
        partitions: String(plan.partitions),
        retentionMs: String(plan.config?.["retention.ms"]),
      });
    }
    // V000001, V000003 and V000004 write heartbeats and heartbeats_rejected (three times each), V000002, V000004 and
    // V000006 write watch_segments.
    expect([...new Set(checked)].sort()).toEqual(["heartbeats", "heartbeats_rejected", "watch_segments"]);
    expect(checked).toHaveLength(9);
  });
});
