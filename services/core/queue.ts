/**
 * The contract between `ingest` (producer), `worker` (consumer) and `backup` (exports the state):
 * Redis key names and the shape of one stream entry. Change it only with a new `v`.
 */

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

/** Every Redis key mixstack uses. All begin with `mx:` so that a shared Redis stays readable. */
export const redisKeys = {
  /** The ingest stream. Entries are deleted once written to InfluxDB, so its length is the backlog. */
  stream: "mx:stream",
  /** The consumer group all workers share. */
  consumerGroup: "mx:writers",
  /** Entries that failed for good, with the reason (fields of the original entry + `reason`, `failed_at`, `deliveries`). */
  deadLetters: "mx:dlq",
  /** Hash device id -> user id (simplified ID merge; first user wins, HSETNX). */
  identityMap: "mx:idmap",
  /** Set of distinct ids that have a profile. */
  profileIndex: "mx:profiles",
  /** Hash property name -> JSON-encoded value for one user profile. */
  profile: (distinctId: string) => `mx:profile:${distinctId}`,
  /** Set of `groupMember(key, id)` strings that have a group profile. */
  groupIndex: "mx:groups",
  /** Hash property name -> JSON-encoded value for one group profile. */
  groupProfile: (groupKey: string, groupId: string) => `mx:group:${groupMember(groupKey, groupId)}`,
  /** Hash resolved distinct id -> UTC day (`YYYY-MM-DD`) of its earliest event seen by the worker (`user_type`). */
  firstSeen: "mx:first_seen",
  /** Marks a stream entry whose profile operations were applied (exactly-once effect on re-delivery). */
  applied: (entryId: string) => `mx:applied:${entryId}`,
  /** Set of the weeks of history (Monday-aligned, numbered from 1970) that ingest let events into (`MIXSTACK_NEW_WEEKS_PER_MINUTE`). */
  historyWeeks: "mx:weeks",
  /** New weeks let in during one clock minute (expires after two). */
  newWeeksOfMinute: (minute: number) => `mx:limits:new_weeks:${minute}`,
  /** Set of the names of one kind the worker let in: `event`, `property`, `tag:<tag key>` (daily budgets). */
  names: (kind: string) => `mx:names:${kind}`,
  /** New names of one kind let in on one UTC day (`YYYY-MM-DD`; expires after two days). */
  nameBudget: (kind: string, day: string) => `mx:budget:${kind}:${day}`,
  /** Hash UTC day (`YYYY-MM-DD`) -> version: days whose events changed since the rollup job computed them. */
  rollupReopened: "mx:rollup:reopened",
  /** Hash of the rollup job's progress (`first_day`, `closed_through`). */
  rollupState: "mx:rollup:state",
  /** One rollup job at a time among the workers (string with TTL). */
  rollupLock: "mx:rollup:lock",
} as const;

/** `key` is URI-encoded so that a `:` in a group key cannot make two groups share a name. */
export function groupMember(groupKey: string, groupId: string): string {
  return `${encodeURIComponent(groupKey)}:${groupId}`;
}

/**
 * Endings of the field names the worker makes for a property whose type changed (`plan:float`) or
 * whose name is one of its own columns (`time:property`); ingest refuses event properties whose
 * name ends in one, so that no client can take those names from the real properties.
 */
export const RESERVED_KEY_SUFFIXES: readonly string[] = [":float", ":integer", ":string", ":boolean", ":property"];

/** A tracked or imported event, validated and normalised by ingest. */
export interface EventItem {
  event: string;
  /** Event time, integer milliseconds since the epoch. */
  time: number;
  /** The `$insert_id` as sent, or generated deterministically from the content by ingest. */
  insertId: string;
  /** `distinct_id` as sent ("" means no user); the worker resolves identity. */
  distinctId: string;
  /**
   * Every other property, cleaned: `token`, `time`, `distinct_id`, `$insert_id` and `ip` removed,
   * geolocation (`$city`, `$region`, `mp_country_code`) added. `$device_id`/`$user_id` stay here.
   */
  properties: JsonObject;
}

/** Mixpanel profile operations, applied in this order by the worker (`$delete` alone). */
export const profileOperations = ["$set_once", "$set", "$add", "$append", "$union", "$remove", "$unset"] as const;
export type ProfileOperation = (typeof profileOperations)[number] | "$delete";

export interface ProfileOps {
  $set?: JsonObject;
  $set_once?: JsonObject;
  $add?: Record<string, number>;
  $append?: JsonObject;
  $union?: Record<string, JsonValue[]>;
  $remove?: JsonObject;
  $unset?: string[];
  $delete?: true;
}

/** One `/engage` update. */
export interface ProfileUpdate {
  distinctId: string;
  /** `$time` of the update in ms, else the time ingest received it. */
  time: number;
  /** `$ignore_time`: do not touch `$last_seen`. */
  ignoreTime: boolean;
  ops: ProfileOps;
}

/** One `/groups` update (`$append` is refused by ingest, as Mixpanel does). */
export interface GroupUpdate {
  groupKey: string;
  groupId: string;
  time: number;
  ignoreTime: boolean;
  ops: ProfileOps;
}

/** Ingest's own counters, flushed into the stream so Grafana can read them from InfluxDB. */
export interface StatsItem {
  measurement: string;
  tags: Record<string, string>;
  fields: Record<string, number>;
  time: number;
}

export interface EntryItems {
  track: EventItem[];
  import: EventItem[];
  engage: ProfileUpdate[];
  groups: GroupUpdate[];
  stats: StatsItem[];
}
export type EntryKind = keyof EntryItems;
export const entryKinds: readonly EntryKind[] = ["track", "import", "engage", "groups", "stats"];

/** One stream entry: the accepted items of one request (at most 2000), all of one kind. */
export type QueueEntry = { [K in EntryKind]: { kind: K; items: EntryItems[K]; received: number } }[EntryKind];

export const ENTRY_VERSION = "1";

/** The flat field map given to XADD. */
export function encodeEntry(entry: QueueEntry): Record<string, string> {
  return {
    v: ENTRY_VERSION,
    kind: entry.kind,
    received: String(entry.received),
    items: JSON.stringify(entry.items),
  };
}

/** Reads an entry back; a malformed one is returned as an Error for the dead-letter stream. */
export function decodeEntry(fields: Record<string, string>): QueueEntry | Error {
  if (fields.v !== ENTRY_VERSION) return new Error(`unsupported entry version ${JSON.stringify(fields.v)}`);
  if (!entryKinds.includes(fields.kind as EntryKind)) return new Error(`unknown entry kind ${JSON.stringify(fields.kind)}`);
  const received = Number(fields.received);
  if (!Number.isFinite(received)) return new Error(`bad received time ${JSON.stringify(fields.received)}`);
  let items: unknown;
  try {
    items = JSON.parse(fields.items ?? "");
  } catch (error) {
    return new Error(`items are not JSON: ${(error as Error).message}`);
  }
  if (!Array.isArray(items)) return new Error("items are not an array");
  return { kind: fields.kind, items, received } as QueueEntry;
}
