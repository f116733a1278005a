import { addDays, dayLabel, dayNumber, pad, type TimeZone } from "./time-zone";

/**
 * The time buckets of a report (`unit` or `interval`), in the project's time zone: days, weeks
 * (Monday first) and months begin at local midnight; a bucket is labelled with its first local day
 * (`2026-03-02`), or `2026-03-02 14:00:00` for hours and minutes.
 */

export type Unit = "minute" | "hour" | "day" | "week" | "month";
export interface Day {
  year: number;
  month: number;
  day: number;
}

export interface ReportRange {
  from: Day;
  to: Day;
  /** Local midnight starting `from_date` (ms). */
  start: number;
  /** Local midnight after `to_date` (exclusive). */
  end: number;
}

export function reportRange(from: Day, to: Day, zone: TimeZone): ReportRange {
  const after = addDays(to, 1);
  return { from, to, start: zone.instant(from.year, from.month, from.day), end: zone.instant(after.year, after.month, after.day) };
}

export const rangeDays = (range: ReportRange) => dayNumber(range.to) - dayNumber(range.from) + 1;

export class Buckets {
  constructor(
    /** Start of each bucket (ms); the first may lie before the range (a week or month begun earlier). */
    readonly starts: number[],
    readonly labels: string[],
    readonly range: ReportRange,
  ) {}

  get length(): number {
    return this.starts.length;
  }

  /** The bucket of an instant, -1 outside the range. */
  index(ms: number): number {
    if (ms < this.range.start || ms >= this.range.end) return -1;
    let low = 0;
    let high = this.starts.length - 1;
    while (low < high) {
      const middle = (low + high + 1) >> 1;
      if (this.starts[middle]! <= ms) low = middle;
      else high = middle - 1;
    }
    return low;
  }
}

export type Bucketing = { unit: Unit } | { intervalDays: number };

/** Buckets over a range, or the number there would be when that exceeds `maxBuckets`. */
export function makeBuckets(range: ReportRange, bucketing: Bucketing, zone: TimeZone, maxBuckets: number): Buckets | { tooMany: number } {
  const starts: number[] = [];
  const labels: string[] = [];
  const days = rangeDays(range);
  const dayBuckets = (first: Day, next: (day: Day) => Day, count: number) => {
    if (count > maxBuckets) return { tooMany: count };
    for (let day = first; starts.length < count; day = next(day)) {
      starts.push(zone.instant(day.year, day.month, day.day));
      labels.push(dayLabel(day));
    }
    return new Buckets(starts, labels, range);
  };
  if ("intervalDays" in bucketing) {
    const step = bucketing.intervalDays;
    return dayBuckets(range.from, (day) => addDays(day, step), Math.ceil(days / step));
  }
  switch (bucketing.unit) {
    case "day":
      return dayBuckets(range.from, (day) => addDays(day, 1), days);
    case "week": {
      const monday = addDays(range.from, -((dayNumber(range.from) + 3) % 7));
      return dayBuckets(monday, (day) => addDays(day, 7), Math.ceil((dayNumber(range.to) - dayNumber(monday) + 1) / 7));
    }
    case "month": {
      const count = (range.to.year - range.from.year) * 12 + range.to.month - range.from.month + 1;
      const nextMonth = (day: Day): Day => (day.month === 12 ? { year: day.year + 1, month: 1, day: 1 } : { year: day.year, month: day.month + 1, day: 1 });
      return dayBuckets({ year: range.from.year, month: range.from.month, day: 1 }, nextMonth, count);
    }
    case "hour":
    case "minute": {
      const step = bucketing.unit === "hour" ? 3_600_000 : 60_000;
      const count = Math.ceil((range.end - range.start) / step);
      if (count > maxBuckets) return { tooMany: count };
      for (let start = range.start; start < range.end; start += step) {
        const local = zone.local(start);
        starts.push(start);
        labels.push(`${dayLabel(local)} ${pad(local.hour)}:${bucketing.unit === "hour" ? "00" : pad(local.minute)}:00`);
      }
      return new Buckets(starts, labels, range);
    }
  }
}
