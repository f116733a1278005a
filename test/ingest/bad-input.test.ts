import { connect } from "node:net";
import { gzipSync } from "node:zlib";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import type { ManagedProcess } from "../../services/dev/processes";
import type { EventItem } from "../../services/core/queue";
import { redisClient, startTestRedis } from "../harness/services";
import { b64, lastId, readStreamAfter, send, startIngestProcess, SECRET, TOKEN, type RawResponse, type Redis } from "./support";

/**
 * Bad input against `mixstack ingest` running as its own process: each case gets its documented
 * status and body (docs/ingest.md), nothing of it reaches the stream, and the process is still the
 * same one, answering, afterwards.
 */

const MAX_BODY = 1024 * 1024;
let ingest: { process: ManagedProcess; url: string; metricsUrl: string };
let client: Redis;
let pid: number | undefined;

beforeAll(async () => {
  const redis = await startTestRedis();
  client = await redisClient(redis.url);
  // Every hostile body comes from this one address, one after the other: the per-address budget
  // would answer 429 to most of them (it has tests of its own, test/ingest/client-budget.test.ts).
  ingest = await startIngestProcess(redis.url, {
    MIXSTACK_MAX_BODY_BYTES: String(MAX_BODY),
    MIXSTACK_MAX_IMPORT_BODY_BYTES: String(MAX_BODY),
    MIXSTACK_CLIENT_MS_PER_SECOND: "0",
  });
  pid = ingest.process.pid;
});

afterEach(async () => {
  // The process survived and still accepts a valid event.
  expect(ingest.process.running).toBe(true);
  expect(ingest.process.pid).toBe(pid);
  const response = await send(`${ingest.url}/track?data=${encodeURIComponent(b64({ event: "alive", properties: { token: TOKEN } }))}`);
  expect(response.text).toBe("1");
});

const form = { "Content-Type": "application/x-www-form-urlencoded" };
const basicSecret = (secret: string) => `Basic ${Buffer.from(`${secret}:`).toString("base64")}`;

function deep(levels: number): unknown {
  let value: unknown = 1;
  for (let level = 0; level < levels; level++) value = { n: value };
  return value;
}

interface BadCase {
  name: string;
  path: string;
  method?: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  status: number;
  /** Exact body, or a pattern for texts that quote a parser message. */
  reply: string | RegExp;
}

