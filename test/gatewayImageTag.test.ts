/**
 * The gateway image is named by its source (contract/gatewayImage.ts): the tag changes with any byte, name or file of
 * images/ingest-gateway and with nothing else; an ECR repository is resolved to the digest of that tag, and a tag the
 * repository lacks fails with the repository, the tag and how to publish it.
 */
import { mkdtempSync, mkdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { DIGEST_REF, ECR_REPOSITORY, gatewayImageTag, gatewayImageTagOf, parseEcrRepository, pinnedGatewayImage, readContext } from "../contract/gatewayImage";

const FILES = [{ name: "Dockerfile", content: "FROM x\n" }, { name: "pom.xml", content: "<project/>\n" }];
const REPO_URI = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/team/watchpipe-ingest-gateway";
const DIGEST = `sha256:${"c".repeat(64)}`;

describe("the gateway image tag", () => {
  it("is a valid ECR/OCI tag, the same for the same files in any order", () => {
    const tag = gatewayImageTagOf(FILES);
    expect(tag).toMatch(/^src-[0-9a-f]{20}$/);
    expect(gatewayImageTagOf([...FILES].reverse())).toBe(tag);
  });
  it("changes with a byte of a file, a file's name, or an added file", () => {
    const tag = gatewayImageTagOf(FILES);
    const variants = [
      [{ name: "Dockerfile", content: "FROM y\n" }, FILES[1]],
      [{ name: "Dockerfile.old", content: "FROM x\n" }, FILES[1]],
      [...FILES, { name: "extra.txt", content: "" }],
      // Moving a byte across the name/content boundary must not collide.
      [{ name: "Dockerfil", content: "eFROM x\n" }, FILES[1]],
    ];
    const tags = variants.map((v) => gatewayImageTagOf(v as { name: string; content: string }[]));
    expect(new Set([tag, ...tags]).size).toBe(variants.length + 1);
  });
  it("of a directory hashes every file under it, named relative to it", () => {
    const dir = mkdtempSync(join(tmpdir(), "gw-context-"));
    writeFileSync(join(dir, "Dockerfile"), "FROM x\n");
    writeFileSync(join(dir, "pom.xml"), "<project/>\n");
    expect(gatewayImageTag(dir)).toBe(gatewayImageTagOf(FILES));
    mkdirSync(join(dir, "conf"));
    writeFileSync(join(dir, "conf", "a.txt"), "a");
    expect(readContext(dir).map((f) => f.name)).toEqual(["Dockerfile", "conf/a.txt", "pom.xml"]);
    expect(() => gatewayImageTag(mkdtempSync(join(tmpdir(), "gw-empty-")))).toThrow(/build context is empty/);
  });
  it("of this checkout covers the Dockerfile and pom.xml the workflow builds", () => {
    expect(readContext().map((f) => f.name)).toEqual(["Dockerfile", "pom.xml"]);
    expect(gatewayImageTag()).toMatch(/^src-[0-9a-f]{20}$/);
  });
});

describe("the configured image", () => {
  it("is an ECR repository (parsed into account, region, name) or a digest reference, never both", () => {
    expect(parseEcrRepository(REPO_URI)).toEqual({ registryId: "123456789012", region: "eu-west-1", name: "team/watchpipe-ingest-gateway", uri: REPO_URI });
    for (const other of [`${REPO_URI}@${DIGEST}`, `${REPO_URI}:latest`, "12345.dkr.ecr.us-east-1.amazonaws.com/x", "123456789012.dkr.ecr.us-east-1.amazonaws.com/", "registry.example.com/x"]) {
      expect(parseEcrRepository(other), other).toBeUndefined();
    }
    expect(DIGEST_REF.test(`${REPO_URI}@${DIGEST}`)).toBe(true);
    expect(ECR_REPOSITORY.test(`${REPO_URI}@${DIGEST}`)).toBe(false);
  });
  it("resolves to the repository pinned at the digest of this source's tag", () => {
    const repo = parseEcrRepository(REPO_URI);
    if (!repo) throw new Error("not parsed");
    const pinned = pinnedGatewayImage(repo, "src-1", [{ imageTag: "src-0", imageDigest: `sha256:${"0".repeat(64)}` }, { imageTag: "src-1", imageDigest: DIGEST }]);
    expect(pinned).toBe(`${REPO_URI}@${DIGEST}`);
    expect(DIGEST_REF.test(pinned)).toBe(true);
  });
  it("fails, naming the key, the repository, the tag and how to publish it, when the repository lacks the tag", () => {
    const repo = parseEcrRepository(REPO_URI);
    if (!repo) throw new Error("not parsed");
    expect(() => pinnedGatewayImage(repo, "src-2", [{ imageTag: "src-1", imageDigest: DIGEST }, { imageDigest: DIGEST }]))
      .toThrow(/^watchpipe:ingest\.gateway\.image: 123456789012\.dkr\.ecr\.eu-west-1\.amazonaws\.com\/team\/watchpipe-ingest-gateway has no image tagged src-2 \(the build of images\/ingest-gateway at this commit; 2 other images there\)\. Publish it with the ingest-image workflow .*npm run -s gateway-image-tag/);
  });
});
