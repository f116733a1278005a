import { createHash } from "node:crypto";

/** Names every platform derives the same way. */

/** `influxAdminPassword` → `influx-admin-password`, `REDIS_URL` → `redis-url`: resource-name parts of secrets and variables. */
export function kebab(name: string): string {
  return name
    .replace(/([a-z0-9])([A-Z])/g, "$1-$2")
    .replace(/_/g, "-")
    .toLowerCase();
}

/** A stack name as a DNS label and resource-name part: lowercase letters, digits and dashes, never empty. */
export function slug(stack: string): string {
  const slugged = stack
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, "-")
    .replace(/^-+|-+$/g, "");
  return slugged || "stack";
}

/**
 * The stack's part of a length-limited, lowercase name (a DNS label, an ECR path segment): the slug
 * with separator runs made one dash when that is the stack name itself and fits in `max`; else a cut
 * slug and a short hash of the stack name, so that two stacks never share it (`Prod` and `prod`,
 * `dev.eu` and `dev-eu`, two long names alike up to the cut).
 */
export function uniqueStackLabel(stack: string, max: number): string {
  const plain = slug(stack).replace(/-{2,}/g, "-");
  if (plain === stack && plain.length <= max) return plain;
  const hash = stackHash(stack, 6);
  return `${plain.slice(0, max - hash.length - 1).replace(/-+$/, "")}-${hash}`;
}

/** A stable short hash of the stack name (hex). */
export function stackHash(stack: string, length: number): string {
  return createHash("sha256").update(stack).digest("hex").slice(0, length);
}
