import { describe, expect, it } from "vitest";
import type { GroupUpdate, ProfileUpdate } from "../../services/core/queue";
import { normaliseGroupUpdate, normaliseProfileUpdate, type ProfileContext } from "../../services/ingest/profile";
import { Rejection } from "../../services/ingest/rejection";
import type { Limits } from "../../services/ingest/settings";

const NOW = Date.UTC(2026, 10, 23, 12, 0, 0);
const limits: Limits = {
  maxItems: 2000,
  maxBodyBytes: 10 * 1024 * 1024,
  maxImportBodyBytes: 10 * 1024 * 1024,
  maxStringLength: 255,
  maxProperties: 255,
  maxDepth: 3,
  maxEventBytes: 1024 * 1024,
  trackMaxAgeMs: 0,
  // No floor but Mixpanel's 1971: the floor has its own tests.
  history: {},
};
const stAlbans = { city: "St Albans", region: "ENG", countryCode: "GB", timezone: "Europe/London" };

function context(overrides: Partial<ProfileContext> = {}): ProfileContext {
  return {
    tokens: new Set(["T"]),
    now: NOW,
    limits,
    requestLocation: () => undefined,
    lookup: (address) => (address === "81.2.69.142" ? stAlbans : undefined),
    ...overrides,
  };
}

function profile(raw: Record<string, unknown>, overrides: Partial<ProfileContext> = {}): ProfileUpdate {
  const result = normaliseProfileUpdate({ $token: "T", $distinct_id: "u1", ...raw }, context(overrides));
  if (result instanceof Rejection) throw new Error(`refused: ${result.message}`);
  return result;
}

