import { BEFORE_IDENTITY_FIELD, EMPTY_NAME, RESERVED_SUFFIX } from "../worker/schema";
import type { InfluxFieldType } from "../worker/field-types";
import type { Value } from "./expression/values";

/**
 * How Mixpanel properties sit in the worker's `events` measurement (docs/worker.md, data model), read
 * backwards: tag `event` is the event name, `user_type` and `$distinct_id_before_identity` are ours,
 * `insert_id` is `$insert_id`, `distinct_id` the resolved id; every other tag is a property
 * (`EVENT_TAGS`); every other field is a property under its own name, or `<name>:<type>` when its
 * type changed (the worker's type policy), or `<name>:property` when it is named like our columns.
 */

export const EVENT_NAME_TAG = "event";
export const DISTINCT_ID_FIELD = "distinct_id";
export const INSERT_ID_FIELD = "insert_id";
const OWN_TAGS = new Set([EVENT_NAME_TAG, "user_type"]);
const OWN_FIELDS = new Set([DISTINCT_ID_FIELD, INSERT_ID_FIELD, BEFORE_IDENTITY_FIELD]);
const TYPE_SUFFIX = /:(float|integer|string|boolean)$/;

export interface FieldColumn {
  column: string;
  type: InfluxFieldType;
}

/** Where one property's values are: a tag, and/or one field per type it was written with. */
export interface PropertyColumns {
  name: string;
  tag?: string;
  fields: FieldColumn[];
}

/** The property a field column holds; undefined for our own columns. */
export function fieldProperty(column: string, type: string): string | undefined {
  if (OWN_FIELDS.has(column)) return undefined;
  let name = column;
  if (name.endsWith(`:${type}`)) {
    name = name.slice(0, -(type.length + 1));
    while (TYPE_SUFFIX.test(name)) name = name.replace(TYPE_SUFFIX, "");
  }
  if (name.endsWith(RESERVED_SUFFIX)) name = name.slice(0, -RESERVED_SUFFIX.length);
  return name === EMPTY_NAME ? "" : name;
}

/** The property a tag holds; undefined for `event` and `user_type`. */
export function tagProperty(tag: string): string | undefined {
  return OWN_TAGS.has(tag) ? undefined : tag;
}

export class EventCatalog {
  private readonly properties = new Map<string, PropertyColumns>();

  constructor(
    readonly tagKeys: readonly string[],
    readonly fieldKeys: ReadonlyArray<{ key: string; type: InfluxFieldType }>,
  ) {
    for (const tag of tagKeys) {
      const name = tagProperty(tag);
      if (name !== undefined) this.entry(name).tag = tag;
    }
    for (const { key, type } of fieldKeys) {
      const name = fieldProperty(key, type);
      if (name !== undefined) this.entry(name).fields.push({ column: key, type });
    }
  }

  private entry(name: string): PropertyColumns {
    let entry = this.properties.get(name);
    if (!entry) {
      entry = { name, fields: [] };
      this.properties.set(name, entry);
    }
    return entry;
  }

  property(name: string): PropertyColumns | undefined {
    return this.properties.get(name);
  }

  propertyNames(): string[] {
    return [...this.properties.keys()];
  }

  /** Every column of the property, tag first. */
  columnsOf(name: string): string[] {
    const entry = this.properties.get(name);
    if (!entry) return [];
    return [...(entry.tag ? [entry.tag] : []), ...entry.fields.map((field) => field.column)];
  }
}

/**
 * A stored value as the expression language sees it: null (not written) is undefined; the worker
 * writes lists and objects as JSON text, so a string that is a JSON list or object reads back as one.
 * (Tags are never written empty: read a tag with `storedTag`.)
 */
export function storedValue(raw: unknown): Value {
  if (raw === null || raw === undefined) return undefined;
  if (typeof raw === "string") {
    const first = raw.charCodeAt(0);
    if (first === 91 /* [ */ || first === 123 /* { */) {
      try {
        return JSON.parse(raw) as Value;
      } catch {
        return raw;
      }
    }
    return raw;
  }
  return raw as Value;
}

/** A tag value: InfluxDB answers "" or null for a point without the tag. */
export function storedTag(raw: unknown): Value {
  return raw === null || raw === undefined || raw === "" ? undefined : (raw as string);
}
