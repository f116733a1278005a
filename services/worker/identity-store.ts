import { redisKeys } from "../core/queue";
import type { MergePair } from "./identity";
import type { RedisConnection } from "./redis-connection";
import { APPLY_ONCE_PROLOGUE, RedisScript, readApplyOutcome } from "./redis-script";

/**
 * The device -> user map in Redis (`mx:idmap`). A merge is `HSETNX` (the first user wins, as in
 * Mixpanel, where a device belongs to one user). The script records which pairs of an entry created a
 * mapping in the entry's marker, so that a re-delivered entry reports the same new merges (and the
 * `identity_merges` points are written once, even after a crash between Redis and InfluxDB).
 *
 * KEYS: stream, marker, idmap. ARGV: entry id, marker TTL (s), then device, user pairs in time order.
 * Returns the state and the indexes of the pairs that created a mapping ("0,3").
 */
const applyMergesSource = `${APPLY_ONCE_PROLOGUE}
local created = {}
for i = 3, #ARGV, 2 do
  if redis.call('HSETNX', KEYS[3], ARGV[i], ARGV[i + 1]) == 1 then
    created[#created + 1] = string.format('%d', (i - 3) / 2)
  end
end
local result = table.concat(created, ',')
if #created > 0 then redis.call('SET', KEYS[2], result, 'EX', ARGV[2]) end
return {'applied', result}
`;

export const applyMergesScript = new RedisScript("apply-merges", applyMergesSource, { allowOom: true });

/** Merges the pairs of one entry; returns the pairs that created a mapping, or "gone". */
export async function applyMerges(
  redis: RedisConnection,
  pairs: readonly MergePair[],
  options: { stream?: string; entryId: string; markerId: string; ttlSeconds: number },
): Promise<MergePair[] | "gone"> {
  const args = pairs.flatMap((pair) => [pair.deviceId, pair.userId]);
  const reply = await applyMergesScript.run(
    redis,
    [options.stream ?? redisKeys.stream, redisKeys.applied(options.markerId), redisKeys.identityMap],
    [options.entryId, String(options.ttlSeconds), ...args],
  );
  const outcome = readApplyOutcome(reply);
  if (outcome.state === "gone") return "gone";
  if (outcome.result === "") return [];
  return outcome.result.split(",").map((index) => pairs[Number(index)]!).filter(Boolean);
}

/** The users of the given devices (those that have one). */
export async function usersOfDevices(redis: RedisConnection, devices: readonly string[]): Promise<Map<string, string>> {
  const users = new Map<string, string>();
  if (devices.length === 0) return users;
  const reply = (await redis.sendCommand(["HMGET", redisKeys.identityMap, ...devices])) as Array<string | null>;
  devices.forEach((device, index) => {
    const user = reply[index];
    if (typeof user === "string") users.set(device, user);
  });
  return users;
}
