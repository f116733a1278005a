import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Registry } from "prom-client";
import type { Logger } from "./log";

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

export interface MetricsListenerOptions extends MetricsServerOptions {
  log: Logger;
  /**
   * `METRICS_PORT` was not set: when its default is taken (another service of ours, a Prometheus
   * exporter), listen on a port the OS picks instead, and log which.
   */
  portIsDefault?: boolean;
  /** How often to try again after a failed listen (default 10 s). */
  retryMs?: number;
}

export interface MetricsListener {
  /** `http://host:port` once listening, else undefined. */
  readonly url: string | undefined;
  readonly port: number | undefined;
  close(): Promise<void>;
}

/**
 * The metrics listener of a long-running service. Losing `/metrics` must neither stop the service
 * (ingest keeps taking events, the worker keeps writing them) nor go unnoticed: a failed listen is
 * an error log line with the port and the system error (`err.code`, e.g. `EADDRINUSE`), then the
 * listen is retried every `retryMs` until it succeeds ("metrics listening" with the URL).
 */
export async function startMetricsListener(options: MetricsListenerOptions): Promise<MetricsListener> {
  const { log, retryMs = 10_000 } = options;
  let server: MetricsServer | undefined;
  let timer: NodeJS.Timeout | undefined;
  let closed = false;
  const host = options.host ?? "0.0.0.0";
  const urlOf = (port: number) => `http://${host === "0.0.0.0" || host === "::" ? "127.0.0.1" : host.includes(":") ? `[${host}]` : host}:${port}`;
  const listening = (started: MetricsServer) => {
    server = started;
    log.info({ url: urlOf(started.port), port: started.port, host }, "metrics listening");
  };
  const attempt = async (port: number): Promise<boolean> => {
    try {
      const started = await serveMetrics({ ...options, port });
      if (closed) await started.close();
      else listening(started);
      return true;
    } catch (error) {
      if (port === options.port && options.portIsDefault && (error as NodeJS.ErrnoException).code === "EADDRINUSE") {
        log.warn({ port, host, err: error }, "default metrics port taken; listening on a port the OS picks (see \"metrics listening\")");
        return attempt(0);
      }
      return Promise.reject(error);
    }
  };
  try {
    await attempt(options.port);
  } catch (error) {
    log.error({ port: options.port, host, err: error, retryMs }, "metrics listener failed: /metrics is not served; retrying");
    const retry = () => {
      timer = setTimeout(() => {
        attempt(options.port).then(
          () => undefined,
          () => (closed ? undefined : retry()),
        );
      }, retryMs);
      timer.unref();
    };
    retry();
  }
  return {
    get url() {
      return server ? urlOf(server.port) : undefined;
    },
    get port() {
      return server?.port;
    },
    async close() {
      closed = true;
      clearTimeout(timer);
      await server?.close();
    },
  };
}
