import { InfluxError, quoteIdentifier, quoteString, type InfluxClient } from "../core/influx";
import { dayName } from "../core/reopened-days";
import { retentionPolicies, shards, type ShardInfo } from "./influx-archive";

/**
 * A person's points in InfluxDB: found shard by shard with a field condition on the identity fields
 * (InfluxDB 1.x cannot DELETE by field), read with their series (every tag) and exact nanosecond
 * time, and deleted one point at a time with `DELETE FROM <m> WHERE <every tag = value, or = '' when
 * absent> AND time = <ns>`: a series and a time name exactly one point, so nobody else's is touched.
 * (`docs/privacy.md` has the measurement that chose this over rewriting shards.)
 */

/**
 * Measurements that hold people, and the fields that name them. `$user_id` is not among them: an
 * event that carries one is counted under it (`distinct_id`), so `distinct_id` finds it already, and
 * every field in the condition costs a column read per point.
 */
export const personFields: Record<string, readonly string[]> = {
  events: ["distinct_id", "$distinct_id_before_identity", "$device_id"],
  identity_merges: ["device_id", "user_id"],
  profile_updates: ["distinct_id"],
};

/** The worker's type-change policy stores a value of another type under `<name>:<type>`. */
const TYPE_SUFFIXES = /(?::(?:string|float|integer|boolean))*$/;

export interface FieldKey {
  name: string;
  type: string;
}

/** The stored fields that hold a base identity field: the name itself and its type-suffixed forms. */
export function identityFieldKeys(base: readonly string[], keys: readonly FieldKey[]): FieldKey[] {
  const bases = new Set(base);
  return keys.filter((key) => bases.has(key.name.replace(TYPE_SUFFIXES, "")));
}

/** InfluxQL condition matching any of `ids` in any of `fields` (numbers compared as numbers). */
export function identityCondition(fields: readonly FieldKey[], ids: readonly string[]): string | undefined {
  const terms: string[] = [];
  const numeric = ids.filter((id) => /^-?\d+(\.\d+)?$/.test(id));
  for (const field of fields) {
    if (field.type === "string") for (const id of ids) terms.push(`${quoteIdentifier(field.name)} = ${quoteString(id)}`);
    else if (field.type === "float" || field.type === "integer") for (const id of numeric) terms.push(`${quoteIdentifier(field.name)} = ${id}`);
  }
  return terms.length ? `(${terms.join(" OR ")})` : undefined;
}

/** RFC 3339 with up to nine fraction digits (InfluxDB's default time format) → ns since the epoch. */
export function nanosOf(time: string): bigint {
  const match = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?Z$/.exec(time);
  if (!match) throw new Error(`unexpected InfluxDB time ${JSON.stringify(time)}`);
  const seconds = Date.parse(`${match[1]}Z`) / 1000;
  return BigInt(seconds) * 1_000_000_000n + BigInt((match[2] ?? "").padEnd(9, "0"));
}

export interface StoredPoint {
  rp: string;
  measurement: string;
  /** ns since the epoch. */
  time: bigint;
  /** Every tag of the point's series (absent tags are not listed). */
  tags: Record<string, string>;
  /** The selected fields present on the point. */
  fields: Record<string, unknown>;
}

export interface MeasurementLayout {
  measurement: string;
  tagKeys: string[];
  fields: FieldKey[];
}

async function measurementsOf(client: InfluxClient, db: string): Promise<Set<string>> {
  const rows = await client.rows("SHOW MEASUREMENTS", { db });
  return new Set(rows.map((row) => String(row.name)));
}

/** Tag keys and the identity fields (with types) of each measurement that holds people. */
export async function personLayouts(client: InfluxClient, db: string): Promise<MeasurementLayout[]> {
  const present = await measurementsOf(client, db);
  const layouts: MeasurementLayout[] = [];
  for (const [measurement, base] of Object.entries(personFields)) {
    if (!present.has(measurement)) continue;
    const from = quoteIdentifier(measurement);
    const tagKeys = (await client.rows(`SHOW TAG KEYS FROM ${from}`, { db })).map((row) => String(row.tagKey)).sort();
    const keys = (await client.rows(`SHOW FIELD KEYS FROM ${from}`, { db })).map((row) => ({ name: String(row.fieldKey), type: String(row.fieldType) }));
    // A field whose type differs between shards is listed once per type.
    const seen = new Set<string>();
    const fields = identityFieldKeys(base, keys).filter((key) => !seen.has(`${key.name}/${key.type}`) && seen.add(`${key.name}/${key.type}`));
    if (fields.length) layouts.push({ measurement, tagKeys, fields });
  }
  return layouts;
}

