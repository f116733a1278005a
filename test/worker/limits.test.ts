import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EventItem } from "../../services/core/queue";
import { FieldTypes, propertyNameOfField } from "../../services/worker/field-types";
import { budgetKey, NameBudget, namesKey } from "../../services/worker/name-budget";
import { createRedisConnection, type RedisConnection } from "../../services/worker/redis-connection";
import { ConsumerGroup, type DeadLetter } from "../../services/worker/stream";
import { startTestRedis } from "../harness/services";

/** The worker's bounds: name budgets, the field-type memory, the dead-letter stream, a full Redis. */

const schema = { tagKeys: new Set(["mp_lib", "$os", "$browser", "mp_country_code", "plan"]) };
const letter = (n: number, bytes = 10): DeadLetter => ({ entryId: `1-${n}`, fields: { v: "1", kind: "track", received: "1", items: "x".repeat(bytes) }, reason: "test", deliveries: 1 });
const event = (name: string, properties: EventItem["properties"] = {}): EventItem => ({ event: name, time: 1, insertId: name, distinctId: "u", properties });

describe("FieldTypes in bounded memory", () => {
  it("forgets the oldest types past its bound, and learns them again", () => {
    const types = new FieldTypes(3);
    for (const name of ["a", "b", "c", "d"]) types.fieldFor("events", name, "float");
    expect(types.size).toBe(3);
    expect(types.typeOf("events", "a")).toBeUndefined();
    expect(types.typeOf("events", "d")).toBe("float");
    types.learn("events", "a", "string");
    expect([types.size, types.typeOf("events", "a"), types.typeOf("events", "b")]).toEqual([3, "string", undefined]);
  });

  it.each([
    ["plan", "plan"],
    ["plan:float", "plan"],
    ["plan:string:boolean", "plan"],
    ["time:property", "time"],
    ["utm:source", "utm:source"],
    ["a:b:float", "a:b"],
  ])("the property of field %s is %s", (field, property) => {
    expect(propertyNameOfField(field)).toBe(property);
  });
});

