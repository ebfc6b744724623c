/**
 * Readiness waits on a real cluster: every Helm release carries a timeout sized for what it waits on (never the
 * provider's 300 s default), and `watchpipe:deploy` bounds them (`releaseTimeoutSec`) or turns every wait off
 * (`waitForReady: false`: `skipAwait` on releases, the provider's skip-await annotation on each Deployment,
 * StatefulSet, Job, Service and Ingress the program creates itself).
 */
import { beforeAll, describe, expect, it } from "vitest";
import { parseConfig, ConfigError } from "../config";
import { MAX_RELEASE_TIMEOUT_SEC, MIN_RELEASE_TIMEOUT_SEC, releaseWait, SKIP_AWAIT_ANNOTATION, withAwait } from "../contract/readiness";
import { HELM_RELEASE_TYPE } from "../contract/resourceChecks";
import { LBC_RELEASE_TIMEOUT_SEC } from "../operators/awsLoadBalancerController";
import { MONITORING_RELEASE_TIMEOUT_SEC } from "../operators/monitoring";
import { STRIMZI_RELEASE_TIMEOUT_SEC } from "../operators/strimzi";
import { OPERATOR_INSTALL_TIMEOUT_SEC } from "../operators/yugabyte";
import { RELEASE_TIMEOUT_SEC as YUGABYTE_RELEASE_TIMEOUT_SEC } from "../components/sink/yugabyteHelm";
import { programRunsTimeout, runProgram, type ProgramRun, type RecordedResource } from "./harness";

/** The kinds the Kubernetes provider awaits (and the program creates directly, outside Helm releases). */
const AWAITED = [
  "kubernetes:apps/v1:Deployment",
  "kubernetes:apps/v1:StatefulSet",
  "kubernetes:batch/v1:Job",
  "kubernetes:core/v1:Service",
  "kubernetes:networking.k8s.io/v1:Ingress",
];
const OPERATOR_INSTALLER = {
  installer: "operator",
  operatorChart: { repo: "https://charts.example.invalid/yugabyte", chart: "yugabyte-k8s-operator", version: "2026.1.0" },
  replicationFactor: 3,
  topology: "multi-zone",
};
const NO_WAIT = { waitForReady: false };
/** What a release without `timeout` waits (@pulumi/kubernetes Release docs): too short for any release here. */
const PROVIDER_DEFAULT_TIMEOUT_SEC = 300;

const releases = (run: ProgramRun) => run.ofType(HELM_RELEASE_TYPE);
const awaited = (run: ProgramRun) => run.resources.filter((r) => AWAITED.includes(r.type));
const skipAnnotation = (r: RecordedResource): unknown => (r.inputs.metadata?.annotations as Record<string, unknown> | undefined)?.[SKIP_AWAIT_ANNOTATION];
/**
 * Each release's own named default, by release name (YugabyteDB: `yugabyte`, or `yugabyte-az<i>` per AZ). A release
 * added without one fails the test below by name: give it a constant sized from what it waits on.
 */
const DEFAULT_TIMEOUTS: Readonly<Record<string, number>> = {
  strimzi: STRIMZI_RELEASE_TIMEOUT_SEC,
  "aws-load-balancer-controller": LBC_RELEASE_TIMEOUT_SEC,
  "watchpipe-monitoring": MONITORING_RELEASE_TIMEOUT_SEC,
  "yugabyte-operator": OPERATOR_INSTALL_TIMEOUT_SEC,
  yugabyte: YUGABYTE_RELEASE_TIMEOUT_SEC,
};
const defaultTimeoutOf = (name: string): number | undefined => DEFAULT_TIMEOUTS[name.replace(/^yugabyte-az\d+$/, "yugabyte")];

