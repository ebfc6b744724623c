/**
 * The gateway image and the suites run one Camel: images/ingest-gateway/pom.xml is the jar list for both the image
 * (Dockerfile) and .ci/install-ingest-gateway.sh, and every version and path named in them agrees with
 * contract/ingestGateway.ts and the Deployment the program renders.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { CAMEL_VERSION, ENVOY_VERSION } from "../contract/ingestGateway";
import { imagePinProblem } from "../contract/kafkaPolicies";
import { ENVOY_IMAGE, GATEWAY_CONFIG_DIR, GATEWAY_IMAGE_LIB_DIR } from "../components/kafka/ingestGatewaySpecs";

const ROOT = join(__dirname, "..");
const read = (p: string) => readFileSync(join(ROOT, p), "utf8");
const pom = read("images/ingest-gateway/pom.xml");
const dockerfile = read("images/ingest-gateway/Dockerfile");
const install = read(".ci/install-ingest-gateway.sh");

describe("the ingest gateway image", () => {
  it("resolves the contract's Camel version, and the install script installs the same Camel and Envoy", () => {
    expect(pom).toContain(`<camel.version>${CAMEL_VERSION}</camel.version>`);
    expect(install).toContain(`CAMEL_VERSION="${CAMEL_VERSION}"`);
    expect(install).toContain(`ENVOY_VERSION="${ENVOY_VERSION}"`);
    expect(install).toContain("images/ingest-gateway/pom.xml");
    expect(ENVOY_IMAGE).toBe(`envoyproxy/envoy:v${ENVOY_VERSION}`);
  });
  it("checks the resolved camel-main version and puts the jars where the Deployment's classpath reads them", () => {
    expect(dockerfile).toContain(`camel-main-${CAMEL_VERSION}.jar`);
    expect(dockerfile).toContain(`COPY --from=jars /build/lib ${GATEWAY_IMAGE_LIB_DIR}`);
    expect(dockerfile).toContain(`${GATEWAY_IMAGE_LIB_DIR}/*:${GATEWAY_CONFIG_DIR}`);
  });
  it("builds from pinned base images and runs as a non-root user", () => {
    const bases = [...dockerfile.matchAll(/^FROM (\S+)/gm)].map((m) => m[1] ?? "");
    expect(bases).toHaveLength(2);
    for (const base of bases) expect(imagePinProblem(base, "Dockerfile"), base).toBeUndefined();
    expect(dockerfile).toMatch(/^USER 10001:10001$/m);
  });
});
