/**
 * Run the Pulumi program under mocks, outside or inside a test runner. This is the one mock machinery: vitest's
 * `test/harness.ts` wraps it (adding a module reset between runs), `tools/render.ts` and `tools/plan.ts` call it
 * directly (one run per process).
 *
 * - Records every resource registration with its inputs and the options mocks normally hide (protect, parent,
 *   dependencies, per-property dependencies), so tests can assert policies such as "prod Kafka is protected" and
 *   the CrossGuard stack policies can follow references (node group → subnet → route table → internet gateway).
 * - Returns realistic ids and ARNs, and realistic outputs for the remote components we use (eks.Cluster).
 * - Answers only the invokes the program is known to make and THROWS on any other, so a new data-source call
 *   cannot slip in unnoticed.
 * - Loads config from the stack's real Pulumi.<stack>.yaml, so the file that deploys is the file that is tested.
 */
import { createECDH, createHash, createPrivateKey, createPublicKey } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { parse } from "yaml";
import { EXAMPLE_VALUES_ENV } from "../contract/exampleValues";
import { gatewayImageTag } from "../contract/gatewayImage";

export const PROJECT = "watchpipe";
export const ACCOUNT = "111122223333";
export const REGION = "us-east-1";
export const ROOT = join(__dirname, "..");
/**
 * The ECR repository the mocks hold the gateway image in: it has this checkout's build (and an older one); any other
 * repository is empty, so a test can see what a stack whose image was never published gets.
 */
export const MOCK_GATEWAY_REPOSITORY = "watchpipe-ingest-gateway";
/** The digest the mock registry gives an image tag (sha256 of the tag: stable, distinct per tag). */
export const mockImageDigest = (tag: string): string => `sha256:${createHash("sha256").update(tag).digest("hex")}`;

export interface RecordedResource {
  readonly type: string;
  readonly name: string;
  /** Inputs as the provider would receive them (Outputs resolved). */
  readonly inputs: Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- arbitrary provider inputs
  readonly custom: boolean;
  readonly protect: boolean;
  readonly parent: string;
  readonly urn: string;
  /** URNs of every resource this one depends on (explicit dependsOn and through its inputs). */
  readonly dependencies: readonly string[];
  /** Per input property, the URNs of the resources whose outputs flowed into it. */
  readonly propertyDependencies: Readonly<Record<string, readonly string[]>>;
}

export interface ProgramRun {
  readonly stack: string;
  readonly resources: RecordedResource[];
  readonly invokes: string[];
  /** Exports of index.ts, resolved. */
  readonly outputs: Record<string, unknown>;
  /** Names of the outputs Pulumi would store as secrets (pulumi.secret or a secret input flowed into them). */
  readonly secretOutputs: readonly string[];
  readonly elapsedMs: number;
  ofType(type: string): RecordedResource[];
  one(type: string, name?: string): RecordedResource;
}

/** The `config:` map of Pulumi.<stack>.yaml as parsed YAML (keys like "watchpipe:kafka"). */
export function stackFileConfig(stack: string): Record<string, unknown> {
  const file = parse(readFileSync(join(ROOT, `Pulumi.${stack}.yaml`), "utf8")) as { config?: Record<string, unknown> };
  return file.config ?? {};
}

/** Stack config exactly as in Pulumi.<stack>.yaml, with objects JSON-encoded the way the Pulumi engine passes them. */
export function stackConfig(stack: string, overrides: Record<string, unknown> = {}): Record<string, string> {
  const merged: Record<string, unknown> = { ...stackFileConfig(stack), ...overrides };
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(merged)) {
    if (value === undefined) continue;
    out[key] = typeof value === "string" ? value : JSON.stringify(value);
  }
  return out;
}

/**
 * A deterministic P-256 key pair for a mocked tls.PrivateKey (ECDSA): the private scalar is the SHA-256 of the
 * resource name, so runs and snapshots repeat; PEMs in the provider's shapes (SEC1 private, PKIX public).
 */
function mockEcKeyPair(name: string): { privateKeyPem: string; publicKeyPem: string } {
  const d = createHash("sha256").update(`watchpipe-mock-${name}`).digest();
  const ecdh = createECDH("prime256v1");
  ecdh.setPrivateKey(d);
  const point = ecdh.getPublicKey();
  const jwk = { kty: "EC", crv: "P-256", d: d.toString("base64url"), x: point.subarray(1, 33).toString("base64url"), y: point.subarray(33).toString("base64url") };
  const key = createPrivateKey({ key: jwk, format: "jwk" });
  return {
    privateKeyPem: key.export({ format: "pem", type: "sec1" }).toString(),
    publicKeyPem: createPublicKey(key).export({ format: "pem", type: "spki" }).toString(),
  };
}

