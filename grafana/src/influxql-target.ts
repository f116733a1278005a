import type { Builder, Dataquery } from "@grafana/grafana-foundation-sdk/cog";
import type { DataSourceRef } from "@grafana/grafana-foundation-sdk/common";
import { influxDatasource } from "./datasource";

/**
 * A raw InfluxQL query as Grafana's InfluxDB data source stores it. The Foundation SDK ships no
 * InfluxDB query type, so this is the custom query type its README describes.
 */
export interface InfluxqlQuery {
  refId?: string;
  hide?: boolean;
  datasource?: DataSourceRef;
  /** Raw mode: `query` is sent as written, after Grafana's macro and variable substitution. */
  rawQuery: true;
  query: string;
  resultFormat: "time_series" | "table";
  /** Legend pattern (`$tag_event`, `$col`); empty keeps Grafana's default names. */
  alias?: string;
  _implementsDataqueryVariant(): void;
}

export class InfluxqlTarget implements Builder<Dataquery> {
  private readonly internal: InfluxqlQuery;

  constructor(query: string) {
    this.internal = {
      rawQuery: true,
      query,
      resultFormat: "time_series",
      datasource: influxDatasource,
      _implementsDataqueryVariant() {},
    };
  }

  build(): InfluxqlQuery {
    return this.internal;
  }

  refId(refId: string): this {
    this.internal.refId = refId;
    return this;
  }

  table(): this {
    this.internal.resultFormat = "table";
    return this;
  }

  alias(alias: string): this {
    this.internal.alias = alias;
    return this;
  }
}

/** Shorthand for the usual single-target panel: refId `A`. */
export function influxql(query: string): InfluxqlTarget {
  return new InfluxqlTarget(query).refId("A");
}
