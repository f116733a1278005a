import { z } from "zod";
import { field } from "../../config/fields";

/**
 * `mixstack:gcp`: where and how the stack lands on Google Cloud (`platform: gcp`). Sizes of the
 * services themselves (memory, CPUs, instances) stay in the platform-neutral sections.
 */

const projectId = z
  .string()
  .regex(/^[a-z][a-z0-9-]{4,28}[a-z0-9]$/, { message: "expected a GCP project ID (6-30 lowercase letters, digits, hyphens)" });

const region = z.string().regex(/^[a-z]+-[a-z]+\d+$/, { message: 'expected a GCP region such as "europe-west1"' });

/** Private IPv4 blocks (RFC 1918) the network plan can carve: a /16 to a /20. */
const privateCidr = z
  .string()
  .regex(/^(10\.\d{1,3}|172\.(1[6-9]|2\d|3[01])|192\.168)\.\d{1,3}\.\d{1,3}\/(1[6-9]|20)$/, {
    message: "expected a private IPv4 block from /16 to /20, e.g. 10.42.0.0/16",
  })
  .refine((cidr) => cidrIsAligned(cidr), { message: "expected the network address of the block (host bits zero)" });

function cidrIsAligned(cidr: string): boolean {
  const [address, bits] = cidr.split("/");
  const octets = address!.split(".").map(Number);
  if (octets.some((octet) => octet > 255)) return false;
  const value = octets.reduce((sum, octet) => sum * 256 + octet, 0);
  return value % 2 ** (32 - Number(bits)) === 0;
}

export const gcpSection = z
  .strictObject({
    project: projectId.describe("GCP project ID the stack deploys into (required)"),
    region: region.describe('region of Cloud Run, the VM, Artifact Registry, the bucket and the secrets, e.g. "europe-west1" (required)'),
    zone: z
      .string()
      .regex(/^[a-z]+-[a-z]+\d+-[a-z]$/, { message: 'expected a GCP zone such as "europe-west1-b"' })
      .optional()
      .describe("zone of the VM and its data disks (default <region>-b)"),
    namePrefix: z
      .string()
      .regex(/^[a-z][a-z0-9-]{1,18}[a-z0-9]$/, {
        message: "expected 3-20 lowercase letters, digits and hyphens, starting with a letter (it prefixes service account IDs, limited to 30 characters)",
      })
      .optional()
      .describe("prefix of every resource name (default mixstack-<stack>, shortened to 20 characters)"),
    networkCidr: privateCidr
      .default("10.42.0.0/16")
      .describe("private block of the stack's VPC: the VM subnet and one Direct VPC egress subnet per Cloud Run workload are carved from it (default 10.42.0.0/16)"),
    machineType: z
      .string()
      .regex(/^[a-z0-9]+-[a-z0-9-]+$/, { message: 'expected a machine type such as "e2-standard-2"' })
      .default("e2-standard-2")
      .describe("machine type of the VM that runs InfluxDB and the queue; must hold both memory limits (default e2-standard-2: 2 vCPUs, 8 GB)"),
    osImage: z
      .string()
      .regex(/^cos-cloud\/cos-[a-z0-9-]+$/, { message: 'expected a Container-Optimized OS image or family, e.g. "cos-cloud/cos-stable"' })
      .default("cos-cloud/cos-stable")
      .describe("boot image of the VM: a COS family (follows its releases) or an exact image (default cos-cloud/cos-stable)"),
    bootDiskGb: field.int(20, 10).describe("boot disk size in GB; holds the pulled images (default 20)"),
    diskType: z
      .enum(["pd-balanced", "pd-ssd", "pd-standard"])
      .default("pd-balanced")
      .describe("type of the data disks; InfluxDB wants SSD-backed storage (default pd-balanced)"),
    snapshots: z
      .strictObject({
        enabled: field.flag(true).describe("daily snapshots of the data disks (default true)"),
        hourUtc: field.int(4, 0, 23).describe("hour (UTC) the daily snapshot starts (default 4, after the 03:00 backup)"),
        retentionDays: field.int(14, 1).describe("days a snapshot is kept (default 14)"),
      })
      .prefault({})
      .describe("persistent-disk snapshot schedule: a crash-consistent second line behind the backups"),
    iapSsh: field
      .flag(false)
      .describe("allow SSH to the VM through Identity-Aware Proxy (35.235.240.0/20) for operators (default false)"),
    backupBucket: z
      .strictObject({
        nearlineAfterDays: field.int(30, 0).describe("move backups to Nearline after this many days; 0 never (default 30)"),
        coldlineAfterDays: field.int(90, 0).describe("move backups to Coldline after this many days; 0 never (default 90)"),
        deleteAfterDays: field
          .int(365, 0)
          .describe("delete a backup this many days after it was written, like AWS's expireDays; 0 never (default 365; the backup agent's own retention usually deletes it sooner)"),
        noncurrentDeleteAfterDays: field
          .int(30, 1)
          .describe("days a deleted or overwritten backup object stays recoverable as a noncurrent version (default 30)"),
        softDeleteDays: field
          .int(7, 0, 90)
          .describe("GCS soft-delete window in days, 0 disables it (7 to 90 otherwise; default 7)"),
      })
      .prefault({})
      .describe("lifecycle of the backup bucket"),
    backupTimeoutMinutes: field.int(360, 10, 1440).describe("time limit of one backup job run (default 360)"),
    memorystore: z
      .strictObject({
        nodeType: z
          .enum(["SHARED_CORE_NANO", "STANDARD_SMALL", "HIGHMEM_MEDIUM", "HIGHMEM_XLARGE"])
          .default("SHARED_CORE_NANO")
          .describe("Memorystore for Valkey node type when queue.managed is true (default SHARED_CORE_NANO)"),
        replicas: field.int(1, 0, 5).describe("read replicas in other zones (failover) when queue.managed is true (default 1)"),
      })
      .prefault({})
      .describe("the managed queue (queue.managed: true)"),
    enableApis: field
      .flag(true)
      .describe("enable the Google APIs the stack uses (compute, run, artifactregistry, ...); false when your project is managed elsewhere (default true)"),
  })
  .superRefine((section, context) => {
    if (section.zone && !section.zone.startsWith(`${section.region}-`)) {
      context.addIssue({ code: "custom", path: ["zone"], message: `expected a zone of region ${section.region}`, input: section.zone });
    }
    const bucket = section.backupBucket;
    if (bucket.coldlineAfterDays > 0 && bucket.coldlineAfterDays <= bucket.nearlineAfterDays) {
      context.addIssue({ code: "custom", path: ["backupBucket", "coldlineAfterDays"], message: `expected more days than nearlineAfterDays (${bucket.nearlineAfterDays})`, input: bucket.coldlineAfterDays });
    }
    const colder = Math.max(bucket.nearlineAfterDays, bucket.coldlineAfterDays);
    if (bucket.deleteAfterDays > 0 && bucket.deleteAfterDays <= colder) {
      context.addIssue({ code: "custom", path: ["backupBucket", "deleteAfterDays"], message: `expected 0 (never) or more days than the colder classes' (${colder})`, input: bucket.deleteAfterDays });
    }
    if (bucket.softDeleteDays > 0 && bucket.softDeleteDays < 7) {
      context.addIssue({ code: "custom", path: ["backupBucket", "softDeleteDays"], message: "expected 0 (off) or 7 to 90 days (GCS limits)", input: bucket.softDeleteDays });
    }
  });

export type GcpConfig = z.output<typeof gcpSection>;
