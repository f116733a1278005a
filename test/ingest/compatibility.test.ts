import { gzipSync } from "node:zlib";
import { beforeAll, describe, expect, it } from "vitest";
import type { EventItem, GroupUpdate, ProfileUpdate } from "../../services/core/queue";
import type { RunningIngest } from "../../services/ingest/service";
import { redisClient, startTestRedis } from "../harness/services";
import {
  b64,
  lastId,
  makeTestCertificate,
  readStreamAfter,
  send,
  FIXED_DATES,
  startIngestStack,
  startTestIngest,
  SECRET,
  TOKEN,
  type Redis,
} from "./support";
import { CASE_8_PROFILE_STEPS } from "../harness/reference-cases";

/**
 * The compatibility cases of the reference (mixpanel-ingestion-api.md §6), one test each, against
 * a real redis-server. "Stored" in the reference means written by the worker; here each case checks
 * what ingest answers and exactly what it puts on the stream for the worker.
 */

let url: string;
let client: Redis;

beforeAll(async () => {
  const stack = await startIngestStack(FIXED_DATES);
  url = stack.url;
  client = stack.client;
});

/** Sends, then returns the reply and the stream entries the request added. */
async function exchange(path: string, options: Parameters<typeof send>[1] = {}) {
  const before = await lastId(client);
  const response = await send(`${url}${path}`, options);
  const entries = await readStreamAfter(client, before);
  return { response, entries };
}

const form = { "Content-Type": "application/x-www-form-urlencoded" };
const origin = "https://app.example.com";

function browserEvent(name: string, extra: Record<string, unknown> = {}) {
  return {
    event: name,
    properties: {
      $os: "Linux",
      $browser: "Chrome",
      $current_url: "https://app.example.com/page?utm_source=x",
      $browser_version: 126,
      mp_lib: "web",
      $lib_version: "2.83.0",
      $insert_id: `ins${name.replace(/\W/g, "")}`,
      time: 1795417512.85,
      distinct_id: "$device:91251de8-9185-4df7-a2c4-4ac6c21fd382",
      $device_id: "91251de8-9185-4df7-a2c4-4ac6c21fd382",
      token: TOKEN,
      mp_sent_by_lib_version: "2.83.0",
      ...extra,
    },
  };
}

