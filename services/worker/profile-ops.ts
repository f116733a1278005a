import {
  groupMember,
  profileOperations,
  redisKeys,
  type GroupUpdate,
  type JsonValue,
  type ProfileOperation,
  type ProfileOps,
  type ProfileUpdate,
} from "../core/queue";

/**
 * Mixpanel's profile operations (reference §3.2, §5.16-17), the pure part: which operations an
 * update carries, in which order, with values already JSON-encoded for `profile-store.ts`, whose Lua
 * script applies them atomically. Choices where Mixpanel's docs are silent:
 * - several operations in one update are applied in the order `$set_once, $set, $add, $append,
 *   $union, $remove, $unset`; `$delete` is applied alone (the other operations of that update are not);
 * - `$add` skips values that are not finite numbers, and skips a property that holds a non-number
 *   (the existing value is kept, nothing is overwritten);
 * - `$union` accepts a single value as a one-element list; `$union`/`$append` on a non-list value
 *   turn it into a list; `$remove` on a non-list value does nothing;
 * - `$append` is not applied to groups (Mixpanel does not support it there);
 * - `$unset` and `$remove` never create a profile; the other operations do;
 * - `$last_seen` ("Updated at") is set to the update's time unless `$ignore_time`, and only moves forward.
 */

export type ProfileKind = "user" | "group";

export interface ProfileTarget {
  kind: ProfileKind;
  /** The Redis hash holding the profile. */
  key: string;
  /** The member of the index set (`mx:profiles` / `mx:groups`). */
  member: string;
  /** distinct id or group id, as written to `profile_updates`. */
  id: string;
  groupKey?: string;
}

export function targetOf(kind: "engage", update: ProfileUpdate): ProfileTarget;
export function targetOf(kind: "groups", update: GroupUpdate): ProfileTarget;
export function targetOf(kind: "engage" | "groups", update: ProfileUpdate | GroupUpdate): ProfileTarget {
  if (kind === "engage") {
    const { distinctId } = update as ProfileUpdate;
    return { kind: "user", key: redisKeys.profile(distinctId), member: distinctId, id: distinctId };
  }
  const { groupKey, groupId } = update as GroupUpdate;
  return { kind: "group", key: redisKeys.groupProfile(groupKey, groupId), member: groupMember(groupKey, groupId), id: groupId, groupKey };
}

export function indexKeyOf(kind: ProfileKind): string {
  return kind === "user" ? redisKeys.profileIndex : redisKeys.groupIndex;
}

/** Why an `engage`/`groups` item cannot be applied; undefined when it can. */
export function invalidProfileItem(kind: "engage" | "groups", item: unknown): string | undefined {
  if (typeof item !== "object" || item === null || Array.isArray(item)) return "item is not an object";
  const update = item as Partial<ProfileUpdate & GroupUpdate>;
  if (kind === "engage" && (typeof update.distinctId !== "string" || update.distinctId === "")) return "distinctId is missing";
  if (kind === "groups") {
    if (typeof update.groupKey !== "string" || update.groupKey === "") return "groupKey is missing";
    if (typeof update.groupId !== "string" || update.groupId === "") return "groupId is missing";
  }
  if (typeof update.time !== "number" || !Number.isFinite(update.time)) return "time is not a number";
  if (typeof update.ops !== "object" || update.ops === null || Array.isArray(update.ops)) return "ops are not an object";
  return undefined;
}

/** One operation with its property/value pairs, values JSON-encoded (`$add`: the number; `$unset`: ""). */
export interface PlannedOperation {
  op: ProfileOperation;
  pairs: Array<[property: string, value: string]>;
}

