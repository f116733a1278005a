import type { RedisConnection } from "./redis-connection";

/**
 * What the worker needs of its Redis, checked once at start from `INFO server` and `INFO memory`.
 * Redis >= 7.0 (Valkey reports a `redis_version` of 7.2.4): the settle step and the profile scripts
 * carry the `allow-oom` flag (`#!lua flags=...`), which older servers refuse as a syntax error, so
 * every batch would fail and the stream would never drain. `noeviction`: the queue holds state
 * (stream entries not yet written, identity map, profiles); an evicting policy deletes it silently.
 * The platforms set both (docs/limits.md); a Redis the operator points us at may not.
 */
export interface RedisRequirements {
  /** `redis_version` (Valkey: also `valkey_version`), as the server reports them. */
  version: string;
  /** Why the worker cannot run on this server; undefined when it can. */
  unusable?: string;
  /** Why data may be lost on this server (an evicting `maxmemory-policy`); undefined when it is `noeviction`. */
  eviction?: string;
}

export const MIN_REDIS_MAJOR = 7;

export function redisRequirements(info: string): RedisRequirements {
  const field = (name: string) => new RegExp(`^${name}:([^\\r\\n]*)`, "m").exec(info)?.[1]?.trim();
  const redis = field("redis_version") ?? "";
  const valkey = field("valkey_version");
  const version = valkey ? `Valkey ${valkey} (redis_version ${redis})` : `Redis ${redis || "of unknown version"}`;
  const major = Number(/^(\d+)\./.exec(redis)?.[1] ?? Number.NaN);
  const unusable =
    Number.isFinite(major) && major < MIN_REDIS_MAJOR
      ? `${version}: the worker needs Redis >= ${MIN_REDIS_MAJOR}.0 or Valkey (its scripts run at maxmemory with the allow-oom flag, which older servers refuse)`
      : undefined;
  const policy = field("maxmemory_policy");
  const eviction =
    policy !== undefined && policy !== "noeviction"
      ? `maxmemory-policy is ${policy}: at maxmemory Redis deletes keys (events not yet written, the identity map, profiles); set it to noeviction`
      : undefined;
  return { version, unusable, eviction };
}

/** Reads the server's INFO and checks it; throws when the worker cannot run there. */
export async function checkRedisRequirements(redis: RedisConnection): Promise<RedisRequirements> {
  const info = `${String(await redis.sendCommand(["INFO", "server"]))}\n${String(await redis.sendCommand(["INFO", "memory"]))}`;
  const requirements = redisRequirements(info);
  if (requirements.unusable) throw new Error(requirements.unusable);
  return requirements;
}
