import {
  IntegerValue,
  NANOS_PER_MILLI,
  hashOffset,
  nanoOffset,
  nanosecondTimestamp,
  representableName,
  type FieldValue,
  type Point,
} from "../core/line-protocol";
import type { EventItem, JsonValue, StatsItem } from "../core/queue";
import { fieldTypeOf, type FieldTypes } from "./field-types";
import type { UserType } from "./first-seen";
import { normaliseTagValue } from "./tag-values";

/**
 * The InfluxDB data model (DESIGN §4, docs/contracts.md): one pure function per measurement that
 * turns what the worker knows into a point. Nothing here talks to InfluxDB or Redis.
 */

export const measurements = {
  events: "events",
  identityMerges: "identity_merges",
  profileUpdates: "profile_updates",
  pipeline: "pipeline",
} as const;

/** The raw `distinct_id` of an event, kept when identity resolution changed it. */
export const BEFORE_IDENTITY_FIELD = "$distinct_id_before_identity";

/** Names of our own columns in `events`; a property with one of these names gets `:property` appended. */
const reservedEventColumns = new Set(["time", "event", "user_type", "distinct_id", "insert_id", BEFORE_IDENTITY_FIELD]);
export const RESERVED_SUFFIX = ":property";
/** A property with an empty name (InfluxDB has no empty field keys). */
export const EMPTY_NAME = "(empty)";
/** Tag values are cut to this many characters, so that a series key stays far below InfluxDB's 64 KiB. */
export const TAG_VALUE_MAX = 1024;

/** null is left out (a missing field reads as null); arrays and objects become JSON strings. */
export function toFieldValue(value: JsonValue | undefined): FieldValue | undefined {
  if (value === null || value === undefined) return undefined;
  switch (typeof value) {
    case "string":
    case "boolean":
      return value;
    case "number":
      return Number.isFinite(value) ? value : undefined;
    default:
      return JSON.stringify(value);
  }
}

export function toTagValue(value: JsonValue | undefined): string | undefined {
  if (value === null || value === undefined) return undefined;
  const text = typeof value === "string" ? value : typeof value === "object" ? JSON.stringify(value) : String(value);
  if (text === "") return undefined;
  return text.length > TAG_VALUE_MAX ? text.slice(0, TAG_VALUE_MAX) : text;
}

const NANOS_PER_SECOND = 1_000_000_000;

/**
 * Where an event lands in time: its millisecond plus an offset derived from its `$insert_id`, so that
 * a re-delivered or re-sent event lands on itself and two events of one millisecond almost never
 * meet (1 in 10^6). A time with no sub-second part (SDKs that send whole seconds, e.g. Python's) is
 * spread over its whole second instead (1 in 10^9): its sub-second part is unknown anyway, and the
 * point never leaves its second. `probe` moves the event further along its window (see `batch.ts`:
 * two events of one entry that would meet).
 */
export function eventTimestamp(time: number, insertId: string, probe = 0): string {
  if (time % 1000 === 0) {
    const offset = (hashOffset(insertId, NANOS_PER_SECOND) + probe) % NANOS_PER_SECOND;
    return nanosecondTimestamp(time + Math.floor(offset / NANOS_PER_MILLI), offset % NANOS_PER_MILLI);
  }
  return nanosecondTimestamp(time, (hashOffset(insertId, NANOS_PER_MILLI) + probe) % NANOS_PER_MILLI);
}

export interface EventSchema {
  /** Properties written as tags (`EVENT_TAGS`). */
  tagKeys: ReadonlySet<string>;
}

export interface EventPoint {
  point: Point;
  /** Properties that found no field name (type suffixes exhausted); counted, never fatal. */
  droppedProperties: number;
}

/** A property written as a tag (`EVENT_TAGS`); `event` and `user_type` are ours. */
export function isTagProperty(key: string, schema: EventSchema): boolean {
  return schema.tagKeys.has(key) && key !== "event" && key !== "user_type";
}

