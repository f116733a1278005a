import type { AddressInfo } from "node:net";
import type { Logger } from "../core/log";
import { startMetricsListener, type MetricsListener } from "../core/metrics-server";
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
  const lookup = settings.MIXSTACK_GEOIP ? loadGeoLookup() : noGeolocation;
  const metrics = new IngestMetrics({ defaultMetrics: options.defaultMetrics });
  const queue = new RedisQueueWriter({
    url: settings.REDIS_URL,
    timeoutMs: settings.MIXSTACK_QUEUE_TIMEOUT_MS,
    maxStreamLength: settings.MIXSTACK_MAX_STREAM_LENGTH,
    memoryPercent: settings.MIXSTACK_QUEUE_MEMORY_PERCENT,
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
      tokens: new Set(settings.MIXSTACK_TOKEN),
      credentials: {
        tokens: settings.MIXSTACK_TOKEN,
        apiSecrets: settings.MIXSTACK_API_SECRET,
        serviceAccounts: settings.MIXSTACK_SERVICE_ACCOUNT_SECRETS,
        allowTokenAuth: settings.MIXSTACK_IMPORT_TOKEN_AUTH,
      },
      limits: settings.limits,
      trustedProxyHops: settings.MIXSTACK_TRUSTED_PROXY_HOPS,
      lookup,
      geolocate: settings.MIXSTACK_GEOIP,
      keepIp: settings.MIXSTACK_KEEP_IP,
    },
  });
  let address: AddressInfo;
  let metricsListener: MetricsListener | undefined;
  try {
    address = await server.listen(settings.PORT, settings.MIXSTACK_LISTEN_HOST);
  } catch (error) {
    if (server.server.listening) await server.drain(0);
    await queue.close();
    throw error;
  }
  // Never on the public port: load balancers forward every path of that one. A failed listen is
  // logged and retried; it never stops ingest from taking events.
  if (settings.METRICS_PORT > 0) {
    metricsListener = await startMetricsListener({
      registry: metrics.registry,
      port: settings.METRICS_PORT,
      host: settings.METRICS_HOST,
      portIsDefault: settings.metricsPortIsDefault,
      log,
    });
  }
  const stats = startStatsFlush(metrics.window, queue, settings.MIXSTACK_STATS_INTERVAL_MS, log);
  const scheme = settings.tls ? "https" : "http";
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
  log.info(
    { url: `${scheme}://${host}:${address.port}`, metricsUrl: metricsListener?.url, prefix: settings.MIXSTACK_PATH_PREFIX || undefined, geoip: settings.MIXSTACK_GEOIP, tls: Boolean(settings.tls) },
    "ingest listening",
  );
  let stopping: Promise<{ drained: boolean }> | undefined;
  return {
    url: `${scheme}://${host}:${address.port}`,
    port: address.port,
    server,
    queue,
    metrics,
    get metricsUrl() {
      return metricsListener?.url;
    },
    stop() {
      stopping ??= (async () => {
        const drained = await server.drain(settings.MIXSTACK_SHUTDOWN_GRACE_MS);
        await stats.stop();
        await metricsListener?.close();
        await queue.close();
        return { drained };
      })();
      return stopping;
    },
  };
}
