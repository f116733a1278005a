import { join } from "node:path";
import pino from "pino";
import type { EnvFor } from "../core/settings";
import type { ingestEnvironment } from "../ingest/settings";
import { bootstrapInflux, readBootstrapSettings, type bootstrapEnvironment } from "../worker/bootstrap";
// Aliased: `workerEnvironment` is also the pipeline's field of the process env.
import type { workerEnvironment as workerSchema } from "../worker/settings";
import {
  freePort,
  startInfluxd,
  startRedisServer,
  startServiceProcess,
  waitFor,
  type Influxd,
  type ManagedProcess,
  type RedisServer,
} from "./processes";

/**
 * The whole pipeline on one machine, natively: `redis-server`, `influxd`, bootstrap, ingest and
 * worker(s), on loopback. `mixstack dev`, the integration tests and the benchmarks all start it
 * through here, so that they exercise the same wiring. The env of each service is typed by that
 * service's schema (`EnvFor`), as the topology's is: the harness cannot drift from the contract.
 */

export interface PipelineOptions {
  /** Data directory (redis/ and influxdb/ are created inside). */
  dir: string;
  redisPort?: number;
  influxPort?: number;
  ingestPort?: number;
  /** Metrics port of the first worker (the others get free ports). */
  metricsPort?: number;
  /** Project token ingest accepts. */
  token?: string;
  apiSecret?: string;
  database?: string;
  /** Run InfluxDB with authentication; bootstrap then creates admin, writer and reader users. */
  authEnabled?: boolean;
  workers?: number;
  /** Start ingest; default true. */
  ingest?: boolean;
  /** Extra environment for every worker (e.g. a short WORKER_CLAIM_IDLE_MS in tests). */
  workerEnv?: NodeJS.ProcessEnv;
  ingestEnv?: NodeJS.ProcessEnv;
  logLevel?: string;
  /** Called with each process once it runs, e.g. to register it with the test harness. */
  onStarted?: (process: ManagedProcess) => void;
}

export interface InfluxCredentials {
  admin?: { username: string; password: string };
  writer?: { username: string; password: string };
  reader?: { username: string; password: string };
}

export interface Pipeline {
  redis: RedisServer;
  influx: Influxd;
  ingest?: ManagedProcess;
  ingestUrl?: string;
  /** Ingest's private metrics listener (`/metrics`). */
  ingestMetricsUrl?: string;
  workers: ManagedProcess[];
  /** Metrics URL of each worker, in the order of `workers`. */
  workerMetricsUrls: string[];
  token: string;
  apiSecret: string;
  database: string;
  credentials: InfluxCredentials;
  /** The environment workers are started with (without METRICS_PORT / WORKER_CONSUMER). */
  workerEnvironment: NodeJS.ProcessEnv;
  /** Starts one more worker (e.g. a second consumer, or a replacement after a kill). */
  startWorker(extraEnv?: NodeJS.ProcessEnv): Promise<ManagedProcess>;
  /** Every process, in start order. */
  processes(): ManagedProcess[];
  /** Stops everything, newest first (workers and ingest before the stores they use). */
  stop(): Promise<void>;
}

async function httpOk(url: string): Promise<boolean> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(1000) });
    await response.arrayBuffer();
    return response.ok;
  } catch {
    return false;
  }
}

