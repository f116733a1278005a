import { readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type * as dashboard from "@grafana/grafana-foundation-sdk/dashboard";
import { dashboardSources } from "./dashboards";

/**
 * Turns the dashboard sources into the JSON files Grafana provisions. `npm run dashboards` writes
 * them; `npm run dashboards -- --check` (and the test suite) fails when they are stale.
 */

export const dashboardsDir = resolve(__dirname, "..", "dashboards");

/** Panel ids follow the order on the page, rows included; Grafana needs them unique per dashboard. */
function numberPanels(model: dashboard.Dashboard): dashboard.Dashboard {
  let next = 1;
  for (const panel of model.panels ?? []) {
    panel.id = next++;
    for (const inner of "panels" in panel ? panel.panels : []) inner.id = next++;
  }
  return model;
}

/** File name -> file content, exactly as committed under `grafana/dashboards/`. */
export function renderDashboards(): Map<string, string> {
  return new Map(
    dashboardSources.map(({ file, build }) => [file, `${JSON.stringify(numberPanels(build().build()), null, 2)}\n`]),
  );
}

/** Files whose content differs from what the sources produce now (missing files included). */
export function staleDashboards(dir = dashboardsDir): string[] {
  const stale: string[] = [];
  for (const [file, content] of renderDashboards()) {
    let current: string | undefined;
    try {
      current = readFileSync(join(dir, file), "utf8");
    } catch {
      current = undefined;
    }
    if (current !== content) stale.push(file);
  }
  return stale;
}

function main(argv: string[]): number {
  if (argv.includes("--check")) {
    const stale = staleDashboards();
    if (stale.length === 0) return 0;
    process.stderr.write(`stale dashboards in ${dashboardsDir}: ${stale.join(", ")}; run npm run dashboards\n`);
    return 1;
  }
  const rendered = renderDashboards();
  for (const [file, content] of rendered) writeFileSync(join(dashboardsDir, file), content);
  process.stdout.write(`wrote ${[...rendered.keys()].join(", ")} to ${dashboardsDir}\n`);
  return 0;
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));
