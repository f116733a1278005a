/**
 * InfluxDB 1.x line protocol, written the way InfluxData's own `models/points.go` reads it:
 *
 *   measurement[,tag_key=tag_value...] field_key=field_value[,field_key=field_value...] [timestamp]
 *
 * - measurement: `,` and ` ` are escaped with a backslash (`measurementEscapeCodes`);
 * - tag keys, tag values and field keys: `,`, ` ` and `=` are escaped (`tagEscapeCodes`); every other
 *   character, backslashes included, is literal (`reg\\=ion` is read back as `reg\=ion`);
 * - string field values: inside double quotes, `"` and `\` are escaped (`EscapeStringField`); newlines
 *   are allowed inside the quotes (`scanLine` does not break a line inside a quoted value).
 *
 * Some names cannot be expressed whatever the escaping: a line feed ends the line (`\` + LF is kept
 * with its backslash), and a backslash that ends a name escapes the separator after it. A literal
 * backslash right before an escaped `,`, `=` or space is read back correctly by the parser, but
 * `scanLine` (which finds the end of a line and tracks quotes) pairs the backslashes differently and
 * can then swallow the next line; in field keys `\"` is also unescaped to `"`. `representableName`
 * maps those cases to look-alike characters: LF -> U+2424 (␤), and a backslash at the end or before
 * `,`, `=`, space or `"` -> U+FF3C (＼). Every other name is written unchanged and read back exactly.
 *
 * One more trap: whitespace (tab, NUL) at the start of the first field key is skipped by the parser,
 * so `toLine` puts a field whose key does not start with one first.
 */

/** A line feed in a name becomes U+2424 SYMBOL FOR NEWLINE. */
export const NAME_NEWLINE = "\u2424";
/** A backslash that ends a name, or comes right before `,`, `=`, a space or `"`, becomes U+FF3C FULLWIDTH REVERSE SOLIDUS. */
export const NAME_BACKSLASH = "\uFF3C";

/** An InfluxDB integer (`42i`). Plain JavaScript numbers are written as floats. */
export class IntegerValue {
  constructor(readonly value: number | bigint) {}
}

export type FieldValue = number | string | boolean | IntegerValue;

export interface Point {
  measurement: string;
  /** Tags with an empty value are left out: InfluxDB has no empty tag values. */
  tags?: Record<string, string>;
  /** At least one field is required by InfluxDB. */
  fields: Record<string, FieldValue>;
  /** Nanoseconds since the epoch as a decimal string (nanoseconds exceed 2^53); omitted means "now". */
  timestamp?: string;
}

/** Why a point cannot be written; a value, so that the caller decides (skip, dead-letter, ...). */
export class LineProtocolError extends Error {}

