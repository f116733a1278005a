import { createRedisClient, type RedisConnection } from "../core/redis";
import type { Logger } from "../core/log";

export type { RedisConnection };

/**
 * The worker's Redis connections (core/redis.ts makes them). RESP2, so that raw replies
 * (`sendCommand`) are plain arrays on every Redis-compatible server (Redis 6/7, Valkey, ElastiCache,
 * Memorystore); stream replies are parsed by `stream.ts`, which also copes with entries deleted
 * while pending (nil fields). A service reconnects forever with a capped delay (a Redis restart is
 * an event to ride out, not a crash); a one-shot CLI command (`persistent: false`) fails fast instead.
 */
export function createRedisConnection(url: string, log?: Logger, name = "redis", options: { persistent?: boolean } = {}): RedisConnection {
  return createRedisClient(url, {
    resp: 2,
    reconnect: options.persistent ?? true ? { kind: "forever", firstDelayMs: 100, maxDelayMs: 5_000 } : { kind: "never" },
    log: { logger: log, connection: name },
  });
}
