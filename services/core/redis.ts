import { createClient, type RedisClientType, type RespVersions } from "redis";
import type { Logger } from "./log";

/**
 * The one place a Redis client is made. Every service and command picks a reconnect policy (what
 * a lost Redis means for it), and the rest follows: connect timeout, protocol, logging.
 */

/** A node-redis client as this factory makes it; the worker's speak RESP 2, the default here. */
export type RedisConnection<RESP extends RespVersions = 2> = RedisClientType<{}, {}, {}, RESP, {}>;

export type ReconnectPolicy =
  /** A service: a Redis restart is an event to ride out, so retry forever, the delay doubling up to `maxDelayMs`. */
  | { kind: "forever"; firstDelayMs: number; maxDelayMs: number }
  /** One run (a backup): a few quick retries (250 ms, 500 ms, ...), then an error naming the URL, never a hang. */
  | { kind: "attempts"; attempts: number }
  /** A one-shot command: the first failure is final. */
  | { kind: "never" };

export interface RedisClientOptions<RESP extends RespVersions> {
  reconnect: ReconnectPolicy;
  /** Default 10 s. */
  connectTimeoutMs?: number;
  /** 2 makes raw replies (`sendCommand`) plain arrays on every Redis-compatible server; default 3 (node-redis'). */
  resp?: RESP;
  /**
   * Fail commands at once while disconnected, instead of holding them in node-redis' offline queue,
   * and leave deadlines to the caller (node-redis' own command timeout costs an AbortSignal per
   * command and stops counting once a command is on the socket). Ingest's queue writer.
   */
  callerDeadlines?: boolean;
  /**
   * Log each distinct connection error once, and the recovery, under this connection name. Without
   * a logger the errors are only kept from crashing the process (the caller sees them as failed
   * commands); without this option the caller listens for them itself.
   */
  log?: { logger: Logger | undefined; connection: string };
}

export function createRedisClient<RESP extends RespVersions = 3>(url: string, options: RedisClientOptions<RESP>): RedisConnection<RESP> {
  const client = createClient<{}, {}, {}, RESP, {}>({
    url,
    ...(options.resp !== undefined && { RESP: options.resp }),
    ...(options.callerDeadlines && { disableOfflineQueue: true, commandOptions: { timeout: 0 } }),
    socket: { connectTimeout: options.connectTimeoutMs ?? 10_000, reconnectStrategy: reconnectStrategy(url, options.reconnect) },
  });
  const log = options.log;
  if (log) {
    let lastError = "";
    client.on("error", (error: Error) => {
      // node-redis emits every failed reconnect attempt; log each distinct message once.
      if (error.message !== lastError) log.logger?.warn({ err: error.message, connection: log.connection }, "redis connection error");
      lastError = error.message;
    });
    client.on("ready", () => {
      if (lastError) log.logger?.info({ connection: log.connection }, "redis connection restored");
      lastError = "";
    });
  }
  return client;
}

function reconnectStrategy(url: string, policy: ReconnectPolicy): false | ((attempt: number, cause: Error) => number | Error) {
  switch (policy.kind) {
    case "forever":
      return (attempt) => Math.min(policy.firstDelayMs * 2 ** Math.min(attempt, 16), policy.maxDelayMs);
    case "attempts":
      return (attempt, cause) => (attempt >= policy.attempts ? new Error(`Redis unreachable at ${redactUrl(url)}: ${cause.message}`) : 250 * (attempt + 1));
    case "never":
      return false;
  }
}

/** The URL without its password, for messages and logs. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.toString();
  } catch {
    return "(unparseable URL)";
  }
}
