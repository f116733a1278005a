import type * as dashboard from "@grafana/grafana-foundation-sdk/dashboard";
import { eventExplorerDashboard } from "./event-explorer";
import { overviewDashboard } from "./overview";
import { pipelineHealthDashboard } from "./pipeline-health";
import { usersDashboard } from "./users";

/** Every provisioned dashboard and the file it is generated into, under `grafana/dashboards/`. */
export const dashboardSources: ReadonlyArray<{ file: string; build: () => dashboard.DashboardBuilder }> = [
  { file: "overview.json", build: overviewDashboard },
  { file: "users.json", build: usersDashboard },
  { file: "event-explorer.json", build: eventExplorerDashboard },
  { file: "pipeline-health.json", build: pipelineHealthDashboard },
];
