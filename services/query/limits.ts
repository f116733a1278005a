/**
 * Every limit of the query service in one table: its name in the code, the environment variable that
 * changes it, its default and what a request that goes past it is answered. The settings schema is
 * built from this table and docs/reports.md's limits section is generated from it.
 */

export interface LimitSpec {
  env: string;
  default: number;
  /** Smallest accepted value. */
  min: number;
  status: 400 | 429 | 504;
  meaning: string;
}

export const queryLimitSpecs = {
  maxRangeDays: { env: "QUERY_MAX_RANGE_DAYS", default: 732, min: 1, status: 400, meaning: "days from `from_date` to `to_date` (both included)" },
  maxBuckets: { env: "QUERY_MAX_BUCKETS", default: 10_000, min: 1, status: 400, meaning: "time buckets of one report (e.g. `unit=minute` over a week is 10,080)" },
  maxRows: { env: "QUERY_MAX_ROWS", default: 50_000_000, min: 1, status: 400, meaning: "events read from InfluxDB for one report or export" },
  maxPeople: { env: "QUERY_MAX_PEOPLE", default: 2_000_000, min: 1, status: 400, meaning: "distinct people one report keeps state for" },
  maxSegments: { env: "QUERY_MAX_SEGMENTS", default: 50_000, min: 1, status: 400, meaning: "distinct `on` values one report tracks before keeping the top `limit`" },
  maxStates: { env: "QUERY_MAX_STATES", default: 5_000_000, min: 1, status: 400, meaning: "per-person states (person × segment, person × open funnel attempt, person × cohort)" },
  maxProfiles: { env: "QUERY_MAX_PROFILES", default: 1_000_000, min: 1, status: 400, meaning: "profiles `/engage` reads to answer one request" },
  maxFunnelSteps: { env: "QUERY_MAX_FUNNEL_STEPS", default: 20, min: 2, status: 400, meaning: "steps of a funnel" },
  maxFunnelWindowDays: { env: "QUERY_MAX_FUNNEL_WINDOW_DAYS", default: 90, min: 1, status: 400, meaning: "conversion window of a funnel (Mixpanel's API bound)" },
  maxRetentionIntervals: { env: "QUERY_MAX_RETENTION_INTERVALS", default: 366, min: 1, status: 400, meaning: "`interval_count` of a retention report" },
  maxExpressionLength: { env: "QUERY_MAX_EXPRESSION_LENGTH", default: 10_000, min: 16, status: 400, meaning: "characters of one `where`/`on` expression" },
  maxExpressionDepth: { env: "QUERY_MAX_EXPRESSION_DEPTH", default: 64, min: 4, status: 400, meaning: "nesting of one expression" },
  timeoutMs: { env: "QUERY_TIMEOUT_MS", default: 60_000, min: 100, status: 504, meaning: "time one report may take (ms); an export is cut off (connection closed) past it" },
  maxConcurrent: { env: "QUERY_MAX_CONCURRENT", default: 4, min: 1, status: 429, meaning: "requests that read events or profiles at the same time (reports, exports, `/engage`)" },
} as const satisfies Record<string, LimitSpec>;

export type QueryLimits = { [Name in keyof typeof queryLimitSpecs]: number };

export const defaultQueryLimits: QueryLimits = Object.fromEntries(
  Object.entries(queryLimitSpecs).map(([name, spec]) => [name, spec.default]),
) as QueryLimits;

/** A request that goes past a limit: answered with the limit's status and a message naming it. */
export class LimitExceeded extends Error {
  readonly status: number;

  constructor(
    readonly limit: keyof QueryLimits,
    message: string,
  ) {
    const spec = queryLimitSpecs[limit];
    super(`${message} (limit ${spec.env})`);
    this.status = spec.status;
  }
}

/** The docs table (docs/reports.md, section `query-limits`). */
export function limitsMarkdown(): string {
  const rows = Object.values(queryLimitSpecs).map(
    (spec) => `| \`${spec.env}\` | ${spec.default.toLocaleString("en-US")} | ${spec.meaning} | ${spec.status} |`,
  );
  return ["| variable | default | what it bounds | answer past it |", "|---|---|---|---|", ...rows, ""].join("\n");
}
