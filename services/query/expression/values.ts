/**
 * The values of Mixpanel's segmentation expressions and their type rules (reference §2.3, decisions in
 * docs/reports.md). Pure: no I/O, nothing throws.
 *
 * A value is a string, number, boolean, `null`, `undefined`, a list, an object (a JSON property
 * holding one) or a `DateTime`. Numbers are always finite: an operation that would make NaN or an
 * infinity gives `undefined`.
 */

export class DateTime {
  constructor(readonly ms: number) {}
}

export type Value = string | number | boolean | null | undefined | DateTime | Value[] | { [key: string]: Value };

export type TypeName = "string" | "number" | "boolean" | "null" | "undefined" | "datetime" | "list" | "object";

export function typeOf(value: Value): TypeName {
  if (value === undefined) return "undefined";
  if (value === null) return "null";
  switch (typeof value) {
    case "string":
      return "string";
    case "number":
      return "number";
    case "boolean":
      return "boolean";
    default:
      if (value instanceof DateTime) return "datetime";
      return Array.isArray(value) ? "list" : "object";
  }
}

const finite = (n: number): number | undefined => (Number.isFinite(n) ? n : undefined);

/** `==`: always a boolean; values of different types are never equal; `undefined` equals nothing. */
export function equals(a: Value, b: Value): boolean {
  if (a === undefined || b === undefined) return false;
  const type = typeOf(a);
  if (type !== typeOf(b)) return false;
  switch (type) {
    case "datetime":
      return (a as DateTime).ms === (b as DateTime).ms;
    case "list": {
      const left = a as Value[];
      const right = b as Value[];
      return left.length === right.length && left.every((item, index) => equals(item, right[index]));
    }
    case "object": {
      const left = a as Record<string, Value>;
      const right = b as Record<string, Value>;
      const keys = Object.keys(left);
      return keys.length === Object.keys(right).length && keys.every((key) => Object.hasOwn(right, key) && equals(left[key], right[key]));
    }
    default:
      return a === b;
  }
}

/** `> >= < <=`: numbers, strings (code-unit order) and datetimes of the same type; otherwise undefined. */
export function compare(a: Value, b: Value): number | undefined {
  if (typeof a === "number" && typeof b === "number") return a - b;
  if (typeof a === "string" && typeof b === "string") return a < b ? -1 : a > b ? 1 : 0;
  if (a instanceof DateTime && b instanceof DateTime) return a.ms - b.ms;
  return undefined;
}

/** `a in b`: substring when both are strings, membership when `b` is a list; otherwise undefined. */
export function contains(needle: Value, haystack: Value): boolean | undefined {
  if (typeof needle === "string" && typeof haystack === "string") return haystack.includes(needle);
  if (Array.isArray(haystack)) return haystack.some((item) => equals(needle, item));
  return undefined;
}

export function add(a: Value, b: Value): Value {
  if (typeof a === "number" && typeof b === "number") return finite(a + b);
  if (typeof a === "string" && typeof b === "string") return a + b;
  return undefined;
}

export function arithmetic(operator: "-" | "*" | "/" | "%", a: Value, b: Value): Value {
  if (typeof a !== "number" || typeof b !== "number") return undefined;
  switch (operator) {
    case "-":
      return finite(a - b);
    case "*":
      return finite(a * b);
    case "/":
      return b === 0 ? undefined : finite(a / b);
    case "%":
      // JavaScript's remainder already takes the dividend's sign, as the reference asks.
      return b === 0 ? undefined : finite(a % b);
  }
}

/** undefined counts as false in `and`/`or`; any other non-boolean makes the result undefined. */
function truth(value: Value): boolean | null {
  if (value === undefined) return false;
  return typeof value === "boolean" ? value : null;
}

export function and(a: Value, b: Value): Value {
  const left = truth(a);
  const right = truth(b);
  return left === null || right === null ? undefined : left && right;
}

export function or(a: Value, b: Value): Value {
  const left = truth(a);
  const right = truth(b);
  return left === null || right === null ? undefined : left || right;
}

