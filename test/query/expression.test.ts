import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { compileExpression, compileUnguarded, type Bindings } from "../../services/query/expression/compile";
import { ParseError } from "../../services/query/expression/parse-error";
import { parseExpression, referencedProperties } from "../../services/query/expression/parser";
import { DateTime, type Value } from "../../services/query/expression/values";
import { TimeZone } from "../../services/query/time-zone";

/**
 * The expression language, rule by rule (reference §2 and the decisions in docs/reports.md): every
 * example of Mixpanel's docs, the type and undefined rules, `in`, casts, precedence; parse errors with
 * their column; and two properties: random text never throws anything but ParseError, and a parsed
 * expression evaluated over random rows never throws.
 */

interface Row {
  properties: Record<string, Value>;
  user?: Record<string, Value>;
  time?: number;
}

const utc = new TimeZone("UTC");
const paris = new TimeZone("Europe/Paris");

function bindings(zone = utc): Bindings<Row> {
  return {
    lookup(scope, name) {
      if (scope === "user") return (row) => row.user?.[name];
      if (scope === "event" && (name === "$time" || name === "time")) return (row) => (row.time === undefined ? undefined : new DateTime(row.time));
      return (row) => (Object.hasOwn(row.properties, name) ? row.properties[name] : undefined);
    },
    zoneOffsetMs: zone.offsetOfWallTime,
  };
}

const evaluate = (source: string, properties: Record<string, Value> = {}, extra: Partial<Row> = {}, zone = utc): Value =>
  compileExpression(parseExpression(source), bindings(zone))({ properties, ...extra });

const row = { plan: "pro", amount: 150, n: 3, zero: 0, ok: true, tags: ["a", "b", 7], name: "Signup page", account_id: 2, city: "Paris", nul: null };

describe("Mixpanel's documented examples", () => {
  const cases: Array<[string, Value, Record<string, Value>?, Partial<Row>?]> = [
    ['properties["account_id"] in [1,2,3,4]', true, row],
    ['properties["account_id"] in [5,6]', false, row],
    ['user["$email"] == "allison@example.com"', true, {}, { user: { $email: "allison@example.com" } }],
    ['user["$email"] == "allison@example.com"', false, {}, { user: {} }],
    ['defined(properties["My Prop"])', true, { "My Prop": "x" }],
    ['defined(properties["My Prop"])', false, {}],
    ['not defined(properties["city"])', false, row],
    ['not defined(properties["city"])', true, {}],
    ['event["$time"] >= datetime("2024-01-01T00:00:00")', true, {}, { time: Date.UTC(2024, 0, 1) }],
    ['event["$time"] >= datetime("2024-01-01T00:00:00")', false, {}, { time: Date.UTC(2023, 11, 31, 23, 59, 59) }],
    ['has_prefix(string(user["signup_date"]), "2016")', true, {}, { user: { signup_date: "2016-05-01T10:00:00" } }],
    ['has_prefix(string(user["signup_date"]), "2016")', undefined, {}, { user: {} }],
    ['number(properties["mp_processing_time_ms"]) < 1700000000000', true, { mp_processing_time_ms: "1600000000000" }],
    ['string(properties["k"], "undefined") == "undefined"', true, {}],
    ['string(properties["k"], "undefined") == "v"', true, { k: "v" }],
    ['properties["plan"] == "pro" AND properties["amount"] > 100', true, row],
    ['properties["plan"] == "free" OR properties["amount"] > 100', true, row],
    ['properties["plan"] = "pro"', true, row],
  ];
  it.each(cases)("%s → %j", (source, expected, properties = {}, extra = {}) => {
    expect(evaluate(source, properties, extra)).toEqual(expected);
  });
});

