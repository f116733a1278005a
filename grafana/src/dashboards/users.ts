import * as dashboard from "@grafana/grafana-foundation-sdk/dashboard";
import { influxql } from "../influxql-target";
import { dayFigure, rollups } from "../influxql";
import { graph, singleStat } from "../panels";
import { mixstackDashboard } from "./common";

/**
 * Windows of complete UTC days that end yesterday, written as Grafana panel time overrides:
 * `timeFrom` sets the start relative to now, then `timeShift: "1d/d"` moves the whole range back
 * one day and rounds it to day boundaries. `timeFrom: "<N-1>d"` therefore covers exactly N days
 * (from the start of day D-N to the end of day D-1, D being today). Complete days keep the numbers
 * stable through the day; today's partial day would otherwise drag averages down every morning.
 */
const completeDays = {
  yesterday: { timeFrom: "now/d", timeShift: "1d/d" },
  last7: { timeFrom: "6d", timeShift: "1d/d" },
  last30: { timeFrom: "29d", timeShift: "1d/d" },
} as const;

function overWindow<P extends { timeFrom(value: string): P; timeShift(value: string): P; hideTimeOverride(value: boolean): P }>(
  panel: P,
  window: { timeFrom: string; timeShift: string },
): P {
  return panel.timeFrom(window.timeFrom).timeShift(window.timeShift).hideTimeOverride(true);
}

/** One figure of `rollup_days` over the panel's range: the latest day's. */
const latest = (field: string) => `SELECT ${dayFigure(field)} FROM ${rollups.days} WHERE $timeFilter`;

/** Active users over days, weeks and months, new against returning users, and stickiness. */
export function usersDashboard(): dashboard.DashboardBuilder {
  return mixstackDashboard("mixstack-users", "mixstack / Users", "now-30d", "15m")
    .description("Daily, weekly and monthly active users, new and returning users, stickiness. Days are UTC days, counted whole.")
    .withPanel(
      overWindow(
        singleStat("DAU (yesterday)", influxql(latest("dau")), {
          description: "Distinct users with at least one event yesterday (UTC).",
        }),
        completeDays.yesterday,
      ),
    )
    .withPanel(
      overWindow(
        singleStat("WAU (last 7 complete days)", influxql(latest("wau")), {
          description: "Distinct users with at least one event in the 7 UTC days that end yesterday.",
        }),
        completeDays.last7,
      ),
    )
    .withPanel(
      overWindow(
        singleStat("MAU (last 30 complete days)", influxql(latest("mau")), {
          description: "Distinct users with at least one event in the 30 UTC days that end yesterday.",
        }),
        completeDays.last30,
      ),
    )
    .withPanel(
      overWindow(
        singleStat("Stickiness (DAU / MAU, last 30 complete days)", influxql(latest("stickiness")), {
          unit: "percentunit",
          decimals: 1,
          description:
            "Average daily active users divided by monthly active users over the 30 UTC days that end yesterday: how many of those days the average user was active, as a share of 30.",
        }),
        completeDays.last30,
      ),
    )
    .withPanel(
      graph("Daily active users", [influxql(`SELECT ${dayFigure("dau")} AS "users" FROM ${rollups.days} WHERE $timeFilter GROUP BY time(1d) fill(0)`).alias("DAU")], {
        bars: true,
        description: "Distinct users per UTC day (whole days: the first bar counts its whole day, today's counts today so far).",
      }),
    )
    .withPanel(
      graph(
        "Weekly active users",
        // `wtd` is the week to date: on a Sunday the whole week. InfluxDB's 7-day buckets start on
        // Thursdays (1970-01-01); the 4-day offset moves them to Mondays.
        [influxql(`SELECT ${dayFigure("wtd")} AS "users" FROM ${rollups.days} WHERE $timeFilter GROUP BY time(7d, 4d) fill(0)`).alias("WAU")],
        {
          bars: true,
          description: "Distinct users per week, Monday to Sunday (UTC); the current week up to now.",
        },
      ),
    )
    .withPanel(
      graph(
        "Rolling weekly and monthly active users",
        [influxql(`SELECT ${dayFigure("wau")} AS "WAU (7 days)", ${dayFigure("mau")} AS "MAU (30 days)" FROM ${rollups.days} WHERE $timeFilter GROUP BY time(1d)`)],
        {
          width: 24,
          description: "For each UTC day, the distinct users of the 7 and of the 30 days that end with it (today: up to now).",
        },
      ),
    )
    .withPanel(
      graph(
        "New and returning users per day",
        [influxql(`SELECT ${dayFigure("users")} AS "users" FROM ${rollups.userTypes} WHERE $timeFilter GROUP BY time(1d), "user_type" fill(0)`).alias("$tag_user_type")],
        {
          width: 24,
          bars: true,
          stacked: true,
          description:
            "Distinct users per UTC day, split by the `user_type` tag the worker writes: `new` on the day of a user's first event, `returning` on later days. The two add up to the daily active users.",
        },
      ),
    );
}
