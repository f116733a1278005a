import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { AwsConfig } from "./config";

export interface BackupStoreArgs {
  lifecycle: AwsConfig["backupBucket"];
  /** Keep the bucket (and every backup in it) when the stack is destroyed. */
  keepData: boolean;
}

/** Key prefix of the backups in the bucket (`BACKUP_TARGET=s3://<bucket>/backups`). */
export const BACKUP_PREFIX = "backups";

/**
 * The S3 bucket the backup job writes to when `backup.target` is unset: encrypted, versioned (a
 * deleted or overwritten backup stays recoverable for `noncurrentDays`), no public access, no ACLs,
 * TLS only, and a lifecycle that moves backups to cheaper, still instantly readable classes and
 * expires them. Kept on destroy by default.
 */
export class BackupStore extends pulumi.ComponentResource {
  readonly bucket: aws.s3.Bucket;
  /** `s3://<bucket>/backups`. */
  readonly url: pulumi.Output<string>;

  constructor(name: string, args: BackupStoreArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mixstack:aws:BackupStore", name, {}, opts);
    const child = { parent: this };
    const { lifecycle } = args;
    this.bucket = new aws.s3.Bucket(name, { forceDestroy: !args.keepData }, { ...child, retainOnDelete: args.keepData });
    const bucket = this.bucket.bucket;
    new aws.s3.BucketPublicAccessBlock(name, { bucket, blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true }, child);
    new aws.s3.BucketOwnershipControls(name, { bucket, rule: { objectOwnership: "BucketOwnerEnforced" } }, child);
    new aws.s3.BucketServerSideEncryptionConfiguration(
      name,
      // SSE-S3: encrypted at rest with no key policy for the backup task to need.
      { bucket, rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }] },
      child,
    );
    const versioning = new aws.s3.BucketVersioning(name, { bucket, versioningConfiguration: { status: "Enabled" } }, child);
    new aws.s3.BucketLifecycleConfiguration(
      name,
      {
        bucket,
        rules: [
          {
            id: "backups",
            status: "Enabled",
            filter: { prefix: `${BACKUP_PREFIX}/` },
            // Standard-IA and Glacier Instant Retrieval stay readable at once: a restore never waits for a thaw.
            transitions: [
              { days: lifecycle.infrequentAccessDays, storageClass: "STANDARD_IA" },
              { days: lifecycle.glacierDays, storageClass: "GLACIER_IR" },
            ],
            expiration: { days: lifecycle.expireDays },
            noncurrentVersionExpiration: { noncurrentDays: lifecycle.noncurrentDays },
            abortIncompleteMultipartUpload: { daysAfterInitiation: 7 },
          },
          { id: "delete-markers", status: "Enabled", filter: {}, expiration: { expiredObjectDeleteMarker: true } },
        ],
      },
      // S3 wants versioning settled before a lifecycle that refers to noncurrent versions.
      { ...child, dependsOn: [versioning] },
    );
    new aws.s3.BucketPolicy(
      name,
      {
        bucket,
        policy: this.bucket.arn.apply((arn) =>
          JSON.stringify({
            Version: "2012-10-17",
            Statement: [
              {
                Sid: "TlsOnly",
                Effect: "Deny",
                Principal: "*",
                Action: "s3:*",
                Resource: [arn, `${arn}/*`],
                Condition: { Bool: { "aws:SecureTransport": "false" } },
              },
            ],
          }),
        ),
      },
      child,
    );
    this.url = pulumi.interpolate`s3://${bucket}/${BACKUP_PREFIX}`;
    this.registerOutputs({ url: this.url });
  }
}