const bad: BadCase[] = [
  { name: "malformed base64", path: "/track?verbose=1&data=%25%25not*base64!", status: 200, reply: '{"error":"data, neither JSON nor valid base64","status":0}' },
  { name: "malformed base64, plain", path: "/track?data=abc*def", status: 200, reply: "0" },
  { name: "invalid UTF-8 in a JSON body", path: "/track?verbose=1", headers: { "Content-Type": "application/json" }, body: Buffer.from([0x5b, 0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d, 0x5d]), status: 200, reply: '{"error":"body, not valid UTF-8","status":0}' },
  { name: "invalid UTF-8 inside base64", path: `/track?verbose=1&data=${encodeURIComponent(Buffer.from([0x7b, 0xc3, 0x28, 0x7d]).toString("base64"))}`, status: 200, reply: '{"error":"data, decoded base64 is not valid UTF-8","status":0}' },
  { name: "invalid UTF-8 in a percent-encoded field", path: "/track?verbose=1", headers: form, body: "data=%7B%FF%7D", status: 200, reply: '{"error":"data, invalid percent-encoding or not UTF-8","status":0}' },
  { name: "truncated JSON", path: `/track?verbose=1&data=${encodeURIComponent(b64([{ event: "e", properties: { token: TOKEN } }]).slice(0, 30))}`, status: 200, reply: /^\{"error":"data, (not valid JSON|neither JSON nor valid base64)/ },
  { name: "truncated raw JSON body", path: "/track?verbose=1", headers: { "Content-Type": "application/json" }, body: '[{"event":"e","properties":{"token":', status: 200, reply: /^\{"error":"body, not valid JSON \(.+\)","status":0\}$/ },
  { name: "JSON that is a number", path: `/track?verbose=1&data=${b64(42)}`, status: 200, reply: '{"error":"data, expected an object or an array of objects, got number","status":0}' },
  { name: "JSON that is a string", path: `/track?verbose=1&data=${b64("hello")}`, status: 200, reply: '{"error":"data, expected an object or an array of objects, got string","status":0}' },
  { name: "a list of numbers", path: `/track?verbose=1&data=${b64([1, 2])}`, status: 200, reply: '{"error":"item 0: an event must be an object with \\"event\\" and \\"properties\\"","status":0}' },
  { name: "2001 events", path: "/track?verbose=1", headers: { "Content-Type": "application/json" }, body: JSON.stringify(Array.from({ length: 2001 }, () => ({ event: "e", properties: { token: TOKEN } }))), status: 413, reply: '{"error":"request has 2001 items, more than the limit of 2000","status":0}' },
  { name: "an oversized body", path: "/track", headers: form, body: `data=${"A".repeat(MAX_BODY + 1)}`, status: 413, reply: "0" },
  { name: "an oversized body on strict /import", path: "/import?strict=1", headers: { "Content-Type": "application/json", Authorization: basicSecret(SECRET) }, body: `[${"1,".repeat(MAX_BODY)}1]`, status: 413, reply: `{"code":413,"error":"request exceeds max limit of ${MAX_BODY} bytes","status":"Request Entity Too Large","num_records_imported":0}` },
  { name: "a JSON bomb: 900 KB of empty arrays in 2 KB of gzip", path: "/track?verbose=1", headers: { "Content-Type": "application/json", "Content-Encoding": "gzip" }, body: gzipSync(`[${"[],".repeat(300_000)}{"properties":{"token":"${TOKEN}"}}]`, { level: 9 }), status: 413, reply: '{"error":"body, holds more than 200000 JSON objects and arrays","status":0}' },
  { name: "a gzip bomb (100 MB of zeros in 100 KB)", path: "/track?verbose=1", headers: { "Content-Type": "application/json", "Content-Encoding": "gzip" }, body: gzipSync(Buffer.alloc(100 * 1024 * 1024), { level: 9 }), status: 413, reply: `{"error":"decompressed request exceeds max limit of ${MAX_BODY} bytes","status":0}` },
  { name: "gzip that is not gzip", path: "/track?verbose=1", headers: { "Content-Type": "application/json", "Content-Encoding": "gzip" }, body: "not gzip at all", status: 200, reply: '{"error":"body, not valid gzip data","status":0}' },
  { name: "an unsupported Content-Encoding", path: "/track?verbose=1", headers: { "Content-Type": "application/json", "Content-Encoding": "br" }, body: "xx", status: 415, reply: '{"error":"Content-Encoding, \\"br\\" is not supported (use gzip)","status":0}' },
  {
    name: "deep nesting (100,000 levels)",
    path: "/track?verbose=1",
    headers: { "Content-Type": "application/json" },
    body: `{"event":"e","properties":{"token":"${TOKEN}","a":${'{"n":'.repeat(100_000)}1${"}".repeat(100_000)}}}`,
    status: 200,
    reply: '{"error":"properties.a.n.n, nested deeper than 3 levels","status":0}',
  },
  {
    // Serialising the time for the message once threw (stack overflow): a 500 that lost the whole batch.
    name: "a time nested 100,000 levels deep",
    path: "/track?verbose=1",
    headers: { "Content-Type": "application/json" },
    body: `{"event":"e","properties":{"token":"${TOKEN}","time":${'{"n":'.repeat(100_000)}1${"}".repeat(100_000)}}}`,
    status: 200,
    reply: '{"error":"properties.time, not a time in seconds or milliseconds: an object","status":0}',
  },
  // These two once froze the process for hours in a backtracking regular expression (the test then times out).
  { name: "a time of 900,000 digits and a letter", path: "/track?verbose=1", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ event: "e", properties: { token: TOKEN, time: `${"1".repeat(900_000)}x` } }), status: 200, reply: `{"error":"properties.time, not a time in seconds or milliseconds: \\"${"1".repeat(60)}…\\"","status":0}` },
  { name: "a JSON body of a letter and 900,000 newlines", path: "/track?verbose=1", headers: { "Content-Type": "application/json" }, body: `x${"\n".repeat(900_000)}"${TOKEN}"x`, status: 200, reply: /^\{"error":"body, not valid JSON \(.+\)","status":0\}$/ },
  // A large payload that names no project token is refused before it is parsed (its items would all be).
  { name: "900 KB of JSON without any project token", path: "/track?verbose=1", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ event: "e", properties: { token: "NOT-OURS", pad: "x".repeat(900_000) } }), status: 200, reply: '{"error":"token (body), names no project token of this server","status":0}' },
  { name: "200 KB of base64 data without any project token", path: "/engage?verbose=1", headers: form, body: `data=${encodeURIComponent(b64(Array.from({ length: 2000 }, (_, i) => ({ $token: "NOT-OURS", $distinct_id: `u${i}`, $set: { a: "x".repeat(60) } }))))}`, status: 200, reply: '{"error":"token (data), names no project token of this server","status":0}' },
  { name: "a property named like a type-changed field", path: `/track?verbose=1&data=${b64({ event: "e", properties: { token: TOKEN, "plan:float": 1 } })}`, status: 200, reply: '{"error":"properties.plan:float, ends in \\":float\\", which is reserved for properties whose type changed","status":0}' },
  { name: "thousands of properties", path: "/track?verbose=1", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ event: "e", properties: { token: TOKEN, ...Object.fromEntries(Array.from({ length: 5000 }, (_, i) => [`p${i}`, i])) } }), status: 200, reply: '{"error":"properties, more than 255 properties","status":0}' },
  { name: "a non-string event name", path: `/track?verbose=1&data=${b64({ event: 12, properties: { token: TOKEN } })}`, status: 200, reply: '{"error":"event, must be a string, got number","status":0}' },
  { name: "an event name that is an object", path: `/track?verbose=1&data=${b64({ event: { toString: "x" }, properties: { token: TOKEN } })}`, status: 200, reply: '{"error":"event, must be a string, got object","status":0}' },
  { name: "a missing token", path: `/track?verbose=1&data=${b64({ event: "e", properties: {} })}`, status: 200, reply: '{"error":"token, missing or empty","status":0}' },
  { name: "a wrong token", path: `/track?verbose=1&data=${b64({ event: "e", properties: { token: "NOT-OURS" } })}`, status: 200, reply: '{"error":"token, is not a project token of this server","status":0}' },
  { name: "a wrong token on /engage", path: `/engage?verbose=1&data=${b64({ $token: "NOT-OURS", $distinct_id: "u", $set: { a: 1 } })}`, status: 200, reply: '{"error":"$token, is not a project token of this server","status":0}' },
  { name: "a wrong secret (legacy /import)", path: `/import?data=${b64({ event: "e", properties: { time: 1600000000, token: TOKEN } })}`, headers: { Authorization: basicSecret("WRONG") }, status: 401, reply: "0" },
  { name: "a wrong secret (strict /import)", path: "/import?strict=1", headers: { "Content-Type": "application/json", Authorization: basicSecret("WRONG") }, body: "[]", status: 401, reply: '{"code":401,"error":"Invalid credentials","status":"Unauthorized","num_records_imported":0}' },
  { name: "no credentials on /import", path: `/import?verbose=1&data=${b64({ event: "e", properties: { time: 1600000000, token: TOKEN } })}`, status: 401, reply: '{"error":"Invalid credentials","status":0}' },
  { name: "a PUT", path: "/track", method: "PUT", body: "x", status: 405, reply: '{"error":"method PUT not allowed","status":0}' },
  { name: "a HEAD with data (would write without a visible reply)", path: `/track?data=${b64({ event: "e", properties: { token: TOKEN } })}`, method: "HEAD", status: 405, reply: "" },
  { name: "an unknown path", path: "/nope", status: 404, reply: '{"error":"not found","status":0}' },
  { name: "a script as JSONP callback (ignored)", path: `/track?callback=${encodeURIComponent("alert(1)//")}&data=${b64({ event: "e", properties: {} })}`, status: 200, reply: "0" },
];

