import type { JsonObject, JsonValue } from "../core/queue";
import type { Limits } from "./settings";
import { Rejection } from "./rejection";

/**
 * Cleans client-supplied properties into JSON that is safe to store and to hand to the worker:
 * strings truncated (Mixpanel keeps 255 characters), keys cleaned of control characters, keys that
 * would reach an object's prototype dropped, and the shape bounded (property count, keys per nested
 * object, list items, nesting depth, approximate size). A shape over the limits is refused, not cut:
 * silently losing arbitrary properties would be worse than a clear error.
 */

/** Keys that act on an object's prototype when a consumer copies them with `obj[key] = value`. */
const PROTOTYPE_KEYS = new Set(["__proto__", "constructor", "prototype"]);

const CONTROL = /[\u0000-\u001f\u007f]/;
const CONTROL_ALL = /[\u0000-\u001f\u007f]/g;

export interface CleanObject {
  value: JsonObject;
  /** Approximate serialised size, for the per-event byte limit. */
  bytes: number;
}

type ShapeLimits = Pick<Limits, "maxStringLength" | "maxProperties" | "maxDepth">;

/**
 * Cleans the top level of an event's properties or a profile operation's object. `omit` names keys
 * handled elsewhere (token, time, ...). `field` is the Mixpanel path used in messages.
 */
export function cleanProperties(
  source: Record<string, unknown>,
  limits: ShapeLimits,
  field: string,
  omit?: ReadonlySet<string>,
): CleanObject | Rejection {
  const state = { bytes: 2 };
  // The properties object itself is level 1: `{a:{b:{c:1}}}` has depth 3.
  const value = cleanObject(source, limits, field, 1, state, omit);
  if (value instanceof Rejection) return value;
  return { value, bytes: state.bytes };
}

function cleanObject(
  source: Record<string, unknown>,
  limits: ShapeLimits,
  field: string,
  depth: number,
  state: { bytes: number },
  omit?: ReadonlySet<string>,
): JsonObject | Rejection {
  const out: JsonObject = {};
  const keys = Object.keys(source);
  let count = 0;
  for (let index = 0; index < keys.length; index++) {
    const rawKey = keys[index]!;
    if (omit !== undefined && omit.has(rawKey)) continue;
    if (++count > limits.maxProperties) {
      const what = depth === 1 ? "properties" : "keys";
      return new Rejection(depth === 1 ? "too_many_properties" : "too_many_keys", field, `more than ${limits.maxProperties} ${what}`);
    }
    const key = cleanKey(rawKey, limits.maxStringLength);
    if (key === undefined) continue;
    const cleaned = cleanAny(source[rawKey], limits, field, key, depth, state);
    if (cleaned instanceof Rejection) return cleaned;
    state.bytes += key.length + 4;
    out[key] = cleaned;
  }
  return out;
}

/** The Mixpanel path of `key` inside `parent`, built only when a message or a container needs it. */
function pathOf(parent: string, key: string | undefined): string {
  if (key === undefined) return parent;
  return parent ? `${parent}.${key}` : key;
}

/** `key` is undefined for list items (their path is the list's). */
function cleanAny(
  value: unknown,
  limits: ShapeLimits,
  parent: string,
  key: string | undefined,
  depth: number,
  state: { bytes: number },
): JsonValue | Rejection {
  switch (typeof value) {
    case "string":
      state.bytes += value.length + 2;
      return value.length > limits.maxStringLength ? truncate(value, limits.maxStringLength) : value;
    case "number":
      state.bytes += 8;
      return Number.isFinite(value) ? value : null;
    case "boolean":
      state.bytes += 5;
      return value;
    case "object": {
      if (value === null) {
        state.bytes += 4;
        return null;
      }
      const field = pathOf(parent, key);
      if (depth + 1 > limits.maxDepth) {
        return new Rejection("too_deep", field, `nested deeper than ${limits.maxDepth} levels`);
      }
      if (Array.isArray(value)) {
        if (value.length > limits.maxProperties) {
          return new Rejection("too_many_items", field, `list has more than ${limits.maxProperties} items`);
        }
        const out: JsonValue[] = new Array(value.length);
        for (let index = 0; index < value.length; index++) {
          const item = cleanAny(value[index], limits, field, undefined, depth + 1, state);
          if (item instanceof Rejection) return item;
          out[index] = item;
        }
        state.bytes += value.length + 2;
        return out;
      }
      return cleanObject(value as Record<string, unknown>, limits, field, depth + 1, state);
    }
    default:
      // JSON has no other types; `undefined` can only come from a caller building objects by hand.
      return null;
  }
}

/**
 * Property names repeat across events (`$os`, `$browser`, ...): their cleaned form is remembered
 * (up to a bound, so that random keys cannot grow it) instead of being checked again every time.
 * `undefined` means the key is dropped (empty, or a prototype key).
 */
const KEY_CACHE_LIMIT = 10_000;
const keyCache = new Map<string, string | undefined>();
let keyCacheLength = 0;

function cleanKey(rawKey: string, maxLength: number): string | undefined {
  if (maxLength !== keyCacheLength) {
    keyCache.clear();
    keyCacheLength = maxLength;
  }
  const known = keyCache.get(rawKey);
  if (known !== undefined || keyCache.has(rawKey)) return known;
  const key = cleanName(rawKey, maxLength);
  const result = key === "" || PROTOTYPE_KEYS.has(key) ? undefined : key;
  if (keyCache.size < KEY_CACHE_LIMIT) keyCache.set(rawKey, result);
  return result;
}

/** Event names and property keys: control characters (newlines, tabs, NUL...) become spaces. */
export function cleanName(name: string, maxLength: number): string {
  const spaced = CONTROL.test(name) ? name.replace(CONTROL_ALL, " ") : name;
  return truncate(spaced, maxLength);
}

/** Cuts at `maxLength` UTF-16 units without splitting a surrogate pair. */
export function truncate(value: string, maxLength: number): string {
  if (value.length <= maxLength) return value;
  const last = value.charCodeAt(maxLength - 1);
  const cut = last >= 0xd800 && last <= 0xdbff ? maxLength - 1 : maxLength;
  return value.slice(0, cut);
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