const needsNameMapping = /\n|\\(?=[,= "]|$)/;

/** The name as line protocol can carry it (see above); names without those cases are returned as they are. */
export function representableName(name: string): string {
  if (!needsNameMapping.test(name)) return name;
  return name.replace(/\n/g, NAME_NEWLINE).replace(/\\(?=[,= "]|$)/g, NAME_BACKSLASH);
}

// `has*` (no /g, so no lastIndex state) decides; `all*` (/g) replaces. Most names need no escaping.
const hasMeasurementSpecial = /[, ]/;
const allMeasurementSpecial = /[, ]/g;
const hasKeySpecial = /[,= ]/;
const allKeySpecial = /[,= ]/g;
const hasStringSpecial = /["\\]/;
const allStringSpecial = /["\\]/g;

/** Escapes a measurement name (after `representableName`). */
export function escapeMeasurement(name: string): string {
  const representable = representableName(name);
  return hasMeasurementSpecial.test(representable) ? representable.replace(allMeasurementSpecial, "\\$&") : representable;
}

/** Escapes a tag key, a tag value or a field key (after `representableName`). */
export function escapeKey(name: string): string {
  let escaped = escapedKeys.get(name);
  if (escaped === undefined) {
    const representable = representableName(name);
    escaped = hasKeySpecial.test(representable) ? representable.replace(allKeySpecial, "\\$&") : representable;
    // Property names and tag values repeat from event to event: remember them (bounded).
    if (escapedKeys.size >= ESCAPED_KEYS_KEPT) escapedKeys.clear();
    if (name.length <= 256) escapedKeys.set(name, escaped);
  }
  return escaped;
}

const ESCAPED_KEYS_KEPT = 20_000;
const escapedKeys = new Map<string, string>();

/** The quoted form of a string field value; every character, newlines included, survives. */
export function quoteStringValue(value: string): string {
  return hasStringSpecial.test(value) ? `"${value.replace(allStringSpecial, "\\$&")}"` : `"${value}"`;
}

/** A field value in line protocol, or undefined for a value InfluxDB cannot store (NaN, ±Infinity). */
export function formatFieldValue(value: FieldValue): string | undefined {
  switch (typeof value) {
    case "string":
      return quoteStringValue(value);
    case "boolean":
      return value ? "true" : "false";
    case "number":
      // String(1e21) is "1e+21", which InfluxDB's ParseFloat reads; NaN and Infinity it cannot store.
      return Number.isFinite(value) ? String(value) : undefined;
    default:
      if (typeof value.value === "bigint") return `${value.value}i`;
      return Number.isSafeInteger(value.value) ? `${value.value}i` : undefined;
  }
}

const startsWithSkippedWhitespace = /^[\t\0]/;

/** One line (no trailing newline), or an error when the point has no field InfluxDB can store. */
export function toLine(point: Point): string | LineProtocolError {
  const fields = lineFields(point);
  if (fields instanceof LineProtocolError) return fields;
  const line = `${lineSeries(point)} ${fields}`;
  return point.timestamp === undefined ? line : `${line} ${point.timestamp}`;
}

/**
 * The measurement and tags of a line: the point's series key as InfluxDB reads it (two points are
 * in the same series exactly when these strings are equal).
 */
export function lineSeries(point: Point): string {
  let series = escapeMeasurement(point.measurement);
  if (point.tags) {
    // InfluxDB sorts tags itself, but sorted input is its fast path.
    for (const key of Object.keys(point.tags).sort()) {
      const value = point.tags[key];
      if (value === undefined || value === "") continue;
      series += `,${escapeKey(key)}=${escapeKey(value)}`;
    }
  }
  return series;
}

/** The field set of a line, or an error when the point has no field InfluxDB can store. */
export function lineFields(point: Point): string | LineProtocolError {
  let first = "";
  let rest = "";
  for (const key of Object.keys(point.fields)) {
    const formatted = formatFieldValue(point.fields[key]!);
    if (formatted === undefined || key === "") continue;
    const field = `${escapeKey(key)}=${formatted}`;
    if (first === "" && !startsWithSkippedWhitespace.test(key)) first = field;
    else rest += `,${field}`;
  }
  if (first === "") {
    const what = rest === "" ? "no field that InfluxDB can store" : "only field keys that start with a tab or NUL";
    return new LineProtocolError(`point in "${point.measurement}" has ${what}`);
  }
  return `${first}${rest}`;
}

/** Spreads points of one millisecond over its 10^6 nanoseconds. */
export const NANOS_PER_MILLI = 1_000_000;

/**
 * A deterministic number in [0, range) derived from a string (range at most 2^32): FNV-1a over the
 * UTF-16 code units, then MurmurHash3's finaliser so that every input bit moves every output bit.
 * Plain arithmetic, the same on every platform, and some 20 times faster than a crypto digest.
 */
export function hashOffset(key: string, range: number): number {
  let hash = 0x811c9dc5;
  for (let index = 0; index < key.length; index += 1) {
    hash ^= key.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193);
  }
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35);
  hash ^= hash >>> 16;
  return (hash >>> 0) % range;
}

/**
 * A deterministic offset in [0, 10^6) derived from a string (an event's `$insert_id`): the same event
 * always lands on the same nanosecond, two events of one millisecond almost never do (1 in 10^6).
 */
export function nanoOffset(key: string): number {
  return hashOffset(key, NANOS_PER_MILLI);
}

/** `ms × 10^6 + offset` as a decimal string (the product exceeds 2^53, so no float arithmetic). */
export function nanosecondTimestamp(ms: number, offset: number): string {
  if (!Number.isSafeInteger(ms) || !Number.isInteger(offset) || offset < 0 || offset >= NANOS_PER_MILLI) {
    throw new RangeError(`bad timestamp parts ${ms} ms + ${offset} ns`);
  }
  // For ms > 0 the decimal digits of ms followed by six digits of offset are exactly ms × 10^6 + offset.
  if (ms > 0) return `${ms}${String(offset).padStart(6, "0")}`;
  return (BigInt(ms) * BigInt(NANOS_PER_MILLI) + BigInt(offset)).toString();
}
