/**
 * Chart and image sources (issue 15): `watchpipe:charts` points every Helm release at a mirror repository or a local
 * chart, `watchpipe:images` rewrites every image the program sets (and, through chart values, every image the charts
 * render) onto a registry mirror with the pins unchanged. Without them, today's public sources.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ConfigError, parseConfig } from "../config";
import { HELM_RELEASE_TYPE, isObject, k8sType } from "../contract/resourceChecks";
import {
  mirrorImage,
  mirrorRepository,
  parseImage,
  PUBLIC_REGISTRIES,
  releaseChart,
  type PinnedChart,
} from "../contract/sources";
import { LBC_CHART_VERSION, LBC_IMAGE } from "../operators/awsLoadBalancerControllerSpecs";
import { STRIMZI_IMAGE_REGISTRY } from "../operators/strimziValues";
import { unwrapSecret } from "../tools/renderObjects";
import { runProgram, stackConfig, type RecordedResource } from "./harness";

const MIRROR = "mirror.corp.example/proxy";
/** A whole-program run under mocks takes 5-15 s here, more while the 2 cores are shared. */
const PROGRAM_TIMEOUT_MS = 120_000;
const CHART_MIRROR = "oci://mirror.corp.example/charts";
/**
 * A local copy of the pinned LB controller chart's Chart.yaml: loadConfig reads the version of a `charts.<key>.path`
 * chart before any resource exists, so the path must hold a chart of the pinned version.
 */
const LOCAL_LBC_CHART = mkdtempSync(join(tmpdir(), "watchpipe-lbc-chart-"));
writeFileSync(join(LOCAL_LBC_CHART, "Chart.yaml"), `apiVersion: v2\nname: aws-load-balancer-controller\nversion: ${LBC_CHART_VERSION}\n`);
afterAll(() => rmSync(LOCAL_LBC_CHART, { recursive: true, force: true }));
const MIRRORED = {
  "watchpipe:images": { mirror: MIRROR },
  // The bundled kube-prometheus-stack is not mirrored (config refuses it with a mirror set): use the cluster's own.
  "watchpipe:monitoring": { enabled: true, mode: "existing" },
  "watchpipe:charts": {
    strimzi: { repo: CHART_MIRROR },
    yugabyte: { repo: "https://mirror.corp.example/helm/yugabyte" },
    awsLoadBalancerController: { path: LOCAL_LBC_CHART },
  },
};
/** Hosts that serve charts or images publicly; none may appear in a mirrored stack except behind the mirror. */
const PUBLIC_HOSTS = [...PUBLIC_REGISTRIES, "charts.yugabyte.com", "aws.github.io", "registry-1.docker.io"];

/** Deep copy without Pulumi secret wrappers and undefined leaves. */
function plain(value: unknown): unknown {
  const v = unwrapSecret(value);
  if (Array.isArray(v)) return v.map(plain);
  if (!isObject(v)) return v;
  return Object.fromEntries(Object.entries(v).filter(([, x]) => x !== undefined).map(([k, x]) => [k, plain(x)]));
}

/**
 * Every image reference a resource sets, the way runtimes and charts read them: container `image` strings, chart
 * `{repository, tag}` image values, Strimzi's `defaultImageRegistry` (the registry of all its images).
 */
function imagesIn(value: unknown, path = ""): { path: string; ref: string }[] {
  if (Array.isArray(value)) return value.flatMap((v, i) => imagesIn(v, `${path}[${i}]`));
  if (!isObject(value)) return [];
  const found: { path: string; ref: string }[] = [];
  for (const [key, v] of Object.entries(value)) {
    const at = path ? `${path}.${key}` : key;
    if (/^image$/i.test(key) && typeof v === "string") found.push({ path: at, ref: v });
    else if (/^image$/i.test(key) && isObject(v) && typeof v.repository === "string") found.push({ path: `${at}.repository`, ref: v.repository });
    else if (key === "defaultImageRegistry" && typeof v === "string") found.push({ path: at, ref: `${v}/strimzi/operator` });
    else found.push(...imagesIn(v, at));
  }
  return found;
}

function kubernetesResources(resources: readonly RecordedResource[]): RecordedResource[] {
  return resources.filter((r) => r.custom && (k8sType(r.type) !== undefined || r.type === HELM_RELEASE_TYPE));
}