/** Outputs a real provider would compute, keyed by resource type. */
function mockState(type: string, name: string, inputs: Record<string, any>): Record<string, any> { // eslint-disable-line @typescript-eslint/no-explicit-any -- provider state is untyped
  const arn = (service: string, resource: string) => `arn:aws:${service}:${REGION}:${ACCOUNT}:${resource}`;
  switch (type) {
    case "aws:ec2/vpc:Vpc":
      return { ...inputs, arn: arn("ec2", `vpc/vpc-${name}`) };
    case "aws:iam/role:Role":
      return { ...inputs, name: inputs.name ?? `${name}-role`, arn: `arn:aws:iam::${ACCOUNT}:role/${name}` };
    case "aws:kms/key:Key":
      return { ...inputs, keyId: `key-${name}`, arn: arn("kms", `key/key-${name}`) };
    case "aws:ec2/launchTemplate:LaunchTemplate":
      return { ...inputs, latestVersion: 1, arn: arn("ec2", `launch-template/lt-${name}`) };
    case "random:index/randomPassword:RandomPassword":
      // A fixed, obviously fake value: the program's wiring is visible, no real secret ever exists under mocks.
      return { ...inputs, result: `mock-password-${name}`, bcryptHash: `mock-bcrypt-${name}` };
    case "tls:index/privateKey:PrivateKey":
      // An ECDSA key is parsed by the program (the smoke issuer's JWKS): a real P-256 pair, derived from the name.
      if (inputs.algorithm === "ECDSA") return { ...inputs, ...mockEcKeyPair(name) };
      return { ...inputs, privateKeyPem: `-----BEGIN PRIVATE KEY-----\nmock-${name}\n-----END PRIVATE KEY-----\n`, publicKeyPem: `mock-public-${name}` };
    case "tls:index/selfSignedCert:SelfSignedCert":
      return { ...inputs, certPem: `-----BEGIN CERTIFICATE-----\nmock-${name}\n-----END CERTIFICATE-----\n` };
    case "aws:ecr/repository:Repository":
      return { ...inputs, arn: arn("ecr", `repository/${inputs.name ?? name}`), repositoryUrl: `${ACCOUNT}.dkr.ecr.${REGION}.amazonaws.com/${inputs.name ?? name}` };
    case "aws:wafv2/webAcl:WebAcl":
      // Regional web ACL ARNs end in name/id (the id is a UUID AWS assigns).
      return { ...inputs, arn: arn("wafv2", `regional/webacl/${name}/00000000-0000-4000-8000-000000000000`) };
    case "aws:s3/bucket:Bucket": {
      // bucketPrefix + the random suffix S3 names would get; bucket names are global, ARNs have no region or account.
      const bucket = inputs.bucket ?? `${inputs.bucketPrefix ?? `${name}-`}20261202000000000000000001`;
      return { ...inputs, bucket, arn: `arn:aws:s3:::${bucket}` };
    }
    case "aws:cloudwatch/logGroup:LogGroup":
      return { ...inputs, arn: arn("logs", `log-group:${name}`) };
    case "eks:index:Cluster": {
      const clusterName = `${name}-cluster`;
      const issuer = `oidc.eks.${REGION}.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE`;
      return {
        ...inputs,
        eksCluster: { name: clusterName, arn: arn("eks", `cluster/${clusterName}`), version: inputs.version },
        kubeconfigJson: JSON.stringify({
          apiVersion: "v1",
          kind: "Config",
          "current-context": "aws",
          contexts: [{ name: "aws", context: { cluster: "kubernetes", user: "aws" } }],
        }),
        oidcProviderArn: `arn:aws:iam::${ACCOUNT}:oidc-provider/${issuer}`,
        oidcProviderUrl: issuer,
        clusterSecurityGroupId: `sg-${name}`,
      };
    }
    default:
      return { ...inputs, arn: arn(type.split(":")[1]?.split("/")[0] ?? "unknown", name) };
  }
}

