import { beforeAll, describe, expect, it } from "vitest";
import { InfluxClient } from "../../services/core/influx";
import { dayOfTime, readReopened, readRollupState } from "../../services/core/reopened-days";
import { waitFor } from "../../services/dev/ports";
import type { Pipeline } from "../../services/dev/pipeline";
import type { QueryService } from "../../services/dev/query";
import { loadDashboards, loadProvisionedDatasource, queryPanels } from "../grafana/dashboard-json";
import { PanelRunner, type Scenario } from "../grafana/panel-runner";
import { redisClient } from "../harness/services";
import * as brute from "./brute-force";
import { buildDataset, DAY, DAYS, iso, sendDataset, type Dataset } from "./dataset";
import { ask, startReports, startReportsPipeline } from "./support";

/**
 * Funnels, retention and segmentation from `mixstack query`, over a seeded data set sent through the
 * real ingest and worker (device events stored before their merge, waves out of order, late events,
 * a type change), each checked against the brute force in `brute-force.ts` computed from what was
 * sent — never against the engine's own output.
 */

const HOUR = 3_600_000;
const KOLKATA = 330;
const from = iso(0);
const to = iso(DAYS - 1);
const funnelSteps = [{ event: "Viewed" }, { event: "Signed up" }, { event: "Paid" }];
const savedFunnels = [
  { id: 7, name: "Signup to paid, 1 hour", steps: funnelSteps, window: { length: 1, unit: "hour" } },
  { id: 8, name: "Big payments", steps: [{ event: "Viewed" }, { event: "Paid", where: 'properties["amount"] > 100' }], window: { length: 7, unit: "day" } },
];

let pipeline: Pipeline;
let dataset: Dataset;
let utc: QueryService;
let kolkata: QueryService;
let events: brute.Flat[];

beforeAll(async () => {
  pipeline = await startReportsPipeline("query-reports");
  dataset = buildDataset();
  await sendDataset(pipeline, dataset);
  const redis = await redisClient(pipeline.redis.url);
  await waitFor("the profiles to be applied", async () => (await redis.sCard("mx:profiles")) === dataset.profiles.size, { timeoutMs: 30_000 });
  [utc, kolkata] = await Promise.all([
    startReports(pipeline, { funnels: savedFunnels }),
    startReports(pipeline, { funnels: savedFunnels, timeZone: "Asia/Kolkata" }),
  ]);
  events = brute.flatten(dataset.events, dataset.merges);
}, 180_000);

const range = { from, to, offsetMinutes: 0 };
const prop = (name: string) => (event: brute.Flat) => event.properties[name];
const asSegment = (value: unknown) => (value === undefined ? undefined : String(value));

describe("the data set exercises what it should", () => {
  it("some events of merged devices are stored under the device id (the retroactive case), and late waves were sent", async () => {
    const reader = new InfluxClient({ url: pipeline.influx.url, ...pipeline.credentials.reader });
    const rows = await reader.rows(`SELECT "distinct_id" FROM "events" WHERE "distinct_id" =~ /^\\$device:/`, { db: pipeline.database });
    const merged = rows.filter((row) => dataset.merges.has(String(row.distinct_id).slice("$device:".length)));
    expect(merged.length).toBeGreaterThan(20);
    expect(dataset.waves[2]!.length).toBeGreaterThan(50);
    expect(dataset.waves[2]!.some((event) => event.properties.time < BASE_TIME_OF(dataset.waves[1]!))).toBe(true);
  });
});

function BASE_TIME_OF(wave: Dataset["waves"][number]): number {
  return Math.max(...wave.map((event) => event.properties.time));
}

