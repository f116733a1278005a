import type { QueueEntry } from "../core/queue";
import { weekOf } from "./time";

/**
 * The weeks of history an entry's items would write to that are not known to hold data yet. With
 * InfluxDB's default 7-day shards each such week is a new shard (memory, open files, reopened at
 * every start), so ingest lets only a few new weeks in per minute (`MIXSTACK_NEW_WEEKS_PER_MINUTE`,
 * across instances, through Redis); the weeks already known are remembered here, so the common case
 * (this week's events) costs one division and one set lookup per item.
 */
export function unknownWeeks(entry: QueueEntry, known: ReadonlySet<number>): number[] {
  if (entry.kind === "stats") return [];
  let unknown: Set<number> | undefined;
  for (const item of entry.items) {
    const week = weekOf(item.time);
    if (!known.has(week)) (unknown ??= new Set()).add(week);
  }
  return unknown ? [...unknown] : [];
}

/**
 * Redis side of the budget (one atomic step for all ingest instances). KEYS: the set of known weeks
 * (`mx:weeks`), the counter of this minute. ARGV: the budget, then the candidate weeks. Answers
 * `{"ok", newly admitted}` (the weeks are then known) or `{"busy", left}` when the minute's budget
 * cannot take them all (nothing is changed).
 */
export const admitWeeksSource = `
local new = {}
for i = 2, #ARGV do
  if redis.call('SISMEMBER', KEYS[1], ARGV[i]) == 0 then new[#new + 1] = ARGV[i] end
end
if #new == 0 then return {'ok', 0} end
local used = tonumber(redis.call('GET', KEYS[2]) or '0')
local budget = tonumber(ARGV[1])
if used + #new > budget then return {'busy', budget - used} end
redis.call('INCRBY', KEYS[2], #new)
redis.call('EXPIRE', KEYS[2], 120)
redis.call('SADD', KEYS[1], unpack(new))
return {'ok', #new}
`;
