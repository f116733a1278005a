import { afterAll, describe, expect, it } from "vitest";
import { Counter, Registry } from "prom-client";
import pino from "pino";
import { serveMetrics, startMetricsListener, type MetricsServer } from "../../services/core/metrics-server";

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

/** A logger that keeps its lines, to check what a service would log. */
function memoryLog() {
  const lines: Array<Record<string, unknown>> = [];
  const log = pino({ level: "info" }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
  return { log, lines };
}

describe("startMetricsListener", () => {
  it("moves to a port the OS picks when the default port is taken, and logs where", async () => {
    const taken = await serveMetrics({ registry, port: 0, host: "127.0.0.1" });
    servers.push(taken);
    const { log, lines } = memoryLog();
    const listener = await startMetricsListener({ registry, port: taken.port, host: "127.0.0.1", portIsDefault: true, log });
    expect(listener.port).not.toBe(taken.port);
    expect(await (await fetch(`${listener.url}/metrics`)).text()).toContain("mixstack_test_total 3");
    expect(lines.find((line) => line.msg === "metrics listening")).toMatchObject({ url: listener.url, port: listener.port });
    await listener.close();
  });

  it("keeps a configured port: a taken one is an error line with the system error, retried until it is free", async () => {
    const taken = await serveMetrics({ registry, port: 0, host: "127.0.0.1" });
    const { log, lines } = memoryLog();
    const listener = await startMetricsListener({ registry, port: taken.port, host: "127.0.0.1", log, retryMs: 50 });
    expect(listener.url).toBeUndefined();
    expect(lines.find((line) => line.level === 50)).toMatchObject({ port: taken.port, err: { code: "EADDRINUSE" } });
    await taken.close();
    const deadline = Date.now() + 5000;
    while (listener.port === undefined && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(listener.port).toBe(taken.port);
    expect((await fetch(`${listener.url}/metrics`)).status).toBe(200);
    await listener.close();
  });

  it("stops retrying once closed", async () => {
    const taken = await serveMetrics({ registry, port: 0, host: "127.0.0.1" });
    servers.push(taken);
    const { log } = memoryLog();
    const listener = await startMetricsListener({ registry, port: taken.port, host: "127.0.0.1", log, retryMs: 20 });
    await listener.close();
    await taken.close();
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(listener.port).toBeUndefined();
  });
});
