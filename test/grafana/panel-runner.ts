import type { InfluxClient } from "../../services/core/influx";
import { queryKey, variableQuery, type DashboardJson, type PanelJson, type TargetJson } from "./dashboard-json";
import { grafanaQueryText, type VariableState } from "./grafana-interpolation";
import { calculateIntervalMs, panelRange, type RawTimeRange, type TimeRange } from "./grafana-time";
import type { Cell } from "./influxql-reference";

/**
 * Runs a generated panel's query the way Grafana 13 does: the dashboard's time range and the
 * panel's overrides, `$__interval` from the panel's max data points and minimum interval, the
 * variables' options from their own queries, then the query text as the data source's user.
 * Shared by the panel tests and the dashboard benchmark.
 */

/** How the panel tests and the benchmark look at a dashboard: a time range, a clock, selections. */
export interface Scenario {
  name: string;
  time: RawTimeRange;
  now: () => number;
  /** Variable selections; unset variables keep the dashboard's saved value. */
  variables?: Record<string, string | string[]>;
}

export interface QuerySeries {
  tags: Record<string, string>;
  columns: string[];
  values: Cell[][];
}

export interface DataSourceSettings {
  /** `jsonData.dbName` of the provisioned data source. */
  database: string;
  /** `jsonData.timeInterval`: the lowest `$__interval`. */
  minInterval?: string;
}

export class PanelRunner {
  constructor(
    private readonly client: InfluxClient,
    private readonly settings: DataSourceSettings,
  ) {}

  /** As Grafana's backend asks: the data source's database, millisecond epochs. */
  async run(text: string): Promise<QuerySeries[]> {
    const [result] = await this.client.query(text, { db: this.settings.database, epoch: "ms" });
    return (result?.series ?? []).map((series) => ({ tags: series.tags ?? {}, columns: series.columns, values: series.values as Cell[][] }));
  }

  /** What a variable's own query offers, as Grafana lists it (last column, then the variable's regex). */
  async variableOptions(dashboard: DashboardJson, name: string): Promise<string[]> {
    const variable = dashboard.templating.list.find((candidate) => candidate.name === name);
    if (!variable) throw new Error(`${dashboard.uid} has no variable ${name}`);
    const series = await this.run(variableQuery(variable));
    const values = series.flatMap((one) => one.values.map((row) => String(row[row.length - 1])));
    const regex = variable.regex ? /^\/(.*)\/([gimsuy]*)$/.exec(variable.regex) : null;
    return regex ? values.filter((value) => new RegExp(regex[1]!, regex[2]).test(value)) : values;
  }

  async variableStates(dashboard: DashboardJson, scenario: Scenario): Promise<Record<string, VariableState>> {
    const states: Record<string, VariableState> = {};
    for (const variable of dashboard.templating.list) {
      const current = scenario.variables?.[variable.name] ?? variable.current?.value;
      if (current === undefined) throw new Error(`${dashboard.uid}: no value for $${variable.name}`);
      states[variable.name] = {
        model: { name: variable.name, multi: variable.multi, includeAll: variable.includeAll, allValue: variable.allValue },
        current,
        options: await this.variableOptions(dashboard, variable.name),
      };
    }
    return states;
  }

  /** The range, interval and query text Grafana would use for this panel query right now. */
  prepare(dashboard: DashboardJson, panel: PanelJson, target: TargetJson, scenario: Scenario, variables: Record<string, VariableState>) {
    const range: TimeRange = panelRange(scenario.time, scenario.now(), panel);
    const query = target.query ?? "";
    if (query.includes("$__interval") && !panel.maxDataPoints) {
      throw new Error(`${queryKey(dashboard, panel, target)} uses $__interval without maxDataPoints: its buckets would depend on the screen`);
    }
    const intervalMs = calculateIntervalMs(range, panel.maxDataPoints ?? 1000, panel.interval ?? this.settings.minInterval);
    return { range, intervalMs, text: grafanaQueryText(query, variables, { range, intervalMs }) };
  }
}

/** The literal values a variable stands for (All resolved to every option). */
export function literalValues(state: VariableState | undefined): string[] {
  if (!state) return [];
  const values = Array.isArray(state.current) ? state.current : [state.current];
  return values[0] === "$__all" ? state.options : values;
}
