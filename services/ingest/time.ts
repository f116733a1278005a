import { Rejection } from "./rejection";

/**
 * Event times arrive as seconds (Node SDK with a number, raw API users), float seconds (the browser:
 * `Date.now()/1000`) or milliseconds (Node SDK with a `Date`). Below 1e11 a value is seconds: 1e11 ms
 * is 1973 and 1e11 s is the year 5138, so the two readings never overlap.
 */

const SECONDS_BELOW = 1e11;

/** 1971-01-01T00:00:00Z: Mixpanel refuses anything earlier. */
export const EARLIEST_EVENT_MS = 31_536_000_000;

/** Events up to this far in the future are clock skew; beyond it they are clamped (or refused in strict mode). */
export const FUTURE_TOLERANCE_MS = 3_600_000;

/**
 * No two parts of this pattern can match the same digits, so a long run of digits is checked in
 * linear time (`\d+\.?\d*` backtracked quadratically: 20,000 digits took seconds).
 */
const NUMERIC = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;
/** No time is longer than this ("2024-01-02T03:04:05.123456789+01:00" is 35); longer text is refused unread. */
const MAX_TIME_TEXT = 64;
const ISO_DATE = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?)?(Z|[+-]\d{2}:?\d{2})?$/i;

/** Integer milliseconds since the epoch, or `undefined` when the value is not a time at all. */
export function toEpochMs(value: unknown): number | undefined {
  if (typeof value === "number") return Number.isFinite(value) ? fromNumber(value) : undefined;
  if (typeof value !== "string") return undefined;
  if (value.length > MAX_TIME_TEXT * 4) return undefined;
  const text = value.trim();
  if (text.length > MAX_TIME_TEXT) return undefined;
  if (NUMERIC.test(text)) return fromNumber(Number(text));
  const iso = ISO_DATE.exec(text);
  if (!iso) return undefined;
  // The browser SDK encodes Dates as "YYYY-MM-DDTHH:MM:SS" without a zone, meaning UTC.
  const parsed = Date.parse(iso[1] ? text.replace(" ", "T") : `${text.replace(" ", "T")}${text.length > 10 ? "Z" : ""}`);
  return Number.isFinite(parsed) ? parsed : undefined;
}

function fromNumber(value: number): number | undefined {
  if (!Number.isFinite(value)) return undefined;
  return Math.round(Math.abs(value) < SECONDS_BELOW ? value * 1000 : value);
}

const DAY_MS = 86_400_000;
const WEEK_MS = 7 * DAY_MS;
/** InfluxDB truncates 7-day shard groups from year 1, a Monday: Unix time 0 was a Thursday, 3 days later. */
const MONDAY_OFFSET_MS = 3 * DAY_MS;

/** The earliest time accepted now: the later of the fixed date and the maximum age, never before 1971. */
export function historyFloor(history: { sinceMs?: number; maxAgeMs?: number }, now: number): number {
  let floor = EARLIEST_EVENT_MS;
  if (history.sinceMs !== undefined) floor = Math.max(floor, history.sinceMs);
  if (history.maxAgeMs !== undefined && history.maxAgeMs > 0) floor = Math.max(floor, now - history.maxAgeMs);
  return floor;
}

/**
 * The week (Monday 00:00 UTC to the next) a time falls in, numbered from 1970: exactly the shard
 * group InfluxDB puts a point in under its default 7-day shard duration (retention INF or longer
 * than six months). A week of history that holds no point yet costs a new shard when written.
 */
export function weekOf(ms: number): number {
  return Math.floor((ms + MONDAY_OFFSET_MS) / WEEK_MS);
}

export function weekStart(week: number): number {
  return week * WEEK_MS - MONDAY_OFFSET_MS;
}

/** An event or update time before the history floor (`MIXSTACK_HISTORY_SINCE`). */
export function beforeHistory(floor: number, field: string): Rejection {
  const day = new Date(floor).toISOString().slice(0, 10);
  return new Rejection("before_history", field, `before ${day}, the earliest time this server accepts (MIXSTACK_HISTORY_SINCE)`);
}
