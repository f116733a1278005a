import { expect } from "vitest";
import { dayMs, signupEventNames, type Dataset, type Point } from "./dataset";
import { LIMIT_REASONS } from "../../grafana/src/dashboards/pipeline-health";
import type { TimeRange } from "./grafana-time";
import {
  bucketRows,
  bucketStarts,
  count,
  distinctUsers,
  groupByTags,
  inRange,
  last,
  max,
  mean,
  numberField,
  sum,
  type Cell,
  type ExpectedSeries,
} from "./influxql-reference";

/**
 * What every panel query must return, computed from the data set. Keyed by
 * `<dashboard uid> › <panel title> › <refId>`; the panel test enumerates the generated JSON and
 * fails for a query without an entry here, and for an entry without a query.
 */

export interface PanelContext {
  /** The panel's own time range (after `timeFrom`/`timeShift`). */
  range: TimeRange;
  /** The scenario's clock when the query ran: the panels with a fixed window are checked against it, not against `range`. */
  now: number;
  intervalMs: number;
  /** Literal selections: the event names behind `$event`, the tag key behind `$breakdown`. */
  events: readonly string[];
  breakdown: string;
  data: Dataset;
  /** Independent figures about the InfluxDB under test, for the panels that read `_internal`. */
  influx: { seriesCount(): number; shardBytesOnDisk(): number };
}

/** A series as InfluxDB returned it. */
export interface ActualSeries {
  tags: Record<string, string>;
  columns: string[];
  values: Cell[][];
}

export type Expectation =
  /** The whole result: every series, column and row. */
  | { kind: "series"; expected(context: PanelContext): ExpectedSeries[] }
  /** One series of one row (stat panels): its value, whatever time InfluxDB stamps it with. */
  | { kind: "value"; expected(context: PanelContext): number }
  /** A condition on a result that changes on its own (InfluxDB's statistics); polled until it holds. */
  | { kind: "eventually"; check(context: PanelContext, actual: ActualSeries[]): void };

const series = (expected: (context: PanelContext) => ExpectedSeries[]): Expectation => ({ kind: "series", expected });
const value = (expected: (context: PanelContext) => number): Expectation => ({ kind: "value", expected });

const withUser = (points: readonly Point[]) => points.filter((point) => point.fields.distinct_id !== "");
const signups = (points: readonly Point[]) => points.filter((point) => signupEventNames.has(point.tags.event!));
const selected = (context: PanelContext, points: readonly Point[]) => points.filter((point) => context.events.includes(point.tags.event!));
const ofMeasurement = (context: PanelContext, measurement: string) =>
  context.data.pipeline.filter((point) => point.measurement === measurement && inRange(point, context.range));

/** One series per group of tag values, each with a row per bucket. */
function perGroup(
  points: readonly Point[],
  tagKeys: string[],
  columns: string[],
  rows: (points: Point[]) => Cell[][],
): ExpectedSeries[] {
  return [...groupByTags(points, tagKeys).values()].map(({ tags, points: grouped }) => ({ tags, columns, values: rows(grouped) }));
}

/** Each row of a grouped total carries the start of the range as its time. */
function totalsPerGroup(context: PanelContext, points: readonly Point[], tagKeys: string[], column: string, total: (points: Point[]) => number) {
  return perGroup(points, tagKeys, ["time", column], (grouped) => [[context.range.from, total(grouped)]]);
}

const daily = { everyMs: dayMs, empty: 0 } as const;
const everyInterval = (context: PanelContext, empty: 0 | null) => ({ everyMs: context.intervalMs, empty });
const perSecond = (context: PanelContext, field: string) => (points: Point[]) => [(sum(points, field) * 1000) / context.intervalMs];

/**
 * The product panels promise whole hours and whole UTC days (docs/dashboards.md): what follows
 * says it in terms of the data set alone, sharing nothing with the rollup job.
 */
const hourMs = 3_600_000;
const dayOf = (timeMs: number) => Math.floor(timeMs / dayMs);
const startOfDay = (now: number, daysBefore = 0) => (dayOf(now) - daysBefore) * dayMs;

/**
 * Where an event's hour shows: a finished hour at its last millisecond, the hour still going on
 * (at the clock of the rollups) at its first. An event counts in a panel when that instant is in
 * the range, in the bucket of that instant: the hour a range starts in counts whole.
 */
function hourStamped(context: PanelContext): Point[] {
  return context.data.events
    .map((point) => {
      const hour = Math.floor(point.timeMs / hourMs) * hourMs;
      return { ...point, timeMs: hour + hourMs <= context.now ? hour + hourMs - 1 : hour, offsetNs: 0 };
    })
    .filter((point) => inRange(point, context.range));
}

