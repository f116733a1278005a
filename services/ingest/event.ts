import { RESERVED_KEY_SUFFIXES, type EventItem } from "../core/queue";
import { normaliseAddress } from "./client-ip";
import type { GeoLocation, GeoLookup } from "./geo";
import { contentInsertId } from "./insert-id";
import { cleanName, cleanProperties, isPlainObject, truncate } from "./properties";
import { quoteForMessage, Rejection } from "./rejection";
import type { Limits } from "./settings";
import { beforeHistory, EARLIEST_EVENT_MS, FUTURE_TOLERANCE_MS, historyFloor, toEpochMs } from "./time";

/**
 * Turns one event object of a `/track` or `/import` payload into the `EventItem` the worker
 * stores (spec §5 items 7–14), or says why it was refused. Pure: the clock, the geolocation and
 * the configuration come in through `EventContext`.
 */

export interface EventContext {
  route: "track" | "import";
  tokens: ReadonlySet<string>;
  /** `/import` with valid credentials: the project is known, so a missing `token` is fine. */
  authenticated: boolean;
  /** `/import?strict=1` (or a JSON body): Mixpanel's stricter validation. */
  strict: boolean;
  now: number;
  limits: Limits;
  /** Geolocation of the request address (`ip=1`), looked up at most once per request. */
  requestLocation: () => GeoLocation | undefined;
  /** For an event that names its own `ip` property. */
  lookup: GeoLookup;
  /** Store the event's `$ip` (`MIXSTACK_KEEP_IP`); by default it is dropped like `ip`. */
  keepIp?: boolean;
}

/** The event had a truthy `$ignore`: dropped on purpose, not an error. */
export const IGNORED = Symbol("ignored");

/** Properties handled here and not stored under their own name. */
const RESERVED = new Set(["token", "time", "distinct_id", "$insert_id", "ip"]);
/** An IP address is personal data: `$ip` is not stored either, unless the operator keeps it. */
const RESERVED_WITH_IP = new Set([...RESERVED, "$ip"]);

/** Strict `/import` refuses these as `distinct_id` ([docs] import-events). */
const PLACEHOLDER_IDS = new Set([
  "00000000-0000-0000-0000-000000000000", "anon", "anonymous", "nil", "none", "null", "n/a", "na",
  "undefined", "unknown", "<nil>", "0", "-1", "true", "false", "[]", "{}",
]);

const STRICT_INSERT_ID = /^[A-Za-z0-9-]{1,36}$/;

export function normaliseEvent(raw: unknown, context: EventContext): EventItem | Rejection | typeof IGNORED {
  const { limits } = context;
  if (!isPlainObject(raw)) return new Rejection("not_object", "", "an event must be an object with \"event\" and \"properties\"");

  if (typeof raw.event !== "string") {
    const got = raw.event === undefined || raw.event === null ? "missing" : `must be a string, got ${Array.isArray(raw.event) ? "array" : typeof raw.event}`;
    return new Rejection("bad_event_name", "event", got);
  }
  const event = cleanName(raw.event, limits.maxStringLength).trim();
  if (event === "") return new Rejection("bad_event_name", "event", "missing or empty");

  const properties = raw.properties ?? {};
  if (!isPlainObject(properties)) return new Rejection("bad_properties", "properties", "must be an object");

  const token = tokenProblem(properties.token, context);
  if (token) return token;

  if (properties.$ignore) return IGNORED;

  const time = eventTime(properties.time, context);
  if (time instanceof Rejection) return time;

  const distinctId = eventDistinctId(properties.distinct_id, context);
  if (distinctId instanceof Rejection) return distinctId;

  const givenInsertId = eventInsertId(properties.$insert_id, context);
  if (givenInsertId instanceof Rejection) return givenInsertId;

  const cleaned = cleanProperties(properties, limits, "properties", context.keepIp ? RESERVED : RESERVED_WITH_IP);
  if (cleaned instanceof Rejection) return cleaned;
  const reserved = reservedKeyProblem(cleaned.value);
  if (reserved) return reserved;
  if (cleaned.bytes > limits.maxEventBytes) {
    return new Rejection("too_large", "properties", `event is larger than ${limits.maxEventBytes} bytes`);
  }

  const insertId = givenInsertId ?? contentInsertId(event, time.sent, distinctId, cleaned.value);

  // `ip` names the address to geolocate; `$ip` (what /engage uses) does when `ip` is absent.
  const location = eventLocation(properties.ip ?? properties.$ip, context);
  if (location) {
    const target = cleaned.value;
    if (location.city && target.$city === undefined) target.$city = location.city;
    if (location.region && target.$region === undefined) target.$region = location.region;
    // The country is a tag (one series per value): where GeoIP knows it, a sent value does not count.
    if (location.countryCode) target.mp_country_code = location.countryCode;
  }

  return { event, time: time.stored, insertId, distinctId, properties: cleaned.value };
}

