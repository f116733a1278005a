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

const events = (context: PanelContext) => eventsIn(context, context.range);
const eventsIn = (context: PanelContext, range: TimeRange) => context.data.events.filter((point) => inRange(point, range));
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
 * The windows the headline panels promise, written out from the clock rather than taken from the
 * panel's time overrides: a wrong `timeFrom`/`timeShift` must fail, not move the expectation along.
 */
const startOfDay = (now: number, daysBefore = 0) => Math.floor(now / dayMs) * dayMs - daysBefore * dayMs;
/** The `days` complete UTC days that end yesterday (the last millisecond of yesterday included). */
const completeDaysBefore = (context: PanelContext, days: number): TimeRange => ({ from: startOfDay(context.now, days), to: startOfDay(context.now) - 1 });
/** Today and the six UTC days before it, up to now: Mixpanel's "last 7 days". */
const lastSevenDays = (context: PanelContext): TimeRange => ({ from: startOfDay(context.now, 6), to: context.now });

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
  "mixstack-overview › Events › A": value((context) => count(events(context))),
  "mixstack-overview › Active users › A": value((context) => distinctUsers(withUser(events(context)))),
  "mixstack-overview › Sign-ups, last 7 days › A": value((context) => distinctUsers(signups(withUser(eventsIn(context, lastSevenDays(context)))))),
  "mixstack-overview › Events by name › A": series((context) =>
    perGroup(events(context), ["event"], ["time", "count"], (points) => bucketRows(points, context.range, everyInterval(context, 0), (bucket) => [count(bucket)])),
  ),
  "mixstack-overview › Distinct users per day › A": series((context) => [
    { columns: ["time", "count"], values: bucketRows(withUser(events(context)), context.range, daily, (bucket) => [distinctUsers(bucket)]) },
  ]),
  "mixstack-overview › Sign-ups per day, last 7 days › A": series((context) => {
    const window = lastSevenDays(context);
    const rows = bucketRows(signups(withUser(eventsIn(context, window))), window, daily, (bucket) => [distinctUsers(bucket)]);
    expect(rows).toHaveLength(7);
    return [{ columns: ["time", "count"], values: rows }];
  }),
  "mixstack-overview › Top events › A": series((context) => {
    const totals = [...groupByTags(events(context), ["event"]).values()]
      .map(({ tags, points }) => ({ event: tags.event!, events: points.length }))
      .sort((a, b) => b.events - a.events);
    if (totals.length > 10 && totals[9]!.events === totals[10]!.events) throw new Error("data set has a tie at rank 10");
    return [{ columns: ["time", "events", "event"], values: totals.slice(0, 10).map((row) => [context.range.from, row.events, row.event]) }];
  }),

  // Users
  "mixstack-users › DAU (yesterday) › A": value((context) => distinctUsers(withUser(eventsIn(context, completeDaysBefore(context, 1))))),
  "mixstack-users › WAU (last 7 complete days) › A": value((context) => distinctUsers(withUser(eventsIn(context, completeDaysBefore(context, 7))))),
  "mixstack-users › MAU (last 30 complete days) › A": value((context) => distinctUsers(withUser(eventsIn(context, completeDaysBefore(context, 30))))),
  "mixstack-users › Stickiness (DAU / MAU, last 30 complete days) › A": value((context) => {
    const window = completeDaysBefore(context, 30);
    const active = withUser(eventsIn(context, window));
    const days = bucketStarts(window, dayMs);
    expect(days).toHaveLength(30);
    const dailyActive = days.map((start) => distinctUsers(active.filter((point) => point.timeMs >= start && point.timeMs < start + dayMs)));
    const meanDau = dailyActive.reduce((total, dau) => total + dau, 0) / days.length;
    return meanDau / distinctUsers(active);
  }),
  "mixstack-users › Daily active users › A": series((context) => [
    { columns: ["time", "count"], values: bucketRows(withUser(events(context)), context.range, daily, (bucket) => [distinctUsers(bucket)]) },
  ]),
  "mixstack-users › Weekly active users › A": series((context) => {
    const mondays = { everyMs: 7 * dayMs, offsetMs: 4 * dayMs, empty: 0 } as const;
    return [{ columns: ["time", "count"], values: bucketRows(withUser(events(context)), context.range, mondays, (bucket) => [distinctUsers(bucket)]) }];
  }),
  "mixstack-users › New and returning users per day › A": series((context) =>
    perGroup(withUser(events(context)), ["user_type"], ["time", "count"], (points) => bucketRows(points, context.range, daily, (bucket) => [distinctUsers(bucket)])),
  ),

  // Event explorer
  "mixstack-events › Events: $event › A": series((context) =>
    perGroup(selected(context, events(context)), ["event"], ["time", "count"], (points) =>
      bucketRows(points, context.range, everyInterval(context, 0), (bucket) => [count(bucket)]),
    ),
  ),
  "mixstack-events › Distinct users: $event › A": series((context) =>
    perGroup(withUser(selected(context, events(context))), ["event"], ["time", "count"], (points) =>
      bucketRows(points, context.range, everyInterval(context, 0), (bucket) => [distinctUsers(bucket)]),
    ),
  ),
  "mixstack-events › Events by $breakdown › A": series((context) =>
    perGroup(selected(context, events(context)), [context.breakdown], ["time", "count"], (points) =>
      bucketRows(points, context.range, everyInterval(context, 0), (bucket) => [count(bucket)]),
    ),
  ),
  "mixstack-events › Events and users by $breakdown › A": series((context) =>
    totalsPerGroup(context, selected(context, events(context)), [context.breakdown], "events", count),
  ),
  "mixstack-events › Events and users by $breakdown › B": series((context) =>
    totalsPerGroup(context, withUser(selected(context, events(context))), [context.breakdown], "users", distinctUsers),
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
