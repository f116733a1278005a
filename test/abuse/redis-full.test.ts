import { beforeAll, describe, expect, it } from "vitest";
import type { InfluxClient } from "../../services/core/influx";
import type { Pipeline } from "../../services/dev/pipeline";
import { waitFor } from "../../services/dev/ports";
import { redisClient } from "../harness/services";
import { countEvents } from "../worker/support";
import { MB, figures, influxOf, startAbusePipeline, track, verboseStatus } from "./support";

/**
 * Finding 2 of issue 12, "a full Redis wedges the pipeline": during an InfluxDB outage the stream
 * filled Redis up to `maxmemory` (backpressure counted entries, not bytes), and then the worker
 * needed writes Redis refuses at `maxmemory` (first-seen `HSET`, merge `HSETNX`, the dead-letter
 * `XADD` in the settle transaction) before it could delete anything: the stream stayed stuck and
 * `/track` answered 503 for good. Here: the stream is filled during an outage under a 32 MB
 * `maxmemory`, then `maxmemory` is lowered to 8 MB (as if the state had grown meanwhile), so that
 * Redis is far past its limit when InfluxDB returns.
 */

const MAXMEMORY = 32 * MB;
const LOWERED = 8 * MB;

function batch(token: string, round: number) {
  // Browser-like events of about 1 KB, new people and devices each round (first-seen and merges to write).
  return Array.from({ length: 200 }, (_, index) => ({
    event: "page view",
    properties: {
      token,
      distinct_id: `person-${round}-${index}`,
      $device_id: `device-${round}-${index}`,
      $user_id: `person-${round}-${index}`,
      time: Date.now() - 1000,
      $insert_id: `full-${round}-${index}`,
      $current_url: `https://example.com/${"a".repeat(200)}`,
      $referrer: `https://search.example/${"b".repeat(200)}`,
      note: "c".repeat(250),
      other: "d".repeat(250),
    },
  }));
}

describe("abuse: Redis at maxmemory", () => {
  let pipeline: Pipeline;
  let influx: InfluxClient;

  beforeAll(async () => {
    // The fill stands for many clients during the outage: no per-address budget in the way.
    pipeline = await startAbusePipeline({ workerEnv: { WORKER_BACKOFF_MAX_MS: "500" }, ingestEnv: { MIXSTACK_CLIENT_MS_PER_SECOND: "0" } });
    influx = influxOf(pipeline);
  });

  it("the stream drains after Redis hit maxmemory, and /track recovers without a restart", async () => {
    const redis = await redisClient(pipeline.redis.url);
    await redis.configSet("maxmemory", String(MAXMEMORY));
    await pipeline.influx.stop();

    // Fill the stream until ingest says 503 five times in a row (backpressure or a refused XADD).
    let accepted = 0;
    let refusedInARow = 0;
    let round = 0;
    let lastRefusal = "";
    const deadline = Date.now() + 60_000;
    while (refusedInARow < 5 && Date.now() < deadline) {
      const reply = await track(pipeline, batch(pipeline.token, round));
      round += 1;
      if (reply.status === 200 && verboseStatus(reply) === 1) {
        accepted += 200;
        refusedInARow = 0;
      } else {
        refusedInARow += 1;
        lastRefusal = `${reply.status} ${reply.text}`;
      }
    }
    const memory = async () => {
      const info = await redis.info("memory");
      return Number(/used_memory:(\d+)/.exec(info)?.[1]);
    };
    const usedWhenRefused = await memory();
    await redis.configSet("maxmemory", String(LOWERED));
    const usedAtPeak = await memory();
    const streamAtPeak = await redis.xLen("mx:stream");

    await pipeline.influx.start();
    let drained = false;
    await waitFor("the stream to drain", async () => (await redis.xLen("mx:stream")) === 0, { timeoutMs: 45_000, intervalMs: 250 })
      .then(() => (drained = true))
      .catch(() => undefined);
    const streamAfter = await redis.xLen("mx:stream");
    let recovered: string | undefined;
    await waitFor(
      "/track to accept again",
      async () => {
        const reply = await track(pipeline, [{ event: "after", properties: { token: pipeline.token, distinct_id: "late", $insert_id: "after-1" } }]);
        recovered = `${reply.status} ${reply.text}`;
        return reply.status === 200 && verboseStatus(reply) === 1;
      },
      { timeoutMs: drained ? 20_000 : 1_000, intervalMs: 250 },
    ).catch(() => undefined);
    const written = await countEvents(influx, pipeline.database, `"event" = 'page view'`);
    figures("redis-full", {
      maxmemoryMb: MAXMEMORY / MB,
      loweredToMb: LOWERED / MB,
      accepted,
      lastRefusal: lastRefusal.slice(0, 160),
      usedWhenRefusedMb: +(usedWhenRefused / MB).toFixed(1),
      usedAtPeakMb: +(usedAtPeak / MB).toFixed(1),
      streamAtPeak,
      streamAfter,
      written,
      recovered: recovered?.slice(0, 120),
    });

    expect(usedAtPeak).toBeGreaterThan(2 * LOWERED);
    expect(lastRefusal).toMatch(/^503 /);
    expect(streamAfter).toBe(0);
    expect(recovered).toMatch(/^200 .*"status":1/);
    // Every event ingest acknowledged is in InfluxDB.
    expect(written).toBe(accepted);
  });
});