export async function startPipeline(options: PipelineOptions): Promise<Pipeline> {
  const started: ManagedProcess[] = [];
  const register = <T extends ManagedProcess>(process: T): T => {
    started.push(process);
    options.onStarted?.(process);
    return process;
  };
  const stop = async () => {
    for (const process of [...started].reverse()) await process.stop();
  };
  try {
    const token = options.token ?? "dev-token";
    const apiSecret = options.apiSecret ?? "dev-secret";
    const database = options.database ?? "mixevents";
    const logLevel = options.logLevel ?? "warn";
    const redis = register(await startRedisServer({ dir: join(options.dir, "redis"), port: options.redisPort }));
    const influx = register(await startInfluxd({ dir: join(options.dir, "influxdb"), httpPort: options.influxPort, authEnabled: options.authEnabled }));

    const credentials: InfluxCredentials = options.authEnabled
      ? {
          admin: { username: "admin", password: "dev-admin-password" },
          writer: { username: "writer", password: "dev-writer-password" },
          reader: { username: "grafana", password: "dev-reader-password" },
        }
      : {};
    const bootstrapEnv: EnvFor<typeof bootstrapEnvironment> = {
      INFLUX_URL: influx.url,
      INFLUX_DB: database,
      INFLUX_USER: credentials.admin?.username,
      INFLUX_PASSWORD: credentials.admin?.password,
      INFLUX_WRITER_USER: credentials.writer?.username,
      INFLUX_WRITER_PASSWORD: credentials.writer?.password,
      INFLUX_READER_USER: credentials.reader?.username,
      INFLUX_READER_PASSWORD: credentials.reader?.password,
      INFLUX_RETENTION: "INF",
      BOOTSTRAP_WAIT_S: "30",
      // The native influxd runs without a monitor store: there will be no _internal to wait for.
      BOOTSTRAP_INTERNAL_WAIT_S: "0",
      LOG_LEVEL: "silent",
    };
    await bootstrapInflux(readBootstrapSettings(bootstrapEnv), pino({ level: "silent" }));

    const workerEnv: EnvFor<typeof workerSchema> = {
      REDIS_URL: redis.url,
      INFLUX_URL: influx.url,
      INFLUX_DB: database,
      INFLUX_USER: credentials.writer?.username ?? "",
      INFLUX_PASSWORD: credentials.writer?.password ?? "",
      LOG_LEVEL: logLevel,
    };
    const workerEnvironment: NodeJS.ProcessEnv = { ...workerEnv, ...options.workerEnv };
    const workers: ManagedProcess[] = [];
    const workerMetricsUrls: string[] = [];
    let workerNumber = 0;
    const startWorker = async (extraEnv: NodeJS.ProcessEnv = {}) => {
      workerNumber += 1;
      const metricsPort = workerNumber === 1 && options.metricsPort ? options.metricsPort : await freePort();
      const metricsUrl = `http://127.0.0.1:${metricsPort}`;
      const worker = await startServiceProcess({
        command: "worker",
        env: { ...workerEnvironment, ...({ METRICS_PORT: String(metricsPort), WORKER_CONSUMER: `dev-worker-${workerNumber}` } satisfies Partial<EnvFor<typeof workerSchema>>), ...extraEnv },
        ready: () => waitFor(`worker metrics on ${metricsPort}`, () => httpOk(`${metricsUrl}/healthz`), { timeoutMs: 60_000 }).then(() => undefined),
      });
      register(worker);
      workers.push(worker);
      workerMetricsUrls.push(metricsUrl);
      return worker;
    };

    let ingest: ManagedProcess | undefined;
    let ingestUrl: string | undefined;
    let ingestMetricsUrl: string | undefined;
    if (options.ingest !== false) {
      const port = options.ingestPort ?? (await freePort());
      const ingestMetricsPort = await freePort();
      ingestUrl = `http://127.0.0.1:${port}`;
      ingestMetricsUrl = `http://127.0.0.1:${ingestMetricsPort}`;
      const readyUrl = `${ingestUrl}/readyz`;
      const ingestEnv: EnvFor<typeof ingestEnvironment> = {
        PORT: String(port),
        METRICS_PORT: String(ingestMetricsPort),
        MIXSTACK_LISTEN_HOST: "127.0.0.1",
        REDIS_URL: redis.url,
        MIXSTACK_TOKEN: token,
        MIXSTACK_API_SECRET: apiSecret,
        LOG_LEVEL: logLevel,
      };
      ingest = register(
        await startServiceProcess({
          command: "ingest",
          env: { ...ingestEnv, ...options.ingestEnv },
          ready: () => waitFor(`ingest on ${port}`, () => httpOk(readyUrl), { timeoutMs: 60_000 }).then(() => undefined),
        }),
      );
    }
    for (let index = 0; index < (options.workers ?? 1); index += 1) await startWorker();

    return {
      redis,
      influx,
      ingest,
      ingestUrl,
      ingestMetricsUrl,
      workers,
      workerMetricsUrls,
      token,
      apiSecret,
      database,
      credentials,
      workerEnvironment,
      startWorker,
      processes: () => [...started],
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