describe("image references", () => {
  it.each([
    ["confluentinc/cp-ksqldb-server:8.1.1", { registry: "docker.io", path: "confluentinc/cp-ksqldb-server", pin: ":8.1.1" }],
    ["nginx:1.29", { registry: "docker.io", path: "library/nginx", pin: ":1.29" }],
    ["ghcr.io/kafbat/kafka-ui:v1.5.0", { registry: "ghcr.io", path: "kafbat/kafka-ui", pin: ":v1.5.0" }],
    ["localhost:5001/watchpipe/connect:abc", { registry: "localhost:5001", path: "watchpipe/connect", pin: ":abc" }],
    ["quay.io/strimzi/kafka@sha256:0123", { registry: "quay.io", path: "strimzi/kafka", pin: "@sha256:0123" }],
  ])("%s parses like a container runtime reads it", (ref, parts) => {
    expect(parseImage(ref)).toEqual(parts);
  });

  it("a mirror keeps the path and the pin; a per-registry prefix wins over the mirror", () => {
    const images = { mirror: MIRROR, registries: { "quay.io": "123456789012.dkr.ecr.us-east-1.amazonaws.com/quay" } };
    expect(mirrorImage("curlimages/curl:8.21.0", images)).toBe(`${MIRROR}/docker.io/curlimages/curl:8.21.0`);
    expect(mirrorImage("quay.io/strimzi/kafka:1.2.0-kafka-4.3.1", images)).toBe("123456789012.dkr.ecr.us-east-1.amazonaws.com/quay/strimzi/kafka:1.2.0-kafka-4.3.1");
    expect(mirrorRepository("yugabytedb/yugabyte", images)).toBe(`${MIRROR}/docker.io/yugabytedb/yugabyte`);
    expect(mirrorImage("curlimages/curl:8.21.0", {})).toBe("curlimages/curl:8.21.0");
    expect(mirrorImage("curlimages/curl:8.21.0", undefined)).toBe("curlimages/curl:8.21.0");
  });
});

describe("chart sources", () => {
  const pinned: PinnedChart = { repo: "oci://quay.io/strimzi-helm", chart: "strimzi-kafka-operator", version: "1.2.0" };
  it.each([
    ["no override: the publisher's OCI registry", undefined, { chart: "oci://quay.io/strimzi-helm/strimzi-kafka-operator", version: "1.2.0" }],
    ["an OCI mirror gets the chart name appended", { repo: "oci://mirror.corp/charts/" }, { chart: "oci://mirror.corp/charts/strimzi-kafka-operator", version: "1.2.0" }],
    ["an HTTP mirror becomes repositoryOpts", { repo: "https://mirror.corp/helm" }, { chart: "strimzi-kafka-operator", version: "1.2.0", repositoryOpts: { repo: "https://mirror.corp/helm" } }],
    ["a local path is used as it is", { path: "/srv/charts/strimzi-kafka-operator-1.2.0.tgz" }, { chart: "/srv/charts/strimzi-kafka-operator-1.2.0.tgz" }],
  ])("%s", (_name, source, expected) => {
    expect(releaseChart(pinned, source)).toEqual(expected);
  });
});

describe("config validation of watchpipe:charts and watchpipe:images", () => {
  const base = { owner: "platform-team", cluster: { mode: "existing", storageClass: "standard" }, connect: { imageRegistry: "localhost:5001/watchpipe" } };
  const problemsOf = (raw: Record<string, unknown>): string => {
    try {
      parseConfig({ ...base, ...raw }, "local");
    } catch (e) {
      if (e instanceof ConfigError) return e.problems.join("\n");
      throw e;
    }
    return "";
  };

  it("accepts repository, path and mirror settings", () => {
    expect(problemsOf(MIRRORED["watchpipe:charts"] ? { charts: MIRRORED["watchpipe:charts"], images: { mirror: MIRROR } } : {})).toBe("");
  });
  it("a chart repository must be oci:// or https://: names the key, the expectation and the value", () => {
    const p = problemsOf({ charts: { strimzi: { repo: "http://mirror.corp/charts" } } });
    expect(p).toContain("watchpipe:charts.strimzi");
    expect(p).toContain("oci://");
    expect(p).toContain("http://mirror.corp/charts");
  });
  it("an unknown chart key is refused", () => {
    expect(problemsOf({ charts: { kafka: { repo: "oci://x/y" } } })).toContain("watchpipe:charts.kafka: unknown key");
  });
  it("a mirror is a registry prefix, not a URL", () => {
    const p = problemsOf({ images: { mirror: "https://mirror.corp/proxy/" } });
    expect(p).toContain("watchpipe:images.mirror");
    expect(p).toContain("host[:port][/path]");
    expect(p).toContain('"https://mirror.corp/proxy/"');
  });
  it("a registries-only mirror must cover every registry the program pulls from", () => {
    const p = problemsOf({ images: { registries: { "quay.io": "ecr.example/quay" } } });
    expect(p).toContain("watchpipe:images.registries");
    expect(p).toContain("missing docker.io, ghcr.io, public.ecr.aws");
  });
});

