/**
 * Calendar arithmetic in the project's time zone (an IANA name, `MIXSTACK_TIME_ZONE`), with the
 * platform's Intl data and no library: report days, weeks and months begin at local midnight.
 */

export interface LocalTime {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
}

export function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

export class TimeZone {
  private readonly format: Intl.DateTimeFormat;
  private readonly offsets = new Map<number, number>();

  constructor(readonly name: string) {
    this.format = new Intl.DateTimeFormat("en-US", {
      timeZone: name,
      hourCycle: "h23",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
    });
  }

  /** The wall clock at an instant. */
  local(ms: number): LocalTime & { second: number } {
    const parts: Record<string, number> = {};
    for (const part of this.format.formatToParts(new Date(ms))) if (part.type !== "literal") parts[part.type] = Number(part.value);
    return { year: parts.year!, month: parts.month!, day: parts.day!, hour: parts.hour! % 24, minute: parts.minute!, second: parts.second! };
  }

  /** UTC offset (ms) at an instant, cached per quarter hour (offsets change at most that often). */
  offsetAt(ms: number): number {
    const key = Math.floor(ms / 900_000);
    let offset = this.offsets.get(key);
    if (offset === undefined) {
      const wall = this.local(ms);
      offset = Date.UTC(wall.year, wall.month - 1, wall.day, wall.hour, wall.minute, wall.second) - Math.floor(ms / 1000) * 1000;
      if (this.offsets.size > 10_000) this.offsets.clear();
      this.offsets.set(key, offset);
    }
    return offset;
  }

  /** The instant of a wall time (a nonexistent one in a DST gap resolves to the later side). */
  instant(year: number, month: number, day: number, hour = 0, minute = 0): number {
    const wall = Date.UTC(year, month - 1, day, hour, minute);
    let guess = wall - this.offsetAt(wall);
    guess = wall - this.offsetAt(guess);
    return guess;
  }

  /** For `datetime()`: the offset at a wall time written as if it were UTC. */
  readonly offsetOfWallTime = (wallTimeAsUtc: number): number => {
    const minute = wallTimeAsUtc - (((wallTimeAsUtc % 60_000) + 60_000) % 60_000);
    return minute - this.instant(...civil(minute));
  };
}

function civil(wallTimeAsUtc: number): [number, number, number, number, number] {
  const date = new Date(wallTimeAsUtc);
  return [date.getUTCFullYear(), date.getUTCMonth() + 1, date.getUTCDate(), date.getUTCHours(), date.getUTCMinutes()];
}

/** `yyyy-mm-dd` → its parts, or undefined when it is not a real date. */
export function parseDay(text: string): { year: number; month: number; day: number } | undefined {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (!match) return undefined;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const date = new Date(Date.UTC(year, month - 1, day));
  if (date.getUTCFullYear() !== year || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day || year < 1971) return undefined;
  return { year, month, day };
}

export const pad = (n: number, width = 2) => String(n).padStart(width, "0");
export const dayLabel = (t: { year: number; month: number; day: number }) => `${t.year}-${pad(t.month)}-${pad(t.day)}`;

/** Calendar day arithmetic on UTC dates (no time zone involved). */
export function addDays(t: { year: number; month: number; day: number }, days: number) {
  const date = new Date(Date.UTC(t.year, t.month - 1, t.day + days));
  return { year: date.getUTCFullYear(), month: date.getUTCMonth() + 1, day: date.getUTCDate() };
}

export function dayNumber(t: { year: number; month: number; day: number }): number {
  return Math.round(Date.UTC(t.year, t.month - 1, t.day) / 86_400_000);
}