/**
 * The field name of a property before the type policy (`FieldTypes.fieldFor`) applies: the name
 * line protocol can carry, `(empty)` for "", and `<name>:property` for our own column and tag names.
 */
export function propertyFieldName(key: string, schema: EventSchema): string {
  let name = representableName(key);
  if (name === "") name = EMPTY_NAME;
  if (reservedEventColumns.has(name) || schema.tagKeys.has(name)) name += RESERVED_SUFFIX;
  return name;
}

/** Why an item from the stream cannot be turned into a point; undefined when it can. */
export function invalidEventItem(item: unknown): string | undefined {
  if (typeof item !== "object" || item === null || Array.isArray(item)) return "item is not an object";
  const event = item as Partial<EventItem>;
  if (typeof event.event !== "string") return "event name is not a string";
  if (typeof event.time !== "number" || !Number.isSafeInteger(event.time) || event.time <= 0) return "time is not a positive integer of milliseconds";
  if (typeof event.insertId !== "string" || event.insertId === "") return "insertId is missing";
  if (typeof event.distinctId !== "string") return "distinctId is not a string";
  if (typeof event.properties !== "object" || event.properties === null || Array.isArray(event.properties)) return "properties are not an object";
  return undefined;
}

/**
 * One event -> one point in `events`: tag `event`, `user_type` (`new`/`returning`, when there is a
 * user) and the configured tag properties; fields
 * `insert_id`, `distinct_id` (resolved), `$distinct_id_before_identity` (when it differs), then every
 * other property under its own name (type policy in `field-types.ts`). Timestamp: `eventTimestamp`.
 */
export function toEventPoint(event: EventItem, distinctId: string, schema: EventSchema, types: FieldTypes, userType?: UserType): EventPoint {
  const tags: Record<string, string> = {};
  const eventName = toTagValue(event.event);
  if (eventName !== undefined) tags.event = eventName;
  if (userType !== undefined && distinctId !== "") tags.user_type = userType;
  // insert_id first: the first field key must not start with whitespace (see line-protocol.ts).
  // No prototype: a property named `toString` or `__proto__` is a field like any other.
  const fields: Record<string, FieldValue> = Object.create(null);
  fields.insert_id = event.insertId;
  fields.distinct_id = distinctId;
  if (event.distinctId !== "" && event.distinctId !== distinctId) fields[BEFORE_IDENTITY_FIELD] = event.distinctId;
  let droppedProperties = 0;
  for (const key of Object.keys(event.properties)) {
    const raw = event.properties[key];
    if (isTagProperty(key, schema)) {
      const tagValue = normaliseTagValue(key, toTagValue(raw));
      if (tagValue !== undefined) tags[key] = tagValue;
      continue;
    }
    const value = toFieldValue(raw);
    if (value === undefined) continue;
    const field = types.fieldFor(measurements.events, propertyFieldName(key, schema), fieldTypeOf(value));
    if (field === undefined) {
      droppedProperties += 1;
      continue;
    }
    if (!(field in fields)) fields[field] = value;
  }
  return {
    point: {
      measurement: measurements.events,
      tags,
      fields,
      timestamp: eventTimestamp(event.time, event.insertId),
    },
    droppedProperties,
  };
}

/** A device mapped to a user for the first time (one point per mapping, at the time of the merging event). */
export function toMergePoint(deviceId: string, userId: string, time: number): Point {
  return {
    measurement: measurements.identityMerges,
    fields: { device_id: deviceId, user_id: userId },
    timestamp: nanosecondTimestamp(time, nanoOffset(`${deviceId}\u0000${userId}`)),
  };
}

export interface ProfileUpdateRecord {
  kind: "user" | "group";
  op: string;
  /** distinct id (users) or group id (groups). */
  id: string;
  groupKey?: string;
  created: boolean;
  time: number;
  /** Unique per applied operation and stable across re-deliveries (entry, item, op). */
  key: string;
}

