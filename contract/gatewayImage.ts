/**
 * The ingest gateway's image is ours (images/ingest-gateway) and is named by its source: the tag is a hash of the
 * build context, so the program and the workflow that builds it (.github/workflows/ingest-image.yml) agree on which
 * image a commit needs without either writing a digest into the repository. A stack names either a digest reference
 * (any registry) or an ECR repository; with a repository, the program looks up the digest of this source's tag at
 * preview/up time and deploys `<repository>@sha256:…` (components/kafka/ingestGatewayImage.ts).
 */
import { createHash } from "node:crypto";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";

/** The gateway image's build context, relative to the project root. */
export const GATEWAY_IMAGE_CONTEXT = "images/ingest-gateway";
const CONTEXT_DIR = join(__dirname, "..", GATEWAY_IMAGE_CONTEXT);
/** Tag prefix: a source tag can never be mistaken for a release or a commit sha. */
export const GATEWAY_IMAGE_TAG_PREFIX = "src-";
/** Hex digits of the hash kept in the tag (80 bits: no two contexts collide in practice). */
const TAG_HEX = 20;

/** A reference pinned by digest: <registry>/<repository>@sha256:<64 hex>. */
export const DIGEST_REF = /^[a-z0-9]([a-z0-9.:-]*[a-z0-9])?(\/[a-z0-9]([a-z0-9._-]*[a-z0-9])?)+@sha256:[0-9a-f]{64}$/;
/** An ECR repository without tag or digest: <12-digit account>.dkr.ecr.<region>.amazonaws.com/<name>. */
export const ECR_REPOSITORY = /^(\d{12})\.dkr\.ecr\.([a-z]{2}(-[a-z]+)+-\d)\.amazonaws\.com\/([a-z0-9]+([._-][a-z0-9]+)*(\/[a-z0-9]+([._-][a-z0-9]+)*)*)$/;

export interface ContextFile {
  /** Path relative to the context, with forward slashes. */
  readonly name: string;
  readonly content: Buffer | string;
}

/** The tag of a build context: every file's name and bytes, in name order, hashed. Pure. */
export function gatewayImageTagOf(files: readonly ContextFile[]): string {
  const hash = createHash("sha256");
  for (const f of [...files].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const bytes = typeof f.content === "string" ? Buffer.from(f.content, "utf8") : f.content;
    hash.update(`${f.name}\0${bytes.length}\0`).update(bytes);
  }
  return `${GATEWAY_IMAGE_TAG_PREFIX}${hash.digest("hex").slice(0, TAG_HEX)}`;
}

/** Every file under `dir` (recursively), named relative to it. */
export function readContext(dir: string = CONTEXT_DIR): ContextFile[] {
  const out: ContextFile[] = [];
  const walk = (sub: string): void => {
    for (const entry of readdirSync(join(dir, sub)).sort()) {
      const rel = sub ? `${sub}/${entry}` : entry;
      if (statSync(join(dir, rel)).isDirectory()) walk(rel);
      else out.push({ name: rel, content: readFileSync(join(dir, rel)) });
    }
  };
  walk("");
  if (out.length === 0) throw new Error(`${dir}: the gateway image's build context is empty`);
  return out;
}

/** The tag the image of this checkout's images/ingest-gateway carries. */
export function gatewayImageTag(dir: string = CONTEXT_DIR): string {
  return gatewayImageTagOf(readContext(dir));
}

export interface EcrRepository {
  readonly registryId: string;
  readonly region: string;
  readonly name: string;
  readonly uri: string;
}

/** The parts of an ECR repository URI; undefined for anything else (a digest reference included). */
export function parseEcrRepository(ref: string): EcrRepository | undefined {
  const m = ECR_REPOSITORY.exec(ref);
  if (!m) return undefined;
  return { registryId: m[1] as string, region: m[2] as string, name: m[4] as string, uri: ref };
}

export interface ImageId {
  readonly imageTag?: string | undefined;
  readonly imageDigest?: string | undefined;
}

/**
 * The digest reference of `tag` among a repository's images, or an Error that names the repository, the tag, the
 * source it stands for and how to publish it. Pure.
 */
export function pinnedGatewayImage(repo: EcrRepository, tag: string, images: readonly ImageId[]): string {
  const digest = images.find((i) => i.imageTag === tag)?.imageDigest;
  if (!digest || !/^sha256:[0-9a-f]{64}$/.test(digest)) {
    throw new Error(
      `watchpipe:ingest.gateway.image: ${repo.uri} has no image tagged ${tag} (the build of ${GATEWAY_IMAGE_CONTEXT} at this commit; ${images.length} other images there). ` +
      "Publish it with the ingest-image workflow (GitHub Actions: `gh workflow run ingest-image`, or push to main: deploy.yml runs it first), " +
      "or build and push it yourself: docker build -t <repository>:$(npm run -s gateway-image-tag) images/ingest-gateway && docker push <repository>:<tag>; then run preview again.",
    );
  }
  return `${repo.uri}@${digest}`;
}
