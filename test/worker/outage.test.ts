import { beforeAll, describe, expect, it } from "vitest";
import type { InfluxClient } from "../../services/core/influx";
import type { Pipeline } from "../../services/dev/pipeline";
import { waitFor } from "../../services/dev/ports";
import { redisClient } from "../harness/services";
import { countEvents, influxOf, makeEvents, residentBytes, sendEvents, startTestPipeline, waitForCount, waitForDrained } from "./support";

const OUTAGE_MS = 30_000;
const MB = 1024 * 1024;

async function metric(url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return Number(new RegExp(`^${name} (\\S+)`, "m").exec(text)?.[1] ?? Number.NaN);
}

describe("InfluxDB outage", () => {
  let pipeline: Pipeline;
  let influx: InfluxClient;
  const count = (name: string) => countEvents(influx, pipeline.database, `"event" = '${name}'`);

  beforeAll(async () => {
    pipeline = await startTestPipeline({ workers: 1, workerEnv: { WORKER_BACKOFF_MAX_MS: "2000", WORKER_SAMPLE_INTERVAL_MS: "500" } });
    influx = influxOf(pipeline);
  });

  it(
    "InfluxDB stopped for 30 s while events flow, then started: every event is written once, and the worker's memory stays bounded",
    async () => {
      const worker = pipeline.workers[0]!;
      const metricsUrl = pipeline.workerMetricsUrls[0]!;
      await sendEvents(pipeline, makeEvents("warm-up", 5000));
      await waitForCount(() => count("warm-up"), 5000);
      const baseline = residentBytes(worker.pid!);

      await pipeline.influx.stop();
      const redis = await redisClient(pipeline.redis.url);
      const started = Date.now();
      let sent = 0;
      let batch = 0;
      let peak = baseline;
      // About 2,000 events/s for the 30 s (paced, so that the machine's other tests keep some CPU).
      while (Date.now() - started < OUTAGE_MS) {
        const events = makeEvents(`outage-${batch}`, 200).map((event) => ({ ...event, event: "during-outage" }));
        await sendEvents(pipeline, events, { batchSize: 200 });
        sent += events.length;
        batch += 1;
        peak = Math.max(peak, residentBytes(worker.pid!));
        const nextBatchAt = started + batch * 100;
        if (nextBatchAt > Date.now()) await new Promise((resolve) => setTimeout(resolve, nextBatchAt - Date.now()));
      }
      const backlogEntries = await redis.xLen("mx:stream");
      const backlogBytes = Number((await redis.sendCommand(["MEMORY", "USAGE", "mx:stream"])) ?? 0);
      const influxUpDuringOutage = await metric(metricsUrl, "mixstack_worker_influx_up");
      // The self-metrics tell the story while InfluxDB is down: a backlog, entries held, entries not yet read.
      const gaugesDuringOutage = {
        streamLength: await metric(metricsUrl, "mixstack_worker_stream_length"),
        pending: await metric(metricsUrl, "mixstack_worker_pending"),
        lag: await metric(metricsUrl, "mixstack_worker_lag"),
      };
      const retriesDuringOutage = await metric(metricsUrl, "mixstack_worker_write_retries_total");
      await pipeline.influx.start();

      await waitForCount(() => count("during-outage"), sent, 180_000);
      await waitForDrained(pipeline);
      expect(await count("during-outage")).toBe(sent);
      expect(await count("warm-up")).toBe(5000);

      // Nothing was acknowledged while InfluxDB was down: the backlog stayed in Redis, not in the worker.
      expect(backlogEntries).toBeGreaterThanOrEqual(batch);
      expect(influxUpDuringOutage).toBe(0);
      expect(retriesDuringOutage).toBeGreaterThan(0);
      expect(await metric(metricsUrl, "mixstack_worker_influx_up")).toBe(1);
      expect(gaugesDuringOutage.streamLength).toBeGreaterThan(0);
      expect(gaugesDuringOutage.pending).toBeGreaterThan(0);
      expect(gaugesDuringOutage.lag).toBeGreaterThan(0);
      // ... and once drained, the same gauges fall back to zero.
      await waitFor(
        "the backlog gauges at zero",
        async () =>
          (await metric(metricsUrl, "mixstack_worker_stream_length")) === 0 &&
          (await metric(metricsUrl, "mixstack_worker_pending")) === 0 &&
          (await metric(metricsUrl, "mixstack_worker_lag")) === 0,
        { timeoutMs: 30_000, intervalMs: 200 },
      );
      const growth = peak - baseline;
      console.log(
        `outage: ${sent} events in ${batch} entries held in Redis (${(backlogBytes / MB).toFixed(1)} MB); worker RSS ${(baseline / MB).toFixed(0)} MB -> peak ${(peak / MB).toFixed(0)} MB`,
      );
      // Holding the 60,000 events in the worker (as strings and objects) would cost far more than this.
      expect(backlogBytes).toBeGreaterThan(5 * MB);
      expect(growth).toBeLessThan(20 * MB);
      await redis.close();
    },
    300_000,
  );
});
