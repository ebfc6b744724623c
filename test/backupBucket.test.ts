/**
 * YugabyteDB backup bucket: the pure policies and lifecycle rules (every statement, no delete anywhere, the prefix
 * scoping, retention validation), then the BackupBucket component under component-level mocks that return realistic
 * bucket names and S3/KMS/IAM ARNs: versioned, SSE-KMS with its own key, closed to the public, expiring after the
 * retention, and a role only the backup service account can assume and that cannot delete.
 */
import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { BackupBucket, type BackupBucketArgs } from "../components/aws/backupBucket";
import {
  ABORT_INCOMPLETE_UPLOAD_DAYS,
  BACKUP_PREFIX,
  BACKUP_SERVICE_ACCOUNT,
  backupAccessPolicy,
  backupBucketPolicy,
  backupLifecycleRules,
  MAX_RETENTION_DAYS,
  MIN_RETENTION_DAYS,
  NONCURRENT_VERSION_EXPIRE_DAYS,
} from "../components/aws/backupBucketSpecs";
import { promiseOf } from "./harness";

const ACCOUNT = "111122223333";
const BUCKET_ARN = "arn:aws:s3:::watchpipe-prod-backups-20261201000000000000000001";
const KEY_ARN = `arn:aws:kms:us-east-1:${ACCOUNT}:key/0b7c1b8e-3f57-4c0e-9a57-6d1f1c0e2a11`;

interface Statement {
  Sid: string;
  Effect: "Allow" | "Deny";
  Principal?: unknown;
  Action: string | string[];
  Resource: string | string[];
  Condition?: Record<string, Record<string, string | string[]> | undefined>;
}
const actionsOf = (s: Statement): string[] => (Array.isArray(s.Action) ? s.Action : [s.Action]);
const resourcesOf = (s: Statement): string[] => (Array.isArray(s.Resource) ? s.Resource : [s.Resource]);

describe("backup access policy (the IRSA role's permissions)", () => {
  const doc = backupAccessPolicy(BUCKET_ARN, KEY_ARN, BACKUP_PREFIX);
  const statements = doc.Statement as Statement[];

  it("is exactly: read/write objects below the prefix, list below the prefix, use the backup key", () => {
    expect(doc).toEqual({
      Version: "2012-10-17",
      Statement: [
        { Sid: "ReadWriteBackupObjects", Effect: "Allow", Action: ["s3:PutObject", "s3:GetObject"], Resource: `${BUCKET_ARN}/yugabyte/*` },
        {
          Sid: "ListBackupPrefix",
          Effect: "Allow",
          Action: ["s3:ListBucket"],
          Resource: BUCKET_ARN,
          Condition: { StringLike: { "s3:prefix": ["yugabyte/*"] } },
        },
        { Sid: "UseBackupKey", Effect: "Allow", Action: ["kms:GenerateDataKey", "kms:Decrypt"], Resource: KEY_ARN },
      ],
    });
  });

  it("grants no delete of any kind: a compromised backup pod cannot erase backups", () => {
    const all = statements.flatMap(actionsOf);
    expect(all.filter((a) => /delete/i.test(a))).toEqual([]);
    // No wildcard action could grant a delete implicitly either.
    expect(all.filter((a) => a.includes("*"))).toEqual([]);
  });

  it("only allows, and names no resource outside this bucket and this key", () => {
    expect(statements.every((s) => s.Effect === "Allow")).toBe(true);
    const resources = statements.flatMap(resourcesOf);
    expect(resources.filter((r) => r !== KEY_ARN && r !== BUCKET_ARN && !r.startsWith(`${BUCKET_ARN}/`))).toEqual([]);
    expect(resources).not.toContain("*");
  });

  it.each(["yugabyte/", "restore-drill/"])("object access and listing are scoped to the prefix %s", (prefix) => {
    const scoped = backupAccessPolicy(BUCKET_ARN, KEY_ARN, prefix).Statement as Statement[];
    const s3 = scoped.filter((s) => actionsOf(s).some((a) => a.startsWith("s3:")));
    for (const s of s3) {
      if (actionsOf(s).includes("s3:ListBucket")) {
        expect(s.Resource).toBe(BUCKET_ARN);
        expect(s.Condition).toEqual({ StringLike: { "s3:prefix": [`${prefix}*`] } });
      } else {
        expect(resourcesOf(s)).toEqual([`${BUCKET_ARN}/${prefix}*`]);
      }
    }
    // Never the whole bucket's objects.
    expect(scoped.flatMap(resourcesOf)).not.toContain(`${BUCKET_ARN}/*`);
  });

  it("the KMS actions are exactly what SSE-KMS reads and writes need, on the backup key only", () => {
    const kms = statements.filter((s) => actionsOf(s).some((a) => a.startsWith("kms:")));
    expect(kms).toHaveLength(1);
    expect(actionsOf(kms[0]).sort()).toEqual(["kms:Decrypt", "kms:GenerateDataKey"]);
    expect(kms[0].Resource).toBe(KEY_ARN);
  });
});

