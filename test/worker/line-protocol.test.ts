import { describe, expect, it } from "vitest";
import {
  IntegerValue,
  LineProtocolError,
  NAME_BACKSLASH,
  NAME_NEWLINE,
  escapeKey,
  escapeMeasurement,
  formatFieldValue,
  nanoOffset,
  nanosecondTimestamp,
  quoteStringValue,
  representableName,
  toLine,
} from "../../services/core/line-protocol";
import { influxClient, startTestInflux } from "../harness/services";

// Expected outputs follow InfluxData's models/points_test.go (TestParsePointUnescape, TestNewPointEscaped,
// TestEscapeStringField) and what influxd 1.6.7 reads back (see the round-trip test at the end).

describe("escapeMeasurement", () => {
  it.each([
    ["cpu", "cpu"],
    ["cpu,main", "cpu\\,main"],
    ["cpu load", "cpu\\ load"],
    ["cpu=load", "cpu=load"],
    ['cpu"load', 'cpu"load'],
    ["über 😀", "über\\ 😀"],
    ["a\nb", `a${NAME_NEWLINE}b`],
    ["ends\\", `ends${NAME_BACKSLASH}`],
  ])("%j is written as %j", (name, expected) => {
    expect(escapeMeasurement(name)).toBe(expected);
  });
});

describe("escapeKey (tag keys, tag values, field keys)", () => {
  it.each([
    ["plain", "plain"],
    ["tag,bar", "tag\\,bar"],
    ["tag bar", "tag\\ bar"],
    ["tag=bar", "tag\\=bar"],
    ["a, =b", "a\\,\\ \\=b"],
    ['quo"te', 'quo"te'],
    ["back\\slash", "back\\slash"],
    ["\\\\double", "\\\\double"],
    ["#hash", "#hash"],
    ["tab\there", "tab\there"],
    ["ünïcödé", "ünïcödé"],
    ["emoji 😀", "emoji\\ 😀"],
    ["new\nline", `new${NAME_NEWLINE}line`],
    ["ends with \\", `ends\\ with\\ ${NAME_BACKSLASH}`],
    ["slash\\,comma", `slash${NAME_BACKSLASH}\\,comma`],
    ["slash\\=equals", `slash${NAME_BACKSLASH}\\=equals`],
    ["slash\\ space", `slash${NAME_BACKSLASH}\\ space`],
    ['slash\\"quote', `slash${NAME_BACKSLASH}"quote`],
    ["\\\\,", `\\${NAME_BACKSLASH}\\,`],
  ])("%j is written as %j", (name, expected) => {
    expect(escapeKey(name)).toBe(expected);
  });
});

describe("representableName", () => {
  it.each([
    ["", ""],
    ["plain name", "plain name"],
    ["a\\b", "a\\b"],
    ["line\nfeed\n", `line${NAME_NEWLINE}feed${NAME_NEWLINE}`],
    ["\\", NAME_BACKSLASH],
    ["x\\\n", `x\\${NAME_NEWLINE}`],
    ["carriage\rreturn", "carriage\rreturn"],
  ])("%j -> %j", (name, expected) => {
    expect(representableName(name)).toBe(expected);
  });

  it("leaves names that need no mapping as the same string", () => {
    const name = 'a, b = "c" é 😀 \\d';
    expect(representableName(name)).toBe(name);
  });
});

describe("quoteStringValue", () => {
  it.each([
    ["abcdefg", '"abcdefg"'],
    ['one double quote " .', '"one double quote \\" ."'],
    ['quote " then backslash \\ .', '"quote \\" then backslash \\\\ ."'],
    ['backslash \\ then quote " .', '"backslash \\\\ then quote \\" ."'],
    ["new\nline, comma=equals", '"new\nline, comma=equals"'],
    ["", '""'],
    ["😀", '"😀"'],
  ])("%j -> %j", (value, expected) => {
    expect(quoteStringValue(value)).toBe(expected);
  });
});

describe("formatFieldValue", () => {
  it.each<[string, Parameters<typeof formatFieldValue>[0], string | undefined]>([
    ["a float", 1.5, "1.5"],
    ["a whole number, still a float", 42, "42"],
    ["a negative number", -0.25, "-0.25"],
    ["a huge number", 1e21, "1e+21"],
    ["a tiny number", 5e-7, "5e-7"],
    ["NaN", Number.NaN, undefined],
    ["Infinity", Number.POSITIVE_INFINITY, undefined],
    ["true", true, "true"],
    ["false", false, "false"],
    ["an integer", new IntegerValue(7), "7i"],
    ["a big integer", new IntegerValue(9007199254740993n), "9007199254740993i"],
    ["an unsafe integer number", new IntegerValue(2 ** 60), undefined],
    ["a string", 'say "hi"', '"say \\"hi\\""'],
  ])("%s", (_, value, expected) => {
    expect(formatFieldValue(value)).toBe(expected);
  });
});

