import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { waitFor } from "../../services/dev/ports";
import { redisClient, scratchDir, startTestRedis, track } from "../harness/services";
import { createLogger } from "../../services/core/log";
import { RollupJob } from "../../services/worker/rollup/rollup-job";
import { startDashboardInflux, readerCredentials } from "./dashboard-influx";
import { buildDataset, datasetNow, dayMs, seriesKeys, signupEventNames, type Dataset } from "./dataset";
import { loadDashboards, loadProvisionedDatasource, queryKey, queryPanels, type DashboardJson, type PanelJson, type TargetJson } from "./dashboard-json";
import type { VariableState } from "./grafana-interpolation";
import { panelExpectations, type ActualSeries, type PanelContext } from "./panel-expectations";
import { literalValues, PanelRunner, type Scenario } from "./panel-runner";
import type { Cell, ExpectedSeries } from "./influxql-reference";

/**
 * Every query of every generated dashboard, run the way Grafana 13 runs it (variables and macros
 * substituted, as the read-only user, against a real influxd holding the known data set and the
 * rollups the worker's job computed from it), must return the numbers computed independently from
 * that data set. A panel query without an entry in `panelExpectations` fails the suite.
 */

const database = "mixevents";

const fixedClock = () => datasetNow;
const realClock = () => Date.now();

const scenarios: Record<string, Scenario[]> = {
  "mixstack-overview": [
    { name: "default range (last 7 days, hourly buckets)", time: { from: "now-7d", to: "now" }, now: fixedClock },
    { name: "last 2 days (15-minute buckets)", time: { from: "now-2d", to: "now" }, now: fixedClock },
  ],
  "mixstack-users": [
    { name: "default range (last 30 days)", time: { from: "now-30d", to: "now" }, now: fixedClock },
    { name: "last 90 days (reaching before the first event)", time: { from: "now-90d", to: "now" }, now: fixedClock },
  ],
  "mixstack-events": [
    {
      name: "all events by country over 7 days",
      time: { from: "now-7d", to: "now" },
      now: fixedClock,
      variables: { event: ["$__all"], breakdown: "mp_country_code" },
    },
    {
      name: "an event name full of regex characters by $os over 24 hours",
      time: { from: "now-24h", to: "now" },
      now: fixedClock,
      variables: { event: ["checkout.completed (beta)"], breakdown: "$os" },
    },
    {
      // "view" is also inside "$mp_web_page_view" and "signup_page_viewed": only an anchored regex keeps them out.
      name: "one event whose name is part of other names by $browser over 3 days",
      time: { from: "now-3d", to: "now" },
      now: fixedClock,
      variables: { event: ["view"], breakdown: "$browser" },
    },
    {
      name: "two events by user type over 30 days",
      time: { from: "now-30d", to: "now" },
      now: fixedClock,
      variables: { event: ["click", "Sign Up"], breakdown: "user_type" },
    },
  ],
  "mixstack-pipeline": [
    { name: "default range (last hour, 20-second buckets)", time: { from: "now-1h", to: "now" }, now: realClock },
    { name: "last 15 minutes (the 10-second minimum interval)", time: { from: "now-15m", to: "now" }, now: realClock },
    { name: "last 3 hours (reaching before the first sample)", time: { from: "now-3h", to: "now" }, now: realClock },
  ],
};

/** The provisioned data source, read as Grafana reads it. */
const provisioned = loadProvisionedDatasource({ INFLUX_DB: database, INFLUX_READER_USER: readerCredentials.username });

const dashboards = loadDashboards();

let influxDir: string;
let runner: PanelRunner;
let data: Dataset;

beforeAll(async () => {
  const influx = await startDashboardInflux({ dir: scratchDir("influxd-dashboards"), database });
  track(influx.server);
  influxDir = influx.dir;
  data = buildDataset(Date.now());
  await influx.write(data.events);
  await influx.write(data.pipeline);
  // The product panels read rollups: the worker's job computes them from the events, at the data set's clock.
  const redis = await redisClient((await startTestRedis({ appendOnly: false })).url);
  const job = new RollupJob({ redis, influx: influx.admin, db: database, log: createLogger("rollups", "warn"), intervalMs: 60_000, clock: fixedClock });
  const round = await job.runOnce();
  expect(round?.daysWritten).toBeGreaterThan(40);
  runner = new PanelRunner(influx.reader, { database: provisioned.jsonData.dbName, minInterval: provisioned.jsonData.timeInterval });
});

