import type { Point } from "./dataset";
import type { TimeRange } from "./grafana-time";

/**
 * Plain TypeScript versions of what the panel queries compute, applied to the in-memory data set:
 * the expected side of every panel test. They follow InfluxQL's rules for time ranges and
 * buckets (inclusive millisecond bounds on nanosecond timestamps, buckets aligned to the epoch
 * plus an offset, rows for every bucket that overlaps the range) but share no code with a query.
 */

export type Cell = number | string | null;

/** A series as InfluxDB returns it in JSON: group tags, column names, rows. */
export interface ExpectedSeries {
  tags?: Record<string, string>;
  columns: string[];
  values: Cell[][];
}

/** `time >= <from>ms AND time <= <to>ms` on a nanosecond timestamp. */
export function inRange(point: Point, range: TimeRange): boolean {
  if (point.timeMs < range.from || point.timeMs > range.to) return false;
  return point.timeMs < range.to || point.offsetNs === 0;
}

export function bucketStart(timeMs: number, everyMs: number, offsetMs = 0): number {
  return Math.floor((timeMs - offsetMs) / everyMs) * everyMs + offsetMs;
}

/** The bucket starts InfluxDB returns for `GROUP BY time(every, offset)` over a range. */
export function bucketStarts(range: TimeRange, everyMs: number, offsetMs = 0): number[] {
  const starts: number[] = [];
  for (let start = bucketStart(range.from, everyMs, offsetMs); start <= range.to; start += everyMs) starts.push(start);
  return starts;
}

/** Points grouped by the values of some tags (a missing tag groups as ""), as `GROUP BY "tag"` does. */
export function groupByTags(points: readonly Point[], tagKeys: readonly string[]): Map<string, { tags: Record<string, string>; points: Point[] }> {
  const groups = new Map<string, { tags: Record<string, string>; points: Point[] }>();
  for (const point of points) {
    const tags = Object.fromEntries(tagKeys.map((key) => [key, point.tags[key] ?? ""]));
    const key = JSON.stringify(tags);
    const group = groups.get(key) ?? { tags, points: [] };
    group.points.push(point);
    groups.set(key, group);
  }
  return groups;
}

export interface BucketOptions {
  everyMs: number;
  offsetMs?: number;
  /** What an empty bucket shows: `fill(0)` gives 0, the default gives null. */
  empty: 0 | null;
}

/** One row per bucket: `[bucket start, ...aggregate(points in the bucket)]`. */
export function bucketRows(
  points: readonly Point[],
  range: TimeRange,
  options: BucketOptions,
  aggregate: (points: Point[]) => Cell[],
): Cell[][] {
  const byBucket = new Map<number, Point[]>();
  for (const point of points) {
    if (!inRange(point, range)) continue;
    const start = bucketStart(point.timeMs, options.everyMs, options.offsetMs);
    const bucket = byBucket.get(start);
    if (bucket) bucket.push(point);
    else byBucket.set(start, [point]);
  }
  return bucketStarts(range, options.everyMs, options.offsetMs).map((start) => {
    const inBucket = byBucket.get(start);
    if (!inBucket) return [start, ...aggregate([]).map(() => options.empty)];
    return [start, ...aggregate(inBucket)];
  });
}

export function numberField(point: Point, field: string): number {
  const value = point.fields[field];
  if (typeof value !== "number") throw new Error(`${point.measurement} point has no numeric ${field}`);
  return value;
}

export const count = (points: readonly Point[]) => points.length;

export function distinctUsers(points: readonly Point[]): number {
  return new Set(points.map((point) => point.fields.distinct_id)).size;
}

export function sum(points: readonly Point[], field: string): number {
  return points.reduce((total, point) => total + numberField(point, field), 0);
}

export function max(points: readonly Point[], field: string): number | null {
  return points.length ? Math.max(...points.map((point) => numberField(point, field))) : null;
}

export function mean(points: readonly Point[], field: string): number | null {
  return points.length ? sum(points, field) / points.length : null;
}

/** The field of the newest point (InfluxQL `last()`). */
export function last(points: readonly Point[], field: string): number | null {
  let newest: Point | undefined;
  for (const point of points) {
    if (!newest || point.timeMs > newest.timeMs || (point.timeMs === newest.timeMs && point.offsetNs > newest.offsetNs)) newest = point;
  }
  return newest ? numberField(newest, field) : null;
}