/** The shards to look at, oldest first, clipped to `range` (ns, inclusive start, exclusive end). */
export async function shardsToScan(client: InfluxClient, db: string, range?: { from: bigint; to: bigint }): Promise<ShardInfo[]> {
  const policies = new Set((await retentionPolicies(client, db)).map((policy) => policy.name));
  const all = (await shards(client, db)).filter((shard) => policies.has(shard.rp));
  const inRange = range ? all.filter((shard) => nanosOf(shard.start) < range.to && nanosOf(shard.end) > range.from) : all;
  return inRange.sort((a, b) => a.start.localeCompare(b.start) || a.id - b.id);
}

/** Points per page of a scan (a person's points in one shard may be many more). */
export const PAGE = 10_000;
/** Ids per statement: a person with hundreds of devices still gives statements of a sane size. */
const IDS_PER_QUERY = 100;

/**
 * The person's points in one shard and measurement, in pages, by time. `columns`: "identity" reads
 * the identity fields only (enough to delete), "all" every field (for an export).
 */
export async function* pointsInShard(
  client: InfluxClient,
  db: string,
  shard: ShardInfo,
  layout: MeasurementLayout,
  ids: readonly string[],
  columns: "identity" | "all",
  pageSize = PAGE,
): AsyncGenerator<StoredPoint[]> {
  const source = `${quoteIdentifier(db)}.${quoteIdentifier(shard.rp)}.${quoteIdentifier(layout.measurement)}`;
  const tagKeys = new Set(layout.tagKeys);
  const select = columns === "all" ? "*" : [...layout.fields.map((field) => field.name), ...layout.tagKeys].map(quoteIdentifier).join(", ");
  // Groups of ids are looked up one after the other; a point matched by two groups is read once.
  const seen = new Set<string>();
  for (let start = 0; start < ids.length; start += IDS_PER_QUERY) {
    const condition = identityCondition(layout.fields, ids.slice(start, start + IDS_PER_QUERY));
    if (!condition) continue;
    let cursor = shard.start;
    let atCursor = new Set<string>();
    for (;;) {
      const query = `SELECT ${select} FROM ${source} WHERE ${condition} AND time >= ${quoteString(cursor)} AND time < ${quoteString(shard.end)} LIMIT ${pageSize}`;
      let results;
      try {
        results = await client.query(query, { db });
      } catch (error) {
        if (error instanceof InfluxError) throw new Error(`reading ${layout.measurement} in rp ${shard.rp} shard ${shard.id} failed: ${error.message}`);
        throw error;
      }
      const series = results[0]?.series?.[0];
      const rows = series?.values ?? [];
      const page: StoredPoint[] = [];
      const nextAtCursor = new Set<string>();
      const lastTime = rows.length ? String(rows[rows.length - 1]![0]) : cursor;
      for (const values of rows) {
        const point: StoredPoint = { rp: shard.rp, measurement: layout.measurement, time: nanosOf(String(values[0])), tags: {}, fields: {} };
        series!.columns.forEach((column, index) => {
          if (index === 0) return;
          const value = values[index];
          if (value === null || value === undefined) return;
          if (tagKeys.has(column)) point.tags[column] = String(value);
          else point.fields[column] = value;
        });
        const key = pointKey(point);
        if (String(values[0]) === lastTime) nextAtCursor.add(key);
        if (atCursor.has(key) || seen.has(key)) continue;
        seen.add(key);
        page.push(point);
      }
      if (page.length) yield page;
      if (rows.length < pageSize) break;
      if (lastTime === cursor && rows.every((values) => String(values[0]) === cursor)) {
        throw new Error(`more than ${pageSize} points of one person at ${cursor} in ${layout.measurement}: cannot page through them`);
      }
      // The next page starts at the last time seen; its points already read are skipped.
      cursor = lastTime;
      atCursor = nextAtCursor;
    }
  }
}

/** A point's identity: measurement, series and time. */
export function pointKey(point: Pick<StoredPoint, "measurement" | "tags" | "time">): string {
  const tags = Object.keys(point.tags)
    .sort()
    .map((key) => `${key}=${point.tags[key]}`)
    .join(",");
  return `${point.measurement},${tags} ${point.time}`;
}

/**
 * The statement that deletes exactly one point: every tag key of the measurement named, with its
 * value or `''` (InfluxQL's "tag absent"), and the exact time. DELETE has no retention-policy scope:
 * it applies to the same series and time in every policy of the database, which is the same event.
 */
export function deletePointStatement(point: Pick<StoredPoint, "measurement" | "tags" | "time">, tagKeys: readonly string[]): string {
  return `DELETE FROM ${quoteIdentifier(point.measurement)} WHERE ${pointCondition(point, tagKeys)}`;
}