/** Whether a Deny statement's Condition matches a PutObject that sends these headers (the operators this policy uses). */
function denies(s: Statement, request: { secureTransport: boolean; headers: Record<string, string> }): boolean {
  const value = (key: string): string | undefined =>
    key === "aws:SecureTransport" ? String(request.secureTransport) : request.headers[key.replace(/^s3:/, "")];
  return Object.entries(s.Condition ?? {}).every(([op, tests]) =>
    Object.entries(tests ?? {}).every(([key, expected]) => {
      const actual = value(key);
      const want = Array.isArray(expected) ? expected : [expected];
      switch (op) {
        case "Bool": return actual !== undefined && want.includes(actual);
        // Negated string operators match when the key is absent.
        case "StringNotEquals": return actual === undefined || !want.includes(actual);
        case "Null": return want.includes(String(actual === undefined));
        default: throw new Error(`condition operator ${op} is not modelled by this test; extend denies()`);
      }
    }));
}

describe("backup bucket policy (guard rails for every principal)", () => {
  const doc = backupBucketPolicy(BUCKET_ARN);
  const statements = doc.Statement as Statement[];
  const bySid = (sid: string) => statements.find((s) => s.Sid === sid)!;

  it("has exactly two statements, both Deny for everyone", () => {
    expect(statements.map((s) => s.Sid)).toEqual(["DenyInsecureTransport", "DenyNonKmsEncryption"]);
    expect(statements.every((s) => s.Effect === "Deny" && s.Principal === "*")).toBe(true);
  });

  it("refuses any request over plain HTTP, on the bucket and on every object", () => {
    expect(bySid("DenyInsecureTransport")).toEqual({
      Sid: "DenyInsecureTransport",
      Effect: "Deny",
      Principal: "*",
      Action: "s3:*",
      Resource: [BUCKET_ARN, `${BUCKET_ARN}/*`],
      Condition: { Bool: { "aws:SecureTransport": "false" } },
    });
    expect(denies(bySid("DenyInsecureTransport"), { secureTransport: false, headers: {} })).toBe(true);
    expect(denies(bySid("DenyInsecureTransport"), { secureTransport: true, headers: {} })).toBe(false);
  });

  it("refuses writes that ask for an encryption other than aws:kms, on every object", () => {
    const s = bySid("DenyNonKmsEncryption");
    expect(s.Action).toBe("s3:PutObject");
    expect(s.Resource).toBe(`${BUCKET_ARN}/*`);
    expect(s.Condition).toEqual({
      StringNotEquals: { "s3:x-amz-server-side-encryption": "aws:kms" },
      Null: { "s3:x-amz-server-side-encryption": "false" },
    });
  });

  it.each([
    ["SSE-S3 (AES256) requested", { "x-amz-server-side-encryption": "AES256" }, true],
    ["DSSE-KMS requested", { "x-amz-server-side-encryption": "aws:kms:dsse" }, true],
    ["SSE-KMS requested", { "x-amz-server-side-encryption": "aws:kms" }, false],
    // UploadPart is authorized as s3:PutObject and cannot carry the header; the bucket default (SSE-KMS) applies.
    ["no header (multipart UploadPart, or a plain put using the bucket default)", {}, false],
  ])("a PutObject with %s is denied: %s", (_what, headers: Record<string, string>, denied) => {
    expect(denies(bySid("DenyNonKmsEncryption"), { secureTransport: true, headers })).toBe(denied);
  });

  it("allows nothing: access comes only from the role's own policy", () => {
    expect(statements.filter((s) => s.Effect !== "Deny")).toEqual([]);
  });
});

