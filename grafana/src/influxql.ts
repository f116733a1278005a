/**
 * InfluxQL fragments shared by several panels, written the way Grafana's raw InfluxQL editor
 * expects: `$timeFilter` and `$__interval` are replaced by Grafana before the query is sent.
 */

/** Events that belong to someone: the worker writes an empty `distinct_id` when an event has none. */
export const hasUser = `"distinct_id" != ''`;

/**
 * Sign-up events under their usual spellings: `signup`, `Sign Up`, `sign_up`, `Signed Up`... and
 * nothing longer (`signup_page_viewed` is not a sign-up). InfluxQL regexes take no `/i` suffix;
 * case-insensitivity is Go's inline `(?i)` flag.
 */
export const isSignup = `"event" =~ /(?i)^sign(ed)?[ _-]?up$/`;

/** Distinct users among the selected events. */
export const distinctUsers = `count(distinct("distinct_id"))`;

/** One count per event: every event carries an `insert_id`. */
export const eventCount = `count("insert_id")`;

/** Per-second rate of a counter summed over a `$__interval` bucket. */
export function perSecond(field: string): string {
  return `sum("${field}") * 1000 / $__interval_ms`;
}
