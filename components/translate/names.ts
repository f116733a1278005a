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
