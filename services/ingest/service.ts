import type { AddressInfo } from "node:net";
import type { Logger } from "../core/log";
import { serveMetrics, type MetricsServer } from "../core/metrics-server";
import { loadGeoLookup, noGeolocation } from "./geo";
import { IngestMetrics } from "./metrics";
import { RedisQueueWriter } from "./queue-writer";
import { IngestServer } from "./server";
import type { IngestSettings } from "./settings";
import { startStatsFlush } from "./stats-flusher";

/** A running ingest service: what `mixstack ingest` starts, and what in-process tests start. */
export interface RunningIngest {
  readonly url: string;
  readonly port: number;
  readonly server: IngestServer;
  readonly queue: RedisQueueWriter;
  readonly metrics: IngestMetrics;
  /** `http://host:port` of the private metrics listener (`/metrics`); undefined when `METRICS_PORT` is 0. */
  readonly metricsUrl?: string;
  /** Graceful stop: drain requests within the grace period, flush stats, close Redis. */
  stop(): Promise<{ drained: boolean }>;
}

export async function startIngest(settings: IngestSettings, log: Logger, options: { defaultMetrics?: boolean } = {}): Promise<RunningIngest> {
  const lookup = settings.geoip ? loadGeoLookup() : noGeolocation;
  const metrics = new IngestMetrics({ defaultMetrics: options.defaultMetrics });
  const queue = new RedisQueueWriter({
    url: settings.redisUrl,
    timeoutMs: settings.queueTimeoutMs,
    maxStreamLength: settings.maxStreamLength,
    log,
    onBacklog: (length) => metrics.streamLength(length),
  });
  queue.start();
  const server = new IngestServer({
    settings,
    queue,
    metrics,
    log,
    dependencies: {
      tokens: new Set(settings.tokens),
      credentials: {
        tokens: settings.tokens,
        apiSecrets: settings.apiSecrets,
        serviceAccounts: settings.serviceAccounts,
        allowTokenAuth: settings.importTokenAuth,
      },
      limits: settings.limits,
      trustedProxyHops: settings.trustedProxyHops,
      lookup,
      geolocate: settings.geoip,
      keepIp: settings.keepIp,
    },
  });
  let address: AddressInfo;
  let metricsServer: MetricsServer | undefined;
  try {
    address = await server.listen(settings.port, settings.host);
    // Never on the public port: load balancers forward every path of that one.
    if (settings.metricsPort > 0) metricsServer = await serveMetrics({ registry: metrics.registry, port: settings.metricsPort, host: settings.host });
  } catch (error) {
    if (server.server.listening) await server.drain(0);
    await queue.close();
    throw error;
  }
  const stats = startStatsFlush(metrics.window, queue, settings.statsIntervalMs, log);
  const scheme = settings.tls ? "https" : "http";
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
  const metricsUrl = metricsServer ? `http://${host}:${metricsServer.port}` : undefined;
  log.info(
    { url: `${scheme}://${host}:${address.port}`, metricsUrl, prefix: settings.pathPrefix || undefined, geoip: settings.geoip, tls: Boolean(settings.tls) },
    "ingest listening",
  );
  let stopping: Promise<{ drained: boolean }> | undefined;
  return {
    url: `${scheme}://${host}:${address.port}`,
    port: address.port,
    server,
    queue,
    metrics,
    metricsUrl,
    stop() {
      stopping ??= (async () => {
        const drained = await server.drain(settings.shutdownGraceMs);
        await stats.stop();
        await metricsServer?.close();
        await queue.close();
        return { drained };
      })();
      return stopping;
    },
  };
}
