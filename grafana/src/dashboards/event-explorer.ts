import * as dashboard from "@grafana/grafana-foundation-sdk/dashboard";
import { influxDatasource } from "../datasource";
import { influxql } from "../influxql-target";
import { breakdownTag, dayFigure, hourly, hourlyEvents, rollups } from "../influxql";
import { dataTable, graph, organizeColumns } from "../panels";
import { mixstackDashboard } from "./common";

/**
 * `$event` is multi-value with "All": Grafana regex-escapes each selected name and joins them as
 * `(a|b)`, so the variable must only appear inside an anchored regex. With "All" and no custom
 * all-value, the alternation lists every event name, escaped the same way.
 */
const selectedEvents = `"event" =~ /^$event$/`;

/** The `rollup_breakdowns` rows of the chosen property (a single-valued variable, inserted as is). */
const breakdownRows = `${breakdownTag} = '$breakdown'`;

function eventVariable(): dashboard.QueryVariableBuilder {
  return new dashboard.QueryVariableBuilder("event")
    .label("Event")
    .datasource(influxDatasource)
    .query({ refId: "event", query: `SHOW TAG VALUES FROM "events" WITH KEY = "event"` })
    .definition(`SHOW TAG VALUES FROM "events" WITH KEY = "event"`)
    .multi(true)
    .includeAll(true)
    .current({ text: ["All"], value: ["$__all"] })
    .refresh(dashboard.VariableRefresh.OnDashboardLoad)
    .sort(dashboard.VariableSort.AlphabeticalCaseInsensitiveAsc);
}

/** Any tag of `events` but the event name itself: the configured low-cardinality properties and `user_type`. */
function breakdownVariable(): dashboard.QueryVariableBuilder {
  return new dashboard.QueryVariableBuilder("breakdown")
    .label("Break down by")
    .datasource(influxDatasource)
    .query({ refId: "breakdown", query: `SHOW TAG KEYS FROM "events"` })
    .definition(`SHOW TAG KEYS FROM "events"`)
    .regex("/^(?!event$).+$/")
    .multi(false)
    .includeAll(false)
    .allowCustomValue(false)
    .current({ text: "mp_country_code", value: "mp_country_code" })
    .refresh(dashboard.VariableRefresh.OnDashboardLoad)
    .sort(dashboard.VariableSort.AlphabeticalAsc);
}

/** Pick events and a property; see their counts, distinct users and breakdown over time. */
export function eventExplorerDashboard(): dashboard.DashboardBuilder {
  return mixstackDashboard("mixstack-events", "mixstack / Event explorer", "now-7d")
    .description("Counts and daily distinct users of the selected events, counts broken down by a property.")
    .withVariable(eventVariable())
    .withVariable(breakdownVariable())
    .withPanel(
      graph(
        "Events: $event",
        [
          influxql(
            `SELECT ${hourlyEvents} AS "events" FROM ${rollups.hours} WHERE ${selectedEvents} AND $timeFilter GROUP BY time($__interval), "event" fill(0)`,
          ).alias("$tag_event"),
        ],
        { minInterval: hourly, description: "Events per time bucket (at least an hour), one series per selected event name." },
      ),
    )
    .withPanel(
      graph(
        "Distinct users per day: $event",
        [
          influxql(
            `SELECT ${dayFigure("users")} AS "users" FROM ${rollups.events} WHERE ${selectedEvents} AND $timeFilter GROUP BY time(1d), "event" fill(0)`,
          ).alias("$tag_event"),
        ],
        { bars: true, description: "Distinct users per UTC day for each selected event (whole days). Days do not add up: a user active on two days counts on both." },
      ),
    )
    .withPanel(
      graph(
        "Events by $breakdown",
        [
          influxql(
            `SELECT ${hourlyEvents} AS "events" FROM ${rollups.breakdowns} WHERE ${breakdownRows} AND ${selectedEvents} AND $timeFilter GROUP BY time($__interval), "$breakdown" fill(0)`,
          ),
        ],
        {
          stacked: true,
          minInterval: hourly,
          description: "Selected events per time bucket (at least an hour), one series per value of the chosen property; events without it form the empty-valued series.",
        },
      ),
    )
    .withPanel(
      dataTable(
        "Events by $breakdown, totals",
        [influxql(`SELECT ${hourlyEvents} AS "events" FROM ${rollups.breakdowns} WHERE ${breakdownRows} AND ${selectedEvents} AND $timeFilter GROUP BY "$breakdown"`)],
        {
          sortDesc: "Events",
          transformations: [organizeColumns({ events: "Events" })],
          description: "Selected events over the selected time range (whole hours) for each value of the chosen property.",
        },
      ),
    );
}