/** Invokes the program is known to make; anything else throws. */
function mockInvoke(token: string, inputs: Record<string, any>): Record<string, any> { // eslint-disable-line @typescript-eslint/no-explicit-any -- invoke results are untyped
  switch (token) {
    case "aws:index/getAvailabilityZones:getAvailabilityZones":
      // us-east-1 has six zones: every azCount the config accepts (network.azCount ≤ 6) has zones to use.
      return {
        names: ["a", "b", "c", "d", "e", "f"].map((z) => `${REGION}${z}`),
        zoneIds: ["use1-az1", "use1-az2", "use1-az4", "use1-az6", "use1-az3", "use1-az5"],
        state: inputs.state,
      };
    case "aws:eks/getAddonVersion:getAddonVersion":
      return { ...inputs, version: "v1.50.1-eksbuild.1" };
    case "aws:ecr/getImages:getImages": {
      const tags = inputs.repositoryName === MOCK_GATEWAY_REPOSITORY ? [gatewayImageTag(), "src-00000000000000000000"] : [];
      return { ...inputs, imageIds: tags.map((imageTag) => ({ imageTag, imageDigest: mockImageDigest(imageTag) })) };
    }
    default:
      throw new Error(`Unhandled invoke ${token} with ${JSON.stringify(inputs)}: the program made a data-source call the mocks do not know. Answer it in tools/mockRun.ts (mockInvoke) if it is intended.`);
  }
}

/**
 * The program threw (invalid config, a validator, an unknown invoke). Carries what had been registered before the
 * failure, so a test can assert "invalid config registers nothing".
 */
export class ProgramError extends Error {
  constructor(readonly stackName: string, readonly reason: unknown, readonly resources: readonly RecordedResource[]) {
    super(`the program failed under mocks for stack "${stackName}" after registering ${resources.length} resources: ${reason instanceof Error ? reason.message : String(reason)}`);
    this.name = "ProgramError";
  }
}

/** The parts of the protobuf RegisterResourceRequest the recorder reads. */
interface RegisterRequest {
  getType(): string;
  getName(): string;
  getProtect(): boolean;
  getParent(): string;
  getDependenciesList(): string[];
  getPropertydependenciesMap(): { forEach(cb: (deps: { getUrnsList(): string[] }, key: string) => void): void };
}

interface RecordedOptions {
  readonly urn: string;
  readonly protect: boolean;
  readonly parent: string;
  readonly dependencies: readonly string[];
  readonly propertyDependencies: Record<string, readonly string[]>;
}

export interface RunOptions {
  /** `refuse`: run as against a real cloud, where the stacks' example values are refused (config.ts loadConfig). */
  readonly exampleValues?: "allow" | "refuse";
}

/**
 * Run the program with the given stack's config (plus `{"watchpipe:kafka": {...}}`-style overrides) under mocks.
 * `loadProgram` imports index.ts; the caller decides whether modules are re-evaluated (tests reset them per run).
 * Rejects with {@link ProgramError} when the program throws.
 */
