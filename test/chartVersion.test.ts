/**
 * A chart taken from disk (`watchpipe:charts.<key>.path`) is installed at whatever version its Chart.yaml says, so
 * loadConfig reads that version before any resource exists and refuses anything but the pin — or the version the
 * stack names in `charts.<key>.acceptVersion`. Directories and .tgz archives both count.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { chartPinProblems, readChartVersion } from "../contract/chartVersion";
import { PINNED_CHART_VERSIONS } from "../contract/sources";
import { STRIMZI_CHART_VERSION } from "../operators/strimziValues";
import { LBC_CHART_VERSION } from "../operators/awsLoadBalancerControllerSpecs";
import { YUGABYTE_CHART } from "../components/sink/yugabyteSpecs";
import { HELM_RELEASE_TYPE } from "../contract/resourceChecks";
import { PROGRAM_RUN_TIMEOUT_MS, ProgramError, runProgram } from "./harness";
import { SHARED_DIR } from "./sharedRefs";
import { describeWithShared } from "./withShared";

const dir = mkdtempSync(join(tmpdir(), "watchpipe-charts-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** An unpacked chart named `name` whose Chart.yaml says `version`. */
function chartDir(name: string, version: string): string {
  const at = join(dir, `${name}-${version}-${Math.random().toString(36).slice(2, 8)}`, name);
  mkdirSync(join(at, "templates"), { recursive: true });
  writeFileSync(join(at, "Chart.yaml"), `apiVersion: v2\nname: ${name}\ndescription: test chart\nversion: ${version}\nappVersion: "9.9.9"\n`);
  writeFileSync(join(at, "values.yaml"), "replicas: 1\n");
  return at;
}

/** `helm package`'s layout: a gzip'd tar whose top-level folder is the chart's name. */
function chartTgz(name: string, version: string): string {
  const unpacked = chartDir(name, version);
  const tgz = join(dir, `${name}-${version}.tgz`);
  execFileSync("tar", ["-czf", tgz, "-C", join(unpacked, ".."), name]);
  return tgz;
}

const STRIMZI_PATH_ERROR = "watchpipe:charts.strimzi.path";

describe("the version a chart on disk carries", () => {
  it("reads Chart.yaml of an unpacked chart and of a packaged .tgz", () => {
    expect(readChartVersion(chartDir("strimzi-kafka-operator", "1.2.0"))).toBe("1.2.0");
    expect(readChartVersion(chartTgz("yugabyte", "2026.1.0"))).toBe("2026.1.0");
  });

  it("says what is wrong with a path that is not a chart", () => {
    expect(() => readChartVersion(join(dir, "nope"))).toThrow(/no such file or directory: .*nope/);
    expect(() => readChartVersion(dir)).toThrow(/directory without Chart.yaml/);
  });

  it("the pins config.ts checks against are the ones the releases install", () => {
    expect(PINNED_CHART_VERSIONS).toEqual({ strimzi: STRIMZI_CHART_VERSION, yugabyte: YUGABYTE_CHART.version, awsLoadBalancerController: LBC_CHART_VERSION });
  });
});

