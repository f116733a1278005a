import { describe, expect, it } from "vitest";
import { decodeComponent, parseForm } from "../../services/ingest/form";

describe("parseForm", () => {
  it.each([
    ["empty text has no fields", "", {}, []],
    ["plain pairs", "ip=1&verbose=0", { ip: "1", verbose: "0" }, []],
    ["plus is a space (the Node SDK's unencoded base64 arrives like this)", "data=a+b", { data: "a b" }, []],
    ["percent escapes are decoded as UTF-8", "x=%C3%BC%3E", { x: "ü>" }, []],
    ["the first of two equal names wins", "a=1&a=2", { a: "1" }, []],
    ["a name without = has an empty value", "test&ip=1", { test: "", ip: "1" }, []],
    ["empty pairs are skipped", "&&a=1&", { a: "1" }, []],
    ["= inside the value is kept", "data=eyJ9==", { data: "eyJ9==" }, []],
    ["broken escapes are reported, not replaced", "data=%E0%A4%A&ip=1", { ip: "1" }, ["data"]],
    ["escapes that are not UTF-8 are reported", "data=%FF", {}, ["data"]],
  ])("%s", (_name, text, values, malformed) => {
    const parsed = parseForm(text);
    expect({ ...parsed.values }).toEqual({ ...values });
    expect(Object.keys(parsed.values)).toEqual(Object.keys(values));
    expect(parsed.malformed).toEqual(malformed);
  });

  it("keeps __proto__ as data without touching the prototype", () => {
    const parsed = parseForm("__proto__=polluted");
    expect(Object.getPrototypeOf(parsed.values)).toBeNull();
    expect(parsed.values["__proto__"]).toBe("polluted");
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe("decodeComponent", () => {
  it.each([
    ["abc", "abc"],
    ["a+b", "a b"],
    ["%2B", "+"],
    ["%", undefined],
    ["%zz", undefined],
  ])("%j decodes to %j", (raw, decoded) => {
    expect(decodeComponent(raw)).toBe(decoded);
  });
});
