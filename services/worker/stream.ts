import { redisKeys } from "../core/queue";
import type { RedisConnection } from "./redis-connection";
import { RedisScript } from "./redis-script";

/**
 * The Redis Streams edge of the worker: the consumer group on `mx:stream`, reading, taking over
 * entries of dead consumers, acknowledging and dead-lettering. Replies are read raw (RESP2 arrays):
 * an entry deleted while it was pending comes back with nil fields, which the typed helpers of
 * node-redis do not expect.
 */

export interface StreamEntry {
  id: string;
  /** null when the entry was deleted while pending (it only needs acknowledging). */
  fields: Record<string, string> | null;
}

export function parseEntries(raw: unknown): StreamEntry[] {
  if (!Array.isArray(raw)) return [];
  return raw.map((item) => {
    const [id, flat] = item as [string, string[] | null];
    if (!Array.isArray(flat)) return { id: String(id), fields: null };
    const fields: Record<string, string> = {};
    for (let index = 0; index + 1 < flat.length; index += 2) fields[String(flat[index])] = String(flat[index + 1]);
    return { id: String(id), fields };
  });
}

/** XREADGROUP's reply: null on timeout, else `[[stream, entries]]`. */
export function parseReadReply(reply: unknown): StreamEntry[] {
  if (!Array.isArray(reply)) return [];
  return reply.flatMap((stream) => parseEntries((stream as [string, unknown])[1]));
}

/** XAUTOCLAIM's reply: `[next cursor, entries, deleted ids]`. */
export function parseAutoClaimReply(reply: unknown): { next: string; entries: StreamEntry[]; deleted: string[] } {
  const [next, entries, deleted] = reply as [string, unknown, unknown];
  return {
    next: String(next),
    entries: parseEntries(entries).filter((entry) => entry.fields !== null),
    deleted: Array.isArray(deleted) ? deleted.map(String) : [],
  };
}

/** Flat `[name, value, name, value]` replies (XINFO) as an object. */
function flatObject(raw: unknown): Record<string, unknown> {
  const result: Record<string, unknown> = {};
  if (!Array.isArray(raw)) return result;
  for (let index = 0; index + 1 < raw.length; index += 2) result[String(raw[index])] = raw[index + 1];
  return result;
}

export function isNoGroupError(error: unknown): boolean {
  return String((error as Error)?.message ?? "").startsWith("NOGROUP");
}

export interface StreamOptions {
  stream?: string;
  group?: string;
  deadLetters?: string;
  consumer: string;
  /** Bounds of `mx:dlq`: the oldest dead letters go beyond these (`WORKER_DLQ_MAX_ENTRIES`, `WORKER_DLQ_MAX_BYTES`). */
  deadLetterLimits?: DeadLetterLimits;
}

export interface DeadLetterLimits {
  maxEntries: number;
  maxBytes: number;
}

export const DEFAULT_DEAD_LETTER_LIMITS: DeadLetterLimits = { maxEntries: 10_000, maxBytes: 32 * 1024 * 1024 };

/**
 * The end of a batch, one atomic script that runs at `maxmemory` too: acknowledge and delete the
 * finished entries and drop their markers first (that frees memory), then add the dead letters,
 * the dead-letter stream trimmed to its bounds (entries, then bytes by `MEMORY USAGE`).
 * KEYS: stream, dead letters, markers... ARGV: group, max entries, max bytes, now, n, ids (n), then
 * each letter as its field count and its field/value pairs. Returns {letters added, letters trimmed}.
 */
const settleSource = `
local stream, dlq = KEYS[1], KEYS[2]
local n = tonumber(ARGV[5])
local i = 6
if n > 0 then
  local ids = {}
  for j = 0, n - 1 do ids[#ids + 1] = ARGV[i + j] end
  for start = 1, #ids, 500 do
    local chunk = {unpack(ids, start, math.min(start + 499, #ids))}
    redis.call('XACK', stream, ARGV[1], unpack(chunk))
    redis.call('XDEL', stream, unpack(chunk))
  end
end
i = i + n
for k = 3, #KEYS do redis.call('DEL', KEYS[k]) end
local added = 0
while i <= #ARGV do
  local count = tonumber(ARGV[i])
  local fields = {}
  for j = 1, 2 * count do fields[j] = ARGV[i + j] end
  redis.call('XADD', dlq, 'MAXLEN', '~', ARGV[2], '*', unpack(fields))
  added = added + 1
  i = i + 1 + 2 * count
end
local trimmed = 0
if added > 0 then
  local length = redis.call('XLEN', dlq)
  local before = length
  local used = redis.call('MEMORY', 'USAGE', dlq) or 0
  while used > tonumber(ARGV[3]) and length > 1 do
    length = math.floor(length * 3 / 4)
    redis.call('XTRIM', dlq, 'MAXLEN', length)
    used = redis.call('MEMORY', 'USAGE', dlq) or 0
  end
  trimmed = before - length
end
return {added, trimmed}
`;

