import { beforeAll, describe, expect, it } from "vitest";
import type { InfluxClient } from "../../services/core/influx";
import type { Pipeline } from "../../services/dev/pipeline";
import { listDeadLetters } from "../../services/worker/dlq";
import { createRedisConnection } from "../../services/worker/redis-connection";
import {
  MB,
  fieldKeyCount,
  figures,
  influxOf,
  metric,
  randomNames,
  residentBytes,
  seriesCount,
  startAbusePipeline,
  tagValues,
  track,
  verboseStatus,
  waitForDrained,
} from "./support";

/**
 * Finding 4 of issue 12, "client-controlled cardinality": the tags (`event`, `mp_lib`, `$os`,
 * `$browser`, `mp_country_code`) were whatever the client sent, so 1,500 random names made 1,500
 * series; and every property name became a field key (800 events × 250 random keys: 200,002 field
 * keys, influxd +222 MB). Here: 1,500 random event names with random tag values, then 100 events of
 * 250 random property keys each, with the default budgets.
 */

const NAMES = 1500;
const KEYED_EVENTS = 100;
const KEYS_PER_EVENT = 250;

describe("abuse: a flood of random names", () => {
  let pipeline: Pipeline;
  let influx: InfluxClient;

  beforeAll(async () => {
    // The flood stands for many clients: ingest's per-address budget (large-bodies.test.ts) would slow it down.
    pipeline = await startAbusePipeline({ ingestEnv: { MIXSTACK_CLIENT_MS_PER_SECOND: "0" } });
    influx = influxOf(pipeline);
  });

  it("random property keys: field keys stay within the daily budget, and the worker and influxd stay small", async () => {
    const influxBefore = residentBytes(pipeline.influx.pid!);
    const workerBefore = residentBytes(pipeline.workers[0]!.pid!);
    const keysBefore = await fieldKeyCount(influx, pipeline.database);
    const keys = randomNames(KEYED_EVENTS * KEYS_PER_EVENT, 23, 10);
    for (let start = 0; start < KEYED_EVENTS; start += 20) {
      const events = Array.from({ length: 20 }, (_, offset) => {
        const index = start + offset;
        const properties: Record<string, unknown> = { token: pipeline.token, distinct_id: "keyed", $insert_id: `keys-${index}` };
        for (let key = 0; key < KEYS_PER_EVENT; key += 1) properties[keys[index * KEYS_PER_EVENT + key]!] = key;
        return { event: "keyed event", properties };
      });
      expect(verboseStatus(await track(pipeline, events))).toBe(1);
    }
    await waitForDrained(pipeline);
    const keysAfter = await fieldKeyCount(influx, pipeline.database);
    const influxAfter = residentBytes(pipeline.influx.pid!);
    const workerAfter = residentBytes(pipeline.workers[0]!.pid!);
    figures("random-property-keys", {
      events: KEYED_EVENTS,
      keysPerEvent: KEYS_PER_EVENT,
      fieldKeysBefore: keysBefore,
      fieldKeysAfter: keysAfter,
      influxRssDeltaMb: +((influxAfter - influxBefore) / MB).toFixed(1),
      workerRssDeltaMb: +((workerAfter - workerBefore) / MB).toFixed(1),
    });

    // 20 events of 250 new keys fill the day's 5,000; the other 80 are dead-lettered.
    // Plus `insert_id` and `distinct_id`, the worker's own columns.
    expect(keysAfter - keysBefore).toBeLessThanOrEqual(5000 + 2);
    expect(await metric(pipeline.workerMetricsUrls[0]!, "mixstack_worker_budget_refusals_total")).toBe(KEYED_EVENTS - 20);
    expect(influxAfter - influxBefore).toBeLessThan(100 * MB);
    expect(workerAfter - workerBefore).toBeLessThan(100 * MB);
  });

  it("random event names and tag values: series stay within the daily budget, the flood's events are dead-lettered and counted", async () => {
    const names = randomNames(NAMES, 7);
    const junk = randomNames(NAMES, 11, 6);
    for (let start = 0; start < NAMES; start += 500) {
      const events = names.slice(start, start + 500).map((name, offset) => {
        const index = start + offset;
        return {
          event: name,
          properties: {
            token: pipeline.token,
            distinct_id: `flooder-${index % 10}`,
            $insert_id: `names-${index}`,
            mp_lib: `lib-${junk[index]}`,
            $os: `os-${junk[index]}`,
            $browser: `browser-${junk[index]}`,
            mp_country_code: junk[index]!.slice(0, 2).toUpperCase() + junk[index]!.slice(2, 3),
          },
        };
      });
      expect(verboseStatus(await track(pipeline, events))).toBe(1);
    }
    await waitForDrained(pipeline);
    const series = await seriesCount(influx, pipeline.database);
    const osValues = await tagValues(influx, pipeline.database, "$os");
    const libValues = await tagValues(influx, pipeline.database, "mp_lib");
    const countries = await tagValues(influx, pipeline.database, "mp_country_code");
    const redis = createRedisConnection(pipeline.redis.url);
    await redis.connect();
    const letters = await listDeadLetters(redis, { count: 1000 });
    await redis.close();
    const refusedItems = letters.filter((letter) => letter.reason.includes("new event names")).reduce((sum, letter) => sum + letter.items, 0);
    const refusals = await metric(pipeline.workerMetricsUrls[0]!, "mixstack_worker_budget_refusals_total");
    figures("random-event-names", { names: NAMES, series, osValues: osValues.length, libValues: libValues.length, countries: countries.length, refusedItems, refusals, reason: letters[0]?.reason.slice(0, 200) });

    expect(series).toBeLessThanOrEqual(1000);
    expect(osValues.length).toBeLessThanOrEqual(1);
    expect(libValues.length).toBeLessThanOrEqual(1);
    expect(countries.length).toBe(0);
    // "keyed event" (the test before) took one name of the day's 1,000.
    expect(refusedItems).toBe(NAMES - 999);
    expect(refusals).toBe(NAMES - 999 + KEYED_EVENTS - 20);
  });
});
