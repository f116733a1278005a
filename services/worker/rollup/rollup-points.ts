import { IntegerValue, nanosecondTimestamp, type Point } from "../../core/line-protocol";
import type { DayNumber } from "./activity-window";
import { MS_PER_DAY, MS_PER_HOUR, USER_TYPE_TAG, type DayFacts, type HourCounts } from "./day-facts";

/**
 * The rollup measurements (docs/contracts.md, docs/dashboards.md): pure functions from the figures
 * of a day to points.
 *
 * Where a day's figures sit in time: panels read them with `last()` per bucket, and a bucket must
 * find its day whether the range starts in the middle of it (the first day of "last 30 days") or
 * ends in it (today, up to now). So a closed day has two points with the same figures, at its first
 * millisecond and at its last one (`23:59:59.999`, which `$timeFilter` still includes); the open day
 * (today) only the first, rewritten as the day goes on.
 *
 * Hourly counts are summed, so they cannot be written twice: a closed hour's count sits at its last
 * millisecond, with a 0 at its first (where the count stood while the hour was open); the open hour's
 * count sits at its first millisecond. A bucket that overlaps the range thus always counts whole
 * days and whole hours.
 */

export const rollupMeasurements = {
  days: "rollup_days",
  userTypes: "rollup_user_types",
  events: "rollup_events",
  hours: "rollup_hours",
  breakdowns: "rollup_breakdowns",
} as const;

/** The figures of `rollup_days` for one day. */
export interface DayFigures {
  day: DayNumber;
  /** Distinct people active on the day. */
  dau: number;
  /** ... in the 7 days that end with it. */
  wau: number;
  /** ... in the 30 days that end with it. */
  mau: number;
  /** ... from the Monday of its week to the day. */
  wtd: number;
  /** Mean DAU of the 30 days that end with it, divided by its MAU (0 without anyone). */
  stickiness: number;
  /** Distinct people with a sign-up event on the day, and in the 7 days that end with it. */
  signups: number;
  signups7d: number;
  /** Events, anonymous ones included. */
  events: number;
}

const int = (value: number) => new IntegerValue(value);
const at = (ms: number) => nanosecondTimestamp(ms, 0);

/** The first and, once the day is over, the last millisecond of a day. */
export function dayStamps(day: DayNumber, closed: boolean): number[] {
  const start = day * MS_PER_DAY;
  return closed ? [start, start + MS_PER_DAY - 1] : [start];
}

/** The Monday of a day's week (day 0, 1970-01-01, was a Thursday). */
export function mondayOf(day: DayNumber): DayNumber {
  return day - ((day + 3) % 7);
}

export function dayPoints(figures: DayFigures, closed: boolean): Point[] {
  return dayStamps(figures.day, closed).map((ms) => ({
    measurement: rollupMeasurements.days,
    tags: {},
    fields: {
      dau: int(figures.dau),
      wau: int(figures.wau),
      mau: int(figures.mau),
      wtd: int(figures.wtd),
      stickiness: figures.stickiness,
      signups: int(figures.signups),
      signups_7d: int(figures.signups7d),
      events: int(figures.events),
    },
    timestamp: at(ms),
  }));
}

/** People per `user_type`, people and events per event name, events per series and hour. */
export function dayDetailPoints(facts: DayFacts, closed: boolean, nowMs: number): Point[] {
  const points: Point[] = [];
  const stamps = dayStamps(facts.day, closed);
  for (const [userType, users] of facts.userTypes) {
    const tags: Record<string, string> = userType === "" ? {} : { [USER_TYPE_TAG]: userType };
    for (const ms of stamps) points.push({ measurement: rollupMeasurements.userTypes, tags, fields: { users: int(users) }, timestamp: at(ms) });
  }
  for (const [event, { events, users }] of facts.perEvent) {
    for (const ms of stamps) points.push({ measurement: rollupMeasurements.events, tags: { event }, fields: { events: int(events), users: int(users) }, timestamp: at(ms) });
  }
  hourPoints(points, rollupMeasurements.hours, facts.day, facts.hours.values(), nowMs);
  hourPoints(points, rollupMeasurements.breakdowns, facts.day, facts.breakdowns.values(), nowMs);
  return points;
}

function hourPoints(into: Point[], measurement: string, day: DayNumber, series: Iterable<HourCounts>, nowMs: number): void {
  const dayStart = day * MS_PER_DAY;
  for (const { tags, counts } of series) {
    for (let hour = 0; hour < 24; hour += 1) {
      const events = counts[hour]!;
      if (events === 0) continue;
      const start = dayStart + hour * MS_PER_HOUR;
      if (start + MS_PER_HOUR <= nowMs) {
        into.push({ measurement, tags, fields: { events: int(0) }, timestamp: at(start) });
        into.push({ measurement, tags, fields: { events: int(events) }, timestamp: at(start + MS_PER_HOUR - 1) });
      } else {
        into.push({ measurement, tags, fields: { events: int(events) }, timestamp: at(start) });
      }
    }
  }
}