export const settleScript = new RedisScript("settle", settleSource, { allowOom: true });

export interface DeadLetter {
  entryId: string;
  /** The fields to keep: the original entry's, or a replacement with only the failed items. */
  fields: Record<string, string>;
  reason: string;
  deliveries: number;
}

export interface Settlement {
  /** Entries done with: written, dead-lettered as a whole, or gone. */
  finished: string[];
  letters: DeadLetter[];
  /** `mx:applied:` markers no longer needed. */
  markers?: string[];
}

export interface GroupState {
  pending: number;
  /** Entries not yet delivered to the group (Redis 7+), or the stream length when unknown. */
  lag: number;
}

export class ConsumerGroup {
  readonly stream: string;
  readonly group: string;
  readonly deadLetters: string;
  readonly consumer: string;
  readonly deadLetterLimits: DeadLetterLimits;

  /**
   * `redis` runs every short command; `blocking` is dedicated to the blocking XREADGROUP, which
   * would otherwise hold up every other command on its connection.
   */
  constructor(
    private readonly redis: RedisConnection,
    private readonly blocking: RedisConnection,
    options: StreamOptions,
  ) {
    this.stream = options.stream ?? redisKeys.stream;
    this.group = options.group ?? redisKeys.consumerGroup;
    this.deadLetters = options.deadLetters ?? redisKeys.deadLetters;
    this.consumer = options.consumer;
    this.deadLetterLimits = options.deadLetterLimits ?? DEFAULT_DEAD_LETTER_LIMITS;
  }

  /** Creates the group (and the stream) if missing: at every start, and after NOGROUP (Redis lost its data). */
  async ensureGroup(): Promise<boolean> {
    try {
      // From id 0: entries added before the first worker ever ran are read too.
      await this.redis.sendCommand(["XGROUP", "CREATE", this.stream, this.group, "0", "MKSTREAM"]);
      return true;
    } catch (error) {
      const message = String((error as Error).message);
      if (message.startsWith("BUSYGROUP")) return false;
      // At maxmemory Redis refuses XGROUP CREATE before looking: the group may well be there.
      if (message.startsWith("OOM") && (await this.hasGroup())) return false;
      throw error;
    }
  }

  private async hasGroup(): Promise<boolean> {
    try {
      const groups = (await this.redis.sendCommand(["XINFO", "GROUPS", this.stream])) as unknown[];
      return (groups ?? []).map(flatObject).some((group) => group.name === this.group);
    } catch {
      return false;
    }
  }

  /** New entries for this consumer, waiting up to `blockMs`. */
  async readNew(count: number, blockMs: number): Promise<StreamEntry[]> {
    const reply = await this.blocking.sendCommand([
      "XREADGROUP", "GROUP", this.group, this.consumer, "COUNT", String(count), "BLOCK", String(blockMs), "STREAMS", this.stream, ">",
    ]);
    return parseReadReply(reply);
  }

  /** Entries already delivered to this consumer and not acknowledged (after a restart or a lost ack). */
  async readOwnPending(count: number): Promise<StreamEntry[]> {
    const reply = await this.redis.sendCommand(["XREADGROUP", "GROUP", this.group, this.consumer, "COUNT", String(count), "STREAMS", this.stream, "0"]);
    return parseReadReply(reply);
  }