/** `not`: negates a boolean; `not undefined` is true (so `not defined(x)` reads naturally); others undefined. */
export function not(value: Value): Value {
  if (value === undefined) return true;
  return typeof value === "boolean" ? !value : undefined;
}

export function negate(value: Value): Value {
  return typeof value === "number" ? finite(-value) : undefined;
}

/** `round` rounds half away from zero (C's `round`, Mixpanel's engine is C); `floor`, `ceil` as usual. */
export function rounding(kind: "floor" | "round" | "ceil", value: Value): Value {
  if (typeof value !== "number") return undefined;
  if (kind === "floor") return Math.floor(value);
  if (kind === "ceil") return Math.ceil(value);
  return Math.sign(value) * Math.round(Math.abs(value));
}

const decimal = /^\s*[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?\s*$/;

/** `number()`: strings read as decimals (else undefined), booleans 1/0, datetimes as seconds since the epoch. */
export function toNumber(value: Value): Value {
  if (typeof value === "number") return value;
  if (typeof value === "boolean") return value ? 1 : 0;
  if (typeof value === "string") return decimal.test(value) ? finite(Number(value)) : undefined;
  if (value instanceof DateTime) return value.ms / 1000;
  return undefined;
}

/** `string()`: numbers in their shortest decimal form, booleans "true"/"false", lists and objects as JSON. */
export function toText(value: Value): Value {
  if (value === undefined || value === null) return value;
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  if (value instanceof DateTime) return formatDateTime(value);
  return safeJson(value);
}

/** The text a value is grouped under by `on` (undefined: the row is left out of every segment). */
export function segmentKey(value: Value): string | undefined {
  const text = toText(value);
  return typeof text === "string" ? text : text === null ? "null" : undefined;
}

/** `boolean()`: booleans as they are; numbers other than 0, non-empty strings, lists and objects are true. */
export function toBoolean(value: Value): Value {
  if (value === undefined || value === null) return undefined;
  if (typeof value === "boolean") return value;
  if (typeof value === "number") return value !== 0;
  if (typeof value === "string") return value !== "";
  if (value instanceof DateTime) return true;
  return Array.isArray(value) ? value.length > 0 : Object.keys(value).length > 0;
}

const isoDate = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?)?\s*(Z|[+-]\d{2}:?\d{2})?$/i;

/**
 * `datetime()`: an ISO date or date-time string (without an offset it is a wall time in the project's
 * time zone), a number of seconds since the epoch, or a datetime. Anything else is undefined.
 */
export function toDateTime(value: Value, zoneOffsetMs: (wallTimeAsUtc: number) => number): Value {
  if (value instanceof DateTime) return value;
  if (typeof value === "number") return Number.isFinite(value * 1000) ? new DateTime(value * 1000) : undefined;
  if (typeof value !== "string") return undefined;
  const match = isoDate.exec(value.trim());
  if (!match) return undefined;
  const [, y, mo, d, h = "0", mi = "0", s = "0", fraction = "", zone] = match;
  const month = Number(mo);
  const day = Number(d);
  if (month < 1 || month > 12 || day < 1 || day > 31 || Number(h) > 23 || Number(mi) > 59 || Number(s) > 59) return undefined;
  const wall = Date.UTC(Number(y), month - 1, day, Number(h), Number(mi), Number(s)) + Math.floor(Number(`0${fraction || ".0"}`) * 1000);
  if (new Date(wall).getUTCDate() !== day) return undefined; // 2024-02-30
  if (zone === undefined) return new DateTime(wall - zoneOffsetMs(wall));
  if (zone.toUpperCase() === "Z") return new DateTime(wall);
  const sign = zone.startsWith("-") ? -1 : 1;
  const digits = zone.replace(/[^0-9]/g, "");
  return new DateTime(wall - sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2))) * 60_000);
}

/** `YYYY-MM-DDTHH:MM:SS` in UTC: Mixpanel's date property format. */
export function formatDateTime(value: DateTime): string {
  return new Date(value.ms).toISOString().slice(0, 19);
}

function safeJson(value: Value): string | undefined {
  try {
    return JSON.stringify(value, (_key, item: unknown) => (item instanceof DateTime ? formatDateTime(item) : item));
  } catch {
    return undefined;
  }
}
