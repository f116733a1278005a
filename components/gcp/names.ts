import { slug, stackHash } from "../translate/names";

/**
 * Names of the stack's resources on GCP, all derived from one prefix. The prefix is at most 20
 * characters because service account IDs (`<prefix>-<service>`) are limited to 30, and every other
 * limit (Cloud Run 49, firewall rules, disks and subnets 63, bucket 63 with the project ID) then holds.
 */

export const MAX_PREFIX = 20;

/**
 * `mixstack-<stack>` when the stack name is already a slug and fits, else a shortened form with a
 * hash of the stack name (stable): a lossy slug (`Prod`, `dev.eu`) must not give another stack's names.
 */
export function gcpNamePrefix(stack: string, given?: string): string {
  if (given) return given;
  // The stack slug with runs of dashes made one (shorter, within the 20 characters).
  const short = slug(stack).replace(/-{2,}/g, "-");
  const full = `mixstack-${short}`;
  if (short === stack && full.length <= MAX_PREFIX) return full;
  const hash = stackHash(stack, 4);
  return `mx-${short.slice(0, MAX_PREFIX - 8).replace(/-+$/, "")}-${hash}`;
}

export interface GcpNames {
  prefix: string;
  /** `<prefix>-<parts>`: VPC, subnets, firewall rules, disks, secrets, Cloud Run services and jobs. */
  of(...parts: string[]): string;
  /** Service account ID (6-30 characters). */
  serviceAccount(owner: string): string;
  /** Network tag of a workload: firewall rules name their sources and targets by it. */
  tag(owner: string): string;
  /** Globally unique: project IDs are unique, so `<project>-<prefix>-backups` is too. */
  backupBucket(project: string): string;
  /** Device name of a data disk inside the VM: `/dev/disk/by-id/google-<device>`. */
  device(service: string, volume: string): string;
}

export function gcpNames(prefix: string): GcpNames {
  const join = (parts: string[]) => [prefix, ...parts].join("-");
  return {
    prefix,
    of: (...parts) => checked(join(parts), 63),
    serviceAccount: (owner) => checked(join([owner]), 30),
    tag: (owner) => checked(join([owner]), 63),
    backupBucket: (project) => checked(`${project}-${prefix}-backups`, 63),
    device: (service, volume) => `${service}-${volume}`,
  };
}

function checked(name: string, limit: number): string {
  if (name.length > limit) throw new Error(`GCP name ${name} is longer than ${limit} characters; choose a shorter mixstack:gcp.namePrefix`);
  return name;
}

/** Labels on every resource (lowercase letters, digits, `-`, `_`; at most 63 characters). */
export function labelValue(value: string): string {
  return value.toLowerCase().replace(/[^a-z0-9_-]/g, "-").slice(0, 63);
}
