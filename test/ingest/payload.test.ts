import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { parseForm } from "../../services/ingest/form";
import { decodeDataParam, extractPayload, hasWideObject, isBase64, MAX_JSON_CONTAINERS, MAX_JSON_KEYS, MAX_OBJECT_KEYS } from "../../services/ingest/payload";
import { Rejection } from "../../services/ingest/rejection";

const event = { event: "e1", properties: { distinct_id: "u1", x: ">>>???~~~", token: "T" } };
const standard = Buffer.from(JSON.stringify([event])).toString("base64");

describe("decodeDataParam", () => {
  it.each([
    ["standard padded base64", standard, [event]],
    ["the Node SDK's + turned into spaces by form decoding", standard.replace(/\+/g, " "), [event]],
    ["URL-safe base64", standard.replace(/\+/g, "-").replace(/\//g, "_"), [event]],
    ["unpadded base64", standard.replace(/=+$/, ""), [event]],
    ["raw JSON object", JSON.stringify(event), event],
    ["raw JSON array with surrounding whitespace", ` ${JSON.stringify([event])}\n`, [event]],
    ["UTF-8 inside base64", Buffer.from('{"event":"Signup ü>?"}').toString("base64"), { event: "Signup ü>?" }],
  ])("decodes %s", (_name, data, expected) => {
    expect(decodeDataParam(data)).toEqual(expected);
  });

  it.each([
    ["empty", "", "missing_data"],
    ["only spaces", "   ", "missing_data"],
    ["not base64", "not*base64!", "bad_base64"],
    ["base64 of impossible length", "abcde", "bad_base64"],
    ["wrong padding", "ab=c", "bad_base64"],
    ["base64 of invalid UTF-8", Buffer.from([0x7b, 0xff, 0xfe, 0x7d]).toString("base64"), "bad_utf8"],
    ["base64 of truncated JSON", Buffer.from('[{"event":"x"').toString("base64"), "bad_json"],
    ["truncated raw JSON", '{"event":', "bad_json"],
    ["base64 of nothing but spaces", Buffer.from("  ").toString("base64"), "missing_data"],
  ])("refuses %s", (_name, data, reason) => {
    const result = decodeDataParam(data);
    expect(result).toBeInstanceOf(Rejection);
    expect((result as Rejection).reason).toBe(reason);
    expect((result as Rejection).message).toMatch(/^data, /);
  });
});

describe("isBase64", () => {
  it.each([
    ["eyJ9", true],
    ["eyJhIjoxfQ==", true],
    ["eyJhIjoxfQ", true],
    ["a-_b", true],
    ["eyJhIjoxfQ=", false],
    ["e", false],
    ["ab cd", false],
    ["ab==cd", false],
    ["abc def", false],
    ["eyJh\nIjoxfQ==", false],
    ["eyJhIjoxfé==", false],
    ["eyJhIjoxfQ===", false],
    ["====", false],
    ["", false],
  ])("%j is %s", (text, expected) => {
    expect(isBase64(text)).toBe(expected);
  });
});

function source(options: { query?: string; body?: string | Buffer; contentType?: string }) {
  const query = parseForm(options.query ?? "");
  return {
    query: query.values,
    malformedQuery: query.malformed,
    contentType: options.contentType ?? "",
    body: typeof options.body === "string" ? Buffer.from(options.body) : (options.body ?? Buffer.alloc(0)),
  };
}

describe("extractPayload", () => {
  const one = { event: "a", properties: { token: "T" } };
  const two = { event: "b", properties: { token: "T" } };
  it.each([
    ["data in the query (Node GET)", { query: `ip=0&data=${encodeURIComponent(Buffer.from(JSON.stringify(one)).toString("base64"))}` }, [one], "data"],
    ["data in a form body, unencoded (Node POST)", { body: `data=${Buffer.from(JSON.stringify([one, two])).toString("base64")}`, contentType: "application/x-www-form-urlencoded" }, [one, two], "data"],
    ["data in a text/plain body (sendBeacon)", { body: `data=${encodeURIComponent(Buffer.from(JSON.stringify([one])).toString("base64"))}`, contentType: "text/plain;charset=UTF-8" }, [one], "data"],
    ["data in a body without Content-Type", { body: `data=${encodeURIComponent(JSON.stringify([one]))}` }, [one], "data"],
    ["the body wins over the query", { query: `data=${encodeURIComponent(JSON.stringify(two))}`, body: `data=${encodeURIComponent(JSON.stringify(one))}`, contentType: "application/x-www-form-urlencoded" }, [one], "data"],
    ["a JSON array body", { body: JSON.stringify([one, two]), contentType: "application/json" }, [one, two], "body"],
    ["a JSON object body", { body: JSON.stringify(one), contentType: "application/json" }, [one], "body"],
    ["JSON sent as a form (curl -d)", { body: JSON.stringify([one]), contentType: "application/x-www-form-urlencoded" }, [one], "body"],
    ["an NDJSON body", { body: `${JSON.stringify(one)}\n${JSON.stringify(two)}\n`, contentType: "application/x-ndjson" }, [one, two], "body"],
    ["NDJSON without its Content-Type", { body: `${JSON.stringify(one)}\n${JSON.stringify(two)}`, contentType: "application/json" }, [one, two], "body"],
    ["an empty body falls back to the query", { query: `data=${encodeURIComponent(JSON.stringify(one))}`, body: "" }, [one], "data"],
  ])("finds %s", (_name, options, items, from) => {
    const payload = extractPayload(source(options), 2000);
    if (payload instanceof Rejection) throw new Error(payload.message);
    expect(payload.items).toEqual(items);
    expect(payload.source).toBe(from);
    expect(payload.invalidLines.size).toBe(0);
  });

  it("keeps other form fields (verbose in the body) for the reply format", () => {
    const payload = extractPayload(source({ body: `data=${encodeURIComponent(JSON.stringify(one))}&verbose=1` }), 2000);
    expect(payload).not.toBeInstanceOf(Rejection);
    expect((payload as { formFields: Record<string, string> }).formFields.verbose).toBe("1");
  });

  it("parses a body longer than the container limit that holds few containers", () => {
    const long = { event: "a", properties: { token: "t", note: "x".repeat(MAX_JSON_CONTAINERS), list: [{}, [], { a: [1] }] } };
    const payload = extractPayload(source({ body: JSON.stringify([long, long]), contentType: "application/json" }), 2000);
    if (payload instanceof Rejection) throw new Error(payload.message);
    expect(payload.items).toEqual([long, long]);
  });

  it("marks NDJSON lines that do not parse and keeps the others", () => {
    const payload = extractPayload(source({ body: `${JSON.stringify(one)}\n{"event":\n${JSON.stringify(two)}`, contentType: "application/x-ndjson" }), 2000);
    if (payload instanceof Rejection) throw new Error(payload.message);
    expect(payload.items).toEqual([one, undefined, two]);
    expect([...payload.invalidLines.keys()]).toEqual([1]);
  });

  it.each([
    ["no data anywhere", {}, "missing_data", undefined],
    ["an empty array", { query: "data=%5B%5D" }, "missing_data", undefined],
    ["a form body without data", { body: "verbose=1", contentType: "application/x-www-form-urlencoded" }, "missing_data", undefined],
    ["JSON that is a number", { body: "42", contentType: "application/json" }, "not_object", undefined],
    ["JSON that is a string", { query: `data=${encodeURIComponent(Buffer.from('"hello"').toString("base64"))}` }, "not_object", undefined],
    ["JSON null", { query: `data=${encodeURIComponent(Buffer.from("null").toString("base64"))}` }, "not_object", undefined],
    ["a truncated JSON body", { body: '[{"event":"a"}, {"ev', contentType: "application/json" }, "bad_json", undefined],
    ["a body that is not UTF-8", { body: Buffer.from([0x5b, 0xc3, 0x28, 0x5d]), contentType: "application/json" }, "bad_utf8", undefined],
    ["a data field with broken escapes", { body: "data=%E0%A4%A", contentType: "application/x-www-form-urlencoded" }, "bad_encoding", undefined],
    ["a query data with broken escapes", { query: "data=%FF" }, "bad_encoding", undefined],
    ["3 items over a limit of 2", { body: JSON.stringify([one, one, one]), contentType: "application/json" }, "too_many_items", 413],
    ["3 NDJSON lines over a limit of 2", { body: [one, one, one].map((item) => JSON.stringify(item)).join("\n"), contentType: "application/x-ndjson" }, "too_many_items", 413],
    ["a JSON body of more empty arrays than the container limit", { body: `[${"[],".repeat(MAX_JSON_CONTAINERS)}[]]`, contentType: "application/json" }, "too_many_containers", 413],
    ["NDJSON lines of more empty objects than the container limit", { body: "{}\n".repeat(MAX_JSON_CONTAINERS + 1), contentType: "application/x-ndjson" }, "too_many_containers", 413],
    ["a base64 data of more empty objects than the container limit", { query: `data=${encodeURIComponent(Buffer.from(`[${"{},".repeat(MAX_JSON_CONTAINERS)}{}]`).toString("base64"))}` }, "too_many_containers", 413],
    ["a JSON body of more object keys than the key limit", { body: `[${'{"a":1,"b":2,"c":3,"d":4},'.repeat(MAX_JSON_KEYS / 4 + 1)}{}]`, contentType: "application/json" }, "too_many_containers", 413],
    ["a large body with one object of more keys than any item may have", { body: JSON.stringify({ event: "x", properties: Object.fromEntries(Array.from({ length: 20_000 }, (_, i) => [`k${i}`, i])) }), contentType: "application/json" }, "too_many_keys", 413],
    ["a large base64 data with such an object", { query: `data=${encodeURIComponent(Buffer.from(JSON.stringify([{ event: "x", properties: Object.fromEntries(Array.from({ length: 20_000 }, (_, i) => [`k${i}`, i])) }])).toString("base64"))}` }, "too_many_keys", 413],
    ["gzip bytes that were not decompressed", { body: gzipSync("[]"), contentType: "application/json" }, "bad_utf8", undefined],
  ])("refuses %s", (_name, options, reason, status) => {
    const payload = extractPayload(source(options), 2);
    expect(payload).toBeInstanceOf(Rejection);
    expect((payload as Rejection).reason).toBe(reason);
    expect((payload as Rejection).status).toBe(status);
  });
});

describe("hasWideObject", () => {
  it.each([
    ["flat object at the limit", `{${Array.from({ length: 3 }, (_, i) => `"k${i}":1`).join(",")}}`, 3, false],
    ["flat object over the limit", `{${Array.from({ length: 4 }, (_, i) => `"k${i}":1`).join(",")}}`, 3, true],
    ["keys spread over several objects", `[${Array.from({ length: 10 }, (_, i) => `{"a${i}":1,"b":2}`).join(",")}]`, 3, false],
    ["colons, braces and escaped quotes inside strings", `{"a":"x:y:z{}[]\\":1","b":"\\\\","c":"\\"::"}`, 3, false],
    ["a nested object over the limit", `{"p":{"a":1,"b":2,"c":3,"d":4},"q":1}`, 3, true],
    ["the outer object counted apart from a nested one", `{"a":{"x":1,"y":2,"z":3},"b":1,"c":2}`, 3, false],
    ["lists do not count", `[1,2,3,4,5,{"a":1}]`, 3, false],
    ["an unterminated string", `{"a":"never ends`, 3, false],
  ])("%s", (_name, text, limit, wide) => {
    expect(hasWideObject(text, limit)).toBe(wide);
    // The scan reads JSON as JSON.parse does: check the fixtures are what they claim.
    if (!text.includes("never ends")) expect(() => JSON.parse(text)).not.toThrow();
  });

  it("lets a large batch of ordinary events through", () => {
    const events = Array.from({ length: 1500 }, (_, i) => ({ event: "view", properties: { token: "t", distinct_id: `u${i}`, url: `https://x.example/?a="b"&c=${i}`, n: i } }));
    expect(hasWideObject(JSON.stringify(events), MAX_OBJECT_KEYS)).toBe(false);
  });
});