describe("§6 compatibility cases", () => {
  it("1. Node single track (GET, query data) is answered exactly 1 and queued normalised", async () => {
    const data = b64({ event: "Signup", properties: { distinct_id: "u1", time: 1700000000123, token: TOKEN, mp_lib: "node", $lib_version: "0.21.0" } });
    const { response, entries } = await exchange(`/track?ip=0&verbose=0&data=${encodeURIComponent(data)}`);
    expect(response.status).toBe(200);
    expect(response.headers["content-type"]).toMatch(/^text\/plain/);
    expect(response.text).toBe("1");
    expect(entries).toHaveLength(1);
    expect(entries[0]!.entry.kind).toBe("track");
    expect(entries[0]!.entry.items).toEqual([
      {
        event: "Signup",
        time: 1700000000123,
        insertId: expect.stringMatching(/^[0-9a-f]{32}$/),
        distinctId: "u1",
        properties: { mp_lib: "node", $lib_version: "0.21.0" },
      },
    ]);
  });

  it("2. Node track_batch with a raw + in the unencoded body keeps x = \">>>???~~~\"", async () => {
    const body = "data=W3siZXZlbnQiOiJlMSIsInByb3BlcnRpZXMiOnsiZGlzdGluY3RfaWQiOiJ1MSIsIngiOiI+Pj4/Pz9+fn4iLCJ0b2tlbiI6IlRPS0VOMTIzIn19XQ==";
    const { response, entries } = await exchange("/track?ip=0&verbose=0", { headers: form, body });
    expect(response.text).toBe("1");
    const [item] = entries[0]!.entry.items as EventItem[];
    expect(item).toMatchObject({ event: "e1", distinctId: "u1", properties: { x: ">>>???~~~" } });
  });

  it("3. browser batch (base64, CORS with credentials) gets verbose JSON and ms timestamps", async () => {
    const body = `data=${encodeURIComponent(b64([browserEvent("e1"), browserEvent("e2")]))}`;
    const { response, entries } = await exchange("/track/?verbose=1&ip=1&_=1795417512851", { headers: { ...form, Origin: origin }, body });
    expect(response.status).toBe(200);
    expect(response.headers["content-type"]).toBe("application/json");
    expect(response.text).toBe('{"error":null,"status":1}');
    expect(response.headers["access-control-allow-origin"]).toBe(origin);
    expect(response.headers["access-control-allow-credentials"]).toBe("true");
    // The reply depends on the origin: caches in between must not hand it to another site.
    expect(response.headers.vary).toBe("Origin");
    const items = entries[0]!.entry.items as EventItem[];
    expect(items.map((item) => [item.event, item.time, item.insertId])).toEqual([
      ["e1", 1795417512850, "inse1"],
      ["e2", 1795417512850, "inse2"],
    ]);
    expect(items[0]!.properties.mp_sent_by_lib_version).toBe("2.83.0");
    expect(items[0]!.properties.token).toBeUndefined();
  });

  it("4. browser JSON payload format gives the same result", async () => {
    const body = `data=${encodeURIComponent(JSON.stringify([browserEvent("e1")]))}`;
    const { response, entries } = await exchange("/track/?verbose=1&ip=1&_=1795417512851", { headers: { ...form, Origin: origin }, body });
    expect(response.text).toBe('{"error":null,"status":1}');
    expect(response.headers["access-control-allow-origin"]).toBe(origin);
    expect((entries[0]!.entry.items as EventItem[]).map((item) => [item.event, item.time])).toEqual([["e1", 1795417512850]]);
  });

  it("5. sendBeacon's text/plain body is parsed", async () => {
    const body = `data=${encodeURIComponent(b64([browserEvent("beacon")]))}`;
    const { response, entries } = await exchange("/track/?verbose=1&ip=1&_=1", { headers: { "Content-Type": "text/plain;charset=UTF-8", Origin: origin }, body });
    expect(response.status).toBe(200);
    expect(response.text).toBe('{"error":null,"status":1}');
    expect((entries[0]!.entry.items as EventItem[])[0]!.event).toBe("beacon");
  });

  it("6. the same batch sent twice is accepted twice with the same insert ids (the worker stores it once)", async () => {
    const body = `data=${encodeURIComponent(b64([browserEvent("e1"), browserEvent("e2")]))}`;
    const first = await exchange("/track/?verbose=1&ip=1", { headers: { ...form, Origin: origin }, body });
    const second = await exchange("/track/?verbose=1&ip=1", { headers: { "Content-Type": "text/plain;charset=UTF-8", Origin: origin }, body });
    expect(first.response.text).toBe('{"error":null,"status":1}');
    expect(second.response.text).toBe('{"error":null,"status":1}');
    const key = (item: EventItem) => [item.event, item.time, item.distinctId, item.insertId].join("|");
    expect((second.entries[0]!.entry.items as EventItem[]).map(key)).toEqual((first.entries[0]!.entry.items as EventItem[]).map(key));
    // The Node SDK sends no $insert_id: the generated ones must match across re-sends too.
    const node = b64({ event: "Signup", properties: { distinct_id: "u1", time: 1700000000123, token: TOKEN } });
    const a = await exchange(`/track?ip=0&verbose=0&data=${encodeURIComponent(node)}`);
    const b = await exchange(`/track?ip=0&verbose=0&data=${encodeURIComponent(node)}`);
    expect((a.entries[0]!.entry.items as EventItem[])[0]!.insertId).toBe((b.entries[0]!.entry.items as EventItem[])[0]!.insertId);
  });

  it("7. missing data and missing token give status 0; the valid event of a mixed batch is kept", async () => {
    const empty = await exchange("/track/?verbose=1", { headers: form, body: "" });
    expect(empty.response.status).toBe(200);
    expect(JSON.parse(empty.response.text)).toEqual({ status: 0, error: "data, missing or empty" });
    expect(empty.entries).toEqual([]);

    const plain = await exchange("/track/", { headers: form, body: "" });
    expect(plain.response.text).toBe("0");

    const tokenless = await exchange(`/track/?verbose=1&data=${encodeURIComponent(b64({ event: "e", properties: { distinct_id: "u1" } }))}`);
    expect(JSON.parse(tokenless.response.text)).toEqual({ status: 0, error: "token, missing or empty" });
    expect(tokenless.entries).toEqual([]);

    const mixed = await exchange("/track/", {
      headers: form,
      body: `data=${encodeURIComponent(b64([{ event: "valid", properties: { token: TOKEN } }, { event: "tokenless", properties: {} }]))}`,
    });
    expect(mixed.response.text).toBe("1");
    expect((mixed.entries[0]!.entry.items as EventItem[]).map((item) => item.event)).toEqual(["valid"]);
  });

  it("8. profile operations in order each get status 1 and reach the stream as sent", async () => {
    const updates = [...CASE_8_PROFILE_STEPS, { $delete: "u1" }, { $delete: "" }];
    const queued: ProfileUpdate[] = [];
    for (const update of updates) {
      const { response, entries } = await exchange(`/engage?ip=0&verbose=1&data=${encodeURIComponent(b64({ $token: TOKEN, $distinct_id: "u1", ...update }))}`);
      expect(response.text).toBe('{"error":null,"status":1}');
      expect(entries.map(({ entry }) => entry.kind)).toEqual(["engage"]);
      queued.push(...(entries[0]!.entry.items as ProfileUpdate[]));
    }
    expect(queued.map((update) => update.distinctId)).toEqual(updates.map(() => "u1"));
    expect(queued.map((update) => update.ops)).toEqual([
      ...CASE_8_PROFILE_STEPS,
      { $delete: true },
      { $delete: true },
    ]);
  });

  it("9. an engage update without $distinct_id gets status 0 and nothing is queued", async () => {
    const { response, entries } = await exchange("/engage/?verbose=1", { headers: form, body: `data=${encodeURIComponent(b64([{ $token: TOKEN, $set: { x: 1 } }]))}` });
    expect(response.status).toBe(200);
    const reply = JSON.parse(response.text);
    expect(reply.status).toBe(0);
    expect(reply.error).toMatch(/\$distinct_id, missing or empty/);
    expect(entries).toEqual([]);
  });

  it("10. a browser engage batch with nulls, date strings and identity extras is accepted", async () => {
    const extras = { $token: TOKEN, $distinct_id: "U1", $device_id: "D1", $user_id: "U1" };
    const batch = [
      { ...extras, $set: { plan: "pro", when: "2024-01-02T03:04:05" } },
      { ...extras, $add: { logins: 1 } },
      { ...extras, $union: { tags: ["a"] } },
      { ...extras, $set_once: { $initial_referrer: "$direct", initial_utm_medium: null } },
    ];
    const { response, entries } = await exchange("/engage/?verbose=1&ip=1", { headers: { ...form, Origin: origin }, body: `data=${encodeURIComponent(b64(batch))}` });
    expect(response.text).toBe('{"error":null,"status":1}');
    const items = entries[0]!.entry.items as ProfileUpdate[];
    expect(items.map((item) => item.ops)).toEqual([
      { $set: { plan: "pro", when: "2024-01-02T03:04:05" } },
      { $add: { logins: 1 } },
      { $union: { tags: ["a"] } },
      { $set_once: { $initial_referrer: "$direct", initial_utm_medium: null } },
    ]);
    expect(JSON.stringify(items)).not.toMatch(/\$device_id|\$user_id/);
  });

  it("11. a group $set is answered 1 and queued; $append on a group gets 0", async () => {
    const set = await exchange(`/groups?ip=0&verbose=0&data=${encodeURIComponent(b64({ $token: TOKEN, $group_key: "company", $group_id: "Acme", $set: { Industry: "x" } }))}`);
    expect(set.response.text).toBe("1");
    expect(set.entries[0]!.entry.kind).toBe("groups");
    expect(set.entries[0]!.entry.items as GroupUpdate[]).toEqual([
      { groupKey: "company", groupId: "Acme", time: expect.any(Number), ignoreTime: false, ops: { $set: { Industry: "x" } } },
    ]);
    const append = await exchange(`/groups?ip=0&verbose=0&data=${encodeURIComponent(b64({ $token: TOKEN, $group_key: "company", $group_id: "Acme", $append: { a: 1 } }))}`);
    expect(append.response.text).toBe("0");
    expect(append.entries).toEqual([]);
  });

  describe("12. /import as the Node SDK does it, over HTTPS", () => {
    let httpsUrl: string;
    let ca: Buffer;
    let tls: RunningIngest;

    beforeAll(async () => {
      const certificate = makeTestCertificate();
      ca = certificate.cert;
      const redis = await startTestRedis();
      tls = await startTestIngest(redis.url, { ...FIXED_DATES, MIXSTACK_TLS_CERT_FILE: certificate.certFile, MIXSTACK_TLS_KEY_FILE: certificate.keyFile });
      httpsUrl = tls.url.replace("127.0.0.1", "localhost");
      // Re-point the stream reader at this instance's Redis for these cases.
      client = await redisClient(redis.url);
    });

    const auth = (secret: string) => ({ Authorization: `Basic ${Buffer.from(`${secret}:`).toString("base64")}` });

    it("an old event with the API secret is answered 1 and keeps its 2020 time", async () => {
      const before = await lastId(client);
      const data = b64({ event: "old", properties: { distinct_id: "u1", time: 1600000000000, token: TOKEN } });
      const response = await send(`${httpsUrl}/import?ip=0&verbose=0&data=${encodeURIComponent(data)}&test=1`, { headers: auth(SECRET), ca });
      expect(response.status).toBe(200);
      expect(response.text).toBe("1");
      const entries = await readStreamAfter(client, before);
      expect(entries[0]!.entry.kind).toBe("import");
      expect(entries[0]!.entry.items as EventItem[]).toEqual([expect.objectContaining({ event: "old", time: 1600000000000, distinctId: "u1" })]);
    });

    it("a wrong secret is answered 401 with 0 and nothing is queued", async () => {
      const before = await lastId(client);
      const data = b64({ event: "old", properties: { distinct_id: "u1", time: 1600000000000, token: TOKEN } });
      const response = await send(`${httpsUrl}/import?ip=0&verbose=0&data=${encodeURIComponent(data)}`, { headers: auth("WRONG"), ca });
      expect(response.status).toBe(401);
      expect(response.text).toBe("0");
      expect(await readStreamAfter(client, before)).toEqual([]);
    });

    it("import_batch of 120 events as 3 POSTs of 50/50/20 is answered 1 each", async () => {
      const before = await lastId(client);
      const events = Array.from({ length: 120 }, (_, index) => ({ event: "batch", properties: { distinct_id: `u${index}`, time: 1600000000000 + index, token: TOKEN } }));
      for (const chunk of [events.slice(0, 50), events.slice(50, 100), events.slice(100)]) {
        const response = await send(`${httpsUrl}/import?ip=0&verbose=0&test=1`, { headers: { ...form, ...auth(SECRET) }, body: `data=${b64(chunk)}`, ca });
        expect(response.text).toBe("1");
      }
      const entries = await readStreamAfter(client, before);
      expect(entries.map(({ entry }) => entry.items.length)).toEqual([50, 50, 20]);
    });
  });
});

