import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { createClient } from "redis";
import { createLogger } from "../services/core/log";
import { redisKeys } from "../services/core/queue";
import { reopenDays, reopenRange, dayName } from "../services/core/reopened-days";
import { startRedisServer } from "../services/dev/processes";
import { RollupJob } from "../services/worker/rollup/rollup-job";
import { startDashboardInflux } from "../test/grafana/dashboard-influx";
import { loadDashboards, loadProvisionedDatasource, queryKey, queryPanels, type DashboardJson } from "../test/grafana/dashboard-json";
import { datasetNow, dayMs, pipelineDataset } from "../test/grafana/dataset";
import { writeProductEvents } from "./product-events";
import { PanelRunner, type QuerySeries, type Scenario } from "../test/grafana/panel-runner";

/**
 * How long each dashboard panel takes, beside the query that answered the same question before the
 * rollups (`count(distinct("distinct_id"))` and `count("insert_id")` over the raw events), in the
 * same run, on the same InfluxDB: the ratio is today's query ÷ the panel. Both answers are compared.
 * Then what the rollup job costs at that size: the catch-up from nothing, a round with live traffic
 * (today re-read), a late event yesterday, and the memory it holds (its process, Redis per day).
 *
 *   npx tsx bench/dashboard-queries.ts --users 100000 --repeat 3
 *   npx tsx bench/dashboard-queries.ts --users 1000000 --repeat 1 --data /var/tmp/bench-1m
 *
 * `--data DIR` keeps the InfluxDB data between runs (written once, ~27M events at a million users).
 */

const { values: options } = parseArgs({
  options: {
    users: { type: "string", default: "100000" },
    repeat: { type: "string", default: "3" },
    data: { type: "string" },
    /** Skip today's queries (they take most of a million-user run). */
    "no-baseline": { type: "boolean", default: false },
  },
});
const users = Number(options.users);
const repeat = Number(options.repeat);
if (!Number.isInteger(users) || users < 1 || !Number.isInteger(repeat) || repeat < 1) {
  process.stderr.write("usage: tsx bench/dashboard-queries.ts [--users N] [--repeat R] [--data DIR] [--no-baseline]\n");
  process.exit(2);
}

const database = "mixevents";
const hourMs = 3_600_000;

function median(samples: number[]): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

async function timed<T>(run: () => Promise<T>, times = repeat): Promise<{ ms: number; result: T }> {
  const samples: number[] = [];
  let result: T | undefined;
  for (let n = 0; n < times; n++) {
    const start = performance.now();
    result = await run();
    samples.push(performance.now() - start);
  }
  return { ms: median(samples), result: result! };
}

const load = () => loadavg().map((value) => value.toFixed(1)).join(" ");
const mb = (bytes: number) => `${(bytes / 1048576).toFixed(1)} MB`;

/**
 * What each panel asked of the raw events before the rollups, for the answer the panel gives now
 * (whole UTC days, whole hours): `$days`, `$hours` and `$weeks` are the panel's range widened to the
 * whole days, hours and Monday-to-Sunday weeks it touches. The rolling WAU/MAU graph has none: a
 * rolling window is not expressible in InfluxQL.
 */
