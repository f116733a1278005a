import type { GroupUpdate, JsonObject, JsonValue, ProfileOps, ProfileUpdate } from "../core/queue";
import { normaliseAddress } from "./client-ip";
import type { GeoLocation, GeoLookup } from "./geo";
import { cleanName, cleanProperties, isPlainObject, truncate } from "./properties";
import { Rejection } from "./rejection";
import type { Limits } from "./settings";
import { beforeHistory, EARLIEST_EVENT_MS, historyFloor, toEpochMs } from "./time";

/**
 * Turns one `/engage` or `/groups` update into the `ProfileUpdate`/`GroupUpdate` the worker applies
 * (spec §3.2, §3.3, §5 items 15–17). Several operations in one object are accepted (the worker
 * applies them in a fixed order); `$delete` stands alone. Values are cleaned like event properties.
 */

export interface ProfileContext {
  tokens: ReadonlySet<string>;
  now: number;
  limits: Limits;
  /** Geolocation of the request address when `ip` is on (the default for profiles). */
  requestLocation: () => GeoLocation | undefined;
  lookup: GeoLookup;
}

const OPERATIONS = ["$set", "$set_once", "$add", "$append", "$union", "$remove", "$unset", "$delete"] as const;

export function normaliseProfileUpdate(raw: unknown, context: ProfileContext): ProfileUpdate | Rejection {
  if (!isPlainObject(raw)) return new Rejection("not_object", "", "a profile update must be an object");
  const token = tokenProblem(raw.$token, context);
  if (token) return token;
  const distinctId = idValue(raw.$distinct_id, context.limits);
  if (distinctId === undefined) return new Rejection("missing_distinct_id", "$distinct_id", "missing or empty", { label: "Engage API error: $distinct_id" });
  const common = updateCommon(raw, context, "user");
  if (common instanceof Rejection) return common;
  return { distinctId, ...common };
}

export function normaliseGroupUpdate(raw: unknown, context: ProfileContext): GroupUpdate | Rejection {
  if (!isPlainObject(raw)) return new Rejection("not_object", "", "a group update must be an object");
  const token = tokenProblem(raw.$token, context);
  if (token) return token;
  const groupKey = typeof raw.$group_key === "string" ? cleanName(raw.$group_key, context.limits.maxStringLength) : "";
  if (groupKey.trim() === "") return new Rejection("missing_group_key", "$group_key", "missing or empty");
  const groupId = idValue(raw.$group_id, context.limits);
  if (groupId === undefined) return new Rejection("missing_group_id", "$group_id", "missing or empty");
  if (raw.$append !== undefined) return new Rejection("unsupported_operation", "$append", "is not supported on groups");
  const common = updateCommon(raw, context, "group");
  if (common instanceof Rejection) return common;
  return { groupKey, groupId, ...common };
}

function tokenProblem(value: unknown, context: ProfileContext): Rejection | undefined {
  if (value === undefined || value === null || value === "") return new Rejection("missing_token", "$token", "missing or empty");
  if (typeof value !== "string" || !context.tokens.has(value)) return new Rejection("unknown_token", "$token", "is not a project token of this server");
  return undefined;
}

/** Ids may be numbers (Node users pass them); `""` and non-scalars are missing. */
function idValue(value: unknown, limits: Limits): string | undefined {
  if (typeof value === "number" && Number.isFinite(value)) return String(value);
  if (typeof value !== "string" || value === "") return undefined;
  return truncate(value, limits.maxStringLength);
}

function updateCommon(
  raw: Record<string, unknown>,
  context: ProfileContext,
  kind: "user" | "group",
): { time: number; ignoreTime: boolean; ops: ProfileOps } | Rejection {
  let time = context.now;
  if (raw.$time !== undefined && raw.$time !== null && raw.$time !== "") {
    const ms = toEpochMs(raw.$time);
    if (ms === undefined || ms < EARLIEST_EVENT_MS) return new Rejection("bad_time", "$time", "not a time in seconds or milliseconds after 1971");
    // Each applied operation is a `profile_updates` point at this time: old ones would open shards too.
    const floor = historyFloor(context.limits.history, context.now);
    if (ms < floor) return beforeHistory(floor, "$time");
    time = Math.min(ms, context.now);
  }
  const ignoreTime = raw.$ignore_time === true || raw.$ignore_time === "true" || raw.$ignore_time === 1;
  const ops = operations(raw, context.limits);
  if (ops instanceof Rejection) return ops;
  if (Object.keys(ops).length === 0) {
    if (raw.$add !== undefined) return new Rejection("bad_operation", "$add", "values must be numbers");
    return new Rejection("missing_operation", "", `no operation: expected one of ${OPERATIONS.join(", ")}`);
  }
  // Profiles are geolocated like Mixpanel's; groups are not.
  if (!ops.$delete && kind === "user") addLocation(ops, raw.$ip, context);
  return { time, ignoreTime, ops };
}

