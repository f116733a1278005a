import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { InfluxClient } from "../services/core/influx";
import { toLine } from "../services/core/line-protocol";
import { encodeEntry, redisKeys, type EventItem } from "../services/core/queue";
import { createRedisConnection } from "../services/worker/redis-connection";
import { startPipeline, type Pipeline } from "../services/dev/pipeline";
import { waitFor } from "../services/dev/ports";
import { formPost, HttpConnection } from "./http-load";
import { FieldTypes } from "../services/worker/field-types";
import { toEventPoint } from "../services/worker/schema";
import { DEFAULT_EVENT_TAGS } from "../services/worker/settings";

/**
 * End-to-end benchmark of the pipeline `mixstack dev` runs (the same code path as the tests):
 *
 *   (order of the run: 1, 4, 2, 3)
 *   1. throughput: N events sent to ingest as browser batches (POST /track, base64, verbose=1) by C
 *      concurrent senders, until all N are queryable in InfluxDB -> events/s end to end;
 *   2. baseline, same run, same influxd: the same N events as the worker's own line protocol, written
 *      straight to InfluxDB by one writer in 5,000-point gzip requests -> points/s; ratio = 1 / 2;
 *   3. for diagnosis, the worker alone: the same N events put on the stream as ingest would (worker
 *      stopped), then the time for the worker to make them queryable -> events/s;
 *   4. freshness: events sent at half the end-to-end rate for D seconds; for each batch, the time from
 *      ingest's acceptance to the moment a query sees it -> p50/p99.
 *
 *   npx tsx bench/pipeline.ts [--events 300000] [--duration 20] [--batch 50] [--concurrency 8] [--workers 1] [--json]
 *
 * Stops by itself. Timings depend on the machine; run it on a quiet one for figures to publish.
 */