const person = `"distinct_id" != ''`;
const distinct = `count(distinct("distinct_id"))`;
const signup = `"event" =~ /(?i)^sign(ed)?[ _-]?up$/`;
const todaysQuery: Record<string, string> = {
  "mixstack-overview › Events › A": `SELECT count("insert_id") FROM "events" WHERE $hours`,
  "mixstack-overview › Active users, last 7 days › A": `SELECT ${distinct} FROM "events" WHERE ${person} AND $days`,
  "mixstack-overview › Sign-ups, last 7 days › A": `SELECT ${distinct} FROM "events" WHERE ${signup} AND ${person} AND $days`,
  "mixstack-overview › Events by name › A": `SELECT count("insert_id") FROM "events" WHERE $hours GROUP BY time($__interval), "event" fill(0)`,
  "mixstack-overview › Distinct users per day › A": `SELECT ${distinct} FROM "events" WHERE ${person} AND $days GROUP BY time(1d) fill(0)`,
  "mixstack-overview › Sign-ups per day, last 7 days › A": `SELECT ${distinct} FROM "events" WHERE ${signup} AND ${person} AND $days GROUP BY time(1d) fill(0)`,
  "mixstack-overview › Top events › A": `SELECT top("events", "event", 10) AS "events" FROM (SELECT count("insert_id") AS "events" FROM "events" WHERE $hours GROUP BY "event")`,
  "mixstack-users › DAU (yesterday) › A": `SELECT ${distinct} FROM "events" WHERE ${person} AND $days`,
  "mixstack-users › WAU (last 7 complete days) › A": `SELECT ${distinct} FROM "events" WHERE ${person} AND $days`,
  "mixstack-users › MAU (last 30 complete days) › A": `SELECT ${distinct} FROM "events" WHERE ${person} AND $days`,
  "mixstack-users › Stickiness (DAU / MAU, last 30 complete days) › A": `SELECT count("user") / count(distinct("user")) / 30 FROM (SELECT distinct("distinct_id") AS "user" FROM "events" WHERE ${person} AND $days GROUP BY time(1d))`,
  "mixstack-users › Daily active users › A": `SELECT ${distinct} FROM "events" WHERE ${person} AND $days GROUP BY time(1d) fill(0)`,
  "mixstack-users › Weekly active users › A": `SELECT ${distinct} FROM "events" WHERE ${person} AND $weeks GROUP BY time(7d, 4d) fill(0)`,
  "mixstack-users › New and returning users per day › A": `SELECT ${distinct} FROM "events" WHERE ${person} AND $days GROUP BY time(1d), "user_type" fill(0)`,
  "mixstack-events › Events: $event › A": `SELECT count("insert_id") FROM "events" WHERE "event" =~ /^$event$/ AND $hours GROUP BY time($__interval), "event" fill(0)`,
  "mixstack-events › Distinct users per day: $event › A": `SELECT ${distinct} FROM "events" WHERE "event" =~ /^$event$/ AND ${person} AND $days GROUP BY time(1d), "event" fill(0)`,
  "mixstack-events › Events by $breakdown › A": `SELECT count("insert_id") FROM "events" WHERE "event" =~ /^$event$/ AND $hours GROUP BY time($__interval), "$breakdown" fill(0)`,
  "mixstack-events › Events by $breakdown, totals › A": `SELECT count("insert_id") AS "events" FROM "events" WHERE "event" =~ /^$event$/ AND $hours GROUP BY "$breakdown"`,
};

function widen(text: string, range: { from: number; to: number }): string {
  const day = (ms: number) => Math.floor(ms / dayMs) * dayMs;
  const dayEnd = day(range.to) + dayMs;
  const monday = day(range.from) - ((Math.floor(range.from / dayMs) + 3) % 7) * dayMs;
  return text
    .replaceAll("$days", `time >= ${day(range.from)}ms and time < ${dayEnd}ms`)
    .replaceAll("$weeks", `time >= ${monday}ms and time < ${dayEnd}ms`)
    .replaceAll("$hours", `time >= ${Math.floor(range.from / hourMs) * hourMs}ms and time <= ${range.to}ms`);
}

/** The numbers of an answer, whatever its columns are called and its times (stats carry the range's start). */
function numbers(series: QuerySeries[]): string {
  const rounded = (cell: unknown) => (typeof cell === "number" ? Number(cell.toPrecision(12)) : cell);
  return JSON.stringify(
    series
      .map((one) => ({ tags: Object.entries(one.tags).sort(), rows: one.values.map((row) => row.slice(1).map(rounded)).sort() }))
      .sort((a, b) => (JSON.stringify(a.tags) < JSON.stringify(b.tags) ? -1 : 1)),
  );
}

function scenarioOf(dashboard: DashboardJson): Scenario {
  const pipeline = dashboard.uid === "mixstack-pipeline";
  return { name: "default", time: dashboard.time, now: pipeline ? () => Date.now() : () => datasetNow };
}

