/**
 * Ingest throughput, with a raw Redis baseline measured in the same run:
 *
 *   npx tsx bench/ingest.ts [--duration 10] [--batch-connections 32] [--single-connections 64] [--batch 50]
 *                           [--ingest-node-options "--max-semi-space-size=32"]
 *
 * Starts its own redis-server (AOF everysec, as deployed) and `mixstack ingest` as a separate
 * process, then measures, each for `duration` seconds:
 *   1. batched: POST /track with 50 browser-style events (base64 form body, verbose=1, ip=1);
 *   2. single:  GET /track?data=… with one Node-SDK-style event (ip=0), at a fixed concurrency;
 *   3. the baseline: the same stream entries written by pipelined XADD straight from this process.
 * Accepted events are counted on the stream (XLEN), not from HTTP statuses. Load comes from
 * autocannon in this process; the ingest process' CPU time is read from /proc, so that the figures
 * can also be given per CPU-second of ingest (what one dedicated core would do) on a busy machine.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { createClient } from "redis";
import { encodeEntry, redisKeys, type EventItem } from "../services/core/queue";
import { freePort, startRedisServer, startServiceProcess, waitFor, type ManagedProcess } from "../services/dev/processes";

// autocannon ships no types; this is the part used here.
interface AutocannonResult {
  duration: number;
  requests: { total: number; average: number };
  latency: { p50: number; p99: number; average: number };
  "2xx": number;
  non2xx: number;
  errors: number;
  timeouts: number;
}
type Autocannon = (options: Record<string, unknown>) => Promise<AutocannonResult>;
// eslint-disable-next-line @typescript-eslint/no-require-imports
const autocannon = require("autocannon") as Autocannon;

const { values: options } = parseArgs({
  options: {
    duration: { type: "string", default: "10" },
    "batch-connections": { type: "string", default: "32" },
    "single-connections": { type: "string", default: "64" },
    batch: { type: "string", default: "50" },
    "ingest-node-options": { type: "string", default: "" },
  },
});
const DURATION = Number(options.duration);
const BATCH_CONNECTIONS = Number(options["batch-connections"]);
const SINGLE_CONNECTIONS = Number(options["single-connections"]);
const BATCH = Number(options.batch);
const TOKEN = "BENCHTOKEN";

function browserEvent(index: number) {
  return {
    event: "Page Viewed",
    properties: {
      $os: "Mac OS X",
      $browser: "Chrome",
      $referrer: "https://www.example.com/",
      $referring_domain: "www.example.com",
      $current_url: "https://app.example.com/page?utm_source=x",
      $browser_version: 126,
      $screen_height: 900,
      $screen_width: 1440,
      mp_lib: "web",
      $lib_version: "2.83.0",
      $insert_id: `bench${index.toString(36).padStart(11, "0")}`,
      time: Date.now() / 1000,
      utm_source: "x",
      distinct_id: "$device:91251de8-9185-4df7-a2c4-4ac6c21fd382",
      $device_id: "91251de8-9185-4df7-a2c4-4ac6c21fd382",
      $initial_referrer: "$direct",
      $initial_referring_domain: "$direct",
      plan: "free",
      token: TOKEN,
      mp_sent_by_lib_version: "2.83.0",
    },
  };
}

function nodeEvent() {
  return { event: "Signup", properties: { distinct_id: "u1", plan: "pro", amount: 12.5, time: Date.now(), token: TOKEN, mp_lib: "node", $lib_version: "0.24.0" } };
}

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64");

/** The entry ingest would write for `raw` events (normalised the same way, roughly). */
function entryFields(raw: { event: string; properties: Record<string, unknown> }[]) {
  const items: EventItem[] = raw.map(({ event, properties }) => {
    const { token: _token, time, distinct_id, $insert_id, ...rest } = properties;
    return {
      event,
      time: Math.round(Number(time) < 1e11 ? Number(time) * 1000 : Number(time)),
      insertId: String($insert_id ?? "0123456789abcdef0123456789abcdef"),
      distinctId: String(distinct_id ?? ""),
      properties: rest as EventItem["properties"],
    };
  });
  return encodeEntry({ kind: "track", items, received: Date.now() });
}

