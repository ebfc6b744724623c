/**
 * Where charts and images come from. By default every Helm chart is fetched from its publisher's repository and
 * every image from its public registry; `watchpipe:charts` and `watchpipe:images` (see {@link SourceSettings})
 * point them at a mirror (an OCI or HTTP chart repository, a local chart directory or archive; an ECR pull-through
 * cache, a corporate registry) for mirrored and air-gapped clusters. Pins never change: a mirrored chart is the
 * same name and version, a mirrored image the same repository path and tag or digest.
 *
 * Pure: config.ts validates with it, components and operators rewrite with it, tests assert with it.
 */

/** A chart from a repository: `oci://host/path` (the chart name is appended) or an `https://` Helm repository. */
export interface ChartRepoSource {
  readonly repo: string;
}
/** A chart on disk: an unpacked chart directory or a `.tgz` archive of the pinned version. */
export interface ChartPathSource {
  readonly path: string;
  /**
   * The Chart.yaml version to accept instead of the pin, named explicitly: for a checkout of the pinned release whose
   * Chart.yaml carries another string (Strimzi's source tree says 0.1.1). Without it, any other version is refused.
   */
  readonly acceptVersion?: string | undefined;
}
export type ChartSource = ChartRepoSource | ChartPathSource;

/** The charts the program installs, by the key used in `watchpipe:charts`. */
export const CHART_KEYS = ["strimzi", "yugabyte", "awsLoadBalancerController"] as const;
export type ChartKey = (typeof CHART_KEYS)[number];

/**
 * The exact version of each chart the program installs; operators/ and components/ build their pins from these, and
 * config.ts refuses a local chart (`charts.<key>.path`) whose Chart.yaml says another version.
 */
export const PINNED_CHART_VERSIONS: Readonly<Record<ChartKey, string>> = {
  /** Strimzi 1.2.0: API kafka.strimzi.io/v1 only, Kafka 4.3.1 (KRaft, node pools); upgrades roll every broker. */
  strimzi: "1.2.0",
  /** YugabyteDB 2026.1.0: YSQL = PostgreSQL 15; a chart upgrade restarts masters and tservers. */
  yugabyte: "2026.1.0",
  /** AWS Load Balancer Controller 3.5.0: the newest release when pinned; supports Kubernetes 1.34. */
  awsLoadBalancerController: "3.5.0",
};

/** `watchpipe:charts`: per-chart overrides; a chart not named keeps its publisher's repository. */
export type ChartSourceSettings = Readonly<Partial<Record<ChartKey, ChartSource>>>;

/**
 * `watchpipe:images`. `mirror` is a registry prefix that proxies every upstream registry under the upstream's host
 * name (`mirror.corp/proxy` serves `quay.io/strimzi/operator:1.2.0` as `mirror.corp/proxy/quay.io/strimzi/operator:1.2.0`).
 * `registries` maps one upstream registry host to its own prefix (ECR pull-through cache rules:
 * `quay.io: 123456789012.dkr.ecr.us-east-1.amazonaws.com/quay`) and wins over `mirror` for that host.
 */
export interface ImageSourceSettings {
  readonly mirror?: string | undefined;
  readonly registries?: Readonly<Partial<Record<PublicRegistry, string>>> | undefined;
}

export interface SourceSettings {
  readonly charts: ChartSourceSettings;
  readonly images: ImageSourceSettings;
}

/** Docker Hub: the registry of every image reference without a host. */
export const DOCKER_HUB = "docker.io";
/**
 * The public registries the program's images come from (including images the charts render). A test renders every
 * stack and fails when an image names a registry missing here, so a `registries`-only mirror config is checked
 * against the complete list.
 */
export const PUBLIC_REGISTRIES = [DOCKER_HUB, "quay.io", "ghcr.io", "public.ecr.aws"] as const;
export type PublicRegistry = (typeof PUBLIC_REGISTRIES)[number];

/** A registry prefix: host[:port] then optional path segments; no scheme, tag or trailing slash. */
export const REGISTRY_PREFIX = /^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:[0-9]{1,5})?(\/[a-z0-9]([a-z0-9._-]*[a-z0-9])?)*$/;