describe("segmentation", () => {
  it("unique people per day count a device's events before sign-up for the user (identity merges)", async () => {
    const answer = await ask(utc, "segmentation", { event: "Viewed", from_date: from, to_date: to, type: "unique" });
    expect(answer.status).toBe(200);
    const expected = brute.segmentation(events, { ...range, event: "Viewed", type: "unique" });
    expect(answer.body.data.values).toEqual(expected);
    expect(answer.body.data.series).toEqual(brute.daysBetween(from, to));
    expect(answer.body.legend_size).toBe(1);
    // Without merges (as stored), the same question gives more "people": the dashboards' limit.
    const unmerged = brute.segmentation(brute.flatten(dataset.events, new Map()), { ...range, event: "Viewed", type: "unique" });
    expect(unmerged).not.toEqual(expected);
  });

  it("general counts per day, by a tag ($os) and by a field that changed type (plan)", async () => {
    for (const [on, get] of [['properties["$os"]', prop("$os")], ['properties["plan"]', prop("plan")]] as const) {
      const general = await ask(utc, "segmentation", { event: "Viewed", from_date: from, to_date: to, on });
      expect(general.body.data.values, on).toEqual(brute.segmentation(events, { ...range, event: "Viewed", type: "general", on: (event) => asSegment(get(event)) }));
      const unique = await ask(utc, "segmentation", { event: "Viewed", from_date: from, to_date: to, on, type: "unique" });
      expect(unique.body.data.values, on).toEqual(brute.segmentation(events, { ...range, event: "Viewed", type: "unique", on: (event) => asSegment(get(event)) }));
    }
    const plans = await ask(utc, "segmentation", { event: "Viewed", from_date: from, to_date: to, on: 'properties["plan"]' });
    expect(Object.keys(plans.body.data.values).sort()).toEqual(["1", "2", "free", "pro"]);
  });

  it("where on a field (pushed down) and on an or-expression (evaluated per row), with unique people", async () => {
    const cases: Array<[string, (event: brute.Flat) => boolean]> = [
      ['properties["page"] == "pricing"', (event) => event.properties.page === "pricing"],
      ['properties["page"] == "pricing" or properties["plan"] == 2', (event) => event.properties.page === "pricing" || event.properties.plan === 2],
      ['properties["$os"] == "Linux" and not (properties["page"] in ["home", "docs"])', (event) => event.properties.$os === "Linux" && !["home", "docs"].includes(event.properties.page as string)],
    ];
    for (const [where, test] of cases) {
      const answer = await ask(utc, "segmentation", { event: "Viewed", from_date: from, to_date: to, where, type: "unique" });
      expect(answer.body.data.values, where).toEqual(brute.segmentation(events, { ...range, event: "Viewed", type: "unique", where: test }));
    }
  });

  it("where on the person's profile (user[...])", async () => {
    const answer = await ask(utc, "segmentation", { event: "Viewed", from_date: from, to_date: to, where: 'user["tier"] == "gold"', type: "unique" });
    const gold = (event: brute.Flat) => dataset.profiles.get(event.person)?.tier === "gold";
    expect(answer.body.data.values).toEqual(brute.segmentation(events, { ...range, event: "Viewed", type: "unique", where: gold }));
  });

  it("days begin at midnight of the project's time zone (Asia/Kolkata)", async () => {
    const answer = await ask(kolkata, "segmentation", { event: "Viewed", from_date: from, to_date: to, type: "unique" });
    expect(answer.body.data.values).toEqual(brute.segmentation(events, { ...range, offsetMinutes: KOLKATA, event: "Viewed", type: "unique" }));
    const lateEvening = 'properties["case"] == "tz-late-evening"';
    const there = await ask(kolkata, "segmentation", { event: "Viewed", from_date: iso(5), to_date: iso(6), where: lateEvening });
    const here = await ask(utc, "segmentation", { event: "Viewed", from_date: iso(5), to_date: iso(6), where: lateEvening });
    expect(there.body.data.values.Viewed).toEqual({ [iso(5)]: 0, [iso(6)]: 1 });
    expect(here.body.data.values.Viewed).toEqual({ [iso(5)]: 1, [iso(6)]: 0 });
  });

  it("sum and average of a numeric expression per day", async () => {
    const sum = await ask(utc, "segmentation/sum", { event: "Paid", from_date: from, to_date: to, on: 'properties["amount"]' });
    const average = await ask(utc, "segmentation/average", { event: "Paid", from_date: from, to_date: to, on: 'properties["amount"] * 2' });
    const paid = events.filter((event) => event.event === "Paid" && brute.localDay(event.time, 0) >= from && brute.localDay(event.time, 0) <= to);
    for (const day of brute.daysBetween(from, to)) {
      const amounts = paid.filter((event) => brute.localDay(event.time, 0) === day).map((event) => event.properties.amount as number);
      expect(sum.body.results[day], day).toBeCloseTo(amounts.reduce((a, b) => a + b, 0), 6);
      expect(average.body.results[day], day).toBeCloseTo(amounts.length ? (2 * amounts.reduce((a, b) => a + b, 0)) / amounts.length : 0, 6);
    }
    expect(sum.body.status).toBe("ok");
  });
});

