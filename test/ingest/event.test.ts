import { describe, expect, it } from "vitest";
import type { EventItem } from "../../services/core/queue";
import { IGNORED, normaliseEvent, type EventContext } from "../../services/ingest/event";
import type { GeoLookup } from "../../services/ingest/geo";
import { Rejection } from "../../services/ingest/rejection";
import type { Limits } from "../../services/ingest/settings";

const NOW = Date.UTC(2026, 10, 23, 12, 0, 0);
const DAY = 86_400_000;
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
const lookup: GeoLookup = (address) => (address === "81.2.69.142" ? { city: "St Albans", region: "ENG", countryCode: "GB" } : undefined);

function context(overrides: Partial<EventContext> = {}): EventContext {
  return {
    route: "track",
    tokens: new Set(["T"]),
    authenticated: false,
    strict: false,
    now: NOW,
    limits,
    requestLocation: () => undefined,
    lookup,
    ...overrides,
  };
}

function accepted(raw: unknown, overrides: Partial<EventContext> = {}): EventItem {
  const result = normaliseEvent(raw, context(overrides));
  if (result instanceof Rejection) throw new Error(`refused: ${result.message}`);
  if (result === IGNORED) throw new Error("ignored");
  return result;
}

function refused(raw: unknown, overrides: Partial<EventContext> = {}): Rejection {
  const result = normaliseEvent(raw, context(overrides));
  if (!(result instanceof Rejection)) throw new Error(`accepted: ${JSON.stringify(result)}`);
  return result;
}