describe("chartPinProblems", () => {
  it("accepts the pinned version from a directory or an archive, and charts from repositories unread", () => {
    const charts = {
      strimzi: { path: chartDir("strimzi-kafka-operator", "1.2.0") },
      yugabyte: { path: chartTgz("yugabyte", PINNED_CHART_VERSIONS.yugabyte) },
      awsLoadBalancerController: { repo: "oci://mirror.corp.example/charts" },
    };
    expect(chartPinProblems(charts, PINNED_CHART_VERSIONS)).toEqual([]);
  });

  it("refuses another version, naming the key, the pin, what the chart says and both ways out", () => {
    const path = chartTgz("strimzi-kafka-operator", "0.1.1");
    const [problem, ...rest] = chartPinProblems({ strimzi: { path } }, PINNED_CHART_VERSIONS);
    expect(rest).toEqual([]);
    expect(problem).toContain(STRIMZI_PATH_ERROR);
    expect(problem).toContain("pins strimzi 1.2.0");
    expect(problem).toContain(`Chart.yaml at ${path} says version 0.1.1`);
    expect(problem).toContain('charts.strimzi.acceptVersion: "0.1.1"');
  });

  it("acceptVersion accepts exactly the version it names, and nothing else", () => {
    const path = chartDir("strimzi-kafka-operator", "0.1.1");
    expect(chartPinProblems({ strimzi: { path, acceptVersion: "0.1.1" } }, PINNED_CHART_VERSIONS)).toEqual([]);
    const [problem] = chartPinProblems({ strimzi: { path, acceptVersion: "0.1.2" } }, PINNED_CHART_VERSIONS);
    expect(problem).toContain("Chart.yaml says version 0.1.1, but charts.strimzi.acceptVersion accepts 0.1.2");
  });

  it("refuses a path it cannot read, with the reason", () => {
    const [problem] = chartPinProblems({ awsLoadBalancerController: { path: join(dir, "missing.tgz") } }, PINNED_CHART_VERSIONS);
    expect(problem).toMatch(/^watchpipe:charts\.awsLoadBalancerController\.path: expected a chart directory or \.tgz of awsLoadBalancerController 3\.5\.0; could not read its Chart\.yaml \(no such file or directory: .*missing\.tgz\)/);
  });
});

describe("the whole program (loadConfig, before any resource)", () => {
  it("refuses a local Strimzi chart of another version with 0 resources registered", async () => {
    const path = chartDir("strimzi-kafka-operator", "0.1.1");
    const error = await runProgram("local", { "watchpipe:charts": { strimzi: { path } } }).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(ProgramError);
    expect((error as ProgramError).message).toContain(`${STRIMZI_PATH_ERROR}: the program pins strimzi 1.2.0, but Chart.yaml at ${path} says version 0.1.1`);
    expect((error as ProgramError).resources).toEqual([]);
  }, PROGRAM_RUN_TIMEOUT_MS);

  it("installs it from the path when acceptVersion names its version", async () => {
    const path = chartDir("strimzi-kafka-operator", "0.1.1");
    const run = await runProgram("local", { "watchpipe:charts": { strimzi: { path, acceptVersion: "0.1.1" } } });
    const strimzi = run.ofType(HELM_RELEASE_TYPE).find((r) => r.inputs.name === "strimzi");
    expect(strimzi?.inputs.chart).toBe(path);
  }, PROGRAM_RUN_TIMEOUT_MS);

  it("refuses a malformed acceptVersion like any other key", async () => {
    const error = await runProgram("local", { "watchpipe:charts": { strimzi: { path: dir, acceptVersion: "latest" } } }).then(() => undefined, (e: unknown) => e);
    expect((error as ProgramError).message).toContain("watchpipe:charts.strimzi.acceptVersion: expected the exact version string");
    expect((error as ProgramError).resources).toEqual([]);
  }, PROGRAM_RUN_TIMEOUT_MS);
});

describeWithShared("the Strimzi 1.2.0 checkout in ../shared/charts", () => {
  // That Chart.yaml carries the upstream source tree's placeholder version, not 1.2.0: a user installing from such a
  // checkout must accept that string explicitly (README, "Charts and images from a mirror").
  const path = join(SHARED_DIR, "charts", "strimzi-kafka-operator-1.2.0");
  it("is refused as it is and accepted with acceptVersion naming what its Chart.yaml says", () => {
    const found = readChartVersion(path);
    expect(found).not.toBe(STRIMZI_CHART_VERSION);
    expect(chartPinProblems({ strimzi: { path } }, PINNED_CHART_VERSIONS)[0]).toContain(`says version ${found}`);
    expect(chartPinProblems({ strimzi: { path, acceptVersion: found } }, PINNED_CHART_VERSIONS)).toEqual([]);
  });
  it("the other charts there carry their pinned version", () => {
    expect(chartPinProblems({
      yugabyte: { path: join(SHARED_DIR, "charts", `yugabyte-${PINNED_CHART_VERSIONS.yugabyte}`) },
      awsLoadBalancerController: { path: join(SHARED_DIR, "charts", `aws-load-balancer-controller-${PINNED_CHART_VERSIONS.awsLoadBalancerController}`) },
    }, PINNED_CHART_VERSIONS)).toEqual([]);
  });
});
