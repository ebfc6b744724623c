import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { CP_VERSION } from "../../contract/confluent";
import { KSQLDB_IMAGE, SCHEMA_REGISTRY_IMAGE } from "../../components/stream/streamingSpecs";

const ROOT = path.join(__dirname, "..", "..");

describe("the vectors run on the ksqlDB release the program deploys (one constant)", () => {
  it("run-vectors.sh takes its version from ksql/cp-version.ts and pins no version of its own", () => {
    const script = readFileSync(path.join(ROOT, "ksql", "run-vectors.sh"), "utf8");
    expect(script).toContain("tsx ksql/cp-version.ts");
    expect(script).toContain('KSQLDB_IMAGE="confluentinc/cp-ksqldb-server:${cp_version}"');
    expect(script).not.toMatch(/\b\d+\.\d+\.\d+\b/);
  });
  it("ksql/cp-version.ts prints CP_VERSION, the version in the deployed images", () => {
    const r = spawnSync(process.execPath, [require.resolve("tsx/cli"), path.join(ROOT, "ksql", "cp-version.ts")], { encoding: "utf8" });
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(`${CP_VERSION}\n`);
    expect(KSQLDB_IMAGE).toBe(`confluentinc/cp-ksqldb-server:${CP_VERSION}`);
    expect(SCHEMA_REGISTRY_IMAGE).toBe(`confluentinc/cp-schema-registry:${CP_VERSION}`);
  });
  it("the CI workflow runs that script (no image or version of its own)", () => {
    const wf = readFileSync(path.join(ROOT, ".github", "workflows", "ksql-vectors.yml"), "utf8");
    expect(wf).toContain("ksql/run-vectors.sh");
    expect(wf).not.toMatch(/cp-ksqldb-server|\b8\.\d+\.\d+\b/);
  });
});
