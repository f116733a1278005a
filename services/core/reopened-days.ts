import type { InfluxClient } from "./influx";
import { redisKeys } from "./queue";

/**
 * Which days the rollups must compute again, shared by whoever changes events (the worker after
 * each write, `mixstack restore`, an erasure) and the rollup job (services/worker/rollup/). The job's
 * small state in Redis (no per-person data: a field per day at most):
 * - `mx:rollup:reopened`: hash day (`YYYY-MM-DD`) -> version. Whoever changes a day's events
 *   (the worker after each write, a restore, an erasure) bumps it; the job reads the versions
 *   before it reads the day and clears a day only if its version is still the one it read, so a
 *   write that lands while the day is being computed leaves it open for the next round.
 * - `mx:rollup:state`: hash of `first_day` (the earliest day with events) and `closed_through`
 *   (the last day computed after it ended). Lost (a new Redis), everything is computed again.
 */

/** Days are numbered from the epoch (`Math.floor(ms / 86_400_000)`). */
export type DayNumber = number;

const MS_PER_DAY = 86_400_000;

/** Anything that sends raw commands: the worker's and the backup agent's node-redis clients. */
export interface RedisCommands {
  sendCommand(args: string[]): Promise<unknown>;
}

export function dayName(day: DayNumber): string {
  return new Date(day * MS_PER_DAY).toISOString().slice(0, 10);
}

/** The day number of a `YYYY-MM-DD`, or undefined for anything else. */
export function dayNumber(name: string): DayNumber | undefined {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(name)) return undefined;
  const ms = Date.parse(`${name}T00:00:00Z`);
  return Number.isFinite(ms) ? Math.floor(ms / MS_PER_DAY) : undefined;
}

export function dayOfTime(ms: number): DayNumber {
  return Math.floor(ms / MS_PER_DAY);
}

/** Marks days whose events changed, so the job computes them again (idempotent: a version bump). */
export async function reopenDays(redis: RedisCommands, days: Iterable<string>): Promise<void> {
  const unique = [...new Set(days)];
  // A script flagged allow-oom: at maxmemory the worker must still settle its batches (issue 12),
  // and a plain HINCRBY would be refused there and fail the batch after its points were written.
  for (let start = 0; start < unique.length; start += 500) {
    await redis.sendCommand(["EVAL", REOPEN_SCRIPT, "1", redisKeys.rollupReopened, ...unique.slice(start, start + 500)]);
  }
}

const REOPEN_SCRIPT = "#!lua flags=allow-oom\nfor _, day in ipairs(ARGV) do redis.call('HINCRBY', KEYS[1], day, 1) end\nreturn #ARGV";

/** Every day from `from` to `to` (day numbers, both included). */
export async function reopenRange(redis: RedisCommands, from: DayNumber, to: DayNumber): Promise<void> {
  const days: string[] = [];
  for (let day = from; day <= to; day += 1) days.push(dayName(day));
  for (let start = 0; start < days.length; start += 500) await reopenDays(redis, days.slice(start, start + 500));
}

/** Day -> version of every reopened day (fields that are not days are ignored). */
export async function readReopened(redis: RedisCommands): Promise<Map<DayNumber, string>> {
  const reply = (await redis.sendCommand(["HGETALL", redisKeys.rollupReopened])) as string[] | Record<string, string>;
  const entries = Array.isArray(reply) ? pairs(reply) : Object.entries(reply ?? {});
  const reopened = new Map<DayNumber, string>();
  for (const [name, version] of entries) {
    const day = dayNumber(name);
    if (day !== undefined) reopened.set(day, String(version));
  }
  return reopened;
}

function pairs(flat: string[]): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (let index = 0; index + 1 < flat.length; index += 2) out.push([String(flat[index]), String(flat[index + 1])]);
  return out;
}

// KEYS[1] = hash; ARGV = day, version, day, version...: deletes each day still at the version read.
const CLOSE_IF_UNCHANGED = `
local closed = 0
for i = 1, #ARGV, 2 do
  if redis.call('HGET', KEYS[1], ARGV[i]) == ARGV[i + 1] then
    redis.call('HDEL', KEYS[1], ARGV[i])
    closed = closed + 1
  end
end
return closed
`;

/** Clears the days computed from the versions read; a day changed meanwhile stays reopened. */
export async function closeReopened(redis: RedisCommands, computed: ReadonlyMap<DayNumber, string>): Promise<number> {
  if (computed.size === 0) return 0;
  const args = [...computed].flatMap(([day, version]) => [dayName(day), version]);
  return Number(await redis.sendCommand(["EVAL", CLOSE_IF_UNCHANGED, "1", redisKeys.rollupReopened, ...args]));
}

export interface RollupState {
  firstDay?: DayNumber;
  closedThrough?: DayNumber;
}

export async function readRollupState(redis: RedisCommands): Promise<RollupState> {
  const reply = (await redis.sendCommand(["HGETALL", redisKeys.rollupState])) as string[] | Record<string, string>;
  const fields = new Map(Array.isArray(reply) ? pairs(reply) : Object.entries(reply ?? {}));
  const read = (name: string) => (fields.has(name) ? dayNumber(fields.get(name)!) : undefined);
  return { firstDay: read("first_day"), closedThrough: read("closed_through") };
}

export async function writeRollupState(redis: RedisCommands, state: RollupState): Promise<void> {
  const args: string[] = [];
  if (state.firstDay !== undefined) args.push("first_day", dayName(state.firstDay));
  if (state.closedThrough !== undefined) args.push("closed_through", dayName(state.closedThrough));
  if (args.length) await redis.sendCommand(["HSET", redisKeys.rollupState, ...args]);
}

/**
 * After a restore: the backup brought back its events and the rollup points of its time, which may
 * be older than the live ones. Every day from the first event to today is computed again.
 * Returns how many days were reopened.
 */
export async function reopenAllDays(redis: RedisCommands, influx: InfluxClient, db: string, nowMs: number): Promise<number> {
  const rows = await influx.rows(`SELECT first("insert_id") FROM "events"`, { db, epoch: "ms" });
  const first = rows[0]?.time;
  if (typeof first !== "number") return 0;
  const from = dayOfTime(first);
  const to = dayOfTime(nowMs);
  await reopenRange(redis, from, to);
  return Math.max(0, to - from + 1);
}
