import { redisKeys } from "../core/queue";
import type { RedisConnection } from "./redis-connection";
import { RedisScript } from "./redis-script";

/**
 * New and returning users (the `user_type` tag of `events`): the worker keeps, per resolved distinct
 * id, the UTC day of the earliest event it has seen (`mx:first_seen`, the earlier day wins, but only
 * a plausible event moves a known day back: see `earliestDays`). An event on that day is `new`, on a
 * later day `returning`. Decided when the event is written: an older event
 * that arrives later moves the user's first day back, but the events already written keep their tag.
 */

export type UserType = "new" | "returning";

const MS_PER_DAY = 86_400_000;
const dayNames = new Map<number, string>();

/** `YYYY-MM-DD` (UTC) of a time in ms. */
export function utcDay(time: number): string {
  const day = Math.floor(time / MS_PER_DAY);
  let name = dayNames.get(day);
  if (name === undefined) {
    name = new Date(day * MS_PER_DAY).toISOString().slice(0, 10);
    if (dayNames.size > 10_000) dayNames.clear();
    dayNames.set(day, name);
  }
  return name;
}

export function userTypeOf(day: string, firstDay: string | undefined): UserType {
  return firstDay === undefined || day <= firstDay ? "new" : "returning";
}

/**
 * What a batch says about each user's first day (the argument for `recordFirstDays`): the earliest
 * day of its plausible events, which may move a known first day back, and the earliest day of its
 * late ones (a /track event received days after its time), which may only start a first day.
 */
export interface BatchDays {
  day?: string;
  lateDay?: string;
}

export function earliestDays(users: ReadonlyArray<{ distinctId: string; day: string; late?: boolean }>): Map<string, BatchDays> {
  const earliest = new Map<string, BatchDays>();
  for (const { distinctId, day, late } of users) {
    if (distinctId === "") continue;
    let days = earliest.get(distinctId);
    if (!days) earliest.set(distinctId, (days = {}));
    if (late) {
      if (days.lateDay === undefined || day < days.lateDay) days.lateDay = day;
    } else if (days.day === undefined || day < days.day) days.day = day;
  }
  return earliest;
}

/**
 * KEYS[1] = the hash; ARGV = id, day, late day ("" when none), per user. A user without a first day
 * gets the earlier of the two; a known first day only moves back to a plausible day. Returns each
 * id's first day after the update.
 */
const recordFirstDaysSource = `
local days = {}
for i = 1, #ARGV, 3 do
  local id, day, late = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  local known = redis.call('HGET', KEYS[1], id)
  if not known then
    local first = day
    if first == '' or (late ~= '' and late < first) then first = late end
    redis.call('HSET', KEYS[1], id, first)
    known = first
  elseif day ~= '' and day < known then
    redis.call('HSET', KEYS[1], id, day)
    known = day
  end
  days[#days + 1] = known
end
return days
`;

export const recordFirstDaysScript = new RedisScript("record-first-days", recordFirstDaysSource, { allowOom: true });

/** Records the batch's earliest days (atomically: the earlier day wins) and returns every user's first day. */
export async function recordFirstDays(redis: RedisConnection, earliest: ReadonlyMap<string, BatchDays | string>, key = redisKeys.firstSeen): Promise<Map<string, string>> {
  const firstDays = new Map<string, string>();
  if (earliest.size === 0) return firstDays;
  const ids = [...earliest.keys()];
  const args = ids.flatMap((id) => {
    const days = earliest.get(id)!;
    return typeof days === "string" ? [id, days, ""] : [id, days.day ?? "", days.lateDay ?? ""];
  });
  const reply = (await recordFirstDaysScript.run(redis, [key], args)) as string[];
  ids.forEach((id, index) => firstDays.set(id, String(reply[index])));
  return firstDays;
}
