import { describe, expect, it } from "vitest";
import { lineFields, lineSeries } from "../../services/core/line-protocol";
import type { EventItem, JsonObject, JsonValue } from "../../services/core/queue";
import { EventLineBuilder } from "../../services/worker/event-line";
import { FieldTypes } from "../../services/worker/field-types";
import type { UserType } from "../../services/worker/first-seen";
import { toEventPoint } from "../../services/worker/schema";

// The worker builds event lines with EventLineBuilder; the data model is defined by toEventPoint.
// Every case here checks that both give the same line, and that both leave the field types in the
// same state (the next event must be written the same way too).

const schema = { tagKeys: new Set(["mp_lib", "$os", "$browser", "mp_country_code"]) };

function event(properties: JsonObject, overrides: Partial<EventItem> = {}): EventItem {
  return { event: "Page Viewed", time: 1_700_000_000_123, insertId: "ins-1", distinctId: "u1", properties, ...overrides };
}

/** The fields of a field set, split at the commas line protocol reads as separators. */
function fieldList(fields: string): string[] {
  const list: string[] = [];
  let current = "";
  let quoted = false;
  for (let index = 0; index < fields.length; index += 1) {
    const char = fields[index]!;
    if (char === "\\" && index + 1 < fields.length) {
      current += char + fields[index + 1];
      index += 1;
      continue;
    }
    if (char === '"') quoted = !quoted;
    if (char === "," && !quoted) {
      list.push(current);
      current = "";
      continue;
    }
    current += char;
  }
  list.push(current);
  return list;
}

interface Built {
  series: string;
  fields: string[];
  dropped: number;
}

/** Builds the same events in order both ways, each way with its own field types. */
function buildBothWays(events: Array<{ event: EventItem; distinctId?: string; userType?: UserType }>): { fast: Built[]; reference: Built[] } {
  const fastTypes = new FieldTypes();
  const referenceTypes = new FieldTypes();
  const builder = new EventLineBuilder(schema, fastTypes);
  const fast: Built[] = [];
  const reference: Built[] = [];
  for (const { event: item, distinctId = item.distinctId, userType } of events) {
    const line = builder.build(item, distinctId, userType);
    fast.push({ series: line.series, fields: fieldList(line.fields).sort(), dropped: line.droppedProperties });
    const { point, droppedProperties } = toEventPoint(item, distinctId, schema, referenceTypes, userType);
    reference.push({ series: lineSeries(point), fields: fieldList(lineFields(point) as string).sort(), dropped: droppedProperties });
  }
  return { fast, reference };
}