function funnelCounts(data: Record<string, any>, day: string, segment?: string): number[] {
  const entry = segment ? data[day]?.[segment] : data[day];
  return entry ? entry.steps.map((step: { count: number }) => step.count) : [];
}

function expectFunnel(answer: any, expected: Record<string, Record<string, number[]>>, segments: string[] = []) {
  for (const day of brute.daysBetween(from, to)) {
    const zeros = [0, 0, 0].slice(0, answer.data[day].steps?.length ?? answer.data[day].$overall.steps.length);
    if (segments.length === 0) {
      expect(funnelCounts(answer.data, day), day).toEqual(expected[day]?.$overall ?? zeros);
      continue;
    }
    for (const segment of ["$overall", ...segments]) expect(funnelCounts(answer.data, day, segment), `${day} ${segment}`).toEqual(expected[day]?.[segment] ?? zeros);
  }
}

describe("funnels", () => {
  it("a saved funnel (1-hour window) per day equals the brute force", async () => {
    const answer = await ask(utc, "funnels", { funnel_id: 7, from_date: from, to_date: to });
    expect(answer.status).toBe(200);
    expect(answer.body.meta.dates).toEqual(brute.daysBetween(from, to));
    expectFunnel(answer.body, brute.funnel(events, { ...range, steps: funnelSteps, windowMs: HOUR }));
    const day16 = answer.body.data[iso(16)];
    expect(day16.steps.map((step: { event: string }) => step.event)).toEqual(["Viewed", "Signed up", "Paid"]);
    expect(day16.analysis.starting_amount).toBe(day16.steps[0].count);
    expect(day16.steps[1].step_conv_ratio).toBeCloseTo(day16.steps[1].count / day16.steps[0].count, 10);
  });

  it("each edge case converts exactly as Mixpanel's rules say", async () => {
    const expectations: Array<[string, number, number[]]> = [
      ["window-inside", 16, [1, 1, 1]],
      ["window-outside", 16, [1, 1, 0]],
      // The second Viewed (30 min) does not restart the window: Signed up at 70 min is outside it.
      ["enters-twice", 17, [1, 0, 0]],
      ["enters-twice", 18, [1, 1, 1]],
      ["grace", 16, [1, 1, 1]],
      ["beyond-grace", 16, [1, 0, 0]],
    ];
    for (const [name, day, counts] of expectations) {
      const where = `properties["case"] == "${name}"`;
      const answer = await ask(utc, "funnels", { funnel_id: 7, from_date: iso(day), to_date: iso(day), where });
      expect(funnelCounts(answer.body.data, iso(day)), `${name} on day ${day}`).toEqual(counts);
      const expected = brute.funnel(events, { from: iso(day), to: iso(day), offsetMinutes: 0, steps: funnelSteps, windowMs: HOUR, where: (event) => event.properties.case === name });
      expect(expected[iso(day)]!.$overall, `brute force agrees for ${name}`).toEqual(counts);
    }
  });

  it("a step's where on a field (amount > 100), a 7-day window", async () => {
    const answer = await ask(utc, "funnels", { funnel_id: 8, from_date: from, to_date: to });
    const steps = [{ event: "Viewed" }, { event: "Paid", where: (event: brute.Flat) => (event.properties.amount as number) > 100 }];
    expectFunnel(answer.body, brute.funnel(events, { ...range, steps, windowMs: 7 * DAY }));
    const cheap = await ask(utc, "funnels", { funnel_id: 8, from_date: iso(16), to_date: iso(16), where: 'properties["case"] == "cheap"' });
    expect(funnelCounts(cheap.body.data, iso(16))).toEqual([1, 0]);
  });

  it("on by a tag and by a field: the entry event's value, with $overall beside", async () => {
    for (const [on, get] of [['properties["$os"]', prop("$os")], ['properties["page"]', prop("page")]] as const) {
      const answer = await ask(utc, "funnels", { funnel_id: 7, from_date: from, to_date: to, on });
      const expected = brute.funnel(events, { ...range, steps: funnelSteps, windowMs: HOUR, on: (event) => asSegment(get(event)) });
      const segments = [...new Set(Object.values(expected).flatMap((perDay) => Object.keys(perDay)))].filter((segment) => segment !== "$overall");
      expect(segments.length, on).toBeGreaterThan(1);
      expectFunnel(answer.body, expected, segments);
    }
  });

  it("an ad-hoc funnel (steps as JSON, length and length_unit) and per-week buckets in Asia/Kolkata", async () => {
    const steps = JSON.stringify([{ event: "Signed up" }, { event: "Viewed", where: 'properties["page"] == "pricing"' }]);
    const answer = await ask(utc, "funnels", { steps, length: 3, length_unit: "day", from_date: from, to_date: to });
    const pricing = (event: brute.Flat) => event.properties.page === "pricing";
    expectFunnel(answer.body, brute.funnel(events, { ...range, steps: [{ event: "Signed up" }, { event: "Viewed", where: pricing }], windowMs: 3 * DAY }));
    const local = await ask(kolkata, "funnels", { funnel_id: 7, from_date: from, to_date: to });
    const expected = brute.funnel(events, { ...range, offsetMinutes: KOLKATA, steps: funnelSteps, windowMs: HOUR });
    for (const day of brute.daysBetween(from, to)) expect(funnelCounts(local.body.data, day), day).toEqual(expected[day]?.$overall ?? [0, 0, 0]);
    const tz = await ask(kolkata, "funnels", { steps: JSON.stringify([{ event: "Viewed" }, { event: "Signed up" }]), from_date: iso(5), to_date: iso(6), where: 'properties["case"] == "tz-late-evening"' });
    expect(funnelCounts(tz.body.data, iso(6))).toEqual([1, 1]);
    expect(funnelCounts(tz.body.data, iso(5))).toEqual([0, 0]);
  });

  it("lists the saved funnels", async () => {
    const list = await ask(utc, "funnels/list");
    expect(list.body).toEqual([
      { funnel_id: 7, name: "Signup to paid, 1 hour" },
      { funnel_id: 8, name: "Big payments" },
    ]);
  });

  it("format=rows gives one flat row per date, segment and step", async () => {
    const rows = await ask(utc, "funnels", { funnel_id: 7, from_date: iso(16), to_date: iso(16), format: "rows" });
    const json = await ask(utc, "funnels", { funnel_id: 7, from_date: iso(16), to_date: iso(16) });
    expect(rows.body.map((row: { count: number }) => row.count)).toEqual(funnelCounts(json.body.data, iso(16)));
    expect(rows.body[2]).toMatchObject({ date: iso(16), segment: "$overall", step: 3, event: "Paid" });
  });
});

