import { describe, expect, it } from "vitest";
import { IntegerValue, toLine } from "../../services/core/line-protocol";
import type { EventItem, JsonObject } from "../../services/core/queue";
import { FieldTypes } from "../../services/worker/field-types";
import {
  BEFORE_IDENTITY_FIELD,
  EMPTY_NAME,
  TAG_VALUE_MAX,
  eventTimestamp,
  invalidEventItem,
  invalidStatsItem,
  toEventPoint,
  toMergePoint,
  toPipelinePoint,
  toProfileUpdatePoint,
  toStatsPoint,
} from "../../services/worker/schema";

const schema = { tagKeys: new Set(["mp_lib", "$os", "$browser", "mp_country_code"]) };

function event(properties: JsonObject, overrides: Partial<EventItem> = {}): EventItem {
  return { event: "Sign up", time: 1_700_000_000_123, insertId: "ins-1", distinctId: "u1", properties, ...overrides };
}

describe("toEventPoint", () => {
  it("puts the event name and allow-listed properties in tags, everything else in fields", () => {
    const { point } = toEventPoint(event({ mp_lib: "web", $os: "Linux", plan: "pro", amount: 5, paid: true }), "u1", schema, new FieldTypes());
    expect(point.measurement).toBe("events");
    expect(point.tags).toEqual({ event: "Sign up", mp_lib: "web", $os: "Linux" });
    expect(point.fields).toEqual({ insert_id: "ins-1", distinct_id: "u1", plan: "pro", amount: 5, paid: true });
  });

  it("tags user_type when given and the event has a user, never otherwise", () => {
    expect(toEventPoint(event({}), "u1", schema, new FieldTypes(), "returning").point.tags).toEqual({ event: "Sign up", user_type: "returning" });
    expect(toEventPoint(event({}, { distinctId: "" }), "", schema, new FieldTypes(), "new").point.tags).toEqual({ event: "Sign up" });
    expect(toEventPoint(event({ user_type: "x" }), "u1", schema, new FieldTypes(), "new").point.fields["user_type:property"]).toBe("x");
  });

  it.each<[string, JsonObject, Record<string, unknown>]>([
    ["null is left out", { gone: null }, {}],
    ["arrays become JSON strings", { tags: ["a", "b"] }, { tags: '["a","b"]' }],
    ["objects become JSON strings", { cart: { sku: "x", n: [1, 2] } }, { cart: '{"sku":"x","n":[1,2]}' }],
    ["a property named like a column gets :property", { insert_id: "mine", event: "e", time: 3 }, { "insert_id:property": "mine", "event:property": "e", "time:property": 3 }],
    ["an empty property name becomes (empty)", { "": "x" }, { [EMPTY_NAME]: "x" }],
    ["a newline in a property name becomes ␤", { "a\nb": 1 }, { "a\u2424b": 1 }],
  ])("%s", (_, properties, extraFields) => {
    const { point } = toEventPoint(event(properties), "u1", schema, new FieldTypes());
    expect(point.fields).toEqual({ insert_id: "ins-1", distinct_id: "u1", ...extraFields });
  });

  // `plan` and `tier` stand for tags an operator adds to EVENT_TAGS: their values are taken as sent.
  const custom = { tagKeys: new Set([...schema.tagKeys, "plan", "tier"]) };

  it.each<[string, JsonObject, Record<string, string>]>([
    ["numbers and booleans become strings", { plan: 2, tier: true }, { plan: "2", tier: "true" }],
    ["null and empty strings are no tag", { plan: null, tier: "", mp_lib: null, $os: "" }, {}],
    ["lists become JSON", { plan: ["a"] }, { plan: '["a"]' }],
  ])("tag values: %s", (_, properties, extraTags) => {
    const { point } = toEventPoint(event(properties), "u1", custom, new FieldTypes());
    expect(point.tags).toEqual({ event: "Sign up", ...extraTags });
  });

  it.each<[string, JsonObject, Record<string, string>]>([
    ["known values keep the SDKs' spelling, whatever the case", { $os: "mac os x", $browser: "CHROME", mp_lib: "Web", mp_country_code: "gb" }, { $os: "Mac OS X", $browser: "Chrome", mp_lib: "web", mp_country_code: "GB" }],
    ["unknown operating systems, browsers and libraries are Other", { $os: "os-abcdef", $browser: "x", mp_lib: "lib-1" }, { $os: "Other", $browser: "Other", mp_lib: "other" }],
    ["a country that is not an ISO code is no tag", { mp_country_code: "ZZ" }, {}],
    ["a number is no country either", { mp_country_code: 44 }, {}],
  ])("the default tags keep to their vocabulary: %s", (_, properties, extraTags) => {
    const { point } = toEventPoint(event(properties), "u1", schema, new FieldTypes());
    expect(point.tags).toEqual({ event: "Sign up", ...extraTags });
  });

  it("cuts very long tag values so that the series key stays valid", () => {
    const { point } = toEventPoint(event({}, { event: "x".repeat(5000) }), "u1", schema, new FieldTypes());
    expect(point.tags?.event).toHaveLength(TAG_VALUE_MAX);
  });

  it("keeps the raw distinct_id when identity resolution changed it, and only then", () => {
    expect(toEventPoint(event({}, { distinctId: "$device:D1" }), "U1", schema, new FieldTypes()).point.fields[BEFORE_IDENTITY_FIELD]).toBe("$device:D1");
    expect(toEventPoint(event({}), "u1", schema, new FieldTypes()).point.fields[BEFORE_IDENTITY_FIELD]).toBeUndefined();
    expect(toEventPoint(event({}, { distinctId: "" }), "U1", schema, new FieldTypes()).point.fields[BEFORE_IDENTITY_FIELD]).toBeUndefined();
  });

  it("writes a property whose type changed under a suffixed field, and keeps the rest of the event", () => {
    const types = new FieldTypes();
    toEventPoint(event({ plan: 1 }), "u1", schema, types);
    const { point } = toEventPoint(event({ plan: "pro", other: "x" }), "u1", schema, types);
    expect(point.fields).toEqual({ insert_id: "ins-1", distinct_id: "u1", "plan:string": "pro", other: "x" });
  });

  it("counts properties that found no field name instead of failing the event", () => {
    const types = new FieldTypes();
    for (const name of ["x", "x:string", "x:string:string", "x:string:string:string"]) types.learn("events", name, "float");
    const { point, droppedProperties } = toEventPoint(event({ x: "text", y: 1 }), "u1", schema, types);
    expect(droppedProperties).toBe(1);
    expect(point.fields.y).toBe(1);
  });

  it("lands a re-delivered event on the same nanosecond, and another event of the same ms elsewhere", () => {
    const first = toEventPoint(event({}), "u1", schema, new FieldTypes()).point.timestamp;
    const again = toEventPoint(event({ changed: 1 }), "u2", schema, new FieldTypes()).point.timestamp;
    const other = toEventPoint(event({}, { insertId: "ins-2" }), "u1", schema, new FieldTypes()).point.timestamp;
    expect(first).toBe(again);
    expect(other).not.toBe(first);
    expect(first!.slice(0, 13)).toBe("1700000000123");
    expect(other!.slice(0, 13)).toBe("1700000000123");
  });

  it("produces a line InfluxDB accepts even when every name is hostile", () => {
    const { point } = toEventPoint(event({ "\tx": 1, "a,b=c d": 'v"\\', "😀": "\n" }, { event: "a,b=c\\", distinctId: "u 1" }), "u 1", schema, new FieldTypes());
    expect(toLine(point)).toBe(
      'events,event=a\\,b\\=c\uFF3C insert_id="ins-1",distinct_id="u 1",\tx=1,a\\,b\\=c\\ d="v\\"\\\\",😀="\n" ' + point.timestamp,
    );
  });
});

