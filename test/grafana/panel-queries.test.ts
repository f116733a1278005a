import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { beforeAll, describe, expect, it } from "vitest";
import { InfluxClient } from "../../services/core/influx";
import { startInfluxd } from "../../services/dev/processes";
import { scratchDir, track } from "../harness/services";
import { waitFor } from "../../services/dev/ports";
import { buildDataset, datasetNow, seriesKeys, toLine, type Dataset } from "./dataset";
import { grafanaDir, loadDashboards, queryKey, queryPanels, variableQuery, type DashboardJson, type PanelJson, type TargetJson } from "./dashboard-json";
import { grafanaQueryText, type VariableState } from "./grafana-interpolation";
import { calculateIntervalMs, panelRange, type RawTimeRange } from "./grafana-time";
import { panelExpectations, type ActualSeries, type PanelContext } from "./panel-expectations";
import type { Cell, ExpectedSeries } from "./reference";

/**
 * Every query of every generated dashboard, run the way Grafana 13 runs it (variables and macros
 * substituted, as the read-only user, against a real influxd holding the known data set), must
 * return the numbers computed independently from that data set. A panel query without an entry in
 * `panelExpectations` fails the suite.
 */

const database = "mixevents";
const adminCredentials = { username: "admin", password: "admin-password" };
const readerCredentials = { username: "grafana", password: "reader-password" };

interface Scenario {
  name: string;
  time: RawTimeRange;
  /** Product dashboards use the data set's fixed clock; pipeline health the real one (`_internal`). */
  now: () => number;
  /** Variable selections; unset variables keep the dashboard's saved value. */
  variables?: Record<string, string | string[]>;
}

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

/** The provisioned data source, read as Grafana reads it (env values filled in). */
const provisioned = (() => {
  const text = readFileSync(join(grafanaDir, "provisioning", "datasources", "influxdb.yaml"), "utf8");
  const env: Record<string, string> = { INFLUX_URL: "unused", INFLUX_DB: database, INFLUX_READER_USER: "grafana", INFLUX_READER_PASSWORD: "unused" };
  const interpolated = text.replace(/\$\{(\w+)\}/g, (_, name: string) => env[name] ?? "");
  const [source] = (parse(interpolated) as { datasources: Array<{ jsonData: { dbName: string; timeInterval?: string } }> }).datasources;
  return source!;
})();

const dashboards = loadDashboards();

let influx: { url: string; dir: string };
let reader: InfluxClient;
let data: Dataset;

async function withEnv<T>(vars: Record<string, string>, run: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(Object.keys(vars).map((key) => [key, process.env[key]]));
  Object.assign(process.env, vars);
  try {
    return await run();
  } finally {
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  }
}