describe("retention", () => {
  it("birth retention per day (Signed up → Viewed, 7 daily intervals) equals the brute force", async () => {
    const answer = await ask(utc, "retention", { ...{ from_date: from, to_date: to }, born_event: "Signed up", event: "Viewed", interval_count: 7 });
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual(brute.retention(events, { ...range, kind: "birth", bornEvent: "Signed up", event: "Viewed", intervalMs: DAY, intervalCount: 7 }));
    expect(Object.values(answer.body as Record<string, { counts: number[] }>).some((cohort) => cohort.counts[0]! > 0 && cohort.counts[3]! > 0)).toBe(true);
  });

  it("unbounded retention, any return event, born_where and where on fields", async () => {
    const params = { from_date: from, to_date: to, born_event: "Signed up", interval_count: 5, unbounded_retention: true, born_where: 'properties["plan"] == "pro"', where: 'properties["page"] != "docs"' };
    const answer = await ask(utc, "retention", params);
    const expected = brute.retention(events, {
      ...range,
      kind: "birth",
      bornEvent: "Signed up",
      intervalMs: DAY,
      intervalCount: 5,
      unbounded: true,
      bornWhere: (event) => event.properties.plan === "pro",
      where: (event) => event.properties.page !== "docs",
    });
    expect(answer.body).toEqual(expected);
  });

  it("compounded retention, weekly cohorts with 2-day intervals, and days in Asia/Kolkata", async () => {
    const compounded = await ask(utc, "retention", { from_date: from, to_date: to, retention_type: "compounded", event: "Other", interval_count: 3 });
    expect(compounded.body).toEqual(brute.retention(events, { ...range, kind: "compounded", event: "Other", intervalMs: DAY, intervalCount: 3 }));
    const compoundedUnbounded = await ask(utc, "retention", { from_date: from, to_date: to, retention_type: "compounded", event: "Viewed", interval_count: 2, unbounded_retention: true });
    expect(compoundedUnbounded.body).toEqual(brute.retention(events, { ...range, kind: "compounded", event: "Viewed", intervalMs: DAY, intervalCount: 2, unbounded: true }));
    const local = await ask(kolkata, "retention", { from_date: from, to_date: to, born_event: "Viewed", event: "Paid", interval_count: 4 });
    expect(local.body).toEqual(brute.retention(events, { ...range, offsetMinutes: KOLKATA, kind: "birth", bornEvent: "Viewed", event: "Paid", intervalMs: DAY, intervalCount: 4 }));
    const week = await ask(utc, "retention", { from_date: "2026-10-05", to_date: "2026-10-18", unit: "week", born_event: "Signed up", event: "Viewed", interval_count: 2 });
    // Cohorts by Monday-first weeks; intervals of 7 days from each birth.
    const byWeek = brute.retention(events, { from: "2026-10-05", to: "2026-10-18", offsetMinutes: 0, kind: "birth", bornEvent: "Signed up", event: "Viewed", intervalMs: 7 * DAY, intervalCount: 2 });
    const merged: Record<string, { first: number; counts: number[] }> = {};
    for (const [day, cohort] of Object.entries(byWeek)) {
      const monday = day < "2026-10-12" ? "2026-10-05" : "2026-10-12";
      merged[monday] ??= { first: 0, counts: [0, 0, 0] };
      merged[monday].first += cohort.first;
      cohort.counts.forEach((count, index) => (merged[monday]!.counts[index]! += count));
    }
    expect(week.body).toEqual(merged);
  });

  it("on splits the returns by the return event's value, $overall beside", async () => {
    const answer = await ask(utc, "retention", { from_date: from, to_date: to, born_event: "Signed up", event: "Viewed", interval_count: 3, on: 'properties["page"]' });
    for (const page of ["home", "pricing", "docs"]) {
      const expected = brute.retention(events, { ...range, kind: "birth", bornEvent: "Signed up", event: "Viewed", intervalMs: DAY, intervalCount: 3, where: (event) => event.properties.page === page });
      for (const [day, cohort] of Object.entries(expected)) {
        expect(answer.body[page][day].counts, `${page} ${day}`).toEqual(cohort.counts);
      }
    }
    expect(answer.body.$overall).toEqual(brute.retention(events, { ...range, kind: "birth", bornEvent: "Signed up", event: "Viewed", intervalMs: DAY, intervalCount: 3 }));
  });
});

