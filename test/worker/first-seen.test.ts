import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { redisKeys } from "../../services/core/queue";
import { earliestDays, recordFirstDays, userTypeOf, utcDay } from "../../services/worker/first-seen";
import { createRedisConnection, type RedisConnection } from "../../services/worker/redis-connection";
import { startTestRedis } from "../harness/services";

describe("first-seen days (user_type)", () => {
  it.each([
    [Date.UTC(2024, 0, 2, 0, 0, 0), "2024-01-02"],
    [Date.UTC(2024, 0, 2, 23, 59, 59, 999), "2024-01-02"],
    [Date.UTC(2024, 11, 31, 23, 59, 59), "2024-12-31"],
  ])("utcDay(%d) = %s", (time, day) => {
    expect(utcDay(time)).toBe(day);
  });

  it.each<[string, string | undefined, string]>([
    ["2024-01-02", "2024-01-02", "new"],
    ["2024-01-03", "2024-01-02", "returning"],
    ["2024-01-01", "2024-01-02", "new"],
    ["2024-01-02", undefined, "new"],
  ])("an event on %s for a user first seen %s is %s", (day, first, expected) => {
    expect(userTypeOf(day, first)).toBe(expected);
  });

  it("earliestDays keeps each user's earliest day of the batch and leaves out events without a user", () => {
    const days = earliestDays([
      { distinctId: "a", day: "2024-01-03" },
      { distinctId: "a", day: "2024-01-02" },
      { distinctId: "b", day: "2024-01-05" },
      { distinctId: "", day: "2024-01-01" },
    ]);
    expect(Object.fromEntries(days)).toEqual({ a: { day: "2024-01-02" }, b: { day: "2024-01-05" } });
  });

  it("earliestDays keeps the late events' earliest day apart", () => {
    const days = earliestDays([
      { distinctId: "a", day: "2024-01-03" },
      { distinctId: "a", day: "1971-01-02", late: true },
      { distinctId: "a", day: "1972-01-02", late: true },
      { distinctId: "b", day: "2024-01-01", late: true },
    ]);
    expect(Object.fromEntries(days)).toEqual({ a: { day: "2024-01-03", lateDay: "1971-01-02" }, b: { lateDay: "2024-01-01" } });
  });

  describe("recordFirstDays in a real redis-server", () => {
    let redis: RedisConnection;
    beforeAll(async () => {
      redis = createRedisConnection((await startTestRedis()).url);
      await redis.connect();
    });
    afterAll(async () => {
      await redis.close();
    });

    it("stores a user's first day, keeps it against later days and moves it back for an earlier one", async () => {
      expect(Object.fromEntries(await recordFirstDays(redis, new Map([["u", "2024-01-05"], ["v", "2024-01-01"]])))).toEqual({ u: "2024-01-05", v: "2024-01-01" });
      expect(Object.fromEntries(await recordFirstDays(redis, new Map([["u", "2024-01-07"]])))).toEqual({ u: "2024-01-05" });
      expect(Object.fromEntries(await recordFirstDays(redis, new Map([["u", "2024-01-03"]])))).toEqual({ u: "2024-01-03" });
      expect(await redis.sendCommand(["HGETALL", redisKeys.firstSeen])).toEqual(["u", "2024-01-03", "v", "2024-01-01"]);
    });

    it("a late event starts a first day but never moves a known one back", async () => {
      const days = (id: string, day: string | undefined, lateDay: string | undefined) => new Map([[id, { day, lateDay }]]);
      expect(Object.fromEntries(await recordFirstDays(redis, days("late-new", undefined, "2024-02-01")))).toEqual({ "late-new": "2024-02-01" });
      expect(Object.fromEntries(await recordFirstDays(redis, days("late-new", undefined, "1971-01-02")))).toEqual({ "late-new": "2024-02-01" });
      expect(Object.fromEntries(await recordFirstDays(redis, days("late-new", "2024-01-20", "1971-01-02")))).toEqual({ "late-new": "2024-01-20" });
      expect(Object.fromEntries(await recordFirstDays(redis, days("both-new", "2024-03-01", "2024-02-01")))).toEqual({ "both-new": "2024-02-01" });
    });
  });
});
