import type { EventItem, JsonValue } from "../core/queue";

/**
 * Mixpanel's simplified ID merge (reference §4.1), the pure part. The device -> user map lives in
 * Redis (`mx:idmap`, first user wins); `identity-store.ts` reads and writes it.
 */

export const DEVICE_PREFIX = "$device:";

/** A device seen together with a user: the first such pair for a device merges them. */
export interface MergePair {
  deviceId: string;
  userId: string;
  /** Time of the event that carried the pair (ms); the earliest pair of a device wins. */
  time: number;
}

/** Ids are strings; SDK users sometimes send numbers. Anything else (objects, booleans, "") is no id. */
function idOf(value: JsonValue | undefined): string | undefined {
  if (typeof value === "string") return value === "" ? undefined : value;
  if (typeof value === "number" && Number.isFinite(value)) return String(value);
  return undefined;
}

export function userIdOf(event: EventItem): string | undefined {
  return idOf(event.properties.$user_id);
}

/** `$device_id`, else the device named by a `$device:<id>` distinct_id. */
export function deviceIdOf(event: EventItem): string | undefined {
  const explicit = idOf(event.properties.$device_id);
  if (explicit) return explicit;
  if (event.distinctId.startsWith(DEVICE_PREFIX) && event.distinctId.length > DEVICE_PREFIX.length) {
    return event.distinctId.slice(DEVICE_PREFIX.length);
  }
  return undefined;
}

/**
 * The merges a batch asks for, earliest event first (SDK batches are not in time order), one per
 * device. `$identify`, `$create_alias` and `$merge` get no special treatment: only `$device_id` +
 * `$user_id` on one event merge (simplified ID merge ignores those events for identity).
 */
export function mergePairs(events: readonly EventItem[]): MergePair[] {
  const pairs: MergePair[] = [];
  for (const event of events) {
    const deviceId = idOf(event.properties.$device_id);
    const userId = userIdOf(event);
    if (deviceId && userId) pairs.push({ deviceId, userId, time: event.time });
  }
  pairs.sort((a, b) => a.time - b.time);
  const seen = new Set<string>();
  return pairs.filter((pair) => {
    if (seen.has(pair.deviceId)) return false;
    seen.add(pair.deviceId);
    return true;
  });
}

/** Devices whose user the batch needs to know. */
export function devicesToResolve(events: readonly EventItem[]): string[] {
  const devices = new Set<string>();
  for (const event of events) {
    if (userIdOf(event)) continue;
    const deviceId = deviceIdOf(event);
    if (deviceId) devices.add(deviceId);
  }
  return [...devices];
}

/**
 * The id an event is counted under: its `$user_id`; else a user id sent as `distinct_id` (any value
 * not starting with `$device:`, as Mixpanel reads it for backward compatibility); else the user its
 * device is merged into; else `$device:<device id>`; else "" (no user).
 */
export function resolveDistinctId(event: EventItem, userOfDevice: ReadonlyMap<string, string>): string {
  const userId = userIdOf(event);
  if (userId) return userId;
  if (event.distinctId !== "" && !event.distinctId.startsWith(DEVICE_PREFIX)) return event.distinctId;
  const deviceId = deviceIdOf(event);
  if (deviceId) return userOfDevice.get(deviceId) ?? `${DEVICE_PREFIX}${deviceId}`;
  return event.distinctId;
}
