import { readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parse } from "yaml";

/**
 * The generated dashboards as Grafana reads them: the JSON files under `grafana/dashboards/`,
 * not the TypeScript that produced them.
 */

export const grafanaDir = resolve(__dirname, "..", "..", "grafana");
export const dashboardsDir = join(grafanaDir, "dashboards");

export interface DataSourceRefJson {
  type?: string;
  uid?: string;
}

export interface TargetJson {
  refId: string;
  datasource?: DataSourceRefJson;
  rawQuery?: boolean;
  query?: string;
  resultFormat?: string;
}

export interface PanelJson {
  id: number;
  type: string;
  title: string;
  datasource?: DataSourceRefJson;
  targets?: TargetJson[];
  panels?: PanelJson[];
  maxDataPoints?: number;
  interval?: string;
  timeFrom?: string;
  timeShift?: string;
}

export interface VariableJson {
  type: string;
  name: string;
  datasource?: DataSourceRefJson;
  query?: string | { query: string };
  regex?: string;
  multi?: boolean;
  includeAll?: boolean;
  allValue?: string | null;
  current?: { text: string | string[]; value: string | string[] };
}

export interface DashboardJson {
  uid: string;
  title: string;
  time: { from: string; to: string };
  templating: { list: VariableJson[] };
  panels: PanelJson[];
}

export interface DashboardFile {
  file: string;
  dashboard: DashboardJson;
}

export function loadDashboards(): DashboardFile[] {
  return readdirSync(dashboardsDir)
    .filter((file) => file.endsWith(".json"))
    .sort()
    .map((file) => ({ file, dashboard: JSON.parse(readFileSync(join(dashboardsDir, file), "utf8")) as DashboardJson }));
}

/** Every panel, rows and the panels inside collapsed rows included. */
export function allPanels(dashboard: DashboardJson): PanelJson[] {
  return dashboard.panels.flatMap((panel) => [panel, ...(panel.panels ?? [])]);
}

/** Panels that query something (rows do not). */
export function queryPanels(dashboard: DashboardJson): PanelJson[] {
  return allPanels(dashboard).filter((panel) => panel.type !== "row");
}

export function variableQuery(variable: VariableJson): string {
  if (typeof variable.query === "string") return variable.query;
  if (variable.query?.query) return variable.query.query;
  throw new Error(`variable ${variable.name} has no query`);
}

/** The key of a panel query in `panelExpectations`. */
export function queryKey(dashboard: DashboardJson, panel: PanelJson, target: TargetJson): string {
  return `${dashboard.uid} › ${panel.title} › ${target.refId}`;
}

export interface ProvisionedDatasource {
  uid: string;
  jsonData: { dbName: string; timeInterval?: string };
}

/** The provisioned data source as Grafana reads it: `${NAME}` filled in from `env`. */
export function loadProvisionedDatasource(env: Record<string, string>): ProvisionedDatasource {
  const text = readFileSync(join(grafanaDir, "provisioning", "datasources", "influxdb.yaml"), "utf8");
  const interpolated = text.replace(/\$\{(\w+)\}/g, (_, name: string) => env[name] ?? "");
  const [source] = (parse(interpolated) as { datasources: ProvisionedDatasource[] }).datasources;
  if (!source) throw new Error("no data source in grafana/provisioning/datasources/influxdb.yaml");
  return source;
}
