import { once } from "node:events";
import type { Writable } from "node:stream";
import { constants, createGzip } from "node:zlib";
import { reportRange } from "../buckets";
import { DISTINCT_ID_FIELD, EVENT_NAME_TAG, fieldProperty, INSERT_ID_FIELD, storedTag, storedValue, tagProperty, type EventCatalog } from "../event-columns";
import type { EventRow } from "../event-scan";
import type { Value } from "../expression/values";
import { LimitExceeded } from "../limits";
import { ParamError } from "../params";
import { parseDay, TimeZone } from "../time-zone";
import { newScan, type Endpoint } from "./context";

/**
 * `/api/2.0/export`: raw events as Mixpanel's NDJSON, one `{"event", "properties"}` per line, with
 * `time` (seconds, or ms with `time_in_ms=true`), the canonical `distinct_id` (after identity merges,
 * as Mixpanel exports), `$insert_id` and every stored property under its own name (type-suffixed and
 * reserved columns read back to the property they came from); our own columns (`user_type`,
 * `$distinct_id_before_identity`) are left out. Streamed as read, gzip when the client accepts it;
 * `from_date`/`to_date` are UTC days, as Mixpanel's export reads them.
 */

const UTC = new TimeZone("UTC");

interface ColumnReader {
  property: string;
  position: number;
  tag: boolean;
}

function columnReaders(columns: readonly string[], catalog: EventCatalog): ColumnReader[] {
  const types = new Map(catalog.fieldKeys.map((field) => [field.key, field.type]));
  const tags = new Set(catalog.tagKeys);
  const readers: ColumnReader[] = [];
  columns.forEach((column, position) => {
    if (position === 0 || column === EVENT_NAME_TAG || column === DISTINCT_ID_FIELD || column === INSERT_ID_FIELD) return;
    const property = tags.has(column) ? tagProperty(column) : fieldProperty(column, types.get(column) ?? "");
    if (property !== undefined) readers.push({ property, position, tag: tags.has(column) });
  });
  return readers;
}

export const exportEvents: Endpoint = async (params, context) => {
  params.checkProject();
  const day = (name: string) => {
    const text = params.required(name);
    const parsed = parseDay(text);
    if (!parsed) throw new ParamError(`${name} must be a date as yyyy-mm-dd (got ${JSON.stringify(text.slice(0, 50))})`);
    return parsed;
  };
  const range = reportRange(day("from_date"), day("to_date"), UTC);
  if (range.end <= range.start) throw new ParamError("to_date must not be before from_date");
  const days = Math.round((range.end - range.start) / 86_400_000);
  if (days > context.limits.maxRangeDays) throw new LimitExceeded("maxRangeDays", `from_date to to_date spans ${days} days, more than ${context.limits.maxRangeDays}`);
  const events = params.stringList("event");
  const where = params.expression("where");
  const limit = params.integer("limit", Number.MAX_SAFE_INTEGER, 1, 100_000_000);
  if (params.has("limit") && limit > 100_000) throw new ParamError("limit may not be more than 100000");
  const inMs = params.boolean("time_in_ms", false);
  const { scan, run } = await newScan(context, { events, where, expressions: [], start: range.start, end: range.end }, { allColumns: true });
  const readers = columnReaders(scan.columns, await context.catalog());
  const insertPosition = scan.columns.indexOf(INSERT_ID_FIELD);

  const line = (row: EventRow): string => {
    const properties: Record<string, Value> = { time: inMs ? row.time : Math.floor(row.time / 1000) };
    if (row.distinctId !== "") properties.distinct_id = row.distinctId;
    const insertId = row.values[insertPosition];
    if (typeof insertId === "string") properties.$insert_id = insertId;
    for (const reader of readers) {
      if (Object.hasOwn(properties, reader.property)) continue;
      const value = reader.tag ? storedTag(row.values[reader.position]) : storedValue(row.values[reader.position]);
      if (value !== undefined) properties[reader.property] = value;
    }
    return `${JSON.stringify({ event: row.event, properties })}\n`;
  };

  return {
    status: 200,
    stream: async (response, acceptsGzip) => {
      response.writeHead(200, { "Content-Type": "text/plain; charset=utf-8", ...(acceptsGzip ? { "Content-Encoding": "gzip" } : {}) });
      const gzip = acceptsGzip ? createGzip({ level: constants.Z_BEST_SPEED }) : undefined;
      if (gzip) gzip.pipe(response);
      const out: Writable = gzip ?? response;
      let written = 0;
      let buffered: string[] = [];
      const flush = async () => {
        if (buffered.length === 0) return;
        const ok = out.write(buffered.join(""));
        buffered = [];
        if (!ok) await Promise.race([once(out, "drain"), once(response, "close")]);
        if (response.destroyed) throw new Error("the client went away");
      };
      try {
        await run(
          (row) => {
            if (written >= limit) return;
            buffered.push(line(row));
            written += 1;
          },
          flush,
        );
        await flush();
      } catch (error) {
        // Headers are out: the only honest way to say "incomplete" is to break the connection.
        response.destroy(error as Error);
        throw error;
      }
      out.end();
      if (gzip) await once(response, "finish").catch(() => undefined);
    },
  };
};
