import { afterAll, describe, expect, it } from "vitest";
import { Counter, Registry } from "prom-client";
import { serveMetrics, type MetricsServer } from "../../services/core/metrics-server";

/** The private metrics listener ingest and the worker share (`METRICS_PORT`, docs/topology.md). */

const registry = new Registry();
new Counter({ name: "mixstack_test_total", help: "a counter", registers: [registry] }).inc(3);
const servers: MetricsServer[] = [];
afterAll(() => Promise.all(servers.map((server) => server.close())));

async function start(healthy?: () => boolean | { reason: string }): Promise<string> {
  // Port 0: the OS picks a free one (a service's METRICS_PORT=0 never gets here: it turns the listener off).
  const server = await serveMetrics({ registry, port: 0, host: "127.0.0.1", healthy });
  servers.push(server);
  return `http://127.0.0.1:${server.port}`;
}

describe("serveMetrics", () => {
  it.each([
    ["GET /metrics", "GET", "/metrics", undefined, 200, "mixstack_test_total 3"],
    ["GET /metrics with a query", "GET", "/metrics?x=1", undefined, 200, "mixstack_test_total 3"],
    ["HEAD /metrics", "HEAD", "/metrics", undefined, 200, ""],
    ["POST /metrics", "POST", "/metrics", undefined, 404, "not found"],
    ["/healthz without a liveness check", "GET", "/healthz", undefined, 404, "not found"],
    ["/healthz of a live service", "GET", "/healthz", true, 200, "ok"],
    ["/healthz of a stalled service", "GET", "/healthz", false, 503, "stalled"],
    ["/healthz of a service that gives its reason", "GET", "/healthz", { reason: "last scheduled backup failed: boom" }, 503, "last scheduled backup failed: boom"],
    ["any other path", "GET", "/track", true, 404, "not found"],
  ] as const)("answers %s", async (_name, method, path, healthy, status, body) => {
    const url = await start(healthy === undefined ? undefined : () => healthy);
    const response = await fetch(`${url}${path}`, { method });
    const text = await response.text();
    expect(response.status).toBe(status);
    if (body === "") expect(text).toBe("");
    else expect(text).toContain(body);
  });

  it("serves the registry's content type", async () => {
    const response = await fetch(`${await start()}/metrics`);
    expect(response.headers.get("content-type")).toBe(registry.contentType);
  });

  it("fails to start on a port that is taken, instead of serving nowhere", async () => {
    const taken = await serveMetrics({ registry, port: 0, host: "127.0.0.1" });
    servers.push(taken);
    await expect(serveMetrics({ registry, port: taken.port, host: "127.0.0.1" })).rejects.toThrow(/EADDRINUSE/);
  });

  it("closes even while a scraper holds a keep-alive connection", async () => {
    const server = await serveMetrics({ registry, port: 0, host: "127.0.0.1" });
    const response = await fetch(`http://127.0.0.1:${server.port}/metrics`, { headers: { connection: "keep-alive" } });
    await response.text();
    await server.close();
    await expect(fetch(`http://127.0.0.1:${server.port}/metrics`)).rejects.toThrow();
  });
});