describe("type and undefined rules (reference §2.3)", () => {
  const cases: Array<[string, Value]> = [
    // arithmetic: numbers only, else undefined; / and % by 0 undefined; % keeps the dividend's sign
    ['properties["amount"] - 50', 100],
    ['properties["amount"] * 2', 300],
    ['properties["amount"] / 4', 37.5],
    ['properties["amount"] / 0', undefined],
    ['properties["amount"] % 0', undefined],
    ["-7 % 3", -1],
    ["7 % -3", 1],
    ['properties["plan"] * 2', undefined],
    ['properties["missing"] - 1', undefined],
    ["1e308 * 10", undefined],
    // + adds numbers, concatenates strings, else undefined
    ["1 + 2", 3],
    ['"a" + "b"', "ab"],
    ['"a" + 1', undefined],
    ['properties["missing"] + "x"', undefined],
    // == is always boolean; different types are never equal; != is its negation
    ['1 == "1"', false],
    ['1 != "1"', true],
    ["true == 1", false],
    ['properties["missing"] == properties["missing2"]', false],
    ['properties["missing"] != "x"', true],
    ['properties["tags"] == ["a", "b", 7]', true],
    ['properties["nul"] == properties["nul"]', true],
    // comparisons: numbers, strings (code-unit order), datetimes; mixed types undefined
    ["2 > 1", true],
    ["2 <= 1", false],
    ['"b" > "a"', true],
    ['"2024-02-01" >= "2024-01-31"', true],
    ['2 > "1"', undefined],
    ['properties["missing"] > 1', undefined],
    ['datetime("2024-01-02") > datetime("2024-01-01")', true],
    // in: substring for strings, membership for lists, else undefined
    ['"ign" in properties["name"]', true],
    ['"xyz" in properties["name"]', false],
    ['"a" in properties["tags"]', true],
    ['7 in properties["tags"]', true],
    ['"7" in properties["tags"]', false],
    ["1 in 12", undefined],
    ['properties["missing"] in "abc"', undefined],
    // and/or: booleans and undefined (= false); other types make the result undefined
    ['properties["missing"] and true', false],
    ['properties["missing"] or true', true],
    ['properties["missing"] or properties["missing"]', false],
    ['"yes" and true', undefined],
    ["1 or false", undefined],
    // not: negates booleans; not undefined is true; others undefined
    ["not true", false],
    ['not properties["missing"]', true],
    ['not "x"', undefined],
    // unary minus: numbers only
    ['-properties["amount"]', -150],
    ['-properties["plan"]', undefined],
    // floor/round/ceil: numbers only; round half away from zero
    ["floor(2.7)", 2],
    ["ceil(2.1)", 3],
    ["round(2.5)", 3],
    ["round(-2.5)", -3],
    ['round("2.5")', undefined],
  ];
  it.each(cases)("%s → %j", (source, expected) => {
    expect(evaluate(source, row)).toEqual(expected);
  });
});

describe("casts (reference §2.3; boolean() and datetime() as decided in docs/reports.md)", () => {
  const cases: Array<[string, Value]> = [
    ['string("x")', "x"],
    ["string(1.5)", "1.5"],
    ["string(2)", "2"],
    ["string(true)", "true"],
    ['string(properties["missing"])', undefined],
    ['string(properties["nul"])', null],
    ['string(properties["tags"])', '["a","b",7]'],
    ['string(datetime("2024-03-04T05:06:07Z"))', "2024-03-04T05:06:07"],
    ['number("12.5")', 12.5],
    ['number(" 3 ")', 3],
    ['number("1e3")', 1000],
    ['number("12abc")', undefined],
    ['number("")', undefined],
    ["number(true)", 1],
    ["number(false)", 0],
    ['number(properties["nul"])', undefined],
    ['number(properties["missing"])', undefined],
    ['number(datetime("1970-01-02T00:00:00Z"))', 86_400],
    ["boolean(true)", true],
    ["boolean(0)", false],
    ["boolean(2)", true],
    ['boolean("")', false],
    ['boolean("false")', true],
    ["boolean([])", false],
    ['boolean(properties["missing"])', undefined],
    ['datetime("2024-02-30")', undefined],
    ['datetime("yesterday")', undefined],
    ["datetime(86400) == datetime(\"1970-01-02T00:00:00Z\")", true],
    ['datetime("2024-01-01T00:00:00+02:00") == datetime("2023-12-31T22:00:00Z")', true],
  ];
  it.each(cases)("%s → %j", (source, expected) => {
    expect(evaluate(source, row)).toEqual(expected);
  });

  it("datetime() without an offset is a wall time in the project's time zone", () => {
    expect(evaluate('datetime("2024-07-01T00:00:00")', {}, {}, paris)).toEqual(new DateTime(Date.UTC(2024, 5, 30, 22)));
    expect(evaluate('datetime("2024-01-01")', {}, {}, paris)).toEqual(new DateTime(Date.UTC(2023, 11, 31, 23)));
    expect(evaluate('datetime("2024-01-01")', {}, {}, utc)).toEqual(new DateTime(Date.UTC(2024, 0, 1)));
  });
});

