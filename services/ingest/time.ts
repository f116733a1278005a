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