function isObject(value: unknown): value is Record<string, JsonValue> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function pairsOf(op: Exclude<ProfileOperation, "$delete">, value: unknown, kind: ProfileKind): Array<[string, string]> {
  if (op === "$unset") {
    const names = Array.isArray(value) ? value : typeof value === "string" ? [value] : isObject(value) ? Object.keys(value) : [];
    return names.filter((name): name is string => typeof name === "string").map((name) => [name, ""]);
  }
  if (!isObject(value)) return [];
  if (op === "$append" && kind === "group") return [];
  const pairs: Array<[string, string]> = [];
  for (const [property, raw] of Object.entries(value)) {
    if (op === "$add") {
      if (typeof raw === "number" && Number.isFinite(raw)) pairs.push([property, String(raw)]);
    } else if (op === "$union") {
      pairs.push([property, JSON.stringify(Array.isArray(raw) ? raw : [raw])]);
    } else {
      pairs.push([property, JSON.stringify(raw)]);
    }
  }
  return pairs;
}

/** The operations of one update in the order they are applied; operations with nothing to do are left out. */
export function planOperations(ops: ProfileOps, kind: ProfileKind): PlannedOperation[] {
  if (ops.$delete !== undefined) return [{ op: "$delete", pairs: [] }];
  const planned: PlannedOperation[] = [];
  for (const op of profileOperations) {
    if (ops[op] === undefined) continue;
    const pairs = pairsOf(op, ops[op], kind);
    if (pairs.length > 0) planned.push({ op, pairs });
  }
  return planned;
}

/** Mixpanel's date format for profile times: `YYYY-MM-DDTHH:MM:SS`, UTC, JSON-encoded for the hash. */
export function lastSeenValue(time: number): string {
  return JSON.stringify(new Date(time).toISOString().slice(0, 19));
}

export interface PlannedUpdate {
  /** Index of the item in its stream entry (stable across re-deliveries). */
  index: number;
  target: ProfileTarget;
  time: number;
  operations: PlannedOperation[];
  /** `$last_seen` to set after the operations, or undefined (`$ignore_time`, `$delete`). */
  lastSeen?: string;
}

/** Updates of one entry in `$time` order (arrival order for equal times). */
export function planUpdates(kind: "engage" | "groups", items: ReadonlyArray<ProfileUpdate | GroupUpdate>, indexes: readonly number[]): PlannedUpdate[] {
  const planned = items.map((item, position): PlannedUpdate => {
    const target = kind === "engage" ? targetOf("engage", item as ProfileUpdate) : targetOf("groups", item as GroupUpdate);
    const operations = planOperations(item.ops, target.kind);
    const deletes = operations.some((operation) => operation.op === "$delete");
    return {
      index: indexes[position]!,
      target,
      time: item.time,
      operations,
      lastSeen: item.ignoreTime || deletes || operations.length === 0 ? undefined : lastSeenValue(item.time),
    };
  });
  return planned.map((update, position) => ({ update, position })).sort((a, b) => a.update.time - b.update.time || a.position - b.position).map(({ update }) => update);
}

/**
 * The flat instruction list the Lua script reads after its two fixed arguments:
 * `U <member>` starts an update (its hash is the next key), `O <op> <n> (<property> <value>)×n` applies
 * one operation, `L <json time>` sets `$last_seen`.
 */
export function scriptInstructions(updates: readonly PlannedUpdate[]): { keys: string[]; args: string[] } {
  const keys: string[] = [];
  const args: string[] = [];
  for (const update of updates) {
    keys.push(update.target.key);
    args.push("U", update.target.member);
    for (const operation of update.operations) {
      args.push("O", operation.op, String(operation.pairs.length));
      for (const [property, value] of operation.pairs) args.push(property, value);
    }
    if (update.lastSeen !== undefined) args.push("L", update.lastSeen);
  }
  return { keys, args };
}

/** Parses a stored profile hash (property -> JSON) into an object; tests and exports read profiles this way. */
export function parseProfile(hash: Record<string, string>): Record<string, JsonValue> {
  return Object.fromEntries(Object.entries(hash).map(([property, json]) => [property, JSON.parse(json) as JsonValue]));
}
