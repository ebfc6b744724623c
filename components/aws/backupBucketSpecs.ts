/**
 * Pure builders for the YugabyteDB backup bucket: the IRSA role's access policy, the bucket policy and the lifecycle
 * rules. Plain JSON, no Pulumi resources here: the component (backupBucket.ts) wraps them, tests read them directly.
 */
import { MAX_RETENTION_DAYS, MIN_RETENTION_DAYS } from "../../contract/backup";

export { BACKUP_PREFIX, BACKUP_SERVICE_ACCOUNT, MAX_RETENTION_DAYS, MIN_RETENTION_DAYS } from "../../contract/backup";

/**
 * Noncurrent versions (an overwritten or expired backup) are kept this long: a week to notice and undo a bad
 * overwrite, after which they stop costing storage.
 */
export const NONCURRENT_VERSION_EXPIRE_DAYS = 7;

/** A backup upload that has not completed in a day has failed; its parts are billed until aborted. */
export const ABORT_INCOMPLETE_UPLOAD_DAYS = 1;

/**
 * What the backup and restore pods may do: write and read objects below `prefix`, list the bucket only below
 * `prefix`, and use the bucket's KMS key for SSE-KMS (GenerateDataKey to write; Decrypt to read and to complete a
 * multipart upload). Deliberately no s3:Delete* of any kind: versioning plus the lifecycle rules expire old backups,
 * so a compromised pod can add objects but cannot erase the backups already taken.
 */
export function backupAccessPolicy(bucketArn: string, kmsKeyArn: string, prefix: string) {
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "ReadWriteBackupObjects",
        Effect: "Allow",
        Action: ["s3:PutObject", "s3:GetObject"],
        Resource: `${bucketArn}/${prefix}*`,
      },
      {
        Sid: "ListBackupPrefix",
        Effect: "Allow",
        Action: ["s3:ListBucket"],
        Resource: bucketArn,
        Condition: { StringLike: { "s3:prefix": [`${prefix}*`] } },
      },
      {
        Sid: "UseBackupKey",
        Effect: "Allow",
        Action: ["kms:GenerateDataKey", "kms:Decrypt"],
        Resource: kmsKeyArn,
      },
    ],
  };
}

/**
 * The bucket's own guard rails, for every principal (including admins in the account):
 * - no request over plain HTTP;
 * - no object written with an encryption other than SSE-KMS.
 *
 * The encryption statement denies a PutObject whose `x-amz-server-side-encryption` header is present and is not
 * `aws:kms`; a PutObject without the header gets the bucket's default encryption, which is SSE-KMS with the backup
 * key, so every object is stored under aws:kms either way. It does not deny requests that omit the header, because
 * S3 authorizes UploadPart as s3:PutObject and UploadPart cannot carry that header: a "header must equal aws:kms"
 * deny refuses every multipart upload, i.e. every backup larger than the client's multipart threshold
 * (https://github.com/boto/botocore/issues/471, https://github.com/aws/aws-cli/issues/4251).
 */
export function backupBucketPolicy(bucketArn: string) {
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "DenyInsecureTransport",
        Effect: "Deny",
        Principal: "*",
        Action: "s3:*",
        Resource: [bucketArn, `${bucketArn}/*`],
        Condition: { Bool: { "aws:SecureTransport": "false" } },
      },
      {
        Sid: "DenyNonKmsEncryption",
        Effect: "Deny",
        Principal: "*",
        Action: "s3:PutObject",
        Resource: `${bucketArn}/*`,
        Condition: {
          StringNotEquals: { "s3:x-amz-server-side-encryption": "aws:kms" },
          // Only when the header is sent: see above for why an absent header must stay allowed.
          Null: { "s3:x-amz-server-side-encryption": "false" },
        },
      },
    ],
  };
}

/** One rule of aws.s3.BucketLifecycleConfiguration (`rules`), as plain data. */
export interface BackupLifecycleRule {
  readonly id: string;
  readonly status: "Enabled";
  /** Empty filter: the rule applies to every object in the bucket. */
  readonly filter: Record<string, never>;
  readonly expiration?: { readonly days: number };
  readonly noncurrentVersionExpiration?: { readonly noncurrentDays: number };
  readonly abortIncompleteMultipartUpload?: { readonly daysAfterInitiation: number };
}

/** Throws unless `retentionDays` is an integer from {@link MIN_RETENTION_DAYS} to {@link MAX_RETENTION_DAYS}. */
export function validateRetentionDays(retentionDays: number): void {
  if (!Number.isInteger(retentionDays) || retentionDays < MIN_RETENTION_DAYS || retentionDays > MAX_RETENTION_DAYS) {
    throw new Error(
      `watchpipe:backup.retentionDays: expected an integer number of days from ${MIN_RETENTION_DAYS} to ${MAX_RETENTION_DAYS} ` +
        `(how long a backup is kept before S3 expires it); got ${String(retentionDays)}. Set it in Pulumi.<stack>.yaml.`,
    );
  }
}

/**
 * The bucket's lifecycle: a backup expires `retentionDays` after it was written (on a versioned bucket that makes it
 * noncurrent behind a delete marker), the noncurrent version is removed {@link NONCURRENT_VERSION_EXPIRE_DAYS} later,
 * and failed multipart uploads are aborted after {@link ABORT_INCOMPLETE_UPLOAD_DAYS}. With `expiration.days` S3
 * also removes the delete markers once no version is left behind them, so nothing accumulates
 * (https://docs.aws.amazon.com/AmazonS3/latest/userguide/intro-lifecycle-rules.html).
 */
export function backupLifecycleRules(retentionDays: number): BackupLifecycleRule[] {
  validateRetentionDays(retentionDays);
  return [
    { id: "expire-backups", status: "Enabled", filter: {}, expiration: { days: retentionDays } },
    {
      id: "expire-noncurrent-versions",
      status: "Enabled",
      filter: {},
      noncurrentVersionExpiration: { noncurrentDays: NONCURRENT_VERSION_EXPIRE_DAYS },
    },
    {
      id: "abort-incomplete-uploads",
      status: "Enabled",
      filter: {},
      abortIncompleteMultipartUpload: { daysAfterInitiation: ABORT_INCOMPLETE_UPLOAD_DAYS },
    },
  ];
}
