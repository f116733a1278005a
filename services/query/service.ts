import type { AddressInfo } from "node:net";
import { InfluxClient } from "../core/influx";
import type { Logger } from "../core/log";
import { serveMetrics, type MetricsServer } from "../core/metrics-server";
import { isInfluxFieldType } from "../worker/field-types";
import { createRedisConnection } from "../worker/redis-connection";
import { EventCatalog } from "./event-columns";
import { QueryMetrics } from "./metrics";
import { QueryServer } from "./server";
import type { QuerySettings } from "./settings";
import { TimeZone } from "./time-zone";

/** A running query service: what `mixstack query` starts, and what in-process tests start. */
export interface RunningQuery {
  readonly url: string;
  readonly port: number;
  readonly metricsUrl?: string;
  stop(): Promise<void>;
}

/** How long the `events` columns (tag and field keys) are reused before being read again. */
const CATALOG_TTL_MS = 5_000;

/** `SHOW TAG KEYS` and `SHOW FIELD KEYS` of `events`; a database without events yet has no columns. */
export async function readEventCatalog(client: InfluxClient, database: string): Promise<EventCatalog> {
  const [tags, fields] = await client.query(`SHOW TAG KEYS FROM "events"; SHOW FIELD KEYS FROM "events"`, { db: database, allowStatementErrors: true });
  const tagKeys = (tags?.series?.[0]?.values ?? []).map((row) => String(row[0]));
  const fieldKeys = (fields?.series?.[0]?.values ?? [])
    .filter((row) => isInfluxFieldType(row[1]))
    .map((row) => ({ key: String(row[0]), type: row[1] as "float" | "integer" | "string" | "boolean" }));
  return new EventCatalog(tagKeys, fieldKeys);
}

export async function startQuery(settings: QuerySettings, log: Logger, options: { defaultMetrics?: boolean } = {}): Promise<RunningQuery> {
  const metrics = new QueryMetrics({ defaultMetrics: options.defaultMetrics });
  const redis = createRedisConnection(settings.REDIS_URL, log, "query");
  await redis.connect();
  const influx = new InfluxClient({ url: settings.INFLUX_URL, username: settings.INFLUX_USER, password: settings.INFLUX_PASSWORD, timeoutMs: 10_000 });
  let cached: { at: number; catalog: Promise<EventCatalog> } | undefined;
  const catalog = () => {
    const now = Date.now();
    if (!cached || now - cached.at > CATALOG_TTL_MS) {
      const loading = readEventCatalog(influx, settings.INFLUX_DB);
      cached = { at: now, catalog: loading };
      loading.catch(() => (cached = undefined));
    }
    return cached.catalog;
  };
  const server = new QueryServer({ settings, zone: new TimeZone(settings.MIXSTACK_TIME_ZONE), redis, catalog, metrics, log });
  let address: AddressInfo;
  let metricsServer: MetricsServer | undefined;
  try {
    address = await server.listen(settings.PORT, settings.MIXSTACK_LISTEN_HOST);
    if (settings.METRICS_PORT > 0) metricsServer = await serveMetrics({ registry: metrics.registry, port: settings.METRICS_PORT, host: settings.MIXSTACK_LISTEN_HOST, healthy: () => true });
  } catch (error) {
    await server.close();
    await redis.close();
    throw error;
  }
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
  const url = `http://${host}:${address.port}`;
  const metricsUrl = metricsServer ? `http://${host}:${metricsServer.port}` : undefined;
  log.info({ url, metricsUrl, timeZone: settings.MIXSTACK_TIME_ZONE, funnels: settings.funnels.length }, "query listening");
  let stopping: Promise<void> | undefined;
  return {
    url,
    port: address.port,
    metricsUrl,
    stop() {
      stopping ??= (async () => {
        await server.close();
        await metricsServer?.close();
        await redis.close();
      })();
      return stopping;
    },
  };
}
