import { randomUUID } from "node:crypto";
import type { Redis } from "./redis-state";

/**
 * One backup, restore or verify at a time per stack (the scheduled run and an on-demand one share
 * the scratch database). A Redis key with a long expiry, so a crashed run frees it by itself.
 */

export const LOCK_KEY = "mx:ops:lock";
/** Also the longest a scheduled run may last before the scheduler reports itself unhealthy (services/ops/scheduler.ts). */
export const LOCK_TTL_MS = 6 * 3600_000;

const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

export class LockBusyError extends Error {}

export async function withOpsLock<T>(redis: Redis, what: string, work: () => Promise<T>): Promise<T> {
  const token = `${what} ${new Date().toISOString()} ${randomUUID()}`;
  const taken = await redis.set(LOCK_KEY, token, { condition: "NX", expiration: { type: "PX", value: LOCK_TTL_MS } });
  if (taken !== "OK") {
    const holder = await redis.get(LOCK_KEY);
    throw new LockBusyError(`another backup or restore is running (${holder?.split(" ").slice(0, 2).join(" since ") ?? "unknown"}); try again when it ends`);
  }
  let result: T;
  try {
    result = await work();
  } catch (error) {
    // The work's own error is the one to report; a release that fails too (Redis gone) must not hide it.
    await redis.eval(RELEASE, { keys: [LOCK_KEY], arguments: [token] }).catch(() => undefined);
    throw error;
  }
  try {
    await redis.eval(RELEASE, { keys: [LOCK_KEY], arguments: [token] });
  } catch (error) {
    throw new Error(`${what} finished, but its lock ${LOCK_KEY} could not be freed (${(error as Error).message}); it expires by itself within ${LOCK_TTL_MS / 3600_000} h, or delete it with DEL ${LOCK_KEY}`);
  }
  return result;
}