/** The ECR repository a stack file names for the gateway image (our own build, like Connect's), or "-". */
const gatewayRepositoryOf = (stack: string): string => (JSON.parse(stackConfig(stack)["watchpipe:ingest"] ?? "{}") as { gateway?: { image?: string } }).gateway?.image ?? "-";

describe.each(["dev", "prod", "local"])("stack %s with a chart and image mirror", (stack) => {
  it("no rendered object or Release names a public registry or chart repository; every image is on the mirror with its pin", async () => {
    const run = await runProgram(stack, MIRRORED);
    const resources = kubernetesResources(run.resources);
    for (const r of resources) {
      const inputs = plain(r.inputs);
      for (const { path, ref } of imagesIn(inputs)) {
        // The Connect image is the stack's own build, pushed to its own registry (connect.imageRegistry / ECR); so is
        // the gateway's Camel image (ingest.gateway.image: the stack's ECR repository, never a public registry).
        if (path === "spec.build.output.image") continue;
        if (r.name === "ingest-gateway-deployment" && ref.startsWith(`${gatewayRepositoryOf(stack)}@sha256:`)) continue;
        expect(ref, `${r.urn} ${path}`).toMatch(new RegExp(`^${MIRROR.replace(/\./g, "\\.")}/`));
      }
      // Behind the mirror the upstream host stays in the path (mirror.corp.example/proxy/quay.io/...): drop those first.
      const text = JSON.stringify(inputs).split(`${MIRROR}/`).join("<mirror>/");
      for (const host of PUBLIC_HOSTS) expect(text.replace(/<mirror>\/[a-z0-9.-]+/g, "<mirror>/…"), `${r.urn} names ${host}`).not.toContain(host);
    }
    const releases = resources.filter((r) => r.type === HELM_RELEASE_TYPE);
    expect(releases.length).toBeGreaterThan(0);
    for (const r of releases) {
      const chart = String(r.inputs.chart);
      expect(chart === LOCAL_LBC_CHART || /^(oci:\/\/mirror\.corp\.example\/|yugabyte$|strimzi)/.test(chart), `${r.urn}: chart ${chart}`).toBe(true);
    }
  }, PROGRAM_TIMEOUT_MS);
});

describe("without watchpipe:charts and watchpipe:images", () => {
  it.each(["prod", "local"])("%s: today's public chart sources and images, each from a registry of PUBLIC_REGISTRIES", async (stack) => {
    const run = await runProgram(stack);
    const releases = run.ofType(HELM_RELEASE_TYPE);
    const strimzi = releases.find((r) => r.inputs.name === "strimzi");
    expect(strimzi?.inputs).toMatchObject({ chart: "oci://quay.io/strimzi-helm/strimzi-kafka-operator", version: "1.2.0" });
    expect(plain(strimzi?.inputs.values)).not.toHaveProperty("defaultImageRegistry");
    for (const yb of releases.filter((r) => String(r.inputs.chart) === "yugabyte")) {
      expect(yb.inputs).toMatchObject({ version: "2026.1.0", repositoryOpts: { repo: "https://charts.yugabyte.com" } });
    }
    const lbc = releases.find((r) => r.inputs.name === "aws-load-balancer-controller");
    if (stack === "prod") {
      expect(lbc?.inputs).toMatchObject({ chart: "aws-load-balancer-controller", version: "3.5.0", repositoryOpts: { repo: "https://aws.github.io/eks-charts" } });
      expect(plain(lbc?.inputs.values)).not.toHaveProperty("image");
    } else {
      expect(lbc).toBeUndefined();
    }
    const refs = kubernetesResources(run.resources).flatMap((r) => imagesIn(plain(r.inputs)).map((i) => i.ref));
    // The charts' own defaults: Strimzi's operator and Kafka images on quay.io, the controller on public.ecr.aws.
    refs.push(`${STRIMZI_IMAGE_REGISTRY}/strimzi/operator:1.2.0`, `${LBC_IMAGE.repository}:${LBC_IMAGE.tag}`);
    const connectPush = /^(localhost|[0-9]{12}\.dkr\.ecr\.)/;
    for (const ref of refs.filter((x) => !connectPush.test(x))) {
      expect(PUBLIC_REGISTRIES as readonly string[], ref).toContain(parseImage(ref).registry);
    }
  }, PROGRAM_TIMEOUT_MS);
});