describe("eventTimestamp", () => {
  it("keeps a millisecond-precise time within its millisecond", () => {
    const timestamp = eventTimestamp(1_700_000_000_123, "abc");
    expect(timestamp.slice(0, 13)).toBe("1700000000123");
    expect(timestamp).toHaveLength(19);
  });

  it("spreads a whole-second time over its second, never past it", () => {
    const stamps = Array.from({ length: 2000 }, (_, index) => eventTimestamp(1_700_000_000_000, `id-${index}`));
    for (const stamp of stamps) expect(stamp.slice(0, 10)).toBe("1700000000");
    expect(new Set(stamps).size).toBe(2000);
    // Spread over the second, not bunched into its first millisecond.
    expect(new Set(stamps.map((stamp) => stamp.slice(10, 13))).size).toBeGreaterThan(800);
  });

  it("is the same for the same event, and probe moves it one nanosecond on, within its window", () => {
    expect(eventTimestamp(1_700_000_000_123, "abc")).toBe(eventTimestamp(1_700_000_000_123, "abc"));
    const base = BigInt(eventTimestamp(1_700_000_000_123, "abc"));
    expect(BigInt(eventTimestamp(1_700_000_000_123, "abc", 1))).toBe(base + 1n === 1_700_000_000_124_000_000n ? 1_700_000_000_123_000_000n : base + 1n);
  });
});

