import * as common from "@grafana/grafana-foundation-sdk/common";
import * as dashboard from "@grafana/grafana-foundation-sdk/dashboard";
import * as stat from "@grafana/grafana-foundation-sdk/stat";
import * as table from "@grafana/grafana-foundation-sdk/table";
import * as timeseries from "@grafana/grafana-foundation-sdk/timeseries";
import { influxDatasource } from "./datasource";
import type { InfluxqlTarget } from "./influxql-target";

/**
 * The few panel shapes the dashboards are made of. Every panel carries the data source, so that
 * a dashboard never depends on which data source happens to be the default.
 */

/**
 * Points per graph that `$__interval` aims at. Fixed (rather than the panel's pixel width) so that
 * the bucket size is the same on every screen: 7 days give hourly buckets, 1 hour 20-second ones.
 */
export const graphPoints = 200;

export interface GraphOptions {
  unit?: string;
  stacked?: boolean;
  /** Bars suit daily or weekly buckets; lines suit `$__interval` buckets. */
  bars?: boolean;
  width?: number;
  height?: number;
  description?: string;
  /** The smallest `$__interval` (Grafana's "Min interval"): `1h` for panels that read hourly rollups. */
  minInterval?: string;
}

export function graph(title: string, targets: InfluxqlTarget[], options: GraphOptions = {}): timeseries.PanelBuilder {
  const panel = new timeseries.PanelBuilder()
    .title(title)
    .datasource(influxDatasource)
    .targets(targets)
    .maxDataPoints(graphPoints)
    .unit(options.unit ?? "short")
    .min(0)
    .span(options.width ?? 12)
    .height(options.height ?? 8)
    .drawStyle(options.bars ? common.GraphDrawStyle.Bars : common.GraphDrawStyle.Line)
    .fillOpacity(options.bars ? 80 : 10)
    .lineWidth(1)
    .showPoints(common.VisibilityMode.Never)
    .legend(new common.VizLegendOptionsBuilder().showLegend(true).displayMode(common.LegendDisplayMode.List).placement(common.LegendPlacement.Bottom))
    .tooltip(new common.VizTooltipOptionsBuilder().mode(common.TooltipDisplayMode.Multi).sort(common.SortOrder.Descending));
  if (options.stacked) panel.stacking(new common.StackingConfigBuilder().mode(common.StackingMode.Normal));
  if (options.description) panel.description(options.description);
  if (options.minInterval) panel.interval(options.minInterval);
  return panel;
}

export interface StatOptions {
  unit?: string;
  decimals?: number;
  width?: number;
  description?: string;
  /** Values at or above this turn the panel red (dead letters). */
  redFrom?: number;
}

export function singleStat(title: string, target: InfluxqlTarget, options: StatOptions = {}): stat.PanelBuilder {
  const steps: dashboard.Threshold[] = [{ value: null, color: "green" }];
  if (options.redFrom !== undefined) steps.push({ value: options.redFrom, color: "red" });
  const panel = new stat.PanelBuilder()
    .title(title)
    .datasource(influxDatasource)
    .withTarget(target)
    .unit(options.unit ?? "short")
    .span(options.width ?? 6)
    .height(4)
    .graphMode(common.BigValueGraphMode.None)
    .colorMode(options.redFrom !== undefined ? common.BigValueColorMode.Background : common.BigValueColorMode.Value)
    .reduceOptions(new common.ReduceDataOptionsBuilder().calcs(["lastNotNull"]).values(false))
    .thresholds(new dashboard.ThresholdsConfigBuilder().mode(dashboard.ThresholdsMode.Absolute).steps(steps));
  if (options.decimals !== undefined) panel.decimals(options.decimals);
  if (options.description) panel.description(options.description);
  return panel;
}

export interface TableOptions {
  width?: number;
  height?: number;
  description?: string;
  /** Column to sort by, descending. */
  sortDesc?: string;
  transformations?: dashboard.DataTransformerConfig[];
}

export function dataTable(title: string, targets: InfluxqlTarget[], options: TableOptions = {}): table.PanelBuilder {
  const panel = new table.PanelBuilder()
    .title(title)
    .datasource(influxDatasource)
    .targets(targets.map((target) => target.table()))
    .span(options.width ?? 12)
    .height(options.height ?? 8)
    .transformations(options.transformations ?? []);
  if (options.sortDesc) panel.sortBy([new common.TableSortByFieldStateBuilder().displayName(options.sortDesc).desc(true)]);
  if (options.description) panel.description(options.description);
  return panel;
}

/** Hides the time column InfluxDB returns with every table and renames the rest. */
export function organizeColumns(renameByName: Record<string, string>): dashboard.DataTransformerConfig {
  return { id: "organize", options: { excludeByName: { Time: true }, renameByName } };
}

export function row(title: string): dashboard.RowBuilder {
  return new dashboard.RowBuilder(title);
}