function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime, in clock ticks of 1/100 s
}

function redisConnection(url: string) {
  const client = createClient({ url });
  client.on("error", (error: Error) => console.error(`redis: ${error.message}`));
  return client;
}
type Redis = ReturnType<typeof redisConnection>;

/** Waits until requests still in flight when the load stopped have been written. */
async function settled(redis: Redis): Promise<number> {
  let previous = -1;
  for (;;) {
    const length = await redis.xLen(redisKeys.stream);
    if (length === previous) return length;
    previous = length;
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
}

async function measureHttp(name: string, redis: Redis, ingest: ManagedProcess, itemsPerRequest: number, load: Record<string, unknown>) {
  await autocannon({ ...load, duration: 2 }); // warm-up (JIT, connections)
  await settled(redis);
  await redis.del(redisKeys.stream);
  const cpuBefore = cpuSeconds(ingest.pid!);
  const result = await autocannon({ ...load, duration: DURATION });
  const cpu = cpuSeconds(ingest.pid!) - cpuBefore;
  const entries = await settled(redis);
  await redis.del(redisKeys.stream);
  const seconds = result.duration;
  return {
    name,
    requestsPerSecond: result.requests.total / seconds,
    acceptedEventsPerSecond: (entries * itemsPerRequest) / seconds,
    p50: result.latency.p50,
    p99: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
    ingestCpu: cpu / seconds,
  };
}

const BASELINE_STREAM = "bench:xadd";

/** Pipelined XADD of `fields` for `DURATION` seconds, `depth` commands in flight, to a stream of its own. */
async function measureXadd(redis: Redis, fields: Record<string, string>, itemsPerEntry: number, depth = 256) {
  await redis.del(BASELINE_STREAM);
  const deadline = Date.now() + DURATION * 1000;
  const started = Date.now();
  let written = 0;
  const loop = async () => {
    while (Date.now() < deadline) {
      await redis.xAdd(BASELINE_STREAM, "*", fields);
      written++;
    }
  };
  // node-redis pipelines commands issued in the same tick: `depth` loops keep that many in flight.
  await Promise.all(Array.from({ length: depth }, loop));
  const seconds = (Date.now() - started) / 1000;
  const entries = await redis.xLen(BASELINE_STREAM);
  await redis.del(BASELINE_STREAM);
  if (entries !== written) throw new Error(`baseline: ${written} XADDs answered but ${entries} entries on the stream`);
  return { entriesPerSecond: written / seconds, eventsPerSecond: (written * itemsPerEntry) / seconds };
}

function fmt(value: number, digits = 0): string {
  return value.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

async function main() {
  const dir = mkdtempSync(join(tmpdir(), "bench-ingest-"));
  const processes: ManagedProcess[] = [];
  try {
    const redisServer = await startRedisServer({ dir: join(dir, "redis") });
    processes.push(redisServer);
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const ingest = await startServiceProcess({
      command: "ingest",
      env: {
        PORT: String(port),
        MIXSTACK_LISTEN_HOST: "127.0.0.1",
        REDIS_URL: redisServer.url,
        MIXSTACK_TOKEN: TOKEN,
        MIXSTACK_MAX_STREAM_LENGTH: "100000000",
        // One XADD per 10 s would not show in the figures, but would in the entry counts.
        MIXSTACK_STATS_INTERVAL_MS: "0",
        // One load generator stands for many clients: the per-address budget stays on (its
        // bookkeeping is part of what is measured) but never refuses. Ignored by older builds.
        MIXSTACK_CLIENT_MS_PER_SECOND: "1000000",
        MIXSTACK_CLIENT_BURST_MS: "1000000",
        LOG_LEVEL: "warn",
        NODE_OPTIONS: options["ingest-node-options"],
      },
      ready: () =>
        waitFor("ingest ready", async () => (await fetch(`${url}/readyz`).catch(() => undefined))?.ok, { timeoutMs: 60_000 }).then(() => undefined),
    });
    processes.push(ingest);
    const redis = redisConnection(redisServer.url);
    await redis.connect();

    const batchEvents = Array.from({ length: BATCH }, (_, index) => browserEvent(index));
    const batchBody = `data=${encodeURIComponent(b64(batchEvents))}`;
    const single = nodeEvent();
    const singlePath = `/track?ip=0&verbose=0&data=${encodeURIComponent(b64(single))}`;

    const { cpus, loadavg } = await import("node:os");
    console.log(`ingest benchmark: ${DURATION} s per phase, Node ${process.version}, ${cpus().length} CPUs, load average ${loadavg()[0]!.toFixed(1)} at start${options["ingest-node-options"] ? `, ingest NODE_OPTIONS=${options["ingest-node-options"]}` : ""}`);
    const batched = await measureHttp("batched", redis, ingest, BATCH, {
      url: `${url}/track/?verbose=1&ip=1`,
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: batchBody,
      connections: BATCH_CONNECTIONS,
    });
    const singles = await measureHttp("single", redis, ingest, 1, { url: `${url}${singlePath}`, connections: SINGLE_CONNECTIONS });
    const xaddBatch = await measureXadd(redis, entryFields(batchEvents), BATCH);
    const xaddSingle = await measureXadd(redis, entryFields([single]), 1);
    await redis.close();

    const rows: [string, string, string, string][] = [
      ["", "ingest (HTTP)", "baseline (XADD)", "ratio"],
      [`batched ${BATCH}/request, events/s`, fmt(batched.acceptedEventsPerSecond), fmt(xaddBatch.eventsPerSecond), fmt(batched.acceptedEventsPerSecond / xaddBatch.eventsPerSecond, 2)],
      ["batched, requests/s", fmt(batched.requestsPerSecond), fmt(xaddBatch.entriesPerSecond), fmt(batched.requestsPerSecond / xaddBatch.entriesPerSecond, 2)],
      ["batched, latency p50 / p99 ms", `${batched.p50} / ${batched.p99}`, "", ""],
      [`single (${SINGLE_CONNECTIONS} conns), requests/s`, fmt(singles.requestsPerSecond), fmt(xaddSingle.entriesPerSecond), fmt(singles.requestsPerSecond / xaddSingle.entriesPerSecond, 2)],
      ["single, accepted events/s", fmt(singles.acceptedEventsPerSecond), fmt(xaddSingle.eventsPerSecond), fmt(singles.acceptedEventsPerSecond / xaddSingle.eventsPerSecond, 2)],
      ["single, latency p50 / p99 ms", `${singles.p50} / ${singles.p99}`, "", ""],
      ["ingest CPU (cores) batched / single", `${fmt(batched.ingestCpu, 2)} / ${fmt(singles.ingestCpu, 2)}`, "", ""],
      // On a shared machine ingest rarely gets a whole core; this is what one core would do.
      ["batched, events per ingest CPU-second", fmt(batched.acceptedEventsPerSecond / batched.ingestCpu), "", ""],
      ["single, requests per ingest CPU-second", fmt(singles.requestsPerSecond / singles.ingestCpu), "", ""],
      ["non-2xx / errors", `${batched.non2xx + singles.non2xx} / ${batched.errors + singles.errors}`, "", ""],
    ];
    const widths = [0, 1, 2, 3].map((column) => Math.max(...rows.map((row) => row[column]!.length)));
    for (const row of rows) console.log(row.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!))).join("  "));
  } finally {
    for (const process of processes.reverse()) await process.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
