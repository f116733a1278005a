import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Registry } from "prom-client";

/**
 * The private HTTP listener a service's Prometheus metrics live on (`METRICS_PORT`), apart from any
 * public port: load balancers forward the public port, never this one. `GET /metrics` is the
 * registry's text format; `/healthz` is served only when the service gives a liveness check (the
 * worker and the backup scheduler, which have no other port); everything else is 404.
 */
export interface MetricsServerOptions {
  registry: Registry;
  port: number;
  /** Listening address; unset: every address (as in a container). */
  host?: string;
  /** `true`: 200 `ok`; `false`: 503 `stalled`; `{ reason }`: 503 with that one-line reason. */
  healthy?: () => boolean | { reason: string };
}

export interface MetricsServer {
  readonly server: Server;
  readonly port: number;
  close(): Promise<void>;
}

export async function serveMetrics(options: MetricsServerOptions): Promise<MetricsServer> {
  const { registry, healthy } = options;
  const server = createServer((request, response) => {
    const path = (request.url ?? "/").split("?")[0];
    if (path === "/metrics" && (request.method === "GET" || request.method === "HEAD")) {
      registry.metrics().then(
        (text) => {
          response.writeHead(200, { "Content-Type": registry.contentType });
          response.end(request.method === "HEAD" ? undefined : text);
        },
        (error: Error) => {
          response.writeHead(500, { "Content-Type": "text/plain" });
          response.end(error.message);
        },
      );
      return;
    }
    if (path === "/healthz" && healthy) {
      const health = healthy();
      const ok = health === true;
      response.writeHead(ok ? 200 : 503, { "Content-Type": "text/plain" });
      response.end(ok ? "ok" : health === false ? "stalled" : health.reason);
      return;
    }
    response.writeHead(404, { "Content-Type": "text/plain" });
    response.end("not found");
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  return {
    server,
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Scrapers keep connections alive; they must not hold a stopping process.
        server.closeAllConnections();
      }),
  };
}