describe("bad input", () => {
  it.each(bad.map((item) => [item.name, item] as const))("%s: documented status and body, nothing queued, process up", async (_name, item) => {
    const before = await lastId(client);
    const response = await send(`${ingest.url}${item.path}`, { method: item.method, headers: item.headers, body: item.body });
    expect(response.status).toBe(item.status);
    if (typeof item.reply === "string") expect(response.text).toBe(item.reply);
    else expect(response.text).toMatch(item.reply);
    expect(await readStreamAfter(client, before)).toEqual([]);
  });

  it("a 100 KB URL under the 256 KB header limit is accepted", async () => {
    const data = b64({ event: "long url", properties: { token: TOKEN, filler: "y".repeat(70_000) } });
    const path = `/track?data=${encodeURIComponent(data)}`;
    expect(path.length).toBeGreaterThan(90_000);
    const response = await send(`${ingest.url}${path}`);
    expect(response.status).toBe(200);
    expect(response.text).toBe("1");
  });

  it("a URL over the header limit is answered 431 without reaching the handler", async () => {
    const response = await send(`${ingest.url}/track?data=${"z".repeat(300 * 1024)}`);
    expect(response.status).toBe(431);
    expect(response.text).toBe("request line and headers exceed the limit of 262144 bytes");
  });

  it("malformed HTTP is answered 400 and the connection closed", async () => {
    const port = Number(new URL(ingest.url).port);
    const reply = await new Promise<string>((resolve, reject) => {
      const socket = connect({ port, host: "127.0.0.1" }, () => socket.write("GET /track HTTP/1.1\r\nHost: x\r\nContent-Length: nope\r\n\r\n"));
      let text = "";
      socket.on("data", (chunk) => (text += chunk.toString()));
      socket.on("end", () => resolve(text));
      socket.on("error", reject);
    });
    expect(reply).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
  });

  it("keys that reach a prototype are dropped and control characters cleaned; the event is kept", async () => {
    const before = await lastId(client);
    const raw = `{"event":"Sign\\nup\\u0000","properties":{"token":"${TOKEN}","__proto__":{"polluted":1},"constructor":{"prototype":{"x":1}},"a\\tb\\r\\nc":"v\\nkept","ok":1}}`;
    const response = await send(`${ingest.url}/track`, { headers: { "Content-Type": "application/json" }, body: raw });
    expect(response.text).toBe("1");
    const [{ entry }] = await readStreamAfter(client, before);
    const [item] = entry!.items as EventItem[];
    expect(item!.event).toBe("Sign up");
    expect(item!.properties).toEqual({ "a b  c": "v\nkept", ok: 1 });
  });

  it("keeps the valid events of a batch that mixes them with every kind of bad event", async () => {
    const before = await lastId(client);
    const valid = (n: number) => ({ event: `valid ${n}`, properties: { token: TOKEN, distinct_id: `u${n}` } });
    const batch = [
      valid(1),
      "not an object",
      { event: 42, properties: { token: TOKEN } },
      { event: "no token", properties: {} },
      valid(2),
      { event: "wrong token", properties: { token: "NOT-OURS" } },
      { event: "deep", properties: { token: TOKEN, a: deep(10) } },
      { event: "wide", properties: { token: TOKEN, ...Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`p${i}`, i])) } },
      { event: "bad time", properties: { token: TOKEN, time: "yesterday" } },
      { event: "ignored", properties: { token: TOKEN, $ignore: true } },
      valid(3),
    ];
    const response: RawResponse = await send(`${ingest.url}/track?verbose=1`, { headers: form, body: `data=${encodeURIComponent(b64(batch))}` });
    expect(response.text).toBe('{"error":null,"status":1}');
    const entries = await readStreamAfter(client, before);
    expect(entries).toHaveLength(1);
    expect((entries[0]!.entry.items as EventItem[]).map((item) => item.event)).toEqual(["valid 1", "valid 2", "valid 3"]);
  });

  it("keeps the valid event of a batch whose other event has a time nested 100,000 levels deep", async () => {
    const before = await lastId(client);
    const deepTime = `{"event":"deep time","properties":{"token":"${TOKEN}","time":${"[".repeat(100_000)}${"]".repeat(100_000)}}}`;
    const body = `[${JSON.stringify({ event: "valid", properties: { token: TOKEN } })},${deepTime}]`;
    const response = await send(`${ingest.url}/track?verbose=1`, { headers: { "Content-Type": "application/json" }, body });
    expect([response.status, response.text]).toEqual([200, '{"error":null,"status":1}']);
    const entries = await readStreamAfter(client, before);
    expect(entries.flatMap(({ entry }) => (entry.items as EventItem[]).map((item) => item.event))).toEqual(["valid"]);
  });

  it("counts every refusal by reason in /metrics (on the private metrics port)", async () => {
    const metrics = await (await fetch(`${ingest.metricsUrl}/metrics`)).text();
    for (const reason of ["bad_base64", "bad_utf8", "bad_json", "not_object", "too_many_items", "too_many_containers", "body_too_large", "too_deep", "too_many_properties", "bad_event_name", "missing_token", "unknown_token", "invalid_credentials", "reserved_name"]) {
      expect(metrics).toMatch(new RegExp(`mixstack_ingest_events_rejected_total\\{route="(track|engage|import)",reason="${reason}"\\} [1-9]`));
    }
  });
});
