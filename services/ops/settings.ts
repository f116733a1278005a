import { tmpdir } from "node:os";
import { z } from "zod";
import { env, readSettings } from "../core/settings";

/** Environment of the backup agent (`backup`, `backups`, `restore`, `scheduler`), read once at start. */
export const opsEnvironment = z.object({
  REDIS_URL: env.redisUrl(),
  INFLUX_URL: env.url(),
  INFLUX_DB: z.string().min(1).default("mixevents"),
  INFLUX_USER: z.string().optional(),
  INFLUX_PASSWORD: z.string().optional(),
  INFLUX_BACKUP_ADDR: z.string().regex(/^[^:\s]+:\d+$/, { message: "expected host:port (the RPC port, 8088)" }),
  BACKUP_TARGET: z.string().regex(/^(file|s3|gs):\/\/.+/, { message: "expected file:///dir, s3://bucket/prefix or gs://bucket/prefix" }),
  BACKUP_SCHEDULE: z.string().min(1).default("0 3 * * *"),
  BACKUP_KEEP_DAILY: z.coerce.number().int().min(0).default(7),
  BACKUP_KEEP_WEEKLY: z.coerce.number().int().min(0).default(4),
  /** `scheduler` only: Prometheus `/metrics` and `/healthz` (the container's health check); 0 turns the endpoint off. */
  METRICS_PORT: env.port(9464),
  MIXSTACK_STACK: z.string().min(1).default("dev"),
  /** The `influxd` binary used for `backup`/`restore -portable` (copied into the services image). */
  INFLUXD_PATH: z.string().min(1).default("influxd"),
  /** Where archives are staged before upload and after download. */
  BACKUP_WORK_DIR: z.string().min(1).default(tmpdir()),
  /** S3-compatible endpoint (MinIO, R2, s3rver); unset for AWS itself. */
  BACKUP_S3_ENDPOINT: env.url().optional(),
  /** Unset: warn on a terminal (the progress line and the report say enough), info in a container. */
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).optional(),
  /** The AWS SDK reads it too; read here so that an S3-compatible endpoint gets a region without it. */
  AWS_REGION: z.string().optional(),
});

export type OpsSettings = z.infer<typeof opsEnvironment>;

export function readOpsSettings(command: string, source: NodeJS.ProcessEnv = process.env): OpsSettings {
  return readSettings(command, opsEnvironment, source);
}
