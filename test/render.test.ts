/**
 * `npm run render`: prod renders to one YAML file per Kubernetes object, every custom resource in the output is valid
 * against the operators' CRDs in ../shared/crds, every custom-resource kind the program creates is in the output,
 * Secrets are redacted and Helm releases appear as Release objects with their values.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { k8sType } from "../contract/resourceChecks";
import type { RecordedResource } from "../tools/mockRun";
import { describeTally, NOTE_ANNOTATION, objectOf, REDACTED, renderObjects, tallyResources, writeRender } from "../tools/renderObjects";
import { isKnownCustomResourceGroup, validateCustomResource } from "./crdSchema";
import { ROOT, runProgram, type ProgramRun } from "./harness";
import { describeWithShared } from "./withShared";

const TSX = join(ROOT, "node_modules", ".bin", "tsx");

function render(args: string[]): string {
  return execFileSync(TSX, ["tools/render.ts", ...args], { cwd: ROOT, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

function yamlFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) return yamlFiles(path);
    return entry.endsWith(".yaml") ? [path] : [];
  });
}

function recorded(type: string, name: string, inputs: Record<string, unknown>): RecordedResource {
  return { type, name, inputs, custom: true, protect: false, parent: "", urn: `urn:pulumi:t::watchpipe::${type}::${name}`, dependencies: [], propertyDependencies: {} };
}

describe("render rules (pure)", () => {
  it("redacts every Secret value, keeps the keys", () => {
    const secret = objectOf(recorded("kubernetes:core/v1:Secret", "db", {
      apiVersion: "v1", kind: "Secret", metadata: { name: "yb-admin", namespace: "yugabyte" },
      stringData: { password: "hunter2", username: "admin" }, data: { "ca.crt": "LS0tLS1CRUdJTg==" },
    }));
    expect(secret?.stringData).toEqual({ password: REDACTED, username: REDACTED });
    expect(secret?.data).toEqual({ "ca.crt": REDACTED });
    expect(JSON.stringify(secret)).not.toMatch(/hunter2|LS0tLS1/);
  });

  it("redacts Pulumi secret values anywhere in an object", () => {
    const cm = objectOf(recorded("kubernetes:core/v1:ConfigMap", "cm", {
      apiVersion: "v1", kind: "ConfigMap", metadata: { name: "x", namespace: "kafka" },
      data: { token: { "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", value: "s3cr3t" } },
    }));
    expect(cm?.data).toEqual({ token: REDACTED });
  });

  it("inside values Pulumi marks secret, shows settings and redacts credential-named leaves and key blobs", () => {
    const pem = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----";
    const release = objectOf(recorded("kubernetes:helm.sh/v3:Release", "yb", {
      name: "yb", namespace: "yugabyte", chart: "yugabyte", version: "2026.1.0",
      values: { "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", value: { replicas: { tserver: 3 }, tls: { rootCA: { cert: "LS0t".repeat(20), key: pem } }, auth: { password: "p" } } },
    }));
    expect((release?.spec as Record<string, unknown>).values).toEqual({
      replicas: { tserver: 3 }, tls: { rootCA: { cert: REDACTED, key: REDACTED } }, auth: { password: REDACTED },
    });
  });

  it("renders a Helm release as a Release object with chart, version and values, saying templates are not expanded", () => {
    const release = objectOf(recorded("kubernetes:helm.sh/v3:Release", "strimzi", {
      name: "strimzi", namespace: "strimzi", chart: "oci://quay.io/strimzi-helm/strimzi-kafka-operator", version: "1.2.0", values: { watchNamespaces: ["kafka"] },
    }));
    expect(release).toMatchObject({
      apiVersion: "helm.sh/v3", kind: "Release", metadata: { name: "strimzi", namespace: "strimzi" },
      spec: { chart: "oci://quay.io/strimzi-helm/strimzi-kafka-operator", version: "1.2.0", values: { watchNamespaces: ["kafka"] } },
    });
    expect((release?.metadata as { annotations: Record<string, string> }).annotations[NOTE_ANNOTATION]).toMatch(/templates are not expanded/);
  });

  it("names auto-named objects after the Pulumi resource and says so; skips providers and AWS resources", () => {
    const objects = renderObjects([
      recorded("kubernetes:core/v1:Namespace", "kafka-ns", { apiVersion: "v1", kind: "Namespace", metadata: {} }),
      recorded("pulumi:providers:kubernetes", "k8s", { kubeconfig: "x" }),
      recorded("aws:kms/key:Key", "key", {}),
    ]);
    expect(objects.map((o) => o.path)).toEqual(["_cluster/namespace-kafka-ns.yaml"]);
    expect(JSON.stringify(objects[0].object)).toMatch(/auto-names it \\"kafka-ns-<random suffix>\\"/);
  });

  it("refuses two objects that would overwrite each other", () => {
    const cm = (n: string) => recorded("kubernetes:core/v1:ConfigMap", n, { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "same", namespace: "kafka" } });
    expect(() => renderObjects([cm("a"), cm("b")])).toThrow(/two Kubernetes objects render to kafka\/configmap-same.yaml/);
  });
});

describe("npm run render -- --stack prod", () => {
  let out: string;
  let stdout: string;
  let run: ProgramRun;
  let files: Map<string, Record<string, unknown>>;

  beforeAll(async () => {
    out = join(mkdtempSync(join(tmpdir(), "watchpipe-render-")), "prod");
    const started = performance.now();
    stdout = render(["--stack", "prod", "--out", out]);
    console.log(`render prod (subprocess): ${((performance.now() - started) / 1000).toFixed(1)} s\n${stdout}`);
    files = new Map(yamlFiles(out).map((f) => [relative(out, f), parse(readFileSync(f, "utf8")) as Record<string, unknown>]));
    run = await runProgram("prod");
  }, 120_000);

  afterAll(() => rmSync(join(out, ".."), { recursive: true, force: true }));

  it("writes one file per Kubernetes object the program registers, under its namespace directory", () => {
    const expected = renderObjects(run.resources);
    expect(expected.length).toBeGreaterThan(0);
    expect([...files.keys()].sort()).toEqual(expected.map((o) => o.path));
    for (const [path, object] of files) {
      const ns = (object.metadata as { namespace?: string }).namespace;
      expect(path.split("/")[0], path).toBe(ns ?? "_cluster");
    }
    expect(stdout).toContain(`: ${describeTally(tallyResources(run.resources))}`);
    expect(stdout).toContain("Helm charts not expanded (6 releases shown as Release objects); pass --helm to expand them with helm template.");
  });

  it("contains every custom-resource kind the program creates", () => {
    const created = new Set(run.resources.map((r) => k8sType(r.type)).filter((t) => t && t.group.includes(".") && !t.group.endsWith("k8s.io") && t.group !== "helm.sh").map((t) => t?.kind));
    const rendered = new Set([...files.values()].map((o) => String(o.kind)));
    for (const kind of created) expect(rendered.has(String(kind)), `${kind} missing from the render`).toBe(true);
  });

  it("leaves no Secret value in the output", () => {
    let secrets = 0;
    for (const [path, object] of files) {
      if (object.kind !== "Secret") continue;
      for (const field of ["data", "stringData"]) {
        const map = object[field];
        if (typeof map === "string") expect(map, path).toBe(REDACTED);
        else for (const value of Object.values((map ?? {}) as Record<string, unknown>)) expect(value, path).toBe(REDACTED);
      }
      secrets += 1;
    }
    console.log(`${secrets} Secret objects rendered, all values redacted`);
  });

  it("replaces its own earlier render but refuses a directory it did not make", () => {
    const objects = renderObjects(run.resources);
    writeRender(out, objects, "prod");
    expect(yamlFiles(out).length).toBe(objects.length);
    const foreign = mkdtempSync(join(tmpdir(), "watchpipe-foreign-"));
    writeFileSync(join(foreign, "keep.txt"), "mine");
    expect(() => writeRender(foreign, objects, "prod")).toThrow(/non-empty directory that no earlier render made/);
    expect(readFileSync(join(foreign, "keep.txt"), "utf8")).toBe("mine");
    rmSync(foreign, { recursive: true });
  });

  describeWithShared("custom resources in the render match the operators' CRDs (../shared/crds)", () => {
    it("every Strimzi / YugabyteDB object validates with no unknown fields", () => {
      const crs = [...files].filter(([, o]) => isKnownCustomResourceGroup(String(o.apiVersion)));
      const created = run.resources.filter((r) => { const t = k8sType(r.type); return t !== undefined && isKnownCustomResourceGroup(`${t.group}/${t.version}`); });
      expect(crs.length).toBe(created.length);
      const errors = crs.flatMap(([path, o]) => validateCustomResource(o).map((e) => `${path}: ${e}`));
      expect(errors).toEqual([]);
      console.log(`validated ${crs.length} custom resources (${[...new Set(crs.map(([, o]) => String(o.kind)))].join(", ") || "none yet"}) against ../shared/crds`);
    });
  });
});

describe("render --help", () => {
  it("explains the flags and what is not rendered", () => {
    const help = render(["--help"]);
    expect(help).toMatch(/--stack <name>/);
    expect(help).toMatch(/--out <dir>/);
    expect(help).toMatch(/--helm +also expand each Helm release with `helm template`/);
    expect(help).toMatch(/Exit codes: 0 ok, 1 a check failed, 2 usage error or a service could not be reached\./);
  });

  it("exits 2 on a usage error", () => {
    const r = spawnSync(TSX, ["tools/render.ts", "--stack", "prod"], { cwd: ROOT, encoding: "utf8" });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^render failed: --stack and --out are required; got --stack prod --out \(none\)\./);
  });
});

describe("one way of counting (render and plan print the same line)", () => {
  it("splits every registered resource into cloud/other, Kubernetes, components and providers; one object per Kubernetes resource", () => {
    const tally = tallyResources([
      recorded("aws:ec2/vpc:Vpc", "vpc", {}),
      recorded("kubernetes:core/v1:ConfigMap", "cm", { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "cm", namespace: "kafka" } }),
      recorded("kubernetes:helm.sh/v3:Release", "rel", { name: "rel", namespace: "kafka", chart: "c", version: "1" }),
      recorded("pulumi:providers:kubernetes", "k8s", {}),
      { ...recorded("watchpipe:kafka:KafkaPlatform", "kafka", {}), custom: false },
    ]);
    expect(tally).toEqual({ registered: 5, components: 1, providers: 1, kubernetes: 2, other: 1, kubernetesObjects: 2 });
    expect(describeTally(tally)).toBe(
      "5 Pulumi resources (1 cloud/other + 2 Kubernetes resources, 1 components, 1 provider; `pulumi preview` adds 1 for the stack) → 2 Kubernetes objects (one per Kubernetes resource; each Helm release is one object until expanded)",
    );
  });
});