describe("invalidEventItem", () => {
  it.each<[string, unknown]>([
    ["not an object", "x"],
    ["an array", []],
    ["no event name", { time: 1, insertId: "i", distinctId: "", properties: {} }],
    ["a time in seconds with a fraction", { event: "e", time: 1.5, insertId: "i", distinctId: "", properties: {} }],
    ["time zero", { event: "e", time: 0, insertId: "i", distinctId: "", properties: {} }],
    ["no insert id", { event: "e", time: 1, insertId: "", distinctId: "", properties: {} }],
    ["a numeric distinct id", { event: "e", time: 1, insertId: "i", distinctId: 5, properties: {} }],
    ["properties as a list", { event: "e", time: 1, insertId: "i", distinctId: "", properties: [] }],
  ])("refuses an item with %s", (_, item) => {
    expect(invalidEventItem(item)).toEqual(expect.any(String));
  });

  it("accepts a normalised event", () => {
    expect(invalidEventItem(event({}))).toBeUndefined();
  });
});

describe("other measurements", () => {
  it("identity_merges: one point with device and user", () => {
    const point = toMergePoint("D1", "U1", 1_700_000_000_000);
    expect(point).toMatchObject({ measurement: "identity_merges", fields: { device_id: "D1", user_id: "U1" } });
    expect(point.timestamp!.slice(0, 13)).toBe("1700000000000");
  });

  it("profile_updates: kind and op as tags, id and created as fields", () => {
    expect(toProfileUpdatePoint({ kind: "user", op: "$set", id: "u1", created: true, time: 1000, key: "k" })).toMatchObject({
      measurement: "profile_updates",
      tags: { kind: "user", op: "$set" },
      fields: { distinct_id: "u1", created: true },
    });
    expect(toProfileUpdatePoint({ kind: "group", op: "$set", id: "Acme", groupKey: "company", created: false, time: 1000, key: "k" })).toMatchObject({
      tags: { kind: "group", op: "$set", group_key: "company" },
      fields: { group_id: "Acme", created: false },
    });
  });

  it("ingest stats: integer fields, and two instances' samples of one ms do not collide", () => {
    const item = { measurement: "ingest", tags: { route: "track", status: "200" }, fields: { requests: 3.2, events_accepted: 10 }, time: 1_700_000_000_000 };
    const a = toStatsPoint(item, "1-0:0");
    const b = toStatsPoint(item, "1-1:0");
    expect(a.fields).toEqual({ requests: new IntegerValue(3), events_accepted: new IntegerValue(10) });
    expect(a.timestamp).not.toBe(b.timestamp);
    expect(toLine(a)).toMatch(/^ingest,route=track,status=200 requests=3i,events_accepted=10i \d+$/);
  });

  it.each<[string, unknown]>([
    ["a measurement of the worker's", { measurement: "events", tags: {}, fields: { a: 1 }, time: 1 }],
    ["a measurement name with a space", { measurement: "in gest", tags: {}, fields: { a: 1 }, time: 1 }],
    ["a non-numeric field", { measurement: "ingest", tags: {}, fields: { a: "1" }, time: 1 }],
    ["no fields", { measurement: "ingest", tags: {}, fields: {}, time: 1 }],
    ["a numeric tag", { measurement: "ingest", tags: { a: 1 }, fields: { a: 1 }, time: 1 }],
  ])("refuses a stats item with %s", (_, item) => {
    expect(invalidStatsItem(item)).toEqual(expect.any(String));
  });

  it("pipeline: integer counts and the mean batch time", () => {
    const line = toLine(
      toPipelinePoint({ consumer: "w1", time: 1000, written: 10, batchMs: 12.5, streamLength: 3, lag: 2, pending: 1, deadLetters: 0, profiles: 4, groups: 5 }),
    );
    expect(line).toMatch(/^pipeline,consumer=w1 written=10i,batch_ms=12\.5,stream_length=3i,lag=2i,pending=1i,dead_letters=0i,profiles=4i,groups=5i 1000\d{6}$/);
  });
});
