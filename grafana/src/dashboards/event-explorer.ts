import * as dashboard from "@grafana/grafana-foundation-sdk/dashboard";
import { influxDatasource } from "../datasource";
import { influxql } from "../influxql-target";
import { distinctUsers, eventCount, hasUser } from "../influxql";
import { dataTable, graph, mergeTables, organizeColumns } from "../panels";
import { mixstackDashboard } from "./common";

/**
 * `$event` is multi-value with "All": Grafana regex-escapes each selected name and joins them as
 * `(a|b)`, so the variable must only appear inside an anchored regex. With "All" and no custom
 * all-value, the alternation lists every event name, escaped the same way.
 */
const selectedEvents = `"event" =~ /^$event$/`;

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
    .description("Counts and distinct users of the selected events, broken down by a property.")
    .withVariable(eventVariable())
    .withVariable(breakdownVariable())
    .withPanel(
      graph(
        "Events: $event",
        [
          influxql(
            `SELECT ${eventCount} FROM "events" WHERE ${selectedEvents} AND $timeFilter GROUP BY time($__interval), "event" fill(0)`,
          ).alias("$tag_event"),
        ],
        { description: "Events per time bucket, one series per selected event name." },
      ),
    )
    .withPanel(
      graph(
        "Distinct users: $event",
        [
          influxql(
            `SELECT ${distinctUsers} FROM "events" WHERE ${selectedEvents} AND ${hasUser} AND $timeFilter GROUP BY time($__interval), "event" fill(0)`,
          ).alias("$tag_event"),
        ],
        { description: "Distinct users per time bucket for each selected event. Buckets do not add up: a user active in two buckets counts in both." },
      ),
    )
    .withPanel(
      graph(
        "Events by $breakdown",
        [
          influxql(
            `SELECT ${eventCount} FROM "events" WHERE ${selectedEvents} AND $timeFilter GROUP BY time($__interval), "$breakdown" fill(0)`,
          ),
        ],
        {
          stacked: true,
          description: "Selected events per time bucket, one series per value of the chosen property; events without it form the empty-valued series.",
        },
      ),
    )
    .withPanel(
      dataTable(
        "Events and users by $breakdown",
        [
          influxql(`SELECT ${eventCount} AS "events" FROM "events" WHERE ${selectedEvents} AND $timeFilter GROUP BY "$breakdown"`),
          influxql(
            `SELECT ${distinctUsers} AS "users" FROM "events" WHERE ${selectedEvents} AND ${hasUser} AND $timeFilter GROUP BY "$breakdown"`,
          ).refId("B"),
        ],
        {
          sortDesc: "Events",
          transformations: [mergeTables, organizeColumns({ events: "Events", users: "Users" })],
          description: "Totals over the selected time range for each value of the chosen property.",
        },
      ),
    );
}
