import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { request as httpRequest, type IncomingHttpHeaders } from "node:http";
import { request as httpsRequest } from "node:https";
import { join } from "node:path";
import { afterAll } from "vitest";
import { createLogger } from "../../services/core/log";
import { decodeEntry, redisKeys, type QueueEntry } from "../../services/core/queue";
import { startIngest, type RunningIngest } from "../../services/ingest/service";
import { readIngestSettings } from "../../services/ingest/settings";
import { freePort, startServiceProcess, waitFor, type ManagedProcess } from "../../services/dev/processes";
import { redisClient, scratchDir, startTestRedis, track } from "../harness/services";

/**
 * Ingest test helpers: an in-process ingest service on a free loopback port, against a real
 * `redis-server` from the harness, and readers for what reached the stream.
 */

export const TOKEN = "TOKEN123";

/**
 * For the tests that replay the reference's cases and the SDKs with their fixed times (2020-2023):
 * no `/track` age limit and Mixpanel's own 1971 floor. The defaults (5 days, two years) have tests
 * of their own (`test/ingest/history.test.ts`, `test/abuse/event-times.test.ts`).
 */
export const FIXED_DATES: Record<string, string> = { MIXSTACK_TRACK_MAX_AGE_DAYS: "0", MIXSTACK_HISTORY_SINCE: "1971-01-01" };
export const SECRET = "SEKRET";

export type Redis = Awaited<ReturnType<typeof redisClient>>;

/** Starts ingest with the test defaults plus `env` overrides; stopped after the test file. */
export async function startTestIngest(redisUrl: string, env: Record<string, string> = {}): Promise<RunningIngest> {
  const settings = readIngestSettings({
    PORT: "0",
    // Off unless a test asks for it: 9464, the default, may be taken on a shared machine.
    METRICS_PORT: "0",
    MIXSTACK_LISTEN_HOST: "127.0.0.1",
    REDIS_URL: redisUrl,
    MIXSTACK_TOKEN: TOKEN,
    MIXSTACK_API_SECRET: SECRET,
    MIXSTACK_GEOIP: "false",
    MIXSTACK_STATS_INTERVAL_MS: "0",
    MIXSTACK_SHUTDOWN_GRACE_MS: "2000",
    ...env,
  });
  const ingest = await startIngest(settings, createLogger("ingest-test", process.env.TEST_LOG_LEVEL ?? "silent"));
  afterAll(() => ingest.stop());
  await waitUntilReady(ingest);
  return ingest;
}

async function waitUntilReady(ingest: RunningIngest): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (!ingest.queue.ready || ingest.queue.backlog === undefined) {
    if (Date.now() > deadline) throw new Error("ingest did not connect to Redis within 15 s");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** A Redis and an ingest in front of it, plus a client to read the stream. */
export async function startIngestStack(env: Record<string, string> = {}) {
  const redis = await startTestRedis();
  const client = await redisClient(redis.url);
  const ingest = await startTestIngest(redis.url, env);
  return { redis, client, ingest, url: ingest.url };
}

export interface StreamEntry {
  id: string;
  entry: QueueEntry;
}

/** Every entry on the stream (decoded), oldest first. */
export async function readStream(client: Redis): Promise<StreamEntry[]> {
  const raw = (await client.xRange(redisKeys.stream, "-", "+")) ?? [];
  return raw.map(({ id, message }) => {
    const entry = decodeEntry(message as Record<string, string>);
    if (entry instanceof Error) throw entry;
    return { id, entry };
  });
}

/** Entries added after `afterId` (exclusive); use `lastId` to mark a point in a test. */
export async function readStreamAfter(client: Redis, afterId: string): Promise<StreamEntry[]> {
  return (await readStream(client)).filter(({ id }) => compareIds(id, afterId) > 0);
}

export async function lastId(client: Redis): Promise<string> {
  const [last] = (await client.xRevRange(redisKeys.stream, "+", "-", { COUNT: 1 })) ?? [];
  return last?.id ?? "0-0";
}

function compareIds(a: string, b: string): number {
  const [am, as] = a.split("-").map(BigInt) as [bigint, bigint];
  const [bm, bs] = b.split("-").map(BigInt) as [bigint, bigint];
  return am === bm ? Number(as - bs) : am < bm ? -1 : 1;
}

export function b64(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString("base64");
}

export interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  text: string;
}

/**
 * One HTTP(S) request with exactly the bytes given (no client-side encoding or normalisation), for
 * tests that need raw bodies, odd headers or a custom CA.
 */
export function send(
  url: string,
  options: { method?: string; headers?: Record<string, string | number>; body?: string | Buffer; ca?: Buffer } = {},
): Promise<RawResponse> {
  const target = new URL(url);
  const request = target.protocol === "https:" ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const outgoing = request(
      target,
      { method: options.method ?? (options.body === undefined ? "GET" : "POST"), headers: options.headers, ca: options.ca, agent: false },
      (response) => {
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.on("end", () => {
          const body = Buffer.concat(chunks);
          resolve({ status: response.statusCode ?? 0, headers: response.headers, body, text: body.toString("utf8") });
        });
        response.on("error", reject);
      },
    );
    outgoing.on("error", reject);
    outgoing.end(options.body);
  });
}

/** A self-signed certificate for localhost/127.0.0.1 made with openssl, for the HTTPS tests. */
export function makeTestCertificate(): { certFile: string; keyFile: string; cert: Buffer } {
  const dir = scratchDir("ingest-cert");
  const certFile = join(dir, "cert.pem");
  const keyFile = join(dir, "key.pem");
  execFileSync("openssl", [
    "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-sha256", "-days", "2",
    "-subj", "/CN=localhost",
    "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
    "-keyout", keyFile, "-out", certFile,
  ], { stdio: "ignore" });
  return { certFile, keyFile, cert: readFileSync(certFile) };
}

/** `mixstack ingest` as its own process (as deployed), stopped after the test file. */
export async function startIngestProcess(
  redisUrl: string,
  env: Record<string, string> = {},
): Promise<{ process: ManagedProcess; url: string; metricsUrl: string }> {
  const port = await freePort();
  const metricsPort = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = await startServiceProcess({
    command: "ingest",
    env: {
      PORT: String(port),
      METRICS_PORT: String(metricsPort),
      MIXSTACK_LISTEN_HOST: "127.0.0.1",
      REDIS_URL: redisUrl,
      MIXSTACK_TOKEN: TOKEN,
      MIXSTACK_API_SECRET: SECRET,
      MIXSTACK_GEOIP: "false",
      MIXSTACK_STATS_INTERVAL_MS: "0",
      LOG_LEVEL: "warn",
      ...env,
    },
    ready: () =>
      waitFor(`ingest on ${port}`, async () => {
        const response = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(1000) });
        await response.arrayBuffer();
        return response.ok;
      }, { timeoutMs: 30_000 }).then(() => undefined),
  });
  return { process: track(child), url, metricsUrl: `http://127.0.0.1:${metricsPort}` };
}
