import { describe, expect, it } from "vitest";
import { IntegerValue } from "../../services/core/line-protocol";
import { FieldTypes, fieldTypeOf, parseTypeConflict } from "../../services/worker/field-types";

describe("fieldTypeOf", () => {
  it.each([
    [1.5, "float"],
    [3, "float"],
    ["3", "string"],
    [false, "boolean"],
    [new IntegerValue(3), "integer"],
  ] as const)("%j is an InfluxDB %s", (value, expected) => {
    expect(fieldTypeOf(value)).toBe(expected);
  });
});

describe("FieldTypes.fieldFor (the type-change policy)", () => {
  it("claims an unknown field for the first type seen and keeps it for that type", () => {
    const types = new FieldTypes();
    expect(types.fieldFor("events", "plan", "string")).toBe("plan");
    expect(types.fieldFor("events", "plan", "string")).toBe("plan");
    expect(types.typeOf("events", "plan")).toBe("string");
  });

  it("writes a value of another type under <name>:<type>", () => {
    const types = new FieldTypes();
    types.fieldFor("events", "amount", "float");
    expect(types.fieldFor("events", "amount", "string")).toBe("amount:string");
    expect(types.fieldFor("events", "amount", "boolean")).toBe("amount:boolean");
    expect(types.fieldFor("events", "amount", "float")).toBe("amount");
    expect(types.fieldFor("events", "amount", "string")).toBe("amount:string");
  });

  it("keeps measurements apart", () => {
    const types = new FieldTypes();
    types.fieldFor("events", "x", "float");
    expect(types.fieldFor("other", "x", "string")).toBe("x");
  });

  it("follows the chain when the suffixed name is itself taken by another type", () => {
    const types = new FieldTypes();
    types.fieldFor("events", "x", "float");
    types.learn("events", "x:string", "boolean");
    expect(types.fieldFor("events", "x", "string")).toBe("x:string:string");
  });

  it("gives up (undefined) instead of growing names forever", () => {
    const types = new FieldTypes();
    types.learn("events", "x", "float");
    types.learn("events", "x:string", "float");
    types.learn("events", "x:string:string", "float");
    types.learn("events", "x:string:string:string", "float");
    expect(types.fieldFor("events", "x", "string")).toBeUndefined();
  });

  it("learn() overrides what the process believed and reports whether it changed anything", () => {
    const types = new FieldTypes();
    types.fieldFor("events", "x", "string");
    expect(types.learn("events", "x", "float")).toBe(true);
    expect(types.learn("events", "x", "float")).toBe(false);
    expect(types.fieldFor("events", "x", "string")).toBe("x:string");
  });
});

describe("parseTypeConflict", () => {
  it.each([
    [
      "InfluxDB 1.x partial write",
      'InfluxDB write failed (400): partial write: field type conflict: input field "a" on measurement "m" is type string, already exists as type float dropped=2',
      { field: "a", measurement: "m", refused: "string", existing: "float" },
    ],
    [
      "a field name with spaces, quotes and a newline",
      'partial write: field type conflict: input field "my "odd"\nname" on measurement "events" is type boolean, already exists as type string dropped=1',
      { field: 'my "odd"\nname', measurement: "events", refused: "boolean", existing: "string" },
    ],
    [
      "an integer field",
      'field type conflict: input field "count" on measurement "ingest" is type float, already exists as type integer',
      { field: "count", measurement: "ingest", refused: "float", existing: "integer" },
    ],
  ])("reads %s", (_, message, expected) => {
    expect(parseTypeConflict(message)).toEqual(expected);
  });

  it.each([
    ["partial write: points beyond retention policy dropped=1"],
    ["unable to parse 'm a=1 x': bad timestamp"],
    ['field type conflict: input field "a" on measurement "m" is type weird, already exists as type float'],
  ])("returns undefined for %j", (message) => {
    expect(parseTypeConflict(message)).toBeUndefined();
  });
});
