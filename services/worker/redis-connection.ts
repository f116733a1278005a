import { createClient } from "redis";
import type { Logger } from "../core/log";

/**
 * The worker's Redis connections. RESP2, so that raw replies (`sendCommand`) are plain arrays on
 * every Redis-compatible server (Redis 6/7, Valkey, ElastiCache, Memorystore); stream replies are
 * parsed by `stream.ts`, which also copes with entries deleted while pending (nil fields).
 */
export function createRedisConnection(url: string, log?: Logger, name = "redis", options: { persistent?: boolean } = {}) {
  const persistent = options.persistent ?? true;
  const client = createClient({
    url,
    RESP: 2,
    socket: {
      // A service reconnects forever with a capped delay (a Redis restart is an event to ride out,
      // not a crash); a one-shot CLI command fails fast instead.
      reconnectStrategy: persistent ? (retries: number) => Math.min(100 * 2 ** Math.min(retries, 6), 5_000) : false,
      connectTimeout: 10_000,
    },
  });
  let lastError = "";
  client.on("error", (error: Error) => {
    // node-redis emits every failed reconnect attempt; log each distinct message once.
    if (error.message !== lastError) log?.warn({ err: error.message, connection: name }, "redis connection error");
    lastError = error.message;
  });
  client.on("ready", () => {
    if (lastError) log?.info({ connection: name }, "redis connection restored");
    lastError = "";
  });
  return client;
}

export type RedisConnection = ReturnType<typeof createRedisConnection>;
