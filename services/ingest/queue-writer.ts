import { ErrorReply, TimeoutError } from "redis";
import { encodeEntry, redisKeys, type QueueEntry } from "../core/queue";
import type { Logger } from "../core/log";
import { createRedisClient, redactUrl } from "../core/redis";

/**
 * Writes stream entries with XADD, the one place ingest talks to Redis. A write either succeeds or
 * fails within `timeoutMs` with a reason (never hangs): Redis down (the client does not queue
 * commands while offline), slow (our own deadline: node-redis' command timeout stops counting once
 * a command is on the socket) or too far behind (`XLEN` above the bound: backpressure instead of
 * filling Redis' memory; the stream is never trimmed, that would drop events the worker has not
 * written yet). node-redis reconnects by itself when Redis returns.
 *
 * A write that missed its deadline may still complete later (the command was sent): the client was
 * told 503 and sends again, and the worker stores the event once thanks to its `$insert_id`.
 */

export type QueueFailureReason = "queue_unavailable" | "queue_timeout" | "backpressure";

export class QueueFailure {
  constructor(
    readonly reason: QueueFailureReason,
    readonly detail: string,
  ) {}
}

export interface QueueWriter {
  write(entry: QueueEntry, options?: { ignoreBackpressure?: boolean }): Promise<string | QueueFailure>;
  /** Connected and answering. */
  readonly ready: boolean;
  /** Last `XLEN` seen, `undefined` before the first. */
  readonly backlog: number | undefined;
  close(): Promise<void>;
}

export interface RedisQueueOptions {
  url: string;
  timeoutMs: number;
  maxStreamLength: number;
  /** How often `XLEN` is read; a write never waits for it. */
  backlogIntervalMs?: number;
  log: Logger;
  onBacklog?: (length: number) => void;
}

/**
 * Bytes of entries sent to Redis and not yet answered. A frozen Redis does not close the socket, so
 * without this bound unanswered writes would pile up in memory; above it writes fail at once.
 */
export const MAX_IN_FLIGHT_BYTES = 64 * 1024 * 1024;

export class RedisQueueWriter implements QueueWriter {
  private readonly client;
  private length: number | undefined;
  private backlogTimer?: NodeJS.Timeout;
  private polling = false;
  private down = false;
  private closed = false;
  private inFlightBytes = 0;
  private lastRefusalLog = 0;
  /** Commands awaiting an answer, oldest first (a Set keeps insertion order). */
  private readonly waiting = new Set<{ started: number; reject: (error: Error) => void }>();
  private sweepTimer?: NodeJS.Timeout;
  /** A write or XLEN missed its deadline and nothing has succeeded since. */
  private stalled = false;

  constructor(private readonly options: RedisQueueOptions) {
    this.client = createRedisClient(options.url, {
      // `deadline` below replaces node-redis' own command timeout (5 s by default).
      callerDeadlines: true,
      // Reconnect quickly at first, then every second: a restarted Redis is used again within ~1 s.
      reconnect: { kind: "forever", firstDelayMs: 50, maxDelayMs: 1_000 },
      connectTimeoutMs: Math.max(options.timeoutMs, 1_000),
    });
    this.client.on("ready", () => {
      if (this.down || this.length === undefined) options.log.info({ redis: redactUrl(options.url) }, "queue connected");
      this.down = false;
      void this.pollBacklog();
    });
    this.client.on("error", (error: Error) => {
      if (!this.down && !this.closed) options.log.warn({ err: error.message, redis: redactUrl(options.url) }, "queue unavailable; answering 503 until it returns");
      this.down = true;
    });
  }

  /** Starts connecting (retrying forever in the background) and the backlog poll. */
  start(): void {
    this.client.connect().catch(() => undefined); // rejected only when closed; errors are events
    this.backlogTimer = setInterval(() => void this.pollBacklog(), this.options.backlogIntervalMs ?? 250);
    this.backlogTimer.unref();
    // One timer for every deadline instead of one per write (cheaper at thousands of writes/s);
    // a deadline is therefore met within a fifth of the timeout.
    this.sweepTimer = setInterval(() => this.sweep(), Math.max(10, Math.floor(this.options.timeoutMs / 5)));
    this.sweepTimer.unref();
  }

  get ready(): boolean {
    return this.client.isReady && !this.stalled;
  }

  get backlog(): number | undefined {
    return this.length;
  }

  async write(entry: QueueEntry, options: { ignoreBackpressure?: boolean } = {}): Promise<string | QueueFailure> {
    if (!this.client.isReady) return new QueueFailure("queue_unavailable", "queue unavailable");
    if (!options.ignoreBackpressure && this.length !== undefined && this.length >= this.options.maxStreamLength) {
      return new QueueFailure("backpressure", `queue backlog above ${this.options.maxStreamLength} entries`);
    }
    const fields = encodeEntry(entry);
    const bytes = fields.items!.length;
    if (this.inFlightBytes + bytes > MAX_IN_FLIGHT_BYTES) return new QueueFailure("queue_timeout", "queue did not answer in time");
    this.inFlightBytes += bytes;
    const sent = this.client.xAdd(redisKeys.stream, "*", fields).finally(() => (this.inFlightBytes -= bytes));
    try {
      const id = await this.deadline(sent);
      this.stalled = false;
      if (this.length !== undefined) this.length++;
      return id;
    } catch (error) {
      if (error instanceof TimeoutError) {
        this.stalled = true;
        return new QueueFailure("queue_timeout", "queue did not answer in time");
      }
      // A refusal by Redis itself (OOM under noeviction...) is worth a warning, at most every 10 s;
      // a lost connection was already logged once by the client's `error` event.
      if (error instanceof ErrorReply && Date.now() - this.lastRefusalLog > 10_000) {
        this.lastRefusalLog = Date.now();
        this.options.log.warn({ err: error.message }, "queue refused a write");
      }
      return new QueueFailure("queue_unavailable", "queue unavailable");
    }
  }

  /** Rejects with `TimeoutError` after `timeoutMs`; the command itself goes on (see above). */
  private deadline<T>(command: Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const waiter = { started: Date.now(), reject };
      this.waiting.add(waiter);
      command.then(
        (value) => {
          this.waiting.delete(waiter);
          resolve(value);
        },
        (error: unknown) => {
          this.waiting.delete(waiter);
          reject(error);
        },
      );
    });
  }

  private sweep(): void {
    const expired = Date.now() - this.options.timeoutMs;
    for (const waiter of this.waiting) {
      if (waiter.started > expired) break;
      this.waiting.delete(waiter);
      waiter.reject(new TimeoutError());
    }
  }

  private async pollBacklog(): Promise<void> {
    if (this.polling || !this.client.isReady) return;
    this.polling = true;
    try {
      this.length = await this.deadline(this.client.xLen(redisKeys.stream));
      this.stalled = false;
      this.options.onBacklog?.(this.length);
    } catch (error) {
      if (error instanceof TimeoutError) this.stalled = true;
      // The write path reports trouble; the last length stays until Redis answers again.
    } finally {
      this.polling = false;
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.backlogTimer);
    clearInterval(this.sweepTimer);
    if (this.client.isOpen) {
      try {
        await this.client.close();
      } catch {
        this.client.destroy();
      }
    }
  }
}