describe("backup lifecycle rules", () => {
  it.each([MIN_RETENTION_DAYS, 14, 35, MAX_RETENTION_DAYS])("with retentionDays %i: current backups expire then, noncurrent versions a week later, stuck uploads after a day", (days) => {
    expect(backupLifecycleRules(days)).toEqual([
      { id: "expire-backups", status: "Enabled", filter: {}, expiration: { days } },
      { id: "expire-noncurrent-versions", status: "Enabled", filter: {}, noncurrentVersionExpiration: { noncurrentDays: 7 } },
      { id: "abort-incomplete-uploads", status: "Enabled", filter: {}, abortIncompleteMultipartUpload: { daysAfterInitiation: 1 } },
    ]);
  });

  it("the fixed windows are the named constants", () => {
    expect(NONCURRENT_VERSION_EXPIRE_DAYS).toBe(7);
    expect(ABORT_INCOMPLETE_UPLOAD_DAYS).toBe(1);
    expect([MIN_RETENTION_DAYS, MAX_RETENTION_DAYS]).toEqual([1, 3650]);
  });

  it("rule ids are unique and every rule covers the whole bucket", () => {
    const rules = backupLifecycleRules(30);
    expect(new Set(rules.map((r) => r.id)).size).toBe(rules.length);
    expect(rules.every((r) => r.status === "Enabled" && Object.keys(r.filter).length === 0)).toBe(true);
  });

  it.each([
    [0, "0"],
    [-7, "-7"],
    [3651, "3651"],
    [1.5, "1.5"],
    [Number.NaN, "NaN"],
    [Number.POSITIVE_INFINITY, "Infinity"],
  ])("rejects retentionDays %s, naming the option, the expected range and the actual value", (days, shown) => {
    expect(() => backupLifecycleRules(days)).toThrow(/^watchpipe:backup\.retentionDays: expected an integer number of days from 1 to 3650/);
    expect(() => backupLifecycleRules(days)).toThrow(`got ${shown}.`);
  });
});

describe("backup constants", () => {
  it("the backup pods run as the yugabyte-backup service account and write below yugabyte/", () => {
    expect(BACKUP_SERVICE_ACCOUNT).toBe("yugabyte-backup");
    expect(BACKUP_PREFIX).toBe("yugabyte/");
  });
});

// ---------------------------------------------------------------------------------------------------------------
// The component under mocks.

const OIDC_ISSUER = "oidc.eks.us-east-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE";
const OIDC_ARN = `arn:aws:iam::${ACCOUNT}:oidc-provider/${OIDC_ISSUER}`;
const MOCK_KEY_ID = "0b7c1b8e-3f57-4c0e-9a57-6d1f1c0e2a11";

interface Registered {
  readonly type: string;
  readonly name: string;
  /** Inputs as the provider receives them (Outputs resolved). */
  readonly inputs: Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- arbitrary provider inputs
  readonly protect: boolean;
  /** Names (last URN segment) of the resources it dependsOn. */
  readonly dependsOn: readonly string[];
}
interface RegisterRequest {
  getType(): string; getName(): string; getProtect(): boolean; getDependenciesList(): string[];
}
interface BackupRun {
  readonly resources: Registered[];
  readonly outputs: { bucketName: string; kmsKeyArn: string; roleArn: string } | undefined;
  readonly error: unknown;
  one(type: string): Registered;
}

/** Outputs a real provider would compute for the resources BackupBucket creates. */
function mockState(type: string, name: string, inputs: Record<string, any>): { id: string; state: Record<string, unknown> } { // eslint-disable-line @typescript-eslint/no-explicit-any -- provider state is untyped
  switch (type) {
    case "aws:kms/key:Key":
      return { id: MOCK_KEY_ID, state: { ...inputs, keyId: MOCK_KEY_ID, arn: `arn:aws:kms:us-east-1:${ACCOUNT}:key/${MOCK_KEY_ID}` } };
    case "aws:s3/bucket:Bucket": {
      // AWS appends a 26-digit unique suffix to the prefix; the id of an S3 bucket is its name.
      const bucket = `${String(inputs.bucketPrefix)}20261201000000000000000001`;
      return { id: bucket, state: { ...inputs, bucket, arn: `arn:aws:s3:::${bucket}` } };
    }
    case "aws:iam/role:Role":
      return { id: `${name}-7f3a`, state: { ...inputs, name: `${name}-7f3a`, arn: `arn:aws:iam::${ACCOUNT}:role/${name}-7f3a` } };
    default:
      return { id: `${name}-id`, state: { ...inputs } };
  }
}