/** The events of the UTC days `from` to `to` (day numbers). */
function onDays(context: PanelContext, from: number, to: number): Point[] {
  return context.data.events.filter((point) => dayOf(point.timeMs) >= from && dayOf(point.timeMs) <= to && point.timeMs <= context.now);
}

/** The first and last days with events: the rollups write a day's points from the one to the other. */
function rolledDays(context: PanelContext): { first: number; today: number } {
  return { first: Math.min(...context.data.events.map((point) => dayOf(point.timeMs))), today: dayOf(context.now) };
}

/**
 * The days a panel's range shows: a day that has ended is shown when its first or its last
 * millisecond is in the range (so the day a range starts in counts whole), today when its first is.
 */
function shownDay(context: PanelContext, day: number): boolean {
  const { first, today } = rolledDays(context);
  if (day < first || day > today) return false;
  const start = day * dayMs;
  const within = (ms: number) => ms >= context.range.from && ms <= context.range.to;
  return within(start) || (day < today && within(start + dayMs - 1));
}

/** One row per daily bucket of the range: the day's figure when the day is shown, else `empty`. */
function dayRows(context: PanelContext, empty: 0 | null, ...figures: Array<(day: number) => number>): Cell[][] {
  return bucketStarts(context.range, dayMs).map((start) => {
    const day = dayOf(start);
    return [start, ...figures.map((figure) => (shownDay(context, day) ? figure(day) : empty))];
  });
}

/** The events of the days a range shows (for the per-day series that exist). */
const onShownDays = (context: PanelContext) => context.data.events.filter((point) => shownDay(context, dayOf(point.timeMs)) && point.timeMs <= context.now);

/**
 * The windows the headline panels promise, written out from the clock rather than taken from the
 * panel's time overrides: a wrong `timeFrom`/`timeShift` must fail, not move the expectation along.
 */
/** The `days` complete UTC days that end yesterday. */
const completeDaysBefore = (context: PanelContext, days: number) => onDays(context, dayOf(context.now) - days, dayOf(context.now) - 1);
/** Today and the six UTC days before it, up to now: Mixpanel's "last 7 days". */
const lastSevenDays = (context: PanelContext) => onDays(context, dayOf(context.now) - 6, dayOf(context.now));

/** Independent figures must be real ones: 0 bytes or 0 series would match a broken query. */
function positive(figure: number): number {
  expect(figure).toBeGreaterThan(0);
  return figure;
}

/** The newest non-null value of a graph's only series. */
function newestValue(actual: ActualSeries[]): number {
  expect(actual).toHaveLength(1);
  const values = actual[0]!.values.map((row) => row[1]).filter((cell): cell is number => typeof cell === "number");
  expect(values.length).toBeGreaterThan(0);
  return values[values.length - 1]!;
}