beforeAll(async () => {
  const dir = scratchDir("influxd-dashboards");
  // influxd reads INFLUXDB_<SECTION>_<KEY> over its config file: the monitor store fills `_internal`,
  // which the pipeline-health panels read, as it does by default in the influxdb image.
  const server = await withEnv({ INFLUXDB_MONITOR_STORE_ENABLED: "true", INFLUXDB_MONITOR_STORE_INTERVAL: "1s" }, () =>
    startInfluxd({ dir, authEnabled: true }).then(track),
  );
  influx = { url: server.url, dir };
  await new InfluxClient({ url: server.url }).query(`CREATE USER "${adminCredentials.username}" WITH PASSWORD '${adminCredentials.password}' WITH ALL PRIVILEGES`);
  const admin = new InfluxClient({ url: server.url, ...adminCredentials });
  await admin.query(`CREATE DATABASE "${database}"`);
  await admin.query(`CREATE USER "${readerCredentials.username}" WITH PASSWORD '${readerCredentials.password}'`);
  await admin.query(`GRANT READ ON "${database}" TO "${readerCredentials.username}"`);
  await waitFor("influxd's monitor to create _internal", async () => JSON.stringify(await admin.query("SHOW DATABASES")).includes('"_internal"'));
  await admin.query(`GRANT READ ON "_internal" TO "${readerCredentials.username}"`);

  data = buildDataset(Date.now());
  for (const points of [data.events, data.pipeline]) {
    for (let start = 0; start < points.length; start += 5000) {
      await admin.write(points.slice(start, start + 5000).map(toLine).join("\n"), { db: database, gzip: true });
    }
  }
  reader = new InfluxClient({ url: server.url, ...readerCredentials });
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
  walk(join(influx.dir, "data", database), ".tsm");
  walk(join(influx.dir, "wal", database), ".wal");
  return total;
}

async function runQuery(text: string): Promise<ActualSeries[]> {
  const [result] = await reader.query(text, { db: provisioned.jsonData.dbName, epoch: "ms" });
  return (result?.series ?? []).map((series) => ({ tags: series.tags ?? {}, columns: series.columns, values: series.values as Cell[][] }));
}

/** What the variable's own query offers, as Grafana lists it (last column, then the variable's regex). */
async function variableOptions(dashboard: DashboardJson, name: string): Promise<string[]> {
  const variable = dashboard.templating.list.find((candidate) => candidate.name === name);
  if (!variable) throw new Error(`${dashboard.uid} has no variable ${name}`);
  const series = await runQuery(variableQuery(variable));
  const values = series.flatMap((one) => one.values.map((row) => String(row[row.length - 1])));
  const regex = variable.regex ? /^\/(.*)\/([gimsuy]*)$/.exec(variable.regex) : null;
  return regex ? values.filter((value) => new RegExp(regex[1]!, regex[2]).test(value)) : values;
}

async function variableStates(dashboard: DashboardJson, scenario: Scenario): Promise<Record<string, VariableState>> {
  const states: Record<string, VariableState> = {};
  for (const variable of dashboard.templating.list) {
    const current = scenario.variables?.[variable.name] ?? variable.current?.value;
    if (current === undefined) throw new Error(`${dashboard.uid}: no value for $${variable.name}`);
    states[variable.name] = {
      model: { name: variable.name, multi: variable.multi, includeAll: variable.includeAll, allValue: variable.allValue },
      current,
      options: await variableOptions(dashboard, variable.name),
    };
  }
  return states;
}

/** The literal values a variable stands for (All resolved to every option). */
function literal(state: VariableState | undefined): string[] {
  if (!state) return [];
  const values = Array.isArray(state.current) ? state.current : [state.current];
  return values[0] === "$__all" ? state.options : values;
}

function panelContext(dashboard: DashboardJson, panel: PanelJson, target: TargetJson, scenario: Scenario, variables: Record<string, VariableState>) {
  const now = scenario.now();
  const range = panelRange(scenario.time, now, panel);
  const query = target.query ?? "";
  if (query.includes("$__interval") && !panel.maxDataPoints) {
    throw new Error(`${queryKey(dashboard, panel, target)} uses $__interval without maxDataPoints: its buckets would depend on the screen`);
  }
  const intervalMs = calculateIntervalMs(range, panel.maxDataPoints ?? 1000, panel.interval ?? provisioned.jsonData.timeInterval);
  const context: PanelContext = {
    range,
    intervalMs,
    events: literal(variables.event),
    breakdown: literal(variables.breakdown)[0] ?? "",
    data,
    influx: { seriesCount: () => seriesKeys([...data.events, ...data.pipeline]).size, shardBytesOnDisk },
  };
  return { context, text: grafanaQueryText(query, variables, { range, intervalMs }) };
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
    expect(new Set(await variableOptions(explorer, "event"))).toEqual(eventNames);
    expect(new Set(await variableOptions(explorer, "breakdown"))).toEqual(tagKeys);
    expect(await variableOptions(pipeline, "database")).toEqual([database]);
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
                const variables = await variableStates(dashboard, scenario);
                if (expectation.kind === "eventually") {
                  // InfluxDB's own statistics: sampled every second, shard sizes refreshed every 30 s.
                  await waitFor(
                    `${panel.title} to show InfluxDB's current figures`,
                    async () => {
                      const { context, text } = panelContext(dashboard, panel, target, scenario, variables);
                      expectation.check(context, await runQuery(text));
                      return true;
                    },
                    { timeoutMs: 90_000, intervalMs: 500 },
                  );
                  return;
                }
                const { context, text } = panelContext(dashboard, panel, target, scenario, variables);
                const actual = await runQuery(text);
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
              });
            }
          }
        });
      }
    });
  }
});
