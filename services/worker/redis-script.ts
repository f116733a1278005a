import { createHash } from "node:crypto";
import type { RedisConnection } from "./redis-connection";

/**
 * A Lua script run with EVALSHA (EVAL once when Redis does not know it yet, e.g. after a restart).
 * Scripts run atomically, which is how the worker gets an exactly-once effect from at-least-once
 * delivery. Plain EVAL/EVALSHA on one node: works on ElastiCache/Memorystore without cluster mode.
 */
export class RedisScript {
  readonly sha: string;
  readonly source: string;

  /**
   * `allowOom`: the script runs even when Redis is at `maxmemory` (Redis 7+ / Valkey shebang flag).
   * Every script of the worker consumes stream entries that it then deletes, so that memory comes
   * back at once; without the flag a full Redis refused the first write of the batch and the
   * worker could never delete anything (the pipeline wedged, issue 12).
   */
  constructor(
    readonly name: string,
    source: string,
    options: { allowOom?: boolean } = {},
  ) {
    this.source = options.allowOom ? `#!lua flags=allow-oom\n${source.replace(/^\n/, "")}` : source;
    this.sha = createHash("sha1").update(this.source).digest("hex");
  }

  async run(redis: RedisConnection, keys: string[], args: string[]): Promise<unknown> {
    const tail = [String(keys.length), ...keys, ...args];
    try {
      return await redis.sendCommand(["EVALSHA", this.sha, ...tail]);
    } catch (error) {
      if (!String((error as Error).message).startsWith("NOSCRIPT")) throw error;
      return redis.sendCommand(["EVAL", this.source, ...tail]);
    }
  }
}

/** What an "apply once" script reports: applied now, applied by an earlier delivery, or the entry is gone. */
export type ApplyOutcome = { state: "applied" | "done"; result: string } | { state: "gone" };

export function readApplyOutcome(reply: unknown): ApplyOutcome {
  if (!Array.isArray(reply) || typeof reply[0] !== "string") throw new Error(`unexpected script reply ${JSON.stringify(reply)}`);
  const [state, result] = reply as [string, unknown];
  if (state === "gone") return { state };
  if (state === "applied" || state === "done") return { state, result: typeof result === "string" ? result : "" };
  throw new Error(`unexpected script state ${state}`);
}

/**
 * The part every "apply once" script starts with: the effect of a stream entry is recorded in its
 * marker (`mx:applied:<id>`); a re-delivery gets the recorded result back instead of applying again,
 * and an entry that is no longer in the stream (another worker finished it) is not applied at all.
 * KEYS[1] = stream, KEYS[2] = marker, ARGV[1] = entry id.
 */
export const APPLY_ONCE_PROLOGUE = `
local recorded = redis.call('GET', KEYS[2])
if recorded then return {'done', recorded} end
if #redis.call('XRANGE', KEYS[1], ARGV[1], ARGV[1]) == 0 then return {'gone', ''} end
`;