describe("profiles and discovery", () => {
  it("engage filters profiles by where, trims output_properties, and pages", async () => {
    const answer = await ask(utc, "/api/2.0/engage", {}, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ where: 'properties["age"] > 40 and user["tier"] == "gold"', output_properties: '["age"]' }).toString(),
    });
    const expected = [...dataset.profiles].filter(([, profile]) => (profile.age as number) > 40 && profile.tier === "gold").map(([id, profile]) => ({ $distinct_id: id, $properties: { age: profile.age } }));
    expect(answer.status).toBe(200);
    expect(answer.body.total).toBe(expected.length);
    expect(answer.body.results).toEqual(expected.sort((a, b) => (a.$distinct_id < b.$distinct_id ? -1 : 1)));
    const all = await ask(utc, "engage", { page: 0 });
    expect(all.body.total).toBe(dataset.profiles.size);
    expect(all.body.results[0].$properties).toHaveProperty("$email");
    const second = await ask(utc, "engage", { page: 1 });
    expect(second.status).toBe(400);
    expect(second.body.error).toMatch(/session_id/);
  });

  it("event names, an event's properties and a property's values", async () => {
    // The data set is dated October 2026: InfluxDB's now() - 31d window may exclude it, so only shapes are checked here.
    const names = await ask(utc, "events/names");
    expect(names.status).toBe(200);
    expect(Array.isArray(names.body)).toBe(true);
    const values = await ask(utc, "events/properties/values", { event: "Viewed", name: "$os" });
    expect([...values.body].sort()).toEqual(["Linux", "Mac OS X", "Windows"]);
  });
});