export interface ImageParts {
  /** Registry host (`docker.io` when the reference names none). */
  readonly registry: string;
  /** Repository path inside the registry (`library/` added for Docker Hub official images). */
  readonly path: string;
  /** `:tag`, `@sha256:…`, `:tag@sha256:…` or "" (unpinned, which images-pinned rejects anyway). */
  readonly pin: string;
}

/** Split an image reference the way container runtimes resolve it. */
export function parseImage(ref: string): ImageParts {
  const at = ref.indexOf("@");
  const withoutDigest = at >= 0 ? ref.slice(0, at) : ref;
  const digest = at >= 0 ? ref.slice(at) : "";
  const slash = withoutDigest.lastIndexOf("/");
  const colon = withoutDigest.lastIndexOf(":");
  const tag = colon > slash ? withoutDigest.slice(colon) : "";
  const name = colon > slash ? withoutDigest.slice(0, colon) : withoutDigest;
  const first = name.split("/")[0];
  // A first segment is a registry host when it has a dot or a port, or is localhost (the distribution rule).
  const hasHost = name.includes("/") && (first.includes(".") || first.includes(":") || first === "localhost");
  const registry = hasHost ? first : DOCKER_HUB;
  let path = hasHost ? name.slice(first.length + 1) : name;
  if (registry === DOCKER_HUB && !path.includes("/")) path = `library/${path}`;
  return { registry, path, pin: tag + digest };
}

/** The prefix an upstream registry is served from, or undefined when it is not mirrored. */
export function mirrorPrefix(registry: string, images: ImageSourceSettings | undefined): string | undefined {
  const own = (images?.registries as Readonly<Record<string, string | undefined>> | undefined)?.[registry];
  if (own) return own;
  return images?.mirror ? `${images.mirror}/${registry}` : undefined;
}

/** The image reference to deploy: mirrored when a mirror serves its registry, unchanged otherwise (pins kept). */
export function mirrorImage(ref: string, images: ImageSourceSettings | undefined): string {
  const p = parseImage(ref);
  const prefix = mirrorPrefix(p.registry, images);
  return prefix ? `${prefix}/${p.path}${p.pin}` : ref;
}

/** The `repository` half of a chart's `{repository, tag}` image value, mirrored (the tag is untouched). */
export function mirrorRepository(repository: string, images: ImageSourceSettings | undefined): string {
  const p = parseImage(repository);
  const prefix = mirrorPrefix(p.registry, images);
  return prefix ? `${prefix}/${p.path}` : repository;
}

/** True when images are redirected at all. */
export function mirrorsImages(images: ImageSourceSettings | undefined): boolean {
  return Boolean(images?.mirror) || Object.keys(images?.registries ?? {}).length > 0;
}

/** Upstream registries of {@link PUBLIC_REGISTRIES} a partial `registries` map leaves on the public internet. */
export function unmirroredRegistries(images: ImageSourceSettings | undefined): string[] {
  if (!mirrorsImages(images) || images?.mirror) return [];
  return PUBLIC_REGISTRIES.filter((r) => !images?.registries?.[r]);
}

/** A pinned chart: its publisher's location, name and exact version. */
export interface PinnedChart {
  /** `oci://…` (without the chart name) or `https://…` Helm repository. */
  readonly repo: string;
  readonly chart: string;
  readonly version: string;
}

/** What a Helm Release takes to fetch a chart: `chart` (+ `version`) and, for HTTP repositories, `repositoryOpts`. */
export interface ReleaseChart {
  readonly chart: string;
  /** Absent for a local path: Helm reads the version from the chart itself. */
  readonly version?: string;
  readonly repositoryOpts?: { readonly repo: string };
}

/** The Release chart fields for a pinned chart, from its override when one is configured. */
export function releaseChart(pinned: PinnedChart, source: ChartSource | undefined): ReleaseChart {
  if (source && "path" in source) return { chart: source.path };
  const repo = (source?.repo ?? pinned.repo).replace(/\/+$/, "");
  if (repo.startsWith("oci://")) return { chart: `${repo}/${pinned.chart}`, version: pinned.version };
  return { chart: pinned.chart, version: pinned.version, repositoryOpts: { repo } };
}
