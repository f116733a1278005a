import { createHash } from "node:crypto";
import type { JsonValue } from "../core/queue";

/**
 * A `$insert_id` for an event that came without one (the Node SDK never sends it): a hash of the
 * event's content, so that the same event sent twice gets the same id and is stored once downstream.
 * Key order does not matter (canonical JSON); 32 hex characters fit Mixpanel's strict `/import`
 * rule (at most 36 of `[A-Za-z0-9-]`).
 */
export function contentInsertId(event: string, timeMs: number, distinctId: string, properties: JsonValue): string {
  return createHash("sha256")
    .update(`${event}\u0000${timeMs}\u0000${distinctId}\u0000`)
    .update(canonicalJson(properties))
    .digest("hex")
    .slice(0, 32);
}

/** JSON with object keys sorted, so that equal content gives equal text. */
export function canonicalJson(value: JsonValue): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value);
  if (Array.isArray(value)) {
    let out = "[";
    for (let index = 0; index < value.length; index++) {
      if (index > 0) out += ",";
      out += canonicalJson(value[index]!);
    }
    return `${out}]`;
  }
  const keys = Object.keys(value).sort();
  let out = "{";
  for (let index = 0; index < keys.length; index++) {
    const key = keys[index]!;
    if (index > 0) out += ",";
    out += `${JSON.stringify(key)}:${canonicalJson(value[key]!)}`;
  }
  return `${out}}`;
}
