import { describe, expect, it } from "vitest";
import { freePort, waitFor } from "../../services/dev/ports";
import type { StatsItem } from "../../services/core/queue";
import { b64, readStream, send, startIngestStack, TOKEN, type Redis } from "./support";

/** Health, readiness, Prometheus metrics and the `stats` entries ingest puts on the stream. */

async function statsItems(client: Redis): Promise<StatsItem[]> {
  return (await readStream(client)).filter(({ entry }) => entry.kind === "stats").flatMap(({ entry }) => entry.items as StatsItem[]);
}

/** Sums a field over stats items matching the tags (several flush windows may hold parts). */
function total(items: StatsItem[], measurement: string, tags: Record<string, string>, field: string): number {
  return items
    .filter((item) => item.measurement === measurement && Object.entries(tags).every(([key, value]) => item.tags[key] === value))
    .reduce((sum, item) => sum + (item.fields[field] ?? 0), 0);
}

const good = (name: string) => `/track?data=${encodeURIComponent(b64({ event: name, properties: { token: TOKEN } }))}`;
const tokenless = `/track?data=${encodeURIComponent(b64([{ event: "x", properties: {} }, { event: "y", properties: {} }]))}`;

describe("operations", () => {
  it("answers /healthz and /readyz, also behind the path prefix", async () => {
    const { url } = await startIngestStack({ MIXSTACK_PATH_PREFIX: "/mp" });
    for (const path of ["/healthz", "/mp/healthz"]) {
      const health = await send(`${url}${path}`);
      expect([health.status, health.text]).toEqual([200, "ok"]);
    }
    const ready = await send(`${url}/mp/readyz`);
    expect(ready.status).toBe(200);
    expect(JSON.parse(ready.text)).toEqual({ ready: true, queue: "up", draining: false });
  });

  it("serves Prometheus metrics on the metrics port: requests by route and status, events accepted and rejected by reason, queue write latency", async () => {
    const { url, ingest } = await startIngestStack({ METRICS_PORT: String(await freePort()) });
    for (let index = 0; index < 3; index++) expect((await send(`${url}${good(`m${index}`)}`)).text).toBe("1");
    expect((await send(`${url}${tokenless}`)).text).toBe("0");
    const metrics = await send(`${ingest.metricsUrl}/metrics`);
    expect(metrics.status).toBe(200);
    expect(metrics.headers["content-type"]).toMatch(/^text\/plain/);
    expect(metrics.text).toMatch(/^mixstack_ingest_requests_total\{route="track",status="200"\} 4$/m);
    expect(metrics.text).toMatch(/^mixstack_ingest_events_accepted_total\{route="track"\} 3$/m);
    expect(metrics.text).toMatch(/^mixstack_ingest_events_rejected_total\{route="track",reason="missing_token"\} 2$/m);
    expect(metrics.text).toMatch(/^mixstack_ingest_queue_write_seconds_count\{outcome="ok"\} 3$/m);
    expect(metrics.text).toMatch(/^mixstack_ingest_stream_length \d+$/m);
  });

  it.each([
    ["/metrics", ""],
    ["/mp/metrics", "/mp"],
    ["/metrics/", ""],
  ])("answers %s on the public port with 404, as any unknown path (metrics are private)", async (path, prefix) => {
    const { url, ingest } = await startIngestStack({ METRICS_PORT: String(await freePort()), MIXSTACK_PATH_PREFIX: prefix });
    const metrics = await send(`${url}${path}`);
    expect([metrics.status, metrics.text]).toEqual([404, '{"error":"not found","status":0}']);
    expect(metrics.text).not.toContain("mixstack_ingest_");
    // The same process serves them on its metrics port.
    expect((await send(`${ingest.metricsUrl}/metrics`)).text).toContain("mixstack_ingest_requests_total");
  });

  it("serves only /metrics on the metrics port: ingest routes and health are not there", async () => {
    const { ingest } = await startIngestStack({ METRICS_PORT: String(await freePort()) });
    for (const path of [good("nope"), "/healthz", "/readyz"]) expect((await send(`${ingest.metricsUrl}${path}`)).status).toBe(404);
  });

  it("opens no metrics port when METRICS_PORT is 0", async () => {
    const { ingest } = await startIngestStack({ METRICS_PORT: "0" });
    expect(ingest.metricsUrl).toBeUndefined();
  });

  it("puts its counters on the stream as stats items every interval, keeping them through a Redis outage", async () => {
    const { url, client, redis } = await startIngestStack({ MIXSTACK_STATS_INTERVAL_MS: "200", MIXSTACK_QUEUE_TIMEOUT_MS: "300" });
    for (let index = 0; index < 5; index++) await send(`${url}${good(`s${index}`)}`);
    await send(`${url}${tokenless}`);
    await waitFor("a stats entry with the 6 requests", async () => total(await statsItems(client), "ingest", { route: "track", status: "200" }, "requests") === 6);
    const items = await statsItems(client);
    expect(total(items, "ingest", { route: "track", status: "200" }, "events_accepted")).toBe(5);
    expect(total(items, "ingest", { route: "track", status: "200" }, "events_rejected")).toBe(2);
    expect(total(items, "ingest_rejects", { route: "track", reason: "missing_token" }, "count")).toBe(2);
    expect(items.every((item) => Number.isInteger(item.time))).toBe(true);

    await redis.stop();
    for (let index = 0; index < 3; index++) expect((await send(`${url}${good(`down${index}`)}`)).status).toBe(503);
    await redis.start();
    await waitFor("the outage's counts after Redis returned", async () => total(await statsItems(client), "ingest", { route: "track", status: "503" }, "requests") === 3, { timeoutMs: 30_000 });
    const after = await statsItems(client);
    expect(total(after, "ingest", { route: "track", status: "503" }, "events_rejected")).toBe(3);
    expect(total(after, "ingest_rejects", { route: "track", reason: "queue_unavailable" }, "count")).toBe(3);
  });
});
