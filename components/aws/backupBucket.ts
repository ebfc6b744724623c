/**
 * Where YugabyteDB backups go on AWS: a versioned S3 bucket encrypted with its own KMS key, closed to the public,
 * with a lifecycle that expires old backups, and an IAM role the backup CronJob and restore Job assume through IRSA
 * (no access key exists anywhere). The role can write, read and list backups but never delete them.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { irsaTrustPolicy } from "../../contract/irsa";
import {
  BACKUP_PREFIX,
  BACKUP_SERVICE_ACCOUNT,
  backupAccessPolicy,
  backupBucketPolicy,
  backupLifecycleRules,
} from "./backupBucketSpecs";

/** KMS waits this long before destroying a scheduled-for-deletion key (the maximum): a mistake can be cancelled. */
const KEY_DELETION_WINDOW_DAYS = 30;

export interface BackupBucketArgs {
  /** Stack name: bucket and alias names are account-wide, so each stack gets its own. */
  readonly stack: string;
  /** Days a backup is kept before S3 expires it (`watchpipe:backup.retentionDays`), 1 to 3650. */
  readonly retentionDays: number;
  /** OIDC provider of the EKS cluster the backup pods run in. */
  readonly irsa: { readonly oidcProviderArn: pulumi.Input<string>; readonly oidcProviderUrl: pulumi.Input<string> };
  /** Kubernetes namespace of the backup service account ({@link BACKUP_SERVICE_ACCOUNT}). */
  readonly namespace: string;
  /** Protect the bucket and its key from `pulumi destroy` (prod). */
  readonly protect: boolean;
  readonly tags: Record<string, string>;
}

export class BackupBucket extends pulumi.ComponentResource {
  readonly bucketName: pulumi.Output<string>;
  readonly kmsKeyArn: pulumi.Output<string>;
  /** IAM role for the backup service account: annotate it with `eks.amazonaws.com/role-arn`. */
  readonly roleArn: pulumi.Output<string>;

  constructor(name: string, args: BackupBucketArgs, opts?: pulumi.ComponentResourceOptions) {
    super("watchpipe:aws:BackupBucket", name, {}, opts);
    const self = { parent: this };
    // Validate before registering anything: a bad retention registers nothing.
    const lifecycleRules = backupLifecycleRules(args.retentionDays);

    // Losing the key loses every backup encrypted with it, so it is protected like the bucket.
    const key = new aws.kms.Key(`${name}-key`, {
      description: `watchpipe ${args.stack}: encrypts the YugabyteDB backups in S3`,
      enableKeyRotation: true,
      deletionWindowInDays: KEY_DELETION_WINDOW_DAYS,
      tags: { ...args.tags, Name: `${name}-key` },
    }, { ...self, protect: args.protect });
    new aws.kms.Alias(`${name}-key-alias`, { name: `alias/watchpipe-${args.stack}-backups`, targetKeyId: key.keyId }, self);

    const bucket = new aws.s3.Bucket(`${name}-bucket`, {
      bucketPrefix: `watchpipe-${args.stack}-backups-`,
      // Never delete a bucket that still holds backups, whatever `protect` says.
      forceDestroy: false,
      tags: { ...args.tags, Name: `${name}-bucket` },
    }, { ...self, protect: args.protect });
    const versioning = new aws.s3.BucketVersioning(`${name}-versioning`, {
      bucket: bucket.id,
      versioningConfiguration: { status: "Enabled" },
    }, self);
    new aws.s3.BucketServerSideEncryptionConfiguration(`${name}-encryption`, {
      bucket: bucket.id,
      rules: [{
        applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: key.arn },
        // One data key per bucket instead of one KMS request per object: cheaper and not throttled by KMS.
        bucketKeyEnabled: true,
      }],
    }, self);
    const publicAccess = new aws.s3.BucketPublicAccessBlock(`${name}-public-access`, {
      bucket: bucket.id,
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    }, self);
    // ACLs off: the account owns every object, access is decided by policies alone.
    const ownership = new aws.s3.BucketOwnershipControls(`${name}-ownership`, {
      bucket: bucket.id,
      rule: { objectOwnership: "BucketOwnerEnforced" },
    }, self);
    // After the public access block and ownership controls: S3 answers concurrent changes to them and the policy with
    // "OperationAborted: A conflicting conditional operation is currently in progress"
    // (https://github.com/hashicorp/terraform-provider-aws/issues/7628).
    new aws.s3.BucketPolicy(`${name}-policy`, {
      bucket: bucket.id,
      policy: bucket.arn.apply((arn) => JSON.stringify(backupBucketPolicy(arn))),
    }, { ...self, dependsOn: [publicAccess, ownership] });
    // After versioning, as in the aws.s3.BucketLifecycleConfiguration docs' versioned-bucket example: the
    // noncurrent-version rule is written for a bucket that already keeps versions.
    new aws.s3.BucketLifecycleConfiguration(`${name}-lifecycle`, {
      bucket: bucket.id,
      rules: lifecycleRules,
    }, { ...self, dependsOn: [versioning] });

    const serviceAccount = `system:serviceaccount:${args.namespace}:${BACKUP_SERVICE_ACCOUNT}`;
    const role = new aws.iam.Role(`${name}-role`, {
      description: "YugabyteDB backup CronJob and restore Job: write and read backups in their S3 bucket (IRSA)",
      assumeRolePolicy: pulumi
        .all([args.irsa.oidcProviderArn, args.irsa.oidcProviderUrl])
        .apply(([arn, url]) => JSON.stringify(irsaTrustPolicy(arn, url, serviceAccount))),
      tags: args.tags,
    }, self);
    new aws.iam.RolePolicy(`${name}-access`, {
      role: role.id,
      policy: pulumi
        .all([bucket.arn, key.arn])
        .apply(([bucketArn, keyArn]) => JSON.stringify(backupAccessPolicy(bucketArn, keyArn, BACKUP_PREFIX))),
    }, self);

    this.bucketName = bucket.bucket;
    this.kmsKeyArn = key.arn;
    this.roleArn = role.arn;
    this.registerOutputs({ bucketName: this.bucketName, kmsKeyArn: this.kmsKeyArn, roleArn: this.roleArn });
  }
}