describe("§6 compatibility cases (continued)", () => {
  beforeAll(async () => {
    // Case 13 sends the project token as /import credentials, as Mixpanel allows (off by default here).
    const stack = await startIngestStack({ ...FIXED_DATES, MIXSTACK_IMPORT_TOKEN_AUTH: "true" });
    url = stack.url;
    client = stack.client;
  });

  it("13. strict /import with gzip NDJSON imports the valid row and lists the two failures", async () => {
    const valid = { event: "ok", properties: { time: Date.now() - 60_000, distinct_id: "u1", $insert_id: "a1", token: TOKEN } };
    const old = { event: "old", properties: { time: 1000, distinct_id: "u1", $insert_id: "a2", token: TOKEN } };
    const placeholder = { event: "anon", properties: { time: Date.now() - 60_000, distinct_id: "null", $insert_id: "a3", token: TOKEN } };
    const body = gzipSync([valid, old, placeholder].map((line) => JSON.stringify(line)).join("\n"));
    const { response, entries } = await exchange("/import?strict=1", {
      headers: { Authorization: `Basic ${Buffer.from(`${TOKEN}:`).toString("base64")}`, "Content-Type": "application/x-ndjson", "Content-Encoding": "gzip" },
      body,
    });
    expect(response.status).toBe(400);
    expect(JSON.parse(response.text)).toEqual({
      code: 400,
      error: "some data points in the request failed validation",
      status: "Bad Request",
      num_records_imported: 1,
      failed_records: [
        { index: 1, $insert_id: "a2", field: "properties.time", message: "properties.time, before 1971-01-01" },
        { index: 2, $insert_id: "a3", field: "properties.distinct_id", message: 'properties.distinct_id, "null" is a placeholder, not an id' },
      ],
    });
    expect((entries[0]!.entry.items as EventItem[]).map((item) => item.insertId)).toEqual(["a1"]);
  });

  it("14. identity properties reach the stream as sent, for the worker's simplified ID merge", async () => {
    const events = [
      { event: "anon", properties: { token: TOKEN, distinct_id: "$device:D1", $device_id: "D1", time: 1795417500 } },
      { event: "$identify", properties: { token: TOKEN, distinct_id: "U1", $anon_distinct_id: "$device:D1", $device_id: "D1", $user_id: "U1", time: 1795417501 } },
      { event: "later", properties: { token: TOKEN, $device_id: "D1", time: 1795417502 } },
      { event: "other", properties: { token: TOKEN, $device_id: "D1", $user_id: "U2", time: 1795417503 } },
    ];
    const { response, entries } = await exchange("/track/?verbose=1&ip=1", { headers: form, body: `data=${encodeURIComponent(b64(events))}` });
    expect(response.text).toBe('{"error":null,"status":1}');
    const items = entries[0]!.entry.items as EventItem[];
    expect(items.map((item) => [item.event, item.distinctId, item.properties.$device_id, item.properties.$user_id, item.properties.$anon_distinct_id])).toEqual([
      ["anon", "$device:D1", "D1", undefined, undefined],
      ["$identify", "U1", "D1", "U1", "$device:D1"],
      ["later", "", "D1", undefined, undefined],
      ["other", "", "D1", "U2", undefined],
    ]);
  });

  describe("15. limits and transport", () => {
    it("2001 events are answered 413 (the browser halves its batch) and nothing is queued", async () => {
      const events = Array.from({ length: 2001 }, () => ({ event: "e", properties: { token: TOKEN } }));
      const { response, entries } = await exchange("/track/?verbose=1", { headers: form, body: `data=${encodeURIComponent(b64(events))}` });
      expect(response.status).toBe(413);
      expect(JSON.parse(response.text)).toEqual({ status: 0, error: "request has 2001 items, more than the limit of 2000" });
      expect(entries).toEqual([]);
    });

    it("a body over the byte limit is answered 413", async () => {
      const body = `data=${"A".repeat(10 * 1024 * 1024 + 10)}`;
      const { response, entries } = await exchange("/track/", { headers: form, body });
      expect(response.status).toBe(413);
      expect(response.text).toBe("0");
      expect(entries).toEqual([]);
    });

    it("Node track with a 30 KB property (a 40 KB URL) is answered 1, not 431", async () => {
      const big = "x".repeat(30_000);
      const data = b64({ event: "big", properties: { token: TOKEN, distinct_id: "u1", big } });
      const path = `/track?ip=0&verbose=0&data=${encodeURIComponent(data)}`;
      expect(path.length).toBeGreaterThan(40_000);
      const { response, entries } = await exchange(path);
      expect(response.status).toBe(200);
      expect(response.text).toBe("1");
      expect((entries[0]!.entry.items as EventItem[])[0]!.properties.big).toBe("x".repeat(255));
    });

    it("a preflight with a custom header gets 204 with the echoed origin, headers and credentials", async () => {
      const response = await send(`${url}/track/`, {
        method: "OPTIONS",
        headers: { Origin: origin, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "x-api-token" },
      });
      expect(response.status).toBe(204);
      expect(response.headers["access-control-allow-origin"]).toBe(origin);
      expect(response.headers["access-control-allow-headers"]).toBe("x-api-token");
      expect(response.headers["access-control-allow-credentials"]).toBe("true");
      expect(response.headers["access-control-allow-methods"]).toMatch(/POST/);
      expect(response.headers.vary).toBe("Origin");
    });

    it("img=1 is answered with a 1×1 GIF", async () => {
      const data = b64({ event: "pixel", properties: { token: TOKEN } });
      const { response, entries } = await exchange(`/track/?img=1&data=${encodeURIComponent(data)}`);
      expect(response.status).toBe(200);
      expect(response.headers["content-type"]).toBe("image/gif");
      expect(response.body.subarray(0, 6).toString()).toBe("GIF89a");
      expect((entries[0]!.entry.items as EventItem[])[0]!.event).toBe("pixel");
    });

    it("callback= is answered with JSONP", async () => {
      const data = b64({ event: "jsonp", properties: { token: TOKEN } });
      const { response } = await exchange(`/track/?callback=${encodeURIComponent("mixpanel._jsc[123]")}&data=${encodeURIComponent(data)}`);
      expect(response.headers["content-type"]).toMatch(/^text\/javascript/);
      expect(response.text).toBe("mixpanel._jsc[123](1)");
    });

    it("Redis down is answered 503 (the browser retries later), never a 4xx", async () => {
      const redis = await startTestRedis();
      const ingest = await startTestIngest(redis.url, { MIXSTACK_QUEUE_TIMEOUT_MS: "500" });
      await redis.stop();
      const data = b64({ event: "e", properties: { token: TOKEN } });
      const response = await send(`${ingest.url}/track/?verbose=1&data=${encodeURIComponent(data)}`);
      expect(response.status).toBe(503);
      expect(JSON.parse(response.text)).toEqual({ status: 0, error: "a temporary failure occurred: queue unavailable" });
      expect(response.headers["retry-after"]).toBe("1");
    });
  });
});
