import type { SentEvent } from "./dataset";

/**
 * Independent brute-force reports over the events as they were *sent* (not as stored): written from
 * the definitions in docs/reports.md, with whole-list scans and sorting, sharing no code with the
 * engine. Time zones are fixed offsets (UTC, Asia/Kolkata +05:30), so the local day is plain arithmetic.
 */

export interface Flat {
  event: string;
  time: number;
  person: string;
  properties: Record<string, unknown>;
  order: number;
}

const DEVICE = "$device:";

/** Who Mixpanel counts an event for after merges: $user_id, else a non-device distinct_id, else the device's user. */
export function flatten(events: readonly SentEvent[], merges: ReadonlyMap<string, string>): Flat[] {
  return events
    .map((sent, order) => {
      const { properties } = sent;
      const user = properties.$user_id as string | undefined;
      const sentId = properties.distinct_id;
      const device = (properties.$device_id as string | undefined) ?? (sentId.startsWith(DEVICE) ? sentId.slice(DEVICE.length) : undefined);
      let person = user ?? (sentId !== "" && !sentId.startsWith(DEVICE) ? sentId : undefined);
      if (person === undefined && device !== undefined) person = merges.get(device) ?? `${DEVICE}${device}`;
      return { event: sent.event, time: properties.time, person: person ?? "", properties, order };
    })
    .sort((a, b) => a.time - b.time || a.order - b.order);
}

export const localDay = (time: number, offsetMinutes: number) => new Date(time + offsetMinutes * 60_000).toISOString().slice(0, 10);
export const dayStart = (day: string, offsetMinutes: number) => Date.parse(`${day}T00:00:00Z`) - offsetMinutes * 60_000;

export function daysBetween(from: string, to: string): string[] {
  const days: string[] = [];
  for (let t = Date.parse(`${from}T00:00:00Z`); t <= Date.parse(`${to}T00:00:00Z`); t += 86_400_000) days.push(new Date(t).toISOString().slice(0, 10));
  return days;
}

interface Range {
  from: string;
  to: string;
  offsetMinutes: number;
}

const inRange = (time: number, range: Range) => time >= dayStart(range.from, range.offsetMinutes) && time < dayStart(range.to, range.offsetMinutes) + 86_400_000;

/** `/segmentation` values per day: people (type unique) or events (general). */
export function segmentation(
  events: readonly Flat[],
  options: Range & { event: string; type: "unique" | "general"; on?: (event: Flat) => string | undefined; where?: (event: Flat) => boolean },
): Record<string, Record<string, number>> {
  const sets = new Map<string, Map<string, Set<string> | number>>();
  for (const event of events) {
    if (event.event !== options.event || !inRange(event.time, options) || (options.where && !options.where(event))) continue;
    const segment = options.on ? options.on(event) : options.event;
    if (segment === undefined) continue;
    const day = localDay(event.time, options.offsetMinutes);
    const perDay = sets.get(segment) ?? new Map();
    sets.set(segment, perDay);
    if (options.type === "general") perDay.set(day, ((perDay.get(day) as number | undefined) ?? 0) + 1);
    else if (event.person !== "") perDay.set(day, ((perDay.get(day) as Set<string> | undefined) ?? new Set()).add(event.person));
  }
  const values: Record<string, Record<string, number>> = {};
  for (const [segment, perDay] of sets) {
    values[segment] = Object.fromEntries(daysBetween(options.from, options.to).map((day) => {
      const entry = perDay.get(day);
      return [day, entry === undefined ? 0 : typeof entry === "number" ? entry : entry.size];
    }));
  }
  if (!options.on && !values[options.event]) values[options.event] = Object.fromEntries(daysBetween(options.from, options.to).map((day) => [day, 0]));
  return values;
}

export interface FunnelStepSpec {
  event: string;
  where?: (event: Flat) => boolean;
}

/**
 * `/funnels` per day: a person enters at their first step-1 event of each day in the range; step k
 * is then the earliest event not used yet that matches step k, no earlier than 2 s before the step
 * reached last, and no later than the window after the entry. Returns counts per day, per segment
 * (the entry event's `on` value, plus `$overall`).
 */
