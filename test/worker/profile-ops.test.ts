import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { redisKeys, type JsonValue, type ProfileOps, type ProfileUpdate } from "../../services/core/queue";
import { lastSeenValue, parseProfile, planOperations, planUpdates } from "../../services/worker/profile-ops";
import { applyProfileEntry } from "../../services/worker/profile-store";
import { createRedisConnection, type RedisConnection } from "../../services/worker/redis-connection";
import { startTestRedis } from "../harness/services";
import { CASE_8_PROFILE_STEPS } from "../harness/reference-cases";

describe("planOperations", () => {
  it.each<[string, ProfileOps, "user" | "group", Array<[string, Array<[string, string]>]>]>([
    ["applies several operations in the fixed order", { $unset: ["x"], $set: { a: 1 }, $set_once: { b: "2" } }, "user", [
      ["$set_once", [["b", '"2"']]],
      ["$set", [["a", "1"]]],
      ["$unset", [["x", ""]]],
    ]],
    ["applies $delete alone", { $delete: true, $set: { a: 1 } }, "user", [["$delete", []]]],
    ["skips $add values that are not numbers", { $add: { n: 2, s: "3" as unknown as number, z: -1.5 } }, "user", [["$add", [["n", "2"], ["z", "-1.5"]]]]],
    ["wraps a single $union value in a list", { $union: { tags: "x" as unknown as JsonValue[] } }, "user", [["$union", [["tags", '["x"]']]]]],
    ["keeps nulls and dates as given", { $set_once: { medium: null, when: "2024-01-02T03:04:05" } }, "user", [["$set_once", [["medium", "null"], ["when", '"2024-01-02T03:04:05"']]]]],
    ["does not apply $append to groups", { $append: { list: "z" }, $set: { a: 1 } }, "group", [["$set", [["a", "1"]]]]],
    ["leaves out operations with nothing to do", { $set: {}, $add: { s: "x" as unknown as number } }, "user", []],
    ["accepts $unset with a single name", { $unset: "b" as unknown as string[] }, "user", [["$unset", [["b", ""]]]]],
  ])("%s", (_, ops, kind, expected) => {
    expect(planOperations(ops, kind).map((operation) => [operation.op, operation.pairs])).toEqual(expected);
  });
});

describe("planUpdates", () => {
  it("orders the updates of one entry by $time, arrival order for ties, and keeps their item index", () => {
    const updates: ProfileUpdate[] = [
      { distinctId: "a", time: 300, ignoreTime: false, ops: { $set: { x: 1 } } },
      { distinctId: "b", time: 100, ignoreTime: true, ops: { $set: { x: 1 } } },
      { distinctId: "c", time: 300, ignoreTime: false, ops: { $set: { x: 1 } } },
    ];
    const planned = planUpdates("engage", updates, [0, 1, 2]);
    expect(planned.map((update) => [update.target.id, update.index])).toEqual([
      ["b", 1],
      ["a", 0],
      ["c", 2],
    ]);
    expect(planned.map((update) => update.lastSeen)).toEqual([undefined, lastSeenValue(300), lastSeenValue(300)]);
  });
});

