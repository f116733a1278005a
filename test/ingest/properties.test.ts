import { describe, expect, it } from "vitest";
import { cleanName, cleanProperties, truncate } from "../../services/ingest/properties";
import { Rejection } from "../../services/ingest/rejection";

const limits = { maxStringLength: 10, maxProperties: 4, maxDepth: 3 };

function clean(source: Record<string, unknown>, omit?: Set<string>) {
  return cleanProperties(source, limits, "properties", omit);
}

describe("cleanProperties", () => {
  it.each([
    ["scalars and null pass through", { a: 1, b: true, c: null, d: "x" }, { a: 1, b: true, c: null, d: "x" }],
    ["long strings are truncated", { s: "0123456789abc" }, { s: "0123456789" }],
    ["strings in lists and nested objects are truncated", { l: ["0123456789abc"], o: { s: "0123456789abc" } }, { l: ["0123456789"], o: { s: "0123456789" } }],
    ["long keys are truncated", { "0123456789abc": 1 }, { "0123456789": 1 }],
    ["newlines and control characters in keys become spaces", { "a\nb\tc\u0000": 1 }, { "a b c ": 1 }],
    ["values keep their newlines", { text: "a\nb" }, { text: "a\nb" }],
    ["empty keys are dropped", { "": 1, a: 2 }, { a: 2 }],
    ["depth 3 is allowed", { a: { b: { c: 1 } } }, { a: { b: { c: 1 } } }],
    ["lists count as a level", { a: [[1]] }, { a: [[1]] }],
    ["nested objects inside lists within the depth", { a: [{ b: 1 }] }, { a: [{ b: 1 }] }],
  ])("%s", (_name, source, expected) => {
    const result = clean(source);
    if (result instanceof Rejection) throw new Error(result.message);
    expect(result.value).toEqual(expected);
  });

  it.each([
    ["__proto__", JSON.parse('{"__proto__":{"polluted":true},"a":1}')],
    ["constructor", { constructor: { prototype: { polluted: true } }, a: 1 }],
    ["prototype", { prototype: 1, a: 1 }],
    ["nested __proto__", { a: 1, n: JSON.parse('{"__proto__":{"polluted":true}}') }],
  ])("drops the %s key and never touches a prototype", (_key, source) => {
    const result = clean(source as Record<string, unknown>);
    if (result instanceof Rejection) throw new Error(result.message);
    expect(result.value.a).toBe(1);
    expect(Object.keys(result.value)).not.toContain("__proto__");
    expect(Object.keys(result.value)).not.toContain("constructor");
    expect(Object.keys(result.value)).not.toContain("prototype");
    expect(Object.getPrototypeOf(result.value)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    if (result.value.n !== undefined) expect(Object.getPrototypeOf(result.value.n)).toBe(Object.prototype);
  });

  it("leaves omitted keys out (handled elsewhere)", () => {
    const result = clean({ token: "T", time: 1, a: 1 }, new Set(["token", "time"]));
    expect(result).toEqual({ value: { a: 1 }, bytes: expect.any(Number) });
  });

  it("does not count omitted keys against the property limit", () => {
    const result = clean({ token: "T", time: 1, a: 1, b: 2, c: 3, d: 4 }, new Set(["token", "time"]));
    expect(result).not.toBeInstanceOf(Rejection);
  });

  it.each([
    ["too many properties", { a: 1, b: 2, c: 3, d: 4, e: 5 }, "too_many_properties", "properties, more than 4 properties"],
    ["too many keys in a nested object", { o: { a: 1, b: 2, c: 3, d: 4, e: 5 } }, "too_many_keys", "properties.o, more than 4 keys"],
    ["a list that is too long", { l: [1, 2, 3, 4, 5] }, "too_many_items", "properties.l, list has more than 4 items"],
    ["nesting deeper than 3", { a: { b: { c: { d: 1 } } } }, "too_deep", "properties.a.b.c, nested deeper than 3 levels"],
    ["lists nested deeper than 3", { a: [[[1]]] }, "too_deep", "properties.a, nested deeper than 3 levels"],
  ])("refuses %s", (_name, source, reason, message) => {
    const result = clean(source);
    expect(result).toBeInstanceOf(Rejection);
    expect((result as Rejection).reason).toBe(reason);
    expect((result as Rejection).message).toBe(message);
  });

  it("refuses 10,000-deep nesting without recursing through it", () => {
    let deep: unknown = 1;
    for (let level = 0; level < 10_000; level++) deep = [deep];
    const result = clean({ deep });
    expect((result as Rejection).reason).toBe("too_deep");
  });

  it("counts approximate bytes for the event size limit", () => {
    const small = clean({ a: "x" }) as { bytes: number };
    const large = clean({ a: "0123456789", b: "0123456789" }) as { bytes: number };
    expect(large.bytes).toBeGreaterThan(small.bytes + 18);
  });
});

describe("truncate", () => {
  it.each([
    ["short text is kept", "abc", 5, "abc"],
    ["long text is cut", "abcdef", 3, "abc"],
    ["a surrogate pair is never split", "ab😀", 3, "ab"],
    ["a complete pair at the end is kept", "ab😀", 4, "ab😀"],
  ])("%s", (_name, text, max, expected) => {
    expect(truncate(text, max)).toBe(expected);
  });
});

describe("cleanName", () => {
  it.each([
    ["Signup", "Signup"],
    ["Sign\nup", "Sign up"],
    ["a\r\nb", "a  b"],
    ["\u007fdel", " del"],
    ["ünïcödé ok", "ünïcödé ok"],
  ])("%j becomes %j", (name, expected) => {
    expect(cleanName(name, 255)).toBe(expected);
  });
});
