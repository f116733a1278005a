import { describe, expect, it } from "vitest";
import { backupLifecycleRules } from "../../components/gcp/backup-bucket";
import { ConfigError, parseStackConfig } from "../../config/load";
import { pulumiConfig } from "../pulumi/mocks";
import { gcpConfig } from "./support";

function problems(values: Record<string, unknown>): string[] {
  const raw = pulumiConfig({ values });
  try {
    parseStackConfig({ stack: "prod", values: raw.config, secretKeys: new Set() });
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).file).toBe("stacks/Pulumi.prod.yaml");
    return (error as ConfigError).problems.map((p) => `${p.key}: ${p.message}`);
  }
  throw new Error("the config was accepted");
}

describe("the gcp section of the stack config", () => {
  it("applies every default to a section that only names the project and region", () => {
    expect(gcpConfig().gcp).toEqual({
      project: "acme-analytics",
      region: "europe-west1",
      networkCidr: "10.42.0.0/16",
      machineType: "e2-standard-2",
      osImage: "cos-cloud/cos-stable",
      bootDiskGb: 20,
      diskType: "pd-balanced",
      snapshots: { enabled: true, hourUtc: 4, retentionDays: 14 },
      iapSsh: false,
      backupBucket: { nearlineAfterDays: 30, coldlineAfterDays: 90, deleteAfterDays: 365, noncurrentDeleteAfterDays: 30, softDeleteDays: 7 },
      backupTimeoutMinutes: 360,
      memorystore: { nodeType: "SHARED_CORE_NANO", replicas: 1 },
      enableApis: true,
    });
    expect(gcpConfig().queue.managed).toBe(false);
  });

  it.each([
    ["no project or region", { platform: "gcp" }, ["mixstack:gcp.project: is required", "mixstack:gcp.region: is required"]],
    ["a project ID with capitals", { platform: "gcp", gcp: { project: "Acme", region: "europe-west1" } }, ['mixstack:gcp.project: expected a GCP project ID (6-30 lowercase letters, digits, hyphens), got "Acme"']],
    ["a zone of another region", { platform: "gcp", gcp: { project: "acme-analytics", region: "europe-west1", zone: "us-central1-a" } }, ['mixstack:gcp.zone: expected a zone of region europe-west1, got "us-central1-a"']],
    ["a public network block", { platform: "gcp", gcp: { project: "acme-analytics", region: "europe-west1", networkCidr: "8.8.0.0/16" } }, ['mixstack:gcp.networkCidr: expected a private IPv4 block from /16 to /20, e.g. 10.42.0.0/16, got "8.8.0.0/16"']],
    ["a block with host bits", { platform: "gcp", gcp: { project: "acme-analytics", region: "europe-west1", networkCidr: "10.42.1.0/16" } }, ['mixstack:gcp.networkCidr: expected the network address of the block (host bits zero), got "10.42.1.0/16"']],
    ["a prefix too long for service account IDs", { platform: "gcp", gcp: { project: "acme-analytics", region: "europe-west1", namePrefix: "a-very-long-prefix-indeed" } }, [expect.stringMatching(/^mixstack:gcp.namePrefix: expected 3-20 lowercase letters/)]],
    ["a snapshot hour out of range", { platform: "gcp", gcp: { project: "acme-analytics", region: "europe-west1", snapshots: { hourUtc: 24 } } }, [expect.stringMatching(/^mixstack:gcp.snapshots.hourUtc: .*23/)]],
    ["Coldline before Nearline", { platform: "gcp", gcp: { project: "acme-analytics", region: "europe-west1", backupBucket: { nearlineAfterDays: 60, coldlineAfterDays: 30 } } }, ["mixstack:gcp.backupBucket.coldlineAfterDays: expected more days than nearlineAfterDays (60), got 30"]],
    ["expiry before the colder classes", { platform: "gcp", gcp: { project: "acme-analytics", region: "europe-west1", backupBucket: { deleteAfterDays: 60 } } }, ["mixstack:gcp.backupBucket.deleteAfterDays: expected 0 (never) or more days than the colder classes' (90), got 60"]],
    ["a soft-delete window GCS refuses", { platform: "gcp", gcp: { project: "acme-analytics", region: "europe-west1", backupBucket: { softDeleteDays: 3 } } }, ["mixstack:gcp.backupBucket.softDeleteDays: expected 0 (off) or 7 to 90 days (GCS limits), got 3"]],
    ["a backup target the Cloud Run job cannot write to", { platform: "gcp", gcp: { project: "acme-analytics", region: "europe-west1" }, backup: { target: "s3://bucket/mixstack" } }, ['mixstack:backup.target: the GCP backup job writes to GCS only: expected gs://bucket/prefix, or leave it unset for the stack\'s own bucket (got "s3://bucket/mixstack")']],
    ["an external InfluxDB without its admin password", { platform: "gcp", gcp: { project: "acme-analytics", region: "europe-west1" }, influxdb: { external: { url: "https://influx.example.com" } } }, [expect.stringMatching(/^mixstack:influxAdminPassword: is required with influxdb.external/)]],
    ["an unknown key", { platform: "gcp", gcp: { project: "acme-analytics", region: "europe-west1", publicIp: true } }, [expect.stringMatching(/^mixstack:gcp.publicIp: unknown key \(known keys: project, region, zone, /)]],
  ])("rejects %s with a message naming the key", (_case, values, expected) => {
    expect(problems(values)).toEqual(expected);
  });
});

describe("backup bucket lifecycle rules", () => {
  it.each([
    ["both colder classes and expiry", { nearlineAfterDays: 30, coldlineAfterDays: 90, deleteAfterDays: 365 }, ["SetStorageClass:NEARLINE@30", "SetStorageClass:COLDLINE@90", "Delete:LIVE@365", "Delete:noncurrent@14", "AbortIncompleteMultipartUpload@1"]],
    ["Coldline only, no expiry", { nearlineAfterDays: 0, coldlineAfterDays: 60, deleteAfterDays: 0 }, ["SetStorageClass:COLDLINE@60", "Delete:noncurrent@14", "AbortIncompleteMultipartUpload@1"]],
    ["no class changes, expiry", { nearlineAfterDays: 0, coldlineAfterDays: 0, deleteAfterDays: 40 }, ["Delete:LIVE@40", "Delete:noncurrent@14", "AbortIncompleteMultipartUpload@1"]],
  ])("with %s", (_case, classes, expected) => {
    const rules = backupLifecycleRules({ ...classes, noncurrentDeleteAfterDays: 14, softDeleteDays: 7 }) as Array<{ action: { type: string; storageClass?: string }; condition: { age?: number; daysSinceNoncurrentTime?: number; withState?: string } }>;
    const described = rules.map((r) =>
      r.condition.daysSinceNoncurrentTime !== undefined
        ? `${r.action.type}:noncurrent@${r.condition.daysSinceNoncurrentTime}`
        : `${r.action.type}${r.action.storageClass ? `:${r.action.storageClass}` : ""}${r.action.type === "Delete" ? `:${r.condition.withState}` : ""}@${r.condition.age}`,
    );
    expect(described).toEqual(expected);
  });
});