describe("with a real redis-server", () => {
  let redis: RedisConnection;
  let blocking: RedisConnection;

  beforeAll(async () => {
    const server = await startTestRedis();
    redis = createRedisConnection(server.url);
    blocking = createRedisConnection(server.url);
    await Promise.all([redis.connect(), blocking.connect()]);
  });
  afterAll(async () => {
    await Promise.all([redis.close(), blocking.close()]);
  });

  describe("NameBudget", () => {
    it("lets new event names in until the day's budget is spent; known ones always; a new day has a new budget", async () => {
      const budget = new NameBudget(redis, schema, { eventNamesPerDay: 2, propertyKeysPerDay: 100, tagValuesPerDay: 100 });
      const first = await budget.admit([event("a"), event("b"), event("c"), event("a")], "2026-01-01");
      expect([...first]).toEqual([[2, { kind: "event_name", names: ["c"] }]]);
      // Another worker (a new NameBudget: nothing in memory) sees the same day in Redis.
      const other = new NameBudget(redis, schema, { eventNamesPerDay: 2, propertyKeysPerDay: 100, tagValuesPerDay: 100 });
      expect([...(await other.admit([event("b"), event("d")], "2026-01-01"))]).toEqual([[1, { kind: "event_name", names: ["d"] }]]);
      expect([...(await other.admit([event("d")], "2026-01-02"))]).toEqual([]);
      expect(Number(await redis.sendCommand(["TTL", budgetKey("event", "2026-01-02")]))).toBeGreaterThan(86_400);
    });

    it("counts property keys and the values of custom tags, not the values of the tags with a vocabulary", async () => {
      const budget = new NameBudget(redis, schema, { eventNamesPerDay: 100, propertyKeysPerDay: 2, tagValuesPerDay: 1 });
      const refusals = await budget.admit(
        [
          event("e1", { k1: 1, k2: 2, $os: "whatever", mp_country_code: "xx", plan: "gold" }),
          event("e1", { k3: 1 }),
          event("e1", { plan: "silver" }),
          event("e1", { k1: 5, plan: "gold", gone: null }),
        ],
        "2026-02-01",
      );
      expect([...refusals]).toEqual([
        [1, { kind: "property_key", names: ["k3"] }],
        [2, { kind: "tag_value", names: ["plan=silver"] }],
      ]);
      expect(await redis.sendCommand(["SMEMBERS", namesKey("tag:plan")])).toEqual(["gold"]);
    });

    it("names seeded from InfluxDB are known, free of budget", async () => {
      const budget = new NameBudget(redis, schema, { eventNamesPerDay: 1, propertyKeysPerDay: 1, tagValuesPerDay: 1 });
      await budget.seed("event", ["old-1", "old-2", "old-3"]);
      expect([...(await budget.admit([event("old-1"), event("old-2"), event("old-3")], "2026-03-01"))]).toEqual([]);
    });
  });

  describe("the dead-letter stream", () => {

    it("keeps at most WORKER_DLQ_MAX_ENTRIES, the oldest dropped and counted", async () => {
      const group = new ConsumerGroup(redis, blocking, { consumer: "c", deadLetters: "mx:dlq:test-count", deadLetterLimits: { maxEntries: 200, maxBytes: 1e9 } });
      for (let round = 0; round < 10; round += 1) await group.settle({ finished: [], letters: Array.from({ length: 50 }, (_, n) => letter(round * 50 + n)) });
      const length = Number(await redis.sendCommand(["XLEN", "mx:dlq:test-count"]));
      // MAXLEN ~: Redis trims whole nodes (100 entries), so a little more may stay.
      expect(length).toBeGreaterThanOrEqual(200);
      expect(length).toBeLessThan(400);
    });

    it("keeps at most WORKER_DLQ_MAX_BYTES, the oldest dropped and reported", async () => {
      const group = new ConsumerGroup(redis, blocking, { consumer: "c", deadLetters: "mx:dlq:test-bytes", deadLetterLimits: { maxEntries: 1e6, maxBytes: 200_000 } });
      let trimmed = 0;
      for (let round = 0; round < 20; round += 1) trimmed += (await group.settle({ finished: [], letters: [letter(round, 20_000)] })).trimmed;
      const used = Number(await redis.sendCommand(["MEMORY", "USAGE", "mx:dlq:test-bytes"]));
      expect(used).toBeLessThanOrEqual(200_000);
      expect(trimmed).toBeGreaterThan(0);
      expect(Number(await redis.sendCommand(["XLEN", "mx:dlq:test-bytes"])) + trimmed).toBe(20);
    });
  });

  describe("a Redis at maxmemory", () => {
    it("still acknowledges, deletes and dead-letters (the settle script runs at OOM), and the group is found at start", async () => {
      const group = new ConsumerGroup(redis, blocking, { consumer: "oom", stream: "mx:stream:oom", group: "g", deadLetters: "mx:dlq:oom" });
      await group.ensureGroup();
      for (let n = 0; n < 20; n += 1) await redis.sendCommand(["XADD", "mx:stream:oom", "*", "items", "x".repeat(1000)]);
      const entries = await group.readOwnPending(100).then(() => group.readNew(100, 10));
      await redis.sendCommand(["CONFIG", "SET", "maxmemory", "1"]);
      try {
        await expect(redis.sendCommand(["SET", "anything", "x"])).rejects.toThrow(/OOM/);
        expect(await group.ensureGroup()).toBe(false);
        await group.settle({ finished: entries.map((entry) => entry.id), letters: [letter(1)] });
      } finally {
        await redis.sendCommand(["CONFIG", "SET", "maxmemory", "0"]);
      }
      expect(Number(await redis.sendCommand(["XLEN", "mx:stream:oom"]))).toBe(0);
      expect(Number(await redis.sendCommand(["XLEN", "mx:dlq:oom"]))).toBe(1);
    });
  });
});
