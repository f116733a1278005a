import { makeBuckets, rangeDays, reportRange, type Bucketing, type Buckets, type ReportRange, type Unit } from "./buckets";
import { ParseError } from "./expression/parse-error";
import { parseExpression, type Expression } from "./expression/parser";
import { LimitExceeded, type QueryLimits } from "./limits";
import { parseDay, type TimeZone } from "./time-zone";

/**
 * Reading a Query API request's parameters (query string and form body, Mixpanel's names). Every bad
 * value is a `ParamError`, answered 400 with Mixpanel's `{"error", "request"}` body and a message
 * that names the parameter; docs/reports.md lists them.
 */

export class ParamError extends Error {
  readonly status = 400;
}

export class Params {
  constructor(
    readonly values: URLSearchParams,
    private readonly limits: QueryLimits,
  ) {}

  has(name: string): boolean {
    const value = this.values.get(name);
    return value !== null && value !== "";
  }

  optional(name: string): string | undefined {
    const value = this.values.get(name);
    return value === null || value === "" ? undefined : value;
  }

  required(name: string): string {
    const value = this.optional(name);
    if (value === undefined) throw new ParamError(`${name} is required`);
    return value;
  }

  integer(name: string, fallback: number, min: number, max: number): number {
    const text = this.optional(name);
    if (text === undefined) return fallback;
    if (!/^-?\d+$/.test(text.trim())) throw new ParamError(`${name} must be an integer (got ${JSON.stringify(text.slice(0, 50))})`);
    const value = Number(text);
    if (value < min || value > max) throw new ParamError(`${name} must be between ${min} and ${max} (got ${value})`);
    return value;
  }

  boolean(name: string, fallback: boolean): boolean {
    const text = this.optional(name);
    if (text === undefined) return fallback;
    const lower = text.toLowerCase();
    if (["true", "1", "yes"].includes(lower)) return true;
    if (["false", "0", "no"].includes(lower)) return false;
    throw new ParamError(`${name} must be true or false (got ${JSON.stringify(text.slice(0, 50))})`);
  }

  choice<T extends string>(name: string, allowed: readonly T[], fallback: T): T {
    const text = this.optional(name);
    if (text === undefined) return fallback;
    if (!(allowed as readonly string[]).includes(text)) throw new ParamError(`${name} must be one of ${allowed.join(", ")} (got ${JSON.stringify(text.slice(0, 50))})`);
    return text as T;
  }

  /** An expression parameter; a parse error names the parameter, the column and what was expected. */
  expression(name: string): Expression | undefined {
    const text = this.optional(name);
    return text === undefined ? undefined : this.parseStored(text, name);
  }

  /** An expression from elsewhere in the request (a step's `where`), under the same limits. */
  parseStored(text: string, name = "where"): Expression {
    try {
      return parseExpression(text, { maxLength: this.limits.maxExpressionLength, maxDepth: this.limits.maxExpressionDepth });
    } catch (error) {
      if (error instanceof ParseError) throw new ParamError(`${name}: ${error.message}`);
      throw error;
    }
  }

  /** A JSON list of strings (`event=["a","b"]`), or a single plain name when `single` allows it. */
  stringList(name: string, options: { single?: boolean } = {}): string[] | undefined {
    const text = this.optional(name);
    if (text === undefined) return undefined;
    if (options.single && !text.trimStart().startsWith("[")) return [text];
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new ParamError(`${name} must be a JSON list of strings such as ["Signed up","Paid"]`);
    }
    if (!Array.isArray(parsed) || parsed.length === 0 || !parsed.every((item) => typeof item === "string")) {
      throw new ParamError(`${name} must be a non-empty JSON list of strings such as ["Signed up","Paid"]`);
    }
    return parsed as string[];
  }

  /** `from_date`/`to_date` (yyyy-mm-dd, both included) as local days of the project. */
  range(zone: TimeZone): ReportRange {
    const day = (name: string) => {
      const text = this.required(name);
      const parsed = parseDay(text);
      if (!parsed) throw new ParamError(`${name} must be a date as yyyy-mm-dd (got ${JSON.stringify(text.slice(0, 50))})`);
      return parsed;
    };
    const from = day("from_date");
    const to = day("to_date");
    const range = reportRange(from, to, zone);
    if (range.end <= range.start) throw new ParamError("to_date must not be before from_date");
    const days = rangeDays(range);
    if (days > this.limits.maxRangeDays) throw new LimitExceeded("maxRangeDays", `from_date to to_date spans ${days} days, more than ${this.limits.maxRangeDays}`);
    return range;
  }

  /** `format`: Mixpanel's JSON (default) or `rows`, flat row arrays for Grafana's Infinity data source. */
  format(): "json" | "rows" {
    const format = this.optional("format");
    if (format === "csv") throw new ParamError("format=csv is not supported; use format=rows for flat rows, or the default JSON");
    return this.choice("format", ["json", "rows"], "json");
  }

  /** `unit`, or `interval` days in its place when allowed. */
  bucketing(units: readonly Unit[], fallback: Unit, options: { interval?: boolean } = {}): Bucketing {
    if (options.interval && this.has("interval")) {
      if (this.has("unit")) throw new ParamError("give either unit or interval, not both");
      return { intervalDays: this.integer("interval", 1, 1, 100_000) };
    }
    return { unit: this.choice("unit", units, fallback) };
  }

  buckets(range: ReportRange, bucketing: Bucketing, zone: TimeZone): Buckets {
    const buckets = makeBuckets(range, bucketing, zone, this.limits.maxBuckets);
    if (!(buckets instanceof Object) || "tooMany" in buckets) {
      throw new LimitExceeded("maxBuckets", `the report would have ${(buckets as { tooMany: number }).tooMany} time buckets, more than ${this.limits.maxBuckets}`);
    }
    return buckets;
  }

  /** Mixpanel's `project_id`/`workspace_id` are accepted (one project per stack) but must be integers. */
  checkProject(): void {
    for (const name of ["project_id", "workspace_id"]) this.integer(name, 0, 0, Number.MAX_SAFE_INTEGER);
  }
}