const { values: options } = parseArgs({
  options: {
    events: { type: "string", default: "300000" },
    duration: { type: "string", default: "20" },
    batch: { type: "string", default: "50" },
    concurrency: { type: "string", default: "8" },
    workers: { type: "string", default: "1" },
    json: { type: "boolean", default: false },
    rate: { type: "string" },
    "skip-throughput": { type: "boolean", default: false },
    "service-node-options": { type: "string", default: "" },
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
/** mixpanel-browser's batch request: trailing slash, verbose reply; no geolocation (as in the lead's runs). */
const TRACK_PATH = "/track/?verbose=1&ip=0";
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

/**
 * A browser batch as mixpanel-browser sends it to a self-hosted host: base64 of the JSON list,
 * URL-encoded in a form body. Built before the clock starts (the browsers are not on this machine).
 */
function body(batch: BenchEvent[]): Buffer {
  return Buffer.from(`data=${encodeURIComponent(Buffer.from(JSON.stringify(batch)).toString("base64"))}`);
}

/** Concurrent senders of prepared requests to ingest, retrying 5xx and 429 as the SDK would. */
function sender(baseUrl: string) {
  const { hostname, port } = new URL(baseUrl);
  const host = `${hostname}:${port}`;
  const idle: HttpConnection[] = [];
  const all: HttpConnection[] = [];
  return {
    prepare: (payload: Buffer) => formPost(host, TRACK_PATH, payload),
    async postBatch(request: Buffer): Promise<void> {
      const connection = idle.pop() ?? new HttpConnection(hostname, Number(port));
      if (!all.includes(connection)) all.push(connection);
      try {
        for (let attempt = 1; ; attempt += 1) {
          try {
            const { status, body } = await connection.request(request);
            if (status === 200 && body.includes('"status":1')) return;
            if (status !== 429 && status < 500) throw new Error(`ingest answered ${status}: ${body}`);
          } catch (error) {
            if (attempt > 50 || (error as Error).message.startsWith("ingest answered")) throw error;
          }
          await new Promise((resolve) => setTimeout(resolve, Math.min(1000, 20 * attempt)));
        }
      } finally {
        idle.push(connection);
      }
    },
    close: () => all.forEach((connection) => connection.close()),
  };
}

function percentile(sorted: number[], fraction: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil(fraction * sorted.length) - 1)]!;
}

const fmt = (value: number) => Math.round(value).toLocaleString("en-US");

/**
 * The i-th event of a phase gets a millisecond of its own, never a whole second (the worker spreads
 * whole-second times over their second, which could move an event across a phase's bounds): N
 * distinct events, and a time range selects exactly one phase.
 */
function phaseTime(phaseStart: number, index: number): number {
  return phaseStart + Math.floor(index / 999) * 1000 + (index % 999) + 1;
}
const PHASE_SPAN = (Math.floor(EVENTS / 999) + 2) * 1000;
/** Whole seconds, far enough in the past for two phases. */
const THROUGHPUT_START = Math.floor((Date.now() - 2 * PHASE_SPAN - 3_600_000) / 1000) * 1000;
const WORKER_ALONE_START = THROUGHPUT_START + PHASE_SPAN;

async function countPhase(influx: InfluxClient, db: string, phaseStart: number): Promise<number> {
  const rows = await influx.rows(`SELECT count("insert_id") FROM "events" WHERE time >= ${phaseStart}ms AND time < ${phaseStart + PHASE_SPAN}ms`, { db });
  return Number(rows[0]?.count ?? 0);
}

/**
 * Waits for a phase's N events to be queryable; gives up (with the count reached) after `timeoutMs`.
 * While the stream still holds entries, only its length is polled (cheap: a count over the phase's
 * points is real work for influxd, which would otherwise be slowed down by the measurement itself);
 * once the worker has finished every entry (it deletes an entry only after InfluxDB accepted its
 * points), the count is what decides.
 */
async function waitForPhase(pipeline: Pipeline, influx: InfluxClient, phaseStart: number, timeoutMs = 600_000): Promise<void> {
  const redis = createRedisConnection(pipeline.redis.url);
  await redis.connect();
  let last = 0;
  try {
    await waitFor(
      "every event queryable",
      async () => {
        if (Number(await redis.sendCommand(["XLEN", redisKeys.stream])) > 0) return false;
        return (last = await countPhase(influx, pipeline.database, phaseStart)) >= EVENTS;
      },
      { timeoutMs, intervalMs: 20 },
    );
  } catch {
    throw new Error(`only ${last} of ${EVENTS} events became queryable within ${timeoutMs / 1000} s`);
  } finally {
    await redis.close();
  }
}

/** The throughput phase's events and request bodies, prepared before anything is timed. */
function throughputLoad(client: ReturnType<typeof sender>): { events: BenchEvent[]; requests: Buffer[] } {
  // Each event gets its own millisecond: N distinct events (see docs/worker.md on timestamps).
  const events = Array.from({ length: EVENTS }, (_, index) => makeEvent(index, phaseTime(THROUGHPUT_START, index), -1));
  const requests: Buffer[] = [];
  for (let start = 0; start < events.length; start += BATCH) requests.push(client.prepare(body(events.slice(start, start + BATCH))));
  return { events, requests };
}

async function throughput(
  pipeline: Pipeline,
  influx: InfluxClient,
  client: ReturnType<typeof sender>,
  { events, requests }: { events: BenchEvent[]; requests: Buffer[] },
): Promise<{ eventsPerSecond: number; acceptedPerSecond: number; seconds: number; events: BenchEvent[] }> {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < requests.length) await client.postBatch(requests[next++]!);
    }),
  );
  const acceptedAt = performance.now();
  client.close();
  await waitForPhase(pipeline, influx, THROUGHPUT_START);
  const seconds = (performance.now() - started) / 1000;
  return { eventsPerSecond: EVENTS / seconds, acceptedPerSecond: EVENTS / ((acceptedAt - started) / 1000), seconds, events };
}

