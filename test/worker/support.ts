import { readFileSync } from "node:fs";
import { InfluxClient } from "../../services/core/influx";
import type { JsonValue } from "../../services/core/queue";
import { startPipeline, type Pipeline, type PipelineOptions } from "../../services/dev/pipeline";
import { waitFor } from "../../services/dev/ports";
import { redisClient, scratchDir, track } from "../harness/services";

/**
 * Helpers for the worker's integration tests: the pipeline of `mixstack dev` (redis-server, influxd,
 * bootstrap, ingest, workers) started through the harness (stopped by PID after the file), and a
 * client that talks to ingest the way mixpanel-browser does (form POST, base64 `data`, `verbose=1`,
 * retrying 5xx/429/timeouts as the browser's batcher does).
 */

export async function startTestPipeline(options: Partial<PipelineOptions> = {}): Promise<Pipeline> {
  const pipeline = await startPipeline({
    dir: scratchDir("pipeline"),
    onStarted: (process) => track(process),
    ...options,
    // The tests send from one address as fast as they can; the per-address budget of ingest's time
    // (tested in test/ingest/client-budget.test.ts and test/abuse/) would slow them down.
    ingestEnv: { MIXSTACK_GEOIP: "false", MIXSTACK_CLIENT_MS_PER_SECOND: "0", ...options.ingestEnv },
  });
  if (!pipeline.ingestUrl) throw new Error("this build has no ingest: the pipeline tests send events through it");
  return pipeline;
}

export interface MixpanelEvent {
  event: string;
  properties: Record<string, JsonValue>;
}

export function base64(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString("base64");
}

export interface IngestReply {
  status: number;
  body: string;
}

/** One request, no retry. */
export async function post(url: string, payload: unknown, init: { method?: "GET" | "POST" } = {}): Promise<IngestReply> {
  const data = base64(payload);
  const response =
    init.method === "GET"
      ? await fetch(`${url}${url.includes("?") ? "&" : "?"}data=${encodeURIComponent(data)}`, { signal: AbortSignal.timeout(30_000) })
      : await fetch(url, {
          method: "POST",
          headers: { "Content-Type": "application/x-www-form-urlencoded" },
          body: `data=${encodeURIComponent(data)}`,
          signal: AbortSignal.timeout(30_000),
        });
  return { status: response.status, body: await response.text() };
}

/**
 * Sends until ingest accepts (`{"status":1}`), retrying what a browser retries: 5xx, 429, network
 * errors and timeouts. Anything else is a test failure.
 */
export async function postUntilAccepted(url: string, payload: unknown, { timeoutMs = 120_000 } = {}): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let attempts = 0;
  for (;;) {
    attempts += 1;
    let reply: IngestReply | undefined;
    try {
      reply = await post(url, payload);
    } catch {
      reply = undefined;
    }
    if (reply?.status === 200) {
      const parsed = JSON.parse(reply.body) as { status: number; error: string | null };
      if (parsed.status !== 1) throw new Error(`ingest refused the batch: ${reply.body}`);
      return attempts;
    }
    if (reply && reply.status !== 429 && reply.status < 500) throw new Error(`ingest answered ${reply.status}: ${reply.body}`);
    if (Date.now() > deadline) throw new Error(`ingest did not accept the batch within ${timeoutMs} ms (last: ${reply?.status ?? "no answer"})`);
    // The client's own backoff between retries (what the browser's batcher does), not synchronisation.
    await new Promise((resolve) => setTimeout(resolve, Math.min(1000, 50 * attempts)));
  }
}

/** Sends events to `/track` in batches of `batchSize` (browser style); returns after each batch was accepted. */
export async function sendEvents(pipeline: Pipeline, events: readonly MixpanelEvent[], { batchSize = 50, route = "track" } = {}): Promise<void> {
  const url = `${pipeline.ingestUrl}/${route}/?verbose=1&ip=0`;
  for (let start = 0; start < events.length; start += batchSize) {
    const batch = events.slice(start, start + batchSize).map((event) => ({ ...event, properties: { token: pipeline.token, ...event.properties } }));
    await postUntilAccepted(url, batch);
  }
}

/** `count` of events matching an InfluxQL condition. */
export async function countEvents(influx: InfluxClient, db: string, where = "true"): Promise<number> {
  const rows = await influx.rows(`SELECT count("insert_id") FROM "events" WHERE ${where}`, { db });
  return Number(rows[0]?.count ?? 0);
}

export function influxOf(pipeline: Pipeline): InfluxClient {
  const admin = pipeline.credentials.admin;
  return new InfluxClient({ url: pipeline.influx.url, username: admin?.username, password: admin?.password });
}

/** Waits until the stream is empty and nothing is pending: every accepted entry was written or dead-lettered. */
export async function waitForDrained(pipeline: Pipeline, timeoutMs = 120_000): Promise<void> {
  const redis = await redisClient(pipeline.redis.url);
  await waitFor(
    "the stream to drain",
    async () => {
      const length = await redis.xLen("mx:stream");
      if (length > 0) return false;
      const groups = (await redis.sendCommand(["XINFO", "GROUPS", "mx:stream"])) as unknown;
      const text = JSON.stringify(groups);
      return /"pending",0|"pending":0/.test(text);
    },
    { timeoutMs, intervalMs: 100 },
  );
  await redis.close();
}

/** Waits until `count` reaches `expected` (and fails with the last count otherwise). */
export async function waitForCount(read: () => Promise<number>, expected: number, timeoutMs = 120_000): Promise<number> {
  let last = -1;
  try {
    await waitFor(`count ${expected}`, async () => (last = await read()) === expected, { timeoutMs, intervalMs: 200 });
  } catch {
    throw new Error(`expected ${expected}, last count was ${last}`);
  }
  return last;
}

/** Resident set size of a process we started, from /proc (Linux). */
export function residentBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const match = /VmRSS:\s+(\d+) kB/.exec(status);
  if (!match) throw new Error(`no VmRSS for ${pid}`);
  return Number(match[1]) * 1024;
}

/**
 * Each generated event gets its own millisecond (counting up from an hour ago): N distinct events.
 * Two different events of one name in one millisecond meet with probability 1 in 10^6 (docs/worker.md,
 * "Timestamps"); at the rates these tests send (over 10,000 events/s of one name) that would cost a
 * few points per run and make "exactly N" a matter of luck.
 */
let clock = Date.now() - 3_600_000;

/** Events with distinct `$insert_id`s and distinct milliseconds. */
export function makeEvents(name: string, count: number, extra: (index: number) => Record<string, JsonValue> = () => ({})): MixpanelEvent[] {
  return Array.from({ length: count }, (_, index) => ({
    event: name,
    properties: {
      distinct_id: `user-${index % 97}`,
      time: (clock += 1),
      $insert_id: `${name}-${index}`.replace(/[^A-Za-z0-9-]/g, "-").slice(0, 36),
      ...extra(index),
    },
  }));
}