export const panelExpectations: Record<string, Expectation> = {
  // Overview
  "mixstack-overview › Events › A": value((context) => count(hourStamped(context))),
  "mixstack-overview › Active users, last 7 days › A": value((context) => distinctUsers(withUser(lastSevenDays(context)))),
  "mixstack-overview › Sign-ups, last 7 days › A": value((context) => distinctUsers(signups(withUser(lastSevenDays(context))))),
  "mixstack-overview › Events by name › A": series((context) =>
    perGroup(hourStamped(context), ["event"], ["time", "events"], (points) => bucketRows(points, context.range, everyInterval(context, 0), (bucket) => [count(bucket)])),
  ),
  "mixstack-overview › Distinct users per day › A": series((context) => [
    { columns: ["time", "users"], values: dayRows(context, 0, (day) => distinctUsers(withUser(onDays(context, day, day)))) },
  ]),
  "mixstack-overview › Sign-ups per day, last 7 days › A": series((context) => {
    const rows = dayRows(context, 0, (day) => distinctUsers(signups(withUser(onDays(context, day, day)))));
    expect(rows.map((row) => row[0])).toEqual([6, 5, 4, 3, 2, 1, 0].map((back) => startOfDay(context.now, back)));
    return [{ columns: ["time", "sign-ups"], values: rows }];
  }),
  "mixstack-overview › Top events › A": series((context) => {
    const totals = [...groupByTags(hourStamped(context), ["event"]).values()]
      .map(({ tags, points }) => ({ event: tags.event!, events: points.length }))
      .sort((a, b) => b.events - a.events);
    if (totals.length > 10 && totals[9]!.events === totals[10]!.events) throw new Error("data set has a tie at rank 10");
    return [{ columns: ["time", "events", "event"], values: totals.slice(0, 10).map((row) => [context.range.from, row.events, row.event]) }];
  }),

  // Users
  "mixstack-users › DAU (yesterday) › A": value((context) => distinctUsers(withUser(completeDaysBefore(context, 1)))),
  "mixstack-users › WAU (last 7 complete days) › A": value((context) => distinctUsers(withUser(completeDaysBefore(context, 7)))),
  "mixstack-users › MAU (last 30 complete days) › A": value((context) => distinctUsers(withUser(completeDaysBefore(context, 30)))),
  "mixstack-users › Stickiness (DAU / MAU, last 30 complete days) › A": value((context) => {
    const active = withUser(completeDaysBefore(context, 30));
    const days = bucketStarts({ from: startOfDay(context.now, 30), to: startOfDay(context.now) - 1 }, dayMs);
    expect(days).toHaveLength(30);
    const dailyActive = days.map((start) => distinctUsers(active.filter((point) => point.timeMs >= start && point.timeMs < start + dayMs)));
    const meanDau = dailyActive.reduce((total, dau) => total + dau, 0) / days.length;
    return meanDau / distinctUsers(active);
  }),
  "mixstack-users › Daily active users › A": series((context) => [
    { columns: ["time", "users"], values: dayRows(context, 0, (day) => distinctUsers(withUser(onDays(context, day, day)))) },
  ]),
  "mixstack-users › Weekly active users › A": series((context) => {
    const mondays = { everyMs: 7 * dayMs, offsetMs: 4 * dayMs } as const;
    // Each week shows its Monday-to-Sunday users up to its last day shown (today for this week).
    const rows = bucketStarts(context.range, mondays.everyMs, mondays.offsetMs).map((start) => {
      const monday = dayOf(start);
      const shown = [6, 5, 4, 3, 2, 1, 0].map((back) => monday + back).find((day) => shownDay(context, day));
      return [start, shown === undefined ? 0 : distinctUsers(withUser(onDays(context, monday, shown)))];
    });
    return [{ columns: ["time", "users"], values: rows }];
  }),
  "mixstack-users › Rolling weekly and monthly active users › A": series((context) => [
    {
      columns: ["time", "WAU (7 days)", "MAU (30 days)"],
      values: dayRows(
        context,
        null,
        (day) => distinctUsers(withUser(onDays(context, day - 6, day))),
        (day) => distinctUsers(withUser(onDays(context, day - 29, day))),
      ),
    },
  ]),
  "mixstack-users › New and returning users per day › A": series((context) =>
    perGroup(withUser(onShownDays(context)), ["user_type"], ["time", "users"], (points) =>
      dayRows(context, 0, (day) => distinctUsers(points.filter((point) => dayOf(point.timeMs) === day))),
    ),
  ),

  // Event explorer
  "mixstack-events › Events: $event › A": series((context) =>
    perGroup(selected(context, hourStamped(context)), ["event"], ["time", "events"], (points) =>
      bucketRows(points, context.range, everyInterval(context, 0), (bucket) => [count(bucket)]),
    ),
  ),
  "mixstack-events › Distinct users per day: $event › A": series((context) =>
    perGroup(selected(context, onShownDays(context)), ["event"], ["time", "users"], (points) =>
      dayRows(context, 0, (day) => distinctUsers(withUser(points.filter((point) => dayOf(point.timeMs) === day)))),
    ),
  ),
  "mixstack-events › Events by $breakdown › A": series((context) =>
    perGroup(selected(context, hourStamped(context)), [context.breakdown], ["time", "events"], (points) =>
      bucketRows(points, context.range, everyInterval(context, 0), (bucket) => [count(bucket)]),
    ),
  ),
  "mixstack-events › Events by $breakdown, totals › A": series((context) =>
    totalsPerGroup(context, selected(context, hourStamped(context)), [context.breakdown], "events", count),
  ),

  // Pipeline health
  "mixstack-pipeline › Ingest requests by status › A": series((context) =>
    perGroup(ofMeasurement(context, "ingest"), ["status"], ["time", "sum"], (points) =>
      bucketRows(points, context.range, everyInterval(context, 0), perSecond(context, "requests")),
    ),
  ),
  "mixstack-pipeline › Events accepted and rejected by status › A": series((context) =>
    perGroup(ofMeasurement(context, "ingest"), ["status"], ["time", "accepted", "rejected"], (points) =>
      bucketRows(points, context.range, everyInterval(context, 0), (bucket) => [
        ...perSecond(context, "events_accepted")(bucket),
        ...perSecond(context, "events_rejected")(bucket),
      ]),
    ),
  ),
  "mixstack-pipeline › Rejected events by reason › A": series((context) =>
    perGroup(ofMeasurement(context, "ingest_rejects"), ["reason"], ["time", "sum"], (points) =>
      bucketRows(points, context.range, everyInterval(context, 0), (bucket) => [sum(bucket, "count")]),
    ),
  ),
  "mixstack-pipeline › Rejects by route and reason › A": series((context) =>
    totalsPerGroup(context, ofMeasurement(context, "ingest_rejects"), ["route", "reason"], "rejected", (points) => sum(points, "count")),
  ),
  "mixstack-pipeline › Refused by a limit › A": series((context) =>
    perGroup(
      ofMeasurement(context, "ingest_rejects").filter((point) => (LIMIT_REASONS as readonly string[]).includes(point.tags.reason!)),
      ["reason"],
      ["time", "sum"],
      (points) => bucketRows(points, context.range, everyInterval(context, 0), (bucket) => [sum(bucket, "count")]),
    ),
  ),
  "mixstack-pipeline › Refused by a limit › B": series((context) => [
    {
      columns: ["time", "dead-lettered by the worker"],
      values: bucketRows(ofMeasurement(context, "pipeline"), context.range, everyInterval(context, 0), (bucket) => [sum(bucket, "refused")]),
    },
  ]),
  "mixstack-pipeline › Redis memory › A": series((context) => [
    {
      columns: ["time", "used", "maxmemory"],
      values: bucketRows(ofMeasurement(context, "pipeline"), context.range, everyInterval(context, null), (bucket) => [max(bucket, "redis_used_bytes"), max(bucket, "redis_max_bytes")]),
    },
  ]),
  "mixstack-pipeline › Redis memory used › A": value((context) => {
    const limited = ofMeasurement(context, "pipeline").filter((point) => numberField(point, "redis_max_bytes") > 0);
    return (last(limited, "redis_used_bytes")! / last(limited, "redis_max_bytes")!) * 100;
  }),
  "mixstack-pipeline › Stream backlog › A": value((context) => last(ofMeasurement(context, "pipeline"), "stream_length")!),
  "mixstack-pipeline › Pending entries › A": value((context) => last(ofMeasurement(context, "pipeline"), "pending")!),
  "mixstack-pipeline › Dead letters › A": value((context) => last(ofMeasurement(context, "pipeline"), "dead_letters")!),
  "mixstack-pipeline › Points written › A": value((context) => sum(ofMeasurement(context, "pipeline"), "written")),
  "mixstack-pipeline › Stream length, lag and pending › A": series((context) => [
    {
      columns: ["time", "stream length", "lag", "pending"],
      values: bucketRows(ofMeasurement(context, "pipeline"), context.range, everyInterval(context, null), (bucket) => [
        max(bucket, "stream_length"),
        max(bucket, "lag"),
        max(bucket, "pending"),
      ]),
    },
  ]),
  "mixstack-pipeline › Worker writes by consumer › A": series((context) =>
    perGroup(ofMeasurement(context, "pipeline"), ["consumer"], ["time", "sum"], (points) =>
      bucketRows(points, context.range, everyInterval(context, 0), perSecond(context, "written")),
    ),
  ),
  "mixstack-pipeline › InfluxDB write latency › A": series((context) => [
    {
      columns: ["time", "mean", "max"],
      values: bucketRows(ofMeasurement(context, "pipeline").filter((point) => numberField(point, "batch_ms") > 0), context.range, everyInterval(context, null), (bucket) => [
        mean(bucket, "batch_ms"),
        max(bucket, "batch_ms"),
      ]),
    },
  ]),
  "mixstack-pipeline › Dead letters over time › A": series((context) => [
    {
      columns: ["time", "max"],
      values: bucketRows(ofMeasurement(context, "pipeline"), context.range, everyInterval(context, null), (bucket) => [max(bucket, "dead_letters")]),
    },
  ]),
  "mixstack-pipeline › Series › A": {
    kind: "eventually",
    check(context, actual) {
      expect(actual).toHaveLength(1);
      expect(actual[0]!.values).toHaveLength(1);
      expect(actual[0]!.values[0]![1]).toBe(positive(context.influx.seriesCount()));
    },
  },
  "mixstack-pipeline › Disk used › A": {
    kind: "eventually",
    check(context, actual) {
      expect(actual).toHaveLength(1);
      expect(actual[0]!.values[0]![1]).toBe(positive(context.influx.shardBytesOnDisk()));
    },
  },
  "mixstack-pipeline › Series cardinality › A": {
    kind: "eventually",
    check(context, actual) {
      expect(newestValue(actual)).toBe(positive(context.influx.seriesCount()));
    },
  },
  "mixstack-pipeline › Disk used over time › A": {
    kind: "eventually",
    check(context, actual) {
      expect(newestValue(actual)).toBe(positive(context.influx.shardBytesOnDisk()));
    },
  },
};
