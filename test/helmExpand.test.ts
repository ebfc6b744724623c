/**
 * `render --helm`: how a release becomes `helm template` arguments and values, and how its output becomes rendered
 * objects (Secrets redacted), checked with a stand-in helm that records its arguments; the real helm and charts,
 * when both are here, expand prod's YugabyteDB release with the program's values.
 */
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { RecordedResource } from "../tools/mockRun";
import { chartDirFor, expandHelmReleases, helmVersion } from "../tools/helmExpand";
import { REDACTED } from "../tools/renderObjects";
import { runProgram } from "./harness";
import { SHARED_DIR } from "./sharedRefs";
import { describeWithShared } from "./withShared";

const SECRET_SIG = "4dabf18193072939515e22adb298388d";

function release(name: string, chart: string, version: string, values: unknown): RecordedResource {
  const type = "kubernetes:helm.sh/v3:Release";
  return { type, name, inputs: { name, namespace: "kafka", chart, version, values }, custom: true, protect: false, parent: "", urn: `urn:pulumi:t::watchpipe::${type}::${name}`, dependencies: [], propertyDependencies: {} };
}

const work = mkdtempSync(join(tmpdir(), "watchpipe-helm-test-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** A helm that answers `version` and, for `template`, records its arguments and values and prints two objects. */
function fakeHelm(): { helm: string; argsFile: string; valuesCopy: string } {
  const helm = join(work, "helm");
  const argsFile = join(work, "args.txt");
  const valuesCopy = join(work, "values.json");
  writeFileSync(
    helm,
    `#!/bin/sh
if [ "$1" = version ]; then echo v3.22.0+fake; exit 0; fi
echo "$@" > ${argsFile}
while [ $# -gt 0 ]; do if [ "$1" = --values ]; then cp "$2" ${valuesCopy}; fi; shift; done
cat <<'YAML'
---
# Source: demo/templates/secret.yaml
apiVersion: v1
kind: Secret
metadata:
  name: demo-tls
stringData:
  key: hunter2
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: demo
  namespace: other
spec:
  replicas: 2
YAML
`,
  );
  chmodSync(helm, 0o755);
  return { helm, argsFile, valuesCopy };
}

describe("expandHelmReleases", () => {
  const charts = join(work, "charts");
  mkdirSync(join(charts, "demo-1.2.3"), { recursive: true });
  writeFileSync(join(charts, "demo-1.2.3", "Chart.yaml"), "name: demo\nversion: 1.2.3\n");

  it("runs helm template with the release's name, namespace, chart directory and exact values (secret wrappers removed)", () => {
    const { helm, argsFile, valuesCopy } = fakeHelm();
    const values = { replicas: 2, auth: { [SECRET_SIG]: "1b47061264138c4ac30d75fd1eb44270", value: { password: "mock-password" } } };
    const [e] = expandHelmReleases([release("demo", "oci://registry.example/charts/demo", "1.2.3", values)], charts, helm);
    expect(readFileSync(argsFile, "utf8").trim()).toMatch(
      new RegExp(`^template demo ${chartDirFor(charts, "demo", "1.2.3")} --namespace kafka --values \\S+/values\\.json --include-crds$`),
    );
    expect(JSON.parse(readFileSync(valuesCopy, "utf8"))).toEqual({ replicas: 2, auth: { password: "mock-password" } });
    expect(e.expanded).toBe(true);
    if (!e.expanded) return;
    expect(e.objects.map((o) => o.path)).toEqual(["kafka/helm-demo/secret-demo-tls.yaml", "other/helm-demo/deployment-demo.yaml"]);
    expect(e.objects[0].object.stringData).toEqual({ key: REDACTED });
  });

  it("says why a release is not expanded: no helm, or no unpacked chart", () => {
    const missingHelm = expandHelmReleases([release("demo", "demo", "1.2.3", {})], charts, join(work, "no-such-helm"));
    expect(missingHelm).toEqual([
      { release: "demo", namespace: "kafka", chart: "demo 1.2.3", expanded: false, reason: `${join(work, "no-such-helm")} is not on PATH (install helm v3 to expand charts)` },
    ]);
    const { helm } = fakeHelm();
    const missingChart = expandHelmReleases([release("other", "other", "9.9.9", {})], charts, helm);
    expect(missingChart).toEqual([
      { release: "other", namespace: "kafka", chart: "other 9.9.9", expanded: false, reason: `no unpacked chart at ${join(charts, "other-9.9.9")} (expected <chart>-<version>/Chart.yaml under --charts-dir)` },
    ]);
  });
});

describeWithShared("render --helm with the real helm and ../shared/charts", () => {
  const version = helmVersion();
  if (version === undefined) console.warn("[skipped] real helm template: no helm on PATH (helm v3 builds with `go install helm.sh/helm/v3/cmd/helm@v3.22.0`).");
  it.skipIf(version === undefined)("expands prod's YugabyteDB releases; masters get their own 10Gi volume, tservers 500Gi", async () => {
    const run = await runProgram("prod");
    const yb = run.resources.filter((r) => r.type === "kubernetes:helm.sh/v3:Release" && String(r.inputs.chart).endsWith("yugabyte"));
    const expansions = expandHelmReleases(yb, join(SHARED_DIR, "charts"));
    expect(expansions.map((e) => (e.expanded ? "expanded" : e.reason))).toEqual(["expanded", "expanded", "expanded"]);
    const objects = expansions.flatMap((e) => (e.expanded ? e.objects : []));
    const storage = (name: string) =>
      (objects.find((o) => o.kind === "StatefulSet" && o.name === name)?.object as { spec: { volumeClaimTemplates: { spec: { resources: { requests: { storage: string } } } }[] } }).spec
        .volumeClaimTemplates[0].spec.resources.requests.storage;
    expect(storage("yugabyte-az0-yb-master")).toBe("10Gi");
    expect(storage("yugabyte-az0-yb-tserver")).toBe("500Gi");
    for (const o of objects.filter((x) => x.kind === "Secret")) {
      for (const v of Object.values({ ...(o.object.data as object), ...(o.object.stringData as object) })) expect(v).toBe(REDACTED);
    }
  }, 120_000);
});
