import { redisKeys } from "../core/queue";
import { DEVICE_PREFIX } from "../worker/identity";

/**
 * People after identity merges, as Mixpanel counts them retroactively (reference §1.10): the worker
 * resolves an event's id when it writes it and never rewrites points, so an event stored before its
 * device was merged still says `$device:<id>`. Every such id is looked up in the worker's identity
 * map (`mx:idmap`, device → user, first user wins and never changes) and counted for the user.
 *
 * Lookups are batched (one HMGET per batch of new device ids, several batches in flight, which
 * node-redis pipelines on one connection) and cached for the request: a device is asked once.
 */

export interface IdentityMapReader {
  /** The users of these devices (null: not merged), in order. */
  usersOf(devices: readonly string[]): Promise<Array<string | null>>;
}

/** The slice of a node-redis client this needs. */
export interface RedisCommands {
  sendCommand(args: string[]): Promise<unknown>;
}

export function redisIdentityMap(redis: RedisCommands, batchSize: number): IdentityMapReader {
  return {
    async usersOf(devices) {
      const batches: Array<Promise<unknown>> = [];
      for (let start = 0; start < devices.length; start += batchSize) {
        batches.push(redis.sendCommand(["HMGET", redisKeys.identityMap, ...devices.slice(start, start + batchSize)]));
      }
      const replies = (await Promise.all(batches)) as Array<Array<string | null>>;
      return replies.flat();
    },
  };
}

export class IdentityResolver {
  private readonly canonical = new Map<string, string>();
  lookups = 0;

  constructor(private readonly map: IdentityMapReader) {}

  /** Looks up the devices among `ids` not seen yet; then `resolve` answers them without waiting. */
  async prefetch(ids: Iterable<string>): Promise<void> {
    const devices: string[] = [];
    const seen = new Set<string>();
    for (const id of ids) {
      if (!id.startsWith(DEVICE_PREFIX) || this.canonical.has(id) || seen.has(id)) continue;
      seen.add(id);
      devices.push(id);
    }
    if (devices.length === 0) return;
    const users = await this.map.usersOf(devices.map((id) => id.slice(DEVICE_PREFIX.length)));
    this.lookups += devices.length;
    devices.forEach((id, index) => this.canonical.set(id, users[index] ?? id));
  }

  /** The id a person is counted under (call `prefetch` first for `$device:` ids). */
  resolve(id: string): string {
    return this.canonical.get(id) ?? id;
  }
}