describe("precedence and syntax", () => {
  const cases: Array<[string, Value]> = [
    ["1 + 2 * 3", 7],
    ["(1 + 2) * 3", 9],
    ["10 - 4 - 3", 3],
    ["2 * 3 % 4", 2],
    ["-2 * 3", -6],
    ["1 + 2 == 3", true],
    ["not 1 == 2", true],
    ["true or false and false", true],
    ["(true or false) and false", false],
    ["not true or true", true],
    ['"a" in "cat" and 1 < 2', true],
    ["1 < 2 == true", true],
    ['TRUE And NOT False', true],
    ["'single' == \"single\"", true],
    ['"tab\\there" == "tab" + "\\t" + "here"', true],
    ['"\\u00e9" == "é"', true],
    ['properties["tags"][1]', "b"],
    ['properties["tags"][9]', undefined],
    ['[1, [2, 3]][1][0]', 2],
    ["[] == []", true],
    [".5 + 0.5", 1],
  ];
  it.each(cases)("%s → %j", (source, expected) => {
    expect(evaluate(source, row)).toEqual(expected);
  });

  it("reads the properties an expression uses, by scope", () => {
    const used = referencedProperties(parseExpression('properties["a"] > 1 and user["b"] == event["$time"] or defined(properties["c"])'));
    expect([...used.properties].sort()).toEqual(["a", "c"]);
    expect([...used.user]).toEqual(["b"]);
    expect([...used.event]).toEqual(["$time"]);
  });
});

describe("parse errors say the column and what was expected", () => {
  const cases: Array<[string, number, RegExp]> = [
    ['properties["a"] ==', 19, /expected a value after "=="/],
    ['properties["a"] == 1 and', 25, /expected a value after "and", found end of expression/],
    ['properties[a] == 1', 12, /expected a quoted property name/],
    ['properties["a" == 1', 16, /expected "\]" after the property name/],
    ["(1 + 2", 7, /expected "\)" to close the parenthesis/],
    ["foo(1)", 1, /unknown name "foo"/],
    ["floor(1, 2)", 1, /floor\(\) takes 1 argument, got 2/],
    ["has_prefix(\"a\")", 1, /has_prefix\(\) takes 2 arguments, got 1/],
    ['"unterminated', 1, /unterminated string/],
    ['"bad \\q escape"', 6, /unknown escape/],
    ["1 2", 3, /unexpected "2"/],
    ["1 # 2", 3, /unexpected "#"/],
    ["12abc", 3, /unexpected "a" after the number/],
    ["", 1, /empty/],
    ["[1, 2", 6, /expected "," or "\]" in the list/],
    ["1e999", 1, /too large/],
  ];
  it.each(cases)("%s → column %i", (source, column, message) => {
    let error: unknown;
    try {
      parseExpression(source);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ParseError);
    expect((error as ParseError).column).toBe(column);
    expect((error as ParseError).message).toMatch(message);
    expect((error as ParseError).message).toMatch(new RegExp(`^column ${column}: `));
  });

  it("bounds length and depth", () => {
    expect(() => parseExpression(`${"(".repeat(65)}1${")".repeat(65)}`)).toThrow(/nests deeper than the limit of 64/);
    expect(() => parseExpression(`${"not ".repeat(100)}true`)).toThrow(ParseError);
    expect(() => parseExpression(`${"-".repeat(100)}1`)).toThrow(ParseError);
    expect(parseExpression(`${"(".repeat(60)}1${")".repeat(60)}`)).toMatchObject({ type: "literal", value: 1 });
    expect(() => parseExpression(`1${" + 1".repeat(3000)}`)).toThrow(/more than the limit of 10000/);
    // A long flat chain is not deep.
    expect(() => parseExpression(`1${" + 1".repeat(2000)}`)).not.toThrow();
    expect(() => parseExpression("1 + 1", { maxLength: 3, maxDepth: 64 })).toThrow(/limit of 3/);
  });
});

