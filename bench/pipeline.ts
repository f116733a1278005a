import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { InfluxClient } from "../services/core/influx";
import { toLine } from "../services/core/line-protocol";
import { encodeEntry, redisKeys, type EventItem } from "../services/core/queue";
import { createRedisConnection } from "../services/worker/redis-connection";
import { startPipeline, type Pipeline } from "../services/dev/pipeline";
import { waitFor } from "../services/dev/ports";
import { FieldTypes } from "../services/worker/field-types";
import { toEventPoint } from "../services/worker/schema";
import { DEFAULT_EVENT_TAGS } from "../services/worker/settings";

/**
 * End-to-end benchmark of the pipeline `mixstack dev` runs (the same code path as the tests):
 *
 *   1. throughput: N events sent to ingest as browser batches (POST /track, base64, verbose=1) by C
 *      concurrent senders, until all N are queryable in InfluxDB -> events/s end to end;
 *   2. baseline, same run, same influxd: the same N events as the worker's own line protocol, written
 *      straight to InfluxDB by one writer in 5,000-point gzip requests -> points/s; ratio = 1 / 2;
 *   3. for diagnosis, the worker alone: the same N events put on the stream as ingest would (worker
 *      stopped), then the time for the worker to make them queryable -> events/s;
 *   4. freshness: events sent at half the end-to-end rate for D seconds; for each batch, the time from
 *      ingest's acceptance to the moment a query sees it -> p50/p99.
 *
 *   npx tsx bench/pipeline.ts [--events 100000] [--duration 20] [--batch 50] [--concurrency 8] [--workers 1] [--json]
 *
 * Stops by itself. Timings depend on the machine; run it on a quiet one for figures to publish.
 */

const { values: options } = parseArgs({
  options: {
    events: { type: "string", default: "100000" },
    duration: { type: "string", default: "20" },
    batch: { type: "string", default: "50" },
    concurrency: { type: "string", default: "8" },
    workers: { type: "string", default: "1" },
    json: { type: "boolean", default: false },
  },
});
const EVENTS = Number(options.events);
const DURATION_S = Number(options.duration);
const BATCH = Number(options.batch);
const CONCURRENCY = Number(options.concurrency);
const WORKERS = Number(options.workers);
for (const [name, value] of Object.entries({ events: EVENTS, duration: DURATION_S, batch: BATCH, concurrency: CONCURRENCY, workers: WORKERS })) {
  if (!Number.isInteger(value) || value <= 0) throw new Error(`--${name} must be a positive integer`);
}

const TOKEN = "bench-token";
const RUN = Date.now().toString(36);
const OS = ["Mac OS X", "Windows", "Linux", "iOS", "Android"];
const BROWSERS = ["Chrome", "Safari", "Firefox", "Edge"];
const EVENTS_NAMES = ["Page Viewed", "Clicked", "Signed Up", "Purchased", "Searched"];

interface BenchEvent {
  event: string;
  properties: Record<string, string | number | boolean>;
}

/** A browser-like event: a handful of tags' worth of properties and a few free-form ones. */
function makeEvent(index: number, time: number, seq: number): BenchEvent {
  return {
    event: EVENTS_NAMES[index % EVENTS_NAMES.length]!,
    properties: {
      token: TOKEN,
      distinct_id: `user-${index % 5000}`,
      $device_id: `device-${index % 7000}`,
      $insert_id: `${RUN}-${index}`,
      time,
      mp_lib: "web",
      $os: OS[index % OS.length]!,
      $browser: BROWSERS[index % BROWSERS.length]!,
      $current_url: `https://app.example.com/page/${index % 300}?utm_source=bench`,
      $screen_width: 1440,
      plan: index % 3 ? "free" : "pro",
      amount: (index % 1000) / 10,
      bench_seq: seq,
    },
  };
}

function body(batch: BenchEvent[]): string {
  return `data=${encodeURIComponent(Buffer.from(JSON.stringify(batch)).toString("base64"))}`;
}

async function postBatch(url: string, payload: string): Promise<void> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      const response = await fetch(url, { method: "POST", headers: { "Content-Type": "application/x-www-form-urlencoded" }, body: payload });
      const text = await response.text();
      if (response.status === 200 && text.includes('"status":1')) return;
      if (response.status !== 429 && response.status < 500) throw new Error(`ingest answered ${response.status}: ${text}`);
    } catch (error) {
      if (attempt > 50) throw error;
    }
    await new Promise((resolve) => setTimeout(resolve, Math.min(1000, 20 * attempt)));
  }
}

function percentile(sorted: number[], fraction: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil(fraction * sorted.length) - 1)]!;
}

const fmt = (value: number) => Math.round(value).toLocaleString("en-US");

