/**
 * Whole-program secrets policy: generated passwords and private keys reach Kubernetes only inside Secret objects.
 * Under mocks every RandomPassword resolves to "mock-password-<name>" and every TLS key to a PEM containing
 * "mock-<name>", so any copy of them elsewhere (a ConfigMap, an env value, a CR, Helm values, an output) shows up here.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { runProgram, type ProgramRun } from "./harness";

/** Where a generated secret may legitimately live: the generator itself and Kubernetes Secrets. */
const SECRET_HOLDERS = new Set(["kubernetes:core/v1:Secret", "random:index/randomPassword:RandomPassword", "tls:index/privateKey:PrivateKey"]);

describe.each(["prod", "dev", "local"])("%s stack", (stack) => {
  let run: ProgramRun;
  beforeAll(async () => {
    run = await runProgram(stack);
  });

  it("generates the database password with @pulumi/random", () => {
    expect(run.ofType("random:index/randomPassword:RandomPassword").length).toBeGreaterThan(0);
  });

  it("no plaintext password anywhere but in Kubernetes Secrets", () => {
    const leaks = run.resources
      .filter((r) => !SECRET_HOLDERS.has(r.type) && JSON.stringify(r.inputs).includes("mock-password-"))
      .map((r) => `${r.type} ${r.name}`);
    expect(leaks).toEqual([]);
  });

  it("the password Secrets exist where the database and Connect read them", () => {
    const holders = run.ofType("kubernetes:core/v1:Secret").filter((r) => JSON.stringify(r.inputs).includes("mock-password-"));
    expect(holders.map((r) => r.inputs.metadata.namespace).sort()).toEqual(["kafka", "yugabyte"]);
  });

  it("no private key outside Secrets, the CA that signs with it and the Helm values that install it", () => {
    const allowed = new Set([...SECRET_HOLDERS, "tls:index/selfSignedCert:SelfSignedCert", "kubernetes:helm.sh/v3:Release"]);
    const leaks = run.resources
      .filter((r) => !allowed.has(r.type) && JSON.stringify(r.inputs).includes("PRIVATE KEY"))
      .map((r) => `${r.type} ${r.name}`);
    expect(leaks).toEqual([]);
  });

  it("exports nothing secret in plain stack outputs", () => {
    const plain = JSON.stringify(Object.entries(run.outputs).filter(([key]) => key !== "kubeconfig"));
    expect(plain).not.toContain("mock-password-");
    expect(plain).not.toContain("PRIVATE KEY");
  });
});