export async function runProgramWith(
  stack: string,
  overrides: Record<string, unknown>,
  loadProgram: () => Promise<Record<string, unknown>>,
  runOptions: RunOptions = {},
): Promise<ProgramRun> {
  const resources: RecordedResource[] = [];
  const invokes: string[] = [];
  const options = new Map<string, RecordedOptions>();
  const urnOf = (type: string, name: string, parent = "") => {
    // As the engine builds them: a child's type is qualified by its parents' types, except the root Stack's.
    const parentType = parent.split("::")[2] ?? "";
    const prefix = parentType === "" || parentType === "pulumi:pulumi:Stack" ? "" : `${parentType}$`;
    return `urn:pulumi:${stack}::${PROJECT}::${prefix}${type}::${name}`;
  };
  pulumi.runtime.setAllConfig(stackConfig(stack, overrides));
  // No cloud is reached here: the committed stacks' example values are what is being tested (config.ts).
  process.env[EXAMPLE_VALUES_ENV] = runOptions.exampleValues ?? "allow";
  await pulumi.runtime.setMocks({
    newResource(args: pulumi.runtime.MockResourceArgs) {
      const opts = options.get(`${args.type}::${args.name}`) ?? { urn: urnOf(args.type, args.name), protect: false, parent: "", dependencies: [], propertyDependencies: {} };
      const state = mockState(args.type, args.name, args.inputs);
      resources.push({
        type: args.type,
        name: args.name,
        inputs: args.inputs,
        custom: args.custom ?? true,
        ...opts,
      });
      return { id: args.type.startsWith("kubernetes:") ? `${args.inputs?.metadata?.namespace ?? ""}/${args.name}` : `${args.name}-id`, state };
    },
    call(args: pulumi.runtime.MockCallArgs) {
      invokes.push(args.token);
      return mockInvoke(args.token, args.inputs);
    },
  }, PROJECT, stack, false);

  // Mocks hide resource options; wrap the mock monitor to record the ones our policies check.
  const monitor = pulumi.runtime.getMonitor() as unknown as { registerResource(req: RegisterRequest, cb: unknown): unknown };
  const register = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req: RegisterRequest, cb: unknown) => {
    const propertyDependencies: Record<string, string[]> = {};
    req.getPropertydependenciesMap().forEach((deps, key) => { propertyDependencies[key] = deps.getUrnsList(); });
    options.set(`${req.getType()}::${req.getName()}`, {
      urn: urnOf(req.getType(), req.getName(), req.getParent()),
      protect: req.getProtect(),
      parent: req.getParent(),
      dependencies: req.getDependenciesList(),
      propertyDependencies,
    });
    return register(req, cb);
  };

  const started = performance.now();
  let program: Record<string, unknown>;
  try {
    program = await loadProgram();
  } catch (err) {
    await pulumi.runtime.disconnect();
    throw new ProgramError(stack, err, [...resources]);
  }
  const outputs: Record<string, unknown> = {};
  const secretOutputs: string[] = [];
  // index.ts assigns a promise of the outputs to module.exports (`export =`), which Pulumi awaits; an ES-module loader
  // hands the same value over as `default`.
  let exported: Record<string, unknown>;
  try {
    exported = (await (program.default !== undefined && typeof program.default === "object" ? program.default : program)) as Record<string, unknown>;
  } catch (err) {
    await pulumi.runtime.disconnect();
    throw new ProgramError(stack, err, [...resources]);
  }
  for (const [key, value] of Object.entries(exported)) {
    outputs[key] = pulumi.Output.isInstance(value) ? await promiseOf(value) : value;
    if (pulumi.Output.isInstance(value) && (await pulumi.isSecret(value))) secretOutputs.push(key);
  }
  await pulumi.runtime.disconnect();
  const elapsedMs = performance.now() - started;

  return {
    stack,
    resources,
    invokes,
    outputs,
    secretOutputs,
    elapsedMs,
    ofType: (type) => resources.filter((r) => r.type === type),
    one(type, name) {
      const found = resources.filter((r) => r.type === type && (name === undefined || r.name === name));
      if (found.length !== 1) {
        throw new Error(`expected exactly one ${type}${name ? ` named ${name}` : ""}, found ${found.length}: ${found.map((r) => r.name).join(", ")}`);
      }
      return found[0];
    },
  };
}

/** Stacks that have a Pulumi.<stack>.yaml in the repository. */
export function knownStacks(): string[] {
  return readdirSync(ROOT).map((f) => /^Pulumi\.([^.]+)\.yaml$/.exec(f)?.[1]).filter((s): s is string => s !== undefined).sort();
}

/**
 * One run of the program for a command-line tool (one per process: modules are not re-evaluated), with top-level
 * config keys replaced by `overrides` (`plan --set`). Fails with the list of stacks when Pulumi.<stack>.yaml does not
 * exist.
 */
export async function runProgramOnce(stack: string, overrides: Record<string, unknown> = {}): Promise<ProgramRun> {
  if (!existsSync(join(ROOT, `Pulumi.${stack}.yaml`))) {
    throw new Error(`no Pulumi.${stack}.yaml in ${ROOT}; expected one of the stacks ${knownStacks().join(", ")}. Pass --stack <name>.`);
  }
  return runProgramWith(stack, overrides, async () => (await import("..")) as Record<string, unknown>);
}

/**
 * Resolve an Output (including secret or unknown-free outputs under mocks). Rejects when the Output does (a throw in
 * an `apply` upstream): resolving through `apply` alone would wait forever for a value that never comes.
 */
export function promiseOf<T>(output: pulumi.Output<T>): Promise<T> {
  // `promise()` is the Output's own (internal, stable since 1.x) settled value; the public API offers only apply.
  const settled = (output as unknown as { promise(): Promise<T> }).promise();
  return settled;
}
