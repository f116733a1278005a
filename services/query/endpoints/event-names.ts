import { InfluxClient, quoteIdentifier } from "../../core/influx";
import { influxString } from "../expression/influxql";
import { DISTINCT_ID_FIELD, EVENT_NAME_TAG, fieldProperty, INSERT_ID_FIELD, tagProperty } from "../event-columns";
import type { Endpoint, QueryContext } from "./context";

/**
 * What Grafana's variables and a newcomer exploring need: event names, an event's properties and a
 * property's values, over the last 31 days (Mixpanel's window for `/events/names`). These are
 * aggregates InfluxDB computes itself, not streamed rows.
 */

const LAST_31_DAYS = "time > now() - 31d";
const client = (context: QueryContext) => new InfluxClient({ ...context.influx, timeoutMs: context.limits.timeoutMs });

/** `/events/names`: the most common event names, most frequent first. */
export const eventNames: Endpoint = async (params, context) => {
  params.checkProject();
  params.choice("type", ["general", "unique", "average"], "general");
  const limit = params.integer("limit", 255, 1, 10_000);
  const rows = await client(context).rows(`SELECT count(${quoteIdentifier(INSERT_ID_FIELD)}) FROM "events" WHERE ${LAST_31_DAYS} GROUP BY ${quoteIdentifier(EVENT_NAME_TAG)}`, {
    db: context.database,
  });
  const counted = rows.map((row) => ({ name: String(row[EVENT_NAME_TAG] ?? ""), count: Number(row.count ?? 0) })).filter((row) => row.name !== "");
  counted.sort((a, b) => b.count - a.count || (a.name < b.name ? -1 : 1));
  return { status: 200, json: counted.slice(0, limit).map((row) => row.name) };
};

/** `/events/properties/top`: an event's properties by how many of its events carry them. */
export const eventPropertiesTop: Endpoint = async (params, context) => {
  params.checkProject();
  const event = params.required("event");
  const limit = params.integer("limit", 10, 1, 10_000);
  const catalog = await context.catalog();
  const eventText = influxString(event);
  if (eventText === undefined) return { status: 200, json: {} };
  const filter = `${quoteIdentifier(EVENT_NAME_TAG)} = ${eventText} AND ${LAST_31_DAYS}`;
  const counts = new Map<string, number>();
  const add = (property: string | undefined, count: number) => {
    if (property === undefined || count <= 0) return;
    counts.set(property, (counts.get(property) ?? 0) + count);
  };
  const [fieldRow] = await client(context).rows(`SELECT count(*) FROM "events" WHERE ${filter}`, { db: context.database });
  const types = new Map(catalog.fieldKeys.map((field) => [field.key, field.type]));
  for (const [column, value] of Object.entries(fieldRow ?? {})) {
    if (!column.startsWith("count_")) continue;
    const field = column.slice("count_".length);
    if (field === DISTINCT_ID_FIELD || field === INSERT_ID_FIELD) continue;
    add(fieldProperty(field, types.get(field) ?? ""), Number(value));
  }
  const tags = catalog.tagKeys.filter((tag) => tagProperty(tag) !== undefined);
  if (tags.length) {
    const rows = await client(context).rows(`SELECT count(${quoteIdentifier(INSERT_ID_FIELD)}) FROM "events" WHERE ${filter} GROUP BY ${tags.map(quoteIdentifier).join(", ")}`, {
      db: context.database,
    });
    for (const row of rows) for (const tag of tags) if (row[tag]) add(tagProperty(tag), Number(row.count ?? 0));
  }
  const ranked = [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, limit);
  return { status: 200, json: Object.fromEntries(ranked.map(([name, count]) => [name, { count }])) };
};

/** `/events/properties/values`: the values one property of an event takes (as strings). */
export const eventPropertyValues: Endpoint = async (params, context) => {
  params.checkProject();
  const event = params.required("event");
  const name = params.required("name");
  const limit = params.integer("limit", 255, 1, 10_000);
  const entry = (await context.catalog()).property(name);
  const eventText = influxString(event);
  if (eventText === undefined) return { status: 200, json: [] };
  const values = new Set<string>();
  const influx = client(context);
  if (entry?.tag) {
    const rows = await influx.rows(`SHOW TAG VALUES FROM "events" WITH KEY = ${quoteIdentifier(entry.tag)} WHERE ${quoteIdentifier(EVENT_NAME_TAG)} = ${eventText}`, {
      db: context.database,
    });
    for (const row of rows) if (row.value !== undefined && row.value !== "") values.add(String(row.value));
  }
  for (const field of entry?.fields ?? []) {
    if (values.size >= limit) break;
    const rows = await influx.rows(
      `SELECT DISTINCT(${quoteIdentifier(field.column)}) FROM "events" WHERE ${quoteIdentifier(EVENT_NAME_TAG)} = ${eventText} AND ${LAST_31_DAYS}`,
      { db: context.database },
    );
    for (const row of rows) values.add(String(row.distinct));
  }
  return { status: 200, json: [...values].slice(0, limit) };
};