  /**
   * Takes over entries pending on any consumer for longer than `minIdleMs` (a crashed worker's).
   * Entries deleted meanwhile are acknowledged right away.
   */
  async claimIdle(minIdleMs: number, maxEntries: number): Promise<StreamEntry[]> {
    const claimed: StreamEntry[] = [];
    let cursor = "0-0";
    do {
      const reply = await this.redis.sendCommand([
        "XAUTOCLAIM", this.stream, this.group, this.consumer, String(minIdleMs), cursor, "COUNT", String(Math.min(100, maxEntries - claimed.length)),
      ]);
      const { next, entries, deleted } = parseAutoClaimReply(reply);
      if (deleted.length > 0) await this.redis.sendCommand(["XACK", this.stream, this.group, ...deleted]);
      claimed.push(...entries);
      cursor = next;
    } while (cursor !== "0-0" && claimed.length < maxEntries);
    return claimed;
  }

  /** How many times each entry was delivered (XPENDING, one pipelined call per id); entries not pending are left out. */
  async deliveries(ids: readonly string[]): Promise<Map<string, number>> {
    const replies = await Promise.all(
      ids.map((id) => this.redis.sendCommand(["XPENDING", this.stream, this.group, id, id, "1"]) as Promise<Array<[string, string, number, number]>>),
    );
    const counts = new Map<string, number>();
    replies.forEach((reply, index) => {
      const row = reply?.[0];
      if (row) counts.set(ids[index]!, Number(row[3]));
    });
    return counts;
  }

  /**
   * Resets the idle time of entries this worker still holds (XCLAIM ... JUSTID does not count a
   * delivery), so that other workers do not take them over during a long InfluxDB outage.
   */
  async touch(ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.redis.sendCommand(["XCLAIM", this.stream, this.group, this.consumer, "0", ...ids, "JUSTID"]);
  }

  /**
   * Finishes a batch in one transaction: dead letters are added to `mx:dlq` (the entry's fields, or a
   * replacement such as only the items that failed, plus `reason`, `failed_at`, `deliveries`,
   * `entry_id`), then every finished entry is acknowledged and deleted (so that XLEN stays the
   * backlog), and the markers of entries written normally are dropped. Runs only after InfluxDB
   * accepted the batch's points. Dead-lettered entries keep their marker, so that a replay within its
   * lifetime does not apply profile operations twice.
   */
  async settle(settlement: Settlement): Promise<{ trimmed: number }> {
    const { finished, letters, markers = [] } = settlement;
    if (finished.length === 0 && letters.length === 0) return { trimmed: 0 };
    const now = String(Date.now());
    const args = [this.group, String(this.deadLetterLimits.maxEntries), String(this.deadLetterLimits.maxBytes), now, String(finished.length), ...finished];
    for (const letter of letters) {
      const fields = { ...letter.fields, reason: letter.reason, failed_at: now, deliveries: String(letter.deliveries), entry_id: letter.entryId };
      const pairs = Object.entries(fields);
      args.push(String(pairs.length), ...pairs.flat());
    }
    const reply = (await settleScript.run(this.redis, [this.stream, this.deadLetters, ...markers], args)) as [number, number];
    return { trimmed: Number(reply?.[1] ?? 0) };
  }

  async length(): Promise<number> {
    return Number(await this.redis.sendCommand(["XLEN", this.stream]));
  }

  async deadLetterCount(): Promise<number> {
    return Number(await this.redis.sendCommand(["XLEN", this.deadLetters]));
  }

  async state(): Promise<GroupState> {
    const groups = (await this.redis.sendCommand(["XINFO", "GROUPS", this.stream])) as unknown[];
    const mine = (groups ?? []).map(flatObject).find((group) => group.name === this.group);
    const pending = Number(mine?.pending ?? 0);
    const lag = typeof mine?.lag === "number" ? mine.lag : await this.length();
    return { pending, lag };
  }

  /** Forgets consumers that hold nothing and have been idle for long (workers that are gone). */
  async removeIdleConsumers(maxIdleMs: number): Promise<number> {
    const consumers = ((await this.redis.sendCommand(["XINFO", "CONSUMERS", this.stream, this.group])) as unknown[]).map(flatObject);
    let removed = 0;
    for (const consumer of consumers) {
      if (consumer.name === this.consumer || Number(consumer.pending) > 0 || Number(consumer.idle) < maxIdleMs) continue;
      await this.redis.sendCommand(["XGROUP", "DELCONSUMER", this.stream, this.group, String(consumer.name)]);
      removed += 1;
    }
    return removed;
  }
}
