import { IntegerValue, type FieldValue } from "../core/line-protocol";

/**
 * The type-change policy. InfluxDB fixes a field's type with its first write (per shard) and drops
 * later points whose value has another type ("field type conflict", a partial write: the other points
 * of the request are written). So the worker remembers the type of every field it writes, per
 * measurement, and writes a value of another type under `<field>:<type>` (`plan:float` next to the
 * string field `plan`). When InfluxDB knows better (a type from before this process, another worker
 * that wrote first), its conflict answer is learnt and the batch is written again; the points are
 * idempotent, so writing them twice is harmless.
 */

export type InfluxFieldType = "float" | "integer" | "string" | "boolean";

const influxFieldTypes: readonly string[] = ["float", "integer", "string", "boolean"];

/** A name can pick up at most this many suffixes (`x:string:float`...); past that the value is dropped. */
const MAX_SUFFIXES = 3;

export function fieldTypeOf(value: FieldValue): InfluxFieldType {
  switch (typeof value) {
    case "number":
      return "float";
    case "string":
      return "string";
    case "boolean":
      return "boolean";
    default:
      return value instanceof IntegerValue ? "integer" : "string";
  }
}

export class FieldTypes {
  private readonly byMeasurement = new Map<string, Map<string, InfluxFieldType>>();
  private count = 0;
  /** Counts what `learn` changed: lines built with an older version may be out of date. */
  version = 0;

  /**
   * `maxFields` bounds the memory (`WORKER_FIELD_TYPES_MAX`): past it the oldest types are
   * forgotten. A forgotten type costs at most one more round trip: InfluxDB's conflict answer
   * teaches it again.
   */
  constructor(private readonly maxFields = Number.POSITIVE_INFINITY) {}

  get size(): number {
    return this.count;
  }

  private remember(fields: Map<string, InfluxFieldType>, name: string, type: InfluxFieldType): void {
    if (!fields.has(name)) {
      if (this.count >= this.maxFields) this.forgetOldest();
      this.count += 1;
    }
    fields.set(name, type);
  }

  private forgetOldest(): void {
    for (const fields of this.byMeasurement.values()) {
      const oldest = fields.keys().next();
      if (oldest.done) continue;
      fields.delete(oldest.value);
      this.count -= 1;
      return;
    }
  }

  private fields(measurement: string): Map<string, InfluxFieldType> {
    let fields = this.byMeasurement.get(measurement);
    if (!fields) {
      fields = new Map();
      this.byMeasurement.set(measurement, fields);
    }
    return fields;
  }

  /**
   * The field name a value of `type` is written under: `name` itself when its type is unknown (it is
   * then claimed) or the same; otherwise `name:type`, and so on. Undefined when no name is left.
   */
  fieldFor(measurement: string, name: string, type: InfluxFieldType): string | undefined {
    const fields = this.fields(measurement);
    let candidate = name;
    for (let suffixes = 0; suffixes <= MAX_SUFFIXES; suffixes += 1) {
      const known = fields.get(candidate);
      if (known === undefined) {
        this.remember(fields, candidate, type);
        return candidate;
      }
      if (known === type) return candidate;
      candidate = `${candidate}:${type}`;
    }
    return undefined;
  }

  /** What InfluxDB says a field is: it wins over what this process believed. Returns whether it changed anything. */
  learn(measurement: string, name: string, type: InfluxFieldType): boolean {
    const fields = this.fields(measurement);
    if (fields.get(name) === type) return false;
    this.remember(fields, name, type);
    this.version += 1;
    return true;
  }

  typeOf(measurement: string, name: string): InfluxFieldType | undefined {
    return this.byMeasurement.get(measurement)?.get(name);
  }
}

export interface TypeConflict {
  measurement: string;
  field: string;
  /** The type InfluxDB already holds for the field. */
  existing: InfluxFieldType;
  /** The type of the value that was refused. */
  refused: InfluxFieldType;
}

const conflictPattern = /field type conflict: input field "(.*)" on measurement "(.*)" is type (\w+), already exists as type (\w+)/s;

/** Reads InfluxDB's partial-write answer (1.x: the first conflict of the request). */
export function parseTypeConflict(message: string): TypeConflict | undefined {
  const match = conflictPattern.exec(message);
  if (!match) return undefined;
  const [, field, measurement, refused, existing] = match;
  if (!influxFieldTypes.includes(existing!) || !influxFieldTypes.includes(refused!)) return undefined;
  return {
    field: field!,
    measurement: measurement!,
    existing: existing as InfluxFieldType,
    refused: refused as InfluxFieldType,
  };
}

/** The property a field of `events` holds: its name without the suffixes of the type policy (`plan:float` → `plan`). */
export function propertyNameOfField(field: string): string {
  let name = field;
  for (;;) {
    const colon = name.lastIndexOf(":");
    if (colon === -1) return name;
    const suffix = name.slice(colon + 1);
    if (suffix !== "property" && !influxFieldTypes.includes(suffix)) return name;
    name = name.slice(0, colon);
  }
}

/** Rows of `SHOW FIELD KEYS` (columns fieldKey, fieldType), used to start with what InfluxDB holds. */
export function isInfluxFieldType(value: unknown): value is InfluxFieldType {
  return typeof value === "string" && influxFieldTypes.includes(value);
}
