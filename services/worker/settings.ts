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
  /** Bounds of the dead-letter stream `mx:dlq`: beyond them the oldest dead letters are dropped (and counted). */
  WORKER_DLQ_MAX_ENTRIES: env.positiveInt(10_000),
  WORKER_DLQ_MAX_BYTES: env.positiveInt(32 * 1024 * 1024),
  /** Quotas of one profile (user or group) in Redis, and of one list property of it (`$append`, `$union`). */
  WORKER_PROFILE_MAX_BYTES: env.positiveInt(1024 * 1024),
  WORKER_PROFILE_MAX_PROPERTIES: env.positiveInt(2000),
  WORKER_PROFILE_LIST_MAX_BYTES: env.positiveInt(256 * 1024),
  /** New event names, event property keys and values of each custom tag (`EVENT_TAGS` beyond the four known ones) let in per UTC day; beyond, their events are dead-lettered. */
  WORKER_NEW_EVENT_NAMES_PER_DAY: env.positiveInt(1000),
  WORKER_NEW_PROPERTY_KEYS_PER_DAY: env.positiveInt(5000),
  WORKER_NEW_TAG_VALUES_PER_DAY: env.positiveInt(100),
  /** Field types remembered in memory (they are learnt again from InfluxDB's answers when forgotten). */
  WORKER_FIELD_TYPES_MAX: env.positiveInt(100_000),
  /** A /track event older than this when it was received does not move its person's first day back. */
  WORKER_FIRST_SEEN_MAX_LATE_DAYS: env.positiveInt(5),
  /** Whether this worker takes its turn at the rollup job (docs/dashboards.md); one worker at a time runs it. */
  ROLLUP_ENABLED: env.flag(true),
  /** Pause between two rounds of the rollup job (longer after a long round: the job stays under ~10 % busy). */
  ROLLUP_INTERVAL_MS: env.positiveInt(60_000),
  /** Prometheus `/metrics` and `/healthz`; 0 turns the endpoint off. */
  METRICS_PORT: env.port(9464),
  /** Address of `/metrics` and `/healthz`: loopback unless the platform needs it reachable (the topology sets 0.0.0.0 in containers). */
  METRICS_HOST: z.string().default("127.0.0.1"),
  LOG_LEVEL: z.string().default("info"),
});

export type WorkerSettings = z.infer<typeof workerEnvironment> & {
  /** `METRICS_PORT` was not set: a taken default falls back to a port the OS picks. */
  metricsPortIsDefault?: boolean;
};

export function readWorkerSettings(source: NodeJS.ProcessEnv = process.env): WorkerSettings {
  return { ...readSettings("worker", workerEnvironment, source), metricsPortIsDefault: source.METRICS_PORT === undefined || source.METRICS_PORT === "" };
}
