import { beforeAll, describe, expect, it } from "vitest";
import { quoteString, type InfluxClient } from "../../services/core/influx";
import { redisKeys, type JsonValue } from "../../services/core/queue";
import type { Pipeline } from "../../services/dev/pipeline";
import { waitFor } from "../../services/dev/ports";
import { parseProfile } from "../../services/worker/profile-ops";
import { redisClient } from "../harness/services";
import { countEvents, influxOf, post, sendEvents, startTestPipeline, waitForCount, waitForDrained } from "./support";
import { CASE_8_PROFILE_STEPS } from "../harness/reference-cases";

/** Reference §6 cases 8, 10, 11 and 14, sent through ingest as the SDKs send them. */
describe("identity and profiles through ingest and the worker", () => {
  let pipeline: Pipeline;
  let influx: InfluxClient;
  let redis: Awaited<ReturnType<typeof redisClient>>;

  beforeAll(async () => {
    // One worker: requests are applied in arrival order (see docs/worker.md on ordering with several workers).
    pipeline = await startTestPipeline({ workers: 1 });
    influx = influxOf(pipeline);
    redis = await redisClient(pipeline.redis.url);
  });

  async function profile(key: string): Promise<Record<string, JsonValue>> {
    return parseProfile(await redis.hGetAll(key));
  }

  /** Waits until the profile (without `$last_seen`) equals `expected`. */
  async function waitForProfile(key: string, expected: Record<string, JsonValue>): Promise<Record<string, JsonValue>> {
    let last: Record<string, JsonValue> = {};
    try {
      await waitFor(
        `profile ${key}`,
        async () => {
          const { $last_seen: _, ...rest } = (last = await profile(key));
          return JSON.stringify(rest) === JSON.stringify(expected);
        },
        { timeoutMs: 30_000, intervalMs: 100 },
      );
    } catch {
      throw new Error(`profile ${key} is ${JSON.stringify(last)}, expected ${JSON.stringify(expected)}`);
    }
    return last;
  }

  const engage = (payload: unknown, method: "GET" | "POST" = "GET", query = "ip=0&verbose=1") =>
    post(`${pipeline.ingestUrl}/engage${method === "POST" ? "/" : ""}?${query}`, payload, { method });

  it("case 8: profile operations end to end give {a:1, n:4, tags:[y], list:[z]}; $delete removes the profile", async () => {
    const T = pipeline.token;
    const steps = CASE_8_PROFILE_STEPS as unknown as Array<Record<string, JsonValue>>;
    for (const step of steps) {
      const reply = await engage({ $token: T, $distinct_id: "u1", ...step });
      expect(reply.status).toBe(200);
      expect(JSON.parse(reply.body)).toEqual({ error: null, status: 1 });
    }
    const stored = await waitForProfile(redisKeys.profile("u1"), { a: 1, n: 4, tags: ["y"], list: ["z"] });
    expect(stored.$last_seen).toEqual(expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/));
    expect(await redis.sIsMember(redisKeys.profileIndex, "u1")).toBe(1);

    // One profile_updates point per applied operation; the first one created the profile.
    await waitForDrained(pipeline);
    const ops = await influx.rows(`SELECT count("distinct_id") FROM "profile_updates" WHERE "distinct_id" = 'u1' GROUP BY "op"`, { db: pipeline.database });
    expect(Object.fromEntries(ops.map((row) => [row.op, row.count]))).toEqual({ $set: 1, $set_once: 1, $add: 2, $union: 1, $append: 1, $remove: 1, $unset: 1 });
    const updates = await influx.rows(`SELECT "created", "op" FROM "profile_updates" WHERE "distinct_id" = 'u1'`, { db: pipeline.database });
    expect(updates.filter((row) => row.created === true).map((row) => row.op)).toEqual(["$set"]);

    // Browser style ($delete carries the distinct id) and Node style ($delete: "").
    expect(JSON.parse((await engage({ $token: T, $distinct_id: "u1", $delete: "u1" })).body)).toEqual({ error: null, status: 1 });
    await engage({ $token: T, $distinct_id: "u1-node", $set: { x: 1 } });
    await waitForProfile(redisKeys.profile("u1-node"), { x: 1 });
    expect(JSON.parse((await engage({ $token: T, $distinct_id: "u1-node", $delete: "" })).body)).toEqual({ error: null, status: 1 });
    await waitFor("both profiles deleted", async () => (await redis.exists([redisKeys.profile("u1"), redisKeys.profile("u1-node")])) === 0, { timeoutMs: 30_000 });
    expect(await redis.sIsMember(redisKeys.profileIndex, "u1")).toBe(0);
    expect(await redis.sIsMember(redisKeys.profileIndex, "u1-node")).toBe(0);
  });

  it("case 10: a browser engage batch with extras: nulls accepted, the date string stored as given, $device_id/$user_id not stored", async () => {
    const T = pipeline.token;
    const extras = { $token: T, $distinct_id: "u10", $device_id: "dev-10", $user_id: "u10" };
    const reply = await engage(
      [
        { ...extras, $set: { plan: "pro", when: "2024-01-02T03:04:05" } },
        { ...extras, $add: { visits: 1 } },
        { ...extras, $union: { channels: ["web"] } },
        { ...extras, $set_once: { initial_utm_medium: null, initial_referrer: "$direct" } },
      ],
      "POST",
      "verbose=1&ip=1",
    );
    expect(JSON.parse(reply.body)).toEqual({ error: null, status: 1 });
    const stored = await waitForProfile(redisKeys.profile("u10"), {
      plan: "pro",
      when: "2024-01-02T03:04:05",
      visits: 1,
      channels: ["web"],
      initial_utm_medium: null,
      initial_referrer: "$direct",
    });
    expect(stored).not.toHaveProperty("$device_id");
    expect(stored).not.toHaveProperty("$user_id");
  });

  it("case 11: a group profile gets Industry=x; $append on a group is refused with status 0", async () => {
    const T = pipeline.token;
    const groups = (payload: unknown, verbose = 0) => post(`${pipeline.ingestUrl}/groups?ip=0&verbose=${verbose}`, payload, { method: "GET" });
    const reply = await groups({ $token: T, $group_key: "company", $group_id: "Acme", $set: { Industry: "x" } });
    expect(reply).toEqual({ status: 200, body: "1" });
    await waitForProfile(redisKeys.groupProfile("company", "Acme"), { Industry: "x" });
    expect(await redis.sIsMember(redisKeys.groupIndex, "company:Acme")).toBe(1);

    const refused = await groups({ $token: T, $group_key: "company", $group_id: "Acme", $append: { list: "z" } }, 1);
    expect(JSON.parse(refused.body)).toMatchObject({ status: 0 });

    await waitForDrained(pipeline);
    const points = await influx.rows(`SELECT "group_id", "created" FROM "profile_updates" WHERE "kind" = 'group' AND "group_key" = 'company'`, { db: pipeline.database });
    expect(points.map(({ group_id, created }) => ({ group_id, created }))).toEqual([{ group_id: "Acme", created: true }]);
    expect(await profile(redisKeys.groupProfile("company", "Acme"))).not.toHaveProperty("list");
  });

  it("case 14: simplified identity: D1 -> U1 after $identify, a later device-only event is U1, a later U2 does not remap", async () => {
    const identifyTime = Date.now() - 1000;
    const event = async (name: string, insertId: string, properties: Record<string, JsonValue>) => {
      await sendEvents(pipeline, [{ event: name, properties: { $insert_id: insertId, time: Date.now(), ...properties } }]);
      await waitForCount(() => countEvents(influx, pipeline.database, `"insert_id" = ${quoteString(insertId)}`), 1);
    };
    const row = async (insertId: string) =>
      (await influx.rows(`SELECT * FROM "events" WHERE "insert_id" = ${quoteString(insertId)}`, { db: pipeline.database }))[0]!;

    await event("Page Viewed", "case14-1", { distinct_id: "$device:D1", $device_id: "D1" });
    expect(await redis.hGet(redisKeys.identityMap, "D1")).toBeNull();
    await event("$identify", "case14-2", { distinct_id: "U1", $anon_distinct_id: "$device:D1", $device_id: "D1", $user_id: "U1", time: identifyTime });
    expect(await redis.hGet(redisKeys.identityMap, "D1")).toBe("U1");
    await event("Clicked", "case14-3", { $device_id: "D1" });
    await event("Clicked", "case14-4", { $device_id: "D1", $user_id: "U2" });
    expect(await redis.hGet(redisKeys.identityMap, "D1")).toBe("U1");

    // Event 1 was stored before the merge, as the device; the merge record lets a query resolve it.
    expect(await row("case14-1")).toMatchObject({ distinct_id: "$device:D1", $device_id: "D1" });
    expect(await row("case14-2")).toMatchObject({ event: "$identify", distinct_id: "U1", $device_id: "D1", $user_id: "U1" });
    expect(await row("case14-3")).toMatchObject({ distinct_id: "U1", $device_id: "D1" });
    expect(await row("case14-4")).toMatchObject({ distinct_id: "U2", $device_id: "D1", $user_id: "U2" });
    const merges = await influx.rows(`SELECT "device_id", "user_id" FROM "identity_merges" WHERE "device_id" = 'D1'`, { db: pipeline.database });
    expect(merges.map(({ device_id, user_id }) => ({ device_id, user_id }))).toEqual([{ device_id: "D1", user_id: "U1" }]);
    const userOfDevice = new Map(merges.map((merge) => [merge.device_id, merge.user_id]));
    expect(userOfDevice.get((await row("case14-1")).$device_id)).toBe("U1");

    // The same $identify sent again (a browser re-send) is stored once and records no second merge.
    await event("$identify", "case14-2", { distinct_id: "U1", $anon_distinct_id: "$device:D1", $device_id: "D1", $user_id: "U1", time: identifyTime });
    await waitForDrained(pipeline);
    expect(await countEvents(influx, pipeline.database, `"insert_id" = 'case14-2'`)).toBe(1);
    expect(await influx.rows(`SELECT "user_id" FROM "identity_merges" WHERE "device_id" = 'D1'`, { db: pipeline.database })).toHaveLength(1);
  });
});