describe("segmentation equals the dashboards' InfluxQL where both can answer", () => {
  // The dashboards read the rollups: wait until the worker's job has computed every past day.
  beforeAll(async () => {
    const redis = await redisClient(pipeline.redis.url);
    await waitFor(
      "the rollups to cover every day of the data set",
      async () => (await readReopened(redis)).size === 0 && ((await readRollupState(redis)).closedThrough ?? 0) >= dayOfTime(Date.now()) - 1,
      { timeoutMs: 120_000, intervalMs: 250 },
    );
  }, 150_000);
  // People who never used a device id before signing up: there the dashboards' distinct_id count is exact.
  const dashboards = new Map(loadDashboards().map(({ dashboard }) => [dashboard.uid, dashboard]));
  const scenario = (variables?: Scenario["variables"]): Scenario => ({
    name: "the data set's last week",
    time: { from: "now-7d/d", to: "now-1d/d" },
    now: () => Date.parse(`${iso(DAYS)}T12:00:00Z`),
    variables,
  });
  const run = async (uid: string, title: string, variables?: Scenario["variables"]) => {
    const runner = new PanelRunner(new InfluxClient({ url: pipeline.influx.url, ...pipeline.credentials.reader }), {
      database: pipeline.database,
      minInterval: loadProvisionedDatasource({ INFLUX_DB: pipeline.database }).jsonData.timeInterval,
    });
    const dashboard = dashboards.get(uid)!;
    const panel = queryPanels(dashboard).find((candidate) => candidate.title === title)!;
    const states = await runner.variableStates(dashboard, scenario(variables));
    return Promise.all(panel.targets!.map((target) => runner.run(runner.prepare(dashboard, panel, target, scenario(variables), states).text)));
  };

  it("Event explorer's events by $os, for an event only signed-up people send", async () => {
    const [eventsByOs] = await run("mixstack-events", "Events by $breakdown, totals", { event: ["Other"], breakdown: "$os" });
    const week = { from_date: iso(DAYS - 7), to_date: iso(DAYS - 1), event: "Other", on: 'properties["$os"]' };
    // Day buckets summed against the panel's totals over the same week.
    const general = await ask(utc, "segmentation", { ...week, type: "general" });
    const ours = (answer: { body: any }) => Object.fromEntries(Object.entries(answer.body.data.values as Record<string, Record<string, number>>).map(([os, perBucket]) => [os, Object.values(perBucket).reduce((a, b) => a + b, 0)]));
    const theirs = (series: typeof eventsByOs) => Object.fromEntries(series.map((one) => [one.tags.$os, one.values[0]![1]]));
    expect(Object.keys(theirs(eventsByOs!)).length).toBe(3);
    expect(ours(general)).toEqual(theirs(eventsByOs!));
  });

  it("Overview's sign-ups per day", async () => {
    const [series] = await run("mixstack-overview", "Sign-ups per day, last 7 days");
    const dashboard = Object.fromEntries(series![0]!.values.map(([time, count]) => [new Date(time as number).toISOString().slice(0, 10), count]));
    const days = Object.keys(dashboard);
    expect(days.length).toBeGreaterThanOrEqual(7);
    const answer = await ask(utc, "segmentation", { event: "Signed up", from_date: days[0]!, to_date: days[days.length - 1]!, type: "unique" });
    expect(answer.body.data.values["Signed up"]).toEqual(dashboard);
    expect(Object.values(dashboard).some((count) => (count as number) > 0)).toBe(true);
  });
});
