/**
 * EventBridge Scheduler's `cron()` from the five-field UTC cron of the stack config. The two differ:
 * AWS has a sixth (year) field, wants `?` in one of day-of-month/day-of-week, numbers weekdays
 * 1–7 from Sunday (cron: 0–7, 0 and 7 both Sunday) and has no step (`/`) in day-of-week.
 */
export function eventBridgeCron(expression: string): string | Error {
  const fields = expression.trim().split(/\s+/);
  if (fields.length !== 5) return new Error(`expected five cron fields, got ${fields.length} in "${expression}"`);
  const [minute, hour, dayOfMonth, month, dayOfWeek] = fields.map((field) => field.toUpperCase()) as [string, string, string, string, string];
  const restrictedDom = dayOfMonth !== "*" && dayOfMonth !== "?";
  const restrictedDow = dayOfWeek !== "*" && dayOfWeek !== "?";
  if (restrictedDom && restrictedDow) {
    return new Error(`"${expression}" restricts both day of month and day of week, which EventBridge cannot express; keep one of them "*"`);
  }
  let weekday = "?";
  if (restrictedDow) {
    const converted = awsWeekdays(dayOfWeek);
    if (converted instanceof Error) return new Error(`"${expression}": ${converted.message}`);
    weekday = converted;
  }
  return `cron(${minute} ${hour} ${restrictedDow ? "?" : dayOfMonth} ${month} ${weekday} *)`;
}

/** `1-5` → `2-6`, `0,6` → `1,7`, `5-7` → `6-7,1`; names (`MON-FRI`) are the same on both sides. */
function awsWeekdays(field: string): string | Error {
  if (field.includes("/")) return new Error("EventBridge has no step (/) in day of week; list the days instead");
  const day = (text: string): number | string | Error => {
    if (/^[A-Z]{3}$/.test(text)) return text;
    if (!/^\d$/.test(text) || Number(text) > 7) return new Error(`"${text}" is not a day of week (0-7 or SUN-SAT)`);
    return Number(text) === 7 ? 1 : Number(text) + 1;
  };
  const parts: string[] = [];
  for (const item of field.split(",")) {
    const range = item.split("-");
    if (range.length === 1) {
      const single = day(item);
      if (single instanceof Error) return single;
      parts.push(String(single));
      continue;
    }
    if (range.length !== 2) return new Error(`"${item}" is not a day-of-week range`);
    const [from, to] = range.map(day) as [number | string | Error, number | string | Error];
    if (from instanceof Error) return from;
    if (to instanceof Error) return to;
    if (typeof from === "string" || typeof to === "string") {
      parts.push(`${from}-${to}`);
    } else if (range[1] === "7") {
      // A range ending on Sunday (7) wraps in AWS numbering: 5-7 (Fri–Sun) is 6-7 plus 1.
      parts.push(...(from === 1 ? ["1-7"] : [`${from}-7`, "1"]));
    } else if (to < from) {
      return new Error(`"${item}" is a descending range`);
    } else {
      parts.push(`${from}-${to}`);
    }
  }
  return [...new Set(parts)].join(",");
}