describe("toLine", () => {
  it("writes measurement, sorted tags, fields and timestamp", () => {
    expect(toLine({ measurement: "events", tags: { z: "1", event: "Sign up" }, fields: { a: 1, b: "x" }, timestamp: "1700000000123000042" })).toBe(
      'events,event=Sign\\ up,z=1 a=1,b="x" 1700000000123000042',
    );
  });

  it("leaves out tags with an empty value and fields InfluxDB cannot store", () => {
    expect(toLine({ measurement: "m", tags: { empty: "", t: "v" }, fields: { bad: Number.NaN, ok: true, "": 1 } })).toBe("m,t=v ok=true");
  });

  it("puts a field whose key starts with a tab after one that does not (the parser skips leading whitespace)", () => {
    expect(toLine({ measurement: "m", fields: { "\tfirst": 1, second: 2 } })).toBe("m second=2,\tfirst=1");
  });

  it.each<[string, Parameters<typeof toLine>[0]]>([
    ["no fields at all", { measurement: "m", fields: {} }],
    ["only unstorable values", { measurement: "m", fields: { x: Number.NaN } }],
    ["only keys starting with a tab", { measurement: "m", fields: { "\tx": 1 } }],
  ])("returns an error for a point with %s", (_, point) => {
    expect(toLine(point)).toBeInstanceOf(LineProtocolError);
  });
});

describe("timestamps", () => {
  it.each([
    [1700000000123, 0, "1700000000123000000"],
    [1700000000123, 999_999, "1700000000123999999"],
    [1700000000123, 42, "1700000000123000042"],
    [1, 5, "1000005"],
    [0, 5, "5"],
  ])("%d ms + %d ns = %s", (ms, offset, expected) => {
    expect(nanosecondTimestamp(ms, offset)).toBe(expected);
  });

  it.each([
    [1.5, 0],
    [1, -1],
    [1, 1_000_000],
  ])("refuses %d ms + %d ns", (ms, offset) => {
    expect(() => nanosecondTimestamp(ms, offset)).toThrow(RangeError);
  });

  it("derives the same offset from the same insert id, within one millisecond", () => {
    const offsets = ["a", "b", "5d958f87-542d-4c10-9422-0ed75893dc81", "ü😀"].map(nanoOffset);
    expect(offsets).toEqual(["a", "b", "5d958f87-542d-4c10-9422-0ed75893dc81", "ü😀"].map(nanoOffset));
    for (const offset of offsets) expect(offset >= 0 && offset < 1_000_000 && Number.isInteger(offset)).toBe(true);
    expect(new Set(offsets).size).toBe(offsets.length);
  });

  it("spreads 10,000 insert ids over distinct offsets (collisions are rare, not systematic)", () => {
    const offsets = new Set(Array.from({ length: 10_000 }, (_, index) => nanoOffset(`insert-${index}`)));
    // Birthday bound for 10^4 draws from 10^6: ~50 expected collisions; far fewer than that means a spread hash.
    expect(offsets.size).toBeGreaterThan(9_850);
  });
});

describe("round trip through a real influxd", () => {
  // Names built from the characters line protocol is most likely to trip on, in random combinations.
  const alphabet = ["a", "Z", ",", "=", " ", "\\", '"', "\n", "'", "#", "\t", "é", "😀", "=\\", "\\ "];
  function seededNames(seed: number, count: number, maxLength: number): string[] {
    let state = seed;
    const next = () => {
      state = (state * 1103515245 + 12345) & 0x7fffffff;
      return state / 0x7fffffff;
    };
    return Array.from({ length: count }, () => {
      let name = "";
      const length = 1 + Math.floor(next() * maxLength);
      for (let index = 0; index < length; index += 1) name += alphabet[Math.floor(next() * alphabet.length)];
      return name;
    });
  }

  it("reads back 3,000 random tag values, string values and 50 random field keys exactly (names after representableName)", async () => {
    const influx = await startTestInflux();
    const client = influxClient(influx);
    await client.query("CREATE DATABASE lp");
    const tags = seededNames(11, 3000, 8);
    const keyNames = seededNames(12, 50, 8);
    const keys = tags.map((_, index) => keyNames[index % keyNames.length]!);
    const values = seededNames(13, 3000, 16);
    const lines = tags.map((tag, index) => {
      const line = toLine({ measurement: "m", tags: { t: tag }, fields: { n: index, [keys[index]!]: values[index]! }, timestamp: String(1000 + index) });
      if (typeof line !== "string") throw line;
      return line;
    });
    await client.write(lines.join("\n"), { db: "lp" });
    const rows = await client.rows('SELECT * FROM "m"', { db: "lp", epoch: "ns" });
    expect(rows).toHaveLength(3000);
    const mismatches = rows.filter((row) => {
      const index = Number(row.n);
      const key = representableName(keys[index]!);
      return row.time !== 1000 + index || row.t !== representableName(tags[index]!) || (key !== "n" && key !== "t" && row[key] !== values[index]);
    });
    expect(mismatches).toEqual([]);
    const [series] = await client.query('SHOW SERIES FROM "m"', { db: "lp" });
    expect(series?.series?.[0]?.values?.length).toBe(new Set(tags.map(representableName)).size);
    const [fieldKeys] = await client.query('SHOW FIELD KEYS FROM "m"', { db: "lp" });
    const stored = (fieldKeys?.series?.[0]?.values ?? []).map(([key]) => key).sort();
    expect(stored).toEqual([...new Set(["n", ...keyNames.map(representableName)])].sort());
  });
});