/** One applied profile or group operation. */
export function toProfileUpdatePoint(update: ProfileUpdateRecord): Point {
  const tags: Record<string, string> = { kind: update.kind, op: update.op };
  if (update.groupKey !== undefined) tags.group_key = toTagValue(update.groupKey) ?? "";
  const fields: Record<string, FieldValue> =
    update.kind === "user" ? { distinct_id: update.id, created: update.created } : { group_id: update.id, created: update.created };
  return {
    measurement: measurements.profileUpdates,
    tags,
    fields,
    timestamp: nanosecondTimestamp(update.time, nanoOffset(update.key)),
  };
}

const statsMeasurementName = /^[A-Za-z_][A-Za-z0-9_]*$/;
const ownMeasurements = new Set<string>(Object.values(measurements));

/** Why a `stats` item cannot be written; undefined when it can. */
export function invalidStatsItem(item: unknown): string | undefined {
  if (typeof item !== "object" || item === null || Array.isArray(item)) return "item is not an object";
  const stats = item as Partial<StatsItem>;
  if (typeof stats.measurement !== "string" || !statsMeasurementName.test(stats.measurement)) return "measurement is not a plain name";
  if (ownMeasurements.has(stats.measurement)) return `measurement "${stats.measurement}" belongs to the worker`;
  if (typeof stats.time !== "number" || !Number.isSafeInteger(stats.time) || stats.time <= 0) return "time is not a positive integer of milliseconds";
  if (typeof stats.tags !== "object" || stats.tags === null) return "tags are not an object";
  if (Object.values(stats.tags).some((value) => typeof value !== "string")) return "a tag value is not a string";
  if (typeof stats.fields !== "object" || stats.fields === null) return "fields are not an object";
  const values = Object.values(stats.fields);
  if (values.length === 0 || values.some((value) => typeof value !== "number" || !Number.isFinite(value))) return "fields are not finite numbers";
  return undefined;
}

/**
 * Ingest's counters (`ingest`, `ingest_rejects`): integer fields. Several ingest instances flush in the
 * same millisecond with the same tags, so the offset comes from the stream entry and item index.
 */
export function toStatsPoint(item: StatsItem, key: string): Point {
  const fields: Record<string, FieldValue> = {};
  for (const [name, value] of Object.entries(item.fields)) fields[name] = new IntegerValue(Math.round(value));
  return { measurement: item.measurement, tags: { ...item.tags }, fields, timestamp: nanosecondTimestamp(item.time, nanoOffset(key)) };
}

export interface PipelineSample {
  consumer: string;
  time: number;
  written: number;
  batchMs: number;
  streamLength: number;
  lag: number;
  pending: number;
  deadLetters: number;
  profiles: number;
  groups: number;
  /** Events and updates refused by a budget or a quota in the window (dead-lettered). */
  refused?: number;
  redisUsedBytes?: number;
  /** Redis' `maxmemory`; 0 when it has none. */
  redisMaxBytes?: number;
}

/** The worker's own health, one point per sample. */
export function toPipelinePoint(sample: PipelineSample): Point {
  const integer = (value: number) => new IntegerValue(Math.max(0, Math.round(value)));
  return {
    measurement: measurements.pipeline,
    tags: { consumer: sample.consumer },
    fields: {
      written: integer(sample.written),
      batch_ms: sample.batchMs,
      stream_length: integer(sample.streamLength),
      lag: integer(sample.lag),
      pending: integer(sample.pending),
      dead_letters: integer(sample.deadLetters),
      profiles: integer(sample.profiles),
      groups: integer(sample.groups),
      ...(sample.refused !== undefined ? { refused: integer(sample.refused) } : {}),
      ...(sample.redisUsedBytes !== undefined ? { redis_used_bytes: integer(sample.redisUsedBytes) } : {}),
      ...(sample.redisMaxBytes !== undefined ? { redis_max_bytes: integer(sample.redisMaxBytes) } : {}),
    },
    timestamp: nanosecondTimestamp(sample.time, nanoOffset(sample.consumer)),
  };
}