describe("profile operations applied by the Lua script in a real redis-server", () => {
  let redis: RedisConnection;
  let entryNumber = 0;

  beforeAll(async () => {
    const server = await startTestRedis();
    redis = createRedisConnection(server.url);
    await redis.connect();
  });
  afterAll(async () => {
    await redis.close();
  });

  /** Adds a stream entry (the script checks it exists) and applies the updates as that entry. */
  async function apply(updates: ProfileUpdate[], entryId?: string) {
    const id = entryId ?? String(await redis.sendCommand(["XADD", redisKeys.stream, "*", "n", String((entryNumber += 1))]));
    const applied = await applyProfileEntry(redis, "user", planUpdates("engage", updates, updates.map((_, index) => index)), { entryId: id, markerId: id, ttlSeconds: 60 });
    return { id, records: applied === "gone" ? applied : applied.records };
  }

  async function profile(distinctId: string): Promise<Record<string, JsonValue>> {
    const hash = (await redis.sendCommand(["HGETALL", redisKeys.profile(distinctId)])) as string[];
    const object: Record<string, string> = {};
    for (let index = 0; index < hash.length; index += 2) object[hash[index]!] = hash[index + 1]!;
    const { $last_seen: _, ...rest } = parseProfile(object);
    return rest;
  }

  const update = (distinctId: string, ops: ProfileOps, time = 1_700_000_000_000, ignoreTime = true): ProfileUpdate => ({ distinctId, time, ignoreTime, ops });

  const cases: Array<[string, ProfileOps[], Record<string, JsonValue>]> = [
    ["$set overwrites", [{ $set: { a: 1 } }, { $set: { a: 2, b: "x" } }], { a: 2, b: "x" }],
    ["$set_once keeps what is there", [{ $set: { a: 1 } }, { $set_once: { a: 2, b: 2 } }], { a: 1, b: 2 }],
    ["$add counts from 0 and adds", [{ $add: { n: 2 } }, { $add: { n: 2 } }, { $add: { n: -0.5 } }], { n: 3.5 }],
    ["$add formats sums as JavaScript does", [{ $add: { f: 0.1 } }, { $add: { f: 0.2 } }, { $add: { big: 123456789012 } }], { f: 0.30000000000000004, big: 123456789012 }],
    ["$add skips a property that holds a non-number", [{ $set: { s: "5" } }, { $add: { s: 1 } }], { s: "5" }],
    ["$union adds each value once, existing duplicates stay", [{ $set: { t: ["x", "x"] } }, { $union: { t: ["x", "y", "y", 3] } }], { t: ["x", "x", "y", 3] }],
    ["$union compares whole values, objects included", [{ $union: { t: [{ a: [1, ","] }, "b"] } }, { $union: { t: [{ a: [1, ","] }] } }], { t: [{ a: [1, ","] }, "b"] }],
    ["$union on a non-list makes a list", [{ $set: { t: "solo" } }, { $union: { t: ["x"] } }], { t: ["solo", "x"] }],
    ["$append allows duplicates and starts a list", [{ $append: { l: "z" } }, { $append: { l: "z" } }, { $append: { l: { k: "v" } } }], { l: ["z", "z", { k: "v" }] }],
    ["$append on a non-list makes a list", [{ $set: { l: 1 } }, { $append: { l: 2 } }], { l: [1, 2] }],
    ["$remove removes every equal element", [{ $set: { t: ["x", "y", "x", '"x"'] } }, { $remove: { t: "x" } }], { t: ["y", '"x"'] }],
    ["$remove of the last element leaves an empty list", [{ $set: { t: ["x"] } }, { $remove: { t: "x" } }], { t: [] }],
    ["$remove on a non-list does nothing", [{ $set: { t: "x" } }, { $remove: { t: "x" } }], { t: "x" }],
    ["$unset deletes properties", [{ $set: { a: 1, b: 2 } }, { $unset: ["b", "missing"] }], { a: 1 }],
    ["strings with quotes, commas and brackets survive list operations", [{ $union: { t: ['a"]', "b,[c", "\\"] } }, { $remove: { t: "b,[c" } }], { t: ['a"]', "\\"] }],
    ["appends then a union then a removal", [{ $append: { l: "a" } }, { $append: { l: "b" } }, { $union: { l: ["b", "c"] } }, { $append: { l: "a" } }, { $remove: { l: "a" } }], { l: ["b", "c"] }],
    ["appends, then $set and $unset of the same property", [{ $append: { l: 1 } }, { $append: { l: 2 } }, { $set: { l: "reset" } }, { $append: { l: 3 } }, { $append: { m: 1 } }, { $unset: ["m"] }], { l: ["reset", 3] }],
    ["an escaped quote and a backslash before a comma in list elements", [{ $append: { l: 'x\\",y' } }, { $union: { l: ['x\\",y', "z"] } }, { $remove: { l: "z" } }], { l: ['x\\",y'] }],
  ];

  it.each(cases)("%s", async (name, steps, expected) => {
    const distinctId = `case ${name}`;
    for (const ops of steps) await apply([update(distinctId, ops)]);
    expect(await profile(distinctId)).toEqual(expected);
  });

  // The script keeps the lists an entry changes and writes them back once: one entry with all the
  // steps must end where the steps as separate entries did.
  it.each(cases)("%s, all in one entry", async (name, steps, expected) => {
    const distinctId = `one entry: ${name}`;
    await apply(steps.map((ops, index) => update(distinctId, ops, 1_700_000_000_000 + index)));
    expect(await profile(distinctId)).toEqual(expected);
  });

  it("a $delete between appends of one entry: only what follows it stays", async () => {
    await apply([update("deleted", { $append: { l: 1 } }, 1), update("deleted", { $append: { l: 2 } }, 2), update("deleted", { $delete: true }, 3), update("deleted", { $append: { l: 3 } }, 4)]);
    expect(await profile("deleted")).toEqual({ l: [3] });
  });

  async function applyWithQuotas(updates: ProfileUpdate[], quotas: { maxBytes: number; maxProperties: number; listMaxBytes: number }) {
    const id = String(await redis.sendCommand(["XADD", redisKeys.stream, "*", "n", String((entryNumber += 1))]));
    const applied = await applyProfileEntry(redis, "user", planUpdates("engage", updates, updates.map((_, index) => index)), { entryId: id, markerId: id, ttlSeconds: 60, quotas });
    if (applied === "gone") throw new Error("gone");
    return { id, ...applied };
  }

  it("a list property stops at its byte quota: the update that would pass it is refused alone, and reported", async () => {
    const quotas = { maxBytes: 1_000_000, maxProperties: 100, listMaxBytes: 100 };
    const updates = Array.from({ length: 12 }, (_, index) => update("capped", { $append: { l: `item-${index}` }, $set: { [`p${index}`]: index } }, index));
    const { refused, records } = await applyWithQuotas(updates, quotas);
    const stored = await profile("capped");
    // Each append adds 9-10 bytes ("item-N" quoted, and a comma): 10 fit in 100 bytes.
    expect((stored.l as string[]).length).toBe(10);
    expect(JSON.stringify(stored.l).length).toBeLessThanOrEqual(100);
    expect(refused).toEqual([{ index: 10, quota: "list" }, { index: 11, quota: "list" }]);
    // A refused update applies none of its operations, and writes no profile_updates point.
    expect(stored.p10).toBeUndefined();
    expect(records).toHaveLength(20);
  });

  it("a profile stops at its property quota and at its byte quota; what does not grow it still applies", async () => {
    const few = await applyWithQuotas([update("few", { $set: { a: 1, b: 2 } }), update("few", { $set: { c: 3 } }), update("few", { $set: { a: 9 } }), update("few", { $unset: ["b"] })], { maxBytes: 1_000_000, maxProperties: 2, listMaxBytes: 1000 });
    expect(few.refused).toEqual([{ index: 1, quota: "properties" }]);
    expect(await profile("few")).toEqual({ a: 9 });
    const small = await applyWithQuotas([update("small", { $set: { a: "x".repeat(200) } }), update("small", { $set: { b: "y".repeat(400) } }), update("small", { $set: { a: "short" } })], { maxBytes: 500, maxProperties: 100, listMaxBytes: 1000 });
    expect(small.refused).toEqual([{ index: 1, quota: "bytes" }]);
    expect(await profile("small")).toEqual({ a: "short" });
  });

  it("a re-delivered entry gets the same refusals back", async () => {
    const quotas = { maxBytes: 1_000_000, maxProperties: 1, listMaxBytes: 1000 };
    const id = String(await redis.sendCommand(["XADD", redisKeys.stream, "*", "n", String((entryNumber += 1))]));
    const updates = planUpdates("engage", [update("again", { $set: { a: 1 } }), update("again", { $set: { b: 1 } })], [0, 1]);
    const first = await applyProfileEntry(redis, "user", updates, { entryId: id, markerId: id, ttlSeconds: 60, quotas });
    const second = await applyProfileEntry(redis, "user", updates, { entryId: id, markerId: id, ttlSeconds: 60, quotas: { ...quotas, maxProperties: 100 } });
    expect(second).toEqual(first);
    expect(first).toMatchObject({ refused: [{ index: 1, quota: "properties" }] });
  });

  it("reference §6 case 8: the sequence of operations gives {a:1, n:4, tags:[y], list:[z]}, then $delete removes it", async () => {
    const steps = CASE_8_PROFILE_STEPS as unknown as ProfileOps[];
    for (const ops of steps) await apply([update("case8", ops, Date.now(), false)]);
    expect(await profile("case8")).toEqual({ a: 1, n: 4, tags: ["y"], list: ["z"] });
    expect(await redis.sendCommand(["SISMEMBER", redisKeys.profileIndex, "case8"])).toBe(1);
    await apply([update("case8", { $delete: true })]);
    expect(await redis.sendCommand(["EXISTS", redisKeys.profile("case8")])).toBe(0);
    expect(await redis.sendCommand(["SISMEMBER", redisKeys.profileIndex, "case8"])).toBe(0);
  });

  it("applies an entry once: a re-delivery gets the same records back and changes nothing", async () => {
    const first = await apply([update("once", { $add: { n: 1 } }), update("once", { $add: { n: 1 } })]);
    const again = await apply([update("once", { $add: { n: 1 } }), update("once", { $add: { n: 1 } })], first.id);
    expect(await profile("once")).toEqual({ n: 2 });
    expect(again.records).toEqual(first.records);
    expect(first.records).toMatchObject([
      { op: "$add", id: "once", created: true },
      { op: "$add", id: "once", created: false },
    ]);
  });

  it("does not apply an entry that is no longer in the stream (another worker finished it)", async () => {
    const id = String(await redis.sendCommand(["XADD", redisKeys.stream, "*", "n", "gone"]));
    await redis.sendCommand(["XDEL", redisKeys.stream, id]);
    const { records } = await apply([update("gone", { $set: { a: 1 } })], id);
    expect(records).toBe("gone");
    expect(await redis.sendCommand(["EXISTS", redisKeys.profile("gone")])).toBe(0);
  });

  it("sets $last_seen from the update time unless $ignore_time, and never moves it back", async () => {
    const lastSeen = async () => JSON.parse(((await redis.sendCommand(["HGET", redisKeys.profile("seen"), "$last_seen"])) as string) ?? "null");
    await apply([update("seen", { $set: { a: 1 } }, Date.UTC(2024, 0, 2, 3, 4, 5), false)]);
    expect(await lastSeen()).toBe("2024-01-02T03:04:05");
    await apply([update("seen", { $set: { a: 2 } }, Date.UTC(2023, 0, 1), false)]);
    expect(await lastSeen()).toBe("2024-01-02T03:04:05");
    await apply([update("seen", { $set: { a: 3 } }, Date.UTC(2025, 0, 1), true)]);
    expect(await lastSeen()).toBe("2024-01-02T03:04:05");
  });

  it("$unset and $remove on a profile that does not exist do not create it", async () => {
    const { records } = await apply([update("nobody", { $unset: ["a"] }, 1000, false), update("nobody", { $remove: { t: "x" } }, 1000, false)]);
    expect(await redis.sendCommand(["EXISTS", redisKeys.profile("nobody")])).toBe(0);
    expect(await redis.sendCommand(["SISMEMBER", redisKeys.profileIndex, "nobody"])).toBe(0);
    expect(records).toMatchObject([{ created: false }, { created: false }]);
  });
});