async function runBackupBucket(overrides: Partial<BackupBucketArgs> = {}): Promise<BackupRun> {
  const resources: Registered[] = [];
  const options = new Map<string, { protect: boolean; dependsOn: string[] }>();
  await pulumi.runtime.setMocks({
    newResource(args) {
      const o = options.get(`${args.type}::${args.name}`) ?? { protect: false, dependsOn: [] };
      resources.push({ type: args.type, name: args.name, inputs: args.inputs, ...o });
      return mockState(args.type, args.name, args.inputs);
    },
    call(args) {
      throw new Error(`unexpected invoke ${args.token}: BackupBucket makes no data-source calls`);
    },
  }, "watchpipe", "prod", false);
  const monitor = pulumi.runtime.getMonitor() as unknown as { registerResource(req: RegisterRequest, cb: unknown): unknown };
  const register = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req: RegisterRequest, cb: unknown) => {
    const dependsOn = req.getDependenciesList().map((urn) => urn.slice(urn.lastIndexOf("::") + 2));
    options.set(`${req.getType()}::${req.getName()}`, { protect: req.getProtect(), dependsOn });
    return register(req, cb);
  };

  let outputs: BackupRun["outputs"];
  let error: unknown;
  try {
    const backups = new BackupBucket("backups", {
      stack: "prod",
      retentionDays: 35,
      irsa: { oidcProviderArn: OIDC_ARN, oidcProviderUrl: `https://${OIDC_ISSUER}` },
      namespace: "yugabyte",
      protect: true,
      tags: { project: "watchpipe", stack: "prod" },
      ...overrides,
    });
    const [bucketName, kmsKeyArn, roleArn] = await Promise.all([promiseOf(backups.bucketName), promiseOf(backups.kmsKeyArn), promiseOf(backups.roleArn)]);
    outputs = { bucketName, kmsKeyArn, roleArn };
    // Let the last registrations (policies resolved from ARNs) reach the mock monitor.
    await new Promise((r) => setTimeout(r, 50));
  } catch (err) {
    error = err;
  }
  await pulumi.runtime.disconnect();
  return {
    resources,
    outputs,
    error,
    one(type) {
      const found = resources.filter((r) => r.type === type);
      if (found.length !== 1) throw new Error(`expected exactly one ${type}, found ${found.length}: ${found.map((r) => r.name).join(", ")}`);
      return found[0];
    },
  };
}

const T = {
  key: "aws:kms/key:Key",
  alias: "aws:kms/alias:Alias",
  bucket: "aws:s3/bucket:Bucket",
  versioning: "aws:s3/bucketVersioning:BucketVersioning",
  encryption: "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
  publicAccess: "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
  ownership: "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
  policy: "aws:s3/bucketPolicy:BucketPolicy",
  lifecycle: "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
  role: "aws:iam/role:Role",
  rolePolicy: "aws:iam/rolePolicy:RolePolicy",
} as const;