async function main(): Promise<void> {
  const dir = options.data ?? mkdtempSync(join(tmpdir(), "bench-dashboards-"));
  const reuse = options.data !== undefined && existsSync(join(dir, "meta"));
  mkdirSync(dir, { recursive: true });
  process.stdout.write(`dashboard queries: ${users} users; load average at start ${load()} (2 cores)\n`);
  const redisDir = mkdtempSync(join(tmpdir(), "bench-dashboards-redis-"));
  const redisServer = await startRedisServer({ dir: redisDir, appendOnly: false });
  const influx = reuse ? await startDashboardInflux({ dir, database, monitorInterval: "10s", existing: true }) : await startDashboardInflux({ dir, database, monitorInterval: "10s" });
  const redis = createClient({ url: redisServer.url, RESP: 2 });
  await redis.connect();
  try {
    if (!reuse) {
      const written = await writeProductEvents(users, (body) => influx.admin.write(body, { db: database, gzip: true }));
      process.stdout.write(`wrote ${written.events} events in ${written.seconds.toFixed(1)} s (${(written.events / written.seconds).toFixed(0)} points/s, raw line protocol, 10,000 per request, 2 in flight)\n`);
    } else process.stdout.write(`reusing the events in ${dir}\n`);
    await influx.write(pipelineDataset(Date.now()).points);

    // The rollup job, as the worker runs it, at the data set's clock.
    const job = new RollupJob({ redis, influx: influx.admin, db: database, log: createLogger("rollups", "warn"), intervalMs: 60_000, clock: () => datasetNow });
    const heapBefore = process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers;
    const catchUp = await timed(() => job.runOnce(), 1);
    const footprint = job.engine.footprint();
    const heapAfter = process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers;
    const today = Math.floor(datasetNow / dayMs);
    await reopenDays(redis, [dayName(today)]);
    const liveRound = await timed(() => job.runOnce(), 1);
    await reopenDays(redis, [dayName(today - 1)]);
    const lateRound = await timed(() => job.runOnce(), 1);
    // Each figure printed as soon as it is measured: a million-people run takes long.
    process.stdout.write(`\nrollup job (in this process, as in the worker)\n`);
    process.stdout.write(`  catch-up from nothing: ${(catchUp.ms / 1000).toFixed(1)} s for ${catchUp.result?.daysRead} days, ${catchUp.result?.points} points\n`);
    process.stdout.write(`  a round with live traffic (today read again): ${(liveRound.ms / 1000).toFixed(2)} s\n`);
    process.stdout.write(`  a late event yesterday (yesterday read again): ${(lateRound.ms / 1000).toFixed(2)} s\n`);
    process.stdout.write(`  memory kept between rounds: ${mb(footprint.bytes)} (${footprint.basePeople} people in the 30-day window, ${footprint.recentDays} recent days); heap + buffers grew ${mb(heapAfter - heapBefore)} over the catch-up\n`);

    const provisioned = loadProvisionedDatasource({ INFLUX_DB: database });
    const runner = new PanelRunner(influx.reader, { database: provisioned.jsonData.dbName, minInterval: provisioned.jsonData.timeInterval });
    const rows: string[][] = [["dashboard", "panel", "rollups ms", "today's ms", "ratio", "same answer"]];
    const totals: string[] = [];
    for (const { dashboard } of loadDashboards()) {
      const scenario = scenarioOf(dashboard);
      const variables = await runner.variableStates(dashboard, scenario);
      let total = 0;
      let totalBefore = 0;
      for (const panel of queryPanels(dashboard)) {
        for (const target of panel.targets ?? []) {
          const key = queryKey(dashboard, panel, target);
          const { range, text } = runner.prepare(dashboard, panel, target, scenario, variables);
          const now = await timed(() => runner.run(text));
          total += now.ms;
          const before = dashboard.uid === "mixstack-pipeline" ? text : todaysQuery[key];
          let cells = ["n/a", "", "n/a"];
          if (before !== undefined && !options["no-baseline"]) {
            const beforeText = dashboard.uid === "mixstack-pipeline" ? text : widen(runner.prepare(dashboard, panel, { refId: target.refId, query: before }, scenario, variables).text, range);
            const then = await timed(() => runner.run(beforeText));
            totalBefore += then.ms;
            cells = [then.ms.toFixed(1), (then.ms / now.ms).toFixed(1), numbers(then.result) === numbers(now.result) ? "yes" : "NO"];
          }
          rows.push([dashboard.uid, `${panel.title} (${target.refId})`, now.ms.toFixed(1), ...cells]);
        }
      }
      rows.push([dashboard.uid, "all panels, one after the other", total.toFixed(1), totalBefore ? totalBefore.toFixed(1) : "", totalBefore ? (totalBefore / total).toFixed(1) : "", ""]);
      totals.push(`${dashboard.uid} ${(total / 1000).toFixed(2)} s`);
    }
    process.stdout.write(`\npanels, default ranges, median of ${repeat} (today's: the raw-event query for the same answer, same run)\n\n`);
    const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
    for (const row of rows) process.stdout.write(`${row.map((cell, column) => (column >= 2 && column <= 4 ? cell.padStart(widths[column]!) : cell.padEnd(widths[column]!))).join("  ")}\n`);
    process.stdout.write(`\ntotals: ${totals.join(", ")}; load average ${load()}\n`);

    // A restore or an import of the whole history: every day reopened, the job rebuilds.
    await reopenRange(redis, today - 40, today);
    const reopenedBytes = Number(await redis.sendCommand(["MEMORY", "USAGE", redisKeys.rollupReopened]));
    const stateBytes = Number(await redis.sendCommand(["MEMORY", "USAGE", redisKeys.rollupState]));
    process.stdout.write(`\nRedis: ${(reopenedBytes / 41).toFixed(0)} bytes per reopened day (mx:rollup:reopened with 41 days: ${reopenedBytes} bytes), mx:rollup:state ${stateBytes} bytes; no per-person data\n`);
    const rebuild = await timed(() => job.runOnce(), 1);
    process.stdout.write(`every day reopened (restore, import of history): ${(rebuild.ms / 1000).toFixed(1)} s for ${rebuild.result?.daysRead} days; load average at end ${load()}\n`);
  } finally {
    await redis.quit().catch(() => undefined);
    await redisServer.stop();
    await influx.server.stop();
    if (!options.data) rmSync(dir, { recursive: true, force: true });
    rmSync(redisDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exitCode = 1;
});
