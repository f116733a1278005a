import * as dashboard from "@grafana/grafana-foundation-sdk/dashboard";
import { influxql } from "../influxql-target";
import { dayFigure, hourly, hourlyEvents, rollups } from "../influxql";
import { dataTable, graph, organizeColumns, singleStat } from "../panels";
import { mixstackDashboard } from "./common";

/** Relative time of the sign-up panels: today and the six UTC days before it, as Mixpanel's "Last 7 days". */
const lastSevenDays = "now-6d/d";

/** What is happening in the product: events, active users, sign-ups, the most frequent events. */
export function overviewDashboard(): dashboard.DashboardBuilder {
  return mixstackDashboard("mixstack-overview", "mixstack / Overview", "now-7d")
    .description("Events, active users and sign-ups at a glance.")
    .withPanel(
      singleStat("Events", influxql(`SELECT ${hourlyEvents} FROM ${rollups.hours} WHERE $timeFilter`), {
        width: 8,
        description: "Events stored in the selected time range, counted in whole hours (the hour the range starts in counts whole).",
      }),
    )
    .withPanel(
      singleStat("Active users, last 7 days", influxql(`SELECT ${dayFigure("wau")} FROM ${rollups.days} WHERE $timeFilter`), {
        width: 8,
        description: "Distinct users (resolved distinct ids) with at least one event today or in the six UTC days before.",
      })
        .timeFrom(lastSevenDays)
        .hideTimeOverride(true),
    )
    .withPanel(
      singleStat("Sign-ups, last 7 days", influxql(`SELECT ${dayFigure("signups_7d")} FROM ${rollups.days} WHERE $timeFilter`), {
        width: 8,
        description: "Distinct users with a sign-up event today or in the six UTC days before.",
      })
        .timeFrom(lastSevenDays)
        .hideTimeOverride(true),
    )
    .withPanel(
      graph(
        "Events by name",
        [influxql(`SELECT ${hourlyEvents} AS "events" FROM ${rollups.hours} WHERE $timeFilter GROUP BY time($__interval), "event" fill(0)`).alias("$tag_event")],
        { width: 24, height: 9, stacked: true, minInterval: hourly, description: "Events per time bucket (at least an hour), one series per event name." },
      ),
    )
    .withPanel(
      graph(
        "Distinct users per day",
        [influxql(`SELECT ${dayFigure("dau")} AS "users" FROM ${rollups.days} WHERE $timeFilter GROUP BY time(1d) fill(0)`).alias("users")],
        { bars: true, description: "Active users: distinct users with at least one event, per UTC day (whole days)." },
      ),
    )
    .withPanel(
      graph(
        "Sign-ups per day, last 7 days",
        [influxql(`SELECT ${dayFigure("signups")} AS "sign-ups" FROM ${rollups.days} WHERE $timeFilter GROUP BY time(1d) fill(0)`).alias("sign-ups")],
        { bars: true, description: "Distinct users with a sign-up event, per UTC day, today and the six days before." },
      )
        .timeFrom(lastSevenDays)
        .hideTimeOverride(true),
    )
    .withPanel(
      dataTable(
        "Top events",
        [influxql(`SELECT top("events", "event", 10) AS "events" FROM (SELECT ${hourlyEvents} AS "events" FROM ${rollups.hours} WHERE $timeFilter GROUP BY "event")`)],
        {
          width: 24,
          sortDesc: "Events",
          transformations: [organizeColumns({ event: "Event", events: "Events" })],
          description: "The ten most frequent event names in the selected time range (whole hours).",
        },
      ),
    );
}
