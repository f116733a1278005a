import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import type { GcpConfig } from "./config";

export interface BackupBucketArgs {
  bucketName: string;
  region: string;
  lifecycle: GcpConfig["backupBucket"];
  /** Service accounts that write and prune backups (the backup job). */
  writers: Array<{ owner: string; email: pulumi.Input<string> }>;
  /** Keep the bucket (and the backups) when the stack is destroyed. */
  keepOnDestroy: boolean;
  labels: Record<string, string>;
}

/** Prefix of the backups inside the bucket: `BACKUP_TARGET` is `gs://<bucket>/<prefix>`. */
export const BACKUP_PREFIX = "backups";

/**
 * Lifecycle rules of the backup bucket. The backup agent applies the retention of `backup.keepDaily`
 * / `keepWeekly` itself; the bucket only moves old objects to colder classes, removes noncurrent
 * versions (what the agent's retention or a mistake deleted) after a grace period, deletes backups
 * older than `deleteAfterDays` (a backstop, as on AWS; with versioning they stay recoverable as
 * noncurrent versions for `noncurrentDeleteAfterDays` more), and cleans up aborted multipart uploads.
 */
export function backupLifecycleRules(lifecycle: GcpConfig["backupBucket"]): gcp.types.input.storage.BucketLifecycleRule[] {
  const rules: gcp.types.input.storage.BucketLifecycleRule[] = [];
  if (lifecycle.nearlineAfterDays > 0) {
    rules.push({
      action: { type: "SetStorageClass", storageClass: "NEARLINE" },
      condition: { age: lifecycle.nearlineAfterDays, matchesStorageClasses: ["STANDARD"], withState: "LIVE" },
    });
  }
  if (lifecycle.coldlineAfterDays > 0) {
    rules.push({
      action: { type: "SetStorageClass", storageClass: "COLDLINE" },
      condition: { age: lifecycle.coldlineAfterDays, matchesStorageClasses: ["STANDARD", "NEARLINE"], withState: "LIVE" },
    });
  }
  if (lifecycle.deleteAfterDays > 0) {
    rules.push({ action: { type: "Delete" }, condition: { age: lifecycle.deleteAfterDays, withState: "LIVE" } });
  }
  rules.push(
    { action: { type: "Delete" }, condition: { daysSinceNoncurrentTime: lifecycle.noncurrentDeleteAfterDays, withState: "ARCHIVED" } },
    { action: { type: "AbortIncompleteMultipartUpload" }, condition: { age: 1 } },
  );
  return rules;
}

/**
 * The GCS bucket backups go to: regional, uniform bucket-level access, public access prevention
 * enforced, object versioning on, lifecycle rules, soft delete as configured, and write access for
 * the backup job's service account only (on the bucket, not the project). Kept on destroy by default.
 */
export class BackupBucket extends pulumi.ComponentResource {
  readonly bucket: gcp.storage.Bucket;
  readonly url: pulumi.Output<string>;

  constructor(name: string, args: BackupBucketArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mixstack:gcp:BackupBucket", name, {}, opts);
    this.bucket = new gcp.storage.Bucket(
      `${name}-bucket`,
      {
        name: args.bucketName,
        location: args.region,
        storageClass: "STANDARD",
        uniformBucketLevelAccess: true,
        publicAccessPrevention: "enforced",
        versioning: { enabled: true },
        lifecycleRules: backupLifecycleRules(args.lifecycle),
        softDeletePolicy: { retentionDurationSeconds: args.lifecycle.softDeleteDays * 86_400 },
        forceDestroy: false,
        labels: args.labels,
      },
      { parent: this, retainOnDelete: args.keepOnDestroy },
    );
    for (const writer of args.writers) {
      // objectUser: create, read, list and delete objects (the agent prunes old backups); no IAM or bucket changes.
      new gcp.storage.BucketIAMMember(
        `${name}-${writer.owner}-writer`,
        { bucket: this.bucket.name, role: "roles/storage.objectUser", member: pulumi.interpolate`serviceAccount:${writer.email}` },
        { parent: this },
      );
    }
    this.url = pulumi.interpolate`gs://${this.bucket.name}/${BACKUP_PREFIX}`;
    this.registerOutputs({ url: this.url });
  }
}
