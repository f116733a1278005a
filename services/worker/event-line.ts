import { escapeKey, escapeMeasurement, lineFields, lineSeries, quoteStringValue } from "../core/line-protocol";
import type { EventItem } from "../core/queue";
import type { FieldTypes, InfluxFieldType } from "./field-types";
import type { UserType } from "./first-seen";
import { normaliseTagValue } from "./tag-values";
import { BEFORE_IDENTITY_FIELD, isTagProperty, measurements, propertyFieldName, toEventPoint, toTagValue, type EventSchema } from "./schema";

/**
 * An event's line protocol, built straight from the event: the same line as
 * `toLine(toEventPoint(...))` (the data model's definition, `schema.ts`), without the intermediate
 * point, tag and field objects. The worker builds one per event, so this is where its CPU goes:
 * names are resolved once and remembered, and every string is written once.
 *
 * Only the common case is built here: every property is stored under its own name. An event with a
 * property that needs another name (a type change, a reserved or unrepresentable name, which could
 * then collide with another property's name) is handed to `toEventPoint` whole, whose rules decide.
 */

export interface EventLine {
  /** Measurement and tags: the series key (equal strings, same series). */
  series: string;
  /** The field set. */
  fields: string;
  /** Properties that found no field name (type suffixes exhausted); counted, never fatal. */
  droppedProperties: number;
}

/** Remembered property keys are bounded, so that random keys cannot grow the cache without end. */
const KEYS_KEPT = 10_000;
const BEFORE_IDENTITY = `,${escapeKey(BEFORE_IDENTITY_FIELD)}=`;

/** What is known about one property key, so that the next event with it needs one lookup. */
interface KeyInfo {
  /** Position in the tag order, or -1 when the property is a field. */
  slot: number;
  /** The property is stored under its own name (before the type policy). */
  ownName: boolean;
  /** `,<escaped name>=` */
  prefix: string;
  /** A type `FieldTypes.fieldFor` granted this name at `version` (the name keeps it until `learn`). */
  type?: InfluxFieldType;
  version: number;
}

export class EventLineBuilder {
  private readonly measurement = escapeMeasurement(measurements.events);
  /** Every tag an event can have, in the order line protocol wants them (sorted by key). */
  private readonly tagKeys: string[];
  private readonly escapedTagKeys: string[];
  /** Position in `tagKeys` of each tag property. */
  private readonly tagSlots = new Map<string, number>();
  private readonly eventSlot: number;
  private readonly userTypeSlot: number;
  /** Tag values of the event being built (reset after each). */
  private readonly tagValues: Array<string | undefined>;
  private readonly keys = new Map<string, KeyInfo>();

  constructor(
    private readonly schema: EventSchema,
    private readonly types: FieldTypes,
  ) {
    const keys = new Set(["event", "user_type"]);
    for (const key of schema.tagKeys) if (isTagProperty(key, schema)) keys.add(key);
    // The same order as toLine's `Object.keys(tags).sort()`.
    this.tagKeys = [...keys].sort();
    this.escapedTagKeys = this.tagKeys.map(escapeKey);
    this.tagKeys.forEach((key, slot) => {
      if (isTagProperty(key, schema)) this.tagSlots.set(key, slot);
    });
    this.eventSlot = this.tagKeys.indexOf("event");
    this.userTypeSlot = this.tagKeys.indexOf("user_type");
    this.tagValues = new Array<string | undefined>(this.tagKeys.length);
  }

  build(event: EventItem, distinctId: string, userType?: UserType): EventLine {
    const values = this.tagValues;
    values.fill(undefined);
    values[this.eventSlot] = toTagValue(event.event);
    if (userType !== undefined && distinctId !== "") values[this.userTypeSlot] = userType;

    let fields = `insert_id=${quoteStringValue(event.insertId)},distinct_id=${quoteStringValue(distinctId)}`;
    if (event.distinctId !== "" && event.distinctId !== distinctId) fields += `${BEFORE_IDENTITY}${quoteStringValue(event.distinctId)}`;
    let droppedProperties = 0;
    const { properties } = event;
    for (const key of Object.keys(properties)) {
      const raw = properties[key];
      const info = this.keys.get(key) ?? this.learnKey(key);
      if (info.slot >= 0) {
        values[info.slot] = normaliseTagValue(key, toTagValue(raw));
        continue;
      }
      let formatted: string;
      let type: InfluxFieldType;
      switch (typeof raw) {
        case "string":
          formatted = quoteStringValue(raw);
          type = "string";
          break;
        case "number":
          if (!Number.isFinite(raw)) continue;
          formatted = String(raw);
          type = "float";
          break;
        case "boolean":
          formatted = raw ? "true" : "false";
          type = "boolean";
          break;
        default:
          if (raw === null || raw === undefined) continue;
          formatted = quoteStringValue(JSON.stringify(raw));
          type = "string";
      }
      if (!info.ownName) return this.fromPoint(event, distinctId, userType);
      if (info.type !== type || info.version !== this.types.version) {
        const field = this.types.fieldFor(measurements.events, key, type);
        if (field === undefined) {
          droppedProperties += 1;
          continue;
        }
        if (field !== key) return this.fromPoint(event, distinctId, userType);
        info.type = type;
        info.version = this.types.version;
      }
      fields += `${info.prefix}${formatted}`;
    }

    let series = this.measurement;
    for (let slot = 0; slot < values.length; slot += 1) {
      const value = values[slot];
      if (value !== undefined) series += `,${this.escapedTagKeys[slot]}=${escapeKey(value)}`;
    }
    return { series, fields, droppedProperties };
  }

  private learnKey(key: string): KeyInfo {
    const name = propertyFieldName(key, this.schema);
    const info: KeyInfo = { slot: this.tagSlots.get(key) ?? -1, ownName: name === key, prefix: `,${escapeKey(key)}=`, version: -1 };
    if (this.keys.size >= KEYS_KEPT) this.keys.clear();
    this.keys.set(key, info);
    return info;
  }

  /** The general case, by the data model's own rules. */
  private fromPoint(event: EventItem, distinctId: string, userType: UserType | undefined): EventLine {
    const { point, droppedProperties } = toEventPoint(event, distinctId, this.schema, this.types, userType);
    // An event point always has its insert_id field, so the field set is never empty.
    return { series: lineSeries(point), fields: lineFields(point) as string, droppedProperties };
  }
}
