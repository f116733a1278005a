import { createClient, TimeoutError } from "redis";
import { encodeEntry, redisKeys, type QueueEntry } from "../core/queue";
import type { Logger } from "../core/log";

/**
 * Writes stream entries with XADD, the one place ingest talks to Redis. A write either succeeds or
 * fails within `timeoutMs` with a reason (never hangs): Redis down (the client does not queue
 * commands while offline), slow (per-command timeout) or too far behind (`XLEN` above the bound:
 * backpressure instead of filling Redis' memory; the stream is never trimmed, that would drop
 * events the worker has not written yet). node-redis reconnects by itself when Redis returns.
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

/** Reconnect quickly at first, then every second: a restarted Redis is used again within ~1 s. */
function reconnectDelay(retries: number): number {
  return Math.min(50 * 2 ** retries, 1_000);
}

export class RedisQueueWriter implements QueueWriter {
  private readonly client;
  private readonly timed;
  private length: number | undefined;
  private backlogTimer?: NodeJS.Timeout;
  private polling = false;
  private down = false;
  private closed = false;

  constructor(private readonly options: RedisQueueOptions) {
    this.client = createClient({
      url: options.url,
      disableOfflineQueue: true,
      socket: { reconnectStrategy: reconnectDelay, connectTimeout: Math.max(options.timeoutMs, 1_000) },
    });
    this.timed = this.client.withCommandOptions({ timeout: options.timeoutMs });
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
  }

  get ready(): boolean {
    return this.client.isReady;
  }

  get backlog(): number | undefined {
    return this.length;
  }

  async write(entry: QueueEntry, options: { ignoreBackpressure?: boolean } = {}): Promise<string | QueueFailure> {
    if (!this.client.isReady) return new QueueFailure("queue_unavailable", "queue unavailable");
    if (!options.ignoreBackpressure && this.length !== undefined && this.length >= this.options.maxStreamLength) {
      return new QueueFailure("backpressure", `queue backlog above ${this.options.maxStreamLength} entries`);
    }
    try {
      const id = await this.timed.xAdd(redisKeys.stream, "*", encodeEntry(entry));
      if (this.length !== undefined) this.length++;
      return id;
    } catch (error) {
      if (error instanceof TimeoutError) return new QueueFailure("queue_timeout", "queue did not answer in time");
      this.options.log.warn({ err: (error as Error).message }, "queue write failed");
      return new QueueFailure("queue_unavailable", "queue unavailable");
    }
  }

  private async pollBacklog(): Promise<void> {
    if (this.polling || !this.client.isReady) return;
    this.polling = true;
    try {
      this.length = await this.timed.xLen(redisKeys.stream);
      this.options.onBacklog?.(this.length);
    } catch {
      // The write path reports trouble; the last length stays until Redis answers again.
    } finally {
      this.polling = false;
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.backlogTimer);
    if (this.client.isOpen) {
      try {
        await this.client.close();
      } catch {
        this.client.destroy();
      }
    }
  }
}

function redactUrl(url: string): string {
  return url.replace(/\/\/[^@/]*@/, "//***@");
}
