import { describe, expect, it } from "vitest";
import { canonicalJson, contentInsertId } from "../../services/ingest/insert-id";

describe("contentInsertId", () => {
  const base = contentInsertId("Signup", 1700000000123, "u1", { plan: "pro", n: 1 });

  it("is the same for the same content in another key order", () => {
    expect(contentInsertId("Signup", 1700000000123, "u1", { n: 1, plan: "pro" })).toBe(base);
  });

  it("is 32 characters allowed by strict /import", () => {
    expect(base).toMatch(/^[A-Za-z0-9-]{1,36}$/);
    expect(base).toHaveLength(32);
  });

  it.each([
    ["another event name", () => contentInsertId("Login", 1700000000123, "u1", { plan: "pro", n: 1 })],
    ["another time", () => contentInsertId("Signup", 1700000000124, "u1", { plan: "pro", n: 1 })],
    ["another user", () => contentInsertId("Signup", 1700000000123, "u2", { plan: "pro", n: 1 })],
    ["another property value", () => contentInsertId("Signup", 1700000000123, "u1", { plan: "free", n: 1 })],
    ["a property value of another type", () => contentInsertId("Signup", 1700000000123, "u1", { plan: "pro", n: "1" })],
    ["a separator moved between fields", () => contentInsertId("Signup1", 700000000123, "u1", { plan: "pro", n: 1 })],
  ])("differs for %s", (_name, other) => {
    expect(other()).not.toBe(base);
  });
});

describe("canonicalJson", () => {
  it.each([
    [{ b: 1, a: [3, { d: 1, c: 2 }] }, '{"a":[3,{"c":2,"d":1}],"b":1}'],
    [null, "null"],
    ["x\"y", '"x\\"y"'],
    [[], "[]"],
  ])("%j", (value, expected) => {
    expect(canonicalJson(value)).toBe(expected);
  });
});