async function countRun(influx: InfluxClient, db: string, from: number): Promise<number> {
  const rows = await influx.rows(`SELECT count("insert_id") FROM "events" WHERE time >= ${from}ms AND "insert_id" =~ /^${RUN}-/`, { db });
  return Number(rows[0]?.count ?? 0);
}

async function throughput(pipeline: Pipeline, influx: InfluxClient): Promise<{ eventsPerSecond: number; acceptedPerSecond: number; seconds: number; events: BenchEvent[] }> {
  // Each event gets its own millisecond: N distinct events (see docs/worker.md on timestamps).
  const firstTime = Date.now() - EVENTS - 60_000;
  const events = Array.from({ length: EVENTS }, (_, index) => makeEvent(index, firstTime + index, -1));
  const bodies: string[] = [];
  for (let start = 0; start < events.length; start += BATCH) bodies.push(body(events.slice(start, start + BATCH)));
  const url = `${pipeline.ingestUrl}/track/?verbose=1&ip=0`;
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < bodies.length) await postBatch(url, bodies[next++]!);
    }),
  );
  const acceptedAt = performance.now();
  await waitFor("every event queryable", async () => (await countRun(influx, pipeline.database, firstTime)) >= EVENTS, { timeoutMs: 1_800_000, intervalMs: 200 });
  const seconds = (performance.now() - started) / 1000;
  return { eventsPerSecond: EVENTS / seconds, acceptedPerSecond: EVENTS / ((acceptedAt - started) / 1000), seconds, events };
}

/** The event as ingest puts it on the stream. */
function toItem(source: BenchEvent, insertPrefix = ""): EventItem {
  const { token: _token, distinct_id, $insert_id, time, ...properties } = source.properties;
  return { event: source.event, time: Number(time), insertId: `${insertPrefix}${String($insert_id)}`, distinctId: String(distinct_id), properties };
}

async function rawBaseline(influx: InfluxClient, events: BenchEvent[]): Promise<{ pointsPerSecond: number; seconds: number }> {
  await influx.query('CREATE DATABASE "bench_raw"');
  const types = new FieldTypes();
  const schema = { tagKeys: new Set(DEFAULT_EVENT_TAGS) };
  const lines = events.map((source) => {
    const item = toItem(source);
    return toLine(toEventPoint(item, item.distinctId, schema, types).point) as string;
  });
  const started = performance.now();
  for (let start = 0; start < lines.length; start += 5000) {
    await influx.write(lines.slice(start, start + 5000).join("\n"), { db: "bench_raw", gzip: true });
  }
  const seconds = (performance.now() - started) / 1000;
  return { pointsPerSecond: lines.length / seconds, seconds };
}

async function workerOnly(pipeline: Pipeline, influx: InfluxClient, events: BenchEvent[]): Promise<{ eventsPerSecond: number; seconds: number }> {
  await Promise.all(pipeline.workers.map((worker) => worker.stop()));
  const redis = createRedisConnection(pipeline.redis.url);
  await redis.connect();
  const prefix = "w-";
  for (let start = 0; start < events.length; start += BATCH * 100) {
    const adds: Promise<unknown>[] = [];
    for (let batch = start; batch < Math.min(events.length, start + BATCH * 100); batch += BATCH) {
      const items = events.slice(batch, batch + BATCH).map((event) => toItem(event, prefix));
      adds.push(redis.sendCommand(["XADD", redisKeys.stream, "*", ...Object.entries(encodeEntry({ kind: "track", items, received: Date.now() })).flat()]));
    }
    await Promise.all(adds);
  }
  await redis.close();
  const firstTime = Number(events[0]!.properties.time);
  // Timed from the moment the workers are up (start() waits for their /healthz): their own speed only.
  await Promise.all(pipeline.workers.map((worker) => worker.start()));
  const started = performance.now();
  await waitFor(
    "every event queryable",
    async () => {
      const rows = await influx.rows(`SELECT count("insert_id") FROM "events" WHERE time >= ${firstTime}ms AND "insert_id" =~ /^${prefix}${RUN}-/`, { db: pipeline.database });
      return Number(rows[0]?.count ?? 0) >= events.length;
    },
    { timeoutMs: 1_800_000, intervalMs: 200 },
  );
  const seconds = (performance.now() - started) / 1000;
  return { eventsPerSecond: events.length / seconds, seconds };
}

