import { InfluxClient } from "../core/influx";
import type { Logger } from "../core/log";
import type { InfluxdTool } from "./influx-archive";
import { progressReporter, type ProgressReporter } from "./progress";
import { createRedis, type Redis } from "./redis-state";
import type { OpsSettings } from "./settings";
import { openStore, type BackupStore } from "./store";

/** Everything a backup or restore talks to, built once from the settings and passed down. */
export interface OpsContext {
  stack: string;
  db: string;
  influx: InfluxClient;
  influxd: InfluxdTool;
  redis: Redis;
  store: BackupStore;
  workDir: string;
  logger: Logger;
  progress: ProgressReporter;
  /** The clock, replaceable in tests that need backups on given days. */
  now: () => Date;
  retention: { keepDaily: number; keepWeekly: number };
}

export async function openOpsContext(settings: OpsSettings, logger: Logger): Promise<OpsContext & { close(): Promise<void> }> {
  const redis = createRedis(settings.REDIS_URL);
  // Connection errors end in connect() rejecting (or a command failing) with a clear message.
  redis.on("error", (error: Error) => logger.debug({ err: error }, "redis connection error"));
  await redis.connect();
  return {
    stack: settings.MIXSTACK_STACK,
    db: settings.INFLUX_DB,
    influx: new InfluxClient({ url: settings.INFLUX_URL, username: settings.INFLUX_USER, password: settings.INFLUX_PASSWORD, timeoutMs: 600_000 }),
    influxd: { binary: settings.INFLUXD_PATH, host: settings.INFLUX_BACKUP_ADDR },
    redis,
    store: openStore(settings.BACKUP_TARGET, { s3Endpoint: settings.BACKUP_S3_ENDPOINT, s3Region: settings.AWS_REGION }),
    workDir: settings.BACKUP_WORK_DIR,
    logger,
    progress: progressReporter(logger),
    now: () => new Date(),
    retention: { keepDaily: settings.BACKUP_KEEP_DAILY, keepWeekly: settings.BACKUP_KEEP_WEEKLY },
    async close() {
      if (redis.isOpen) await redis.close();
    },
  };
}
