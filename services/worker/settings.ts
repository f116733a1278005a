import { hostname } from "node:os";
import { z } from "zod";
import { env, readSettings } from "../core/settings";

/** The low-cardinality event properties written as tags (docs/contracts.md). */
export const DEFAULT_EVENT_TAGS = ["mp_lib", "$os", "$browser", "mp_country_code"];

export const workerEnvironment = z.object({
  REDIS_URL: env.redisUrl(),
  INFLUX_URL: env.url(),
  INFLUX_DB: z.string().min(1).default("mixevents"),
  INFLUX_USER: z.string().optional(),
  INFLUX_PASSWORD: z.string().optional(),
  /** Event properties written as tags; keep it to low-cardinality ones (never user ids). */
  EVENT_TAGS: env.list(DEFAULT_EVENT_TAGS),
  /** This worker's name in the consumer group; must differ between live workers. */
  WORKER_CONSUMER: z.string().min(1).default(`${hostname()}-${process.pid}`),
  /** Points per InfluxDB `/write` (InfluxData recommends 5,000-10,000). */
  WORKER_BATCH_POINTS: env.positiveInt(5000),
  /** How long one XREADGROUP waits for new entries. */
  WORKER_BLOCK_MS: env.positiveInt(2000),
  /** Entries pending this long on another consumer are taken over (XAUTOCLAIM). */
  WORKER_CLAIM_IDLE_MS: env.positiveInt(60_000),
  /** How often to look for such entries. */
  WORKER_CLAIM_INTERVAL_MS: env.positiveInt(15_000),
  /** An entry delivered more often than this without being written goes to the dead letters. */
  WORKER_MAX_DELIVERIES: env.positiveInt(5),
  /** First and longest wait between InfluxDB retries (exponential in between). */
  WORKER_BACKOFF_MIN_MS: env.positiveInt(200),
  WORKER_BACKOFF_MAX_MS: env.positiveInt(5_000),
  /** Lifetime of the `mx:applied:<id>` markers (profile operations and identity merges of an entry). */
  WORKER_APPLIED_TTL_S: env.positiveInt(7 * 24 * 3600),
  /** How often the worker writes its `pipeline` sample. */
  WORKER_SAMPLE_INTERVAL_MS: env.positiveInt(10_000),
  /** Prometheus `/metrics` and `/healthz`; 0 turns the endpoint off. */
  METRICS_PORT: env.port(9464),
  LOG_LEVEL: z.string().default("info"),
});

export type WorkerSettings = z.infer<typeof workerEnvironment>;

export function readWorkerSettings(source: NodeJS.ProcessEnv = process.env): WorkerSettings {
  return readSettings("worker", workerEnvironment, source);
}
