import { describe, expect, it } from "vitest";
import type { EventItem, JsonObject } from "../../services/core/queue";
import { deviceIdOf, devicesToResolve, mergePairs, resolveDistinctId } from "../../services/worker/identity";

function event(distinctId: string, properties: JsonObject, time = 1_700_000_000_000, name = "view"): EventItem {
  return { event: name, time, insertId: `${name}-${time}`, distinctId, properties };
}

describe("resolveDistinctId (simplified ID merge, reference §4.1)", () => {
  const users = new Map([["D1", "U1"]]);
  it.each<[string, EventItem, string]>([
    ["$user_id wins", event("$device:D1", { $device_id: "D1", $user_id: "U9" }), "U9"],
    ["a numeric $user_id is read as a string", event("", { $user_id: 42 }), "42"],
    ["a sent user id (distinct_id without $device:) is kept", event("legacy-user", { $device_id: "D1" }), "legacy-user"],
    ["a device merged into a user resolves to the user", event("", { $device_id: "D1" }), "U1"],
    ["an anonymous distinct_id of a merged device resolves to the user", event("$device:D1", {}), "U1"],
    ["an unmerged device stays $device:<id>", event("", { $device_id: "D2" }), "$device:D2"],
    ["an unmerged $device: distinct_id stays as sent", event("$device:D2", {}), "$device:D2"],
    ["no ids at all stays empty", event("", {}), ""],
    ["an empty $user_id is no user", event("", { $user_id: "", $device_id: "D1" }), "U1"],
    ["an object $user_id is no user", event("", { $user_id: { a: 1 }, $device_id: "D2" }), "$device:D2"],
  ])("%s", (_, item, expected) => {
    expect(resolveDistinctId(item, users)).toBe(expected);
  });
});

describe("deviceIdOf", () => {
  it.each<[EventItem, string | undefined]>([
    [event("$device:abc", {}), "abc"],
    [event("$device:abc", { $device_id: "xyz" }), "xyz"],
    [event("$device:", {}), undefined],
    [event("u1", {}), undefined],
  ])("%j -> %j", (item, expected) => {
    expect(deviceIdOf(item)).toBe(expected);
  });
});

describe("mergePairs", () => {
  it("takes pairs in event-time order, not batch order, and the earliest user of a device wins", () => {
    const batch = [
      event("U2", { $device_id: "D1", $user_id: "U2" }, 3000),
      event("$device:D1", { $device_id: "D1" }, 1000),
      event("U1", { $device_id: "D1", $user_id: "U1" }, 2000, "$identify"),
      event("U3", { $device_id: "D3", $user_id: "U3" }, 500),
    ];
    expect(mergePairs(batch)).toEqual([
      { deviceId: "D3", userId: "U3", time: 500 },
      { deviceId: "D1", userId: "U1", time: 2000 },
    ]);
  });

  it("ignores events that carry only one of the two ids, and $device: distinct ids", () => {
    expect(mergePairs([event("$device:D1", { $user_id: "U1" }), event("U1", { $device_id: "D1" })])).toEqual([]);
  });
});

describe("devicesToResolve", () => {
  it("lists each device of events without a $user_id once", () => {
    const batch = [event("", { $device_id: "D1" }), event("$device:D2", {}), event("", { $device_id: "D1" }), event("U", { $device_id: "D3", $user_id: "U" })];
    expect(devicesToResolve(batch)).toEqual(["D1", "D2"]);
  });
});