function tokenProblem(value: unknown, context: EventContext): Rejection | undefined {
  if (value === undefined || value === null || value === "") {
    return context.authenticated ? undefined : new Rejection("missing_token", "properties.token", "missing or empty", { label: "token" });
  }
  if (typeof value !== "string" || !context.tokens.has(value)) {
    return new Rejection("unknown_token", "properties.token", "is not a project token of this server", { label: "token" });
  }
  return undefined;
}

/** `sent` is the time as the client meant it (for the insert id); `stored` may be clamped. */
function eventTime(value: unknown, context: EventContext): { sent: number; stored: number } | Rejection {
  const { now, route, strict, limits } = context;
  if (value === undefined || value === null || value === "") {
    if (route === "import") return new Rejection("missing_time", "properties.time", "missing (required on /import)");
    return { sent: now, stored: now };
  }
  const ms = toEpochMs(value);
  if (ms === undefined) {
    return new Rejection("bad_time", "properties.time", `not a time in seconds or milliseconds: ${describeValue(value)}`);
  }
  if (ms < EARLIEST_EVENT_MS) return new Rejection("bad_time", "properties.time", "before 1971-01-01");
  if (ms > now + FUTURE_TOLERANCE_MS) {
    if (strict) return new Rejection("future_time", "properties.time", "more than 1 hour in the future");
    return { sent: ms, stored: now };
  }
  if (route === "track" && limits.trackMaxAgeMs > 0 && ms < now - limits.trackMaxAgeMs) {
    const days = Math.round(limits.trackMaxAgeMs / 86_400_000);
    return new Rejection("too_old", "properties.time", `older than ${days} days; send old events to /import`);
  }
  const floor = historyFloor(limits.history, now);
  if (ms < floor) return beforeHistory(floor, "properties.time");
  return { sent: ms, stored: ms };
}

/**
 * A property named like a field the worker's type policy makes (`plan:string` beside a numeric
 * `plan`, docs/worker.md) could take that name from the real property, whose values would then be
 * lost: such names are refused.
 */
function reservedKeyProblem(properties: Record<string, unknown>): Rejection | undefined {
  for (const key in properties) {
    const colon = key.lastIndexOf(":");
    if (colon === -1) continue;
    const suffix = key.slice(colon);
    if (RESERVED_KEY_SUFFIXES.includes(suffix)) {
      return new Rejection("reserved_name", `properties.${key}`, `ends in "${suffix}", which is reserved for properties whose type changed`);
    }
  }
  return undefined;
}

/**
 * A client value quoted in a message. Only scalars are shown: serialising an object could recurse
 * through 100,000 levels of nesting and throw, which would cost the whole request.
 */
function describeValue(value: unknown): string {
  if (typeof value === "string") return quoteForMessage(value);
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return Array.isArray(value) ? "a list" : `an ${typeof value}`;
}

function eventDistinctId(value: unknown, context: EventContext): string | Rejection {
  if (value === undefined || value === null) return "";
  let id: string;
  if (typeof value === "string") id = truncate(value, context.limits.maxStringLength);
  else if (typeof value === "number" || typeof value === "boolean") id = String(value);
  else return new Rejection("bad_distinct_id", "properties.distinct_id", "must be a string or a number");
  if (context.strict && PLACEHOLDER_IDS.has(id.trim().toLowerCase())) {
    return new Rejection("invalid_distinct_id", "properties.distinct_id", `${quoteForMessage(id)} is a placeholder, not an id`);
  }
  return id;
}

function eventInsertId(value: unknown, context: EventContext): string | undefined | Rejection {
  if (value === undefined || value === null || value === "") return undefined;
  if (typeof value !== "string" && typeof value !== "number") {
    return new Rejection("bad_insert_id", "properties.$insert_id", "must be a string");
  }
  const id = String(value);
  if (context.strict && !STRICT_INSERT_ID.test(id)) {
    return new Rejection("bad_insert_id", "properties.$insert_id", "must be 1 to 36 characters of A-Z, a-z, 0-9 and -");
  }
  return truncate(id, context.limits.maxStringLength);
}

/** The event's own `ip` wins (`"0"` turns geolocation off); otherwise the request's (`ip=1`). */
function eventLocation(ip: unknown, context: EventContext): GeoLocation | undefined {
  if (ip === undefined || ip === null || ip === "") return context.requestLocation();
  if (ip === "0" || ip === 0) return undefined;
  const address = typeof ip === "string" ? normaliseAddress(ip) : undefined;
  return address ? context.lookup(address) : undefined;
}