describe("normaliseProfileUpdate", () => {
  it.each([
    ["$set", { $set: { a: 1 } }, { $set: { a: 1 } }],
    ["$set_once", { $set_once: { a: 2, b: 2 } }, { $set_once: { a: 2, b: 2 } }],
    ["$add", { $add: { n: 2 } }, { $add: { n: 2 } }],
    ["$add with a negative amount", { $add: { credits: -5 } }, { $add: { credits: -5 } }],
    ["$add skips non-numeric amounts, keeps numeric strings", { $add: { n: 2, bad: "x", s: "3", o: {} } }, { $add: { n: 2, s: 3 } }],
    ["$union of lists", { $union: { tags: ["x", "x", "y"] } }, { $union: { tags: ["x", "x", "y"] } }],
    ["$union of a scalar becomes a one-item list", { $union: { tags: "x" } }, { $union: { tags: ["x"] } }],
    ["$append", { $append: { list: "z" } }, { $append: { list: "z" } }],
    ["$append of an object (track_charge)", { $append: { $transactions: { $amount: 5, $time: "2024-01-02T03:04:05" } } }, { $append: { $transactions: { $amount: 5, $time: "2024-01-02T03:04:05" } } }],
    ["$remove", { $remove: { tags: "x" } }, { $remove: { tags: "x" } }],
    ["$unset", { $unset: ["b"] }, { $unset: ["b"] }],
    ["$unset of one name", { $unset: "b" }, { $unset: ["b"] }],
    ["$delete, browser style", { $delete: "u1" }, { $delete: true }],
    ["$delete, Node style", { $delete: "" }, { $delete: true }],
    ["$delete wins over other operations", { $delete: "", $set: { a: 1 } }, { $delete: true }],
    ["several operations in one object", { $set: { a: 1 }, $add: { n: 1 } }, { $set: { a: 1 }, $add: { n: 1 } }],
    ["nulls in $set_once", { $set_once: { initial_utm_medium: null } }, { $set_once: { initial_utm_medium: null } }],
    ["a date string kept as given", { $set: { when: "2024-01-02T03:04:05" } }, { $set: { when: "2024-01-02T03:04:05" } }],
    ["__proto__ inside $set is dropped", { $set: JSON.parse('{"__proto__":{"x":1},"a":1}') }, { $set: { a: 1 } }],
  ])("%s", (_name, raw, ops) => {
    expect(profile(raw).ops).toEqual(ops);
  });

  it("does not store $device_id, $user_id or other modifiers as properties", () => {
    const update = profile({ $set: { plan: "pro" }, $device_id: "D1", $user_id: "U1", $had_persisted_distinct_id: true, $ignore_alias: true });
    expect(update).toEqual({ distinctId: "u1", time: NOW, ignoreTime: false, ops: { $set: { plan: "pro" } } });
  });

  it("reads $time (ms or s) and $ignore_time", () => {
    expect(profile({ $set: { a: 1 }, $time: 1700000000123, $ignore_time: true })).toMatchObject({ time: 1700000000123, ignoreTime: true });
    expect(profile({ $set: { a: 1 }, $time: 1700000000 }).time).toBe(1700000000000);
  });

  it("refuses a $time before the history floor: each operation would be a profile_updates point there", () => {
    const result = normaliseProfileUpdate({ $token: "T", $distinct_id: "u1", $set: { a: 1 }, $time: 31_622_400 }, context({ limits: { ...limits, history: { maxAgeMs: 730 * 86_400_000 } } }));
    expect(result).toBeInstanceOf(Rejection);
    expect([(result as Rejection).reason, (result as Rejection).message]).toEqual(["before_history", "$time, before 2024-11-23, the earliest time this server accepts (MIXSTACK_HISTORY_SINCE)"]);
  });

  it("coerces a numeric distinct id", () => {
    expect(profile({ $distinct_id: 13793, $set: { a: 1 } }).distinctId).toBe("13793");
  });

  it("sets geolocation from the request on the profile, without overriding the update's own values", () => {
    expect(profile({ $set: { $city: "Paris" } }, { requestLocation: () => stAlbans }).ops.$set).toEqual({
      $city: "Paris",
      $region: "ENG",
      $country_code: "GB",
      $timezone: "Europe/London",
    });
  });

  it("geolocates from $ip, and not at all for $ip \"0\"", () => {
    expect(profile({ $add: { n: 1 }, $ip: "81.2.69.142" }).ops.$set).toEqual({ $city: "St Albans", $region: "ENG", $country_code: "GB", $timezone: "Europe/London" });
    expect(profile({ $add: { n: 1 }, $ip: "0" }, { requestLocation: () => stAlbans }).ops.$set).toBeUndefined();
  });

  it("does not geolocate a $delete", () => {
    expect(profile({ $delete: "" }, { requestLocation: () => stAlbans }).ops).toEqual({ $delete: true });
  });

  it.each([
    ["no $token", { $token: undefined, $set: { a: 1 } }, "missing_token", "$token, missing or empty"],
    ["a wrong $token", { $token: "X", $set: { a: 1 } }, "unknown_token", "$token, is not a project token of this server"],
    ["no $distinct_id", { $distinct_id: undefined, $set: { a: 1 } }, "missing_distinct_id", "Engage API error: $distinct_id, missing or empty"],
    ["an empty $distinct_id", { $distinct_id: "", $set: { a: 1 } }, "missing_distinct_id", "Engage API error: $distinct_id, missing or empty"],
    ["no operation", {}, "missing_operation", undefined],
    ["$set that is not an object", { $set: [1] }, "bad_operation", "$set, must be an object of property names to values"],
    ["$add with only non-numbers", { $add: { n: "x" } }, "bad_operation", "$add, values must be numbers"],
    ["$unset with a non-string", { $unset: [1] }, "bad_operation", "$unset, must be a list of property names"],
    ["$set nested too deep", { $set: { a: { b: { c: { d: 1 } } } } }, "too_deep", undefined],
    ["a bad $time", { $set: { a: 1 }, $time: "soon" }, "bad_time", undefined],
  ])("refuses %s", (_name, raw, reason, message) => {
    const result = normaliseProfileUpdate({ $token: "T", $distinct_id: "u1", ...raw }, context());
    expect(result).toBeInstanceOf(Rejection);
    expect((result as Rejection).reason).toBe(reason);
    if (message) expect((result as Rejection).message).toBe(message);
  });
});

describe("normaliseGroupUpdate", () => {
  function group(raw: Record<string, unknown>): GroupUpdate | Rejection {
    return normaliseGroupUpdate({ $token: "T", $group_key: "company", $group_id: "Acme", ...raw }, context({ requestLocation: () => stAlbans }));
  }

  it("keeps the group key, id and operations, without geolocation", () => {
    expect(group({ $set: { Industry: "x" } })).toEqual({ groupKey: "company", groupId: "Acme", time: NOW, ignoreTime: false, ops: { $set: { Industry: "x" } } });
  });

  it("coerces a numeric group id", () => {
    expect((group({ $group_id: 42, $set: { a: 1 } }) as GroupUpdate).groupId).toBe("42");
  });

  it.each([
    ["$append, which Mixpanel does not support on groups", { $append: { a: 1 } }, "unsupported_operation"],
    ["no $group_key", { $group_key: undefined, $set: { a: 1 } }, "missing_group_key"],
    ["no $group_id", { $group_id: "", $set: { a: 1 } }, "missing_group_id"],
    ["no $token", { $token: "", $set: { a: 1 } }, "missing_token"],
  ])("refuses %s", (_name, raw, reason) => {
    const result = group(raw);
    expect(result).toBeInstanceOf(Rejection);
    expect((result as Rejection).reason).toBe(reason);
  });
});
