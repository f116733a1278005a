import { BREAKDOWN_TAG } from "../../services/worker/rollup/day-facts";
import { rollupMeasurements } from "../../services/worker/rollup/rollup-points";

/**
 * InfluxQL fragments shared by several panels, written the way Grafana's raw InfluxQL editor
 * expects: `$timeFilter` and `$__interval` are replaced by Grafana before the query is sent.
 *
 * The product panels read the rollups the worker's rollup job writes (docs/dashboards.md,
 * services/worker/rollup/), never the raw `events`: a panel costs what its answer costs, not what
 * the range holds.
 */

/** Measurement names, quoted for a query. */
export const rollups = {
  /** One row of figures per UTC day: dau, wau, mau, wtd, stickiness, signups, signups_7d, events. */
  days: `"${rollupMeasurements.days}"`,
  /** People per UTC day and `user_type`. */
  userTypes: `"${rollupMeasurements.userTypes}"`,
  /** Events and people per UTC day and event name. */
  events: `"${rollupMeasurements.events}"`,
  /** Events per hour and event name. */
  hours: `"${rollupMeasurements.hours}"`,
  /** Events per hour, event name and value of one property (`breakdown` names the property). */
  breakdowns: `"${rollupMeasurements.breakdowns}"`,
} as const;

/**
 * A day's figure in a bucket: each day's point is written once or twice with the same figures
 * (services/worker/rollup/rollup-points.ts), so a bucket takes the latest.
 */
export function dayFigure(field: string): string {
  return `last("${field}")`;
}

/** The tag of `rollup_breakdowns` that names the property a row breaks events down by. */
export const breakdownTag = `"${BREAKDOWN_TAG}"`;

/** Events in a bucket: hourly counts add up. */
export const hourlyEvents = `sum("events")`;

/** The panels that read hourly rollups never ask for buckets smaller than an hour. */
export const hourly = "1h";

/** Per-second rate of a counter summed over a `$__interval` bucket. */
export function perSecond(field: string): string {
  return `sum("${field}") * 1000 / $__interval_ms`;
}
