import { beforeAll, describe, expect, it } from "vitest";
import type { InfluxClient } from "../../services/core/influx";
import type { Pipeline } from "../../services/dev/pipeline";
import {
  DAY_MS,
  MB,
  WEEK_MS,
  figures,
  importEvents,
  influxOf,
  metric,
  residentBytes,
  shardCount,
  startAbusePipeline,
  track,
  verboseStatus,
  waitForDrained,
} from "./support";

/**
 * Finding 1 of issue 12, "shard explosion": event times were accepted back to 1971 on `/track` and
 * `/import`, and with the default INF retention every week of history is a shard of its own (one
 * request of 1,000 events a week apart made 1,000 shards, influxd 17 → 652 MB). Here, scaled down:
 * 300 events a week apart, through `/track` and through `/import` with the API secret.
 */

const EVENTS = 300;

function weeklyEvents(token: string, name: string, now: number): Array<{ event: string; properties: Record<string, unknown> }> {
  return Array.from({ length: EVENTS }, (_, index) => ({
    event: name,
    properties: { token, distinct_id: `clock-${index % 7}`, time: now - index * WEEK_MS - 60_000, $insert_id: `${name}-${index}` },
  }));
}

describe("abuse: event times far in the past", () => {
  let pipeline: Pipeline;
  let influx: InfluxClient;

  beforeAll(async () => {
    pipeline = await startAbusePipeline();
    influx = influxOf(pipeline);
  });

  it("one /track request of 300 events a week apart opens no more than the current weeks' shards, and influxd's memory stays flat", async () => {
    // A first event, so that the current week's shard exists before the measurement.
    expect(verboseStatus(await track(pipeline, { event: "warm-up", properties: { token: pipeline.token, distinct_id: "w" } }))).toBe(1);
    await waitForDrained(pipeline);
    const shardsBefore = await shardCount(influx, pipeline.database);
    const rssBefore = residentBytes(pipeline.influx.pid!);

    const reply = await track(pipeline, weeklyEvents(pipeline.token, "broken-clock", Date.now()));
    await waitForDrained(pipeline);
    const shardsAfter = await shardCount(influx, pipeline.database);
    const rssAfter = residentBytes(pipeline.influx.pid!);
    figures("track-weekly-events", { events: EVENTS, shardsBefore, shardsAfter, influxRssBeforeMb: Math.round(rssBefore / MB), influxRssAfterMb: Math.round(rssAfter / MB), reply: reply.text.slice(0, 160) });

    // Only the recent event is accepted: /track keeps 5 days (Mixpanel's rule); the others are refused and counted.
    expect(verboseStatus(reply)).toBe(1);
    expect(await metric(pipeline.ingestMetricsUrl!, "mixstack_ingest_events_rejected_total", 'reason="too_old"')).toBe(EVENTS - 1);
    expect(shardsAfter - shardsBefore).toBeLessThanOrEqual(1);
    expect(rssAfter - rssBefore).toBeLessThan(50 * MB);
  });

  it("/import with the API secret opens at most a bounded number of new weeks per request and per minute, and never goes before the floor", async () => {
    const shardsBefore = await shardCount(influx, pipeline.database);
    const rssBefore = residentBytes(pipeline.influx.pid!);
    const now = Date.now();
    const firstMinute = Math.floor(now / 60_000);

    // 300 weeks in one request: more new weeks than one request may open.
    const whole = await importEvents(pipeline, weeklyEvents(pipeline.token, "backfill-all", now));
    // An event of 2 January 1971 (in seconds, as SDKs send it): before the floor (two years by default).
    const ancient = await importEvents(pipeline, [{ event: "ancient", properties: { token: pipeline.token, distinct_id: "a", time: 31_622_400, $insert_id: "ancient-1" } }]);
    // Five weeks at a time, as a polite backfill tool would send them, until the minute's budget
    // (10 new weeks, this week's included) says 429.
    const statuses: number[] = [];
    let retryAfter: string | undefined;
    for (let start = 10; start < 60; start += 5) {
      const slice = weeklyEvents(pipeline.token, `backfill-${start}`, now).slice(start, start + 5);
      const reply = await importEvents(pipeline, slice);
      statuses.push(reply.status);
      if (reply.status === 429) {
        retryAfter = String(reply.headers["retry-after"]);
        break;
      }
    }
    await waitForDrained(pipeline);
    const shardsAfter = await shardCount(influx, pipeline.database);
    const rssAfter = residentBytes(pipeline.influx.pid!);
    figures("import-weekly-events", {
      shardsBefore,
      shardsAfter,
      influxRssBeforeMb: Math.round(rssBefore / MB),
      influxRssAfterMb: Math.round(rssAfter / MB),
      whole: `${whole.status} ${whole.text.slice(0, 200)}`,
      ancient: `${ancient.status} ${ancient.text.slice(0, 300)}`,
      statuses,
    });

    expect(whole.status).toBe(400);
    expect(JSON.parse(whole.text)).toMatchObject({ code: 400, num_records_imported: 0 });
    expect(whole.text).toContain("new weeks");
    expect(ancient.status).toBe(400);
    expect(JSON.parse(ancient.text).failed_records[0]).toMatchObject({ field: "properties.time" });
    expect(ancient.text).toContain("MIXSTACK_HISTORY_SINCE");
    // The first slice is in, and the minute's budget refuses a later one with 429.
    expect(statuses[0]).toBe(200);
    expect(statuses).toContain(429);
    expect(Number(retryAfter)).toBeGreaterThan(0);
    // The budget is per clock minute: a run that crossed a minute boundary had two of them.
    const minutes = Math.floor(Date.now() / 60_000) - firstMinute + 1;
    expect(shardsAfter - shardsBefore).toBeLessThanOrEqual(10 * minutes);
    expect(rssAfter - rssBefore).toBeLessThan(50 * MB);
  });
});
