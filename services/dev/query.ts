import { freePort, startServiceProcess, waitFor, type ManagedProcess } from "./processes";
import type { Pipeline } from "./pipeline";

/**
 * `mixstack query` beside a dev pipeline (`mixstack dev`, the tests, the benchmarks): reads the
 * pipeline's InfluxDB as its read-only user and its Redis, with a query secret of its own.
 */

export interface QueryServiceOptions {
  secret?: string;
  /** `MIXSTACK_FUNNELS` (JSON list). */
  funnels?: unknown[];
  timeZone?: string;
  port?: number;
  env?: NodeJS.ProcessEnv;
  logLevel?: string;
}

export interface QueryService {
  process: ManagedProcess;
  url: string;
  metricsUrl: string;
  secret: string;
  /** The `Authorization` header value (project-secret form). */
  authorization: string;
}

export const DEV_QUERY_SECRET = "dev-query-secret";

export async function startQueryService(pipeline: Pipeline, options: QueryServiceOptions = {}): Promise<QueryService> {
  const port = options.port ?? (await freePort());
  const metricsPort = await freePort();
  const secret = options.secret ?? DEV_QUERY_SECRET;
  const url = `http://127.0.0.1:${port}`;
  const reader = pipeline.credentials.reader;
  const service = await startServiceProcess({
    command: "query",
    env: {
      PORT: String(port),
      METRICS_PORT: String(metricsPort),
      MIXSTACK_LISTEN_HOST: "127.0.0.1",
      INFLUX_URL: pipeline.influx.url,
      INFLUX_DB: pipeline.database,
      INFLUX_USER: reader?.username ?? "",
      INFLUX_PASSWORD: reader?.password ?? "",
      REDIS_URL: pipeline.redis.url,
      MIXSTACK_QUERY_SECRET: secret,
      MIXSTACK_FUNNELS: options.funnels ? JSON.stringify(options.funnels) : "",
      MIXSTACK_TIME_ZONE: options.timeZone ?? "UTC",
      LOG_LEVEL: options.logLevel ?? "warn",
      ...options.env,
    },
    ready: () =>
      waitFor(
        `query on ${port}`,
        async () => {
          try {
            const response = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(1000) });
            await response.arrayBuffer();
            return response.ok;
          } catch {
            return false;
          }
        },
        { timeoutMs: 60_000 },
      ).then(() => undefined),
  });
  return { process: service, url, metricsUrl: `http://127.0.0.1:${metricsPort}`, secret, authorization: `Basic ${Buffer.from(`${secret}:`).toString("base64")}` };
}