describe("normaliseEvent", () => {
  it("keeps the name, time, distinct id and other properties; strips token, time, distinct_id and ip", () => {
    const item = accepted({
      event: "Signup",
      properties: { distinct_id: "u1", time: 1700000000123, token: "T", ip: "0", mp_lib: "node", $lib_version: "0.24.0", $device_id: "D1", $user_id: "U1" },
    });
    expect(item).toEqual({
      event: "Signup",
      time: 1700000000123,
      insertId: expect.stringMatching(/^[0-9a-f]{32}$/),
      distinctId: "u1",
      properties: { mp_lib: "node", $lib_version: "0.24.0", $device_id: "D1", $user_id: "U1" },
    });
  });

  it("keeps the client's $insert_id", () => {
    expect(accepted({ event: "e", properties: { token: "T", $insert_id: "yue6jbnnrysq54zf" } }).insertId).toBe("yue6jbnnrysq54zf");
  });

  it("generates the same $insert_id for the same event sent twice, a different one for another event", () => {
    const raw = { event: "e", properties: { token: "T", distinct_id: "u1", time: 1700000000, plan: "pro" } };
    const first = accepted(raw).insertId;
    expect(accepted(structuredClone(raw)).insertId).toBe(first);
    expect(accepted({ ...raw, properties: { ...raw.properties, plan: "free" } }).insertId).not.toBe(first);
  });

  it.each([
    ["float seconds", 1795417512.85, 1795417512850],
    ["integer seconds", 1700000000, 1700000000000],
    ["milliseconds", 1700000000123, 1700000000123],
    ["a numeric string", "1700000000", 1700000000000],
    ["missing on /track: the receive time", undefined, NOW],
    ["more than 1 h ahead on /track: clamped to now", NOW + 2 * 3_600_000, NOW],
    ["30 min ahead: clock skew, kept", NOW + 1_800_000, NOW + 1_800_000],
  ])("time given as %s", (_name, time, expected) => {
    expect(accepted({ event: "e", properties: { token: "T", time } }).time).toBe(expected);
  });

  it.each([
    ["a number", 42, "42"],
    ["a string", "u1", "u1"],
    ["missing", undefined, ""],
    ["null", null, ""],
    ["a boolean", true, "true"],
    ["empty (no user)", "", ""],
  ])("distinct_id given as %s", (_name, distinctId, expected) => {
    expect(accepted({ event: "e", properties: { token: "T", distinct_id: distinctId } }).distinctId).toBe(expected);
  });

  it("truncates the event name and cleans its control characters", () => {
    expect(accepted({ event: `Sign\nup${"x".repeat(300)}`, properties: { token: "T" } }).event).toBe(`Sign up${"x".repeat(248)}`);
  });

  it.each([
    ["true", true],
    ["1", 1],
    ["a non-empty string", "bot"],
  ])("drops the event when $ignore is %s", (_name, value) => {
    expect(normaliseEvent({ event: "e", properties: { token: "T", $ignore: value } }, context())).toBe(IGNORED);
  });

  it.each([
    ["false", false],
    ["an empty string", ""],
    ["0", 0],
  ])("keeps the event when $ignore is %s", (_name, value) => {
    expect(accepted({ event: "e", properties: { token: "T", $ignore: value } }).properties.$ignore).toBe(value);
  });

  it("adds geolocation from the request address when ip=1, never the address itself", () => {
    const item = accepted({ event: "e", properties: { token: "T" } }, { requestLocation: () => lookup("81.2.69.142") });
    expect(item.properties).toEqual({ $city: "St Albans", $region: "ENG", mp_country_code: "GB" });
    expect(JSON.stringify(item)).not.toContain("81.2.69.142");
  });

  it("prefers the event's own ip property, and stores neither", () => {
    const item = accepted({ event: "e", properties: { token: "T", ip: "81.2.69.142" } }, { requestLocation: () => ({ countryCode: "US" }) });
    expect(item.properties).toEqual({ $city: "St Albans", $region: "ENG", mp_country_code: "GB" });
  });

  it("turns geolocation off for ip \"0\"", () => {
    const item = accepted({ event: "e", properties: { token: "T", ip: "0" } }, { requestLocation: () => ({ countryCode: "US" }) });
    expect(item.properties).toEqual({});
  });

  it("does not override the city or region the client set, but its country is GeoIP's when GeoIP knows it (a tag: one series per value)", () => {
    const item = accepted({ event: "e", properties: { token: "T", $city: "Paris", mp_country_code: "ZZ-random" } }, { requestLocation: () => lookup("81.2.69.142") });
    expect(item.properties.$city).toBe("Paris");
    expect(item.properties.mp_country_code).toBe("GB");
    expect(accepted({ event: "e", properties: { token: "T", mp_country_code: "FR" } }).properties.mp_country_code).toBe("FR");
  });

  it.each([":float", ":integer", ":string", ":boolean", ":property"])("refuses a property whose name ends in %s, naming it", (suffix) => {
    const rejection = refused({ event: "e", properties: { token: "T", [`plan${suffix}`]: 1 } });
    expect([rejection.reason, rejection.message]).toEqual(["reserved_name", `properties.plan${suffix}, ends in "${suffix}", which is reserved for properties whose type changed`]);
  });

  it("accepts other names with colons", () => {
    expect(accepted({ event: "e", properties: { token: "T", "utm:source": "x", "a:stringy": 1, "x:": 2 } }).properties).toEqual({ "utm:source": "x", "a:stringy": 1, "x:": 2 });
  });

  it.each([
    ["a date", { sinceMs: Date.UTC(2026, 0, 1) }, "2026-01-01"],
    ["a number of days", { maxAgeMs: 30 * DAY }, "2026-10-24"],
  ])("refuses events before the history floor given as %s, on every route", (_name, history, day) => {
    const old = { event: "e", properties: { token: "T", time: Date.UTC(2025, 11, 31) } };
    for (const route of ["track", "import"] as const) {
      const rejection = refused(old, { route, authenticated: route === "import", limits: { ...limits, history } });
      expect([rejection.reason, rejection.message]).toEqual(["before_history", `properties.time, before ${day}, the earliest time this server accepts (MIXSTACK_HISTORY_SINCE)`]);
    }
    expect(accepted({ event: "e", properties: { token: "T", time: NOW - DAY } }, { limits: { ...limits, history } }).time).toBe(NOW - DAY);
  });

  it("on /track, the 5-day limit answers first: it says where old events go", () => {
    const rejection = refused({ event: "e", properties: { token: "T", time: 31_622_400 } }, { limits: { ...limits, trackMaxAgeMs: 5 * DAY, history: { maxAgeMs: 730 * DAY } } });
    expect(rejection.message).toBe("properties.time, older than 5 days; send old events to /import");
  });

  it("accepts a missing token on authenticated /import", () => {
    expect(accepted({ event: "e", properties: { time: 1600000000000 } }, { route: "import", authenticated: true }).time).toBe(1600000000000);
  });

  it("accepts old /track events unless a maximum age is configured", () => {
    expect(accepted({ event: "e", properties: { token: "T", time: NOW - 30 * DAY } }).time).toBe(NOW - 30 * DAY);
    expect(refused({ event: "e", properties: { token: "T", time: NOW - 6 * DAY } }, { limits: { ...limits, trackMaxAgeMs: 5 * DAY } }).reason).toBe("too_old");
    expect(accepted({ event: "e", properties: { token: "T", time: NOW - 6 * DAY } }, { route: "import", limits: { ...limits, trackMaxAgeMs: 5 * DAY } }).time).toBe(NOW - 6 * DAY);
  });

  it.each([
    ["not an object", "Signup", {}, "not_object", ""],
    ["an array", [], {}, "not_object", ""],
    ["no event name", { properties: { token: "T" } }, {}, "bad_event_name", "event, missing"],
    ["an empty event name", { event: " ", properties: { token: "T" } }, {}, "bad_event_name", "event, missing or empty"],
    ["a numeric event name", { event: 42, properties: { token: "T" } }, {}, "bad_event_name", "event, must be a string, got number"],
    ["an object as event name", { event: { a: 1 }, properties: { token: "T" } }, {}, "bad_event_name", "event, must be a string, got object"],
    ["properties that are a list", { event: "e", properties: [1] }, {}, "bad_properties", "properties, must be an object"],
    ["a missing token", { event: "e", properties: {} }, {}, "missing_token", "token, missing or empty"],
    ["a wrong token", { event: "e", properties: { token: "X" } }, {}, "unknown_token", "token, is not a project token of this server"],
    ["a token that is a number", { event: "e", properties: { token: 5 } }, {}, "unknown_token", "token, is not a project token of this server"],
    ["a time that is a word", { event: "e", properties: { token: "T", time: "noon" } }, {}, "bad_time", 'properties.time, not a time in seconds or milliseconds: "noon"'],
    ["a time that is a megabyte of digits and a letter", { event: "e", properties: { token: "T", time: `${"1".repeat(1_000_000)}x` } }, {}, "bad_time", `properties.time, not a time in seconds or milliseconds: "${"1".repeat(60)}…"`],
    ["a time that is an object nested 100,000 levels deep", { event: "e", properties: { token: "T", time: JSON.parse(`${'{"n":'.repeat(100_000)}1${"}".repeat(100_000)}`) } }, {}, "bad_time", "properties.time, not a time in seconds or milliseconds: an object"],
    ["a time that is a list", { event: "e", properties: { token: "T", time: [1700000000] } }, {}, "bad_time", "properties.time, not a time in seconds or milliseconds: a list"],
    ["a time before 1971", { event: "e", properties: { token: "T", time: 1000 } }, {}, "bad_time", "properties.time, before 1971-01-01"],
    ["no time on /import", { event: "e", properties: { token: "T" } }, { route: "import" as const }, "missing_time", "properties.time, missing (required on /import)"],
    ["a future time in strict mode", { event: "e", properties: { token: "T", time: NOW + 7_200_000 } }, { route: "import" as const, strict: true }, "future_time", "properties.time, more than 1 hour in the future"],
    ["an object as distinct_id", { event: "e", properties: { token: "T", distinct_id: { id: 1 } } }, {}, "bad_distinct_id", "properties.distinct_id, must be a string or a number"],
    ["a placeholder distinct_id in strict mode", { event: "e", properties: { token: "T", time: NOW, distinct_id: "null" } }, { route: "import" as const, strict: true }, "invalid_distinct_id", 'properties.distinct_id, "null" is a placeholder, not an id'],
    ["a bad $insert_id in strict mode", { event: "e", properties: { token: "T", time: NOW, $insert_id: "has spaces" } }, { route: "import" as const, strict: true }, "bad_insert_id", "properties.$insert_id, must be 1 to 36 characters of A-Z, a-z, 0-9 and -"],
    ["an object as $insert_id", { event: "e", properties: { token: "T", $insert_id: {} } }, {}, "bad_insert_id", "properties.$insert_id, must be a string"],
    ["thousands of properties", { event: "e", properties: { token: "T", ...Object.fromEntries(Array.from({ length: 3000 }, (_, i) => [`p${i}`, i])) } }, {}, "too_many_properties", "properties, more than 255 properties"],
    ["deep nesting", { event: "e", properties: { token: "T", a: { b: { c: { d: 1 } } } } }, {}, "too_deep", "properties.a.b.c, nested deeper than 3 levels"],
    ["an event over the byte limit", { event: "e", properties: { token: "T", l: Array.from({ length: 200 }, () => "x".repeat(255)) } }, { limits: { ...limits, maxEventBytes: 10_000 } }, "too_large", "properties, event is larger than 10000 bytes"],
  ])("refuses %s", (_name, raw, overrides, reason, message) => {
    const rejection = refused(raw, overrides);
    expect(rejection.reason).toBe(reason);
    if (message) expect(rejection.message).toBe(message);
  });

  it("accepts placeholders as distinct_id outside strict mode (they are data, just odd)", () => {
    expect(accepted({ event: "e", properties: { token: "T", distinct_id: "null" } }).distinctId).toBe("null");
  });
});
