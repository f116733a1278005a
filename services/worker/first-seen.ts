import { redisKeys } from "../core/queue";
import type { RedisConnection } from "./redis-connection";
import { RedisScript } from "./redis-script";

/**
 * New and returning users (the `user_type` tag of `events`): the worker keeps, per resolved distinct
 * id, the UTC day of the earliest event it has seen (`mx:first_seen`, the earlier day wins). An event
 * on that day is `new`, on a later day `returning`. Decided when the event is written: an older event
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

/** The earliest day of each user in a batch (the argument for `recordFirstDays`). */
export function earliestDays(users: ReadonlyArray<{ distinctId: string; day: string }>): Map<string, string> {
  const earliest = new Map<string, string>();
  for (const { distinctId, day } of users) {
    if (distinctId === "") continue;
    const known = earliest.get(distinctId);
    if (known === undefined || day < known) earliest.set(distinctId, day);
  }
  return earliest;
}

/** KEYS[1] = the hash; ARGV = id, day, id, day...; returns each id's first day after the update. */
const recordFirstDaysSource = `
local days = {}
for i = 1, #ARGV, 2 do
  local known = redis.call('HGET', KEYS[1], ARGV[i])
  if not known or ARGV[i + 1] < known then
    redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
    known = ARGV[i + 1]
  end
  days[#days + 1] = known
end
return days
`;

export const recordFirstDaysScript = new RedisScript("record-first-days", recordFirstDaysSource);

/** Records the batch's earliest days (atomically: the earlier day wins) and returns every user's first day. */
export async function recordFirstDays(redis: RedisConnection, earliest: ReadonlyMap<string, string>, key = redisKeys.firstSeen): Promise<Map<string, string>> {
  const firstDays = new Map<string, string>();
  if (earliest.size === 0) return firstDays;
  const ids = [...earliest.keys()];
  const reply = (await recordFirstDaysScript.run(redis, [key], ids.flatMap((id) => [id, earliest.get(id)!]))) as string[];
  ids.forEach((id, index) => firstDays.set(id, String(reply[index])));
  return firstDays;
}