describe("EventLineBuilder", () => {
  it("writes a browser event exactly as toLine(toEventPoint(...)) does", () => {
    const item = event(
      { mp_lib: "web", $os: "Mac OS X", $browser: "Chrome", $current_url: "https://x.example/a?b=c d", $screen_width: 1440, plan: "pro", paid: true, cart: ["a", 1] },
      { distinctId: "$device:D1" },
    );
    const types = new FieldTypes();
    const line = new EventLineBuilder(schema, types).build(item, "U1", "new");
    const { point } = toEventPoint(item, "U1", schema, new FieldTypes(), "new");
    expect(`${line.series} ${line.fields}`).toBe(`${lineSeries(point)} ${lineFields(point) as string}`);
    expect(line.series).toBe("events,$browser=Chrome,$os=Mac\\ OS\\ X,event=Page\\ Viewed,mp_lib=web,user_type=new");
  });

  it.each<[string, Array<{ event: EventItem; distinctId?: string; userType?: UserType }>]>([
    ["no properties, no user", [{ event: event({}, { distinctId: "" }), userType: "new" }]],
    ["user_type only with a user", [{ event: event({}), userType: "returning" }, { event: event({}, { distinctId: "" }), distinctId: "", userType: "new" }]],
    ["the raw distinct_id kept when resolution changed it", [{ event: event({}, { distinctId: "$device:D" }), distinctId: "U" }]],
    ["tag values of every type", [{ event: event({ mp_lib: 2, $os: true, $browser: ["a"], mp_country_code: null }) }]],
    ["empty tag values", [{ event: event({ mp_lib: "", $os: "x" }) }]],
    ["a very long event name", [{ event: event({}, { event: "e".repeat(3000) }) }]],
    ["null, NaN-free numbers, nested values", [{ event: event({ a: null, b: 0, c: -1.5e-7, d: { e: [1, { f: "g" }] }, h: [] }) }]],
    ["names colliding with our columns", [{ event: event({ insert_id: "x", distinct_id: "y", event: "z", time: 1, user_type: "t", $distinct_id_before_identity: "w" }) }]],
    ["an empty name and (empty) itself", [{ event: event({ "": 1, "(empty)": 2 }) }]],
    ["a newline name and its look-alike", [{ event: event({ "a\nb": 1, "a\u2424b": 2 }) }, { event: event({ "a\u2424b": 3, "a\nb": 4 }) }]],
    ["names with every character line protocol escapes", [{ event: event({ "a,b": 1, "c d": "e,f g=h", "i=j": 'k"l\\m', "tab\tx": true, "ends\\": 5 }) }]],
    ["prototype names", [{ event: event({ toString: "a", constructor: "b", hasOwnProperty: 1, ["__proto__"]: "c" } as JsonObject) }]],
    ["integer-like names (objects list them first)", [{ event: event({ zeta: 1, "10": 2, "2": "x", alpha: true }) }]],
    ["unicode and emoji", [{ event: event({ "über": "😀", "日本": "語", emoji: "👍🏽" }, { event: "Käufe 🛒" }) }]],
    [
      "a property whose type changes, then stays, then changes again",
      [{ event: event({ plan: 1 }) }, { event: event({ plan: "pro", other: 1 }) }, { event: event({ plan: 2 }) }, { event: event({ plan: true }) }, { event: event({ plan: "x" }) }],
    ],
    ["a tag name used as a field name elsewhere", [{ event: event({ "mp_lib:property": 1, mp_lib: "web" }) }]],
  ])("equals the data model's line: %s", (_, events) => {
    const { fast, reference } = buildBothWays(events);
    expect(fast).toEqual(reference);
  });

  it("follows what InfluxDB taught the field types, as the data model does", () => {
    const fastTypes = new FieldTypes();
    const builder = new EventLineBuilder(schema, fastTypes);
    const item = event({ amount: 5 });
    expect(builder.build(item, "u1").fields).toContain(",amount=5");
    // InfluxDB answered that `amount` is a string field: the next build moves the number aside.
    fastTypes.learn("events", "amount", "string");
    const referenceTypes = new FieldTypes();
    referenceTypes.learn("events", "amount", "string");
    const { point } = toEventPoint(item, "u1", schema, referenceTypes);
    expect(builder.build(item, "u1").fields).toBe(lineFields(point));
    expect(builder.build(item, "u1").fields).toContain(",amount:float=5");
  });

  it("counts a property with no field name left, as the data model does", () => {
    const { fast, reference } = buildBothWays([
      { event: event({ x: 1 }) },
      { event: event({ "x:string": 1 }) },
      { event: event({ "x:string:string": 1 }) },
      { event: event({ "x:string:string:string": 1 }) },
      { event: event({ x: "text", y: 1 }) },
    ]);
    expect(fast).toEqual(reference);
    expect(fast[4]!.dropped).toBe(1);
  });

  it("equals the data model's line for 3,000 random events over hostile names and changing types", () => {
    // A fixed-seed generator: the same events on every run.
    let seed = 42;
    const random = () => {
      seed = (Math.imul(seed, 1_103_515_245) + 12_345) >>> 0;
      return seed / 2 ** 32;
    };
    const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
    const names = ["plan", "amount", "mp_lib", "$os", "a b", "c,d", "e=f", "g\nh", "", "time", "insert_id", 'q"r', "s\\", "t\\u", "7", "toString", "😀", "x:string", "mp_lib:property"];
    const values: JsonValue[] = ["text", "", 'quote " and \\', "new\nline", 0, 1.5, -2, 1e21, true, false, null, [1, "a"], { k: "v" }];
    const events = Array.from({ length: 3000 }, (_, index) => {
      const properties: JsonObject = {};
      for (let count = Math.floor(random() * 6); count > 0; count -= 1) properties[pick(names)] = pick(values);
      const distinctId = pick(["", "u1", "$device:d1"]);
      return {
        event: event(properties, { event: pick(["Signed Up", "a,b c", "x\\"]), insertId: `i${index}`, distinctId }),
        distinctId: random() < 0.3 ? "u9" : distinctId,
        userType: pick<UserType | undefined>(["new", "returning", undefined]),
      };
    });
    const { fast, reference } = buildBothWays(events);
    expect(fast).toEqual(reference);
  });
});
