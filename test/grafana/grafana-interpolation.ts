import { formatInterval, type TimeRange } from "./grafana-time";

/**
 * How Grafana 13 turns a panel's raw InfluxQL into the text InfluxDB receives, restated for the
 * tests. Two steps, as in Grafana:
 *  1. the browser replaces dashboard variables (`templateSrv.replace(query, vars, interpolateQueryExpr)`
 *     in the InfluxDB data source's `applyVariables`), leaving `$timeFilter`, `$__interval` and
 *     `$__interval_ms` alone;
 *  2. the backend (`pkg/tsdb/influxdb/models/query.go`, `Build`) replaces `$timeFilter`,
 *     `$interval`, `$__interval_ms` and `$__interval`, in that order.
 */

/** `@grafana/data` `escapeRegex`: what Grafana puts before each regex special character. */
export function escapeRegex(value: string): string {
  return value.replace(/[\\^$*+?.()|[\]{}/]/g, "\\$&");
}

export interface VariableModel {
  name: string;
  multi?: boolean;
  includeAll?: boolean;
  /** A custom "All" value is inserted as written, never escaped. */
  allValue?: string | null;
}

/** The current selection: `$__all`, one value, or several (multi-value variables hold arrays). */
export type VariableValue = string | string[];

export interface VariableState {
  model: VariableModel;
  current: VariableValue;
  /** The values the variable's query returned: what "All" stands for. */
  options: string[];
}

const allValue = "$__all";

/**
 * Whether a single-value variable sits inside a `/.../` regex in the query: the query holds a
 * slash-delimited segment and the variable has a slash somewhere before and after it. This is
 * the rule Grafana's InfluxDB tests pin down (`/$var/`, `=~ /^$var$/` and `!~ /^$var$/` escape;
 * a variable after an unrelated `/regex/` does not).
 */
function isVariableInRegexLiteral(name: string, query: string): boolean {
  if (!/\/.+?\//.test(query)) return false;
  return new RegExp(`\\/(?:\\^)?(.*)(\\$${name})(.*)(?:\\$)?\\/`).test(query);
}

/**
 * The InfluxDB data source's `interpolateQueryExpr` (InfluxQL): numbers stay as they are;
 * multi-value variables are regex-escaped and joined as `(a|b)`; a single value is escaped only
 * when the query uses it inside a regex literal.
 */
export function interpolateQueryExpr(value: VariableValue, variable: VariableModel, query: string): string {
  if (typeof value === "string" && !Number.isNaN(Number.parseFloat(value))) return value;
  const alternation = (values: string[]) => `(${values.map(escapeRegex).join("|")})`;
  if (variable.multi) return typeof value === "string" ? escapeRegex(value) : alternation(value);
  if (isVariableInRegexLiteral(variable.name, query)) return typeof value === "string" ? escapeRegex(value) : alternation(value);
  return typeof value === "string" ? value : value.join(",");
}

/** `$name`, `[[name]]`, `${name}`; formats (`${name:raw}`) are not used by the dashboards. */
const variableReference = /\$(\w+)|\[\[(\w+?)(?::(\w+))?\]\]|\$\{(\w+)(?:\.([^:^}]+))?(?::([^}]+))?\}/g;

/**
 * `templateSrv.replace` with the InfluxDB format function, in one pass: values put in are not
 * scanned again, and names that are not dashboard variables (`$timeFilter`, `$__interval`,
 * `$tag_event`) stay for the backend.
 */
export function replaceVariables(query: string, variables: Record<string, VariableState>): string {
  return query.replace(variableReference, (match, plain?: string, bracket?: string, bracketFormat?: string, braced?: string, fieldPath?: string, format?: string) => {
    const name = plain ?? bracket ?? braced ?? "";
    const state = variables[name];
    if (!state) return match;
    if (bracketFormat || fieldPath || format) throw new Error(`variable formats are not modelled: ${match}`);
    let value = state.current;
    const isAll = value === allValue || (Array.isArray(value) && value[0] === allValue);
    if (isAll) {
      if (state.model.allValue) return state.model.allValue;
      value = state.options;
    }
    return interpolateQueryExpr(value, state.model, query);
  });
}

export interface BackendContext {
  /** The panel's time range (after `timeFrom` and `timeShift`). */
  range: TimeRange;
  intervalMs: number;
}

/** The backend's macros, replaced in `Build`'s order (so `$__interval_ms` is never cut short). */
export function replaceBackendMacros(query: string, context: BackendContext): string {
  const interval = formatInterval(context.intervalMs);
  return query
    .replaceAll("$timeFilter", `time >= ${context.range.from}ms and time <= ${context.range.to}ms`)
    .replaceAll("$interval", interval)
    .replaceAll("$__interval_ms", String(context.intervalMs))
    .replaceAll("$__interval", interval);
}

/** Both steps: the text Grafana sends to InfluxDB for this panel query. */
export function grafanaQueryText(query: string, variables: Record<string, VariableState>, context: BackendContext): string {
  return replaceBackendMacros(replaceVariables(query, variables), context);
}