describe("BackupBucket component under mocks (prod-like: protected, 35-day retention)", () => {
  let run: BackupRun;
  beforeAll(async () => {
    run = await runBackupBucket();
    if (run.error) throw run.error;
  });
  const bucket = () => run.one(T.bucket);
  const bucketName = () => run.outputs!.bucketName;
  const keyArn = () => run.outputs!.kmsKeyArn;

  it("registers exactly one of each resource, all children of the component", () => {
    const custom = run.resources.filter((r) => r.type !== "watchpipe:aws:BackupBucket");
    expect(custom.map((r) => r.type).sort()).toEqual(Object.values(T).sort());
    expect(run.resources.filter((r) => r.type === "watchpipe:aws:BackupBucket").map((r) => r.name)).toEqual(["backups"]);
  });

  it("exports the bucket name, the key ARN and the role ARN", () => {
    expect(run.outputs).toEqual({
      bucketName: "watchpipe-prod-backups-20261201000000000000000001",
      kmsKeyArn: `arn:aws:kms:us-east-1:${ACCOUNT}:key/${MOCK_KEY_ID}`,
      roleArn: `arn:aws:iam::${ACCOUNT}:role/backups-role-7f3a`,
    });
  });

  it("the bucket is per stack, never force-destroyed, and protected with its key when asked", () => {
    expect(bucket().inputs).toMatchObject({ bucketPrefix: "watchpipe-prod-backups-", forceDestroy: false });
    expect(bucket().protect).toBe(true);
    expect(run.one(T.key).protect).toBe(true);
  });

  it("the KMS key rotates, waits 30 days before deletion, and has the stack's alias", () => {
    expect(run.one(T.key).inputs).toMatchObject({ enableKeyRotation: true, deletionWindowInDays: 30 });
    expect(run.one(T.key).inputs.description).toMatch(/backups/);
    expect(run.one(T.alias).inputs).toEqual({ name: "alias/watchpipe-prod-backups", targetKeyId: MOCK_KEY_ID });
  });

  it("versioning is Enabled on this bucket", () => {
    expect(run.one(T.versioning).inputs).toEqual({ bucket: bucketName(), versioningConfiguration: { status: "Enabled" } });
  });

  it("default encryption is SSE-KMS with this key and a bucket key", () => {
    expect(run.one(T.encryption).inputs).toEqual({
      bucket: bucketName(),
      rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: keyArn() }, bucketKeyEnabled: true }],
    });
  });

  it("public access is fully blocked and ACLs are off", () => {
    expect(run.one(T.publicAccess).inputs).toEqual({
      bucket: bucketName(), blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true,
    });
    expect(run.one(T.ownership).inputs).toEqual({ bucket: bucketName(), rule: { objectOwnership: "BucketOwnerEnforced" } });
  });

  it("the bucket policy is backupBucketPolicy for this bucket's ARN, applied after the access block and ownership", () => {
    const policy = run.one(T.policy);
    expect(policy.inputs.bucket).toBe(bucketName());
    expect(JSON.parse(policy.inputs.policy as string)).toEqual(backupBucketPolicy(`arn:aws:s3:::${bucketName()}`));
    expect(policy.dependsOn).toEqual(expect.arrayContaining(["backups-public-access", "backups-ownership"]));
  });

  it("the lifecycle expires backups after retentionDays (35), after versioning is on", () => {
    const lifecycle = run.one(T.lifecycle);
    expect(lifecycle.inputs.bucket).toBe(bucketName());
    expect(lifecycle.inputs.rules).toEqual(backupLifecycleRules(35));
    const expiry = (lifecycle.inputs.rules as { expiration?: { days: number } }[]).filter((r) => r.expiration);
    expect(expiry.map((r) => r.expiration!.days)).toEqual([35]);
    expect(lifecycle.dependsOn).toContain("backups-versioning");
  });

  it("only the backup service account, through the cluster's OIDC provider, can assume the role", () => {
    const trust = JSON.parse(run.one(T.role).inputs.assumeRolePolicy as string) as { Statement: Statement[] };
    expect(trust.Statement).toHaveLength(1);
    const [s] = trust.Statement;
    expect(s).toMatchObject({ Effect: "Allow", Principal: { Federated: OIDC_ARN }, Action: "sts:AssumeRoleWithWebIdentity" });
    expect(s.Condition).toEqual({
      StringEquals: {
        [`${OIDC_ISSUER}:sub`]: `system:serviceaccount:yugabyte:${BACKUP_SERVICE_ACCOUNT}`,
        [`${OIDC_ISSUER}:aud`]: "sts.amazonaws.com",
      },
    });
    expect(JSON.stringify(trust)).not.toMatch(/StringLike|\*/);
  });

  it("the role policy is backupAccessPolicy for this bucket, key and prefix, with no s3:Delete*", () => {
    const rolePolicy = run.one(T.rolePolicy);
    expect(rolePolicy.inputs.role).toBe("backups-role-7f3a");
    const doc = JSON.parse(rolePolicy.inputs.policy as string) as { Statement: Statement[] };
    expect(doc).toEqual(backupAccessPolicy(`arn:aws:s3:::${bucketName()}`, keyArn(), BACKUP_PREFIX));
    expect(doc.Statement.flatMap(actionsOf).filter((a) => /^s3:Delete/i.test(a) || a === "s3:*")).toEqual([]);
  });

  it("tags the bucket, key and role", () => {
    for (const type of [T.bucket, T.key, T.role]) {
      expect(run.one(type).inputs.tags).toMatchObject({ project: "watchpipe", stack: "prod" });
    }
  });
});

describe("BackupBucket component under mocks (dev-like)", () => {
  it("protect: false leaves the bucket and key unprotected (forceDestroy stays false)", async () => {
    const run = await runBackupBucket({ stack: "dev", protect: false, namespace: "yb" });
    if (run.error) throw run.error;
    expect(run.one(T.bucket).protect).toBe(false);
    expect(run.one(T.key).protect).toBe(false);
    expect(run.one(T.bucket).inputs).toMatchObject({ bucketPrefix: "watchpipe-dev-backups-", forceDestroy: false });
    const trust = JSON.parse(run.one(T.role).inputs.assumeRolePolicy as string) as { Statement: Statement[] };
    expect(trust.Statement[0].Condition?.StringEquals?.[`${OIDC_ISSUER}:sub`]).toBe("system:serviceaccount:yb:yugabyte-backup");
  });

  it("an invalid retentionDays fails with the option's name and registers no AWS resource", async () => {
    const run = await runBackupBucket({ retentionDays: 0 });
    expect(String(run.error)).toMatch(/watchpipe:backup\.retentionDays: expected an integer number of days from 1 to 3650.*got 0\./);
    expect(run.resources.filter((r) => r.type.startsWith("aws:"))).toEqual([]);
  });
});
