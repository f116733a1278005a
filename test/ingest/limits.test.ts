import { beforeAll, describe, expect, it } from "vitest";
import { parseRedisMemory } from "../../services/core/redis-memory";
import type { RunningIngest } from "../../services/ingest/service";
import { waitFor } from "../../services/dev/ports";
import { redisClient, startTestRedis } from "../harness/services";
import { b64, send, SECRET, startTestIngest, TOKEN, type Redis } from "./support";

/** Body limits per route and credentials, and backpressure on Redis' memory. */

const MIB = 1024 * 1024;
const basic = (user: string) => `Basic ${Buffer.from(`${user}:`).toString("base64")}`;

function events(count: number, pad: number) {
  return Array.from({ length: count }, (_, index) => ({ event: "e", properties: { token: TOKEN, time: Date.now(), $insert_id: `b${index}-${Math.floor(Math.random() * 1e9)}`, pad: "x".repeat(pad) } }));
}

describe("body limits", () => {
  let ingest: RunningIngest;

  beforeAll(async () => {
    const redis = await startTestRedis();
    ingest = await startTestIngest(redis.url, { MIXSTACK_CLIENT_MS_PER_SECOND: "0" });
  });

  // 1,500 events of ~1 KB: about 1.5 MiB, over the default 1 MiB and under the 10 MiB of /import.
  const body = JSON.stringify(events(1500, 1000));

  it("a /track body over 1 MiB (the default) is answered 413 in Mixpanel's words", async () => {
    expect(body.length).toBeGreaterThan(1.2 * MIB);
    const reply = await send(`${ingest.url}/track?verbose=1`, { headers: { "Content-Type": "application/json" }, body });
    expect([reply.status, reply.text]).toEqual([413, `{"error":"request exceeds max limit of ${MIB} bytes","status":0}`]);
  });

  it("/import with the API secret takes up to 10 MiB", async () => {
    const reply = await send(`${ingest.url}/import?strict=1`, { headers: { "Content-Type": "application/json", Authorization: basic(SECRET) }, body });
    expect([reply.status, JSON.parse(reply.text).num_records_imported]).toEqual([200, 1500]);
  });

  it("/import with the public token (or a secret only in the form body) keeps the 1 MiB limit", async () => {
    const withToken = await send(`${ingest.url}/import?strict=1`, { headers: { "Content-Type": "application/json", Authorization: basic(TOKEN) }, body });
    expect(withToken.status).toBe(413);
    const inForm = await send(`${ingest.url}/import`, {
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: `api_key=${SECRET}&data=${encodeURIComponent(b64(events(1500, 1000)))}`,
    });
    expect(inForm.status).toBe(413);
  });
});

describe("backpressure on Redis' memory", () => {
  it.each([
    ["a Redis with a limit", "# Memory\r\nused_memory:1048576\r\nused_memory_human:1.00M\r\nmaxmemory:2097152\r\n", { used: 1048576, max: 2097152 }],
    ["a Redis without", "used_memory:5000\r\nmaxmemory:0\r\n", { used: 5000, max: 0 }],
  ])("reads used_memory and maxmemory of %s", (_name, info, expected) => {
    expect(parseRedisMemory(info)).toEqual(expected);
  });

  let ingest: RunningIngest;
  let redis: Redis;

  beforeAll(async () => {
    const server = await startTestRedis();
    redis = await redisClient(server.url);
    ingest = await startTestIngest(server.url, { MIXSTACK_CLIENT_MS_PER_SECOND: "0" });
  });

  const track = () => send(`${ingest.url}/track?verbose=1&data=${encodeURIComponent(b64({ event: "m", properties: { token: TOKEN } }))}`);
  const used = async () => parseRedisMemory(await redis.info("memory")).used;

  it("answers 503 with Retry-After above 60 % of maxmemory, and accepts again below, without a restart", async () => {
    await redis.configSet("maxmemory", String(Math.floor((await used()) * 1.4)));
    const refused = await waitFor("backpressure", async () => {
      const reply = await track();
      return reply.status === 503 ? reply : undefined;
    }, { timeoutMs: 5000 });
    expect(refused.text).toBe('{"error":"a temporary failure occurred: queue memory above 60% of its maxmemory","status":0}');
    expect(refused.headers["retry-after"]).toBe("5");
    await redis.configSet("maxmemory", String((await used()) * 4));
    await waitFor("accepted again", async () => (await track()).text === '{"error":null,"status":1}', { timeoutMs: 5000 });
    await redis.configSet("maxmemory", "0");
  });
});