async function freshness(pipeline: Pipeline, influx: InfluxClient, rate: number): Promise<{ p50: number; p99: number; max: number; batches: number; rate: number }> {
  const url = `${pipeline.ingestUrl}/track/?verbose=1&ip=0`;
  const intervalMs = (BATCH / rate) * 1000;
  const accepted = new Map<number, number>();
  const visible = new Map<number, number>();
  let highest = -1;
  let sending = true;
  const poller = (async () => {
    while (sending || highest < accepted.size - 1) {
      const rows = await influx.rows(`SELECT last("bench_seq") FROM "events" WHERE time > now() - 1m AND "bench_seq" >= 0`, { db: pipeline.database });
      const seen = Number(rows[0]?.last ?? -1);
      const now = performance.now();
      for (let seq = highest + 1; seq <= seen; seq += 1) visible.set(seq, now);
      highest = Math.max(highest, seen);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  })();
  const started = performance.now();
  const inflight: Promise<void>[] = [];
  let index = EVENTS;
  for (let seq = 0; performance.now() - started < DURATION_S * 1000; seq += 1) {
    const due = started + seq * intervalMs;
    if (due > performance.now()) await new Promise((resolve) => setTimeout(resolve, due - performance.now()));
    const time = Date.now();
    const batch = Array.from({ length: BATCH }, (_, offset) => makeEvent((index += 1), time, seq));
    const payload = body(batch);
    inflight.push(postBatch(url, payload).then(() => void accepted.set(seq, performance.now())));
  }
  await Promise.all(inflight);
  sending = false;
  await poller;
  const latencies = [...accepted.entries()].map(([seq, at]) => Math.max(0, visible.get(seq)! - at)).sort((a, b) => a - b);
  return { p50: percentile(latencies, 0.5), p99: percentile(latencies, 0.99), max: latencies[latencies.length - 1] ?? Number.NaN, batches: latencies.length, rate };
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "mixstack-bench-"));
  const pipeline = await startPipeline({ dir, token: TOKEN, workers: WORKERS, ingestEnv: { MIXSTACK_GEOIP: "false" } });
  try {
    if (!pipeline.ingestUrl) throw new Error("this build has no ingest");
    const influx = new InfluxClient({ url: pipeline.influx.url, timeoutMs: 120_000 });
    const e2e = await throughput(pipeline, influx);
    const raw = await rawBaseline(influx, e2e.events);
    const alone = await workerOnly(pipeline, influx, e2e.events);
    const fresh = await freshness(pipeline, influx, e2e.eventsPerSecond / 2);
    const ratio = e2e.eventsPerSecond / raw.pointsPerSecond;
    const result = {
      events: EVENTS,
      batch: BATCH,
      concurrency: CONCURRENCY,
      workers: WORKERS,
      endToEndEventsPerSecond: Math.round(e2e.eventsPerSecond),
      ingestAcceptedEventsPerSecond: Math.round(e2e.acceptedPerSecond),
      rawLineProtocolPointsPerSecond: Math.round(raw.pointsPerSecond),
      ratio: Number(ratio.toFixed(3)),
      workerAloneEventsPerSecond: Math.round(alone.eventsPerSecond),
      freshness: { rate: Math.round(fresh.rate), seconds: DURATION_S, batches: fresh.batches, p50Ms: Math.round(fresh.p50), p99Ms: Math.round(fresh.p99), maxMs: Math.round(fresh.max) },
    };
    if (options.json) {
      process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
      return;
    }
    const lines = [
      `mixstack pipeline benchmark: ${fmt(EVENTS)} events in batches of ${BATCH}, ${CONCURRENCY} senders, ${WORKERS} worker(s)`,
      "",
      `  end to end (HTTP in -> queryable)        ${fmt(e2e.eventsPerSecond).padStart(9)} events/s   (${e2e.seconds.toFixed(1)} s; ingest accepted ${fmt(e2e.acceptedPerSecond)}/s)`,
      `  raw line protocol, same points, 1 writer ${fmt(raw.pointsPerSecond).padStart(9)} points/s   (${raw.seconds.toFixed(1)} s)`,
      `  ratio end to end / raw                   ${ratio.toFixed(2).padStart(9)}            (target >= 0.5)`,
      `  worker alone (stream -> queryable)       ${fmt(alone.eventsPerSecond).padStart(9)} events/s   (${alone.seconds.toFixed(1)} s; ratio to raw ${(alone.eventsPerSecond / raw.pointsPerSecond).toFixed(2)})`,
      "",
      `  freshness at ${fmt(fresh.rate)} events/s (half the end-to-end rate), ${DURATION_S} s, ${fresh.batches} batches:`,
      `    accepted -> queryable  p50 ${fmt(fresh.p50)} ms   p99 ${fmt(fresh.p99)} ms   max ${fmt(fresh.max)} ms   (target p99 <= 2000 ms; poll every 20 ms)`,
      "",
    ];
    process.stdout.write(lines.join("\n"));
  } finally {
    await pipeline.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: Error) => {
  process.stderr.write(`${error.stack ?? error.message}\n`);
  process.exitCode = 1;
});
