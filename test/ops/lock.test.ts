import { describe, expect, it } from "vitest";
import { LOCK_KEY, LockBusyError, withOpsLock } from "../../services/ops/lock";
import type { Redis } from "../../services/ops/redis-state";

/** Just the three commands the lock uses, over a Map; `failRelease` makes the release's EVAL fail as if Redis had gone. */
function fakeRedis(options: { failRelease?: boolean } = {}) {
  const keys = new Map<string, string>();
  const redis = {
    async set(key: string, value: string, opts: { condition?: string }) {
      if (opts.condition === "NX" && keys.has(key)) return null;
      keys.set(key, value);
      return "OK";
    },
    async get(key: string) {
      return keys.get(key) ?? null;
    },
    async eval(_script: string, { keys: [key], arguments: [token] }: { keys: string[]; arguments: string[] }) {
      if (options.failRelease) throw new Error("Socket closed unexpectedly");
      if (keys.get(key!) !== token) return 0;
      keys.delete(key!);
      return 1;
    },
  };
  return { redis: redis as unknown as Redis, keys };
}

describe("withOpsLock", () => {
  it("runs the work, returns its result and frees the lock", async () => {
    const { redis, keys } = fakeRedis();
    await expect(withOpsLock(redis, "backup", async () => 42)).resolves.toBe(42);
    expect(keys.has(LOCK_KEY)).toBe(false);
  });

  it("refuses a second run while the first holds the lock, naming what holds it", async () => {
    const { redis } = fakeRedis();
    await withOpsLock(redis, "backup", async () => {
      await expect(withOpsLock(redis, "restore", async () => 1)).rejects.toThrow(LockBusyError);
      await expect(withOpsLock(redis, "restore", async () => 1)).rejects.toThrow(/another backup or restore is running \(backup since /);
    });
  });

  it("frees the lock when the work fails, and reports the work's error", async () => {
    const { redis, keys } = fakeRedis();
    await expect(withOpsLock(redis, "backup", async () => Promise.reject(new Error("influxd backup exited 1")))).rejects.toThrow("influxd backup exited 1");
    expect(keys.has(LOCK_KEY)).toBe(false);
  });

  it("keeps the work's error when Redis is gone and the release fails too", async () => {
    const { redis } = fakeRedis({ failRelease: true });
    await expect(withOpsLock(redis, "backup", async () => Promise.reject(new Error("influxd backup exited 1")))).rejects.toThrow("influxd backup exited 1");
  });

  it("says the work finished but the lock stays, when only the release fails", async () => {
    const { redis } = fakeRedis({ failRelease: true });
    await expect(withOpsLock(redis, "backup", async () => 1)).rejects.toThrow(/backup finished, but its lock mx:ops:lock could not be freed .*Socket closed/);
  });
});
