import { describe, expect, it } from "vitest";
import { waitFor } from "../../services/dev/ports";
import type { EventItem } from "../../services/core/queue";
import { redisClient, startTestRedis } from "../harness/services";
import { b64, readStream, startTestIngest, TOKEN } from "./support";

/**
 * Redis stopped (or frozen) while requests flow: every request is answered within the queue
 * timeout, with 503 (never a 4xx, never a hang), and ingest recovers by itself when Redis returns.
 * Every event answered `1` is on the stream afterwards.
 */

const QUEUE_TIMEOUT_MS = 500;
/** Generous: the machine is shared. The point is "bounded", not "fast". */
const ANSWER_BOUND_MS = QUEUE_TIMEOUT_MS + 2_500;

interface Outcome {
  insertId: string;
  status: number;
  body: string;
  elapsedMs: number;
  at: number;
}

/** Sends events with unique insert ids from `concurrency` loops until `stop()`. */
function flow(url: string, concurrency = 4) {
  const outcomes: Outcome[] = [];
  let running = true;
  let sequence = 0;
  const loop = async () => {
    while (running) {
      const insertId = `flow-${sequence++}`;
      const data = b64({ event: "flow", properties: { token: TOKEN, $insert_id: insertId } });
      const started = Date.now();
      try {
        const response = await fetch(`${url}/track?verbose=1&data=${encodeURIComponent(data)}`, { signal: AbortSignal.timeout(20_000) });
        outcomes.push({ insertId, status: response.status, body: await response.text(), elapsedMs: Date.now() - started, at: Date.now() });
      } catch (error) {
        outcomes.push({ insertId, status: 0, body: String(error), elapsedMs: Date.now() - started, at: Date.now() });
      }
    }
  };
  const loops = Array.from({ length: concurrency }, loop);
  return {
    outcomes,
    async stop() {
      running = false;
      await Promise.all(loops);
    },
  };
}

async function seen(outcomes: Outcome[], predicate: (outcome: Outcome) => boolean, what: string, after = 0): Promise<void> {
  await waitFor(what, () => outcomes.some((outcome) => outcome.at >= after && predicate(outcome)), { timeoutMs: 30_000 });
}

describe("Redis outage while requests flow", () => {
  it("answers 503 within the bound while Redis is stopped, and 1 again once it is back", async () => {
    const redis = await startTestRedis();
    const ingest = await startTestIngest(redis.url, { MIXSTACK_QUEUE_TIMEOUT_MS: String(QUEUE_TIMEOUT_MS) });
    const traffic = flow(ingest.url);
    try {
      await seen(traffic.outcomes, (o) => o.status === 200, "a first success");
      const stoppedAt = Date.now();
      await redis.stop();
      await seen(traffic.outcomes, (o) => o.status === 503, "503s while Redis is down", stoppedAt);
      const ready = await fetch(`${ingest.url}/readyz`);
      expect(ready.status).toBe(503);
      // Keep the traffic flowing against the dead queue for a while.
      const downSince = Date.now();
      await waitFor("20 answers while down", () => traffic.outcomes.filter((o) => o.at >= downSince).length >= 20);
      const restartedAt = Date.now();
      await redis.start();
      await seen(traffic.outcomes, (o) => o.status === 200, "success after Redis returned", restartedAt);
    } finally {
      await traffic.stop();
    }

    const { outcomes } = traffic;
    const statuses = new Set(outcomes.map((outcome) => outcome.status));
    expect([...statuses].sort()).toEqual([200, 503]);
    for (const outcome of outcomes) expect(outcome.elapsedMs).toBeLessThan(ANSWER_BOUND_MS);
    for (const outcome of outcomes.filter((o) => o.status === 503)) {
      expect(JSON.parse(outcome.body)).toEqual({ status: 0, error: expect.stringMatching(/^a temporary failure occurred: queue /) });
    }

    // Every event answered 1 is on the stream (Redis kept it through the restart: AOF).
    const client = await redisClient(redis.url);
    const stored = new Set((await readStream(client)).flatMap(({ entry }) => (entry.items as EventItem[]).map((item) => item.insertId)));
    const acknowledged = outcomes.filter((outcome) => outcome.status === 200);
    expect(acknowledged.length).toBeGreaterThan(1);
    expect(acknowledged.filter((outcome) => !stored.has(outcome.insertId))).toEqual([]);
  });

  it("answers 503 within the bound while Redis is frozen (SIGSTOP), and recovers on SIGCONT", async () => {
    const redis = await startTestRedis();
    const ingest = await startTestIngest(redis.url, { MIXSTACK_QUEUE_TIMEOUT_MS: String(QUEUE_TIMEOUT_MS) });
    const traffic = flow(ingest.url, 2);
    try {
      await seen(traffic.outcomes, (o) => o.status === 200, "a first success");
      const frozenAt = Date.now();
      redis.signal("SIGSTOP");
      try {
        await seen(traffic.outcomes, (o) => o.status === 503 && o.body.includes("did not answer in time"), "timeouts while Redis is frozen", frozenAt);
        await waitFor("10 answers while frozen", () => traffic.outcomes.filter((o) => o.at >= frozenAt).length >= 10);
        expect((await fetch(`${ingest.url}/readyz`)).status).toBe(503);
      } finally {
        redis.signal("SIGCONT");
      }
      const thawedAt = Date.now();
      await seen(traffic.outcomes, (o) => o.status === 200, "success after SIGCONT", thawedAt);
    } finally {
      await traffic.stop();
    }
    const { outcomes } = traffic;
    expect(outcomes.filter((o) => o.status !== 200 && o.status !== 503)).toEqual([]);
    for (const outcome of outcomes) expect(outcome.elapsedMs).toBeLessThan(ANSWER_BOUND_MS);
  });

  it("answers 503 (backpressure) when the stream is longer than the bound, and 1 once it drains", async () => {
    const redis = await startTestRedis();
    const client = await redisClient(redis.url);
    const ingest = await startTestIngest(redis.url, { MIXSTACK_MAX_STREAM_LENGTH: "5" });
    const send = (id: string) => fetch(`${ingest.url}/track?verbose=1&data=${encodeURIComponent(b64({ event: "bp", properties: { token: TOKEN, $insert_id: id } }))}`);
    for (let index = 0; index < 5; index++) expect((await send(`fill-${index}`)).status).toBe(200);
    const refused = await waitFor("backpressure", async () => {
      const response = await send("over");
      return response.status === 503 ? response : undefined;
    });
    expect(await refused.json()).toEqual({ status: 0, error: "a temporary failure occurred: queue backlog above 5 entries" });
    expect(refused.headers.get("retry-after")).toBe("5");
    // The worker deletes what it wrote; here the test plays the worker.
    await client.del("mx:stream");
    await waitFor("accepted again", async () => (await send("after")).status === 200);
    // The stream was never trimmed by ingest.
    expect(await client.xLen("mx:stream")).toBeGreaterThanOrEqual(1);
  });
});
