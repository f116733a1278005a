import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRedisConnection, type RedisConnection } from "../../services/worker/redis-connection";
import { checkRedisRequirements, redisRequirements } from "../../services/worker/redis-requirements";
import { startTestRedis } from "../harness/services";

/** The worker's start-up check of its Redis: >= 7.0 (allow-oom scripts) and noeviction. */

const info = (lines: string[]) => `# Server\r\n${lines.join("\r\n")}\r\n`;

describe("redisRequirements", () => {
  it.each([
    ["Redis 6.2", info(["redis_version:6.2.14", "maxmemory_policy:noeviction"]), /Redis 6\.2\.14: the worker needs Redis >= 7\.0 or Valkey/],
    ["Redis 5", info(["redis_version:5.0.7"]), /Redis 5\.0\.7: the worker needs/],
  ])("refuses %s", (_name, text, message) => {
    expect(redisRequirements(text).unusable).toMatch(message);
  });

  it.each([
    ["Redis 7.0", info(["redis_version:7.0.15", "maxmemory_policy:noeviction"]), "Redis 7.0.15"],
    ["Valkey 8.1 (it reports redis_version 7.2.4)", info(["redis_version:7.2.4", "server_name:valkey", "valkey_version:8.1.11", "maxmemory_policy:noeviction"]), "Valkey 8.1.11 (redis_version 7.2.4)"],
  ])("accepts %s", (_name, text, version) => {
    expect(redisRequirements(text)).toEqual({ version, unusable: undefined, eviction: undefined });
  });

  it("names an evicting policy", () => {
    expect(redisRequirements(info(["redis_version:7.2.4", "maxmemory_policy:allkeys-lru"])).eviction).toMatch(/maxmemory-policy is allkeys-lru: .* set it to noeviction/);
  });
});

describe("checkRedisRequirements against a real redis-server", () => {
  let redis: RedisConnection;
  beforeAll(async () => {
    const server = await startTestRedis();
    redis = createRedisConnection(server.url, undefined, "test", { persistent: false });
    await redis.connect();
  });
  afterAll(async () => {
    if (redis?.isOpen) await redis.close();
  });

  it("reads the version and the policy from INFO", async () => {
    await redis.sendCommand(["CONFIG", "SET", "maxmemory-policy", "noeviction"]);
    const ok = await checkRedisRequirements(redis);
    expect([ok.version, ok.unusable, ok.eviction]).toEqual([expect.stringMatching(/^(Redis|Valkey) [7-9]\./), undefined, undefined]);
    await redis.sendCommand(["CONFIG", "SET", "maxmemory-policy", "volatile-lru"]);
    expect((await checkRedisRequirements(redis)).eviction).toMatch(/maxmemory-policy is volatile-lru/);
  });
});