describe("properties", () => {
  const vocabulary = [
    'properties["a"]', 'properties["b"]', 'user["c"]', 'event["$time"]', "1", "-2.5", '"x"', "'y'", "true", "false",
    "and", "or", "not", "in", "==", "!=", "=", ">", ">=", "<", "<=", "+", "-", "*", "/", "%", "(", ")", "[", "]", ",",
    "defined(", "boolean(", "number(", "string(", "datetime(", "floor(", "round(", "ceil(", "has_prefix(", "AND", "Or", '"', "\\", "#", "properties", "[\"",
  ];
  const source = fc.oneof(
    fc.string({ maxLength: 60 }),
    fc.array(fc.constantFrom(...vocabulary), { maxLength: 25 }).map((tokens) => tokens.join(" ")),
  );
  const value: fc.Arbitrary<Value> = fc.letrec<{ value: Value }>((tie) => ({
    value: fc.oneof(
      { depthSize: "small" },
      fc.string({ maxLength: 8 }),
      fc.double(),
      fc.integer(),
      fc.boolean(),
      fc.constant(null),
      fc.constant(undefined),
      fc.array(tie("value"), { maxLength: 3 }),
      fc.dictionary(fc.string({ maxLength: 3 }), tie("value"), { maxKeys: 3 }),
    ),
  })).value;
  const row = fc.record({ a: value, b: value, c: value, time: fc.option(fc.integer({ min: 0, max: 4e12 }), { nil: undefined }) });

  it("random text never throws anything but a ParseError", () => {
    fc.assert(
      fc.property(source, (text) => {
        try {
          parseExpression(text);
        } catch (error) {
          if (!(error instanceof ParseError)) throw error;
        }
      }),
      { numRuns: 5_000, seed: 14 },
    );
  });

  // Well-formed expressions, built from the grammar, so that most of them reach the evaluator.
  const wellFormed: fc.Arbitrary<string> = fc.letrec<{ expr: string }>((tie) => ({
    expr: fc.oneof(
      { depthSize: "small", maxDepth: 5 },
      fc.constantFrom('properties["a"]', 'properties["b"]', 'user["c"]', 'event["$time"]', "1", "0", "-2.5", '"x"', '""', "true", "false", "[]"),
      fc.tuple(tie("expr"), fc.constantFrom("and", "or", "==", "!=", ">", ">=", "<", "<=", "in", "+", "-", "*", "/", "%"), tie("expr")).map(([a, op, b]) => `(${a} ${op} ${b})`),
      fc.tuple(fc.constantFrom("not ", "-"), tie("expr")).map(([op, a]) => `${op}(${a})`),
      fc.tuple(fc.constantFrom("defined", "boolean", "number", "string", "datetime", "floor", "round", "ceil"), tie("expr")).map(([f, a]) => `${f}(${a})`),
      fc.tuple(tie("expr"), tie("expr")).map(([a, b]) => `has_prefix(${a}, ${b})`),
      fc.tuple(tie("expr"), tie("expr")).map(([a, b]) => `string(${a}, ${b})`),
      fc.array(tie("expr"), { maxLength: 3 }).map((items) => `[${items.join(", ")}]`),
      fc.tuple(tie("expr"), tie("expr")).map(([a, b]) => `(${a})[${b}]`),
    ),
  })).expr;

  it("a parsed expression never throws on any row (without the evaluator's guard), and answers a value of the language", () => {
    const isValue = (v: Value): boolean =>
      v === undefined || v === null || typeof v === "string" || typeof v === "boolean" || (typeof v === "number" && Number.isFinite(v)) || v instanceof DateTime || typeof v === "object";
    let evaluated = 0;
    fc.assert(
      fc.property(fc.oneof(source, wellFormed, wellFormed), fc.array(row, { minLength: 1, maxLength: 5 }), (text, rows) => {
        let expression;
        try {
          expression = parseExpression(text);
        } catch {
          return;
        }
        const run = compileUnguarded(expression, bindings(paris));
        for (const one of rows) {
          const result = run({ properties: { a: one.a, b: one.b }, user: { c: one.c }, time: one.time });
          expect(isValue(result)).toBe(true);
          evaluated += 1;
        }
      }),
      { numRuns: 5_000, seed: 15 },
    );
    expect(evaluated, "enough random inputs parse to exercise the evaluator").toBeGreaterThan(5_000);
  });
});
