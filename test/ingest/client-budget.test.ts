import { Agent, request as httpRequest } from "node:http";
import { beforeAll, describe, expect, it } from "vitest";
import { ClientBudget, estimatedCostMs } from "../../services/ingest/client-budget";
import type { RunningIngest } from "../../services/ingest/service";
import { startTestRedis } from "../harness/services";
import { b64, send, SECRET, startTestIngest, TOKEN } from "./support";

/** The per-address budget of ingest's time (`MIXSTACK_CLIENT_MS_PER_SECOND`) and the connection cap. */

describe("ClientBudget", () => {
  it("lets a client spend its burst, then makes it wait what the refill takes", () => {
    const budget = new ClientBudget(100, 150);
    expect(budget.waitMs("a", 100, 0)).toBe(0);
    budget.charge("a", 140, 0);
    // 10 ms left; a 100 ms request needs 90 more: 0.9 s at 100 ms/s.
    expect(budget.waitMs("a", 100, 0)).toBe(900);
    expect(budget.waitMs("a", 100, 900)).toBe(0);
    // Another address is not affected.
    expect(budget.waitMs("b", 100, 0)).toBe(0);
  });

  it("a request estimated above the burst needs only a full bucket, and may run the balance into debt", () => {
    const budget = new ClientBudget(100, 150);
    expect(budget.waitMs("a", 10_000, 0)).toBe(0);
    budget.charge("a", 450, 0);
    expect(budget.waitMs("a", 1, 0)).toBe(3010);
  });

  it("never holds more than its burst", () => {
    const budget = new ClientBudget(100, 150);
    budget.waitMs("a", 1, 0);
    budget.charge("a", 0, 3_600_000);
    budget.charge("a", 150, 3_600_000);
    expect(budget.waitMs("a", 1, 3_600_000)).toBeGreaterThan(0);
  });

  it("estimates 1 ms per 10 KiB of body", () => {
    expect(estimatedCostMs(1024 * 1024)).toBeCloseTo(102.45, 1);
    expect(estimatedCostMs(0)).toBeGreaterThan(0);
  });

  it("forgets quiet addresses once it knows too many", () => {
    const budget = new ClientBudget(1000, 10);
    for (let index = 0; index < 100_000; index += 1) budget.waitMs(`10.0.${index >> 8}.${index & 255}-${index}`, 1, 0);
    budget.waitMs("late", 1, 1000);
    expect(budget.size).toBeLessThan(1000);
  });
});

describe("ingest's limits per client and per server", () => {
  let ingest: RunningIngest;

  beforeAll(async () => {
    const redis = await startTestRedis();
    ingest = await startTestIngest(redis.url, { MIXSTACK_TRUSTED_PROXY_HOPS: "1", MIXSTACK_CLIENT_MS_PER_SECOND: "20", MIXSTACK_CLIENT_BURST_MS: "30", MIXSTACK_MAX_CONNECTIONS: "8" });
  });

  const heavy = (address: string, path = "/track?verbose=1") =>
    send(`${ingest.url}${path}`, {
      headers: { "Content-Type": "application/json", "X-Forwarded-For": address },
      // ~500 KiB: estimated at ~50 ms, more than the burst of 30 ms.
      body: JSON.stringify(Array.from({ length: 1000 }, (_, index) => ({ event: "e", properties: { token: TOKEN, i: index, pad: "x".repeat(250), more: "y".repeat(250) } }))),
    });

  it("answers 429 with Retry-After to an address past its budget, Mixpanel-shaped, and others go on", async () => {
    const first = await heavy("203.0.113.1");
    expect(first.text).toBe('{"error":null,"status":1}');
    const second = await heavy("203.0.113.1");
    expect([second.status, second.text]).toEqual([429, '{"error":"too many requests from this address; retry later","status":0}']);
    expect(Number(second.headers["retry-after"])).toBeGreaterThanOrEqual(1);
    expect((await heavy("203.0.113.2")).status).toBe(200);
    const strict = await send(`${ingest.url}/import?strict=1`, {
      headers: { "Content-Type": "application/json", "X-Forwarded-For": "203.0.113.1", Authorization: `Basic ${Buffer.from(`${TOKEN}:`).toString("base64")}` },
      // The public token is no secret: this /import is counted like /track.
      body: JSON.stringify(Array.from({ length: 1000 }, (_, index) => ({ event: "e", properties: { time: Date.now(), $insert_id: `t${index}`, pad: "x".repeat(400) } }))),
    });
    expect([strict.status, JSON.parse(strict.text)]).toEqual([429, { code: 429, error: "Project exceeded rate limits. Please retry the request with exponential backoff.", status: "Too Many Requests", num_records_imported: 0 }]);
  });

  it("does not count /import with the API secret against the address", async () => {
    await heavy("203.0.113.9");
    expect((await heavy("203.0.113.9")).status).toBe(429);
    const reply = await send(`${ingest.url}/import?strict=1`, {
      headers: { "Content-Type": "application/json", "X-Forwarded-For": "203.0.113.9", Authorization: `Basic ${Buffer.from(`${SECRET}:`).toString("base64")}` },
      body: JSON.stringify(Array.from({ length: 1000 }, (_, index) => ({ event: "e", properties: { time: Date.now(), $insert_id: `s${index}`, pad: "x".repeat(400) } }))),
    });
    expect(reply.status).toBe(200);
  });

  it("counts the refusals by reason", () => {
    const refusals = ingest.metrics.window.drain(0).filter((item) => item.measurement === "ingest_rejects" && item.tags.reason === "rate_limited");
    expect(refusals.map((item) => [item.tags.route, item.fields.count])).toEqual([
      ["track", 2],
      ["import", 1],
    ]);
  });

  it("answers 429 (and closes) above MIXSTACK_MAX_CONNECTIONS open connections", async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 20 });
    const get = () =>
      new Promise<number>((resolve, reject) => {
        const outgoing = httpRequest(`${ingest.url}/track?data=${encodeURIComponent(b64({ event: "c", properties: { token: TOKEN } }))}`, { agent, headers: { "X-Forwarded-For": "198.51.100.7" } }, (response) => {
          response.resume();
          response.on("end", () => resolve(response.statusCode ?? 0));
        });
        outgoing.on("error", reject);
        outgoing.end();
      });
    const statuses = await Promise.all(Array.from({ length: 12 }, get));
    agent.destroy();
    expect(statuses.filter((status) => status === 200).length).toBeGreaterThanOrEqual(8);
    expect(statuses).toContain(429);
  });
});
