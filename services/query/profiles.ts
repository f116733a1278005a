import { redisKeys } from "../core/queue";
import type { Value } from "./expression/values";
import type { RedisCommands } from "./identity";

/**
 * The worker's user profiles in Redis (docs/worker.md, profiles): the hash `mx:profile:<distinct id>`
 * (property → JSON text) and the index set `mx:profiles`. Read for `user[...]` in event expressions
 * and for `/engage`; commands of a batch are sent together (node-redis pipelines them).
 */

export function decodeProfile(fields: Record<string, string> | Array<string | null>, names?: readonly string[]): Record<string, Value> {
  const profile: Record<string, Value> = Object.create(null) as Record<string, Value>;
  const set = (name: string, text: string | null) => {
    if (text === null) return;
    try {
      profile[name] = JSON.parse(text) as Value;
    } catch {
      profile[name] = text;
    }
  };
  if (Array.isArray(fields)) names!.forEach((name, index) => set(name, fields[index] ?? null));
  else for (const [name, text] of Object.entries(fields)) set(name, text);
  return profile;
}

/** Profiles of the people of one report, read once each. */
export class ProfileReader {
  private readonly cache = new Map<string, Record<string, Value> | undefined>();

  constructor(
    private readonly redis: RedisCommands,
    private readonly batchSize = 500,
  ) {}

  async prefetch(ids: Iterable<string>, properties: readonly string[]): Promise<void> {
    const wanted = [...new Set([...ids].filter((id) => id !== "" && !this.cache.has(id)))];
    for (let start = 0; start < wanted.length; start += this.batchSize) {
      const batch = wanted.slice(start, start + this.batchSize);
      const replies = (await Promise.all(batch.map((id) => this.redis.sendCommand(["HMGET", redisKeys.profile(id), ...properties])))) as Array<Array<string | null>>;
      batch.forEach((id, index) => {
        const reply = replies[index]!;
        this.cache.set(id, reply.every((value) => value === null) ? undefined : decodeProfile(reply, properties));
      });
    }
  }

  get(id: string): Record<string, Value> | undefined {
    return this.cache.get(id);
  }
}

/** Every profile id, sorted (the order `/engage` pages in). */
export async function profileIds(redis: RedisCommands): Promise<string[]> {
  const ids = (await redis.sendCommand(["SMEMBERS", redisKeys.profileIndex])) as string[];
  return ids.sort();
}

export async function readProfiles(redis: RedisCommands, ids: readonly string[]): Promise<Array<Record<string, Value> | undefined>> {
  const replies = (await Promise.all(ids.map((id) => redis.sendCommand(["HGETALL", redisKeys.profile(id)])))) as unknown[];
  return replies.map((reply) => {
    const fields = toRecord(reply);
    return Object.keys(fields).length ? decodeProfile(fields) : undefined;
  });
}

/** HGETALL answers a flat list over RESP2 and a map over RESP3 (node-redis normalises to an object). */
function toRecord(reply: unknown): Record<string, string> {
  if (Array.isArray(reply)) {
    const record: Record<string, string> = {};
    for (let index = 0; index + 1 < reply.length; index += 2) record[String(reply[index])] = String(reply[index + 1]);
    return record;
  }
  return (reply ?? {}) as Record<string, string>;
}