describe("Helm release waits (whole program under mocks)", () => {
  let prod: ProgramRun;
  let prodNoWait: ProgramRun;
  let prodBounded: ProgramRun;
  let operatorNoWait: ProgramRun;
  beforeAll(async () => {
    prod = await runProgram("prod");
    prodNoWait = await runProgram("prod", { "watchpipe:deploy": NO_WAIT });
    prodBounded = await runProgram("prod", { "watchpipe:deploy": { releaseTimeoutSec: 1200 } });
    operatorNoWait = await runProgram("prod", { "watchpipe:yugabyte": OPERATOR_INSTALLER, "watchpipe:deploy": NO_WAIT });
  }, programRunsTimeout(4));

  it("by default every release waits, each with its own named timeout (none left at the provider's 300 s)", () => {
    const names = releases(prod).map((r) => String(r.inputs.name)).sort();
    expect(names).toEqual(expect.arrayContaining(["aws-load-balancer-controller", "strimzi", "watchpipe-monitoring"]));
    for (const r of releases(prod)) {
      const own = defaultTimeoutOf(String(r.inputs.name));
      expect(own, `release ${String(r.inputs.name)} has no named default timeout in this test`).toBeDefined();
      expect({ name: r.inputs.name, timeout: r.inputs.timeout, skipAwait: r.inputs.skipAwait }).toEqual({ name: r.inputs.name, timeout: own, skipAwait: false });
      expect(own).toBeGreaterThan(PROVIDER_DEFAULT_TIMEOUT_SEC);
    }
    for (const r of awaited(prod)) expect(skipAnnotation(r), r.urn).toBeUndefined();
  });

  it("waitForReady false: every release skips its wait and every awaited object carries pulumi.com/skipAwait", () => {
    expect(releases(prodNoWait).length).toBe(releases(prod).length);
    for (const r of releases(prodNoWait)) expect(r.inputs.skipAwait, r.urn).toBe(true);
    const objects = awaited(prodNoWait);
    expect(objects.map((r) => r.type)).toEqual(expect.arrayContaining(AWAITED));
    for (const r of objects) expect(skipAnnotation(r), r.urn).toBe("true");
    // Nothing else about the objects changes: the same resources, the same other annotations.
    expect(prodNoWait.resources.map((r) => r.urn).sort()).toEqual(prod.resources.map((r) => r.urn).sort());
    const migrations = objects.find((r) => String(r.inputs.metadata?.name).startsWith("ksql-migrations"));
    expect(migrations?.inputs.metadata.annotations).toMatchObject({ "pulumi.com/replaceUnready": "true" });
  });

  it("releaseTimeoutSec replaces every release's own timeout and leaves the waits on", () => {
    for (const r of releases(prodBounded)) expect({ timeout: r.inputs.timeout, skipAwait: r.inputs.skipAwait }, r.urn).toEqual({ timeout: 1200, skipAwait: false });
  });

  it("the YugabyteDB operator installer's release has its own timeout and follows waitForReady", () => {
    const operator = releases(operatorNoWait).find((r) => r.inputs.name === "yugabyte-operator");
    expect(operator?.inputs).toMatchObject({ timeout: OPERATOR_INSTALL_TIMEOUT_SEC, skipAwait: true });
    for (const r of releases(operatorNoWait)) expect(defaultTimeoutOf(String(r.inputs.name)), r.urn).toBe(r.inputs.timeout);
  });
});

describe("releaseWait and withAwait", () => {
  it.each([
    [undefined, { timeout: 900, skipAwait: false }],
    [{ waitForReady: true }, { timeout: 900, skipAwait: false }],
    [{ waitForReady: false }, { timeout: 900, skipAwait: true }],
    [{ waitForReady: true, releaseTimeoutSec: 120 }, { timeout: 120, skipAwait: false }],
  ])("%j → %j", (deploy, expected) => {
    expect(releaseWait(900, deploy)).toEqual(expected);
  });
  it("adds the annotation beside existing ones and leaves metadata untouched while waiting", () => {
    const metadata = { name: "x", annotations: { keep: "1" } };
    expect(withAwait(metadata, { waitForReady: true })).toBe(metadata);
    expect(withAwait(metadata, { waitForReady: false })).toEqual({ name: "x", annotations: { keep: "1", [SKIP_AWAIT_ANNOTATION]: "true" } });
    expect(metadata.annotations).toEqual({ keep: "1" });
  });
});

describe("watchpipe:deploy validation", () => {
  const base = { owner: "platform-team", cluster: { mode: "existing", storageClass: "standard" }, connect: { imageRegistry: "localhost:5001/watchpipe" } };
  const problemsOf = (deploy: unknown): string => {
    try {
      parseConfig({ ...base, deploy }, "local");
    } catch (e) {
      if (e instanceof ConfigError) return e.problems.join("\n");
      throw e;
    }
    return "";
  };
  it("defaults to waiting with each release's own timeout", () => {
    expect(parseConfig(base, "local").deploy).toEqual({ waitForReady: true });
  });
  it.each([MIN_RELEASE_TIMEOUT_SEC, MAX_RELEASE_TIMEOUT_SEC])("accepts releaseTimeoutSec %i (a bound)", (sec) => {
    expect(problemsOf({ releaseTimeoutSec: sec })).toBe("");
  });
  it.each([
    [{ releaseTimeoutSec: MIN_RELEASE_TIMEOUT_SEC - 1 }, `watchpipe:deploy.releaseTimeoutSec: Too small: expected number to be >=${MIN_RELEASE_TIMEOUT_SEC}; got ${MIN_RELEASE_TIMEOUT_SEC - 1}.`],
    [{ releaseTimeoutSec: MAX_RELEASE_TIMEOUT_SEC + 1 }, `watchpipe:deploy.releaseTimeoutSec: Too big: expected number to be <=${MAX_RELEASE_TIMEOUT_SEC}; got ${MAX_RELEASE_TIMEOUT_SEC + 1}.`],
    [{ releaseTimeoutSec: 90.5 }, "watchpipe:deploy.releaseTimeoutSec: expected whole seconds; got 90.5."],
    [{ waitForReady: "no" }, 'watchpipe:deploy.waitForReady: Invalid input: expected boolean, received string; got "no".'],
    [{ skipAwait: true }, "watchpipe:deploy.skipAwait: unknown key"],
  ])("refuses %j with the key, the expectation and the value", (deploy, message) => {
    expect(problemsOf(deploy)).toContain(message);
  });
});
