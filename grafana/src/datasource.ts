import type { DataSourceRef } from "@grafana/grafana-foundation-sdk/common";

/**
 * The one data source every panel and variable uses. Its uid is fixed in
 * `grafana/provisioning/datasources/influxdb.yaml`; a test keeps the two in step.
 */
export const influxDatasourceUid = "mixstack-influxdb";

export const influxDatasource: DataSourceRef = { type: "influxdb", uid: influxDatasourceUid };