/** TSM and WAL bytes of the database's shards on disk: what `_internal`'s `shard.diskBytes` sums up. */
function shardBytesOnDisk(): number {
  let total = 0;
  const walk = (path: string, suffix: string) => {
    let entries: string[];
    try {
      entries = readdirSync(path);
    } catch {
      return;
    }
    for (const entry of entries) {
      const full = join(path, entry);
      const stats = statSync(full);
      if (stats.isDirectory()) walk(full, suffix);
      else if (entry.endsWith(suffix)) total += stats.size;
    }
  };
  walk(join(influxDir, "data", database), ".tsm");
  walk(join(influxDir, "wal", database), ".wal");
  return total;
}

function panelContext(dashboard: DashboardJson, panel: PanelJson, target: TargetJson, scenario: Scenario, variables: Record<string, VariableState>) {
  const { range, intervalMs, text } = runner.prepare(dashboard, panel, target, scenario, variables);
  const context: PanelContext = {
    range,
    now: scenario.now(),
    intervalMs,
    events: literalValues(variables.event),
    breakdown: literalValues(variables.breakdown)[0] ?? "",
    data,
    influx: { seriesCount: () => seriesKeys([...data.events, ...data.pipeline]).size + rollupSeries(data), shardBytesOnDisk },
  };
  return { context, text };
}

/**
 * The series the rollups add, from the data set and the documented schema: one `rollup_days`, one
 * `rollup_user_types` per user type of people, one `rollup_events` and one `rollup_hours` per event
 * name, one `rollup_breakdowns` per event name, tag key (but the name) and value or absence.
 */
function rollupSeries(dataset: Dataset): number {
  const keys = new Set(dataset.events.flatMap((point) => Object.keys(point.tags)).filter((key) => key !== "event"));
  const userTypes = new Set(dataset.events.filter((point) => point.fields.distinct_id !== "").map((point) => point.tags.user_type ?? ""));
  const names = new Set(dataset.events.map((point) => point.tags.event));
  const breakdowns = new Set(dataset.events.flatMap((point) => [...keys].map((key) => JSON.stringify([point.tags.event, key, point.tags[key] ?? ""]))));
  return 1 + userTypes.size + 2 * names.size + breakdowns.size;
}

/** Floats to 12 significant digits: InfluxDB and JavaScript may sum in different orders. */
function normalizeCell(cell: Cell): Cell {
  return typeof cell === "number" ? Number(cell.toPrecision(12)) : cell;
}

function normalize(series: Array<ExpectedSeries | ActualSeries>) {
  return series
    .map((one) => ({
      tags: Object.fromEntries(Object.entries(one.tags ?? {}).sort(([a], [b]) => (a < b ? -1 : 1))),
      columns: one.columns,
      values: one.values.map((row) => row.map(normalizeCell)).sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1)),
    }))
    .sort((a, b) => (JSON.stringify(a.tags) < JSON.stringify(b.tags) ? -1 : 1));
}

