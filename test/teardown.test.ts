/**
 * README's tear-down section names what `pulumi destroy` leaves and the commands that remove it. The names must be
 * the real ones: the CRDs the charts install (from the charts' own crds/ in ../shared), the ECR repository and the
 * namespaces the program creates. A chart upgrade that adds a CRD, or a rename, fails here instead of in a runbook.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";
import { describe, expect, it } from "vitest";
import { CONNECT_IMAGE_NAME } from "../components/sink/connectSpecs";
import { DEFAULT_KAFKA_NAMESPACE, DEFAULT_MONITORING_NAMESPACE } from "../config";
import { ROOT } from "./harness";
import { SHARED_DIR } from "./sharedRefs";
import { describeWithShared } from "./withShared";

const readme = readFileSync(join(ROOT, "README.md"), "utf8");
const section = readme.slice(readme.indexOf("### Tearing a stack down on purpose"), readme.indexOf("\n## ", readme.indexOf("### Tearing a stack down on purpose")));

/** Every name after `kubectl delete crd` in the section. */
function crdsDeleted(group: string): string[] {
  return [...section.matchAll(/kubectl delete crd ([^`]+)`/g)].flatMap((m) => m[1]!.trim().split(/\s+/)).filter((n) => n.endsWith(`.${group}`));
}

/** CRD names declared in every YAML file of `dir`. */
function crdNames(dir: string): string[] {
  return readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)).flatMap((f) =>
    parseAllDocuments(readFileSync(join(dir, f), "utf8"))
      .map((d) => d.toJS() as { kind?: string; metadata?: { name?: string } } | null)
      .filter((d) => d?.kind === "CustomResourceDefinition")
      .map((d) => d!.metadata!.name!));
}

describe("README tear-down section", () => {
  it("exists and names the ECR repository and namespaces the program creates", () => {
    expect(section.length).toBeGreaterThan(500);
    expect(section).toContain(`aws ecr delete-repository --repository-name ${CONNECT_IMAGE_NAME}-<stack> --force`);
    for (const ns of [DEFAULT_KAFKA_NAMESPACE, "yugabyte", DEFAULT_MONITORING_NAMESPACE]) expect(section).toContain(`\`${ns}\``);
    expect(section).toContain("pulumi stack output backupBucket");
  });
});

describeWithShared("README tear-down CRD lists against the charts in ../shared", () => {
  it("deletes exactly the CRDs the pinned Strimzi chart installs", () => {
    const installed = crdNames(join(SHARED_DIR, "charts", "strimzi-kafka-operator-1.2.0", "crds"));
    expect(installed).toHaveLength(10);
    expect(crdsDeleted("strimzi.io").sort()).toEqual(installed.sort());
  });
  it("deletes exactly the Prometheus Operator CRDs kube-prometheus-stack 88.5.3 installs", () => {
    const installed = crdNames(join(SHARED_DIR, "crds", "prometheus-operator-0.93.1"));
    expect(crdsDeleted("monitoring.coreos.com").sort()).toEqual(installed.sort());
  });
});
