import { request as httpRequest, type IncomingHttpHeaders } from "node:http";
import type { InfluxClient } from "../../services/core/influx";
import type { Pipeline, PipelineOptions } from "../../services/dev/pipeline";
import { influxOf, residentBytes, startTestPipeline, waitForDrained } from "../worker/support";

/**
 * Helpers of the abuse suite (issue 12): what a holder of the public project token, or a buggy
 * client, can send, against the real pipeline of `mixstack dev` (redis-server, influxd, ingest and
 * worker processes on loopback, stopped by PID after each file). Every scenario is bounded in time
 * and size; the figures it measures are printed as `[abuse] <label> {json}` lines, which the docs
 * quote (docs/limits.md, "Before and after").
 */

export const MB = 1024 * 1024;
export const DAY_MS = 86_400_000;
export const WEEK_MS = 7 * DAY_MS;

export { influxOf, residentBytes, waitForDrained };

export async function startAbusePipeline(options: Partial<PipelineOptions> = {}): Promise<Pipeline> {
  // Ingest with its defaults: "" is unset (the worker tests' pipeline turns the client budget off).
  return startTestPipeline({ logLevel: "warn", ...options, ingestEnv: { MIXSTACK_CLIENT_MS_PER_SECOND: "", ...options.ingestEnv } });
}

/** One line of figures, for the record of what a run measured. */
export function figures(label: string, values: Record<string, unknown>): void {
  process.stdout.write(`[abuse] ${label} ${JSON.stringify(values)}\n`);
}

export interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
}

/**
 * One request with the given body and headers (node:http, no connection reuse: a refused oversized
 * body closes its connection). Resolves with whatever the server answered, also when it closed
 * the connection before the client finished sending.
 */
export function request(
  url: string,
  options: { method?: string; headers?: Record<string, string | number>; body?: string | Buffer; timeoutMs?: number } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    let answered = false;
    const outgoing = httpRequest(
      url,
      { method: options.method ?? (options.body === undefined ? "GET" : "POST"), headers: options.headers, agent: false, timeout: options.timeoutMs ?? 30_000 },
      (response) => {
        answered = true;
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.on("end", () => resolve({ status: response.statusCode ?? 0, headers: response.headers, text: Buffer.concat(chunks).toString("utf8") }));
        response.on("error", (error) => (answered ? undefined : reject(error)));
      },
    );
    outgoing.on("timeout", () => outgoing.destroy(new Error("timed out")));
    // EPIPE/ECONNRESET after the answer came (the server stopped reading an oversized body) is fine.
    outgoing.on("error", (error) => (answered ? undefined : reject(error)));
    outgoing.end(options.body);
  });
}

/** A form POST of base64 `data`, as mixpanel-browser sends it. */
export function formBody(payload: unknown): string {
  return `data=${encodeURIComponent(Buffer.from(JSON.stringify(payload)).toString("base64"))}`;
}

export async function track(pipeline: Pipeline, payload: unknown, headers: Record<string, string> = {}): Promise<Reply> {
  return request(`${pipeline.ingestUrl}/track?verbose=1&ip=0`, {
    headers: { "Content-Type": "application/x-www-form-urlencoded", ...headers },
    body: formBody(payload),
  });
}

export async function engage(pipeline: Pipeline, payload: unknown): Promise<Reply> {
  return request(`${pipeline.ingestUrl}/engage?verbose=1&ip=0`, {
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: formBody(payload),
  });
}

/** `/import` with the API secret (what mixpanel-node sends), strict JSON body. */
export async function importEvents(pipeline: Pipeline, events: unknown[]): Promise<Reply> {
  return request(`${pipeline.ingestUrl}/import?strict=1`, {
    headers: { "Content-Type": "application/json", Authorization: `Basic ${Buffer.from(`${pipeline.apiSecret}:`).toString("base64")}` },
    body: JSON.stringify(events),
  });
}

/** The `status` of a verbose legacy reply (`{"error":..,"status":1}`), or undefined. */
export function verboseStatus(reply: Reply): number | undefined {
  try {
    return (JSON.parse(reply.text) as { status?: number }).status;
  } catch {
    return undefined;
  }
}

/** Shards of the database (`SHOW SHARDS`; the native pipeline runs without authentication). */
export async function shardCount(influx: InfluxClient, database: string): Promise<number> {
  const [result] = await influx.query("SHOW SHARDS");
  const series = (result?.series ?? []).find((candidate) => candidate.name === database);
  return series?.values?.length ?? 0;
}

export async function seriesCount(influx: InfluxClient, database: string, measurement = "events"): Promise<number> {
  const [result] = await influx.query(`SHOW SERIES FROM "${measurement}"`, { db: database });
  return (result?.series ?? []).reduce((sum, series) => sum + (series.values?.length ?? 0), 0);
}

export async function fieldKeyCount(influx: InfluxClient, database: string, measurement = "events"): Promise<number> {
  const [result] = await influx.query(`SHOW FIELD KEYS FROM "${measurement}"`, { db: database });
  return (result?.series ?? []).reduce((sum, series) => sum + (series.values?.length ?? 0), 0);
}

export async function tagValues(influx: InfluxClient, database: string, key: string): Promise<string[]> {
  const [result] = await influx.query(`SHOW TAG VALUES FROM "events" WITH KEY = "${key.replace(/"/g, '\\"')}"`, { db: database });
  return (result?.series ?? []).flatMap((series) => (series.values ?? []).map((row) => String(row[1])));
}

/** A Prometheus sample of a `/metrics` page (the sum over label sets when `labels` is omitted). */
export async function metric(url: string, name: string, labels?: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(5000) })).text();
  let sum = 0;
  let found = false;
  for (const line of text.split("\n")) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if (!(rest.startsWith(" ") || rest.startsWith("{"))) continue;
    if (labels !== undefined && !rest.includes(labels)) continue;
    sum += Number(rest.slice(rest.lastIndexOf(" ") + 1));
    found = true;
  }
  return found ? sum : Number.NaN;
}

export function percentile(values: readonly number[], fraction: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(fraction * sorted.length) - 1)]!;
}

/** Random lowercase names of `length` characters, from a seed (reproducible runs). */
export function randomNames(count: number, seed: number, length = 12): string[] {
  let state = seed >>> 0 || 1;
  const next = () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 4294967296;
  };
  return Array.from({ length: count }, () => Array.from({ length }, () => String.fromCharCode(97 + Math.floor(next() * 26))).join(""));
}