describe("dashboard panel queries against a real InfluxDB", () => {
  it("every panel query has an expectation, and every expectation a panel query", () => {
    const keys = dashboards.flatMap(({ dashboard }) =>
      queryPanels(dashboard).flatMap((panel) => (panel.targets ?? []).map((target) => queryKey(dashboard, panel, target))),
    );
    expect(keys.filter((key) => !(key in panelExpectations)), "panel queries without an expectation").toEqual([]);
    expect(Object.keys(panelExpectations).filter((key) => !keys.includes(key)), "expectations without a panel query").toEqual([]);
    expect(new Set(keys).size).toBe(keys.length);
  });

  it("every dashboard has test scenarios", () => {
    expect(dashboards.map(({ dashboard }) => dashboard.uid).filter((uid) => !scenarios[uid])).toEqual([]);
  });

  it("the variables offer what the data holds: event names, tag keys but the event's, the readable database", async () => {
    const explorer = dashboards.find(({ dashboard }) => dashboard.uid === "mixstack-events")!.dashboard;
    const pipeline = dashboards.find(({ dashboard }) => dashboard.uid === "mixstack-pipeline")!.dashboard;
    const eventNames = new Set(data.events.map((point) => point.tags.event));
    const tagKeys = new Set(data.events.flatMap((point) => Object.keys(point.tags)).filter((key) => key !== "event"));
    expect(new Set(await runner.variableOptions(explorer, "event"))).toEqual(eventNames);
    expect(new Set(await runner.variableOptions(explorer, "breakdown"))).toEqual(tagKeys);
    expect(await runner.variableOptions(pipeline, "database")).toEqual([database]);
  });

  it("shows the seed's graph: distinct users who signed up, per UTC day, over the last 7 days, whatever the dashboard range", async () => {
    const overview = dashboards.find(({ dashboard }) => dashboard.uid === "mixstack-overview")!.dashboard;
    const panel = queryPanels(overview).find((candidate) => candidate.title === "Sign-ups per day, last 7 days")!;
    const scenario: Scenario = { name: "a 2-day dashboard range", time: { from: "now-2d", to: "now" }, now: fixedClock };
    const { text } = runner.prepare(overview, panel, panel.targets![0]!, scenario, await runner.variableStates(overview, scenario));
    const [series] = await runner.run(text);
    const today = Math.floor(datasetNow / dayMs) * dayMs;
    expect(series!.values.map((row) => row[0])).toEqual([6, 5, 4, 3, 2, 1, 0].map((daysAgo) => today - daysAgo * dayMs));
    // Computed here without any query: who sent a sign-up event on each day, counted once.
    const signedUp = (day: number) =>
      new Set(
        data.events
          .filter((point) => signupEventNames.has(point.tags.event!) && point.fields.distinct_id !== "")
          .filter((point) => point.timeMs >= day && point.timeMs < day + dayMs)
          .map((point) => point.fields.distinct_id),
      ).size;
    expect(series!.values.map((row) => row[1])).toEqual(series!.values.map((row) => signedUp(row[0] as number)));
    expect(series!.values.every((row) => (row[1] as number) > 0)).toBe(true);
  });

  for (const { dashboard } of dashboards) {
    describe(dashboard.title, () => {
      for (const scenario of scenarios[dashboard.uid] ?? []) {
        describe(scenario.name, () => {
          for (const panel of queryPanels(dashboard)) {
            for (const target of panel.targets ?? []) {
              const expectation = panelExpectations[queryKey(dashboard, panel, target)];
              it(`${panel.title} (${target.refId}) returns the expected numbers`, async () => {
                if (!expectation) throw new Error(`no expectation for ${queryKey(dashboard, panel, target)}`);
                const variables = await runner.variableStates(dashboard, scenario);
                if (expectation.kind === "eventually") {
                  // InfluxDB's own statistics: sampled every second, shard sizes refreshed every 30 s.
                  await waitFor(
                    `${panel.title} to show InfluxDB's current figures`,
                    async () => {
                      const { context, text } = panelContext(dashboard, panel, target, scenario, variables);
                      expectation.check(context, await runner.run(text));
                      return true;
                    },
                    { timeoutMs: 90_000, intervalMs: 500 },
                  );
                  return;
                }
                const { context, text } = panelContext(dashboard, panel, target, scenario, variables);
                const actual = await runner.run(text);
                if (expectation.kind === "value") {
                  expect(actual, text).toHaveLength(1);
                  expect(actual[0]!.values, text).toHaveLength(1);
                  const expected = expectation.expected(context);
                  expect(expected, "the data set leaves this value at zero").not.toBe(0);
                  expect(normalizeCell(actual[0]!.values[0]![1] ?? null), text).toBe(normalizeCell(expected));
                  return;
                }
                const expected = expectation.expected(context);
                const cells = expected.flatMap((one) => one.values.flatMap((row) => row.slice(1)));
                expect(cells.some((cell) => cell !== 0 && cell !== null), "the data set leaves this query without data").toBe(true);
                expect(normalize(actual), text).toEqual(normalize(expected));
              }, 120_000);
            }
          }
        });
      }
    });
  }
});
