import { rmSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import type { InfluxClient } from "../../services/core/influx";
import type { Pipeline } from "../../services/dev/pipeline";
import { waitFor } from "../../services/dev/ports";
import { redisClient, scratchDir } from "../harness/services";
import { countEvents, influxOf, makeEvents, postUntilAccepted, sendEvents, startTestPipeline, waitForCount, waitForDrained } from "./support";

/**
 * Exactly-once effect through crashes and restarts: N events accepted by ingest are N points in
 * InfluxDB. Events go through ingest's HTTP API; the worker processes are real `mixstack worker`s.
 */
describe("delivery: N events sent through ingest are N points", () => {
  let pipeline: Pipeline;
  let influx: InfluxClient;
  let dir: string;
  const count = (name: string) => countEvents(influx, pipeline.database, `"event" = '${name}'`);

  beforeAll(async () => {
    dir = scratchDir("delivery");
    pipeline = await startTestPipeline({
      dir,
      workers: 2,
      // Short enough for a test to see a dead worker's entries taken over.
      workerEnv: { WORKER_CLAIM_IDLE_MS: "3000", WORKER_CLAIM_INTERVAL_MS: "500" },
    });
    influx = influxOf(pipeline);
  });

  it("writes N events as N points, and the same batches sent again leave N", async () => {
    const events = makeEvents("deliver-once", 2000);
    await sendEvents(pipeline, events);
    await waitForCount(() => count("deliver-once"), 2000);
    await sendEvents(pipeline, events);
    await waitForDrained(pipeline);
    expect(await count("deliver-once")).toBe(2000);
    const [distinct] = await influx.rows(`SELECT count(distinct("insert_id")) FROM "events" WHERE "event" = 'deliver-once'`, { db: pipeline.database });
    expect(distinct?.count).toBe(2000);
  });

  async function eventsWrittenByEachWorker(): Promise<number[]> {
    return Promise.all(
      pipeline.workerMetricsUrls.map(async (url) => {
        const text = await (await fetch(`${url}/metrics`)).text();
        return Number(/^mixstack_worker_events_written_total (\d+)/m.exec(text)?.[1] ?? 0);
      }),
    );
  }

  it("two workers share the stream without double counting", async () => {
    const before = await eventsWrittenByEachWorker();
    const events = makeEvents("two-workers", 3000);
    await Promise.all([sendEvents(pipeline, events.slice(0, 1500)), sendEvents(pipeline, events.slice(1500))]);
    await waitForCount(() => count("two-workers"), 3000);
    await waitForDrained(pipeline);
    expect(await count("two-workers")).toBe(3000);
    const after = await eventsWrittenByEachWorker();
    // Each worker wrote its share (the metric counts what each one wrote); together exactly the N events.
    const shares = after.map((value, index) => value - before[index]!);
    expect(shares.reduce((sum, value) => sum + value, 0)).toBe(3000);
    // Both took part (one worker doing everything would prove nothing about two).
    for (const share of shares) expect(share).toBeGreaterThan(0);
  });

  it("workers killed with SIGKILL mid-stream and restarted leave exactly N", async () => {
    const events = makeEvents("sigkill", 5000);
    const sending = sendEvents(pipeline, events);
    await waitFor("the first points", async () => (await count("sigkill")) > 0, { timeoutMs: 60_000, intervalMs: 20 });
    await Promise.all(pipeline.workers.map((worker) => worker.kill()));
    const atKill = await count("sigkill");
    await sending; // ingest keeps accepting while no worker runs
    await pipeline.workers[0]!.start(); // same consumer name: reads its own pending entries first
    await pipeline.workers[1]!.start();
    await waitForCount(() => count("sigkill"), 5000);
    await waitForDrained(pipeline);
    expect(atKill).toBeLessThan(5000);
    expect(await count("sigkill")).toBe(5000);
  });

  it("entries held by a worker that died are taken over by the other one (XAUTOCLAIM)", async () => {
    const events = makeEvents("taken-over", 4000);
    const sending = sendEvents(pipeline, events);
    await waitFor("the first points", async () => (await count("taken-over")) > 0, { timeoutMs: 60_000, intervalMs: 20 });
    await pipeline.workers[1]!.kill();
    const atKill = await count("taken-over");
    await sending;
    await waitForCount(() => count("taken-over"), 4000);
    await waitForDrained(pipeline);
    expect(atKill).toBeLessThan(4000);
    expect(await count("taken-over")).toBe(4000);
    await pipeline.workers[1]!.start();
  });

  it("entries read by a consumer that never comes back are taken over and written by a live worker (XAUTOCLAIM, another consumer name)", async () => {
    // Deterministic: the entries are certainly pending on the dead consumer, and only a takeover can finish them.
    const redis = await redisClient(pipeline.redis.url);
    const pendingOn = async (consumer: string) =>
      ((await redis.sendCommand(["XPENDING", "mx:stream", "mx:writers", "-", "+", "1000", consumer])) as unknown[]).length;
    await Promise.all(pipeline.workers.map((worker) => worker.kill()));
    try {
      await sendEvents(pipeline, makeEvents("orphaned", 500));
      await redis.sendCommand(["XREADGROUP", "GROUP", "mx:writers", "gone-for-good", "COUNT", "1000", "STREAMS", "mx:stream", ">"]);
      expect(await pendingOn("gone-for-good")).toBeGreaterThanOrEqual(10);
      expect(await count("orphaned")).toBe(0);
    } finally {
      await pipeline.workers[0]!.start();
    }
    await waitForCount(() => count("orphaned"), 500);
    await waitForDrained(pipeline);
    expect(await pendingOn("gone-for-good")).toBe(0);
    expect(await count("orphaned")).toBe(500);
    await pipeline.workers[1]!.start();
    await redis.close();
  }, 120_000);

  it("workers killed with SIGKILL while they hold entries (Redis effects applied, InfluxDB not yet written) and restarted: exactly N points, each profile operation applied once", async () => {
    // InfluxDB down: every entry a worker reads stays pending, so the kill is certain to hit held entries
    // (a kill while events flow may find the workers idle between batches).
    const redis = await redisClient(pipeline.redis.url);
    const pendingInGroup = async () => {
      const groups = (await redis.sendCommand(["XINFO", "GROUPS", "mx:stream"])) as Array<Record<string, unknown>>;
      return Number(groups.find((group) => group.name === "mx:writers")?.pending ?? 0);
    };
    const profileAdds = async () => Number((await redis.hGet("mx:profile:held-at-kill", "n")) ?? 0);
    const updates = 6;
    let pendingAtKill = 0;
    let appliedAtKill = 0;
    await pipeline.influx.stop();
    try {
      for (let update = 0; update < updates; update += 1) {
        await postUntilAccepted(`${pipeline.ingestUrl}/engage/?verbose=1&ip=0`, [{ $token: pipeline.token, $distinct_id: "held-at-kill", $add: { n: 1 } }]);
      }
      const events = makeEvents("held-at-kill", 1000);
      await sendEvents(pipeline, events);
      await waitFor("the workers to hold entries whose profile operations are applied", async () => (await pendingInGroup()) > 0 && (await profileAdds()) > 0, {
        timeoutMs: 60_000,
        intervalMs: 50,
      });
      await Promise.all(pipeline.workers.map((worker) => worker.kill()));
      pendingAtKill = await pendingInGroup();
      appliedAtKill = await profileAdds();
    } finally {
      // Started again whatever happened, so that a failure here does not fail the tests after it.
      await pipeline.influx.start();
      for (const worker of pipeline.workers) if (!worker.running) await worker.start();
    }
    await waitForCount(() => count("held-at-kill"), 1000);
    await waitForDrained(pipeline);
    expect(pendingAtKill).toBeGreaterThan(0);
    expect(appliedAtKill).toBeGreaterThan(0);
    expect(await count("held-at-kill")).toBe(1000);
    expect(await profileAdds()).toBe(updates);
    const [points] = await influx.rows(`SELECT count("distinct_id") FROM "profile_updates" WHERE "distinct_id" = 'held-at-kill'`, { db: pipeline.database });
    expect(points?.count).toBe(updates);
    await redis.close();
  }, 180_000);

  it.each<[string, (redis: Pipeline["redis"]) => Promise<unknown>]>([
    ["restarted (SIGTERM)", (redis) => redis.restart()],
    // A crash: nothing is written at shutdown, only what the AOF already holds survives.
    ["killed with SIGKILL and started", async (redis) => {
      await redis.kill();
      await redis.start();
    }],
  ])("Redis %s while events flow: every accepted event is written, once (AOF)", async (label, bounce) => {
    const name = `redis-${label.split(" ")[0]}`;
    const events = makeEvents(name, 4000);
    const sending = sendEvents(pipeline, events); // retries the 503s ingest answers while Redis is down
    await waitFor("the first points", async () => (await count(name)) > 0, { timeoutMs: 60_000, intervalMs: 20 });
    const atRestart = await count(name);
    await bounce(pipeline.redis);
    await sending;
    await waitForCount(() => count(name), 4000);
    await waitForDrained(pipeline);
    expect(atRestart).toBeLessThan(4000);
    expect(await count(name)).toBe(4000);
  }, 120_000);

  it("a Redis that lost its data (no stream, no group): the worker creates the group again and keeps writing", async () => {
    await pipeline.redis.stop();
    rmSync(join(dir, "redis", "appendonlydir"), { recursive: true, force: true });
    await pipeline.redis.start();
    const events = makeEvents("after-data-loss", 500);
    await sendEvents(pipeline, events);
    await waitForCount(() => count("after-data-loss"), 500);
    await waitForDrained(pipeline);
    expect(await count("after-data-loss")).toBe(500);
  });
});