/** The condition naming exactly one point: its series (every tag key, `''` when absent) and its time. */
export function pointCondition(point: Pick<StoredPoint, "tags" | "time">, tagKeys: readonly string[]): string {
  const conditions = tagKeys.map((key) => `${quoteIdentifier(key)} = ${quoteString(point.tags[key] ?? "")}`);
  conditions.push(`time = ${point.time}`);
  return conditions.join(" AND ");
}

/** Statements per request: one request, one round trip, one InfluxDB log line. */
const DELETES_PER_REQUEST = 200;

export async function deletePoints(client: InfluxClient, db: string, points: readonly StoredPoint[], tagKeys: readonly string[]): Promise<void> {
  for (let start = 0; start < points.length; start += DELETES_PER_REQUEST) {
    const statements = points.slice(start, start + DELETES_PER_REQUEST).map((point) => deletePointStatement(point, tagKeys));
    await client.query(statements.join(";\n"), { db });
  }
}

/**
 * How many of `points` are still there, each looked up by its series and time (the index finds the
 * series, the time is one seek): far cheaper than scanning the shard again by field.
 */
export async function countRemaining(client: InfluxClient, db: string, points: readonly StoredPoint[], tagKeys: readonly string[]): Promise<number> {
  let remaining = 0;
  for (let start = 0; start < points.length; start += DELETES_PER_REQUEST) {
    const statements = points
      .slice(start, start + DELETES_PER_REQUEST)
      .map((point) => `SELECT * FROM ${quoteIdentifier(db)}.${quoteIdentifier(point.rp)}.${quoteIdentifier(point.measurement)} WHERE ${pointCondition(point, tagKeys)}`);
    const results = await client.query(statements.join(";\n"), { db });
    remaining += results.filter((result) => (result.series?.[0]?.values?.length ?? 0) > 0).length;
  }
  return remaining;
}

/** The `identity_merges` pairs (device → user) that name any of `ids` as device or user. */
export async function mergeLinks(client: InfluxClient, db: string, ids: readonly string[]): Promise<{ device: string; user: string }[]> {
  if (ids.length === 0 || !(await measurementsOf(client, db)).has("identity_merges")) return [];
  const links: { device: string; user: string }[] = [];
  for (let start = 0; start < ids.length; start += IDS_PER_QUERY) {
    const chunk = ids.slice(start, start + IDS_PER_QUERY);
    const condition = identityCondition([{ name: "device_id", type: "string" }, { name: "user_id", type: "string" }], chunk);
    const rows = await client.rows(`SELECT "device_id", "user_id" FROM "identity_merges" WHERE ${condition}`, { db });
    for (const row of rows) if (typeof row.device_id === "string" && typeof row.user_id === "string") links.push({ device: row.device_id, user: row.user_id });
  }
  return links;
}

export interface PointErasure {
  /** Points deleted, per measurement. */
  deleted: Record<string, number>;
  shardsScanned: number;
  /** UTC days (`YYYY-MM-DD`) that lost points: the rollups must compute them again. */
  days: string[];
}

/**
 * Finds and deletes the person's points, shard by shard and measurement by measurement, then looks
 * each deleted point up again: a point that survived its DELETE is an error, never a silent leftover.
 */
const NANOS_PER_DAY = 86_400_000_000_000n;

export async function erasePersonPoints(
  client: InfluxClient,
  db: string,
  ids: readonly string[],
  options: { range?: { from: bigint; to: bigint }; onShard?: (name: string) => void; pageSize?: number } = {},
): Promise<PointErasure> {
  const result: PointErasure = { deleted: {}, shardsScanned: 0, days: [] };
  if (ids.length === 0) return result;
  const days = new Set<string>();
  const layouts = await personLayouts(client, db);
  for (const shard of await shardsToScan(client, db, options.range)) {
    for (const layout of layouts) {
      let found = 0;
      for await (const page of pointsInShard(client, db, shard, layout, ids, "identity", options.pageSize)) {
        await deletePoints(client, db, page, layout.tagKeys);
        const left = await countRemaining(client, db, page, layout.tagKeys);
        if (left > 0) throw new Error(`${left} ${layout.measurement} points in rp ${shard.rp} shard ${shard.id} survived their DELETE`);
        found += page.length;
        for (const point of page) days.add(dayName(Number(point.time / NANOS_PER_DAY)));
      }
      if (found === 0) continue;
      result.deleted[layout.measurement] = (result.deleted[layout.measurement] ?? 0) + found;
    }
    result.shardsScanned += 1;
    options.onShard?.(`rp ${shard.rp} shard ${shard.id}`);
  }
  result.days = [...days].sort();
  return result;
}