function operations(raw: Record<string, unknown>, limits: Limits): ProfileOps | Rejection {
  // `$delete` removes the whole profile; other operations beside it would be undone at once.
  if (raw.$delete !== undefined) return { $delete: true };
  const ops: ProfileOps = {};
  for (const name of ["$set", "$set_once"] as const) {
    if (raw[name] === undefined) continue;
    const value = objectOperand(raw[name], name, limits);
    if (value instanceof Rejection) return value;
    ops[name] = value;
  }
  if (raw.$add !== undefined) {
    const value = objectOperand(raw.$add, "$add", limits);
    if (value instanceof Rejection) return value;
    // Mixpanel skips non-numeric increments (the Node SDK drops them too); numeric strings count.
    const numbers: Record<string, number> = {};
    for (const [key, amount] of Object.entries(value)) {
      const number = typeof amount === "number" ? amount : typeof amount === "string" && amount.trim() !== "" ? Number(amount) : NaN;
      if (Number.isFinite(number)) numbers[key] = number;
    }
    if (Object.keys(numbers).length > 0) ops.$add = numbers;
  }
  for (const name of ["$append", "$remove"] as const) {
    if (raw[name] === undefined) continue;
    const value = objectOperand(raw[name], name, limits);
    if (value instanceof Rejection) return value;
    ops[name] = value;
  }
  if (raw.$union !== undefined) {
    const value = objectOperand(raw.$union, "$union", limits);
    if (value instanceof Rejection) return value;
    // A scalar is a one-item list (the Node SDK wraps them; raw API users may not).
    const lists: Record<string, JsonValue[]> = {};
    for (const [key, list] of Object.entries(value)) lists[key] = Array.isArray(list) ? list : [list];
    ops.$union = lists;
  }
  if (raw.$unset !== undefined) {
    const names = Array.isArray(raw.$unset) ? raw.$unset : [raw.$unset];
    if (names.length > limits.maxProperties) return new Rejection("too_many_properties", "$unset", `more than ${limits.maxProperties} names`);
    const cleaned: string[] = [];
    for (const name of names) {
      if (typeof name !== "string") return new Rejection("bad_operation", "$unset", "must be a list of property names");
      const key = cleanName(name, limits.maxStringLength);
      if (key !== "") cleaned.push(key);
    }
    if (cleaned.length > 0) ops.$unset = cleaned;
  }
  return ops;
}

function objectOperand(value: unknown, name: string, limits: Limits): JsonObject | Rejection {
  if (!isPlainObject(value)) return new Rejection("bad_operation", name, "must be an object of property names to values");
  const cleaned = cleanProperties(value, limits, name);
  if (cleaned instanceof Rejection) return cleaned;
  if (cleaned.bytes > limits.maxEventBytes) return new Rejection("too_large", name, `update is larger than ${limits.maxEventBytes} bytes`);
  return cleaned.value;
}

/**
 * Geolocation of a profile update becomes `$set` of `$city`, `$region`, `$country_code` and
 * `$timezone` (Mixpanel's profile properties), never overriding values the update sets itself.
 * `$ip` wins over the request address; `"0"` turns it off.
 */
function addLocation(ops: ProfileOps, ip: unknown, context: ProfileContext): void {
  let location: GeoLocation | undefined;
  if (ip === undefined || ip === null || ip === "") location = context.requestLocation();
  else if (ip !== "0" && ip !== 0 && typeof ip === "string") {
    const address = normaliseAddress(ip);
    location = address ? context.lookup(address) : undefined;
  }
  if (!location) return;
  const set: JsonObject = { ...(ops.$set ?? {}) };
  if (location.city && set.$city === undefined) set.$city = location.city;
  if (location.region && set.$region === undefined) set.$region = location.region;
  if (location.countryCode && set.$country_code === undefined) set.$country_code = location.countryCode;
  if (location.timezone && set.$timezone === undefined) set.$timezone = location.timezone;
  ops.$set = set;
}
