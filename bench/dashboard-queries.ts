import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { startDashboardInflux } from "../test/grafana/dashboard-influx";
import { loadDashboards, loadProvisionedDatasource, queryPanels, type DashboardJson } from "../test/grafana/dashboard-json";
import { datasetNow, pipelineDataset, productEventsDataset } from "../test/grafana/dataset";
import { PanelRunner, type Scenario } from "../test/grafana/panel-runner";

/**
 * How long each dashboard panel's query takes against a data set of a given size, beside a
 * baseline measured in the same run: a plain event count over the same range, the cheapest query
 * a panel could make. The ratio says what the panel's own work (distinct users, subqueries,
 * grouping) costs on top of reading the range.
 *
 *   npx tsx bench/dashboard-queries.ts --users 1000 --repeat 5
 */

const { values: options } = parseArgs({
  options: {
    users: { type: "string", default: "1000" },
    repeat: { type: "string", default: "5" },
  },
});
const users = Number(options.users);
const repeat = Number(options.repeat);
if (!Number.isInteger(users) || users < 1 || !Number.isInteger(repeat) || repeat < 1) {
  process.stderr.write("usage: tsx bench/dashboard-queries.ts [--users N] [--repeat R]\n");
  process.exit(2);
}

const database = "mixevents";

function median(samples: number[]): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

async function timed(run: () => Promise<unknown>): Promise<number> {
  const samples: number[] = [];
  for (let n = 0; n < repeat; n++) {
    const start = performance.now();
    await run();
    samples.push(performance.now() - start);
  }
  return median(samples);
}

function defaultScenario(dashboard: DashboardJson): Scenario {
  const pipeline = dashboard.uid === "mixstack-pipeline";
  return { name: "default", time: dashboard.time, now: pipeline ? () => Date.now() : () => datasetNow };
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "bench-dashboards-"));
  const influx = await startDashboardInflux({ dir, database, monitorInterval: "10s" });
  try {
    const events = productEventsDataset(users);
    const writeStart = performance.now();
    await influx.write(events);
    await influx.write(pipelineDataset(Date.now()).points);
    const writeSeconds = (performance.now() - writeStart) / 1000;
    const provisioned = loadProvisionedDatasource({ INFLUX_DB: database });
    const runner = new PanelRunner(influx.reader, { database: provisioned.jsonData.dbName, minInterval: provisioned.jsonData.timeInterval });

    process.stdout.write(`dashboard queries: ${users} users, ${events.length} events (written in ${writeSeconds.toFixed(1)} s), median of ${repeat} runs\n\n`);
    const rows: string[][] = [["dashboard", "panel", "ms", "baseline ms", "ratio"]];
    for (const { dashboard } of loadDashboards()) {
      const scenario = defaultScenario(dashboard);
      const variables = await runner.variableStates(dashboard, scenario);
      let total = 0;
      for (const panel of queryPanels(dashboard)) {
        for (const target of panel.targets ?? []) {
          const { range, text } = runner.prepare(dashboard, panel, target, scenario, variables);
          const baselineText = `SELECT count("insert_id") FROM "events" WHERE time >= ${range.from}ms and time <= ${range.to}ms`;
          const baseline = await timed(() => runner.run(baselineText));
          const ms = await timed(() => runner.run(text));
          total += ms;
          rows.push([dashboard.uid, `${panel.title} (${target.refId})`, ms.toFixed(1), baseline.toFixed(1), (ms / baseline).toFixed(1)]);
        }
      }
      rows.push([dashboard.uid, "all panels, one after the other", total.toFixed(1), "", ""]);
    }
    const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
    for (const row of rows) process.stdout.write(`${row.map((cell, column) => (column >= 2 ? cell.padStart(widths[column]!) : cell.padEnd(widths[column]!))).join("  ")}\n`);
  } finally {
    await influx.server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exitCode = 1;
});
