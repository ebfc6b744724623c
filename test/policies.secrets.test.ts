/**
 * Whole-program secrets policy: generated passwords and private keys reach Kubernetes only inside Secret objects.
 * Under mocks every RandomPassword resolves to "mock-password-<name>" and every TLS key to a PEM containing
 * "mock-<name>", so any copy of them elsewhere (a ConfigMap, an env value, a CR, Helm values, an output) shows up here.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { CREDENTIALS_SECRET, SINK_CREDENTIALS_SECRET } from "../components/sink/yugabyteSpecs";
import { PROGRAM_RUN_TIMEOUT_MS, runProgram, type ProgramRun } from "./harness";

/** The RandomPassword resources (names are fixed once shipped): the YSQL superuser's and the JDBC sink role's. */
const SUPERUSER_PASSWORD = "yugabyte-ysql-password";
const SINK_PASSWORD = "yugabyte-sink-password";

/** Where a generated secret may legitimately live: the generator itself and Kubernetes Secrets. */
const SECRET_HOLDERS = new Set(["kubernetes:core/v1:Secret", "random:index/randomPassword:RandomPassword", "tls:index/privateKey:PrivateKey"]);

describe.each(["prod", "dev", "local"])("%s stack", (stack) => {
  let run: ProgramRun;
  beforeAll(async () => {
    run = await runProgram(stack);
  }, PROGRAM_RUN_TIMEOUT_MS);

  it("generates the database passwords with @pulumi/random: the superuser's and the sink role's", () => {
    const names = run.ofType("random:index/randomPassword:RandomPassword").map((r) => r.name);
    expect(names).toEqual(expect.arrayContaining([SUPERUSER_PASSWORD, SINK_PASSWORD]));
  });

  it("no plaintext password anywhere but in Kubernetes Secrets", () => {
    const leaks = run.resources
      .filter((r) => !SECRET_HOLDERS.has(r.type) && JSON.stringify(r.inputs).includes("mock-password-"))
      .map((r) => `${r.type} ${r.name}`);
    expect(leaks).toEqual([]);
  });

  /** "namespace/name" of every Secret holding the mock value of one RandomPassword. */
  const secretsHolding = (passwordName: string): string[] =>
    run.ofType("kubernetes:core/v1:Secret")
      .filter((r) => JSON.stringify(r.inputs).includes(`"mock-password-${passwordName}"`))
      .map((r) => `${r.inputs.metadata.namespace}/${r.inputs.metadata.name}`).sort();

  it("the superuser password sits only in the database's namespace (the chart/operator and the schema Job read it)", () => {
    expect(secretsHolding(SUPERUSER_PASSWORD)).toEqual([`yugabyte/${CREDENTIALS_SECRET}`]);
  });

  it("the sink password sits only in the sink Secrets: yugabyte (the schema Job sets it) and kafka (Connect logs in)", () => {
    expect(secretsHolding(SINK_PASSWORD)).toEqual([`kafka/${SINK_CREDENTIALS_SECRET}`, `yugabyte/${SINK_CREDENTIALS_SECRET}`]);
  });

  it("every password Secret holds exactly one generated password", () => {
    for (const r of run.ofType("kubernetes:core/v1:Secret")) {
      const hits = JSON.stringify(r.inputs).match(/mock-password-[A-Za-z0-9-]+/g) ?? [];
      expect(new Set(hits).size, `${r.name}: ${[...new Set(hits)].join(", ")}`).toBeLessThanOrEqual(1);
    }
  });

  it("no private key outside Secrets, the CA that signs with it and the Helm values that install it", () => {
    const allowed = new Set([...SECRET_HOLDERS, "tls:index/selfSignedCert:SelfSignedCert", "kubernetes:helm.sh/v3:Release"]);
    const leaks = run.resources
      .filter((r) => !allowed.has(r.type) && JSON.stringify(r.inputs).includes("PRIVATE KEY"))
      .map((r) => `${r.type} ${r.name}`);
    expect(leaks).toEqual([]);
  });

  it("exports nothing secret in plain stack outputs", () => {
    // The kubeconfig and the deploy smoke issuer's key are outputs on purpose, stored as secrets.
    for (const key of ["kubeconfig", "ingestSmokeKeyPem"]) if (key in run.outputs) expect(run.secretOutputs, key).toContain(key);
    const plain = JSON.stringify(Object.entries(run.outputs).filter(([key]) => !run.secretOutputs.includes(key)));
    expect(plain).not.toContain("mock-password-");
    expect(plain).not.toContain("PRIVATE KEY");
  });
});
