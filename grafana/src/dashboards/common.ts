import * as dashboard from "@grafana/grafana-foundation-sdk/dashboard";

/** Every mixstack dashboard carries this tag; the link bar lists the others by it. */
export const mixstackTag = "mixstack";

/**
 * The settings all four dashboards share. Times are UTC because InfluxDB's `GROUP BY time(1d)`
 * buckets are UTC days: a browser time zone would draw midnight-to-midnight bars at odd hours.
 */
export function mixstackDashboard(uid: string, title: string, from: string, refresh = "5m"): dashboard.DashboardBuilder {
  return new dashboard.DashboardBuilder(title)
    .uid(uid)
    .tags([mixstackTag])
    .timezone("utc")
    .weekStart("monday")
    .time({ from, to: "now" })
    .refresh(refresh)
    .tooltip(dashboard.DashboardCursorSync.Crosshair)
    // Explicit empty lists: Grafana's JSON model has `templating.list` and `annotations.list`.
    .variables([])
    .annotations([])
    .link(
      new dashboard.DashboardLinkBuilder("mixstack")
        .type(dashboard.DashboardLinkType.Dashboards)
        .tags([mixstackTag])
        .asDropdown(false)
        .keepTime(true)
        .includeVars(false)
        .targetBlank(false),
    );
}