/** The event as ingest puts it on the stream (optionally moved in time, with another insert id). */
function toItem(source: BenchEvent, insertPrefix = "", shiftMs = 0): EventItem {
  const { token: _token, distinct_id, $insert_id, time, ...properties } = source.properties;
  return { event: source.event, time: Number(time) + shiftMs, insertId: `${insertPrefix}${String($insert_id)}`, distinctId: String(distinct_id), properties };
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

async function workerOnly(pipeline: Pipeline, influx: InfluxClient, events: BenchEvent[]): Promise<{ eventsPerSecond: number; seconds: number; cpuSeconds: number }> {
  await Promise.all(pipeline.workers.map((worker) => worker.stop()));
  const redis = createRedisConnection(pipeline.redis.url);
  await redis.connect();
  const prefix = "w-";
  for (let start = 0; start < events.length; start += BATCH * 100) {
    const adds: Promise<unknown>[] = [];
    for (let batch = start; batch < Math.min(events.length, start + BATCH * 100); batch += BATCH) {
      const items = events.slice(batch, batch + BATCH).map((event) => toItem(event, prefix, WORKER_ALONE_START - THROUGHPUT_START));
      adds.push(redis.sendCommand(["XADD", redisKeys.stream, "*", ...Object.entries(encodeEntry({ kind: "track", items, received: Date.now() })).flat()]));
    }
    await Promise.all(adds);
  }
  await redis.close();
  // Timed from the moment the workers are up (start() waits for their /healthz): their own speed only.
  await Promise.all(pipeline.workers.map((worker) => worker.start()));
  const started = performance.now();
  const cpuBefore = cpuSeconds(pipeline);
  await waitForPhase(pipeline, influx, WORKER_ALONE_START);
  const seconds = (performance.now() - started) / 1000;
  const cpuAfter = cpuSeconds(pipeline);
  const workerCpu = Object.keys(cpuAfter)
    .filter((name) => name.startsWith("mixstack worker"))
    .reduce((sum, name) => sum + cpuAfter[name]! - (cpuBefore[name] ?? 0), 0);
  return { eventsPerSecond: events.length / seconds, seconds, cpuSeconds: workerCpu };
}

async function freshness(pipeline: Pipeline, influx: InfluxClient, rate: number): Promise<{ p50: number; p99: number; max: number; batches: number; rate: number }> {
  const client = sender(pipeline.ingestUrl!);
  const intervalMs = (BATCH / rate) * 1000;
  // Every batch gets a millisecond of its own (never a whole second, which the worker spreads over
  // the second), so that one query counting per millisecond tells which batches are queryable.
  const times: number[] = [];
  const accepted = new Map<number, number>();
  const latencies: number[] = [];
  let sending = true;
  let nextVisible = 0;
  let deadline = Number.POSITIVE_INFINITY;
  const poller = (async () => {
    while ((sending || nextVisible < times.length) && performance.now() < deadline) {
      // One query for every batch accepted and not yet seen: counts per millisecond (one batch each).
      let last = nextVisible;
      while (last + 1 < times.length && accepted.has(last + 1) && last + 1 - nextVisible < 500) last += 1;
      if (nextVisible < times.length && accepted.has(nextVisible)) {
        const rows = await influx.rows(
          `SELECT count("insert_id") FROM "events" WHERE time >= ${times[nextVisible]}ms AND time < ${times[last]! + 1}ms GROUP BY time(1ms) fill(none)`,
          { db: pipeline.database, epoch: "ms" },
        );
        const counts = new Map(rows.map((row) => [Number(row.time), Number(row.count)]));
        const now = performance.now();
        while (nextVisible <= last && (counts.get(times[nextVisible]!) ?? 0) >= BATCH) {
          latencies.push(now - accepted.get(nextVisible)!);
          nextVisible += 1;
        }
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  })();
  const started = performance.now();
  const inflight: Promise<void>[] = [];
  let index = 3 * EVENTS;
  // Batch times are "now", far from the earlier phases' past ranges.
  for (let seq = 0; performance.now() - started < DURATION_S * 1000; seq += 1) {
    const due = started + seq * intervalMs;
    if (due > performance.now()) await new Promise((resolve) => setTimeout(resolve, due - performance.now()));
    let time = Math.max(Date.now(), (times[times.length - 1] ?? 0) + 1);
    if (time % 1000 === 0) time += 1;
    times.push(time);
    const batch = Array.from({ length: BATCH }, () => makeEvent((index += 1), time, seq));
    inflight.push(client.postBatch(client.prepare(body(batch))).then(() => void accepted.set(seq, performance.now())));
  }
  await Promise.all(inflight);
  client.close();
  sending = false;
  deadline = performance.now() + 120_000;
  await poller;
  if (nextVisible < times.length) throw new Error(`${times.length - nextVisible} batches were not queryable 120 s after the last was sent`);
  latencies.sort((a, b) => a - b);
  return { p50: percentile(latencies, 0.5), p99: percentile(latencies, 0.99), max: latencies[latencies.length - 1] ?? Number.NaN, batches: latencies.length, rate };
}

/** CPU seconds used so far by each process of the pipeline and by this one (Linux /proc). */
function cpuSeconds(pipeline: Pipeline): Record<string, number> {
  const read = (pid: number | undefined) => {
    if (!pid) return 0;
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
    return (Number(fields[11]) + Number(fields[12])) / 100;
  };
  const result: Record<string, number> = { bench: process.cpuUsage().user / 1e6 + process.cpuUsage().system / 1e6 };
  // Keyed by name and PID: workers share a name, and a restarted one is another process.
  for (const child of pipeline.processes()) if (child.running) result[`${child.spec.name} (${child.pid})`] = read(child.pid);
  return result;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "mixstack-bench-"));
  const nodeOptions = options["service-node-options"] ? { NODE_OPTIONS: options["service-node-options"] } : {};
  const pipeline = await startPipeline({ dir, token: TOKEN, workers: WORKERS, ingestEnv: { MIXSTACK_GEOIP: "false", MIXSTACK_CLIENT_MS_PER_SECOND: "1000000", MIXSTACK_CLIENT_BURST_MS: "1000000", ...nodeOptions }, workerEnv: nodeOptions });
  try {
    if (!pipeline.ingestUrl) throw new Error("this build has no ingest");
    const influx = new InfluxClient({ url: pipeline.influx.url, timeoutMs: 120_000 });
    // Freshness right after the throughput run that sets its rate; the two baselines after it, so
    // that their load on InfluxDB (compactions) does not weigh on the latencies.
    const client = sender(pipeline.ingestUrl);
    const load = throughputLoad(client);
    const cpuStart = cpuSeconds(pipeline);
    const e2e = await throughput(pipeline, influx, client, load);
    const cpuBefore = cpuSeconds(pipeline);
    if (process.env.BENCH_DEBUG) {
      const metrics = await (await fetch(`${pipeline.workerMetricsUrls[0]}/metrics`)).text();
      const total = (name: string) => metrics.split("\n").filter((line) => line.startsWith(name)).reduce((sum, line) => sum + Number(line.split(" ").pop()), 0);
      process.stderr.write(`worker: ${total("mixstack_worker_write_seconds_count")} writes, ${total("mixstack_worker_points_written_total")} points\n`);
      for (const [name, seconds] of Object.entries(cpuBefore)) {
        const used = seconds - (cpuStart[name] ?? 0);
        process.stderr.write(`throughput cpu ${name}: ${((used / e2e.seconds) * 100).toFixed(0)}%  ${((used / EVENTS) * 1e6).toFixed(1)} µs/event\n`);
      }
    }
    const freshStarted = performance.now();
    const fresh = await freshness(pipeline, influx, options.rate ? Number(options.rate) : e2e.eventsPerSecond / 2);
    const cpuAfter = cpuSeconds(pipeline);
    const wall = (performance.now() - freshStarted) / 1000;
    if (process.env.BENCH_DEBUG) {
      for (const [name, seconds] of Object.entries(cpuAfter)) process.stderr.write(`cpu ${name}: ${(((seconds - (cpuBefore[name] ?? 0)) / wall) * 100).toFixed(0)}%\n`);
    }
    const raw = await rawBaseline(influx, e2e.events);
    const alone = await workerOnly(pipeline, influx, e2e.events);
    if (process.env.BENCH_DEBUG) process.stderr.write(`worker alone cpu: ${((alone.cpuSeconds / EVENTS) * 1e6).toFixed(1)} µs/event\n`);
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