export function funnel(
  events: readonly Flat[],
  options: Range & { steps: FunnelStepSpec[]; windowMs: number; where?: (event: Flat) => boolean; on?: (event: Flat) => string | undefined },
): Record<string, Record<string, number[]>> {
  const matches = (event: Flat, step: FunnelStepSpec) => event.event === step.event && (!step.where || step.where(event)) && (!options.where || options.where(event));
  const byPerson = new Map<string, Flat[]>();
  for (const event of events) if (event.person !== "") byPerson.set(event.person, [...(byPerson.get(event.person) ?? []), event]);
  const result: Record<string, Record<string, number[]>> = {};
  const bump = (day: string, segment: string, reached: number) => {
    result[day] ??= {};
    const counts = (result[day]![segment] ??= options.steps.map(() => 0));
    for (let step = 0; step < reached; step += 1) counts[step]! += 1;
  };
  for (const personEvents of byPerson.values()) {
    const entered = new Set<string>();
    for (const entry of personEvents) {
      if (!matches(entry, options.steps[0]!) || !inRange(entry.time, options)) continue;
      const day = localDay(entry.time, options.offsetMinutes);
      if (entered.has(day)) continue;
      entered.add(day);
      const used = new Set([entry]);
      let last = entry.time;
      let reached = 1;
      for (const step of options.steps.slice(1)) {
        const candidates = personEvents.filter((event) => !used.has(event) && matches(event, step) && event.time >= last - 2_000 && event.time - entry.time <= options.windowMs);
        const next = candidates[0];
        if (!next) break;
        used.add(next);
        last = Math.max(last, next.time);
        reached += 1;
      }
      bump(day, "$overall", reached);
      const segment = options.on?.(entry);
      if (segment !== undefined) bump(day, segment, reached);
    }
  }
  return result;
}

/**
 * `/retention`: birth = each person's first `bornEvent` in the range (compounded: each day's first
 * `event`); counts[i] = people with a return event (not the birth itself) in
 * [birth + i·L, birth + (i+1)·L). Unbounded: every interval up to the last one returned in.
 */
export function retention(
  events: readonly Flat[],
  options: Range & {
    kind: "birth" | "compounded";
    bornEvent?: string;
    event?: string;
    intervalMs: number;
    intervalCount: number;
    unbounded?: boolean;
    bornWhere?: (event: Flat) => boolean;
    where?: (event: Flat) => boolean;
  },
): Record<string, { first: number; counts: number[] }> {
  const isReturn = (event: Flat) => (options.event === undefined || event.event === options.event) && (!options.where || options.where(event));
  const isBirth = (event: Flat) =>
    options.kind === "birth" ? event.event === options.bornEvent && (!options.bornWhere || options.bornWhere(event)) : isReturn(event);
  const answer: Record<string, { first: number; counts: number[] }> = {};
  for (const day of daysBetween(options.from, options.to)) answer[day] = { first: 0, counts: Array.from({ length: options.intervalCount + 1 }, () => 0) };
  const byPerson = new Map<string, Flat[]>();
  for (const event of events) if (event.person !== "") byPerson.set(event.person, [...(byPerson.get(event.person) ?? []), event]);
  for (const personEvents of byPerson.values()) {
    const births: Flat[] = [];
    const days = new Set<string>();
    for (const event of personEvents) {
      if (!isBirth(event) || !inRange(event.time, options)) continue;
      const day = localDay(event.time, options.offsetMinutes);
      if (options.kind === "birth" ? births.length > 0 : days.has(day)) continue;
      days.add(day);
      births.push(event);
    }
    for (const birth of births) {
      const cohort = answer[localDay(birth.time, options.offsetMinutes)]!;
      cohort.first += 1;
      const returned = new Set<number>();
      for (const event of personEvents) {
        if (event === birth || event.time < birth.time || !isReturn(event)) continue;
        const interval = Math.floor((event.time - birth.time) / options.intervalMs);
        if (interval <= options.intervalCount) returned.add(interval);
      }
      if (options.unbounded) {
        const furthest = Math.max(-1, ...returned);
        for (let interval = 0; interval <= furthest; interval += 1) cohort.counts[interval]! += 1;
      } else for (const interval of returned) cohort.counts[interval]! += 1;
    }
  }
  return answer;
}
